"""Pages of the analysis app (mounted at /analysis/)."""

from django.urls import path

from analysis import views

app_name = "analysis"

urlpatterns = [
    path("studies/<int:study_id>/", views.study_analyses, name="study"),
    path("studies/<int:study_id>/run/", views.run_start, name="run_start"),
    path("runs/<int:run_id>/status/", views.run_status, name="run_status"),
    path("reports/<int:report_id>/", views.report_detail, name="report"),
    path("reports/<int:report_id>/pdf/", views.report_pdf, name="report_pdf"),
    path("reports/<int:report_id>/publish/", views.report_publish, name="report_publish"),
]
