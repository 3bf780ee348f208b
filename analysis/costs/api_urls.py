"""API routes of the cost model (mounted at /api/costs/)."""

from rest_framework.routers import SimpleRouter

from analysis.costs.api.views import CpiYearViewSet, PriceCatalogueViewSet

router = SimpleRouter()
router.register("catalogues", PriceCatalogueViewSet, basename="costs-catalogue")
router.register("cpi-years", CpiYearViewSet, basename="costs-cpi-year")

urlpatterns = router.urls
