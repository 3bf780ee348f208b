"""API of analysis plans: the frozen versions (read-only), and freezing (researchers and data
managers): ``POST /api/plan-freezes/`` records a freeze or revision and queues the job that
computes the pre-registered MDEs and then freezes; ``GET /api/plan-freezes/{id}/`` its
progress. A second freeze while one is queued or running answers 409."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from analysis.did.inference import DEFAULT_METHODS
from analysis.effects import designs
from analysis.models import AnalysisPlan, PlanFreezeJob
from analysis.plans import plan_services, selectors
from analysis.runs.selectors import runnable_studies
from study import selectors as study_selectors


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnalysisPlan
        fields = ["id", "study", "version", "frozen_at", "reason", "sha256", "content"]


class PlanViewSet(viewsets.ReadOnlyModelViewSet):
    """Frozen analysis plans (read-only; researchers and data managers of the study)."""

    serializer_class = PlanSerializer

    def get_queryset(self):
        studies = runnable_studies(self.request.user)
        qs = AnalysisPlan.objects.filter(study__in=studies).order_by("study_id", "-version")
        study = self.request.query_params.get("study")
        return qs.filter(study_id=study) if study and study.isdigit() else qs


class PlanFreezeSerializer(serializers.ModelSerializer):
    plan_version = serializers.SerializerMethodField(help_text="The version frozen, once done.")

    class Meta:
        model = PlanFreezeJob
        fields = [
            "id",
            "study",
            "kind",
            "status",
            "progress",
            "progress_note",
            "created_at",
            "finished_at",
            "error",
            "plan",
            "plan_version",
        ]

    def get_plan_version(self, job: PlanFreezeJob) -> int | None:
        return job.plan.version if job.plan_id else None


class PlanFreezeRequestSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=PlanFreezeJob.Kind.choices,
        default=PlanFreezeJob.Kind.FREEZE,
        help_text="freeze: version 1; revise: a new version of a frozen plan (needs a reason).",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    # Left out: the plan's defaults (freeze) or the current version's values (revise).
    design = serializers.ChoiceField(choices=list(designs.DESIGNS), required=False)
    multiplicity = serializers.ChoiceField(choices=list(designs.MULTIPLICITY), required=False)
    inference = serializers.ChoiceField(choices=list(DEFAULT_METHODS), required=False)
    draws = serializers.IntegerField(min_value=0, max_value=99999, required=False)
    seed = serializers.IntegerField(required=False)
    honest = serializers.DictField(required=False)
    power = serializers.DictField(required=False)


class PlanFreezeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Freezing a study's analysis plan: request it, then follow its progress."""

    serializer_class = PlanFreezeSerializer

    def get_queryset(self):
        studies = runnable_studies(self.request.user)
        return (
            PlanFreezeJob.objects.filter(study__in=studies)
            .select_related("plan")
            .defer("content")
            .order_by("-pk")
        )

    @extend_schema(
        request=PlanFreezeRequestSerializer,
        responses={202: PlanFreezeSerializer, 400: None, 404: None, 409: None},
    )
    def create(self, request):
        ser = PlanFreezeRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        study = study_selectors.study_list(request.user).filter(pk=data.pop("study")).first()
        if study is None or not selectors.may_run_analyses(request.user, study):
            raise NotFound
        kind, reason = data.pop("kind"), data.pop("reason", "")
        try:
            if kind == PlanFreezeJob.Kind.REVISE:
                job = plan_services.analysis_plan_revise_request(
                    study=study, user=request.user, changes=data, reason=reason
                )
            else:
                job = plan_services.analysis_plan_freeze_request(
                    study=study, user=request.user, params=data
                )
        except DjangoPermissionDenied:
            return Response(
                {"detail": "Only the study's researchers and data managers freeze its plan."},
                status=status.HTTP_403_FORBIDDEN,
            )
        except plan_services.PlanFreezeActive as exc:
            return Response(
                {"detail": exc.messages[0], "active_freeze": exc.job.pk},
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) in ("frozen", "changed", "same"):
                return Response({"detail": exc.messages[0]}, status=status.HTTP_409_CONFLICT)
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            ) from None
        return Response(PlanFreezeSerializer(job).data, status=status.HTTP_202_ACCEPTED)
