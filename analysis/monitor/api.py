"""API: run the monitor on an uploaded household-year extract (aggregates only, suppressed)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.monitor import services
from study.roles import is_data_manager, is_researcher


class IsResearcherOrDataManager(permissions.BasePermission):
    """Researchers and data managers may run the monitor on registry extracts."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and (is_researcher(user) or is_data_manager(user))
        )


class MonitorRunSerializer(serializers.Serializer):
    file = serializers.FileField()
    year = serializers.IntegerField(min_value=1900, max_value=2200)

    def validate_file(self, value):
        if Path(value.name).suffix.lower() not in (".csv", ".parquet"):
            raise serializers.ValidationError(_("The file must be .csv or .parquet."))
        return value


class MonitorRunView(APIView):
    """POST an extract and a reporting year; get MPG counts per municipality and wijk.

    Every count 1-9 is "*": the API never returns unsuppressed counts.
    """

    permission_classes = [IsResearcherOrDataManager]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=MonitorRunSerializer, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request) -> Response:
        serializer = MonitorRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        year = serializer.validated_data["year"]
        suffix = Path(upload.name).suffix.lower()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"extract{suffix}"
            with path.open("wb") as handle:
                for piece in upload.chunks():
                    handle.write(piece)
            combined = services.monitor_run(path=path, year=year)
        errors = [e.replace(path.name, upload.name) for e in combined["errors"]]
        if errors:
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        summary = services.monitor_summary(counts=services.counts_frame(combined), year=year)
        return Response(summary)
