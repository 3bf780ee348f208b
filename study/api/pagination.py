"""API pagination: limit/offset with upper bounds, so that a huge `limit` is cut to
API_MAX_LIMIT and a huge `offset` to an empty page, instead of a server error."""

from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination

#: Beyond any table here, and within every database's integer range.
MAX_OFFSET = 2**31 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    @property
    def max_limit(self) -> int:  # type: ignore[override]
        return settings.API_MAX_LIMIT

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
