"""`POST /api/study-set-up/`: set up a study through the API (the installation administrator or a
data manager of any study, with a verified token; an API key belongs to one study and cannot).
In tracker because a new study gets the analysis app's research questions (`tracker.setup`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from study import allocation
from study.api.setup import StudySetUpSerializer
from study.models import Study
from study.services.studies import may_create_study
from tracker.setup import study_set_up


class StudyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    municipality_code = serializers.CharField(max_length=6, help_text="CBS gemeentecode, GMxxxx.")
    description = serializers.CharField(required=False, default="", allow_blank=True)
    start_date = serializers.DateField()
    n_waves = serializers.IntegerField(min_value=1, max_value=5, default=4)
    wave_interval_months = serializers.IntegerField(min_value=1, max_value=36, default=12)
    wave_window_days = serializers.IntegerField(min_value=0, max_value=365, default=60)
    pre_intake_years = serializers.IntegerField(min_value=0, max_value=5, default=2)
    acknowledge_warnings = serializers.BooleanField(
        default=False, help_text="Needed for fewer than two registry years before intake."
    )
    price_year = serializers.IntegerField(min_value=2000, max_value=2100, default=2014)
    intervention_name = serializers.CharField(max_length=100, required=False, default="")
    comparison_name = serializers.CharField(max_length=100, required=False, default="")
    allocation_method = serializers.ChoiceField(
        choices=Study.AllocationMethod.choices, default=Study.AllocationMethod.MATCHED
    )
    allocation_strata = serializers.ChoiceField(
        choices=list(allocation.STRATA_CHOICES), required=False, default="", allow_blank=True
    )
    randomisation = serializers.ChoiceField(
        choices=Study.Randomisation.choices, default=Study.Randomisation.BLOCKS
    )
    match_variables = serializers.CharField(
        max_length=300, required=False, default="", allow_blank=True
    )
    enrolment_target = serializers.IntegerField(
        min_value=2, max_value=10000, required=False, allow_null=True, default=None
    )
    intervention_cap = serializers.IntegerField(min_value=1, max_value=10000, required=False)
    comparison_cap = serializers.IntegerField(
        min_value=1, max_value=10000, required=False, allow_null=True, default=None
    )
    eligibility_rule = serializers.ChoiceField(
        choices=Study.EligibilityRule.choices, default=Study.EligibilityRule.MPG
    )
    contact_notes_for_research = serializers.BooleanField(
        default=False,
        help_text="Researchers and data managers read contact notes (BSN-like numbers masked).",
    )


class StudySetUpViewSet(viewsets.GenericViewSet):
    serializer_class = StudyCreateSerializer

    @extend_schema(request=StudyCreateSerializer, responses={201: StudySetUpSerializer})
    def create(self, request):
        """Set up a study with its two arms and research questions; the caller becomes its data
        manager (the installation administrator holds every study already)."""
        if not may_create_study(request.user):
            raise PermissionDenied(
                "Only the installation administrator and data managers set up studies."
            )
        ser = StudyCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        try:
            study = study_set_up(user=request.user, data_manager=request.user, **data)
        except DjangoValidationError as exc:
            raise ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            ) from None
        return Response(StudySetUpSerializer(study).data, status=status.HTTP_201_CREATED)
