"""Instrument pages."""

from django.urls import path

from instruments import views

app_name = "instruments"

urlpatterns = [
    path("waves/<int:wave_id>/", views.wave_instruments, name="wave_instruments"),
    path("waves/<int:wave_id>/<int:version_id>/", views.entry, name="entry"),
    path(
        "waves/<int:wave_id>/<int:version_id>/respondent/",
        views.respondent_start,
        name="respondent_start",
    ),
    path("administrations/<int:administration_id>/", views.administration, name="administration"),
    path("respondent/", views.respondent, name="respondent"),
    path("respondent/exit/", views.respondent_exit, name="respondent_exit"),
    path("studies/<int:study_id>/", views.study_versions, name="versions"),
    path("studies/<int:study_id>/codebook/", views.study_codebook, name="codebook"),
    path("studies/<int:study_id>/export/<str:fmt>/", views.study_export, name="export"),
]
