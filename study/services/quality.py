"""Data-quality rules run over a study's values: each violation opens a query on its field (one
unclosed query per rule and field); a query whose rule no longer fails closes itself. Runs on
save (the family just written), nightly for every study (beat), and by `manage.py
data_quality` where no beat runs."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from study import access
from study.catalogue import indicators_for
from study.models import (
    DataQuery,
    Family,
    Indicator,
    IndicatorValue,
    Member,
    QualityRule,
    QueryMessage,
    Study,
)
from study.services.common import audited_save

DEFAULT_RULES: tuple[tuple[str, dict], ...] = (
    (QualityRule.Kind.CHILD_WITHOUT_CHILD, {}),
    (QualityRule.Kind.JUMP, {"k": 3, "min_pairs": 20}),
)
_SD_TTL = 600


@dataclass(frozen=True)
class _Value:
    family_id: int
    wave_id: int
    index: int
    indicator_id: int
    value: Decimal


def rules_of(study: Study) -> list[QualityRule]:
    """The study's active rules; a study without any has the default set, stored (audited)
    only once one of them opens a query."""
    rules = list(QualityRule.objects.filter(study=study).select_related("indicator"))
    if not rules:
        rules = [
            QualityRule(study=study, kind=kind, params=params) for kind, params in DEFAULT_RULES
        ]
    return [r for r in rules if r.active]


def _rule_key(rule: QualityRule) -> int | str:
    return rule.pk if rule.pk is not None else f"default:{rule.kind}"


def _values(study: Study, family_ids: Iterable[int] | None) -> list[_Value]:
    qs = IndicatorValue.objects.alive().filter(
        wave__family__study=study, wave__is_deleted=False, value__isnull=False
    )
    if family_ids is not None:
        qs = qs.filter(wave__family_id__in=list(family_ids))
    return [
        _Value(*row)
        for row in qs.values_list(
            "wave__family_id", "wave_id", "wave__index", "indicator_id", "value"
        )
    ]


def _pairs(values: list[_Value]) -> dict[int, list[tuple[_Value, _Value]]]:
    """indicator id -> consecutive (previous, next) wave values of each family."""
    by_key: dict[tuple[int, int], dict[int, _Value]] = defaultdict(dict)
    for v in values:
        by_key[(v.family_id, v.indicator_id)][v.index] = v
    pairs: dict[int, list[tuple[_Value, _Value]]] = defaultdict(list)
    for (_family, indicator_id), waves in by_key.items():
        for index, v in waves.items():
            if index - 1 in waves:
                pairs[indicator_id].append((waves[index - 1], v))
    return pairs


def _jump_sd(study: Study, indicator_id: int, min_pairs: int) -> float | None:
    """SD of the wave-to-wave changes of an indicator over the whole study (cached)."""
    key = f"dq-sd:{study.pk}:{indicator_id}:{min_pairs}"
    cached = cache.get(key)
    if cached is not None:
        return None if cached == "" else float(cached)
    diffs = [
        float(b.value - a.value)
        for a, b in _pairs(_values_of_indicator(study, indicator_id)).get(indicator_id, [])
    ]
    sd = statistics.pstdev(diffs) if len(diffs) >= max(min_pairs, 2) else None
    cache.set(key, "" if sd is None else str(sd), _SD_TTL)
    return sd


def _values_of_indicator(study: Study, indicator_id: int) -> list[_Value]:
    qs = IndicatorValue.objects.alive().filter(
        wave__family__study=study,
        wave__is_deleted=False,
        value__isnull=False,
        indicator_id=indicator_id,
    )
    return [
        _Value(*row)
        for row in qs.values_list(
            "wave__family_id", "wave_id", "wave__index", "indicator_id", "value"
        )
    ]


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _range(rule: QualityRule, values: list[_Value]) -> dict:
    low, high = rule.params.get("min"), rule.params.get("max")
    found = {}
    for v in values:
        if (low is not None and v.value < Decimal(str(low))) or (
            high is not None and v.value > Decimal(str(high))
        ):
            found[(_rule_key(rule), v.wave_id, v.indicator_id)] = _(
                "%(value)s lies outside the plausible range %(low)s to %(high)s."
            ) % {"value": _fmt(v.value), "low": low, "high": high}
    return found


def _child_without_child(
    rule: QualityRule, values: list[_Value], catalogue: dict, with_child: set[int]
) -> dict:
    found = {}
    for v in values:
        indicator = catalogue.get(v.indicator_id)
        if (
            indicator is not None
            and indicator.level == Indicator.Level.CHILD
            and v.value > 0
            and v.family_id not in with_child
        ):
            found[(_rule_key(rule), v.wave_id, v.indicator_id)] = _(
                "A child indicator is %(value)s but the family has no child recorded."
            ) % {"value": _fmt(v.value)}
    return found


def _jump(rule: QualityRule, study: Study, pairs: dict) -> dict:
    k = float(rule.params.get("k", 3))
    min_pairs = int(rule.params.get("min_pairs", 20))
    found = {}
    for indicator_id, items in pairs.items():
        if rule.indicator_id not in (None, indicator_id):
            continue
        sd = _jump_sd(study, indicator_id, min_pairs)
        if not sd:
            continue
        for before, after in items:
            if abs(float(after.value - before.value)) > k * sd:
                found[(_rule_key(rule), after.wave_id, indicator_id)] = _(
                    "Changed from %(a)s at T%(i)s to %(b)s: more than %(k)s standard deviations "
                    "of the study's wave-to-wave changes."
                ) % {
                    "a": _fmt(before.value),
                    "i": before.index,
                    "b": _fmt(after.value),
                    "k": rule.params.get("k", 3),
                }
    return found


def violations(
    study: Study, *, family_ids: Iterable[int] | None = None, rules: list[QualityRule] | None = None
) -> dict[tuple, str]:
    """(rule id, or "default:<kind>" for a default rule not stored yet, wave id, indicator id)
    -> what is wrong, for every failing rule."""
    family_ids = None if family_ids is None else list(family_ids)
    values = _values(study, family_ids)
    catalogue = {i.pk: i for i in indicators_for(study)}
    families = Family.objects.filter(study=study)
    if family_ids is not None:
        families = families.filter(pk__in=family_ids)
    with_child = set(
        Member.objects.alive()
        .filter(family__in=families, role=Member.Role.CHILD)
        .values_list("family_id", flat=True)
    )
    pairs = _pairs(values)
    found: dict[tuple, str] = {}
    for rule in rules if rules is not None else rules_of(study):
        applies = [v for v in values if rule.indicator_id in (None, v.indicator_id)]
        if rule.kind == QualityRule.Kind.RANGE:
            found |= _range(rule, applies)
        elif rule.kind == QualityRule.Kind.CHILD_WITHOUT_CHILD:
            found |= _child_without_child(rule, applies, catalogue, with_child)
        elif rule.kind == QualityRule.Kind.JUMP:
            found |= _jump(rule, study, pairs)
    return found


@dataclass
class QualityOutcome:
    opened: int = 0
    closed: int = 0


@transaction.atomic
def quality_run(*, study: Study, family_ids: Iterable[int] | None = None) -> QualityOutcome:
    """Open a query for every new violation and close the rule-opened queries whose rule no
    longer fails (for the given families, or the whole study)."""
    family_ids = None if family_ids is None else list(family_ids)
    rules = rules_of(study)
    by_key = {_rule_key(r): r for r in rules}
    found = violations(study, family_ids=family_ids, rules=rules)
    unclosed = DataQuery.objects.filter(rule__study=study).exclude(status=DataQuery.Status.CLOSED)
    if family_ids is not None:
        unclosed = unclosed.filter(wave__family_id__in=family_ids)
    existing: dict[tuple, DataQuery] = {(q.rule_id, q.wave_id, q.indicator_id): q for q in unclosed}
    # A query a person closed (the value is right) is not opened again by the same rule.
    dismissed = set(
        DataQuery.objects.filter(
            rule__study=study, status=DataQuery.Status.CLOSED, closed_by__isnull=False
        ).values_list("rule_id", "wave_id", "indicator_id")
    )
    outcome = QualityOutcome()
    for key, message in found.items():
        if key in existing or key in dismissed:
            continue
        rule_key, wave_id, indicator_id = key
        rule = by_key[rule_key]
        if rule.pk is None:
            for default in rules:  # the default set is stored together, or not at all
                if default.pk is None:
                    audited_save(default, user=None, reason="default data-quality rules")
        query = DataQuery(
            rule=rule, wave_id=wave_id, indicator_id=indicator_id, message=message[:300]
        )
        try:
            with transaction.atomic():
                audited_save(query, user=None, reason="opened by a data-quality rule")
        except IntegrityError:
            continue  # opened meanwhile by a parallel run
        outcome.opened += 1
    for stale_key, stale in existing.items():
        # A query a person reopened stays open until a data manager closes it.
        if stale_key not in found and stale.reopened_at is None:
            query = stale
            query.status, query.closed_at = DataQuery.Status.CLOSED, timezone.now()
            query.close_reason = _("The rule no longer fails.")
            audited_save(query, user=None, reason="closed: the rule no longer fails")
            outcome.closed += 1
    return outcome


def quality_run_all() -> dict[int, QualityOutcome]:
    """Every study (the nightly beat task and the management command)."""
    return {study.pk: quality_run(study=study) for study in Study.objects.all()}


@transaction.atomic
def query_answer(*, query: DataQuery, text: str, user) -> QueryMessage:
    """Answer in a query's thread (who may record the research data); an open query becomes
    answered."""
    if not access.may_write_research(user, query.wave.family):
        raise PermissionDenied(_("Only researchers and data managers answer queries."))
    if not text.strip():
        raise ValidationError({"text": _("Write an answer.")})
    if query.status == DataQuery.Status.CLOSED:
        raise ValidationError({"text": _("This query is closed.")})
    message = QueryMessage(query=query, author=user, text=text.strip())
    audited_save(message, user=user, reason="query answered")
    if query.status == DataQuery.Status.OPEN:
        query.status = DataQuery.Status.ANSWERED
        audited_save(query, user=user, reason="query answered")
    return message


@transaction.atomic
def query_close(*, query: DataQuery, reason: str, user) -> DataQuery:
    """A data manager resolves or closes a query, with a reason."""
    if not access.family_has_right(user, query.wave.family, access.Right.DATA_CORRECT):
        raise PermissionDenied(_("Only a data manager closes a query."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for closing this query.")})
    query.status, query.closed_at, query.closed_by = DataQuery.Status.CLOSED, timezone.now(), user
    query.close_reason = reason.strip()
    audited_save(query, user=user, reason=f"closed: {reason.strip()}")
    return query


@transaction.atomic
def query_reopen(*, query: DataQuery, reason: str, user) -> DataQuery:
    """Reopen a closed query with a reason (who may answer it, or a data manager): the reason
    starts the thread again, and the rule no longer closes it by itself."""
    family = query.wave.family
    if not (
        access.may_write_research(user, family)
        or access.family_has_right(user, family, access.Right.DATA_CORRECT)
    ):
        raise PermissionDenied(_("Only researchers and data managers reopen queries."))
    why = reason.strip()
    if not why:
        raise ValidationError({"reason": _("Give a reason for reopening this query.")})
    query = DataQuery.objects.select_for_update().get(pk=query.pk)
    if query.status != DataQuery.Status.CLOSED:
        raise ValidationError({"reason": _("This query is not closed.")})
    query.status, query.closed_at, query.closed_by, query.close_reason = (
        DataQuery.Status.OPEN,
        None,
        None,
        "",
    )
    query.reopened_at, query.reopened_by = timezone.now(), user
    try:
        with transaction.atomic():
            audited_save(query, user=user, reason=f"reopened: {why}")
    except IntegrityError:
        raise ValidationError(
            {"reason": _("This field has an open query of the same rule already: answer that one.")}
        ) from None
    message = QueryMessage(query=query, author=user, text=_("Reopened: %(r)s") % {"r": why})
    audited_save(message, user=user, reason="query reopened")
    return query
