"""Admin: stored monitor reports, read-only (they are written by the monitor, never by hand)."""

from django.contrib import admin

from analysis.monitor.models import MonitorReport


@admin.register(MonitorReport)
class MonitorReportAdmin(admin.ModelAdmin):
    list_display = ["municipality", "year", "created_at", "published_at", "source_name"]
    list_filter = ["year", "municipality"]
    search_fields = ["municipality", "source_name"]
    readonly_fields = [f.name for f in MonitorReport._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
