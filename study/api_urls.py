"""API routes of the study app (mounted at /api/)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from study.api import auth, imports, matching, setup, views

router = DefaultRouter()
router.register("studies", setup.StudyViewSet, basename="study")
router.register("families", setup.FamilyViewSet, basename="family")
router.register("waves", views.WaveViewSet, basename="wave")
router.register("indicator-values", views.IndicatorValueViewSet, basename="indicator-value")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("care-involvements", views.CareInvolvementViewSet, basename="care-involvement")
router.register("members", views.MemberViewSet, basename="member")
router.register("wave-surveys", views.WaveSurveyViewSet, basename="wave-survey")
router.register("professionals", setup.ProfessionalViewSet, basename="professional")
router.register("memberships", setup.MembershipViewSet, basename="membership")
router.register("caseloads", setup.CaseloadViewSet, basename="caseload")
router.register(
    "professional-surveys", views.ProfessionalSurveyViewSet, basename="professional-survey"
)

router.register("imports", imports.ImportBatchViewSet, basename="import-batch")
router.register(
    "matching-candidates", matching.MatchingCandidateViewSet, basename="matching-candidate"
)

urlpatterns = [
    path("auth/token/", auth.TokenView.as_view(), name="api-token"),
    path("auth/token/revoke/", auth.TokenRevokeView.as_view(), name="api-token-revoke"),
    *router.urls,
]
