"""make run publishes the demo municipality's monitor, which the demo gemeente user can read and
which answers the municipal questions in the effect report."""

import pytest
from django.core.management import call_command

from analysis.monitor import selectors
from analysis.monitor.models import MonitorReport
from analysis.monitor.report_section import monitor_section
from study.demo import seed_demo

pytestmark = pytest.mark.django_db


def test_demo_monitor_publishes_almelo_for_the_demo_gemeente():
    study, _ = seed_demo(seed=1)
    call_command("demo_monitor")
    published = MonitorReport.objects.filter(municipality="Almelo", published_at__isnull=False)
    assert sorted(published.values_list("year", flat=True)) == [2023, 2024]
    gemeente = study.memberships.get(role="gemeente").user
    assert set(selectors.monitor_report_list(gemeente)) == set(published)
    mpg = published.get(year=2024).summary["mpg"]
    assert 157 <= mpg <= 191  # the baseline report's 174 within 10 %
    section = monitor_section(study)
    assert section is not None and "multiprobleemgezinnen" in section["answers"]["G1"]
    call_command("demo_monitor")  # idempotent: make run twice stores nothing new
    assert MonitorReport.objects.count() == 2
