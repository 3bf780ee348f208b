"""API routes of the study app (mounted at /api/)."""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from study.api import views

router = DefaultRouter()
router.register("studies", views.StudyViewSet, basename="study")
router.register("families", views.FamilyViewSet, basename="family")
router.register("waves", views.WaveViewSet, basename="wave")
router.register("indicator-values", views.IndicatorValueViewSet, basename="indicator-value")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("care-involvements", views.CareInvolvementViewSet, basename="care-involvement")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    *router.urls,
]
