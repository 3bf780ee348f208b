"""The study dashboard's family and "due next" rows and the record status grid's rows and
foot, written in one pass in Python (the templates' markup and words, escaped as the template
escapes with `html.escape`; pinned by tests/study/views/test_list_pages_unchanged.py). The
views pass them to their templates as ready markup."""

from __future__ import annotations

from html import escape as html_escape

from django.utils.safestring import SafeString, mark_safe

from study.models import Arm, Family
from study.templatetags.caseload_rows import url_parts
from study.templatetags.record_status import status_words
from study.templatetags.shown import shown


def family_rows_html(families: list, detail) -> SafeString:
    """The study dashboard's family list rows, as the template wrote them."""
    statuses = {code: html_escape(str(word)) for code, word in Family.Status.choices}
    kinds = {code: str(word) for code, word in Arm.Kind.choices}
    out = []
    for family in families:
        arm = family.arm__name or kinds.get(family.arm__kind, family.arm__kind)
        out.append(
            f'<tr><td><a href="{detail(family.pk)}">{html_escape(family.pseudonym)}</a></td>'
            f"<td>{html_escape(str(arm))}</td><td>{html_escape(family.wijk)}</td>"
            f"<td>{shown(family.intake_date)}</td>"
            f"<td>{statuses.get(family.status) or html_escape(family.status)}</td></tr>"
        )
    return mark_safe("".join(out))


def upcoming_rows_html(waves: list, detail) -> SafeString:
    """The rows of the study dashboard's "due next" table, as the template wrote them."""
    out = []
    for wave in waves:
        wave.href = detail(wave.family_id)
        out.append(
            f'<tr><td><a href="{wave.href}">{html_escape(wave.family.pseudonym)}</a></td>'
            f"<td>{html_escape(wave.label)}</td>"
            f"<td>{shown(wave.due_date)}</td>"
            f"<td>{shown(wave.window_end)}</td></tr>\n"
        )
    return mark_safe("".join(out))


def record_rows_html(rows: list[dict], queries_url: str, detail) -> SafeString:
    """The record status grid's body rows, as the template wrote them: each family's link,
    arm, coaches and open queries, then a cell per wave column (its status word linking to
    the wave's entry, or a dash; ``detail(pk)``: a family's page). Escaped as the template
    escapes (`html.escape`)."""
    entry_prefix, entry_suffix = url_parts("study:wave_entry")
    # Each status's cell markup around the wave's id, made once.
    cell_of = {
        status: (
            f'<td><a class="badge {html_escape(status)}" href="{entry_prefix}',
            f'{entry_suffix}">{html_escape(word)}</a></td>',
        )
        for status, word in status_words().items()
    }
    arms = {kind: html_escape(str(label)) for kind, label in Arm.Kind.choices}
    queries = html_escape(queries_url)
    out = []
    for row in rows:
        family = row["family"]
        pk = family.pk
        row["href"] = href = detail(pk)
        cells = []
        for cell in row["row"]:
            if cell is None:
                cells.append("<td>—</td>")
                continue
            wave, status = cell
            if status not in cell_of:
                cell_of[status] = (
                    f'<td><a class="badge {html_escape(status)}" href="{entry_prefix}',
                    f'{entry_suffix}">{html_escape(status)}</a></td>',
                )
            before, after = cell_of[status]
            cells.append(f"{before}{wave}{after}")
        n = row["open_queries"]
        kind = family.arm_kind
        out.append(
            f'<tr id="family-{pk}"><td><a href="{href}">{html_escape(family.pseudonym)}</a></td>'
            f"<td>{arms[kind] if kind in arms else html_escape(kind or '')}</td>"
            f"<td>{', '.join(map(html_escape, row['coaches'])) or '—'}</td>"
            '<td class="num">'
            + (f'<a href="{queries}?family={pk}">{shown(n)}</a>' if n else "0")
            + f"</td>\n{''.join(cells)}</tr>\n"
        )
    return mark_safe("".join(out))


def record_counts_html(counts: list) -> SafeString:
    """The grid's foot: per wave column each status's word and number of families."""
    words = status_words()
    return mark_safe(
        "".join(
            "<td>"
            + "".join(
                f'<div><span class="badge {html_escape(status)}">'
                f"{html_escape(words.get(status, status))}</span> {shown(n)}</div>"
                for status, n in column
            )
            + "</td>"
            for _index, column in counts
        )
    )
