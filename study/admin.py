"""Django admin for the data manager: users, study set-up, and the audit history of every row."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from study import models
from study.access_log import family_read


class FamilyReadAdmin(SimpleHistoryAdmin):
    """Admin pages of family-level rows log their reads like every other page (NEN 7513): the
    list logs the families on the page shown, a row (or its history) its family."""

    family_lookup = "family_id"

    def _family_ids(self, objects) -> list[int]:
        pks = [o.pk for o in objects]
        if self.family_lookup == "pk":
            return pks
        rows = self.model._base_manager.filter(pk__in=pks).values_list(
            self.family_lookup, flat=True
        )
        return sorted(set(rows))

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None and self.family_lookup:
            objects = list(changelist.result_list)
            family_read(
                request,
                action=f"admin.{self.model._meta.model_name}.list",
                families=self._family_ids(objects),
                row_count=len(objects),
                scope=request.META.get("QUERY_STRING", ""),
            )
        return response

    def _log_object(self, request, object_id, what: str) -> None:
        if not self.family_lookup or not str(object_id).isdigit():
            return
        obj = self.model._base_manager.filter(pk=object_id).first()
        if obj is not None:
            family_read(
                request,
                action=f"admin.{self.model._meta.model_name}.{what}",
                families=self._family_ids([obj]),
                scope=f"id={obj.pk}",
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._log_object(request, object_id, "view")
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._log_object(request, object_id, "history")
        return super().history_view(request, object_id, extra_context)


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


class SoftDeleteAdmin(FamilyReadAdmin):
    """No hard deletes from the admin: rows are soft-deleted with a reason through services."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Family)
class FamilyAdmin(SoftDeleteAdmin):
    family_lookup = "pk"
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
class CaseloadAdmin(FamilyReadAdmin):
    list_display = ("family", "coach", "start_date", "end_date")


@admin.register(models.Professional)
class ProfessionalAdmin(SoftDeleteAdmin):
    family_lookup = ""  # professionals are not family data
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
