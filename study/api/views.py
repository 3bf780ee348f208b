"""API views: thin; every queryset starts from the access selectors, writes go through services."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from study import access, selectors
from study.api import serializers as s
from study.api.logging import FamilyReadLogged
from study.models import (
    CareInvolvement,
    Contact,
    IndicatorValue,
    ProfessionalSurvey,
    Wave,
    WaveSurvey,
)
from study.services.contacts import contact_log
from study.services.professionals import professional_survey_record
from study.services.surveys import wave_survey_record
from study.services.values import indicator_values_record


def _drf_error(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    )


def _research_roles_only(user) -> None:
    """403 for a user who records research data in no study; objects outside the user's studies
    are "not found" after this."""
    if not access.holds_anywhere(user, access.Right.RESEARCH_WRITE):
        raise PermissionDenied(_("Only researchers and data managers may record research data."))


class StudyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.StudySerializer

    def get_queryset(self):
        return selectors.study_list(self.request.user).order_by("pk")


class FamilyViewSet(FamilyReadLogged, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.FamilySerializer
    filterset_fields = ["study", "status", "wijk"]
    family_lookup = "pk"

    def get_queryset(self):
        return selectors.family_list(self.request.user).order_by("pk")


class WaveViewSet(FamilyReadLogged, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.WaveSerializer
    filterset_fields = ["family", "index", "status"]

    def get_queryset(self):
        families = selectors.family_list(self.request.user)
        return (
            Wave.objects.alive().filter(family__in=families).select_related("family").order_by("pk")
        )


class IndicatorValueViewSet(FamilyReadLogged, viewsets.ReadOnlyModelViewSet):
    """Registry values: researchers and data managers only (a coach never receives them)."""

    serializer_class = s.IndicatorValueSerializer
    family_lookup = "wave__family_id"
    filterset_fields = ["wave"]

    def get_queryset(self):
        families = selectors.research_family_list(self.request.user)
        return (
            IndicatorValue.objects.alive()
            .filter(wave__family__in=families)
            .select_related("indicator")
            .order_by("pk")
        )

    @extend_schema(request=s.IndicatorValuesWriteSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def record(self, request):
        """Record values of one wave: {"wave": id, "values": {code: number or missing code}}."""
        return Response(self._record_many(request, [request.data]))

    @extend_schema(request=s.IndicatorValuesWriteSerializer(many=True), responses={200: dict})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Several waves at once, all-or-nothing; errors keyed by item index and field."""
        if not isinstance(request.data, list):
            raise ValidationError({"detail": "send a list of {wave, values} objects"})
        return Response(self._record_many(request, request.data))

    def _record_many(self, request, items) -> dict:
        user = request.user
        _research_roles_only(user)
        errors, created, updated, unchanged = {}, 0, 0, 0
        with transaction.atomic():
            for i, item in enumerate(items):
                ser = s.IndicatorValuesWriteSerializer(data=item)
                if not ser.is_valid():
                    errors[str(i)] = ser.errors
                    continue
                try:
                    wave = selectors.research_wave_get(user, ser.validated_data["wave"])
                    outcome = indicator_values_record(
                        wave=wave, values=ser.validated_data["values"], user=user, source="api"
                    )
                except Http404:
                    errors[str(i)] = {"wave": ["not found"]}
                    continue
                except DjangoValidationError as exc:
                    errors[str(i)] = _drf_error(exc).detail
                    continue
                created, updated, unchanged = (
                    created + outcome.created,
                    updated + outcome.updated,
                    unchanged + outcome.unchanged,
                )
            if errors:
                transaction.set_rollback(True)
        if errors:
            raise ValidationError({"errors": errors, "saved": 0})
        return {"created": created, "updated": updated, "unchanged": unchanged}


class ContactViewSet(
    FamilyReadLogged, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ContactSerializer
    filterset_fields = ["family", "kind"]

    def get_queryset(self):
        families = selectors.family_list(self.request.user)
        return Contact.objects.alive().filter(family__in=families).order_by("-occurred_at")

    @extend_schema(request=s.ContactWriteSerializer, responses={201: s.ContactSerializer})
    def create(self, request):
        contact = self._log(request.user, request.data)
        return Response(
            s.ContactSerializer(contact, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=s.ContactWriteSerializer(many=True), responses={201: dict})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Log several contacts at once, all-or-nothing; errors keyed by item index."""
        if not isinstance(request.data, list):
            raise ValidationError({"detail": "send a list of contacts"})
        errors, ids = {}, []
        with transaction.atomic():
            for i, item in enumerate(request.data):
                try:
                    ids.append(self._log(request.user, item).pk)
                except ValidationError as exc:
                    errors[str(i)] = exc.detail
            if errors:
                transaction.set_rollback(True)
        if errors:
            raise ValidationError({"errors": errors, "saved": 0})
        return Response({"created": len(ids), "ids": ids}, status=status.HTTP_201_CREATED)

    def _log(self, user, data):
        ser = s.ContactWriteSerializer(data=data)
        ser.is_valid(raise_exception=True)
        values = dict(ser.validated_data)
        # contact_log checks the caseload itself (one query); an unknown family and a family
        # outside the caseload get the same answer, so the API does not reveal which ids exist.
        try:
            return contact_log(family=values.pop("family"), coach=user, **values)
        except DjangoPermissionDenied:
            raise ValidationError(
                {"family": [_("No family with this id on your caseload.")]}
            ) from None
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None


class CareInvolvementViewSet(FamilyReadLogged, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.CareInvolvementSerializer
    filterset_fields = ["family"]

    def get_queryset(self):
        families = selectors.family_list(self.request.user)
        return CareInvolvement.objects.alive().filter(family__in=families).order_by("pk")


class MemberViewSet(FamilyReadLogged, viewsets.ReadOnlyModelViewSet):
    """Household members of the families a researcher or data manager may see: role in the
    household, relation and birth year only (never identity)."""

    serializer_class = s.MemberSerializer
    filterset_fields = ["family", "role"]

    def get_queryset(self):
        return selectors.member_list(self.request.user)


class WaveSurveyViewSet(
    FamilyReadLogged, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Families' survey answers per wave (researchers and data managers)."""

    serializer_class = s.WaveSurveySerializer
    family_lookup = "wave__family_id"
    filterset_fields = ["wave", "wave__family"]

    def get_queryset(self):
        return selectors.wave_survey_list(self.request.user)

    @extend_schema(
        request=s.WaveSurveyWriteSerializer,
        responses={200: s.WaveSurveySerializer, 201: s.WaveSurveySerializer},
    )
    def create(self, request):
        """Record (or change) the survey of one wave: {"wave": id, field: answer, ...}."""
        _research_roles_only(request.user)
        ser = s.WaveSurveyWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        try:
            wave = selectors.research_wave_get(request.user, data.pop("wave"))
        except Http404:
            raise ValidationError({"wave": ["not found"]}) from None
        existed = WaveSurvey.objects.alive().filter(wave=wave).exists()
        try:
            with transaction.atomic():
                survey = wave_survey_record(wave=wave, data=data, user=request.user, source="api")
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None
        return Response(
            s.WaveSurveySerializer(survey).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class ProfessionalViewSet(viewsets.ReadOnlyModelViewSet):
    """Professionals of the studies a researcher or data manager works on."""

    serializer_class = s.ProfessionalSerializer
    filterset_fields = ["study", "approach"]

    def get_queryset(self):
        return selectors.professional_list(self.request.user)


class ProfessionalSurveyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Professionals' yearly surveys (researchers and data managers)."""

    serializer_class = s.ProfessionalSurveySerializer
    filterset_fields = ["professional", "year"]

    def get_queryset(self):
        return selectors.professional_survey_list(self.request.user)

    @extend_schema(
        request=s.ProfessionalSurveyWriteSerializer,
        responses={200: s.ProfessionalSurveySerializer, 201: s.ProfessionalSurveySerializer},
    )
    def create(self, request):
        """Record a professional's survey of one year (recording the year again changes it)."""
        _research_roles_only(request.user)
        ser = s.ProfessionalSurveyWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        answers = dict(ser.validated_data)
        try:
            professional = selectors.professional_get(
                request.user, answers.pop("professional"), write=True
            )
        except Http404:
            raise ValidationError({"professional": ["not found"]}) from None
        year = answers.pop("year")
        existed = (
            ProfessionalSurvey.objects.alive().filter(professional=professional, year=year).exists()
        )
        try:
            with transaction.atomic():
                survey = professional_survey_record(
                    professional=professional, year=year, answers=answers, user=request.user
                )
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None
        return Response(
            s.ProfessionalSurveySerializer(survey).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )
