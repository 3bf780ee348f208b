"""The apply after the dry run: "no change" in one pass, the re-check when something changed
since, and the data-quality rules over the families the import changed."""

from __future__ import annotations

import pytest

from study.imports import workflow
from study.models import DataQuery, ImportBatch, Indicator, IndicatorValue, QualityRule
from study.services.values import indicator_values_record
from tests.factories import make_family

pytestmark = pytest.mark.django_db


def _import(study, user, text: str):
    batch = workflow.registry_import_upload(
        study=study, user=user, filename="x.csv", content=text.encode(), enqueue=False
    )
    batch = workflow.registry_import_validate(batch_id=batch.pk)
    assert batch.status == ImportBatch.Status.VALIDATED, batch.errors
    workflow.registry_import_apply_request(batch=batch, user=user, enqueue=False)
    return workflow.registry_import_apply(batch_id=batch.pk)


@pytest.fixture
def extract(study, researcher):
    family = make_family(study, user=researcher)
    text = (
        "pseudonym,year,indicator,value\n"
        f"{family.pseudonym},2021,bijstand,1\n"
        f"{family.pseudonym},2022,bijstand,2\n"
    )
    return family, text


def test_an_unchanged_file_is_not_read_again_by_the_apply(study, researcher, extract, monkeypatch):
    _family, text = extract
    assert _import(study, researcher, text).created == 2
    reads: list[int] = []
    check = workflow._check
    monkeypatch.setattr(workflow, "_check", lambda *a, **k: reads.append(1) or check(*a, **k))
    again = _import(study, researcher, text)
    assert again.status == ImportBatch.Status.APPLIED
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert again.summary["unchanged"] == 2 and again.summary["imported_before"]
    assert reads == [], "known unchanged from the first import: checked by neither job"


def test_the_same_file_after_a_change_is_checked_again(study, researcher, extract):
    family, text = extract
    first = _import(study, researcher, text)
    wave = family.waves.get(year=2022)
    indicator_values_record(wave=wave, values={"bijstand": 5}, user=researcher, source="manual")
    again = _import(study, researcher, text)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert again.summary["imported_before"]["batch"] == first.pk


def test_a_change_after_the_dry_run_is_checked_and_imported(study, researcher, extract):
    family, text = extract
    assert _import(study, researcher, text).created == 2
    batch = workflow.registry_import_upload(
        study=study, user=researcher, filename="x.csv", content=text.encode(), enqueue=False
    )
    batch = workflow.registry_import_validate(batch_id=batch.pk)
    assert (batch.summary["new"], batch.summary["changed"], batch.summary["unchanged"]) == (0, 0, 2)
    # Someone edits a value between the dry run and the apply: the apply reads the file again.
    wave = family.waves.get(year=2021)
    indicator_values_record(wave=wave, values={"bijstand": 3}, user=researcher, source="manual")
    workflow.registry_import_apply_request(batch=batch, user=researcher, enqueue=False)
    applied = workflow.registry_import_apply(batch_id=batch.pk)
    assert (applied.created, applied.updated, applied.unchanged) == (0, 1, 1)
    value = IndicatorValue.objects.alive().get(wave=wave, indicator__code="bijstand")
    assert value.value == 1


def test_the_quality_rules_run_over_the_families_the_import_changed(study, researcher, extract):
    family, text = extract
    other = make_family(study, user=researcher)
    bijstand = Indicator.objects.get(study__isnull=True, code="bijstand")
    rule = QualityRule.objects.create(
        study=study, kind=QualityRule.Kind.RANGE, indicator=bijstand, params={"max": 1}
    )
    # A value of another family outside the range, recorded without its rules having run.
    IndicatorValue.objects.create(wave=other.waves.get(year=2021), indicator=bijstand, value=5)
    _import(study, researcher, text)
    queries = DataQuery.objects.filter(rule=rule)
    assert [(q.wave.family_id, q.wave.year) for q in queries] == [(family.pk, 2022)]
    assert "outside the plausible range" in queries.get().message
