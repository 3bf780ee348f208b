"""API routes of the instruments app (mounted at /api/)."""

from rest_framework.routers import DefaultRouter

from instruments import api

router = DefaultRouter()
router.register("instrument-versions", api.InstrumentVersionViewSet, basename="instrument-version")
router.register("administrations", api.AdministrationViewSet, basename="administration")

urlpatterns = router.urls
