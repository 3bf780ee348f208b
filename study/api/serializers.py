"""Allow-list serializers: never a linkage key, never another coach's private note."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from study import access
from study.linkage import mask_bsn
from study.models import (
    CareInvolvement,
    Contact,
    Family,
    IndicatorValue,
    Member,
    MissingCode,
    Professional,
    ProfessionalSurvey,
    Study,
    Wave,
    WaveSurvey,
)


class StudySerializer(serializers.ModelSerializer):
    class Meta:
        model = Study
        fields = [
            "id",
            "name",
            "municipality",
            "start_date",
            "n_waves",
            "pre_intake_years",
            "price_year",
        ]


class FamilySerializer(serializers.ModelSerializer):
    arm = serializers.CharField(source="arm.kind", read_only=True)

    class Meta:
        model = Family
        fields = ["id", "study", "pseudonym", "arm", "wijk", "intake_date", "status", "status_date"]


class WaveSerializer(serializers.ModelSerializer):
    family = serializers.CharField(source="family.pseudonym", read_only=True)

    class Meta:
        model = Wave
        fields = [
            "id",
            "family",
            "index",
            "year",
            "due_date",
            "window_start",
            "window_end",
            "status",
            "completed_date",
            "locked",
        ]


class IndicatorValueSerializer(serializers.ModelSerializer):
    indicator = serializers.CharField(source="indicator.code", read_only=True)

    class Meta:
        model = IndicatorValue
        fields = ["id", "wave", "indicator", "value", "missing_code", "source", "updated_at"]


class IndicatorValuesWriteSerializer(serializers.Serializer):
    """One wave's values: a number or missing code per indicator code, null or "" to clear."""

    wave = serializers.IntegerField()
    values = serializers.DictField(child=serializers.CharField(allow_blank=True, allow_null=True))
    version = serializers.CharField(required=False, allow_blank=True, max_length=40)
    confirmed = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list
    )


class ContactSerializer(serializers.Serializer):
    """A contact as the API returns it (a plain serializer: contact logging is the hot path, and a
    ModelSerializer rebuilds its fields from the model on every request)."""

    id = serializers.IntegerField(read_only=True)
    family = serializers.IntegerField(source="family_id", read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)
    kind = serializers.ChoiceField(choices=Contact.Kind.choices, read_only=True)
    duration_minutes = serializers.IntegerField(read_only=True)
    initiated_by = serializers.ChoiceField(choices=Contact.Initiator.choices, read_only=True)
    requested_at = serializers.DateTimeField(read_only=True, allow_null=True)
    note = serializers.SerializerMethodField()
    note_private = serializers.BooleanField(read_only=True)

    def get_note(self, contact) -> str:
        """The note as `study.access.note_reader` lets the caller read it: in full (its coach),
        masked (older notes may hold a number typed before notes refused them), or not."""
        reader = getattr(self, "_note_reader", None)
        if reader is None:
            request = self.context.get("request")
            reader = self._note_reader = (
                access.note_reader(request.user)
                if request is not None
                else (lambda contact: access.NoteView.HIDDEN)
            )
        view = reader(contact)
        if view == access.NoteView.FULL:
            return contact.note
        return mask_bsn(contact.note) if view == access.NoteView.MASKED else ""


class ContactWriteSerializer(serializers.Serializer):
    family = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=Contact.Kind.choices)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60)
    initiated_by = serializers.ChoiceField(choices=Contact.Initiator.choices)
    requested_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    note_private = serializers.BooleanField(required=False, default=False)


class ReasonSerializer(serializers.Serializer):
    """Why a record is removed (required: every removal is audited with its reason)."""

    reason = serializers.CharField(max_length=300)


class ContactCorrectSerializer(serializers.Serializer):
    """A correction of a logged contact: the fields to change, and why."""

    reason = serializers.CharField(max_length=300)
    occurred_at = serializers.DateTimeField(required=False)
    kind = serializers.ChoiceField(choices=Contact.Kind.choices, required=False)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60, required=False)
    initiated_by = serializers.ChoiceField(choices=Contact.Initiator.choices, required=False)
    requested_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True)
    note_private = serializers.BooleanField(required=False)


class CareInvolvementCorrectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    organisation = serializers.CharField(max_length=150, required=False)
    discipline = serializers.CharField(max_length=100, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False, allow_null=True)
    organisation_other = serializers.BooleanField(
        required=False, help_text="the organisation is not on the study's list (other)"
    )
    discipline_other = serializers.BooleanField(
        required=False, help_text="the discipline is not on the study's list (other)"
    )


class CareInvolvementSerializer(serializers.ModelSerializer):
    """A care worker: names as recorded, and their entries of the study's coded list (null:
    typed in as "anders")."""

    class Meta:
        model = CareInvolvement
        fields = [
            "id",
            "family",
            "organisation",
            "discipline",
            "organisation_entry",
            "discipline_entry",
            "start_date",
            "end_date",
        ]


class MemberSerializer(serializers.ModelSerializer):
    """Pseudonymous fields only: the role in the household (adult/child) and the birth year.
    The free-text relation is left out: it may hold a name."""

    class Meta:
        model = Member
        fields = ["id", "family", "role", "birth_year"]


class WaveSurveySerializer(serializers.ModelSerializer):
    family = serializers.IntegerField(source="wave.family_id", read_only=True)

    class Meta:
        model = WaveSurvey
        fields = [
            "id",
            "wave",
            "family",
            "satisfaction",
            "qol_instrument",
            "qol_score",
            "qol_rating",
            "participation_step",
            "reachability",
            "missing_codes",
            "source",
        ]


def _score(low: int, high: int) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=low, max_value=high, required=False, allow_null=True)


class WaveSurveyWriteSerializer(serializers.Serializer):
    """A family's survey answers at a wave; fields left out keep their recorded value."""

    wave = serializers.IntegerField()
    version = serializers.CharField(required=False, allow_blank=True, max_length=40)
    satisfaction = _score(0, 10)
    qol_instrument = serializers.CharField(max_length=60, required=False, allow_blank=True)
    qol_score = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True
    )
    qol_rating = _score(0, 10)
    participation_step = _score(1, 6)
    reachability = _score(0, 10)
    missing_codes = serializers.DictField(
        child=serializers.ChoiceField(choices=MissingCode.choices), required=False
    )

    def validate_missing_codes(self, value):
        unknown = sorted(set(value) - set(WaveSurvey.SCORE_FIELDS))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown survey field: %(fields)s.") % {"fields": ", ".join(unknown)}
            )
        return value


class ProfessionalSerializer(serializers.ModelSerializer):
    """A professional by code and organisation; the linked login account is never shown."""

    class Meta:
        model = Professional
        fields = ["id", "study", "code", "organisation", "approach"]


class ProfessionalSurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = ProfessionalSurvey
        fields = ["id", "professional", "year", *ProfessionalSurvey.SCALES]


class ProfessionalSurveyWriteSerializer(serializers.Serializer):
    """A professional's yearly survey; recording the same year again changes that survey."""

    professional = serializers.IntegerField()
    year = serializers.IntegerField(min_value=1900, max_value=2100)
    job_satisfaction = _score(0, 10)
    autonomy = _score(1, 5)
    pride = _score(1, 5)
    competence = _score(1, 5)
    cooperation = _score(1, 5)
