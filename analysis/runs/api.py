"""API of analyses: runs (researchers) and reports (the gemeente: published only)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from analysis.did.inference import DEFAULT_METHODS
from analysis.models import AnalysisRun, Report, ReportTypesetJob
from analysis.runs import report_services, selectors, services
from study import access
from study import selectors as study_selectors


class RunSerializer(serializers.ModelSerializer):
    report = serializers.SerializerMethodField(help_text="The id of the run's report, if any.")

    class Meta:
        model = AnalysisRun
        fields = [
            "id",
            "study",
            "status",
            "progress",
            "progress_note",
            "params",
            "created_at",
            "finished_at",
            "fingerprint",
            "code_version",
            "error",
            "report",
        ]

    def get_report(self, run: AnalysisRun) -> int | None:
        if hasattr(run, "report_pk"):
            return run.report_pk
        return Report.objects.filter(run=run).values_list("pk", flat=True).first()


class RunRequestSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    # Left out, these follow the study's frozen analysis plan (or the defaults without a plan).
    inference = serializers.ChoiceField(choices=list(DEFAULT_METHODS), required=False)
    draws = serializers.IntegerField(min_value=0, max_value=99999, required=False)
    seed = serializers.IntegerField(required=False)


class ReportSerializer(serializers.ModelSerializer):
    withdrawn = serializers.BooleanField(read_only=True)
    pdf_status = serializers.SerializerMethodField(
        help_text="ready; typesetting (published, its PDF is being made); failed (pdf_error "
        "says why); none."
    )

    class Meta:
        model = Report
        fields = [
            "id",
            "study",
            "version",
            "run",
            "created_at",
            "published",
            "published_at",
            "withdrawn",
            "withdrawn_at",
            "withdrawal_reason",
            "pdf_status",
            "pdf_error",
        ]

    def get_pdf_status(self, report: Report) -> str:
        has_pdf = getattr(report, "has_pdf", None)
        if has_pdf is None:
            has_pdf = Report.objects.filter(pk=report.pk, pdf__isnull=False).exists()
        if has_pdf:
            return "ready"
        typesetting = getattr(report, "typesetting_now", None)
        if typesetting is None:
            typesetting = selectors.typesetting(report) is not None
        if typesetting:
            return "typesetting"
        return "failed" if report.pdf_error else "none"


class PublishSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        help_text="true: the caller has read the preview (the report page's published "
        "rendering) and the municipality may read the report."
    )


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(
        min_length=report_services.MIN_REASON_LENGTH,
        max_length=2000,
        help_text="Why the report is withdrawn; the municipality reads it.",
    )


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RunSerializer

    def get_queryset(self):
        studies = selectors.runnable_studies(self.request.user)
        return (
            AnalysisRun.objects.filter(study__in=studies)
            .defer("results")
            .annotate(report_pk=F("report__id"))
            .order_by("-pk")
        )

    @extend_schema(request=RunRequestSerializer, responses={201: RunSerializer, 409: None})
    def create(self, request):
        ser = RunRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        studies = study_selectors.study_list(request.user).filter(pk=data.pop("study"))
        study = studies.first()
        if study is None or not selectors.may_run_analyses(request.user, study):
            raise NotFound
        try:
            run = services.analysis_run_request(study=study, user=request.user, params=data)
        except services.RunAlreadyActive as exc:
            return Response(
                {"detail": exc.messages[0], "active_run": exc.run.pk},
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Reports: researchers and data managers see drafts and publish or withdraw them; the
    gemeente lists the published ones (a withdrawn one with its date and reason)."""

    serializer_class = ReportSerializer

    def get_queryset(self):
        active = ReportTypesetJob.objects.filter(
            report=OuterRef("pk"),
            status__in=(ReportTypesetJob.Status.QUEUED, ReportTypesetJob.Status.RUNNING),
        )
        return (
            selectors.report_list(self.request.user)
            .annotate(
                has_pdf=ExpressionWrapper(Q(pdf__isnull=False), output_field=BooleanField()),
                typesetting_now=Exists(active),
            )
            .order_by("-pk")
        )

    def _publishable(self, pk) -> Report:
        if not str(pk).isdigit():  # a malformed id answers 404, as for a report one cannot see
            raise Http404
        report = selectors.report_get(self.request.user, int(pk))  # 404 for another study's
        if not access.has_right(self.request.user, report.study, access.Right.REPORT_PUBLISH):
            raise PermissionDenied
        return report

    @extend_schema(request=PublishSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        report = self._publishable(pk)
        ser = PublishSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        if not ser.validated_data["confirm"]:
            raise serializers.ValidationError(
                {"confirm": ["Read the preview first, then send confirm: true."]}
            )
        try:
            report = report_services.report_publish(report=report, user=request.user)
        except DjangoValidationError as exc:
            return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        return Response(ReportSerializer(report).data)

    @extend_schema(request=WithdrawSerializer, responses={200: ReportSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        report = self._publishable(pk)
        ser = WithdrawSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            report = report_services.report_withdraw(
                report=report, user=request.user, reason=ser.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise serializers.ValidationError(exc.message_dict) from None
            return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
        return Response(ReportSerializer(report).data)
