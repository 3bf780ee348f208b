"""Root URL configuration: pages per app, the API under /api/, admin, accounts and i18n."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from tracker import language, password_views, setup_api, setup_views, twofactor_views

api_patterns = [
    path(
        "study-set-up/",
        setup_api.StudySetUpViewSet.as_view({"post": "create"}),
        name="api-study-set-up",
    ),
    path("", include("study.api_urls")),
    path("", include("analysis.api_urls")),
    path("", include("instruments.api_urls")),
    path("costs/", include("analysis.costs.api_urls")),
    path("monitor/", include("analysis.monitor.api_urls")),
    # The schema and the docs are for signed-in users; the docs' scripts come from our own
    # origin (drf-spectacular-sidecar) and from a separate URL (no inline script under the CSP).
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "redoc/",
        login_required(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
]

account_patterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("2fa/", twofactor_views.verify, name="two_factor"),
    path("2fa/enrol/<str:secret>/", twofactor_views.enrol, name="two_factor_enrol"),
    path("2fa/recovery/", twofactor_views.recovery_codes, name="two_factor_recovery"),
    path("2fa/new/", twofactor_views.new_authenticator, name="two_factor_new"),
    path(
        "password_change/",
        password_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password_reset/", password_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        password_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_patterns)),
    # Django's set_language, remembered per user (tracker/language.py)
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("api/", include(api_patterns)),
    path("analysis/", include("analysis.urls")),
    path("costs/", include("analysis.costs.urls")),
    path("monitor/", include("analysis.monitor.urls")),
    path("instruments/", include("instruments.urls")),
    path("studies/new/", setup_views.study_new, name="study_new"),
    path("", include("study.urls")),
]

# Under /api/ an unknown address or a server error answers in JSON; pages keep Django's.
handler404 = "study.api.errors.not_found"
handler500 = "study.api.errors.server_error"
