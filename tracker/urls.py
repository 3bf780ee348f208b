"""Root URL configuration: pages per app, the API under /api/, admin, auth and i18n."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tracker import twofactor

api_patterns = [
    path("", include("study.api_urls")),
    path("", include("analysis.api_urls")),
    path("costs/", include("analysis.costs.api_urls")),
    path("monitor/", include("analysis.monitor.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/2fa/", twofactor.verify, name="two_factor"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include(api_patterns)),
    path("analysis/", include("analysis.urls")),
    path("costs/", include("analysis.costs.urls")),
    path("monitor/", include("analysis.monitor.urls")),
    path("", include("study.urls")),
]

# Under /api/ an unknown address or a server error answers in JSON; pages keep Django's.
handler404 = "study.api.errors.not_found"
handler500 = "study.api.errors.server_error"
