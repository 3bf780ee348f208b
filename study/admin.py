"""Django admin for what it is good at: looking things up. The study's audited models are
read-only here (their change history included) and nothing is ever hard-deleted; every write goes
through the services and their pages (set-up, members, caseloads, status, professionals).
The concealed allocation state (`AllocationStratum`) is not registered at all: the admin must not
show the sequence before enrolment."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from study import models
from study.access_log import family_ids_of, family_read

admin.site.site_header = _("Effect study tracker: administration")
admin.site.site_title = _("Effect study tracker")
admin.site.index_title = _("Look-up (changes go through the study pages)")
admin.site.disable_action("delete_selected")  # no bulk hard delete on any model


class FamilyReadLogging:
    """Admin pages of family-level rows log their reads like every other page (NEN 7513): the
    list logs the families on the page shown, a row (or its history) its family."""

    family_lookup = ""  # "pk" for families themselves, "family_id" for rows of a family
    model: type

    def _family_ids(self, objects) -> list[int]:
        return family_ids_of(self.model, objects, self.family_lookup)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
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
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]


class ReadOnlyAdmin(FamilyReadLogging, SimpleHistoryAdmin):
    """Lists, details and the change history; no adding, changing, reverting or deleting."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def revert_url(self, *args, **kwargs):  # no "revert to this version" from the history
        return None

    def history_view(self, request, object_id, extra_context=None):
        self._log_object(request, object_id, "history")
        return super().history_view(request, object_id, extra_context)


@admin.register(models.Study)
class StudyAdmin(ReadOnlyAdmin):
    list_display = ("name", "municipality", "municipality_code", "start_date", "allocation_method")


@admin.register(models.Arm)
class ArmAdmin(ReadOnlyAdmin):
    list_display = ("study", "kind", "name")


@admin.register(models.StudyMembership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("study", "user", "role", "active")
    list_filter = ("role", "active", "study")


@admin.register(models.Indicator)
class IndicatorAdmin(ReadOnlyAdmin):
    list_display = ("code", "study", "level", "kind", "min_value", "max_value", "mpg_domain")
    list_filter = ("study", "level", "mpg_domain")


@admin.register(models.Family)
class FamilyAdmin(ReadOnlyAdmin):
    family_lookup = "pk"
    list_display = ("pseudonym", "study", "arm", "wijk", "intake_date", "status", "is_deleted")
    list_filter = ("study", "status", "is_deleted")
    # No search box: a pseudonym in ?q= would end up in the server's access logs.
    exclude = ("linkage_key",)


@admin.register(models.Wave)
class WaveAdmin(ReadOnlyAdmin):
    family_lookup = "family_id"
    list_display = ("family", "index", "year", "status", "locked")
    list_filter = ("status", "locked")


@admin.register(models.IndicatorValue)
class IndicatorValueAdmin(ReadOnlyAdmin):
    family_lookup = "wave__family_id"
    list_display = ("wave", "indicator", "value", "missing_code", "source", "is_deleted")


@admin.register(models.CaseloadAssignment)
class CaseloadAdmin(ReadOnlyAdmin):
    family_lookup = "family_id"
    list_display = ("family", "coach", "start_date", "end_date")


@admin.register(models.NotesGrant)
class NotesGrantAdmin(ReadOnlyAdmin):
    family_lookup = "family_id"
    list_display = ("family", "coach", "granted_by", "granted_at")


@admin.register(models.Professional)
class ProfessionalAdmin(ReadOnlyAdmin):
    list_display = ("code", "study", "organisation", "approach", "active")


@admin.register(models.ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.AllocationRecord)
class AllocationRecordAdmin(FamilyReadLogging, admin.ModelAdmin):
    """The allocation log: what was revealed at enrolment (never the sequence to come)."""

    family_lookup = "family_id"

    list_display = ("study", "family", "stratum", "sequence_number", "arm_kind", "allocated_at")
    # The block and its size are concealed while the block is open (the size says how many
    # allocations remain): the admin never shows them.
    exclude = ("block_number", "block_size")
    list_filter = ("study",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class MembershipInline(admin.TabularInline):
    """A person's roles, per study (the role in the catalogue's words): what grants access."""

    model = models.StudyMembership
    fk_name = "user"
    fields = ("study", "role", "active")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("role in a study")
    verbose_name_plural = _("roles per study")

    def has_add_permission(self, request, obj=None):
        return False  # roles are granted on the study's members page (audited)


class NoDeleteUserAdmin(UserAdmin):
    """Accounts are deactivated, never deleted (their memberships and history stay). Roles are
    shown per study; the global groups (English role codes) grant nothing since
    study/migrations/0011 and are neither shown nor offered."""

    inlines = (MembershipInline,)
    list_filter = ("is_staff", "is_superuser", "is_active")
    fieldsets = tuple(
        (name, {**options, "fields": tuple(f for f in options["fields"] if f != "groups")})
        for name, options in UserAdmin.fieldsets or ()
    )

    def has_delete_permission(self, request, obj=None):
        return False


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, NoDeleteUserAdmin)
if admin.site.is_registered(Group):
    admin.site.unregister(Group)  # the legacy groups grant nothing (roles are per study)


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
