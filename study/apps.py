from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudyConfig(AppConfig):
    name = "study"
    verbose_name = _("Study data")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from study.api import schema  # noqa: F401  (registers the API key's OpenAPI scheme)
        from study.audit_guards import install_after_migrate

        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="audit-guards")

        from django.db.models.signals import post_delete, post_save

        from study.access_log import membership_changed
        from study.models import StudyMembership

        post_save.connect(membership_changed, sender=StudyMembership, dispatch_uid="membership-log")
        post_delete.connect(
            membership_changed, sender=StudyMembership, dispatch_uid="membership-log-delete"
        )

        from django.contrib.auth.signals import user_logged_in

        from tracker.language import remember_language_on_login

        # the language a user chose is read once, at login, into their session
        user_logged_in.connect(remember_language_on_login, dispatch_uid="user-language")

        from django.core.signals import request_finished

        from tracker.gcfreeze import freeze_once

        # the loaded code and templates out of the garbage collector's full collections
        request_finished.connect(freeze_once, dispatch_uid="gc-freeze")
