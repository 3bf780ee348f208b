"""Instrument exports: one row per administration (stored, or a wave-survey question seen as a
one-item instrument), the versions combined with a `version` column, one column per item and
score of every instrument, and a codebook that lists per variable the versions it exists in and
what changed. CSV, Excel (data + codebook), SPSS and Stata (item value labels, missing-data
reasons as user-missing codes)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _

from instruments.definition import Definition, changes_between, text_in
from instruments.legacy import AdministrationRow
from instruments.models import InstrumentVersion
from instruments.selectors import administration_rows, instrument_version_list
from study.exporting import (
    CSV_DIALECTS,
    SPSS_MISSING,
    STATA_MISSING,
    CsvDialect,
    csv_cells_into,
    csv_field,
    csv_lines,
    csv_safe_value,
    distinct_cells,
    float_cells,
    frame_csv_safe,
    frame_to_csv_bytes,
    stata_names,
)
from study.models import MissingCode, Study, Wave

FORMATS = {
    "csv": "text/csv",
    "codebook.csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
}
BASE = ["pseudonym", "arm", "wave", "year", "instrument", "version", "origin"]


def change_words(kind: str, version: int) -> str:
    """A codebook's words for one item's change (`definition.changes_between`), in the
    active language."""
    words = {
        "new": _("new in v%(version)s"),
        "wording": _("wording changed in v%(version)s"),
        "dropped": _("dropped in v%(version)s"),
    }
    return words[kind] % {"version": version}


def item_column(instrument: str, item: str) -> str:
    return f"{instrument}_{item}"


def score_column(instrument: str, score: str) -> str:
    return f"{instrument}_score_{score}"


def _variables(definitions: Iterable[Definition]) -> dict[str, dict]:
    """Every variable of the given versions, in instrument and first-appearance order."""
    out: dict[str, dict] = {}
    by_code: dict[str, list[Definition]] = {}
    for d in sorted(definitions, key=lambda d: (d.code, d.version)):
        by_code.setdefault(d.code, []).append(d)
    for code, versions in by_code.items():
        changes: dict[str, list[str]] = {}
        for old, new in zip(versions, versions[1:], strict=False):
            for item_code, kind, version in changes_between(old, new):
                changes.setdefault(item_code, []).append(change_words(kind, version))
        for d in versions:
            for item in d.items:
                var = out.setdefault(
                    item_column(code, item.code),
                    {
                        "instrument": code,
                        "kind": "item",
                        "label_nl": text_in(item.text, "nl"),
                        "label_en": text_in(item.text, "en"),
                        "values": {v: text_in(lbl, "nl") for v, lbl in item.scale.values.items()},
                        "values_en": {
                            v: text_in(lbl, "en") for v, lbl in item.scale.values.items()
                        },
                        "reverse": item.reverse,
                        "versions": [],
                        "changes": "; ".join(changes.get(item.code, [])),
                    },
                )
                var["versions"].append(d.version)
            for rule in d.scores:
                var = out.setdefault(
                    score_column(code, rule.code),
                    {
                        "instrument": code,
                        "kind": "score",
                        "label_nl": f"{d.label}: {text_in(rule.label, 'nl')}",
                        "label_en": text_in(rule.label, "en"),
                        "values": {},
                        "values_en": {},
                        "reverse": False,
                        "versions": [],
                        "rule": f"{rule.method} of {len(rule.items)} items, "
                        f"at least {rule.min_items} answered",
                        "score": {
                            "method": rule.method,
                            "items": len(rule.items),
                            "min_items": rule.min_items,
                        },
                        "comparable": "",
                    },
                )
                var["versions"].append(d.version)
                if d.comparable_with:
                    var["comparable"] = f"v{d.version} comparable with " + ", ".join(
                        f"v{v}" for v in d.comparable_with
                    )
                    var["comparable_with"] = (d.version, list(d.comparable_with))
    return out


#: What the codebook page reads beside the file's columns (not written to the file).
PAGE_ONLY = ("label", "value_labels", "score", "comparable_with")


def codebook(versions: Iterable[InstrumentVersion], *, language: str = "nl") -> list[dict]:
    """One row per variable: label, kind, value labels, the versions it exists in and what
    changed (items) or how it is computed and which versions are comparable (scores). The
    file's columns are fixed (label_nl, label_en, Dutch value labels, English rule text); the
    page reads `label`, `value_labels`, `score` and `comparable_with`, in its language."""
    rows = []
    for name, var in _variables(v.parsed for v in versions).items():
        labels = var["values_en"] if language == "en" else var["values"]
        rows.append(
            {
                "variable": name,
                "instrument": var["instrument"],
                "kind": var["kind"],
                "label_nl": var["label_nl"],
                "label_en": var["label_en"],
                "values": "; ".join(f"{k}={v}" for k, v in var["values"].items()),
                "reverse": "yes" if var["reverse"] else "",
                "versions": ", ".join(str(v) for v in var["versions"]),
                "changes": var.get("changes") or var.get("rule", ""),
                "comparable": var.get("comparable", ""),
                "label": var["label_en"] if language == "en" else var["label_nl"],
                "value_labels": "; ".join(f"{k}={v}" for k, v in labels.items()),
                "score": var.get("score"),
                "comparable_with": var.get("comparable_with"),
            }
        )
    return rows


def _cells(rows: list[AdministrationRow], variables: dict[str, dict]) -> tuple[dict, dict]:
    """Per variable, its value in each row (None: none) and per item its missing-data reason
    ("": none); answers, reasons and scores of columns no version has are left out."""
    n = len(rows)
    numbers: dict[str, list] = {name: [None] * n for name in variables}
    reasons: dict[str, list] = {
        f"{name}_missing": [""] * n for name, var in variables.items() if var["kind"] == "item"
    }
    for i, row in enumerate(rows):
        for item, value in row.answers.items():
            column = numbers.get(item_column(row.instrument, item))
            if column is not None:
                column[i] = value
        for item, code in row.missing_codes.items():
            column = reasons.get(f"{item_column(row.instrument, item)}_missing")
            if column is not None:
                column[i] = "" if code is None else code
        for score, value in row.scores.items():
            column = numbers.get(score_column(row.instrument, score))
            if column is not None:
                column[i] = value
    return numbers, reasons


@dataclass
class _Layout:
    """The administrations laid out in the table's row order: the variables, each variable's
    cells and each item's reasons (in the rows' order as read), the narrow key columns in the
    table's order and where each of its rows comes from (`taken`)."""

    variables: dict[str, dict]
    data: pd.DataFrame
    key: pd.DataFrame
    taken: np.ndarray


def _sparse_cells(
    rows: list[AdministrationRow], variables: dict[str, dict], items: list[str]
) -> tuple[np.ndarray, np.ndarray] | None:
    """`_cells` as two matrices, row by variable (NaN: none) and row by item ("": no reason),
    filled only where a row has a value (most cells of a row belong to other instruments);
    None when a value is no number (the table's coercion of text is then needed)."""
    number_at = {name: c for c, name in enumerate(variables)}
    reason_at = {f"{name}_missing": c for c, name in enumerate(items)}
    numbers: dict[tuple[int, int], object] = {}
    reasons: dict[tuple[int, int], object] = {}
    for i, row in enumerate(rows):
        for item, value in row.answers.items():
            c = number_at.get(item_column(row.instrument, item))
            if c is not None:
                numbers[i, c] = value
        for item, code in row.missing_codes.items():
            c = reason_at.get(f"{item_column(row.instrument, item)}_missing")
            if c is not None:
                reasons[i, c] = "" if code is None else code
        for score, value in row.scores.items():
            c = number_at.get(score_column(row.instrument, score))
            if c is not None:
                numbers[i, c] = value
    if not all(v is None or type(v) in (int, float) for v in numbers.values()):
        return None
    shape = len(rows), len(variables)
    return _matrix(numbers, shape, np.nan, float), _matrix(
        reasons, (len(rows), len(items)), "", object
    )


def _matrix(
    cells: dict[tuple[int, int], object], shape: tuple[int, int], fill, dtype
) -> np.ndarray:
    """A matrix of `shape` filled with `fill`, with `cells` (row, column -> value) set."""
    out = np.full(shape, fill, dtype=dtype)
    if cells:
        at = np.array(list(cells), dtype=np.int64)
        out[at[:, 0], at[:, 1]] = np.fromiter(cells.values(), dtype=dtype, count=len(cells))
    return out


def _layout(
    rows: list[AdministrationRow], waves: pd.DataFrame, versions: Iterable[InstrumentVersion]
) -> _Layout:
    variables = _variables(v.parsed for v in versions)
    n = len(rows)
    if rows:
        data = pd.DataFrame(
            {
                "wave_id": [r.wave_id for r in rows],
                "instrument": [r.instrument for r in rows],
                "version": [r.version for r in rows],
                "origin": [r.origin for r in rows],
            }
        )
    else:
        data = pd.DataFrame([], columns=["wave_id", "instrument", "version", "origin"])
    key = waves.merge(
        data[["wave_id", "instrument"]].assign(_row=np.arange(n)), on="wave_id", how="inner"
    ).sort_values(["pseudonym", "wave", "instrument"])
    taken = key["_row"].to_numpy(dtype=np.int64)
    return _Layout(variables, data, key, taken)


def _base_columns(layout: _Layout) -> dict[str, pd.Series]:
    key, data, taken = layout.key, layout.data, layout.taken
    columns: dict[str, pd.Series] = {
        name: key[name].reset_index(drop=True) for name in ("pseudonym", "arm", "wave", "year")
    }
    for name in ("instrument", "version", "origin"):
        columns[name] = data[name].take(taken).reset_index(drop=True)
    return columns


def instrument_frame(
    rows: list[AdministrationRow], waves: pd.DataFrame, versions: Iterable[InstrumentVersion]
) -> pd.DataFrame:
    """The administrations as one table (see the module docstring); `waves` has wave_id,
    pseudonym, arm, wave and year. Built column by column from lists (one DataFrame at the
    end, not one column insert per variable), and the rows ordered on the narrow key columns
    before the wide table is taken in that order."""
    layout = _layout(rows, waves, versions)
    data, taken = layout.data, layout.taken
    numbers, reasons = _cells(rows, layout.variables)

    def take(series: pd.Series) -> pd.Series:
        return series.take(taken).reset_index(drop=True)

    columns = _base_columns(layout)
    for name, var in layout.variables.items():
        columns[name] = pd.Series(_as_float(numbers[name])[taken])
        if var["kind"] == "item":
            reason = f"{name}_missing"
            text = pd.Series(reasons[reason], index=data.index) if rows else None
            columns[reason] = take(text if text is not None else pd.Series("", index=data.index))
    return pd.DataFrame(columns)


def instrument_csv(
    rows: list[AdministrationRow],
    waves: pd.DataFrame,
    versions: Iterable[InstrumentVersion],
    dialect: CsvDialect,
) -> bytes:
    """`frame_to_csv_bytes(instrument_frame(rows, waves, versions), dialect)`, written from the
    cells themselves (no column of the wide table made and read back): each distinct number of
    all variables formatted once, each distinct reason of all items guarded and quoted once.
    Anything unusual (no row, no variable, a reason that is not text) goes through the table."""
    versions = list(versions)
    layout = _layout(rows, waves, versions)
    items = [name for name, var in layout.variables.items() if var["kind"] == "item"]
    base = _base_columns(layout)
    names = list(base)
    for name, var in layout.variables.items():
        names += [name, f"{name}_missing"] if var["kind"] == "item" else [name]
    m, taken = len(layout.taken), layout.taken
    if not m or not items or len(set(names)) != len(names):
        return frame_to_csv_bytes(instrument_frame(rows, waves, versions), dialect)
    sparse = _sparse_cells(rows, layout.variables, items)
    if sparse is None:
        return frame_to_csv_bytes(instrument_frame(rows, waves, versions), dialect)
    numbers, reasons = sparse
    distinct, at = distinct_cells(reasons[taken].ravel())
    if not all(isinstance(v, str) for v in distinct):
        return frame_to_csv_bytes(instrument_frame(rows, waves, versions), dialect)
    field = csv_field(dialect)
    reason_cells = np.array([field(csv_safe_value(v)) for v in distinct] + [""], dtype=object)
    cells = np.empty((m, len(names)), dtype=object)
    if not csv_cells_into(cells, base.values(), dialect, field):
        return frame_to_csv_bytes(instrument_frame(rows, waves, versions), dialect)
    place = {name: c for c, name in enumerate(names)}
    cells[:, [place[name] for name in layout.variables]] = float_cells(numbers[taken], dialect)
    cells[:, [place[f"{name}_missing"] for name in items]] = reason_cells[at].reshape(m, len(items))
    return csv_lines(names, cells, dialect, field, header=True)


def _as_float(values: list) -> np.ndarray:
    """The cells as floats (None: NaN) in one numpy conversion; a column holding text goes
    through pandas' coercion instead (text that is no number becomes NaN)."""
    try:
        return np.array(values, dtype=float)
    except (TypeError, ValueError):
        series = pd.Series(values, dtype=object)
        return pd.to_numeric(series, errors="coerce").astype(float).to_numpy()


def wave_frame(families: QuerySet) -> pd.DataFrame:
    """wave_id, pseudonym, arm, wave and year of the families' live waves, in one query (the
    family columns joined in; panels.family_frame would also count members)."""
    rows = (
        Wave.objects.alive()
        .filter(family__in=families)
        .values_list("id", "family__pseudonym", "family__arm__kind", "index", "year")
    )
    return pd.DataFrame(list(rows), columns=["wave_id", "pseudonym", "arm", "wave", "year"])


def export_frames(study: Study, families: QuerySet) -> tuple[pd.DataFrame, pd.DataFrame]:
    versions = list(instrument_version_list(study=study))
    return _data_frame(families, versions), _codebook_frame(versions)


def _data_frame(families: QuerySet, versions: list[InstrumentVersion]) -> pd.DataFrame:
    return instrument_frame(administration_rows(families), wave_frame(families), versions)


def _data_csv(families: QuerySet, versions: list[InstrumentVersion]) -> bytes:
    rows = administration_rows(families)
    return instrument_csv(rows, wave_frame(families), versions, CSV_DIALECTS["csv"])


def _codebook_frame(versions: list[InstrumentVersion]) -> pd.DataFrame:
    return pd.DataFrame(codebook(versions)).drop(columns=list(PAGE_ONLY), errors="ignore")


def _readstat(frame: pd.DataFrame, book: pd.DataFrame, fmt: str) -> bytes:
    import pyreadstat

    data = frame.copy()
    data["arm"] = data["arm"].map({"comparison": 0, "intervention": 1}).astype(float)
    value_labels: dict[str, dict] = {"arm": {0.0: "vergelijkingsgroep", 1.0: "interventiegroep"}}
    codes = SPSS_MISSING if fmt == "sav" else STATA_MISSING
    reason_labels = {code: str(MissingCode(reason).label) for reason, code in codes.items()}
    for row in book.itertuples():
        if row.kind != "item":
            continue
        labels = {float(v.split("=", 1)[0]): v.split("=", 1)[1] for v in row.values.split("; ")}
        reasons = data[f"{row.variable}_missing"].map(codes)
        data[row.variable] = data[row.variable].astype(object).where(reasons.isna(), reasons)
        value_labels[row.variable] = {**labels, **reason_labels}
    labels = dict(zip(book["variable"], book["label_nl"], strict=True))
    names = list(data.columns)
    coded = [n for n in value_labels if n != "arm"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"instruments.{fmt}"
        if fmt == "sav":
            for n in coded:
                data[n] = data[n].astype(float)
            pyreadstat.write_sav(
                data,
                str(path),
                column_labels=[labels.get(n, n)[:250] for n in names],
                variable_value_labels=value_labels,
                missing_ranges={n: [{"lo": -4.0, "hi": -1.0}] for n in coded},
            )
        else:
            short = stata_names(names)
            data.columns = [short[n] for n in names]
            pyreadstat.write_dta(
                data,
                str(path),
                column_labels=[labels.get(n, n)[:80] for n in names],
                variable_value_labels={
                    short[k]: v for k, v in value_labels.items() if len(short[k]) < 32
                },
                missing_user_values={short[n]: sorted(STATA_MISSING.values()) for n in coded},
                version=15,
            )
        return path.read_bytes()


def export_bytes(study: Study, families: QuerySet, fmt: str) -> bytes:
    # the bytes of `frame_csv_safe(frame).to_csv(index=False)`, written from whole columns; a
    # CSV file builds only its own table (the data, or the codebook)
    if fmt == "csv":
        versions = list(instrument_version_list(study=study))
        return _data_csv(families, versions)
    if fmt == "codebook.csv":
        versions = list(instrument_version_list(study=study))
        return frame_to_csv_bytes(_codebook_frame(versions), CSV_DIALECTS["csv"])
    frame, book = export_frames(study, families)
    if fmt == "xlsx":
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            frame_csv_safe(frame).to_excel(writer, sheet_name="instruments", index=False)
            frame_csv_safe(book).to_excel(writer, sheet_name="codebook", index=False)
        return buffer.getvalue()
    if fmt in ("sav", "dta"):
        return _readstat(frame, book, fmt)
    raise ValueError(f"unknown instrument export format {fmt!r}")


def response(*, study: Study, families: QuerySet, fmt: str) -> HttpResponse:
    out = HttpResponse(export_bytes(study, families, fmt), content_type=FORMATS[fmt])
    out["Content-Disposition"] = f'attachment; filename="instruments-study{study.pk}.{fmt}"'
    return out
