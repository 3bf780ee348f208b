"""Forms of the set-up pages: a study's set-up, its members, caseloads, a family's status and
professionals. Forms only parse and check shapes; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from study import municipalities
from study.forms import DateInput
from study.models import Family, Professional, Study
from study.roles import Role


class StudySetUpForm(forms.Form):
    name = forms.CharField(label=_("Name of the study"), max_length=200)
    municipality_code = forms.ChoiceField(label=_("Municipality (CBS code)"), choices=())
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    n_waves = forms.IntegerField(
        label=_("Number of waves after T0"), min_value=1, max_value=5, initial=4
    )
    wave_interval_months = forms.IntegerField(
        label=_("Months between waves"), min_value=1, max_value=36, initial=12
    )
    wave_window_days = forms.IntegerField(
        label=_("Wave window (days either side of the due date)"),
        min_value=0,
        max_value=365,
        initial=60,
    )
    pre_intake_years = forms.IntegerField(
        label=_("Registry years before intake"), min_value=0, max_value=5, initial=2
    )
    acknowledge_warnings = forms.BooleanField(
        label=_("I know the report then cannot test pre-trends or compute sensitivity bounds"),
        required=False,
    )
    price_year = forms.IntegerField(
        label=_("Price year for costs"), min_value=2000, max_value=2100, initial=2014
    )
    intervention_name = forms.CharField(
        label=_("Name of the intervention arm"), max_length=100, required=False
    )
    comparison_name = forms.CharField(
        label=_("Name of the comparison arm (care as usual)"), max_length=100, required=False
    )
    allocation_method = forms.ChoiceField(
        label=_("Allocation"), choices=Study.AllocationMethod.choices, widget=forms.RadioSelect
    )
    allocation_strata = forms.ChoiceField(
        label=_("Stratify the randomisation by"),
        choices=Study._meta.get_field("allocation_strata").choices,
        required=False,
    )
    randomisation = forms.ChoiceField(
        label=_("Randomised: how the arm is drawn"),
        choices=Study.Randomisation.choices,
        initial=Study.Randomisation.BLOCKS,
        required=False,
        help_text=_(
            "Minimisation balances each stratification factor (district, household) rather "
            "than every combination of them; better with many small strata."
        ),
    )
    match_variables = forms.CharField(
        label=_("Matched: the baseline characteristics families are matched on"),
        max_length=300,
        required=False,
    )
    enrolment_target = forms.IntegerField(
        label=_("Randomised: enrolment target for both arms together"),
        min_value=2,
        max_value=10000,
        required=False,
    )
    intervention_cap = forms.IntegerField(
        label=_("Not randomised: cap of the intervention arm"),
        min_value=1,
        max_value=10000,
        required=False,
        initial=40,
    )
    comparison_cap = forms.IntegerField(
        label=_("Not randomised: cap of the comparison arm (empty: none)"),
        min_value=1,
        max_value=10000,
        required=False,
    )
    eligibility_rule = forms.ChoiceField(
        label=_("Eligibility rule"), choices=Study.EligibilityRule.choices
    )
    contact_notes_for_research = forms.BooleanField(
        label=_("Researchers and data managers read the coaches' contact notes"),
        help_text=Study._meta.get_field("contact_notes_for_research").help_text,
        required=False,
    )

    #: Fields the services take as study options (the rest are named arguments).
    OPTIONS = (
        "description",
        "n_waves",
        "wave_interval_months",
        "wave_window_days",
        "pre_intake_years",
        "price_year",
        "allocation_method",
        "allocation_strata",
        "randomisation",
        "match_variables",
        "enrolment_target",
        "intervention_cap",
        "comparison_cap",
        "eligibility_rule",
        "contact_notes_for_research",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality_code"].choices = [("", "—"), *municipalities.choices()]
        self.fields["allocation_method"].initial = Study.AllocationMethod.MATCHED
        self.fields["eligibility_rule"].initial = Study.EligibilityRule.MPG

    def options(self) -> dict:
        data = {k: self.cleaned_data.get(k) for k in self.OPTIONS}
        data["description"] = data["description"] or ""
        data["allocation_strata"] = data["allocation_strata"] or ""
        data["randomisation"] = data["randomisation"] or Study.Randomisation.BLOCKS
        data["match_variables"] = (data["match_variables"] or "").strip()
        if data["intervention_cap"] is None:
            data.pop("intervention_cap")
        return data


class StudyEditForm(StudySetUpForm):
    reason = forms.CharField(label=_("Reason for the change"), max_length=300)


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(label=_("New role"), choices=Role.choices)


class EndForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class CaseloadForm(forms.Form):
    ACTIONS = [
        ("assign", _("Assign to the coach")),
        ("hand_over", _("Hand over to the coach")),
        ("end", _("End the caseload")),
    ]
    action = forms.ChoiceField(label=_("What to do"), choices=ACTIONS, widget=forms.RadioSelect)
    coach = forms.ChoiceField(label=_("Coach"), choices=(), required=False)
    on = forms.DateField(label=_("From (date)"), widget=DateInput())
    families = forms.MultipleChoiceField(
        label=_("Families"), choices=(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, coaches=(), families=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coach"].choices = [("", "—")] + [
            (str(c.pk), c.get_username()) for c in coaches
        ]
        self.fields["families"].choices = [(str(f.pk), f.pseudonym) for f in families]
        self.fields["on"].initial = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") in ("assign", "hand_over") and not cleaned.get("coach"):
            self.add_error("coach", _("Choose the coach."))
        return cleaned


class NotesGrantForm(forms.Form):
    grant = forms.ChoiceField(label=_("Family and its coach today"), choices=())
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grant"].choices = [("", "—"), *choices]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Family.Status.choices)
    on = forms.DateField(label=_("Date"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class ProfessionalForm(forms.Form):
    organisation = forms.CharField(label=_("Organisation"), max_length=150)
    approach = forms.ChoiceField(label=_("Approach"), choices=Professional.Approach.choices)


class DeactivateForm(forms.Form):
    on = forms.DateField(label=_("Stopped on"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=300)
