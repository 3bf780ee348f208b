"""Pages of the study app."""

from django.urls import path

from study import views

app_name = "study"

urlpatterns = [
    path("", views.home, name="home"),
    path("studies/<int:study_id>/", views.study_detail, name="study_detail"),
    path("families/<int:family_id>/", views.family_detail, name="family_detail"),
    path("families/<int:family_id>/audit/", views.family_audit, name="family_audit"),
    path("caseload/", views.caseload, name="caseload"),
]
