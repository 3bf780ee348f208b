"""Registry import over the API: upload (multipart) -> dry run -> apply, for municipal systems
and scripts. Same services and access rule (selectors.import_batch_list) as the pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from study import selectors
from study.api.logging import FamilyReadLogged
from study.imports import workflow
from study.models import ImportBatch


class ImportBatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "study",
            "filename",
            "size",
            "sha256",
            "fmt",
            "layout",
            "key_kind",
            "status",
            "progress",
            "progress_note",
            "rows",
            "summary",
            "preview",
            "created",
            "updated",
            "unchanged",
            "error_count",
            "errors",
            "created_at",
            "validated_at",
            "applied_at",
        ]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    file = serializers.FileField()
    layout = serializers.ChoiceField(choices=ImportBatch.Layout.choices, default="auto")


class ImportBatchViewSet(
    FamilyReadLogged,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Upload a registry extract (multipart: study, file, layout); the dry run runs as a job:
    poll the batch until its status is `validated` (then POST apply/) or `failed` (see errors)."""

    serializer_class = ImportBatchSerializer
    family_lookup = ""  # a batch's preview and problems name families by pseudonym only
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["study", "status"]

    def get_queryset(self):
        return selectors.import_batch_list(self.request.user).order_by("-pk")

    @extend_schema(request=ImportUploadSerializer, responses={201: ImportBatchSerializer})
    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            study = selectors.import_study_get(request.user, upload.validated_data["study"])
        except Http404:
            raise NotFound(_("No study with this id that you may import into.")) from None
        try:
            batch = workflow.registry_import_upload_file(
                study=study,
                user=request.user,
                upload=upload.validated_data["file"],
                layout=upload.validated_data["layout"],
            )
        except DjangoPermissionDenied:
            raise NotFound(_("No study with this id that you may import into.")) from None
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from None
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: ImportBatchSerializer})
    @action(detail=True, methods=["post"], parser_classes=[FormParser, MultiPartParser])
    def apply(self, request, pk=None):
        batch = self.get_object()
        try:
            batch = workflow.registry_import_apply_request(batch=batch, user=request.user)
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from None
        return Response(ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)
