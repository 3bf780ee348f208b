"""Pages of the study app."""

from django.urls import path

from study.views import (
    access_log,
    accounts,
    care_catalogue,
    coach,
    corrections,
    families,
    imports,
    professionals,
    quality,
    setup,
    studies,
    waves,
)

app_name = "study"

urlpatterns = [
    path("", studies.home, name="home"),
    path("studies/<int:study_id>/", studies.study_detail, name="study_detail"),
    path("studies/<int:study_id>/enrol/", families.family_enrol, name="family_enrol"),
    path("studies/<int:study_id>/audit/", studies.study_audit, name="study_audit"),
    path("studies/<int:study_id>/records/", studies.record_status, name="record_status"),
    path("studies/<int:study_id>/queries/", quality.query_list, name="query_list"),
    path("queries/<int:query_id>/", quality.query_detail, name="query_detail"),
    path(
        "studies/<int:study_id>/care-catalogue/",
        care_catalogue.care_catalogue_page,
        name="care_catalogue",
    ),
    path("families/<int:family_id>/", families.family_detail, name="family_detail"),
    path("families/<int:family_id>/audit/", families.family_audit, name="family_audit"),
    path("families/<int:family_id>/remove/", corrections.family_remove, name="family_remove"),
    path("contacts/<int:contact_id>/correct/", corrections.contact_correct, name="contact_correct"),
    path(
        "care-involvements/<int:involvement_id>/correct/",
        corrections.care_involvement_correct,
        name="care_involvement_correct",
    ),
    path("families/<int:family_id>/contacts/new/", coach.contact_new, name="contact_new"),
    path("families/<int:family_id>/care-workers/", coach.care_workers, name="care_workers"),
    path(
        "involvements/<int:involvement_id>/end/",
        coach.care_involvement_end,
        name="care_involvement_end",
    ),
    path("waves/<int:wave_id>/entry/", waves.wave_entry, name="wave_entry"),
    path("waves/<int:wave_id>/complete/", waves.wave_complete, name="wave_complete"),
    path("waves/<int:wave_id>/missed/", waves.wave_missed, name="wave_missed"),
    path("waves/<int:wave_id>/lock/", waves.wave_lock, name="wave_lock"),
    path("waves/<int:wave_id>/unlock/", waves.wave_unlock, name="wave_unlock"),
    path("caseload/", coach.caseload, name="caseload"),
    path("studies/<int:study_id>/export/<str:fmt>/", studies.study_export, name="study_export"),
    path("studies/<int:study_id>/codebook/", studies.study_codebook, name="study_codebook"),
    path("studies/<int:study_id>/imports/", imports.import_list, name="import_list"),
    path(
        "studies/<int:study_id>/imports/template.csv",
        imports.import_template,
        name="import_template",
    ),
    path("imports/<int:batch_id>/", imports.import_detail, name="import_detail"),
    path("imports/<int:batch_id>/status/", imports.import_status, name="import_status"),
    path("imports/<int:batch_id>/apply/", imports.import_apply, name="import_apply"),
    path("imports/<int:batch_id>/problems.csv", imports.import_errors_csv, name="import_errors"),
    path(
        "studies/<int:study_id>/enrolment-links/",
        accounts.enrolment_links,
        name="enrolment_links",
    ),
    path("studies/<int:study_id>/api-keys/", accounts.api_key_list, name="api_keys"),
    path(
        "studies/<int:study_id>/api-keys/<int:key_id>/revoke/",
        accounts.api_key_revoke,
        name="api_key_revoke",
    ),
    path("studies/<int:study_id>/access-log/", access_log.access_log, name="access_log"),
    path("studies/<int:study_id>/set-up/", setup.study_edit, name="study_edit"),
    path("studies/<int:study_id>/members/", setup.study_members, name="study_members"),
    path(
        "studies/<int:study_id>/members/<int:membership_id>/",
        setup.membership_change,
        name="membership_change",
    ),
    path("studies/<int:study_id>/caseloads/", setup.caseloads, name="caseloads"),
    path(
        "studies/<int:study_id>/professionals/",
        setup.study_professionals,
        name="study_professionals",
    ),
    path(
        "studies/<int:study_id>/professionals/<int:professional_id>/deactivate/",
        setup.professional_deactivate,
        name="professional_deactivate",
    ),
    path("families/<int:family_id>/status/", setup.family_status, name="family_status"),
    path("due/", waves.waves_due, name="waves_due"),
    path("survey/", professionals.professional_survey, name="professional_survey"),
]
