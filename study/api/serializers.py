"""Allow-list serializers: never a linkage key, never another coach's private note."""

from rest_framework import serializers

from study.models import CareInvolvement, Contact, Family, IndicatorValue, Study, Wave


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
    wave = serializers.IntegerField()
    values = serializers.DictField(child=serializers.CharField(allow_blank=True, allow_null=True))


class ContactSerializer(serializers.ModelSerializer):
    family = serializers.PrimaryKeyRelatedField(read_only=True)
    note = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "family",
            "occurred_at",
            "kind",
            "duration_minutes",
            "initiated_by",
            "requested_at",
            "note",
            "note_private",
        ]
        read_only_fields = ["id", "note"]

    def get_note(self, contact) -> str:
        request = self.context.get("request")
        if contact.note_private and (request is None or contact.coach_id != request.user.pk):
            return ""
        return contact.note


class ContactWriteSerializer(serializers.Serializer):
    family = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=Contact.Kind.choices)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=24 * 60)
    initiated_by = serializers.ChoiceField(choices=Contact.Initiator.choices)
    requested_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    note_private = serializers.BooleanField(required=False, default=False)


class CareInvolvementSerializer(serializers.ModelSerializer):
    class Meta:
        model = CareInvolvement
        fields = ["id", "family", "organisation", "discipline", "start_date", "end_date"]
