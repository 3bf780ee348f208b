"""Template context: the user's roles, so navigation shows only what a role can use."""

from study.roles import Role, user_roles


def roles(request) -> dict:
    held = user_roles(getattr(request, "user", None))
    return {
        "is_researcher": Role.RESEARCHER in held or Role.DATA_MANAGER in held,
        "is_coach": Role.WIJKCOACH in held,
        "is_gemeente_only": held == {Role.GEMEENTE},
    }
