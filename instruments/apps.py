from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstrumentsConfig(AppConfig):
    name = "instruments"
    verbose_name = _("Instruments")
    default_auto_field = "django.db.models.BigAutoField"

    def warm_up(self) -> None:
        """Read the shipped definitions once per web process, before a request needs them
        (tracker.gcfreeze.warm_up; 7 files, ~150 ms)."""
        from instruments.library import shipped

        shipped()
