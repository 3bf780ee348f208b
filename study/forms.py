"""Forms of the study pages: wave entry from the catalogue, enrolment, contacts, care workers,
surveys. Forms only parse and check shapes; the business rules live in `study.services`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.formats import get_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from study.models import (
    Arm,
    Contact,
    Family,
    ImportBatch,
    Indicator,
    Member,
    MissingCode,
    ProfessionalSurvey,
)
from study.services.values import SOFT_LIMIT

LEVEL_ORDER = (Indicator.Level.HOUSEHOLD, Indicator.Level.ADULT, Indicator.Level.CHILD)
MISSING_CHOICES = [("", _("— value given —"))] + list(MissingCode.choices)


class _FixedChoices(BaseChoiceIterator):
    """Choices already in Django's normal form ((value, label) pairs, labels as text): a field
    and its widget take them as they are, instead of normalising the list again for every one
    of the wave form's missing-code fields (issue 21)."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs

    def __iter__(self):
        return iter(self.pairs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class NoEchoTextInput(forms.TextInput):
    """A text input that never sends its value back to the browser (for a BSN)."""

    def format_value(self, value):
        return None


# --- wave entry ----------------------------------------------------------------------------


class WaveEntryForm(forms.Form):
    """One number-or-missing-code pair per catalogue indicator, plus the wave survey.

    Fields are `v_<code>` (the number as typed) and `m_<code>` (a missing-data code), starting
    from the wave's values at the version the form carries (`version`). `suggestions` maps
    code -> (number text or missing code, source wave label): values of the previous wave,
    shown beside an empty field with a `c_<code>` box to confirm them (`ca_<level>` confirms a
    whole section); a suggestion is never put in the field nor stored unless confirmed.
    `sc_<code>` confirms a value beyond the study's soft limit.
    """

    version = forms.CharField(required=False, widget=forms.HiddenInput)
    change_reason = forms.CharField(
        label=_("Reason for these changes (kept in the history)"), max_length=200, required=False
    )
    satisfaction = forms.IntegerField(
        label=_("Satisfaction with municipal support (0-10)"),
        min_value=0,
        max_value=10,
        required=False,
    )
    qol_instrument = forms.CharField(
        label=_("Quality-of-life instrument"), max_length=60, required=False
    )
    qol_score = forms.DecimalField(
        localize=True,  # "459,14" in Dutch, shown back as typed
        label=_("Quality-of-life instrument score"),
        max_digits=7,
        decimal_places=2,
        required=False,
    )
    qol_rating = forms.IntegerField(
        label=_("Quality of life overall (0-10)"), min_value=0, max_value=10, required=False
    )
    participation_step = forms.IntegerField(
        label=_("Participation ladder step (1-6)"), min_value=1, max_value=6, required=False
    )
    reachability = forms.IntegerField(
        label=_("Reachability of care workers (0-10)"), min_value=0, max_value=10, required=False
    )

    SURVEY_FIELDS = (
        "satisfaction",
        "qol_instrument",
        "qol_score",
        "qol_rating",
        "participation_step",
        "reachability",
    )

    def __init__(
        self,
        *args,
        indicators: Iterable[Indicator],
        current: Mapping[str, tuple[str, str]] | None = None,
        suggestions: Mapping[str, tuple[str, str, str]] | None = None,
        with_survey: bool = True,
        read_only: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.indicators = list(indicators)
        self.current = dict(current or {})
        self.suggestions = {
            code: s for code, s in (suggestions or {}).items() if code not in self.current
        }
        language = get_language() or "nl"
        # The missing-code choices' words once per form, not once per field and per option.
        missing_choices = _FixedChoices([(value, str(label)) for value, label in MISSING_CHOICES])
        for indicator in self.indicators:
            number, code = self.current.get(indicator.code, ("", ""))
            step = "1" if indicator.is_integer else "0.01"
            self.fields[f"v_{indicator.code}"] = forms.CharField(
                label=indicator.label(language),
                required=False,
                initial=decimal_input_text(number),
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "numeric" if indicator.is_integer else "decimal",
                        "data-step": step,
                        "size": 8,
                        "class": "num",
                    }
                ),
                help_text=_("%(min)s to %(max)s") % _range_text(indicator),
            )
            self.fields[f"m_{indicator.code}"] = forms.ChoiceField(
                label=_("Missing because"),
                choices=missing_choices,
                required=False,
                initial=code,
            )
            self.fields[f"sc_{indicator.code}"] = forms.BooleanField(
                label=_("Yes, this value is right"), required=False
            )
            if indicator.code in self.suggestions:
                self.fields[f"c_{indicator.code}"] = forms.BooleanField(
                    label=_("Confirm"), required=False
                )
        for level in LEVEL_ORDER:
            self.fields[f"ca_{level}"] = forms.BooleanField(
                label=_("Confirm all suggestions of this section"), required=False
            )
        if not with_survey:
            for name in self.SURVEY_FIELDS:
                del self.fields[name]
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    def clean(self):
        cleaned = super().clean()
        for indicator in self.indicators:
            number = (cleaned.get(f"v_{indicator.code}") or "").strip()
            code = cleaned.get(f"m_{indicator.code}") or ""
            if number and code:
                self.add_error(
                    f"v_{indicator.code}",
                    _("Enter a number or choose why it is missing, not both."),
                )
        return cleaned

    def _posted(self, indicator: Indicator) -> str:
        number = (self.cleaned_data.get(f"v_{indicator.code}") or "").strip()
        return number or (self.cleaned_data.get(f"m_{indicator.code}") or "")

    def _confirmed(self, indicator: Indicator) -> bool:
        return bool(
            self.cleaned_data.get(f"c_{indicator.code}")
            or self.cleaned_data.get(f"ca_{indicator.level}")
        )

    def indicator_values(self) -> dict[str, str]:
        """code -> what the person typed or confirmed, for the fields that differ from the
        values the form started from (only changed fields are written)."""
        values = {}
        for indicator in self.indicators:
            posted = self._posted(indicator)
            if not posted and indicator.code in self.suggestions and self._confirmed(indicator):
                number, code = self.suggestions[indicator.code][:2]
                posted = number or code
            start = self.current.get(indicator.code, ("", ""))
            if posted and posted not in start and canonical_number(posted) not in start:
                values[indicator.code] = posted
        return values

    def cleared(self) -> list[str]:
        """Codes of the fields that held a value and were emptied."""
        return [
            indicator.code
            for indicator in self.indicators
            if any(self.current.get(indicator.code, ("", "")))
            and not self._posted(indicator)
            and f"v_{indicator.code}" not in self.errors
        ]

    def unconfirmed(self) -> int:
        """How many suggestions were left open (neither confirmed nor typed over)."""
        return sum(
            1
            for indicator in self.indicators
            if indicator.code in self.suggestions
            and not self._posted(indicator)
            and not self._confirmed(indicator)
        )

    def soft_confirmed(self) -> list[str]:
        return [i.code for i in self.indicators if self.cleaned_data.get(f"sc_{i.code}")]

    def survey_data(self) -> dict[str, object] | None:
        """The survey answers (every field: the service writes only those that changed), or
        None when the wave has no survey."""
        if "satisfaction" not in self.fields:
            return None
        return {
            name: ("" if self.cleaned_data.get(name) is None else self.cleaned_data[name])
            for name in self.SURVEY_FIELDS
            if name not in self.errors
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Put a service's errors (keyed by indicator code or survey field) next to the field."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, items in error.error_dict.items():
            target = None
            if f"v_{key}" in self.fields:
                target = f"v_{key}"
            elif key in self.fields:
                target = key
            for item in items:
                if target is not None and item.code == SOFT_LIMIT:
                    self.soft_errors.add(target)
                for message in item.messages:
                    if target is None or message not in self.errors.get(target, []):
                        self.add_error(target, message)

    @property
    def soft_errors(self) -> set[str]:
        if not hasattr(self, "_soft_errors"):
            self._soft_errors: set[str] = set()
        return self._soft_errors

    def groups(self) -> list[dict]:
        """Indicator rows grouped by level, in catalogue order, for the template."""
        rows: dict[str, list[dict]] = {level: [] for level in LEVEL_ORDER}
        for indicator in self.indicators:
            suggestion = self.suggestions.get(indicator.code)
            name = f"v_{indicator.code}"
            rows.setdefault(indicator.level, []).append(
                {
                    "indicator": indicator,
                    "value": self[name],
                    "missing": self[f"m_{indicator.code}"],
                    "suggested_from": suggestion[2] if suggestion else "",
                    "suggested_text": _suggestion_text(suggestion) if suggestion else "",
                    "confirm": self[f"c_{indicator.code}"] if suggestion else None,
                    "soft": self[f"sc_{indicator.code}"]
                    if name in self.soft_errors or self[f"sc_{indicator.code}"].value()
                    else None,
                }
            )
        labels = dict(Indicator.Level.choices)
        return [
            {
                "level": level,
                "label": labels.get(level, level),
                "rows": rows[level],
                "confirm_all": self[f"ca_{level}"]
                if any(r["suggested_from"] for r in rows[level])
                else None,
            }
            for level in rows
            if rows[level]
        ]

    def survey_fields(self) -> list:
        return [self[name] for name in self.SURVEY_FIELDS if name in self.fields]


def _suggestion_text(suggestion: tuple[str, str, str]) -> str:
    number, code = suggestion[:2]
    return number or str(dict(MissingCode.choices).get(code, code))


def decimal_input_text(number: str) -> str:
    """A stored number's text ("459.14") as the user's language writes it in an input ("459,14"
    in Dutch), without thousands grouping, so it posts back unchanged."""
    if not number:
        return number
    return number.replace(".", str(get_format("DECIMAL_SEPARATOR")))


def canonical_number(text: str) -> str:
    """Typed text ("459,14", "1.500,5") as the stored number's text ("459.14", "1500.5"), or the
    text itself when it is not a number (the service then says why)."""
    from decimal import Decimal, InvalidOperation

    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        return f"{Decimal(text).normalize():f}"
    except InvalidOperation:
        return text


def _range_text(indicator: Indicator) -> dict[str, str]:
    return {
        "min": f"{indicator.min_value.normalize():f}",
        "max": f"{indicator.max_value.normalize():f}",
    }


class WaveCompleteForm(forms.Form):
    completed_date = forms.DateField(label=_("Completed on"), widget=DateInput())


class WaveMissedForm(forms.Form):
    missed_reason = forms.CharField(label=_("Why was the wave missed?"), max_length=300)


class WaveUnlockForm(forms.Form):
    reason = forms.CharField(label=_("Reason for unlocking"), max_length=300)


# --- enrolment -----------------------------------------------------------------------------


class EnrolForm(forms.Form):
    arm = forms.ChoiceField(label=_("Arm"), choices=Arm.Kind.choices)
    intake_date = forms.DateField(label=_("Intake date"), widget=DateInput())
    wijk = forms.CharField(label=_("District (wijk)"), max_length=100, required=False)
    allocation = forms.ChoiceField(label=_("Allocation"), choices=Family.Allocation.choices)
    elig_socio_economic = forms.BooleanField(label=_("Socio-economic problems"), required=False)
    elig_adult_psychosocial = forms.BooleanField(
        label=_("Psychosocial problems of an adult"), required=False
    )
    elig_child_psychosocial = forms.BooleanField(
        label=_("Psychosocial problems of a child"), required=False
    )
    elig_chronic = forms.BooleanField(
        label=_("Support in each of the two preceding years"), required=False
    )
    identifier = forms.CharField(
        label=_("BSN (optional)"),
        required=False,
        max_length=20,
        help_text=_("Turned into a linkage key at once; the BSN itself is never stored."),
        widget=NoEchoTextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    match_set = forms.CharField(
        label=_("Matched pair or set (matched studies)"), max_length=50, required=False
    )
    eligibility_override_reason = forms.CharField(
        label=_("Enrol on the case file: why (only when the indicators above do not show it)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, randomised: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if randomised:  # the app draws the arm at enrolment
            del self.fields["arm"]
            del self.fields["allocation"]
            del self.fields["match_set"]

    ELIGIBILITY = (
        "elig_socio_economic",
        "elig_adult_psychosocial",
        "elig_child_psychosocial",
        "elig_chronic",
    )

    def eligibility(self) -> dict[str, bool]:
        return {name: bool(self.cleaned_data.get(name)) for name in self.ELIGIBILITY}

    def add_service_errors(self, error: ValidationError) -> list[str]:
        """Errors by field; returns the messages about members (shown at the members table)."""
        member_messages: list[str] = []
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return member_messages
        for key, messages in error.message_dict.items():
            if key == "members":
                member_messages.extend(messages)
            elif key in self.fields:
                for message in messages:
                    self.add_error(key, message)
            else:
                for message in messages:
                    self.add_error(None, message)
        return member_messages


class MemberForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=[("", "—")] + list(Member.Role.choices))
    birth_year = forms.IntegerField(label=_("Birth year"), min_value=1900, max_value=2100)
    relation = forms.CharField(label=_("Relation"), max_length=40, required=False)


MemberFormSet = forms.formset_factory(MemberForm, extra=4, max_num=15)


# --- wijkcoach -----------------------------------------------------------------------------


class ContactForm(forms.Form):
    occurred_at = forms.DateTimeField(label=_("When"), widget=DateTimeInput())
    kind = forms.ChoiceField(
        label=_("Kind"), choices=Contact.Kind.choices, widget=forms.RadioSelect
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=1,
        max_value=24 * 60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "list": "durations"}),
    )
    initiated_by = forms.ChoiceField(
        label=_("Initiated by"), choices=Contact.Initiator.choices, widget=forms.RadioSelect
    )
    requested_at = forms.DateTimeField(
        label=_("When did the family ask?"), required=False, widget=DateTimeInput()
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    note_private = forms.BooleanField(label=_("Note is private to me"), required=False)
    form_token = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form_token"].initial = uuid.uuid4().hex
        local_now = timezone.localtime(now or timezone.now()).replace(second=0, microsecond=0)
        self.fields["occurred_at"].initial = local_now
        self.fields["initiated_by"].initial = Contact.Initiator.COACH

    def clean(self):
        cleaned = super().clean()
        # The request time belongs to family-initiated contacts only; a stale value typed before
        # switching the initiator is dropped rather than refused.
        if cleaned.get("initiated_by") != Contact.Initiator.FAMILY:
            cleaned["requested_at"] = None
        return cleaned


class DatalistInput(forms.TextInput):
    """A text input that offers the study's list as you type (a `<datalist>`, searchable on a
    phone too); what is typed must match the list unless "anders" is ticked (the service
    checks)."""

    def __init__(self, names: Iterable[str] = (), attrs=None):
        super().__init__(attrs={"autocomplete": "off", **(attrs or {})})
        self.names = list(names)

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id', name)}-list"
        html = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join("", '<option value="{}">', ((n,) for n in self.names))
        return html + format_html('<datalist id="{}">{}</datalist>', list_id, options)


class CareNamesMixin:
    """Organisation and discipline from the study's coded list, or "anders" (other)."""

    def set_care_lists(self, organisations: list[str], disciplines: list[str]) -> None:
        fields = self.fields  # type: ignore[attr-defined]
        for name, names in (("organisation", organisations), ("discipline", disciplines)):
            fields[name].widget = DatalistInput(names)
            if names:
                fields[name].help_text = _("Choose from the study's list.")
            else:  # nothing to choose from yet: every name is recorded as typed
                del fields[f"{name}_other"]


def _other(label) -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False)


class InvolvementForm(CareNamesMixin, forms.Form):
    organisation = forms.CharField(label=_("Organisation"), max_length=150)
    organisation_other = _other(_("Other: the organisation is not on the list"))
    discipline = forms.CharField(label=_("Role / discipline"), max_length=100)
    discipline_other = _other(_("Other: the discipline is not on the list"))
    start_date = forms.DateField(label=_("Start"), widget=DateInput())
    end_date = forms.DateField(label=_("End"), required=False, widget=DateInput())

    def __init__(
        self,
        *args,
        today: date | None = None,
        organisations: list[str] | None = None,
        disciplines: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["start_date"].initial = today or timezone.localdate()
        self.set_care_lists(organisations or [], disciplines or [])


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the correction or removal"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for reopening"),
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class QueryAnswerForm(forms.Form):
    text = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 3}))


class ContactCorrectForm(ContactForm):
    """A logged contact, to correct or remove, with the reason why."""

    reason = ReasonForm.base_fields["reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["form_token"]


class InvolvementCorrectForm(CareNamesMixin, forms.Form):
    organisation = forms.CharField(label=_("Organisation"), max_length=150)
    organisation_other = _other(_("Other: the organisation is not on the list"))
    discipline = forms.CharField(label=_("Role / discipline"), max_length=100)
    discipline_other = _other(_("Other: the discipline is not on the list"))
    start_date = forms.DateField(label=_("Start"), widget=DateInput())
    end_date = forms.DateField(label=_("End"), required=False, widget=DateInput())
    reason = ReasonForm.base_fields["reason"]

    def __init__(
        self,
        *args,
        organisations: list[str] | None = None,
        disciplines: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.set_care_lists(organisations or [], disciplines or [])


class InvolvementEndForm(forms.Form):
    end_date = forms.DateField(label=_("End"), widget=DateInput())


# --- professionals -------------------------------------------------------------------------


def _scale(label, low: int, high: int) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[(i, str(i)) for i in range(low, high + 1)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "scale"}),
    )


class ProfessionalSurveyForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    job_satisfaction = _scale(_("Job satisfaction (0-10)"), 0, 10)
    autonomy = _scale(_("Experienced autonomy (1-5)"), 1, 5)
    pride = _scale(_("Professional pride (1-5)"), 1, 5)
    competence = _scale(_("Competence (1-5)"), 1, 5)
    cooperation = _scale(_("Cooperation between organisations (1-5)"), 1, 5)

    def answers(self) -> dict[str, int | None]:
        return {name: self.cleaned_data.get(name) for name in ProfessionalSurvey.SCALES}


class AuditFilterForm(forms.Form):
    """Filters of the audit trail (all optional)."""

    person = forms.CharField(label=_("Person (user name)"), max_length=150, required=False)
    wave = forms.TypedChoiceField(
        label=_("Wave"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—")] + [(i, f"T{i}") for i in range(-5, 6)],
    )
    field = forms.CharField(
        label=_("Field (indicator code or field name)"), max_length=100, required=False
    )
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("Until"), required=False, widget=DateInput())

    def spec(self):
        from study.audit_trail import TrailFilter

        data = self.cleaned_data if self.is_valid() else {}
        return TrailFilter(
            person=(data.get("person") or "").strip(),
            wave=data.get("wave"),
            field=(data.get("field") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
        )


class CandidatePoolForm(forms.Form):
    """Upload of a matched study's candidate pool (CSV); checked by the service, not here."""

    file = forms.FileField(
        label=_("Candidate pool (CSV)"),
        help_text=_(
            "One row per candidate considered for matching, intervention families included, "
            "with the columns below. Never a BSN."
        ),
    )


class ImportUploadForm(forms.Form):
    """Upload of a registry extract; what is in the file is checked by the dry run, not here."""

    file = forms.FileField(
        label=_("Registry extract (CSV or Excel .xlsx)"),
        help_text=_(
            "Keyed by linkage_key or pseudonym, with a column year; long (indicator, value) or "
            "wide (one column per indicator code of the codebook)."
        ),
    )
    layout = forms.ChoiceField(
        label=_("Layout"), choices=ImportBatch.Layout.choices, initial=ImportBatch.Layout.AUTO
    )
