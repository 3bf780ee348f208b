"""Admin: stored monitor reports and monitor jobs, read-only (the monitor writes them, never a
person)."""

from django.contrib import admin

from analysis.monitor.models import MonitorJob, MonitorReport


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MonitorReport)
class MonitorReportAdmin(ReadOnly):
    list_display = ["municipality", "year", "created_at", "published_at", "source_name"]
    list_filter = ["year", "municipality"]
    search_fields = ["municipality", "source_name"]
    readonly_fields = [f.name for f in MonitorReport._meta.fields]


@admin.register(MonitorJob)
class MonitorJobAdmin(ReadOnly):
    list_display = ["id", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in MonitorJob._meta.fields]
