"""OpenAPI descriptions of our own authentication (drf-spectacular extensions; loaded when the
app is ready). Token and session already have drf-spectacular's own."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "study.api.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A service account's per-study API key, sent as `Api-Key <key>`; issued by a "
                "data manager of the study (shown once), limited to its scopes, expiring and "
                "revocable; every use is logged."
            ),
        }


class SessionSchemeForSubclasses(OpenApiAuthenticationExtension):
    """The browser session (our subclasses: after the second factor, where the role needs
    one)."""

    target_class = "rest_framework.authentication.SessionAuthentication"
    match_subclasses = True
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class LoginSessionScheme(SessionSchemeForSubclasses):
    """The token endpoint's view of the session (a verified one may ask for a token)."""

    target_class = "study.api.authentication.LoginSessionAuthentication"
    match_subclasses = False
    name = "verifiedSessionForToken"
    priority = 1
