"""Template context: the user's roles, so navigation shows only what a role can use."""

from functools import cache

from django.utils.functional import SimpleLazyObject

from study import access
from study.roles import Role


def roles(request) -> dict:
    user = getattr(request, "user", None)
    held = cache(lambda: frozenset(access.roles_held(user)))  # one query, only when shown
    return {
        "is_researcher": SimpleLazyObject(
            lambda: bool(held() & {Role.RESEARCHER, Role.DATA_MANAGER})
        ),
        "is_coach": SimpleLazyObject(lambda: Role.WIJKCOACH in held()),
        "is_gemeente_only": SimpleLazyObject(lambda: held() == {Role.GEMEENTE}),
    }
