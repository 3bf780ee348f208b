"""API routes of the study app (mounted at /api/)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from study.api import auth, imports, views

router = DefaultRouter()
router.register("studies", views.StudyViewSet, basename="study")
router.register("families", views.FamilyViewSet, basename="family")
router.register("waves", views.WaveViewSet, basename="wave")
router.register("indicator-values", views.IndicatorValueViewSet, basename="indicator-value")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("care-involvements", views.CareInvolvementViewSet, basename="care-involvement")
router.register("members", views.MemberViewSet, basename="member")
router.register("wave-surveys", views.WaveSurveyViewSet, basename="wave-survey")
router.register("professionals", views.ProfessionalViewSet, basename="professional")
router.register(
    "professional-surveys", views.ProfessionalSurveyViewSet, basename="professional-survey"
)

router.register("imports", imports.ImportBatchViewSet, basename="import-batch")

urlpatterns = [
    path("auth/token/", auth.TokenView.as_view(), name="api-token"),
    path("auth/token/revoke/", auth.TokenRevokeView.as_view(), name="api-token-revoke"),
    *router.urls,
]
