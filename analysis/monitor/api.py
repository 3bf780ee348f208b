"""API: run the monitor on an uploaded household-year extract (aggregates only, suppressed)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.monitor import report_services, selectors, services
from analysis.monitor.models import MonitorReport
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
    save = serializers.BooleanField(
        default=False, help_text="store one unpublished report per municipality"
    )

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
            counts = services.counts_frame(combined)
            summary = services.monitor_summary(counts=counts, year=year)
            if serializer.validated_data["save"]:
                try:
                    reports = report_services.monitor_reports_save(
                        path=path,
                        year=year,
                        user=request.user,
                        source_name=upload.name,
                        combined=combined,
                    )
                except ValidationError as exc:
                    return Response({"errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
                summary["saved_reports"] = [r.pk for r in reports]
        return Response(summary)


class MonitorReportSerializer(serializers.ModelSerializer):
    """A stored report: suppressed aggregates only (counts 1-9 are "*")."""

    published = serializers.BooleanField(read_only=True)

    class Meta:
        model = MonitorReport
        fields = [
            "id",
            "municipality",
            "year",
            "summary",
            "tables",
            "trend",
            "cost",
            "created_at",
            "published",
            "published_at",
        ]
        read_only_fields = fields


class MonitorReportListView(generics.ListAPIView):
    """Monitor reports the user may see: researchers and data managers all, the gemeente the
    published reports of its own municipality (same rule as the /monitor/ pages)."""

    serializer_class = MonitorReportSerializer
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("municipality", str, description="only this municipality's reports")
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.monitor_report_list(
            self.request.user, municipality=self.request.query_params.get("municipality")
        )


class MonitorReportDetailView(generics.RetrieveAPIView):
    serializer_class = MonitorReportSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return selectors.monitor_report_list(self.request.user)


class MonitorReportPublishView(APIView):
    """POST: publish a stored report for the gemeente (researchers and data managers)."""

    permission_classes = [IsResearcherOrDataManager]

    @extend_schema(request=None, responses={200: MonitorReportSerializer})
    def post(self, request: Request, pk: int) -> Response:
        report = selectors.monitor_report_get(request.user, pk)
        report_services.monitor_report_publish(report=report, user=request.user)
        return Response(MonitorReportSerializer(report).data)
