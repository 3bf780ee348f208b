"""API of analysis plans: the frozen versions, read-only (researchers and data managers)."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from analysis.models import AnalysisPlan
from analysis.runs.selectors import runnable_studies


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
