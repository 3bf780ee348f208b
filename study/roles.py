"""The four roles of the app and how to ask which one a user has.

Roles are Django groups; per-study membership (StudyMembership) narrows what a researcher,
gemeente user or wijkcoach sees. A superuser counts as data manager.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESEARCHER = "researcher", _("Researcher")
    WIJKCOACH = "wijkcoach", _("Wijkcoach")
    GEMEENTE = "gemeente", _("Municipality")
    DATA_MANAGER = "datamanager", _("Data manager")


def user_roles(user) -> set[str]:
    """The role names of a user (empty for anonymous users)."""
    if user is None or not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) & set(Role.values)
        if user.is_superuser:
            cached.add(Role.DATA_MANAGER)
        user._role_cache = cached
    return cached


def has_role(user, role: str) -> bool:
    return role in user_roles(user)


def is_data_manager(user) -> bool:
    return has_role(user, Role.DATA_MANAGER)


def is_researcher(user) -> bool:
    return has_role(user, Role.RESEARCHER)


def is_wijkcoach(user) -> bool:
    return has_role(user, Role.WIJKCOACH)


def is_gemeente(user) -> bool:
    return has_role(user, Role.GEMEENTE)
