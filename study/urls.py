"""Pages of the study app."""

from django.urls import path

from study import views, views_entry, views_import

app_name = "study"

urlpatterns = [
    path("", views.home, name="home"),
    path("studies/<int:study_id>/", views.study_detail, name="study_detail"),
    path("studies/<int:study_id>/enrol/", views_entry.family_enrol, name="family_enrol"),
    path("families/<int:family_id>/", views.family_detail, name="family_detail"),
    path("families/<int:family_id>/audit/", views.family_audit, name="family_audit"),
    path("families/<int:family_id>/contacts/new/", views_entry.contact_new, name="contact_new"),
    path("families/<int:family_id>/care-workers/", views_entry.care_workers, name="care_workers"),
    path(
        "involvements/<int:involvement_id>/end/",
        views_entry.care_involvement_end,
        name="care_involvement_end",
    ),
    path("waves/<int:wave_id>/entry/", views_entry.wave_entry, name="wave_entry"),
    path("waves/<int:wave_id>/complete/", views_entry.wave_complete, name="wave_complete"),
    path("waves/<int:wave_id>/missed/", views_entry.wave_missed, name="wave_missed"),
    path("waves/<int:wave_id>/lock/", views_entry.wave_lock, name="wave_lock"),
    path("waves/<int:wave_id>/unlock/", views_entry.wave_unlock, name="wave_unlock"),
    path("caseload/", views.caseload, name="caseload"),
    path("studies/<int:study_id>/export/<str:fmt>/", views.study_export, name="study_export"),
    path("studies/<int:study_id>/codebook/", views.study_codebook, name="study_codebook"),
    path("studies/<int:study_id>/imports/", views_import.import_list, name="import_list"),
    path(
        "studies/<int:study_id>/imports/template.csv",
        views_import.import_template,
        name="import_template",
    ),
    path("imports/<int:batch_id>/", views_import.import_detail, name="import_detail"),
    path("imports/<int:batch_id>/status/", views_import.import_status, name="import_status"),
    path("imports/<int:batch_id>/apply/", views_import.import_apply, name="import_apply"),
    path(
        "imports/<int:batch_id>/problems.csv", views_import.import_errors_csv, name="import_errors"
    ),
    path("due/", views_entry.waves_due, name="waves_due"),
    path("survey/", views_entry.professional_survey, name="professional_survey"),
]
