"""Data-quality rules run over a study's values: each violation opens a query on its field (one
unclosed query per rule and field); a query whose rule no longer fails closes itself. Runs on
save (the family just written), nightly for every study (beat), and by `manage.py
data_quality` where no beat runs."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from study import access, bulk_sql
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


def _decimal(value) -> Decimal:
    """A value as the ORM reads it (SQLite's raw cursor gives floats)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _fmt(value) -> str:
    return f"{_decimal(value).normalize():f}"


def _live_values(study: Study, family_ids: list[int] | None):
    """The live, non-missing values of the study's live waves (of the given families)."""
    qs = IndicatorValue.objects.alive().filter(
        wave__family__study=study, wave__is_deleted=False, value__isnull=False
    )
    return qs if family_ids is None else qs.filter(wave__family_id__in=family_ids)


def _only(rule: QualityRule, ids: Iterable[int]) -> list[int]:
    """The indicator ids a rule looks at: its own indicator, or all of them."""
    return [i for i in ids if rule.indicator_id in (None, i)]


def _range(rule: QualityRule, values) -> dict:
    """Values outside [min, max]: one query returning only the values that fail."""
    low, high = rule.params.get("min"), rule.params.get("max")
    outside = Q()
    if low is not None:
        outside |= Q(value__lt=Decimal(str(low)))
    if high is not None:
        outside |= Q(value__gt=Decimal(str(high)))
    if not outside:
        return {}
    failing = values.filter(outside)
    if rule.indicator_id is not None:
        failing = failing.filter(indicator_id=rule.indicator_id)
    found = {}
    for wave_id, indicator_id, value in failing.values_list("wave_id", "indicator_id", "value"):
        found[(_rule_key(rule), wave_id, indicator_id)] = _(
            "%(value)s lies outside the plausible range %(low)s to %(high)s."
        ) % {"value": _fmt(value), "low": low, "high": high}
    return found


def _child_without_child(
    rule: QualityRule, values, study: Study, family_ids: list[int] | None, catalogue: dict
) -> dict:
    """A child indicator above 0 in a family without a (live) child: one query."""
    child_ids = _only(rule, [pk for pk, i in catalogue.items() if i.level == Indicator.Level.CHILD])
    if not child_ids:
        return {}
    with_child = Member.objects.alive().filter(family__study=study, role=Member.Role.CHILD)
    # The families without a child first (few, usually none): their values only, then.
    childless = Family.objects.filter(study=study).exclude(pk__in=with_child.values("family_id"))
    if family_ids is not None:
        childless = childless.filter(pk__in=family_ids)
    without = list(childless.values_list("pk", flat=True))
    if not without:
        return {}
    failing = values.filter(
        indicator_id__in=child_ids, value__gt=0, wave__family_id__in=without
    ).values_list("wave_id", "indicator_id", "value")
    found = {}
    for wave_id, indicator_id, value in failing:
        found[(_rule_key(rule), wave_id, indicator_id)] = _(
            "A child indicator is %(value)s but the family has no child recorded."
        ) % {"value": _fmt(value)}
    return found


def _jump_sds(study: Study, indicator_ids: list[int], min_pairs: int) -> dict[int, float | None]:
    """SD of the wave-to-wave changes of each indicator over the whole study (cached), the
    missing ones in one statement."""
    keys = {i: f"dq-sd:{study.pk}:{i}:{min_pairs}" for i in indicator_ids}
    cached = cache.get_many(list(keys.values()))
    sds: dict[int, float | None] = {}
    missing = []
    for i, key in keys.items():
        if key in cached:
            sds[i] = None if cached[key] == "" else float(cached[key])
        else:
            missing.append(i)
    if missing:
        spread = bulk_sql.change_spread(study_id=study.pk, indicator_ids=missing)
        fresh = {}
        for i in missing:
            n, variance = spread.get(i, (0, 0.0))
            sd = math.sqrt(max(variance, 0.0)) if n >= max(min_pairs, 2) else None
            sds[i] = sd
            fresh[keys[i]] = "" if sd is None else str(sd)
        cache.set_many(fresh, _SD_TTL)
    return sds


def _jump(rule: QualityRule, study: Study, family_ids: list[int] | None, catalogue: dict) -> dict:
    """Changes between consecutive waves of more than k SDs of the study's changes of that
    indicator: the SDs in one statement, the failing changes in another (a window over the
    families' waves); only the failing rows reach Python."""
    k = float(rule.params.get("k", 3))
    min_pairs = int(rule.params.get("min_pairs", 20))
    ids = _only(rule, sorted(catalogue))
    sds = _jump_sds(study, ids, min_pairs)
    thresholds = {i: k * sd for i, sd in sds.items() if sd}
    rows = bulk_sql.jumps(study_id=study.pk, family_ids=family_ids, thresholds=thresholds)
    found = {}
    for wave_id, indicator_id, value, before, index in rows:
        found[(_rule_key(rule), wave_id, indicator_id)] = _(
            "Changed from %(a)s at T%(i)s to %(b)s: more than %(k)s standard deviations "
            "of the study's wave-to-wave changes."
        ) % {"a": _fmt(before), "i": index, "b": _fmt(value), "k": rule.params.get("k", 3)}
    return found


def violations(
    study: Study, *, family_ids: Iterable[int] | None = None, rules: list[QualityRule] | None = None
) -> dict[tuple, str]:
    """(rule id, or "default:<kind>" for a default rule not stored yet, wave id, indicator id)
    -> what is wrong, for every failing rule. Set-based: each rule is a query (or two) that
    returns only the values failing it, for the given families or the whole study."""
    family_ids = None if family_ids is None else sorted(set(family_ids))
    catalogue = {i.pk: i for i in indicators_for(study)}
    values = _live_values(study, family_ids)
    found: dict[tuple, str] = {}
    for rule in rules if rules is not None else rules_of(study):
        if rule.kind == QualityRule.Kind.RANGE:
            found |= _range(rule, values)
        elif rule.kind == QualityRule.Kind.CHILD_WITHOUT_CHILD:
            found |= _child_without_child(rule, values, study, family_ids, catalogue)
        elif rule.kind == QualityRule.Kind.JUMP:
            found |= _jump(rule, study, family_ids, catalogue)
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
    to_open = [key for key in found if key not in existing and key not in dismissed]
    if any(by_key[rule_key].pk is None for rule_key, _w, _i in to_open):
        for default in rules:  # the default set is stored together, or not at all
            if default.pk is None:
                audited_save(default, user=None, reason="default data-quality rules")
    opening = [
        DataQuery(
            rule=by_key[rule_key],
            wave_id=wave_id,
            indicator_id=indicator_id,
            message=found[(rule_key, wave_id, indicator_id)][:300],
        )
        for rule_key, wave_id, indicator_id in to_open
    ]
    outcome = QualityOutcome(opened=_open(opening))
    # A query a person reopened stays open until a data manager closes it.
    closing = [
        query for key, query in existing.items() if key not in found and query.reopened_at is None
    ]
    now = timezone.now()
    for query in closing:
        query.status, query.closed_at = DataQuery.Status.CLOSED, now
        query.close_reason = _("The rule no longer fails.")
    if closing:
        bulk_update_with_history(
            closing,
            DataQuery,
            ["status", "closed_at", "close_reason"],
            default_change_reason="closed: the rule no longer fails",
        )
    outcome.closed = len(closing)
    return outcome


def _open(queries: list[DataQuery]) -> int:
    """Open the queries (and their history rows) in one bulk insert; when a parallel run opened
    one of them meanwhile (the one-unclosed-query constraint), one by one, skipping those."""
    if not queries:
        return 0
    try:
        with transaction.atomic():
            bulk_create_with_history(
                queries, DataQuery, default_change_reason="opened by a data-quality rule"
            )
        return len(queries)
    except IntegrityError:
        pass
    opened = 0
    for query in queries:
        query.pk = None
        query._state.adding = True
        try:
            with transaction.atomic():
                audited_save(query, user=None, reason="opened by a data-quality rule")
        except IntegrityError:
            continue  # opened meanwhile by a parallel run
        opened += 1
    return opened


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
