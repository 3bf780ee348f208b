"""API routes of this app."""

from django.urls import path

from analysis.monitor.api import (
    MonitorJobDetailView,
    MonitorReportDetailView,
    MonitorReportListView,
    MonitorReportPublishView,
    MonitorRunView,
)

app_name = "monitor_api"

urlpatterns = [
    path("run/", MonitorRunView.as_view(), name="run"),
    path("jobs/<int:pk>/", MonitorJobDetailView.as_view(), name="job"),
    path("reports/", MonitorReportListView.as_view(), name="reports"),
    path("reports/<int:pk>/", MonitorReportDetailView.as_view(), name="report"),
    path("reports/<int:pk>/publish/", MonitorReportPublishView.as_view(), name="publish"),
]
