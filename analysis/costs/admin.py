"""Admin for the data manager: catalogue versions (read-only), prices (a change is a new
version), the CPI series and the sensitivity scenarios."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analysis.costs import services
from analysis.costs.models import CpiYear, PriceCatalogue, PriceItem, SensitivityScenario
from study.access import may_manage_reference_data


class DataManagerOnly:
    """Admin pages of the cost model open only to data managers (and superusers)."""

    def has_module_permission(self, request):
        return may_manage_reference_data(request.user)

    def has_view_permission(self, request, obj=None):
        return may_manage_reference_data(request.user)

    def has_add_permission(self, request):
        return may_manage_reference_data(request.user)

    def has_change_permission(self, request, obj=None):
        return may_manage_reference_data(request.user)

    def has_delete_permission(self, request, obj=None):
        return may_manage_reference_data(request.user)


class PriceItemInline(admin.TabularInline):
    model = PriceItem
    extra = 0
    can_delete = False
    fields = (
        "code",
        "unit",
        "reference_year",
        "price_at_reference_year",
        "index_factor_to_base",
        "price_base_year",
    )
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PriceCatalogue)
class PriceCatalogueAdmin(DataManagerOnly, admin.ModelAdmin):
    list_display = (
        "version",
        "name",
        "base_year",
        "created_at",
        "created_by",
        "parent",
        "published",
    )
    readonly_fields = (
        "version",
        "name",
        "base_year",
        "created_at",
        "created_by",
        "note",
        "parent",
        "published",
    )
    inlines = [PriceItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PriceItemForm(forms.ModelForm):
    revision_note = forms.CharField(
        label=gettext_lazy("Why this change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Saving makes a new catalogue version; this note goes with it."),
    )

    class Meta:
        model = PriceItem
        fields = (
            "description",
            "unit",
            "reference_year",
            "price_at_reference_year",
            "index_factor_to_base",
            "source_note",
        )


@admin.register(PriceItem)
class PriceItemAdmin(DataManagerOnly, admin.ModelAdmin):
    """Editing a price saves nothing in place: it makes a new catalogue version."""

    form = PriceItemForm
    list_display = (
        "code",
        "catalogue",
        "unit",
        "reference_year",
        "price_at_reference_year",
        "index_factor_to_base",
        "price_base_year",
    )
    list_filter = ("catalogue", "domain", "unit")
    search_fields = ("code", "description")
    readonly_fields = ("catalogue", "code", "domain", "price_base_year")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = [name for name in form.changed_data if name in services.EDITABLE_FIELDS]
        if not fields:
            messages.info(request, _("Nothing changed; no new version was made."))
            return
        original = PriceItem.objects.select_related("catalogue").get(pk=obj.pk)
        try:
            catalogue = services.price_catalogue_revise(
                catalogue=original.catalogue,
                changes={obj.code: {name: form.cleaned_data[name] for name in fields}},
                user=request.user,
                note=form.cleaned_data.get("revision_note", ""),
            )
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
            return
        new_item = catalogue.items.get(code=obj.code)
        # Point the admin's log and redirect at the new version's item.
        obj.pk = new_item.pk
        obj.catalogue = catalogue
        messages.success(
            request,
            _("Saved as catalogue version %(version)s; version %(old)s is unchanged.")
            % {"version": catalogue.version, "old": original.catalogue.version},
        )

    def save_related(self, request, form, formsets, change):
        """Nothing to save: the item has no related objects and was not saved in place."""


@admin.register(CpiYear)
class CpiYearAdmin(DataManagerOnly, admin.ModelAdmin):
    list_display = ("year", "annual_change_pct", "source", "updated_at")
    ordering = ("year",)


@admin.register(SensitivityScenario)
class SensitivityScenarioAdmin(DataManagerOnly, admin.ModelAdmin):
    list_display = ("position", "code", "name")
    list_display_links = ("code",)
