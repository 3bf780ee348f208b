from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def _seed_questions(sender, instance, created, raw=False, **kwargs):
    """Every new study starts with the registry's research questions (editable afterwards)."""
    if created and not raw:
        from analysis.question_services import questions_seed

        questions_seed(study=instance)


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = _("Analyses and reports")

    def ready(self):
        post_save.connect(_seed_questions, sender="study.Study", dispatch_uid="analysis-seed-q")
