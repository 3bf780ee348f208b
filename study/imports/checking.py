"""Checking a registry extract against the study: every cell matched to a family, a wave and an
indicator of the catalogue, its value checked, in a fixed handful of queries (never one per row).

The outcome (`Check`) says what an import would write (new, changed, unchanged) and lists every
problem by row and column; `study.imports.workflow` stores it as the dry run and re-checks inside
the apply transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from study.catalogue import indicators_for
from study.imports.fast import Frame
from study.imports.missing import missing_word, value_problem
from study.imports.problems import Problem
from study.imports.reading import Cell, Extract
from study.models import Family, Indicator, IndicatorValue, Member, Study, Wave
from study.services.values import Entry, parse_entry

PREVIEW_ROWS = 25
Progress = Callable[[int, str], None]


@dataclass
class Check:
    """The outcome of checking an extract: what would be written, and every problem."""

    entries: dict[tuple[int, int], Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    summary: dict = field(default_factory=dict)
    preview: list[dict] = field(default_factory=list)
    #: The same entries as columns, when the set-based check (study/imports/fast.py) made it.
    frame: Frame | None = None


def _show(value: Decimal | None, missing_code: str) -> str:
    if value is None:
        return missing_code
    return f"{value.normalize():f}"


@dataclass
class _Context:
    """What the checks need from the database, loaded in a handful of queries."""

    key_kind: str
    catalogue: dict[str, Indicator]
    by_key: dict[str, tuple[int, str]]
    waves: dict[tuple[int, int], tuple[int, int, bool]]
    years: dict[int, list[int]]
    roles: dict[int, set[str]]
    existing: dict[tuple[int, int], tuple[Decimal | None, str]]

    def lookup(self, key: str) -> tuple[int, str] | None:
        return self.by_key.get(key.strip().lower() if self.key_kind == "linkage_key" else key)

    def kind_name(self, *, other: bool = False) -> str:
        linkage = (self.key_kind == "linkage_key") != other
        return _("linkage key") if linkage else _("pseudonym")


def _context(study: Study, key_kind: str) -> _Context:
    by_key: dict[str, tuple[int, str]] = {}
    for pk, pseudonym, linkage_key in (
        Family.objects.alive().filter(study=study).values_list("pk", "pseudonym", "linkage_key")
    ):
        key = linkage_key.strip().lower() if key_kind == "linkage_key" else pseudonym
        if key:
            by_key[key] = (pk, pseudonym)
    waves: dict[tuple[int, int], tuple[int, int, bool]] = {}
    years: dict[int, list[int]] = {}
    for pk, family_id, year, index, locked in (
        Wave.objects.alive()
        .filter(family__study=study)
        .values_list("pk", "family_id", "year", "index", "locked")
    ):
        waves[(family_id, year)] = (pk, index, locked)
        years.setdefault(family_id, []).append(year)
    roles: dict[int, set[str]] = {}
    for family_id, role in (
        Member.objects.alive().filter(family__study=study).values_list("family_id", "role")
    ):
        roles.setdefault(family_id, set()).add(role)
    existing = {
        (w, i): (v, m)
        for w, i, v, m in IndicatorValue.objects.alive()
        .filter(wave__family__study=study)
        .values_list("wave_id", "indicator_id", "value", "missing_code")
    }
    return _Context(
        key_kind=key_kind,
        catalogue={i.code: i for i in indicators_for(study)},
        by_key=by_key,
        waves=waves,
        years=years,
        roles=roles,
        existing=existing,
    )


class _CellProblem(Exception):
    pass


@dataclass(frozen=True)
class _Match:
    """Where a cell of the file belongs, and its checked value."""

    family_id: int
    pseudonym: str
    wave_id: int
    wave_index: int
    indicator: Indicator
    entry: Entry


def _check_cell(ctx: _Context, cell: Cell, seen: dict[tuple[int, int, str], int]) -> _Match:
    """Where the cell belongs and its checked value, or _CellProblem(message)."""
    found = ctx.lookup(cell.key)
    if found is None:
        shown = cell.key[:16] + ("…" if len(cell.key) > 16 else "")
        raise _CellProblem(
            _("No family of this study has the %(kind)s '%(key)s'.")
            % {"kind": ctx.kind_name(), "key": shown}
        )
    family_id, pseudonym = found
    indicator = ctx.catalogue.get(cell.code)
    if indicator is None:
        raise _CellProblem(
            _("Unknown indicator '%(code)s': not in this study's catalogue (see the codebook).")
            % {"code": cell.code}
        )
    duplicate_of = seen.get((family_id, cell.year, cell.code))
    if duplicate_of is not None:
        raise _CellProblem(
            _("Duplicate: row %(other)s already gives %(code)s of this family for %(year)s.")
            % {"other": duplicate_of, "code": cell.code, "year": cell.year}
        )
    seen[(family_id, cell.year, cell.code)] = cell.row
    wave = ctx.waves.get((family_id, cell.year))
    if wave is None:
        span = sorted(ctx.years.get(family_id, []))
        first, last = (span[0], span[-1]) if span else ("-", "-")
        raise _CellProblem(
            _("Family %(family)s has no wave in %(year)s (its waves cover %(first)s–%(last)s).")
            % {"family": pseudonym, "year": cell.year, "first": first, "last": last}
        )
    wave_id, wave_index, locked = wave
    if locked:
        raise _CellProblem(
            _(
                "Wave T%(index)s of family %(family)s (%(year)s) is locked; a data manager must "
                "unlock it first."
            )
            % {"index": wave_index, "family": pseudonym, "year": cell.year}
        )
    try:
        entry = parse_entry(missing_word(cell.raw), indicator=indicator)
    except ValidationError as exc:
        raise _CellProblem(value_problem(cell.code, cell.raw, exc)) from None
    family_roles = ctx.roles.get(family_id, set())
    if entry.value and indicator.level == Indicator.Level.CHILD and "child" not in family_roles:
        raise _CellProblem(
            _(
                "%(code)s is a child indicator, but family %(family)s has no child recorded; it "
                "must be 0 or a missing code."
            )
            % {"code": cell.code, "family": pseudonym}
        )
    if entry.value and indicator.level == Indicator.Level.ADULT and "adult" not in family_roles:
        raise _CellProblem(
            _("%(code)s is an adult indicator, but family %(family)s has no adult recorded.")
            % {"code": cell.code, "family": pseudonym}
        )
    return _Match(family_id, pseudonym, wave_id, wave_index, indicator, entry)


def _tally(check: Check, cell: Cell, match: _Match, current) -> None:
    """Count the matched cell as new, changed or unchanged; preview the first changes."""
    entry = match.entry
    if current == (entry.value, entry.missing_code):
        check.unchanged += 1
        return
    if current is None:
        check.created += 1
    else:
        check.updated += 1
    if len(check.preview) < PREVIEW_ROWS:
        check.preview.append(
            {
                "row": cell.row,
                "family": match.pseudonym,
                "year": cell.year,
                "wave": f"T{match.wave_index}",
                "indicator": cell.code,
                "old": "" if current is None else _show(*current),
                "new": _show(entry.value, entry.missing_code),
                "action": "new" if current is None else "changed",
            }
        )


def _whole_file_problems(check: Check, extract: Extract, ctx: _Context, unknown_keys: int) -> None:
    if extract.cells and unknown_keys == len(extract.cells):
        check.problems.insert(
            0,
            Problem(
                message=_(
                    "None of the keys in the file belongs to a family of this study: is this the "
                    "extract of another study, or keyed by %(other)s instead of %(kind)s?"
                )
                % {"other": ctx.kind_name(other=True), "kind": ctx.kind_name()}
            ),
        )
    if not extract.cells and not check.problems:
        check.problems.append(Problem(message=_("The file holds no values to import.")))


def _summary(check: Check, extract: Extract, families: set[int], per_indicator: dict) -> dict:
    years_seen = sorted({c.year for c in extract.cells})
    return {
        "rows": extract.rows,
        "values": len(extract.cells),
        "empty_cells": extract.empty_cells,
        "families": len(families),
        "years": [years_seen[0], years_seen[-1]] if years_seen else [],
        "indicators": dict(sorted(per_indicator.items())),
        "new": check.created,
        "changed": check.updated,
        "unchanged": check.unchanged,
    }


def extract_check(study: Study, extract: Extract, *, progress: Progress | None = None) -> Check:
    """Match every cell to a family, wave and indicator and check its value; a handful of queries."""
    check = Check(problems=list(extract.problems))
    ctx = _context(study, extract.key_kind)
    seen: dict[tuple[int, int, str], int] = {}
    unknown_keys = 0
    per_indicator: dict[str, int] = {}
    families: set[int] = set()
    total = max(len(extract.cells), 1)
    step = max(total // 20, 1)
    unknown_rows: set[int] = set()  # an unknown family is one problem per row, not per column
    for n, cell in enumerate(extract.cells):
        if progress and n % step == 0:
            progress(10 + int(80 * n / total), _("checking row %(row)s") % {"row": cell.row})
        try:
            match = _check_cell(ctx, cell, seen)
        except _CellProblem as exc:
            if ctx.lookup(cell.key) is None:
                unknown_keys += 1
                if cell.row in unknown_rows:
                    continue
                unknown_rows.add(cell.row)
            check.problems.append(
                Problem(message=str(exc), row=cell.row, column=cell.column, cell=cell.cell)
            )
            continue
        check.entries[(match.wave_id, match.indicator.pk)] = match.entry
        families.add(match.family_id)
        per_indicator[cell.code] = per_indicator.get(cell.code, 0) + 1
        _tally(check, cell, match, ctx.existing.get((match.wave_id, match.indicator.pk)))
    _whole_file_problems(check, extract, ctx, unknown_keys)
    check.summary = _summary(check, extract, families, per_indicator)
    return check
