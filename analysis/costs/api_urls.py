"""API routes of the cost model (mounted at /api/costs/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from analysis.costs.api.views import BaselineView, CpiYearViewSet, PriceCatalogueViewSet

router = SimpleRouter()
router.register("catalogues", PriceCatalogueViewSet, basename="costs-catalogue")
router.register("cpi-years", CpiYearViewSet, basename="costs-cpi-year")

urlpatterns = [
    path("baseline/", BaselineView.as_view(), name="costs-baseline"),
    *router.urls,
]
