"""API routes of the analysis app (mounted at /api/)."""

from rest_framework.routers import SimpleRouter

from analysis import api

router = SimpleRouter()
router.register("analysis-runs", api.RunViewSet, basename="analysis-run")
router.register("reports", api.ReportViewSet, basename="report")
router.register("analysis-plans", api.PlanViewSet, basename="analysis-plan")

urlpatterns = router.urls
