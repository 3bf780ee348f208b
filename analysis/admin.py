"""Django admin of the analysis app: research questions per study, plans (read-only), schedules."""

from django import forms
from django.contrib import admin

from analysis import models
from analysis.effects.questions import validate_outcomes


class StudyQuestionForm(forms.ModelForm):
    class Meta:
        model = models.StudyQuestion
        fields = [
            "study",
            "code",
            "title",
            "unit",
            "outcomes",
            "expected_direction",
            "model",
            "primary",
            "active",
            "not_answered_reason",
            "order",
        ]

    def clean_outcomes(self):
        try:
            return validate_outcomes(self.cleaned_data["outcomes"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(models.StudyQuestion)
class StudyQuestionAdmin(admin.ModelAdmin):
    form = StudyQuestionForm
    list_display = ("code", "study", "title", "unit", "model", "primary", "active", "order")
    list_filter = ("study", "unit", "active", "primary")
    list_editable = ("active", "order")
    search_fields = ("code", "title")


@admin.register(models.AnalysisPlan)
class AnalysisPlanAdmin(admin.ModelAdmin):
    """Frozen plans are immutable: the admin shows them, it does not change or delete them."""

    list_display = ("study", "version", "frozen_at", "frozen_by", "sha256")
    list_filter = ("study",)
    readonly_fields = ("study", "version", "frozen_at", "frozen_by", "content", "reason", "sha256")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.ReportSchedule)
class ReportScheduleAdmin(admin.ModelAdmin):
    list_display = ("study", "frequency", "next_due", "active", "last_run_at")
    list_filter = ("frequency", "active")
    readonly_fields = ("last_run", "last_run_at", "last_error")
