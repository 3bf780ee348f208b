"""Publish the demo municipality's monitor (make run calls this before demo_analysis).

Generates the synthetic Almelo household population (calibrated to the baseline report's tables)
for two reporting years, runs the monitor on each, stores the reports and publishes them, so the
demo gemeente user sees the monitor page and the effect report answers the municipal questions.
"""

import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from analysis.monitor import runner, services, synthetic
from analysis.monitor.models import MonitorReport

DEMO_MUNICIPALITY = "Almelo"
DEMO_YEARS = (2023, 2024)  # the last years with published CPI figures (cost indexation)


class Command(BaseCommand):
    help = "Store and publish the demo municipality's monitor reports (synthetic Almelo data)."

    def handle(self, *args, **options):
        if MonitorReport.objects.filter(
            municipality=DEMO_MUNICIPALITY, published_at__isnull=False
        ).exists():
            self.stdout.write("The demo municipality already has a published monitor report.")
            return
        researcher = get_user_model().objects.filter(username="onderzoeker").first()
        with tempfile.TemporaryDirectory() as tmp:
            for year in DEMO_YEARS:
                path = Path(tmp) / f"almelo-{year}.parquet"
                frames = synthetic.iter_population([synthetic.almelo_spec()], year=year, seed=year)
                synthetic.write_population(frames, path)
                combined = runner.monitor_count(path=path, year=year)
                for report in services.monitor_reports_save(
                    path=path,
                    year=year,
                    combined=combined,
                    user=researcher,
                    source_name=f"synthetisch Almelo {year}",
                ):
                    if report.municipality == DEMO_MUNICIPALITY and researcher is not None:
                        services.monitor_report_publish(report=report, user=researcher)
                    self.stdout.write(
                        f"Monitor {report.municipality} {report.year}: "
                        f"{report.summary.get('mpg', '?')} MPG households, report {report.pk}"
                    )
