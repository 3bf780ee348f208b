"""A person's interface language: stored when they switch it in the header, read for their pages
and for the e-mails sent to them (invitations, password reset, report reminders)."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.utils import translation

from study.models import UserProfile


def _known(language: str) -> bool:
    return language in dict(settings.LANGUAGES)


@transaction.atomic
def user_language_set(*, user, language: str) -> UserProfile:
    """Remember `language` (one of settings.LANGUAGES) as the user's own choice."""
    if not _known(language):
        raise ValueError(f"unknown language {language!r}")
    profile, _created = UserProfile.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return profile


def user_language(user) -> str:
    """The language the user chose, or "" when they never did."""
    if user is None or not getattr(user, "pk", None):
        return ""
    language = (
        UserProfile.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    )
    return language if language and _known(language) else ""


def language_for(user) -> str:
    """The language to write to the user in: their choice, else the site's default (Dutch)."""
    return user_language(user) or settings.LANGUAGE_CODE


@contextmanager
def in_language_of(user):
    """Translate what is built inside (an e-mail's subject and body) for `user`."""
    with translation.override(language_for(user)):
        yield
