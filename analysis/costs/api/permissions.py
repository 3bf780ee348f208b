"""API permissions of the cost model: authenticated users read, data managers write."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from study import access


class ReadOrDataManagerWrite(BasePermission):
    """Any authenticated user may read; only a data manager (or superuser) may write."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or access.may_manage_reference_data(user)
