"""Data-quality rules as data: a violation opens a query on its field, an answer moves it to
answered, a data manager closes it, a query closes itself when the rule no longer fails."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from study.models import DataQuery, Indicator, QualityRule
from study.services.quality import quality_run, query_answer, query_close
from study.services.values import indicator_values_record
from tests.factories import make_family

pytestmark = pytest.mark.django_db


@pytest.fixture
def range_rule(study):
    from study.models import Indicator

    return QualityRule.objects.create(
        study=study,
        kind=QualityRule.Kind.RANGE,
        indicator=Indicator.objects.get(code="bijstand", study__isnull=True),
        params={"min": 0, "max": 4},
    )


def test_a_range_rule_opens_a_query_on_save_and_closes_it_when_fixed(
    range_rule, family, researcher
):
    wave = family.waves.get(index=1)
    indicator_values_record(wave=wave, values={"bijstand": 6}, user=researcher)
    query = DataQuery.objects.get(rule=range_rule)
    assert query.wave == wave and query.indicator.code == "bijstand"
    assert query.status == DataQuery.Status.OPEN and "6" in query.message
    indicator_values_record(wave=wave, values={"bijstand": 2}, user=researcher)
    query.refresh_from_db()
    assert query.status == DataQuery.Status.CLOSED and "no longer fails" in query.close_reason


def test_answer_then_a_data_manager_closes_and_it_stays_closed(
    range_rule, family, researcher, data_manager, coach
):
    wave = family.waves.get(index=1)
    indicator_values_record(wave=wave, values={"bijstand": 6}, user=researcher)
    query = DataQuery.objects.get(rule=range_rule)
    with pytest.raises(PermissionDenied):
        query_answer(query=query, text="x", user=coach)
    query_answer(query=query, text="Checked with the registry: 6 is right.", user=researcher)
    query.refresh_from_db()
    assert query.status == DataQuery.Status.ANSWERED and query.thread.count() == 1
    with pytest.raises(PermissionDenied):
        query_close(query=query, reason="ok", user=researcher)
    query_close(query=query, reason="value confirmed", user=data_manager)
    quality_run(study=family.study)
    assert DataQuery.objects.filter(rule=range_rule).count() == 1, "not opened again"


def test_default_rules_include_a_child_indicator_without_a_child(study, researcher):
    from study.catalogue import indicators_for
    from study.services.families import MemberSpec

    family = make_family(
        study, user=researcher, members=[MemberSpec("adult", 1980), MemberSpec("child", 2013)]
    )
    for member in family.members.filter(role="child"):
        member.is_deleted = True
        member.save()
    child_code = next(i.code for i in indicators_for(study) if i.level == "child")
    # The entry form refuses this; an import or an older value can still hold it.
    from study.models import Indicator
    from study.services.values import Entry, values_apply_bulk

    indicator = Indicator.objects.get(code=child_code, study__isnull=True)
    wave = family.waves.get(index=1)
    values_apply_bulk(
        {(wave.pk, indicator.pk): Entry(value=1)},
        user=None,
        source="import",
        import_batch=None,
        reason="test",
    )
    call_command("data_quality", study=study.pk)
    query = DataQuery.objects.get(wave=wave)
    assert query.rule.kind == QualityRule.Kind.CHILD_WITHOUT_CHILD


def test_a_jump_of_more_than_k_sd_between_waves(study, researcher):
    QualityRule.objects.create(
        study=study, kind=QualityRule.Kind.JUMP, params={"k": 3, "min_pairs": 5}
    )
    for _ in range(6):
        f = make_family(study, user=researcher)
        indicator_values_record(wave=f.waves.get(index=0), values={"moves": 1}, user=researcher)
        indicator_values_record(wave=f.waves.get(index=1), values={"moves": 1}, user=researcher)
    f = make_family(study, user=researcher)
    indicator_values_record(wave=f.waves.get(index=0), values={"moves": 0}, user=researcher)
    indicator_values_record(wave=f.waves.get(index=1), values={"moves": 1}, user=researcher)
    from django.core.cache import cache

    cache.clear()
    outlier = make_family(study, user=researcher)
    indicator_values_record(wave=outlier.waves.get(index=0), values={"moves": 0}, user=researcher)
    indicator_values_record(wave=outlier.waves.get(index=1), values={"moves": 9}, user=researcher)
    jumps = DataQuery.objects.filter(rule__kind=QualityRule.Kind.JUMP)
    assert [q.wave.family_id for q in jumps] == [outlier.pk]


def test_a_closed_query_is_reopened_with_a_reason_and_the_rule_leaves_it_open(
    study, family, researcher, data_manager, coach
):
    from study.services.quality import query_close, query_reopen

    QualityRule.objects.create(
        study=study,
        kind=QualityRule.Kind.RANGE,
        indicator=Indicator.objects.get(code="bijstand", study__isnull=True),
        params={"min": 0, "max": 4},
    )
    wave = family.waves.get(index=1)
    indicator_values_record(wave=wave, values={"bijstand": 6}, user=researcher)
    query = DataQuery.objects.get()
    query_close(query=query, reason="registry says 6", user=data_manager)
    with pytest.raises(ValidationError):
        query_reopen(query=query, reason="  ", user=researcher)
    with pytest.raises(PermissionDenied):
        query_reopen(query=query, reason="still odd", user=coach)
    query_reopen(query=query, reason="the registry was wrong", user=researcher)
    query.refresh_from_db()
    assert query.status == DataQuery.Status.OPEN and query.closed_by is None
    assert query.reopened_by == researcher
    assert "the registry was wrong" in query.thread.get().text
    history = query.history.first()
    assert history.history_change_reason == "reopened: the registry was wrong"
    # the value is fixed: the rule no longer fails, but a reopened query waits for a person
    indicator_values_record(wave=wave, values={"bijstand": 2}, user=researcher)
    query.refresh_from_db()
    assert query.status == DataQuery.Status.OPEN
    with pytest.raises(ValidationError):
        query_reopen(query=query, reason="again", user=researcher)
