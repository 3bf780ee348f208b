"""Exports for the researchers' own analysis: an analysis-ready panel and its codebook.

One row per family per wave (pre-intake registry years included), aligned both by calendar year
and by years since intake. Numeric columns stay numeric: a missing-data code becomes an empty
value with the reason in a companion column `<code>_missing`. Pseudonymised (never a linkage key)
and only for the families the user may see.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from django.db.models import QuerySet

from study import panels
from study.catalogue import indicators_for
from study.models import MissingCode, Study, Wave

FORMATS = {
    "csv": "text/csv",
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


def frame_csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text column neutralised (numeric columns untouched)."""
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if not text:
        return frame
    safe = frame.copy()
    for column in text:
        safe[column] = safe[column].astype(object).map(csv_safe_value)
    return safe


def _xlsx_text_stays_text(book) -> None:
    """openpyxl stores a string that starts with '=' as a formula: make every such cell a
    string cell again, so the spreadsheet shows the text and computes nothing."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def panel_frame(study: Study, families: QuerySet) -> pd.DataFrame:
    """The analysis-ready panel of the given (already access-filtered) families of a study."""
    fam = panels.family_frame(families)[
        ["family_id", "pseudonym", "arm", "wijk", "intake_year", "status"]
    ]
    waves = panels.wave_frame(families)[["family_id", "wave", "year"]]
    frame = fam.merge(waves, on="family_id")
    frame["years_since_intake"] = frame["year"] - frame["intake_year"]
    long = panels.indicator_long_frame(families)
    codes = [i.code for i in indicators_for(study)]
    if not long.empty:
        keys = ["family_id", "wave"]
        values = long.pivot(index=keys, columns="indicator", values="value")  # noqa: PD010
        coded = long.loc[long["missing_code"] != ""]
        reasons = coded.pivot(index=keys, columns="indicator", values="missing_code")  # noqa: PD010
        reasons.columns = [f"{c}_missing" for c in reasons.columns]
        frame = frame.merge(values.reset_index(), on=["family_id", "wave"], how="left")
        frame = frame.merge(reasons.reset_index(), on=["family_id", "wave"], how="left")
    for code in codes:
        if code not in frame:
            frame[code] = float("nan")
        frame[f"{code}_missing"] = frame.get(
            f"{code}_missing", pd.Series("", index=frame.index)
        ).fillna("")
    surveys = panels.survey_frame(families)
    frame = frame.merge(
        surveys.drop(columns=["year", "qol_instrument"]), on=["family_id", "wave"], how="left"
    )
    ordered = (
        list(BASE_LABELS)
        + [c for code in codes for c in (code, f"{code}_missing")]
        + list(SURVEY_LABELS)
    )
    return frame.sort_values(["pseudonym", "wave"])[ordered].reset_index(drop=True)


def codebook_frame(study: Study) -> pd.DataFrame:
    """Variable, Dutch and English label, type, unit, range and source — from the catalogue."""
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
    for ind in indicators_for(study):
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
    return pd.DataFrame(rows)


def _labels(study: Study) -> dict[str, str]:
    book = codebook_frame(study)
    return dict(zip(book["variable"], book["label_nl"], strict=True))


def export_bytes(study: Study, families: QuerySet, fmt: str) -> tuple[bytes, int]:
    """The panel in one format (csv, xlsx with a codebook sheet, sav, dta); returns (bytes, rows)."""
    buffer = io.BytesIO()
    rows = export_write(study, families, fmt, buffer)
    return buffer.getvalue(), rows


def export_rows(families: QuerySet) -> int:
    """How many panel rows an export of these families has (one per live wave), without building it."""
    return Wave.objects.alive().filter(family__in=families).count()


def _csv_pieces(study: Study, families: QuerySet, chunk: int) -> Iterator[tuple[bytes, int]]:
    ids = list(families.order_by("pseudonym").values_list("pk", flat=True))
    header = True
    for start in range(0, max(len(ids), 1), chunk):
        part = panel_frame(study, families.model.objects.filter(pk__in=ids[start : start + chunk]))
        yield frame_csv_safe(part).to_csv(index=False, header=header).encode("utf-8"), len(part)
        header = False


def export_csv_stream(study: Study, families: QuerySet, *, chunk: int = 250) -> Iterator[bytes]:
    """The CSV panel in pieces of `chunk` families (in pseudonym order), so a large study streams
    to the browser from the first family on instead of being built in memory first."""
    for piece, _rows in _csv_pieces(study, families, chunk):
        yield piece


def export_write(study: Study, families: QuerySet, fmt: str, out: BinaryIO) -> int:
    """Write the panel in one format to a binary file object; returns the number of rows."""
    if fmt == "csv":
        rows = 0
        for piece, n in _csv_pieces(study, families, 250):
            out.write(piece)
            rows += n
        return rows
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}'; use one of {', '.join(FORMATS)}")
    frame = panel_frame(study, families)
    if fmt == "xlsx":
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name="panel", index=False)
            codebook_frame(study).to_excel(writer, sheet_name="codebook", index=False)
            _xlsx_text_stays_text(writer.book)
    else:
        out.write(_readstat_bytes(study, frame, fmt))
    return len(frame)


def _readstat_bytes(study: Study, frame: pd.DataFrame, fmt: str) -> bytes:
    import pyreadstat

    data = frame.copy()
    data["arm"] = data["arm"].map(ARM_CODES).astype(float)
    labels = _labels(study)
    names = list(data.columns)
    value_labels = {"arm": {0.0: "vergelijkingsgroep", 1.0: "interventiegroep"}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{fmt}"
        if fmt == "sav":
            missing_ranges = _spss_user_missing(data, value_labels)
            pyreadstat.write_sav(
                data,
                str(path),
                column_labels=[labels.get(n, n) for n in names],
                variable_value_labels=value_labels,
                missing_ranges=missing_ranges,
            )
        else:
            # Stata allows 32-character names and 80-character labels; a shortened name keeps
            # its full name at the start of its label.
            missing_values = _stata_extended_missing(data, value_labels)
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
                version=15,
            )
        return path.read_bytes()


# SPSS user-missing codes for the missing-data reasons (registry values are never negative).
SPSS_MISSING = {
    "unknown": -1.0,
    "refused": -2.0,
    "not_applicable": -3.0,
    "not_delivered": -4.0,
}


def _reasons_as_codes(data: pd.DataFrame, value_labels: dict, codes: dict) -> list[str]:
    """Put each missing-data reason into its numeric column as the format's own missing code
    (`codes`: reason -> code), with a value label naming the reason; returns the columns coded.
    The reason column stays beside it for other tools."""
    labels = {code: str(MissingCode(reason).label) for reason, code in codes.items()}
    coded_columns = []
    for column in list(data.columns):
        reasons = f"{column}_missing"
        if reasons not in data.columns:
            continue
        coded = data[reasons].map(codes)
        values = data[column].astype(float).astype(object)
        data[column] = values.where(coded.isna(), coded)
        value_labels[column] = labels
        coded_columns.append(column)
    return coded_columns


def _spss_user_missing(data: pd.DataFrame, value_labels: dict) -> dict:
    """Negative codes declared user-missing, as SPSS users expect (`MISSING VALUES x (-4 THRU
    -1)`)."""
    columns = _reasons_as_codes(data, value_labels, SPSS_MISSING)
    for column in columns:
        data[column] = data[column].astype(float)
    return {column: [{"lo": -4.0, "hi": -1.0}] for column in columns}


# Stata extended missing values for the missing-data reasons (.a … .d).
STATA_MISSING = {"unknown": "a", "refused": "b", "not_applicable": "c", "not_delivered": "d"}


def _stata_extended_missing(data: pd.DataFrame, value_labels: dict) -> dict:
    """Stata's extended missing values (.a unknown, .b refused, .c not applicable, .d not
    delivered): Stata treats them as missing while `tab x, missing` still shows why."""
    columns = _reasons_as_codes(data, value_labels, STATA_MISSING)
    return {column: sorted(STATA_MISSING.values()) for column in columns}


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
