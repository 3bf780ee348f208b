from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudyConfig(AppConfig):
    name = "study"
    verbose_name = _("Study data")

    def ready(self) -> None:
        from study.api import schema  # noqa: F401  (registers the API key's OpenAPI scheme)
