"""API views: thin; every queryset starts from the access selectors, writes go through services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response

from study import access, selectors
from study.api import serializers as s
from study.api.logging import FamilyReadLogged
from study.idempotency import KeyReusedError, run_once
from study.models import (
    CareInvolvement,
    Contact,
    IndicatorValue,
    ProfessionalSurvey,
    Wave,
    WaveSurvey,
)
from study.services.contacts import contact_log
from study.services.corrections import (
    care_involvement_correct,
    care_involvement_soft_delete,
    contact_correct,
    contact_soft_delete,
)
from study.services.families import family_soft_delete
from study.services.professionals import professional_survey_record
from study.services.surveys import wave_survey_record
from study.services.values import (
    ConflictError,
    RecordOutcome,
    indicator_value_soft_delete,
    indicator_values_record,
    wave_version,
)


def _drf_error(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    )


class Conflict(APIException):
    """409: a field the write changes was changed by someone else since the version sent."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Changed by someone else since the version you sent.")
    default_code = "conflict"


def _conflict(conflicts: dict, version: str | None = None) -> Conflict:
    body: dict = {
        "detail": _(
            "Nothing was saved: someone else changed these fields since the version you sent. "
            "Read them again and resend."
        ),
        "conflicts": conflicts,
    }
    if version is not None:
        body["version"] = version
    return Conflict(body)


def _once(request, scope: str, produce: Callable[[], tuple[int, Any]]) -> Response:
    """Run a write once per `Idempotency-Key` header (the same key again replays the first
    answer, with `Idempotent-Replayed: true`); without the header, just run it."""
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        code, body = produce()
        return Response(body, status=code)
    try:
        outcome = run_once(
            user=request.user, scope=scope, key=key, payload=request.data, produce=produce
        )
    except ValueError as exc:
        raise ValidationError({"Idempotency-Key": [str(exc)]}) from None
    except KeyReusedError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    response = Response(outcome.body, status=outcome.status_code)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


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

    @extend_schema(request=s.ReasonSerializer, responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Remove a family (a data manager, with a reason): a soft delete, kept in the history."""
        family = self.get_object()
        if not access.family_has_right(request.user, family, access.Right.DATA_CORRECT):
            raise PermissionDenied(_("Only a data manager removes a family."))
        reason = _reason(request)
        _services(family_soft_delete, family=family, reason=reason, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _reason(request) -> str:
    ser = s.ReasonSerializer(data=request.data if isinstance(request.data, dict) else {})
    ser.is_valid(raise_exception=True)
    return ser.validated_data["reason"]


def _services(service: Callable[..., Any], **kwargs) -> Any:
    """Call a correction service: its refusals as 403, its errors as 400 by field."""
    try:
        return service(**kwargs)
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from None
    except DjangoValidationError as exc:
        raise _drf_error(exc) from None


class WaveViewSet(FamilyReadLogged, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.WaveSerializer
    filterset_fields = ["family", "index", "status"]

    def get_queryset(self):
        families = selectors.family_list(self.request.user)
        return (
            Wave.objects.alive().filter(family__in=families).select_related("family").order_by("pk")
        )

    def retrieve(self, request, *args, **kwargs):
        """A wave, with its data version as the ETag (send it back as If-Match or "version");
        the read is logged like every family-data read (FamilyReadLogged)."""
        response = super().retrieve(request, *args, **kwargs)
        version = wave_version(self.get_object())
        response.data = {**response.data, "version": version}
        response["ETag"] = f'"{version}"'
        return response


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

    @extend_schema(request=s.ReasonSerializer, responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Remove a value with a reason (a soft delete, audited)."""
        value = self.get_object()
        if not access.may_write_research(request.user, value.wave.family):
            raise PermissionDenied(_("Only researchers and data managers remove values."))
        reason = _reason(request)
        _services(indicator_value_soft_delete, value=value, reason=reason, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.IndicatorValuesWriteSerializer, responses={200: dict, 409: dict})
    @action(detail=False, methods=["post"])
    def record(self, request):
        """Record values of one wave: {"wave": id, "values": {code: number, missing code, or
        null to clear}, "version": the wave's version (or an If-Match header), "confirmed":
        [codes beyond the soft limit that are right]}. A stale version is a 409 naming the
        fields someone else changed. An Idempotency-Key header makes a repeat return the first
        answer."""
        if_match = request.headers.get("If-Match", "")

        def produce():
            result = self._record_many(request, [request.data], if_match=if_match)
            return status.HTTP_200_OK, result

        return _once(request, "indicator-values.record", produce)

    @extend_schema(
        request=s.IndicatorValuesWriteSerializer(many=True), responses={200: dict, 409: dict}
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Several waves at once, all-or-nothing; errors keyed by item index and field."""
        if not isinstance(request.data, list):
            raise ValidationError({"detail": "send a list of {wave, values} objects"})
        return _once(
            request,
            "indicator-values.bulk",
            lambda: (status.HTTP_200_OK, self._record_many(request, request.data)),
        )

    def _record_many(self, request, items, if_match: str = "") -> dict:
        user = request.user
        _research_roles_only(user)
        errors: dict = {}
        conflicts: dict = {}
        totals = {"created": 0, "updated": 0, "unchanged": 0, "cleared": 0}
        versions: dict[str, str] = {}
        with transaction.atomic():
            for i, item in enumerate(items):
                try:
                    wave, outcome = _record_item(user, item, if_match)
                except ValidationError as exc:
                    errors[str(i)] = exc.detail
                    continue
                except ConflictError as exc:
                    conflicts[str(i)] = {"conflicts": exc.conflicts, "version": exc.version}
                    continue
                for name in totals:
                    totals[name] += getattr(outcome, name)
                versions[str(wave.pk)] = outcome.version
            if errors or conflicts:
                transaction.set_rollback(True)
        if errors:
            raise ValidationError({"errors": errors, "saved": 0})
        if conflicts:
            if len(items) == 1:
                only = conflicts["0"]
                raise _conflict(only["conflicts"], only["version"])
            raise _conflict({"items": conflicts, "saved": 0})
        return {**totals, "versions": versions}


def _record_item(user, item, if_match: str) -> tuple[Wave, RecordOutcome]:
    """One {wave, values, version, confirmed} item (DRF ValidationError or ConflictError)."""
    ser = s.IndicatorValuesWriteSerializer(data=item)
    if not ser.is_valid():
        raise ValidationError(ser.errors)
    data = ser.validated_data
    sent = data["values"]
    try:
        wave = selectors.research_wave_get(user, data["wave"])
    except Http404:
        raise ValidationError({"wave": ["not found"]}) from None
    try:
        with transaction.atomic():
            outcome = indicator_values_record(
                wave=wave,
                values={c: v for c, v in sent.items() if v not in (None, "")},
                clears=[c for c, v in sent.items() if v in (None, "")],
                base_version=data.get("version") or if_match or None,
                soft_confirmed=data.get("confirmed", []),
                soft_limits=True,
                user=user,
                source="api",
            )
    except ConflictError:
        raise
    except DjangoValidationError as exc:
        raise _drf_error(exc) from None
    return wave, outcome


class ContactViewSet(
    FamilyReadLogged, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ContactSerializer
    filterset_fields = ["family", "kind"]

    def get_queryset(self):
        families = selectors.family_list(self.request.user)
        return (
            Contact.objects.alive()
            .filter(family__in=families)
            .annotate(family_study_id=F("family__study_id"))
            .order_by("-occurred_at")
        )

    @extend_schema(request=s.ContactCorrectSerializer, responses={200: s.ContactSerializer})
    def partial_update(self, request, pk=None):
        """Correct a contact (its coach or a data manager): the fields to change and a reason."""
        contact = selectors.contact_get(request.user, pk)
        ser = s.ContactCorrectSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        changes = dict(ser.validated_data)
        reason = changes.pop("reason")
        contact = _services(
            contact_correct, contact=contact, changes=changes, reason=reason, user=request.user
        )
        return Response(s.ContactSerializer(contact, context={"request": request}).data)

    @extend_schema(request=s.ReasonSerializer, responses={204: None})
    def destroy(self, request, pk=None):
        """Remove a contact logged in error (its coach or a data manager), with a reason."""
        contact = selectors.contact_get(request.user, pk)
        reason = _reason(request)
        _services(contact_soft_delete, contact=contact, reason=reason, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.ContactWriteSerializer, responses={201: s.ContactSerializer})
    def create(self, request):
        """Log a contact; an Idempotency-Key header makes a repeat return the first contact."""

        def produce():
            contact = self._log(request.user, request.data)
            body = s.ContactSerializer(contact, context={"request": request}).data
            return status.HTTP_201_CREATED, body

        return _once(request, "contacts.create", produce)

    @extend_schema(request=s.ContactWriteSerializer(many=True), responses={201: dict})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Log several contacts at once, all-or-nothing; errors keyed by item index."""
        if not isinstance(request.data, list):
            raise ValidationError({"detail": "send a list of contacts"})
        return _once(request, "contacts.bulk", lambda: self._bulk(request))

    def _bulk(self, request) -> tuple[int, dict]:
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
        return status.HTTP_201_CREATED, {"created": len(ids), "ids": ids}

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

    @extend_schema(
        request=s.CareInvolvementCorrectSerializer, responses={200: s.CareInvolvementSerializer}
    )
    def partial_update(self, request, pk=None):
        """Correct a care involvement (who recorded it, or a data manager), with a reason."""
        involvement = selectors.care_involvement_get(request.user, pk)
        ser = s.CareInvolvementCorrectSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        changes = dict(ser.validated_data)
        reason = changes.pop("reason")
        involvement = _services(
            care_involvement_correct,
            involvement=involvement,
            changes=changes,
            reason=reason,
            user=request.user,
        )
        return Response(s.CareInvolvementSerializer(involvement).data)

    @extend_schema(request=s.ReasonSerializer, responses={204: None})
    def destroy(self, request, pk=None):
        """Remove a care involvement recorded in error, with a reason."""
        involvement = selectors.care_involvement_get(request.user, pk)
        reason = _reason(request)
        _services(
            care_involvement_soft_delete, involvement=involvement, reason=reason, user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        """Record (or change) the survey of one wave: {"wave": id, field: answer, ...,
        "version": the wave's version (or If-Match)}; a stale version is a 409. An
        Idempotency-Key header makes a repeat return the first answer."""
        _research_roles_only(request.user)
        return _once(request, "wave-surveys.create", lambda: self._record(request))

    def _record(self, request) -> tuple[int, dict]:
        ser = s.WaveSurveyWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        version = data.pop("version", "") or request.headers.get("If-Match", "") or None
        try:
            wave = selectors.research_wave_get(request.user, data.pop("wave"))
        except Http404:
            raise ValidationError({"wave": ["not found"]}) from None
        existed = WaveSurvey.objects.alive().filter(wave=wave).exists()
        try:
            with transaction.atomic():
                survey = wave_survey_record(
                    wave=wave, data=data, user=request.user, source="api", base_version=version
                )
        except ConflictError as exc:
            raise _conflict(exc.conflicts, exc.version) from None
        except DjangoValidationError as exc:
            raise _drf_error(exc) from None
        body = {**s.WaveSurveySerializer(survey).data, "version": wave_version(wave)}
        return (status.HTTP_200_OK if existed else status.HTTP_201_CREATED), body


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
        """Record a professional's survey of one year (recording the year again changes it). An
        Idempotency-Key header makes a repeat return the first answer."""
        _research_roles_only(request.user)
        return _once(request, "professional-surveys.create", lambda: self._record(request))

    def _record(self, request) -> tuple[int, dict]:
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
        body = s.ProfessionalSurveySerializer(survey).data
        return (status.HTTP_200_OK if existed else status.HTTP_201_CREATED), body
