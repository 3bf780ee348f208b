"""The audit trail reads the previous version of its changed rows per batch (one query per
history table) instead of one subquery per field and row: the previous versions it pairs with
each row must be what a plain per-row lookup finds, simple-history's `prev_record` (the latest
version of the same object with an older date), with a tie of dates broken by history_id; a
created or deleted row has none."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import islice

import pytest
from django.utils import timezone

from study import audit_trail
from study.models import Indicator, IndicatorValue, Member
from tests.factories import make_family

pytestmark = pytest.mark.django_db


def _reference(record):
    """The previous version by a query per row: `prev_record` with its tie broken by id."""
    if record.history_type != "~":
        return None
    return (
        type(record)
        ._default_manager.filter(
            **{audit_trail._key(type(record)): getattr(record, audit_trail._key(type(record)))},
            history_date__lt=record.history_date,
        )
        .order_by("history_date", "history_id")
        .last()
    )


def _history(study, researcher):
    """One value changed five times (two changes in the same instant), a second value, and a
    member created, changed twice (the same instant) and deleted."""
    family = make_family(study, user=researcher)
    wave = family.waves.get(index=1)
    base = timezone.now() - timedelta(days=2)
    moments = [base, base + timedelta(seconds=1)]
    moments += [base + timedelta(seconds=2)] * 2 + [base + timedelta(seconds=3)] * 2
    for code, start in (("bijstand", 0), ("ww", 10)):
        value = IndicatorValue(wave=wave, indicator=Indicator.objects.get(code=code))
        for n, when in enumerate(moments):
            value.value = Decimal(start + n)
            value._history_date = when  # simple-history's stamp of the next history row
            value.save()
    member = Member.objects.create(family=family, role=Member.Role.choices[0][0], birth_year=1980)
    for year, when in ((1981, base), (1982, base), (1983, base + timedelta(seconds=5))):
        member.birth_year = year
        member._history_date = when
        member.save()
    member.delete()
    return family


def _previous_values(record):
    previous = record._previous
    if previous is None:
        return None
    return {f.attname: getattr(previous, f.attname) for f in audit_trail._fields(type(record))}


def _reference_values(record):
    found = _reference(record)
    if found is None:
        return None
    return {f.attname: getattr(found, f.attname) for f in audit_trail._fields(type(record))}


def test_the_previous_versions_are_prev_record_s(study, researcher):
    family = _history(study, researcher)
    values = IndicatorValue.history.filter(wave__family=family)
    ties = values.values("id", "history_date").distinct().count()
    assert ties < values.count()  # some versions of one value share their date
    checked = {"~": 0, "+": 0, "-": 0, "tie": 0}
    models = audit_trail._source_models(None)
    spec = audit_trail.TrailFilter()
    streamed = []
    for qs in audit_trail._sources([family.pk], None):
        rows = list(audit_trail._with_context(audit_trail._filtered(qs, spec)))
        for size in (1, 3, 500):  # batches of the full trail: a row without its previous, too
            for start in range(0, len(rows), size):
                audit_trail._attach_previous(rows[start : start + size])
            for record in rows:
                assert _previous_values(record) == _reference_values(record), record
        streamed += rows
    for record in streamed:
        checked[record.history_type] += 1
        reference = _reference(record)
        if reference is not None:
            # the plain prev_record where the older versions' newest date is not shared
            older = type(reference)._default_manager.filter(
                history_date=reference.history_date,
                **{audit_trail._key(type(record)): getattr(record, audit_trail._key(type(record)))},
            )
            if older.count() == 1:
                assert record.prev_record == reference
            else:
                checked["tie"] += 1
                assert reference.history_id == max(r.history_id for r in older)
    assert checked["~"] >= 12 and checked["+"] >= 3 and checked["-"] == 1 and checked["tie"] >= 2
    for limit in (1, 4, 7, 51):
        newest = audit_trail._newest(models, [family.pk], spec, limit)
        assert len(newest) == min(limit, len(streamed))
        for record in newest:
            assert _previous_values(record) == _reference_values(record), record


def test_the_trail_shows_the_same_old_values_paged_and_in_full(study, researcher):
    family = _history(study, researcher)
    full = list(audit_trail.trail([family.pk]))
    for limit in (1, 4, 7, 51):
        assert list(audit_trail.trail([family.pk], limit=limit)) == list(islice(full, limit))
    values = [r for r in full if r["model"] == str(IndicatorValue._meta.verbose_name)]
    changes = [(c["old"], c["new"]) for r in values for c in r["changes"]]
    # bijstand 0..5 at base, +1 s, +2 s (twice), +3 s (twice): each change's old value is the
    # newest version with an older date, the later of two versions of one instant
    assert ("1", "2") in changes and ("1", "3") in changes
    assert ("3", "4") in changes and ("3", "5") in changes
    assert ("2", "3") not in changes and ("4", "5") not in changes
