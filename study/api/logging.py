"""The API's side of read logging (NEN 7513): one mixin for every viewset of family-level data.

`FamilyReadLogged` writes one access event per successful GET (list or detail) with the ids of
the families whose rows the response holds (one query over the page's primary keys, however
long the page), and one event per refused GET of a detail (404/403: out of scope or unknown),
so probing for other studies' ids leaves a trace. The viewset names how its rows reach a family
(`family_lookup`, an ORM path: "pk" for families, "family_id", "wave__family_id", ...).
"""

from __future__ import annotations

from django.http import Http404
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied

from study.access_log import family_ids_of, family_read


class FamilyReadLogged:
    family_lookup = "family_id"
    read_action = ""  # default: "api.<basename>"

    def _read_action(self) -> str:
        return self.read_action or f"api.{getattr(self, 'basename', 'read')}"

    def _scope(self, request) -> str:
        return request.META.get("QUERY_STRING", "")

    def _family_ids_of(self, objects) -> list[int]:
        model = self.get_queryset().model  # type: ignore[attr-defined]
        return family_ids_of(model, objects, self.family_lookup)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)  # type: ignore[misc]
        self._read_objects = list(page) if page is not None else None
        return self._read_objects

    def list(self, request, *args, **kwargs):
        self._read_objects = None
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        objects = self._read_objects
        if objects is None:  # not paginated: the whole filtered queryset
            objects = list(self.filter_queryset(self.get_queryset()))  # type: ignore[attr-defined]
        family_read(
            request,
            action=f"{self._read_action()}.list",
            families=self._family_ids_of(objects),
            row_count=len(objects),
            scope=self._scope(request),
        )
        return response

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()  # type: ignore[attr-defined]
        family_read(
            request,
            action=f"{self._read_action()}.retrieve",
            families=self._family_ids_of([instance]),
            row_count=1,
            scope=f"id={instance.pk}",
        )
        serializer = self.get_serializer(instance)  # type: ignore[attr-defined]
        from rest_framework.response import Response

        return Response(serializer.data)

    def handle_exception(self, exc):
        request = getattr(self, "request", None)
        refused = isinstance(exc, Http404 | NotFound | PermissionDenied) and not isinstance(
            exc, NotAuthenticated
        )
        user = getattr(request, "user", None)
        if (
            refused
            and request is not None
            and request.method == "GET"
            and getattr(user, "is_authenticated", False)
        ):
            lookup = getattr(self, "kwargs", {}).get("pk", "")
            family_read(
                request,
                action=f"{self._read_action()}.refused",
                row_count=0,
                scope=f"id={lookup}" if lookup else self._scope(request),
            )
        return super().handle_exception(exc)  # type: ignore[misc]
