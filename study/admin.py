"""Django admin for the data manager: users, study set-up, and the audit history of every row."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from study import models


@admin.register(models.Study)
class StudyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "municipality", "start_date", "n_waves", "price_year")


@admin.register(models.StudyMembership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ("study", "user", "role", "active")
    list_filter = ("role", "active", "study")


@admin.register(models.Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
    list_display = ("code", "study", "level", "kind", "min_value", "max_value", "mpg_domain")
    list_filter = ("study", "level", "mpg_domain")


class SoftDeleteAdmin(SimpleHistoryAdmin):
    """No hard deletes from the admin: rows are soft-deleted with a reason through services."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Family)
class FamilyAdmin(SoftDeleteAdmin):
    list_display = ("pseudonym", "study", "arm", "wijk", "intake_date", "status", "is_deleted")
    list_filter = ("study", "arm__kind", "status", "is_deleted")
    # No search box: a pseudonym in ?q= would end up in the server's access logs.
    exclude = ("linkage_key",)


@admin.register(models.Wave)
class WaveAdmin(SoftDeleteAdmin):
    list_display = ("family", "index", "year", "status", "locked")
    list_filter = ("status", "locked")
    readonly_fields = ("locked", "locked_at", "locked_by")


@admin.register(models.CaseloadAssignment)
class CaseloadAdmin(SimpleHistoryAdmin):
    list_display = ("family", "coach", "start_date", "end_date")


@admin.register(models.Professional)
class ProfessionalAdmin(SoftDeleteAdmin):
    list_display = ("code", "study", "organisation", "approach")


@admin.register(models.AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "role", "action", "pseudonym", "row_count")
    list_filter = ("action",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(models.ImportBatch)


@admin.register(models.StudyDataPolicy)
class StudyDataPolicyAdmin(SimpleHistoryAdmin):
    """Per study: missing-data reasons on clearing, the soft limit, the withdrawal policy (until
    the study set-up pages offer them)."""

    list_display = ("study", "require_missing_reason", "soft_limit_percentile", "withdrawal")


@admin.register(models.QualityRule)
class QualityRuleAdmin(SimpleHistoryAdmin):
    """Data-quality rules as data: kind, indicator (empty: all), parameters, active."""

    list_display = ("study", "kind", "indicator", "params", "active")
    list_filter = ("study", "kind", "active")

    def has_delete_permission(self, request, obj=None):
        return False  # switch a rule off instead: its queries keep their rule
