"""The instruments' REST API: versions (definitions, read) and administrations (read; POST
enters one at a wave and answers with its scores). Access through study.access; every read of
administrations is logged (family data)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from instruments import selectors
from instruments.definition import text_in
from instruments.models import Administration, InstrumentVersion
from instruments.services import administration_record
from study import access
from study.api.logging import FamilyReadLogged
from study.models import Source, Wave


class InstrumentVersionSerializer(serializers.ModelSerializer):
    items = serializers.SerializerMethodField()
    scores = serializers.SerializerMethodField()
    missing_codes = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()
    licence = serializers.SerializerMethodField()

    class Meta:
        model = InstrumentVersion
        fields = [
            "id", "code", "version", "name", "study", "comparable_with",
            "items", "scores", "missing_codes", "source", "licence",
        ]  # fmt: skip

    def get_items(self, obj) -> list[dict]:
        return [
            {
                "code": i.code,
                "text": i.text,
                "reverse": i.reverse,
                "values": {str(v): label for v, label in i.scale.values.items()},
            }
            for i in obj.parsed.items
        ]

    def get_scores(self, obj) -> list[dict]:
        return [
            {
                "code": r.code,
                "label": text_in(r.label),
                "method": r.method,
                "items": list(r.items),
                "min_items": r.min_items,
            }
            for r in obj.parsed.scores
        ]

    def get_missing_codes(self, obj) -> list[str]:
        return list(obj.parsed.missing_codes)

    def get_source(self, obj) -> str:
        return obj.parsed.source

    def get_licence(self, obj) -> str:
        return obj.parsed.licence


class AdministrationSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="instrument_version.version", read_only=True)
    family = serializers.IntegerField(source="wave.family_id", read_only=True)
    wave_index = serializers.IntegerField(source="wave.index", read_only=True)

    class Meta:
        model = Administration
        fields = [
            "id", "wave", "family", "wave_index", "instrument_version", "instrument_code",
            "version", "answers", "missing_codes", "scores", "mode", "recorded_at",
        ]  # fmt: skip


class AdministrationWriteSerializer(serializers.Serializer):
    wave = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    instrument_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    answers = serializers.DictField(
        child=serializers.IntegerField(min_value=-1000, max_value=1000), required=False
    )
    missing_codes = serializers.DictField(
        child=serializers.CharField(max_length=40), required=False
    )


class InstrumentVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Instrument versions: the shipped ones and those of the caller's studies."""

    serializer_class = InstrumentVersionSerializer
    filterset_fields = ["code", "study"]
    queryset = InstrumentVersion.objects.none()  # the schema's model; requests: get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no query
            return InstrumentVersion.objects.none()
        selectors.instrument_version_list()  # stores the shipped definitions
        studies = access.visible_studies(self.request.user)
        return InstrumentVersion.objects.filter(
            Q(study__isnull=True) | Q(study__in=studies)
        ).order_by("code", "version")


class AdministrationViewSet(
    FamilyReadLogged, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Administrations: item answers, missing-data codes and scores, with their version
    (researchers and data managers of the study; a wijkcoach for their caseload)."""

    serializer_class = AdministrationSerializer
    family_lookup = "wave__family_id"
    filterset_fields = ["wave", "wave__family", "instrument_code"]
    queryset = Administration.objects.none()  # the schema's model; requests: get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Administration.objects.none()
        return selectors.administration_list(self.request.user)

    @extend_schema(request=AdministrationWriteSerializer, responses={201: AdministrationSerializer})
    def create(self, request):
        """Enter (or change) an instrument at a wave: {"wave": id, "instrument_version": id,
        "answers": {item: value}, "missing_codes": {item: code}}; the answer holds the scores."""
        ser = AdministrationWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        wave = (
            Wave.objects.alive()
            .filter(
                pk=data["wave"], family__in=access.instrument_families(request.user, write=True)
            )
            .select_related("family")
            .first()
        )
        if wave is None:
            raise ValidationError({"wave": ["not found"]})
        version = (
            selectors.instrument_version_list(study=wave.family.study)
            .filter(pk=data["instrument_version"])
            .first()
        )
        if version is None:
            raise ValidationError({"instrument_version": ["not found"]})
        mode = (
            Administration.Mode.RESEARCHER
            if access.family_has_right(request.user, wave.family, access.Right.RESEARCH_WRITE)
            else Administration.Mode.COACH
        )
        try:
            admin = administration_record(
                wave=wave,
                instrument_version=version,
                answers=data.get("answers", {}),
                missing_codes=data.get("missing_codes", {}),
                user=request.user,
                mode=mode,
                source=Source.API,
            )
        except DjangoValidationError as exc:
            raise ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            ) from None
        return Response(AdministrationSerializer(admin).data, status=status.HTTP_201_CREATED)
