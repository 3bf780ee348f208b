"""API: run the monitor on an uploaded household-year extract as a job, poll the job, and read
and publish stored reports (aggregates only, suppressed)."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.monitor import selectors, services
from analysis.monitor.models import MonitorJob, MonitorReport


class IsResearcherOrDataManager(permissions.BasePermission):
    """Researchers and data managers (of a municipality's study) may run the monitor on registry
    extracts; which municipalities: `study.access.may_manage_monitor`."""

    def has_permission(self, request, view) -> bool:
        return selectors.may_manage_monitor(request.user)


class MonitorRunSerializer(serializers.Serializer):
    file = serializers.FileField()
    year = serializers.IntegerField(min_value=1900, max_value=2200)
    # The API's names "save" and "errors" shadow serializer methods only for the type checker:
    # DRF takes declared fields off the class.
    save = serializers.BooleanField(  # type: ignore[assignment]
        default=False, help_text="store one unpublished report per municipality"
    )

    def validate_file(self, value):
        if Path(value.name).suffix.lower() not in (".csv", ".parquet"):
            raise serializers.ValidationError(_("The file must be .csv or .parquet."))
        return value


class MonitorJobSerializer(serializers.ModelSerializer):
    """A monitor job: its state, and once it succeeded the suppressed summary (every count 1-9
    is "*") with the ids of the reports it stored; once it failed, the extract's problems."""

    year = serializers.IntegerField(source="params.year", read_only=True)
    save = serializers.BooleanField(source="params.save", read_only=True)  # type: ignore[assignment]
    source_name = serializers.CharField(source="params.source_name", read_only=True)
    errors = serializers.SerializerMethodField()  # type: ignore[assignment]
    url = serializers.SerializerMethodField()

    class Meta:
        model = MonitorJob
        fields = [
            "id",
            "url",
            "status",
            "progress",
            "year",
            "save",
            "source_name",
            "result",
            "errors",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_errors(self, job: MonitorJob) -> list[str]:
        return job.error.splitlines() if job.error else []

    def get_url(self, job: MonitorJob) -> str:
        url = reverse("monitor_api:job", kwargs={"pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class MonitorRunView(APIView):
    """POST an extract and a reporting year: a job counts MPG per municipality and wijk.

    Answers 202 with the job and the URL to poll (GET /api/monitor/jobs/<id>/); the job's
    result never holds an unsuppressed count (every count 1-9 is "*").
    """

    permission_classes = [IsResearcherOrDataManager]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=MonitorRunSerializer,
        responses={202: MonitorJobSerializer, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        serializer = MonitorRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            job = services.monitor_job_request(
                chunks=upload.chunks(),
                file_name=upload.name,
                year=serializer.validated_data["year"],
                save=serializer.validated_data["save"],
                user=request.user,
            )
        except ValidationError as exc:
            return Response({"errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        job.refresh_from_db()  # without a broker the job may have run already
        data = MonitorJobSerializer(job, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


class MonitorJobDetailView(APIView):
    """GET a monitor job: queued, running (with progress), succeeded or failed."""

    permission_classes = [IsResearcherOrDataManager]

    @extend_schema(responses={200: MonitorJobSerializer})
    def get(self, request: Request, pk: int) -> Response:
        job = selectors.monitor_job_get(request.user, pk)
        return Response(MonitorJobSerializer(job, context={"request": request}).data)


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
        if not selectors.may_manage_report(request.user, report):
            raise NotFound  # a report the user reads but does not manage: like an unknown one
        services.monitor_report_publish(report=report, user=request.user)
        return Response(MonitorReportSerializer(report).data)
