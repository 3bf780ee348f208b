"""Exports for the researchers' own analysis: an analysis-ready panel and its codebook.

One row per family per wave (pre-intake registry years included), aligned both by calendar year
and by years since intake. Numeric columns stay numeric: a missing-data code becomes an empty
value with the reason in a companion column `<code>_missing`. Pseudonymised (never a linkage key)
and only for the families the user may see.
"""

from __future__ import annotations

import csv
import functools
import io
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from django.db.models import Count, FilteredRelation, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from study import panels
from study.catalogue import indicators_for
from study.models import MissingCode, Study, Wave

FORMATS = {
    "csv": "text/csv",
    # The same panel for a Dutch desktop: Excel set to Dutch reads ';' and decimal commas, and
    # needs the byte-order mark to see UTF-8 (otherwise "é" shows as "Ã©").
    "csv-nl": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
}
BASE_LABELS = {
    "pseudonym": ("pseudoniem van het gezin", "family pseudonym"),
    "arm": ("groep (interventie/vergelijking)", "arm (intervention/comparison)"),
    "wijk": ("wijk", "district"),
    "intake_year": ("jaar van intake", "year of intake"),
    "status": ("status van het gezin", "family status"),
    "wave": (
        "meting (T-2 ... T5; negatief = registerjaar voor intake)",
        "wave (negative = pre-intake registry year)",
    ),
    "year": ("kalenderjaar", "calendar year"),
    "years_since_intake": ("jaren sinds intake", "years since intake"),
}
SURVEY_LABELS = {
    "satisfaction": (
        "tevredenheid gemeentelijke ondersteuning (0-10)",
        "satisfaction with support (0-10)",
    ),
    "qol_score": ("score instrument kwaliteit van leven", "quality-of-life instrument score"),
    "qol_rating": ("kwaliteit van leven algemeen (0-10)", "quality of life overall (0-10)"),
    "participation_step": ("trede participatieladder (1-6)", "participation ladder step (1-6)"),
    "reachability": ("bereikbaarheid hulpverleners (0-10)", "reachability of care workers (0-10)"),
}
ARM_CODES = {"comparison": 0, "intervention": 1}
ARM_LABELS = {0: "vergelijkingsgroep", 1: "interventiegroep"}
#: The family status as a labelled number in SPSS and Stata (the CSV keeps the code).
STATUS_CODES = {
    "active": 1,
    "completed": 2,
    "dropped_out": 3,
    "moved_away": 4,
    "deceased": 5,
    "withdrawn": 6,
}


def status_labels() -> dict[int, str]:
    """The status codes' Dutch labels, from the model's choices (one place; built once per
    process, the choices are code)."""
    return dict(_status_labels())


@functools.cache
def _status_labels() -> tuple[tuple[int, str], ...]:
    from django.utils import translation

    from study.models import Family

    with translation.override("nl"):
        return tuple((STATUS_CODES[value], str(label)) for value, label in Family.Status.choices)


@dataclass(frozen=True)
class CsvDialect:
    sep: str
    decimal: str
    bom: bool


#: The international CSV (',' and decimal points, what R, Stata and pandas expect) and the one
#: for Dutch Excel (';', decimal commas, a UTF-8 byte-order mark).
CSV_DIALECTS = {
    "csv": CsvDialect(sep=",", decimal=".", bom=False),
    "csv-nl": CsvDialect(sep=";", decimal=",", bom=True),
}
BOM = "\ufeff".encode()


def csv_dialect(name: str | None) -> CsvDialect:
    """The dialect a request asks for (`nl` or `csv-nl`: Dutch Excel); anything else is the
    international CSV."""
    return CSV_DIALECTS["csv-nl"] if name in {"nl", "csv-nl"} else CSV_DIALECTS["csv"]


def frame_to_csv_bytes(frame: pd.DataFrame, dialect: CsvDialect, *, header: bool = True) -> bytes:
    """A frame as CSV text in one dialect, formula-safe (the BOM is the caller's, once).

    The bytes pandas' `to_csv` writes for `frame_csv_safe(frame)`, written from whole columns:
    numbers formatted as pandas does (numpy's shortest repr, the decimal mark swapped), each
    distinct text value guarded and quoted once by the csv module, the rows joined in C. A
    frame with other column types goes through pandas itself."""
    text = _columns_to_csv(frame, dialect, header=header)
    if text is None:
        text = frame_csv_safe(frame).to_csv(
            index=False, header=header, sep=dialect.sep, decimal=dialect.decimal
        )
    return text.encode("utf-8")


def csv_field(dialect: CsvDialect) -> Callable[[object], str]:
    """One cell as the csv module writes it in a row of several (pandas' writer: minimal
    quoting, doubled quotes, '\\n' line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=dialect.sep,
        quotechar='"',
        doublequote=True,
        escapechar=None,
        lineterminator="\n",
        quoting=csv.QUOTE_MINIMAL,
    )
    tail = len(dialect.sep) + 1

    def field(value: object) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([value, ""])
        return buffer.getvalue()[:-tail]

    return field


def csv_cells(series: pd.Series, dialect: CsvDialect, field) -> list[str] | None:
    """A column's cells as CSV text, as pandas' `get_values_for_csv` and the csv module make
    them (missing: ""); None for a type this does not know (the caller uses pandas)."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return float_cells(series.to_numpy(), dialect).tolist()
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return series.to_numpy().astype(str).tolist()
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype):
        values = series.to_numpy(dtype=object, na_value=None)
        return ["" if v is None else str(v) for v in values]
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        # text, formula-guarded and quoted once per distinct value (a column has few)
        values = series.to_numpy(dtype=object)
        try:
            codes, distinct = pd.factorize(values, use_na_sentinel=True)
        except TypeError:  # an unhashable cell
            return None
        cells = np.array([field(csv_safe_value(v)) for v in distinct] + [""], dtype=object)
        codes[codes < 0] = len(distinct)
        return cells[codes].tolist()
    return None


def _columns_to_csv(frame: pd.DataFrame, dialect: CsvDialect, *, header: bool) -> str | None:
    names = list(frame.columns)
    if (
        len(names) < 2
        or dialect.decimal == dialect.sep
        or not all(isinstance(n, str) for n in names)
        or frame.columns.has_duplicates
    ):
        return None
    field = csv_field(dialect)
    columns = []
    for name in names:
        cells = csv_cells(frame[name], dialect, field)
        if cells is None:
            return None
        columns.append(cells)
    sep = dialect.sep
    lines = [sep.join(field(n) for n in names)] if header else []
    lines.extend(map(sep.join, zip(*columns, strict=True)))
    return "\n".join(lines) + "\n" if lines else ""


#: A text cell starting with one of these is a formula to a spreadsheet (CSV/formula injection):
#: `=cmd|"/c calc"!A1` as a wijk name would run on opening.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_safe_value(value):
    """A text value a spreadsheet would read as a formula gets a leading apostrophe (OWASP's
    advice); numbers, and text that parses as a number (-3, +31), stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def csv_safe(row: list) -> list:
    return [csv_safe_value(v) for v in row]


def _formula_like(cells: pd.Series) -> np.ndarray:
    """Which cells `csv_safe_value` changes: the distinct values are tested (a text column has
    few: codes, reasons, wijken), then looked up in one vectorised `isin`."""
    try:
        distinct = pd.unique(cells)
    except TypeError:  # an unhashable cell: test every cell
        return cells.map(lambda v: csv_safe_value(v) is not v).to_numpy(dtype=bool)
    risky = [v for v in distinct if csv_safe_value(v) is not v]
    if not risky:
        return np.zeros(len(cells), dtype=bool)
    return cells.isin(risky).to_numpy(dtype=bool)


def frame_csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text column neutralised (numeric columns untouched). Vectorised:
    one test over the distinct text cells of all columns at once; only the cells that start
    like a formula go through `csv_safe_value`."""
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if not text or frame.empty:
        return frame
    cells = pd.Series(np.concatenate([frame[c].to_numpy(dtype=object) for c in text]), dtype=object)
    risky = _formula_like(cells).reshape(len(text), len(frame))
    if not risky.any():
        return frame
    safe = frame.copy()
    for column, starts in zip(text, risky, strict=True):
        if starts.any():
            safe[column] = safe[column].astype(object)
            safe.loc[starts, column] = safe.loc[starts, column].map(csv_safe_value)
    return safe


def _xlsx_text_stays_text(book) -> None:
    """openpyxl stores a string that starts with '=' as a formula: make every such cell a
    string cell again, so the spreadsheet shows the text and computes nothing."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


#: The panel's family and wave columns, read in one query over the live waves.
_WAVE_FIELDS = (
    "id",
    "family_id",
    "index",
    "year",
    "family__pseudonym",
    "family__arm__kind",
    "family__wijk",
    "family__intake_date",
    "family__status",
)
_WAVE_COLUMNS = (
    "wave_id",
    "family_id",
    "wave",
    "year",
    "pseudonym",
    "arm",
    "wijk",
    "intake_date",
    "status",
)


def _live_waves(families: QuerySet) -> QuerySet:
    """The families' live waves with their family's columns and their live survey's scores
    (a wave has at most one survey, and a family one wave per index), as tuples, unordered
    (the caller sorts them on pseudonym and wave, both unique: no join of the study to order
    them by its name first)."""
    scores = [f"live_survey__{name}" for name in SURVEY_LABELS]
    return (
        Wave.objects.alive()
        .filter(family__in=families)
        .annotate(live_survey=FilteredRelation("survey", condition=Q(survey__is_deleted=False)))
        .values_list(*_WAVE_FIELDS, *scores)
        .order_by()
    )


@dataclass
class _Panel:
    """The panel's columns before they are a frame: the family and wave columns, the indicator
    values and reasons as two matrices (one column per indicator), the survey scores."""

    base: dict[str, object]
    codes: list[str]
    values: np.ndarray
    reasons: np.ndarray
    surveys: dict[str, np.ndarray]
    rows: int

    def columns(self) -> dict[str, object]:
        """The frame's columns in its order (base, each indicator and its reason, surveys)."""
        columns = dict(self.base)
        # the reasons as one text array, each indicator's column a slice of it (not 40 arrays)
        reason_text = pd.Series(np.ascontiguousarray(self.reasons.T).ravel()).array
        n = self.rows
        for j, code in enumerate(self.codes):
            columns[code] = self.values[:, j]
            columns[f"{code}_missing"] = reason_text[j * n : (j + 1) * n]
        columns.update(self.surveys)
        return columns

    def names(self) -> list[str]:
        names = list(self.base)
        for code in self.codes:
            names += [code, f"{code}_missing"]
        return names + list(self.surveys)


def _base_columns(waves: pd.DataFrame, intake_year) -> dict[str, object]:
    """The panel's family and wave columns (BASE_LABELS) from the waves' rows."""
    columns: dict[str, object] = {}
    for name in BASE_LABELS:
        if name == "intake_year":
            columns[name] = intake_year
        elif name == "years_since_intake":
            columns[name] = (waves["year"] - pd.Series(intake_year)).array
        else:
            columns[name] = waves[name].array
    return columns


def _panel(study: Study, families: QuerySet, indicators: list | None = None) -> _Panel | None:
    """The panel's columns (see `panel_frame`); None when there is no live wave."""
    indicators = list(indicators_for(study)) if indicators is None else indicators
    rows = list(_live_waves(families))
    if not rows:
        return None
    rows.sort(key=lambda r: (r[4], r[2]))  # pseudonym, wave index
    width = len(_WAVE_COLUMNS)
    waves = pd.DataFrame([r[:width] for r in rows], columns=list(_WAVE_COLUMNS))
    intake_year = pd.array(
        [None if d is None else d.year for d in waves["intake_date"]], dtype="Int64"
    )
    base = _base_columns(waves, intake_year)
    values, reasons = panels.indicator_grid(
        waves["wave_id"].tolist(), families, [i.pk for i in indicators]
    )
    surveys = {}
    for k, name in enumerate(SURVEY_LABELS):
        scores = pd.Series([r[width + k] for r in rows], dtype=object)
        surveys[name] = pd.to_numeric(scores, errors="coerce").astype(float).to_numpy()
    codes = [i.code for i in indicators]
    return _Panel(base, codes, values, reasons, surveys, len(rows))


def _empty_panel_frame(study: Study, indicators: list) -> pd.DataFrame:
    """The panel of no live wave, as it has always been built (its columns' types)."""
    codes = [i.code for i in indicators]
    waves = pd.DataFrame([], columns=list(_WAVE_COLUMNS))
    intake_year = pd.array([], dtype="Int64")
    columns: dict[str, object] = _base_columns(waves, intake_year)
    reasons = pd.Series(np.empty(0, dtype=object)).array
    for code in codes:
        columns[code] = np.empty(0)
        columns[f"{code}_missing"] = reasons[0:0]
    for name in SURVEY_LABELS:
        columns[name] = np.empty(0)
    return pd.DataFrame(columns)


def panel_frame(study: Study, families: QuerySet, indicators: list | None = None) -> pd.DataFrame:
    """The analysis-ready panel of the given (already access-filtered) families of a study:
    a fixed number of queries (live waves with their family's columns and survey scores,
    indicator values), laid out with vectorised numpy (no loop per value). The wave rows are
    put in their final order (pseudonym, wave: both unique) as they are read, so no merge or
    sort of a frame is needed, and the frame is made once from whole columns (no index to
    align)."""
    indicators = list(indicators_for(study)) if indicators is None else indicators
    panel = _panel(study, families, indicators)
    if panel is None:
        return _empty_panel_frame(study, indicators)
    return pd.DataFrame(panel.columns())


def _panel_csv(panel: _Panel, dialect: CsvDialect, *, header: bool) -> bytes | None:
    """The bytes `frame_to_csv_bytes(pd.DataFrame(panel.columns()))` writes, from the columns
    themselves (no frame): each distinct number of all the float columns formatted once, each
    distinct text of all the reason columns guarded and quoted once, the rows joined in C.
    None when the names would make pandas' writer do something else (duplicates)."""
    names = panel.names()
    if len(set(names)) != len(names) or dialect.decimal == dialect.sep:
        return None
    field = csv_field(dialect)
    n, k = panel.rows, len(panel.codes)
    # all float columns (indicators, then surveys) in one matrix, formatted together
    floats = np.column_stack([panel.values, *panel.surveys.values()]) if n else panel.values
    number_text = float_cells(floats, dialect)
    distinct_reasons, at = distinct_cells(panel.reasons.ravel())
    reason_cells = np.array(
        [field(csv_safe_value(v)) for v in distinct_reasons] + [""], dtype=object
    )
    reason_text = reason_cells[at].reshape(n, k)
    cells = np.empty((n, len(names)), dtype=object)
    width = len(panel.base)
    columns = (pd.Series(column, copy=False) for column in panel.base.values())
    if not csv_cells_into(cells, columns, dialect, field):
        return None
    cells[:, width : width + 2 * k : 2] = number_text[:, :k]
    cells[:, width + 1 : width + 2 * k : 2] = reason_text
    cells[:, width + 2 * k :] = number_text[:, k:]
    return csv_lines(names, cells, dialect, field, header=header)


def csv_cells_into(
    cells: np.ndarray, columns: Iterable[pd.Series], dialect: CsvDialect, field
) -> bool:
    """Each column's CSV cells (`csv_cells`) into the first columns of the cell matrix, in
    order; False when one of them would make pandas' writer do something else."""
    for c, column in enumerate(columns):
        found = csv_cells(column, dialect, field)
        if found is None:
            return False
        cells[:, c] = found
    return True


def csv_lines(
    names: list[str], cells: np.ndarray, dialect: CsvDialect, field, *, header: bool
) -> bytes:
    """A matrix of CSV cells (text, already quoted) as the file's bytes: the names' line
    first when `header`, one line per row, each line ended (nothing at all for no line)."""
    sep = dialect.sep
    lines = [sep.join(field(name) for name in names)] if header else []
    lines.extend(map(sep.join, cells.tolist()))
    return ("\n".join(lines) + "\n" if lines else "").encode("utf-8")


def float_cells(values: np.ndarray, dialect: CsvDialect) -> np.ndarray:
    """A float array (a column or a matrix) as CSV text, cell by cell as pandas writes it:
    each distinct number (by its bits: 0.0 and -0.0 differ) formatted once."""
    flat = np.ascontiguousarray(values).ravel()
    bits, at = np.unique(flat.view(f"i{flat.itemsize}"), return_inverse=True)
    text = bits.view(flat.dtype).astype(str)
    if dialect.decimal != "." and len(text):
        text = np.strings.replace(text, ".", dialect.decimal, 1)
    cells = text.astype(object)[at.reshape(-1)]
    cells[np.isnan(flat)] = ""
    return cells.reshape(values.shape)


def distinct_cells(values: np.ndarray) -> tuple[list, np.ndarray]:
    """The distinct values of an object array and each cell's place among them (a missing
    cell: one past the last)."""
    at, distinct = pd.factorize(values, use_na_sentinel=True)
    at[at < 0] = len(distinct)
    return list(distinct), at


def codebook_frame(study: Study, indicators: list | None = None) -> pd.DataFrame:
    """Variable, its Stata name (Stata allows 32 characters, so long names are shortened there),
    Dutch and English label, type, unit, range, SPSS measure and format, value labels and
    source — from the catalogue."""
    rows = [
        {
            "variable": k,
            "label_nl": nl,
            "label_en": en,
            "type": "text" if k in {"pseudonym", "arm", "wijk", "status"} else "integer",
            "unit": "",
            "range": "",
            "source": "study",
        }
        for k, (nl, en) in BASE_LABELS.items()
    ]
    indicators = list(indicators_for(study)) if indicators is None else indicators
    for ind in indicators:
        rows.append(
            {
                "variable": ind.code,
                "label_nl": ind.label_nl,
                "label_en": ind.label_en,
                "type": "number",
                "unit": ind.kind,
                "range": f"{ind.min_value:f}-{ind.max_value:f}",
                "source": "registry",
            }
        )
        rows.append(
            {
                "variable": f"{ind.code}_missing",
                "label_nl": f"reden ontbreken: {ind.label_nl}",
                "label_en": f"why missing: {ind.label_en}",
                "type": "text",
                "unit": "",
                "range": ", ".join(MissingCode.values),
                "source": "registry",
            }
        )
    for field, (nl, en) in SURVEY_LABELS.items():
        rows.append(
            {
                "variable": field,
                "label_nl": nl,
                "label_en": en,
                "type": "number",
                "unit": "score",
                "range": "",
                "source": "survey",
            }
        )
    book = pd.DataFrame(rows)
    book.loc[book["variable"] == "status", "type"] = "text (SPSS/Stata: labelled number)"
    short = stata_names(list(book["variable"]))
    measures, formats = spss_measures_and_formats(study, indicators)
    book.insert(1, "stata_name", book["variable"].map(short))
    book["spss_measure"] = book["variable"].map(measures).fillna("")
    book["spss_format"] = book["variable"].map(formats).fillna("")
    values = {
        "arm": "; ".join(f"{k}={v}" for k, v in ARM_LABELS.items()),
        "status": "; ".join(f"{k}={v}" for k, v in status_labels().items()),
    }
    book["value_labels"] = book["variable"].map(values).fillna("")
    return book


#: Catalogue kinds whose values are whole numbers (counts, days, flags); euros keep cents.
FRACTIONAL_KINDS = {"euros"}
SURVEY_FORMATS = {
    "satisfaction": ("ordinal", "F2.0"),
    "qol_score": ("scale", "F8.2"),
    "qol_rating": ("ordinal", "F2.0"),
    "participation_step": ("ordinal", "F2.0"),
    "reachability": ("ordinal", "F2.0"),
}
BASE_FORMATS = {
    "pseudonym": ("nominal", None),
    "arm": ("nominal", "F1.0"),
    "wijk": ("nominal", None),
    "intake_year": ("scale", "F4.0"),
    "status": ("nominal", "F1.0"),
    "wave": ("ordinal", "F2.0"),
    "year": ("scale", "F4.0"),
    "years_since_intake": ("scale", "F3.0"),
}


def _numeric_format(maximum, *, whole: bool) -> str:
    """F<w>.<d> wide enough for the catalogue maximum and the negative missing codes (-4)."""
    digits = max(len(str(int(maximum))), 1)
    if whole:
        return f"F{max(digits, 2)}.0"
    return f"F{max(digits, 1) + 3}.2"


def spss_measures_and_formats(
    study: Study, indicators: list | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """SPSS measure level (nominal / ordinal / scale) and print format of every panel column."""
    measures: dict[str, str] = {}
    formats: dict[str, str] = {}
    for name, (measure, fmt) in {**BASE_FORMATS, **SURVEY_FORMATS}.items():
        measures[name] = measure
        if fmt:
            formats[name] = fmt
    for ind in list(indicators_for(study)) if indicators is None else indicators:
        measures[ind.code] = "nominal" if ind.kind == "flag" else "scale"
        formats[ind.code] = _numeric_format(ind.max_value, whole=ind.kind not in FRACTIONAL_KINDS)
        measures[f"{ind.code}_missing"] = "nominal"
    return measures, formats


def _labels(study: Study, indicators: list) -> dict[str, str]:
    """Every panel column's Dutch label: the codebook's `label_nl` (its rows, without
    building its frame)."""
    labels = {name: nl for name, (nl, _en) in BASE_LABELS.items()}
    for ind in indicators:
        labels[ind.code] = ind.label_nl
        labels[f"{ind.code}_missing"] = f"reden ontbreken: {ind.label_nl}"
    labels.update({name: nl for name, (nl, _en) in SURVEY_LABELS.items()})
    return labels


def export_bytes(study: Study, families: QuerySet, fmt: str) -> tuple[bytes, int]:
    """The panel in one format (csv, xlsx with a codebook sheet, sav, dta); returns (bytes, rows)."""
    buffer = io.BytesIO()
    rows = export_write(study, families, fmt, buffer)
    return buffer.getvalue(), rows


def export_rows(families: QuerySet) -> int:
    """How many panel rows an export of these families has (one per live wave), without building it."""
    return Wave.objects.alive().filter(family__in=families).count()


def export_family_ids(families: QuerySet) -> list[int]:
    """The families' ids in pseudonym order: what the read log records and the CSV stream
    cuts into pieces (read once per request)."""
    return list(families.order_by("pseudonym").values_list("pk", flat=True))


def export_family_ids_and_rows(families: QuerySet) -> tuple[list[int], int]:
    """`export_family_ids` and `export_rows` in one query: the ids in pseudonym order and the
    number of panel rows (each family's live waves, counted beside it)."""
    live_waves = (
        Wave.objects.alive()
        .filter(family=OuterRef("pk"))
        .order_by()
        .values("family")
        .annotate(n=Count("pk"))
        .values("n")
    )
    found = list(
        families.order_by("pseudonym")
        .annotate(panel_rows=Coalesce(Subquery(live_waves), 0))
        .values_list("pk", "panel_rows")
    )
    return [pk for pk, _n in found], sum(n for _pk, n in found)


def _csv_pieces(
    study: Study,
    families: QuerySet,
    chunk: int,
    dialect: CsvDialect,
    family_ids: list[int] | None = None,
) -> Iterator[tuple[bytes, int]]:
    ids = export_family_ids(families) if family_ids is None else family_ids
    indicators = list(indicators_for(study))  # one catalogue query for all pieces
    header = True
    for start in range(0, max(len(ids), 1), chunk):
        part = families.model.objects.filter(pk__in=ids[start : start + chunk])
        panel = _panel(study, part, indicators)
        piece = None if panel is None else _panel_csv(panel, dialect, header=header)
        if piece is None:
            frame = (
                _empty_panel_frame(study, indicators)
                if panel is None
                else pd.DataFrame(panel.columns())
            )
            piece = frame_to_csv_bytes(frame, dialect, header=header)
        yield (BOM + piece if header and dialect.bom else piece), 0 if panel is None else panel.rows
        header = False


def export_csv_stream(
    study: Study,
    families: QuerySet,
    *,
    chunk: int = 250,
    fmt: str = "csv",
    family_ids: list[int] | None = None,
) -> Iterator[bytes]:
    """The CSV panel in pieces of `chunk` families (in pseudonym order), so a large study streams
    to the browser from the first family on instead of being built in memory first.
    `family_ids`: the families' ids from `export_family_ids`, when the caller already has them."""
    for piece, _rows in _csv_pieces(study, families, chunk, CSV_DIALECTS[fmt], family_ids):
        yield piece


def export_write(study: Study, families: QuerySet, fmt: str, out: BinaryIO) -> int:
    """Write the panel in one format to a binary file object; returns the number of rows."""
    if fmt in CSV_DIALECTS:
        rows = 0
        for piece, n in _csv_pieces(study, families, 250, CSV_DIALECTS[fmt]):
            out.write(piece)
            rows += n
        return rows
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}'; use one of {', '.join(FORMATS)}")
    indicators = list(indicators_for(study))  # one catalogue query for panel and codebook
    frame = panel_frame(study, families, indicators)
    if fmt == "xlsx":
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name="panel", index=False)
            codebook_frame(study, indicators).to_excel(writer, sheet_name="codebook", index=False)
            _xlsx_text_stays_text(writer.book)
    else:
        out.write(_readstat_bytes(study, frame, fmt, indicators))
    return len(frame)


def _readstat_bytes(study: Study, frame: pd.DataFrame, fmt: str, indicators: list) -> bytes:
    import pyreadstat

    # pyreadstat reads the cells one by one: from numpy object arrays, not element by element
    # out of pyarrow-backed text columns (half of its time). The file is the same.
    data = pd.DataFrame(
        {
            name: (
                _objects(column.astype(object).to_numpy(), frame.index)
                if pd.api.types.is_string_dtype(column) and column.dtype != object
                else _kept(column)
            )
            for name, column in frame.items()
        }
    )
    data["arm"] = data["arm"].map(ARM_CODES).astype(float)
    data["status"] = data["status"].map(STATUS_CODES).astype(float)
    labels = _labels(study, indicators)
    measures, formats = spss_measures_and_formats(study, indicators)
    names = list(data.columns)
    value_labels: dict[str, dict] = {
        "arm": {float(k): v for k, v in ARM_LABELS.items()},
        "status": {float(k): v for k, v in status_labels().items()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{fmt}"
        if fmt == "sav":
            data, missing_ranges = _spss_user_missing(data, value_labels)
            pyreadstat.write_sav(
                data,
                str(path),
                column_labels=[labels.get(n, n) for n in names],
                variable_value_labels=value_labels,
                missing_ranges=missing_ranges,
                variable_measure={n: measures[n] for n in names if n in measures},
                variable_format={n: formats[n] for n in names if n in formats},
            )
        else:
            # Stata allows 32-character names and 80-character labels; a shortened name keeps
            # its full name at the start of its label.
            data, missing_values = _stata_extended_missing(data, value_labels)
            coded = list(missing_values)
            short = stata_names(names)
            data.columns = [short[n] for n in names]
            column_labels = [
                (labels.get(n, n) if short[n] == n else f"{n}: {labels.get(n, n)}")[:80]
                for n in names
            ]
            pyreadstat.write_dta(
                data,
                str(path),
                column_labels=column_labels,
                # A label set takes its variable's name, and Stata allows 31 characters there.
                variable_value_labels={
                    short[k]: v for k, v in value_labels.items() if len(short[k]) < 32
                },
                missing_user_values={short[k]: v for k, v in missing_values.items()},
                variable_format={
                    short[n]: f"%{fmt[1:].split('.')[0]}.{fmt.split('.')[1]}f"
                    for n, fmt in formats.items()
                    if n in short
                },
                version=15,
            )
            shared = {short[c]: "missing_reason" for c in coded if len(short[c]) < 32}
            return stata_share_value_labels(path.read_bytes(), shared)
        return path.read_bytes()


def _objects(values: np.ndarray, index: pd.Index) -> pd.Series:
    """An object column that stays one: a frame made from a bare object array would read
    text into pandas' string type again."""
    return pd.Series(values, index=index, dtype=object, copy=False)


def _kept(column: pd.Series):
    """A frame's column to make a new frame from, its type unchanged (no index to align)."""
    return _objects(column.to_numpy(), column.index) if column.dtype == object else column.array


# SPSS user-missing codes for the missing-data reasons (registry values are never negative).
SPSS_MISSING = {
    "unknown": -1.0,
    "refused": -2.0,
    "not_applicable": -3.0,
    "not_delivered": -4.0,
}


def _reasons_as_codes(
    data: pd.DataFrame, value_labels: dict, codes: dict, *, as_float: bool = False
) -> tuple[pd.DataFrame, list[str]]:
    """Put each missing-data reason into its numeric column as the format's own missing code
    (`codes`: reason -> code), with a value label naming the reason; returns the frame (made
    once, not a column insert per variable) and the columns coded. A coded column holds
    objects (the value as a float, or the code), or with `as_float` floats. The reason column
    stays beside it for other tools. Each reason column's few distinct values are looked up
    once."""
    labels = {code: str(MissingCode(reason).label) for reason, code in codes.items()}
    names = set(data.columns)
    coded_columns = [c for c in data.columns if f"{c}_missing" in names]
    if not coded_columns:
        return data, []
    columns: dict[str, object] = {name: _kept(column) for name, column in data.items()}
    for column in coded_columns:
        reasons = data[f"{column}_missing"].to_numpy(dtype=object)
        at, distinct = pd.factorize(reasons, use_na_sentinel=True)
        found = [codes.get(reason) for reason in distinct] + [None]
        at[at < 0] = len(distinct)
        coded = np.asarray(found, dtype=object)[at]
        missing = pd.isna(coded)
        values = data[column].astype(float).to_numpy(dtype=object)
        merged = np.where(missing, values, coded)
        columns[column] = merged.astype(float) if as_float else _objects(merged, data.index)
        value_labels[column] = labels
    return pd.DataFrame(columns), coded_columns


def _spss_user_missing(data: pd.DataFrame, value_labels: dict) -> tuple[pd.DataFrame, dict]:
    """Negative codes declared user-missing, as SPSS users expect (`MISSING VALUES x (-4 THRU
    -1)`)."""
    data, columns = _reasons_as_codes(data, value_labels, SPSS_MISSING, as_float=True)
    return data, {column: [{"lo": -4.0, "hi": -1.0}] for column in columns}


# Stata extended missing values for the missing-data reasons (.a … .d).
STATA_MISSING = {"unknown": "a", "refused": "b", "not_applicable": "c", "not_delivered": "d"}


def _stata_extended_missing(data: pd.DataFrame, value_labels: dict) -> tuple[pd.DataFrame, dict]:
    """Stata's extended missing values (.a unknown, .b refused, .c not applicable, .d not
    delivered): Stata treats them as missing while `tab x, missing` still shows why."""
    data, columns = _reasons_as_codes(data, value_labels, STATA_MISSING)
    return data, {column: sorted(STATA_MISSING.values()) for column in columns}


def stata_names(names: list[str]) -> dict[str, str]:
    """Unique names of at most 32 characters ('_missing' becomes '_m' first)."""
    out, used = {}, set()
    for name in names:
        short = name if len(name) <= 32 else name.replace("_missing", "_m")[:32]
        candidate, i = short, 1
        while candidate in used:
            suffix = f"_{i}"
            candidate, i = short[: 32 - len(suffix)] + suffix, i + 1
        used.add(candidate)
        out[name] = candidate
    return out


DTA_NAME = 129  # bytes of a variable or label-set name in Stata's 118/119 formats


def stata_share_value_labels(raw: bytes, shared: dict[str, str]) -> bytes:
    """Point every variable in `shared` (Stata name -> label-set name) at one shared label set
    and keep one copy of it, as Stata users write `label values x y z reason`: pyreadstat writes
    a copy per variable (40 identical sets of missing reasons).

    Edits the .dta (format 118/119, little-endian as pyreadstat writes it) through its map:
    value-label names are fixed-width, so only the value-label table and the two offsets after
    it change. A file in any other layout is returned unchanged.
    """
    if not shared or b"<byteorder>LSF</byteorder>" not in raw[:200]:
        return raw
    release = raw[raw.find(b"<release>") + 9 : raw.find(b"</release>")]
    if release not in {b"118", b"119"}:
        return raw
    map_at = raw.find(b"<map>") + len(b"<map>")
    offsets = list(struct.unpack("<14Q", raw[map_at : map_at + 14 * 8]))
    names_at = offsets[3] + len(b"<varnames>")
    lblnames_at = offsets[6] + len(b"<value_label_names>")
    nvar = (offsets[7] - len(b"</value_label_names>") - lblnames_at) // DTA_NAME

    def field(at: int) -> str:
        return raw[at : at + DTA_NAME].split(b"\0", 1)[0].decode("utf-8")

    def padded(name: str) -> bytes:
        encoded = name.encode("utf-8")[: DTA_NAME - 1]
        return encoded + b"\0" * (DTA_NAME - len(encoded))

    variables = [field(names_at + i * DTA_NAME) for i in range(nvar)]
    set_of = [field(lblnames_at + i * DTA_NAME) for i in range(nvar)]
    # The value-label tables: <lbl> length(4) name(129) padding(3) table </lbl>.
    start, end = offsets[11] + len(b"<value_labels>"), offsets[12] - len(b"</value_labels>")
    tables: dict[str, bytes] = {}
    at = start
    while at < end:
        length = struct.unpack("<I", raw[at + 5 : at + 9])[0]
        name = raw[at + 9 : at + 9 + DTA_NAME].split(b"\0", 1)[0].decode("utf-8")
        body_at = at + 9 + DTA_NAME + 3
        tables[name] = raw[body_at : body_at + length]
        at = body_at + length + len(b"</lbl>")
    new_sets = list(set_of)
    for i, variable in enumerate(variables):
        if variable in shared and set_of[i] in tables:
            new_sets[i] = shared[variable]
            tables.setdefault(shared[variable], tables[set_of[i]])
    used = [n for n in dict.fromkeys(new_sets) if n and n in tables]
    section = b"".join(
        b"<lbl>" + struct.pack("<I", len(tables[n])) + padded(n) + b"\0\0\0" + tables[n] + b"</lbl>"
        for n in used
    )
    names_block = b"".join(padded(n) for n in new_sets)
    out = (
        raw[:lblnames_at]
        + names_block
        + raw[lblnames_at + len(names_block) : start]
        + section
        + raw[end:]
    )
    shift = len(section) - (end - start)
    offsets[12] += shift
    offsets[13] += shift
    return out[:map_at] + struct.pack("<14Q", *offsets) + out[map_at + 14 * 8 :]
