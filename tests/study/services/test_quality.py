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


def _reference_violations(study, family_ids, rules):
    """The rules computed the plain way, value by value in Python (statistics.pstdev over every
    pair of consecutive waves of the study): what the set-based queries must find."""
    import statistics
    from decimal import Decimal

    from study.catalogue import indicators_for
    from study.models import IndicatorValue, Member

    rows = list(
        IndicatorValue.objects.filter(
            is_deleted=False, wave__is_deleted=False, value__isnull=False, wave__family__study=study
        ).values_list("wave__family_id", "wave_id", "wave__index", "indicator_id", "value")
    )
    by = {}
    for family, wave, index, indicator, value in rows:
        by.setdefault((family, indicator), {})[index] = (wave, value)
    pairs = [
        (family, indicator, waves[i - 1], waves[i], i - 1)
        for (family, indicator), waves in by.items()
        for i in waves
        if i - 1 in waves
    ]
    level = {i.pk: i.level for i in indicators_for(study)}
    with_child = set(
        Member.objects.filter(is_deleted=False, role="child").values_list("family_id", flat=True)
    )
    found = set()
    for rule in rules:
        key = rule.pk
        if rule.kind == "range":
            low, high = Decimal(str(rule.params["min"])), Decimal(str(rule.params["max"]))
            found |= {
                (key, w, i)
                for f, w, _x, i, v in rows
                if f in family_ids and rule.indicator_id in (None, i) and not low <= v <= high
            }
        elif rule.kind == "child_without_child":
            found |= {
                (key, w, i)
                for f, w, _x, i, v in rows
                if f in family_ids and level.get(i) == "child" and v > 0 and f not in with_child
            }
        elif rule.kind == "jump":
            for indicator in {i for _f, i, *_rest in pairs}:
                diffs = [float(b[1] - a[1]) for _f, i, a, b, _x in pairs if i == indicator]
                if len(diffs) < max(rule.params["min_pairs"], 2):
                    continue
                sd = statistics.pstdev(diffs)
                found |= {
                    (key, b[0], i)
                    for f, i, a, b, _x in pairs
                    if i == indicator
                    and f in family_ids
                    and sd
                    and abs(float(b[1] - a[1])) > rule.params["k"] * sd
                }
    return found


def test_the_set_based_rules_find_what_a_value_by_value_computation_finds(study, researcher):
    """Random values in 12 families (a few gaps, a deleted value, a family whose child left):
    the rules' queries find exactly the violations a plain Python pass finds, for a subset of
    families and for the whole study, and the messages name the values."""
    import random
    from decimal import Decimal

    from django.core.cache import cache

    from study.catalogue import indicators_for
    from study.models import IndicatorValue
    from study.services.quality import violations
    from study.services.values import Entry, values_apply_bulk

    rng = random.Random(21)
    catalogue = {i.code: i for i in indicators_for(study)}
    codes = ["bijstand", "moves"] + [c for c, i in catalogue.items() if i.level == "child"][:1]
    families = [make_family(study, user=researcher) for _ in range(12)]
    entries = {}
    for family in families:
        for wave in family.waves.all():
            for code in codes:
                if rng.random() < 0.15:
                    continue  # a gap: no pair across it
                value = (
                    rng.choice([0, 1, 1, 2, 2, 3]) if rng.random() < 0.9 else rng.choice([9, 15])
                )
                entries[(wave.pk, catalogue[code].pk)] = Entry(value=Decimal(value))
    values_apply_bulk(entries, user=None, source="import", import_batch=None, reason="test")
    IndicatorValue.objects.filter(pk=IndicatorValue.objects.order_by("pk").first().pk).update(
        is_deleted=True
    )
    families[3].members.filter(role="child").update(is_deleted=True)
    rules = [
        QualityRule.objects.create(study=study, kind="jump", params={"k": 1.5, "min_pairs": 5}),
        QualityRule.objects.create(study=study, kind="child_without_child", params={}),
        QualityRule.objects.create(
            study=study, kind="range", indicator=catalogue["moves"], params={"min": 0, "max": 2}
        ),
    ]
    for subset in ({f.pk for f in families[:5]}, {f.pk for f in families}):
        cache.clear()
        found = violations(study, family_ids=subset, rules=rules)
        expected = _reference_violations(study, subset, rules)
        assert expected, "the data makes every rule fail somewhere"
        assert {k[0] for k in expected} == {r.pk for r in rules}
        assert set(found) == expected
    whole = violations(study, rules=rules)
    assert set(whole) == _reference_violations(study, {f.pk for f in families}, rules)
    assert all(message and "%(" not in message for message in whole.values())
