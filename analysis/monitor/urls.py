"""URL routes of this app (pages)."""

from django.urls import path

from analysis.monitor import views

app_name = "monitor"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/publish/", views.report_publish, name="publish"),
    path("<int:pk>/print/", views.report_print, name="print"),
    path("<int:pk>/download/<str:fmt>/", views.report_download, name="download"),
]
