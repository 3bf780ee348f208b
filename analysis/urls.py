"""Pages of the analysis app (mounted at /analysis/)."""

from django.urls import path

from analysis.plans import plan_views, question_views, schedule_views
from analysis.runs import views

app_name = "analysis"

urlpatterns = [
    path("studies/<int:study_id>/", views.study_analyses, name="study"),
    path("studies/<int:study_id>/run/", views.run_start, name="run_start"),
    path("studies/<int:study_id>/questions/", question_views.question_list, name="questions"),
    path(
        "studies/<int:study_id>/questions/seed/",
        question_views.questions_seed,
        name="questions_seed",
    ),
    path(
        "studies/<int:study_id>/questions/new/", question_views.question_edit, name="question_new"
    ),
    path(
        "studies/<int:study_id>/questions/<int:question_id>/",
        question_views.question_edit,
        name="question_edit",
    ),
    path("studies/<int:study_id>/plan/", plan_views.plan_detail, name="plan"),
    path("studies/<int:study_id>/plan/freeze/", plan_views.plan_freeze, name="plan_freeze"),
    path("studies/<int:study_id>/plan/revise/", plan_views.plan_revise, name="plan_revise"),
    path(
        "plan-freezes/<int:job_id>/status/",
        plan_views.plan_freeze_status,
        name="plan_freeze_status",
    ),
    path("studies/<int:study_id>/schedules/", schedule_views.schedule_add, name="schedule_add"),
    path(
        "studies/<int:study_id>/schedules/<int:schedule_id>/stop/",
        schedule_views.schedule_stop,
        name="schedule_stop",
    ),
    path("runs/<int:run_id>/status/", views.run_status, name="run_status"),
    path("reports/<int:report_id>/", views.report_detail, name="report"),
    path("reports/<int:report_id>/pdf/", views.report_pdf, name="report_pdf"),
    path("reports/<int:report_id>/pdf/status/", views.report_pdf_status, name="report_pdf_status"),
    path("reports/<int:report_id>/typeset/", views.report_typeset, name="report_typeset"),
    path("reports/<int:report_id>/publish/", views.report_publish, name="report_publish"),
    path("reports/<int:report_id>/withdraw/", views.report_withdraw, name="report_withdraw"),
]
