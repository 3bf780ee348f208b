"""URL routes of this app (pages)."""

urlpatterns: list = []
