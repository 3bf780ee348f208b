"""API routes of this app."""

from django.urls import path

from analysis.monitor.api import MonitorRunView

app_name = "monitor_api"

urlpatterns = [
    path("run/", MonitorRunView.as_view(), name="run"),
]
