"""URL routes of the cost model's pages (mounted at /costs/)."""

from django.urls import path

from analysis.costs import views

app_name = "costs"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("families/<int:family_id>/", views.family_costs, name="family"),
]
