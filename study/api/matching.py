"""The candidate pool of a matched study over the API: POST a CSV file (multipart: study, file)
and it replaces the pool recorded before; the same service, screening and access rule
(selectors.import_study_get: who may import into the study) as `record_candidates`."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from study import selectors
from study.imports.problems import ImportFileError
from study.services.matching import candidates_from_csv, matching_candidates_record


class CandidatePoolUploadSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    file = serializers.FileField()


class CandidatePoolSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    candidates = serializers.IntegerField()


class MatchingCandidateViewSet(viewsets.GenericViewSet):
    """Record a matched study's candidate pool from a CSV file (candidate_key, intake_year,
    selected, match_set and one column per matching variable; never a BSN): the report then
    shows the balance before matching beside the balance after it."""

    parser_classes = [MultiPartParser, FormParser]
    serializer_class = CandidatePoolUploadSerializer

    @extend_schema(request=CandidatePoolUploadSerializer, responses={201: CandidatePoolSerializer})
    def create(self, request, *args, **kwargs):
        upload = CandidatePoolUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            study = selectors.import_study_get(request.user, upload.validated_data["study"])
        except Http404:
            raise NotFound(_("No study with this id that you may import into.")) from None
        file = upload.validated_data["file"]
        try:
            specs = candidates_from_csv(file.read(), file.name)
            n = matching_candidates_record(study=study, candidates=specs, user=request.user)
        except ImportFileError as exc:
            raise ValidationError({"detail": [exc.message]}) from None
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from None
        return Response({"study": study.pk, "candidates": n}, status=status.HTTP_201_CREATED)
