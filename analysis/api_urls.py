"""API routes of the analysis app (mounted at /api/)."""

from rest_framework.routers import SimpleRouter

from analysis.plans.api import PlanFreezeViewSet, PlanViewSet
from analysis.runs.api import ReportViewSet, RunViewSet

router = SimpleRouter()
router.register("analysis-runs", RunViewSet, basename="analysis-run")
router.register("reports", ReportViewSet, basename="report")
router.register("analysis-plans", PlanViewSet, basename="analysis-plan")
router.register("plan-freezes", PlanFreezeViewSet, basename="plan-freeze")

urlpatterns = router.urls
