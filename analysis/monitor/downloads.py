"""A monitor report's tables as CSV and XLSX downloads, as the gemeente may see them.

One row per wijk and one per municipality (its total), one column per count and one per share
of households with a child, headed by the monitor's label catalogue in the reader's language.
Counts come from the stored, suppressed report and pass the statistics office's rule again on
the way out (``selectors.shown_count``: 1-9 as "*"); the share of a hidden count is left empty.
Text cells are neutralised against spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io

from analysis.monitor import selectors
from analysis.monitor.labels import column_label, percent_label
from analysis.monitor.models import MonitorReport
from study.exporting import csv_safe_value


def download_table(report: MonitorReport, language: str | None) -> tuple[list[str], list[list]]:
    """(headers, rows) of a report's tables: wijk, then each column's count and share."""
    columns = selectors.table_columns(report)
    headers = [column_label("wijk", language)]
    for column in columns:
        headers.append(column_label(column, language))
        if column != "households_with_child":
            headers.append(percent_label(column, language))
    rows = []
    for entry in selectors.table_rows(report.tables or {}):
        row = entry["row"]
        line: list = [csv_safe_value(entry["name"])]
        for column in columns:
            line.append(selectors.shown_count(row.get(column)))
            if column != "households_with_child":
                line.append(selectors.shown_share(row, column))
        rows.append(line)
    return headers, rows


def _nl_number(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return "" if value is None else str(value)


def report_csv(report: MonitorReport, language: str | None) -> bytes:
    """Semicolon-separated, UTF-8 with a byte-order mark (Excel opens it as it is); in Dutch the
    shares have a decimal comma."""
    headers, rows = download_table(report, language)
    dutch = (language or "").startswith("nl")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_nl_number(v) if dutch else ("" if v is None else v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(report: MonitorReport, language: str | None) -> bytes:
    """One sheet of the table (numbers as numbers, "*" as text), the first row and column
    frozen, and a sheet that says what the figures are."""
    from openpyxl import Workbook

    headers, rows = download_table(report, language)
    book = Workbook()
    sheet = book.active
    sheet.title = "MPG"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, float):
                cell.number_format = "0.0"
            if cell.data_type == "f":  # a wijk name starting with "=" stays text
                cell.data_type = "s"
    sheet.freeze_panes = "B2"
    about = book.create_sheet("Toelichting" if (language or "").startswith("nl") else "About")
    for line in _about(report, language):
        about.append([line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _about(report: MonitorReport, language: str | None) -> list[str]:
    if (language or "").startswith("nl"):
        return [
            f"Gemeentelijke monitor {report.municipality} {report.year}",
            "Aantallen van 1 tot en met 9 staan als * (uitvoerregel van het CBS); ook enkele "
            "andere cellen zijn verborgen, zodat een verborgen aantal niet uit de totalen volgt.",
            "Percentages: aandeel van de huishoudens met een kind in de wijk.",
        ]
    return [
        f"Municipal monitor {report.municipality} {report.year}",
        "Counts from 1 to 9 are shown as * (the statistics office's output rule); a few other "
        "cells are hidden too, so that no hidden count follows from the totals.",
        "Percentages: share of the wijk's households with a child.",
    ]
