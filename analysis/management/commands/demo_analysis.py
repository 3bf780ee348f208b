"""Analyse the demo study once and publish its report (make run calls this after seed_demo)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analysis.models import AnalysisRun, Report
from analysis.plans.plan_services import analysis_plan_freeze, plan_params
from analysis.plans.selectors import plan_current
from analysis.runs.report_services import report_publish
from analysis.runs.services import analysis_run_execute
from study.demo import DEMO_STUDY_NAME
from study.models import Study


class Command(BaseCommand):
    help = "Run the demo study's analysis (if it has no successful run yet) and publish the report."

    def handle(self, *args, **options):
        study = Study.objects.filter(name=DEMO_STUDY_NAME).first()
        if study is None:
            raise CommandError("the demo study does not exist: run seed_demo first")
        if Report.objects.filter(study=study, published=True).exists():
            self.stdout.write("The demo study already has a published report.")
            return
        researcher = get_user_model().objects.filter(username="onderzoeker").first()
        # The demo registers its analysis plan first, as a study must before analysing
        # post-intake waves; the run follows it.
        plan = plan_current(study) or analysis_plan_freeze(study=study, user=researcher)
        run = AnalysisRun.objects.create(
            study=study,
            started_by=researcher,
            plan=plan,
            params={
                **plan_params(plan),
                "price_year": study.price_year,
                "plan_version": plan.version,
            },
        )
        self.stdout.write("Analysing the demo study (a minute or so)…")
        run = analysis_run_execute(run_id=run.pk)
        if run.status != AnalysisRun.Status.SUCCEEDED:
            raise CommandError(f"demo analysis failed: {run.error}")
        report_publish(report=run.report, user=researcher, typeset_here=True)
        self.stdout.write(f"Published report v{run.report.version} of run {run.pk}.")
