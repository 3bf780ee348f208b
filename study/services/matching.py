"""The candidate pool of a matched study: recorded (replaced as a whole) by one service, read
from a CSV file by `candidates_from_csv` (screened like a registry extract first: a BSN or a
column of direct identifiers anywhere refuses the file, and no message repeats a number)."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from study.imports.problems import ImportFileError
from study.imports.screening import Limits, screen_bytes
from study.linkage import has_bsn
from study.models import MatchingCandidate, Study

VARIABLE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
#: Columns of the CSV file that are not matching variables.
KEY, YEAR, SELECTED, SET = "candidate_key", "intake_year", "selected", "match_set"
TRUE = {"1", "true", "ja", "yes", "j", "y", "x"}
FALSE = {"", "0", "false", "nee", "no", "n"}


@dataclass(frozen=True)
class CandidateSpec:
    key: str
    intake_year: int
    values: dict[str, float] = field(default_factory=dict)
    selected: bool = False
    match_set: str = ""


def _problem(row: int, message: str) -> str:
    return _("Candidate %(row)s: %(message)s") % {"row": row, "message": message}


def _check(number: int, spec: CandidateSpec, seen: set[str]) -> list[str]:
    problems = []
    key = spec.key.strip()
    if not key or len(key) > 64:
        problems.append(_problem(number, _("give a candidate key of at most 64 characters")))
    elif has_bsn(key):
        # Never the number itself: only that there is one.
        problems.append(
            _problem(number, _("the key holds a BSN; record the linkage key of pseudonymise"))
        )
    elif key in seen:
        problems.append(_problem(number, _("the candidate key occurs twice")))
    seen.add(key)
    if not 1900 <= spec.intake_year <= 2100:
        problems.append(_problem(number, _("the intake year is not a year")))
    problems += [_problem(number, p) for p in _value_problems(spec.values)]
    if spec.selected and not spec.match_set.strip():
        problems.append(_problem(number, _("a selected candidate needs its matched set")))
    if spec.match_set.strip() and not spec.selected:
        problems.append(_problem(number, _("a candidate in a set must be selected")))
    return problems


def _value_problems(values: dict[str, float]) -> list[str]:
    problems = []
    for name, value in values.items():
        if not VARIABLE.match(name):
            problems.append(_("a variable name is not a code"))
        elif not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(_("a matching variable is not a number"))
        elif has_bsn(str(int(value)) if float(value).is_integer() else str(value)):
            problems.append(_("a matching variable holds a BSN"))
    return problems


@transaction.atomic
def matching_candidates_record(
    *, study: Study, candidates: Iterable[CandidateSpec], user=None
) -> int:
    """Record a matched study's candidate pool, replacing the one recorded before (the pool is
    one list drawn at one time); all or nothing. Returns the number of candidates."""
    if study.allocation_method != Study.AllocationMethod.MATCHED:
        raise ValidationError(_("Only a matched study has a candidate pool."))
    specs = list(candidates)
    if not specs:
        raise ValidationError(_("The candidate pool is empty."))
    seen: set[str] = set()
    problems = [p for number, spec in enumerate(specs, 1) for p in _check(number, spec, seen)]
    if problems:
        raise ValidationError(problems)
    MatchingCandidate.objects.filter(study=study).delete()
    MatchingCandidate.objects.bulk_create(
        MatchingCandidate(
            study=study,
            candidate_key=spec.key.strip(),
            intake_year=spec.intake_year,
            values=dict(spec.values),
            selected=spec.selected,
            match_set=spec.match_set.strip(),
            recorded_by=user,
        )
        for spec in specs
    )
    return len(specs)


def _limits() -> Limits:
    return Limits(
        max_bytes=settings.IMPORT_MAX_BYTES,
        max_rows=settings.IMPORT_MAX_ROWS,
        max_columns=settings.IMPORT_MAX_COLUMNS,
        max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
        max_zip_ratio=settings.IMPORT_MAX_ZIP_RATIO,
    )


def _number(text: str, row: int) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise ValidationError(_problem(row, _("a matching variable is not a number"))) from None


def candidates_from_csv(content: bytes, filename: str) -> list[CandidateSpec]:
    """The candidates of a CSV file (comma or semicolon; UTF-8): candidate_key, intake_year,
    selected (1/0, ja/nee), match_set and one column per matching variable (empty: unknown).
    Screened first like a registry extract (ImportFileError: a BSN or an identifier column)."""
    screen_bytes(content, filename, limits=_limits())
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("The file is not UTF-8 text.")) from None
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip() for h in reader.fieldnames or []]
    if KEY not in header or YEAR not in header:
        raise ImportFileError(_("The file needs the columns candidate_key and intake_year."))
    out = []
    for row, raw in enumerate(reader, 1):
        cells = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        chosen = cells.get(SELECTED, "").casefold()
        if chosen not in TRUE | FALSE:
            raise ValidationError(_problem(row, _("selected is 1 or 0 (ja or nee)")))
        values = {
            name: _number(value, row)
            for name, value in cells.items()
            if name not in (KEY, YEAR, SELECTED, SET) and value != ""
        }
        if not cells[YEAR].isdigit():
            raise ValidationError(_problem(row, _("the intake year is not a year")))
        out.append(
            CandidateSpec(
                key=cells[KEY],
                intake_year=int(cells[YEAR]),
                values=values,
                selected=chosen in TRUE,
                match_set=cells.get(SET, ""),
            )
        )
    return out
