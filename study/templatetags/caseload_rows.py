"""The long lists of the coach and caseload pages (caseload cards, caseloads, due waves), made
in one pass in Python with the words the template translated: a template loop with several lookups, filters and links per
row costs more than the rest of the page. The markup is the templates' own, escaped as the
template engine escapes (`html.escape`, dates and numbers localised as `{{ }}` and `|date` do)."""

from __future__ import annotations

from html import escape

from django import template
from django.urls import reverse
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe

from study.models import Arm
from study.templatetags.record_status import status_words
from study.templatetags.shown import shown as _value
from study.templatetags.shown import shown_date as _date

register = template.Library()


@register.simple_tag
def caseload_cards(
    families: list[dict], w_contacts, w_last, w_next, w_due, w_log, w_care
) -> SafeString:
    """The caseload's cards: each family's link, wijk, arm, contacts, last contact, next wave
    and the two actions (`links`: detail, contact, care, set by the view)."""
    kinds = {code: str(word) for code, word in Arm.Kind.choices}
    day = get_format("DATE_FORMAT")  # `|date`'s format, read once for the cards
    w_contacts, w_last, w_next, w_due, w_log, w_care = (
        escape(str(w)) for w in (w_contacts, w_last, w_next, w_due, w_log, w_care)
    )
    out = []
    for family in families:
        links = family["links"]
        arm = family["arm__name"] or kinds.get(family["arm__kind"], family["arm__kind"])
        last = _date(family["last_contact"], day) if family["last_contact"] else "—"
        index = family["next_wave_index"]
        if index is None:
            upcoming = "—"
        else:
            upcoming = f"T{index}"
            if family["next_wave_due"]:
                upcoming += f", {w_due} {_date(family['next_wave_due'], day)}"
        out.append(
            f'\n<div class="card caseload-family" id="family-{family["pk"]}">\n'
            f'  <a href="{links["detail"]}"><strong>{escape(family["pseudonym"])}</strong></a>\n'
            f'  <span class="muted">{escape(family["wijk"])} · {escape(str(arm))} · '
            f"{_value(family['n_contacts'])} {w_contacts}</span>\n"
            '  <dl class="caseload-facts">\n'
            f"    <div><dt>{w_last}</dt><dd>{last}</dd></div>\n"
            f"    <div><dt>{w_next}</dt><dd>{upcoming}</dd></div>\n"
            "  </dl>\n"
            '  <div class="card-actions">\n'
            f'    <a class="button" href="{links["contact"]}">{w_log}</a>\n'
            f'    <a class="button secondary" href="{links["care"]}">{w_care}</a>\n'
            "  </div>\n"
            "</div>\n"
        )
    return mark_safe("".join(out))


@register.simple_tag
def caseload_rows(overview: list[dict], chosen: set[str]) -> SafeString:
    """The caseloads page's table rows: a check box (ticked when chosen), the pseudonym, arm,
    coaches today and the caseload history of each family."""
    out = []
    for row in overview:
        pk = str(row["family"].pk)
        pseudonym = escape(row["family"].pseudonym)
        out.append(
            f'<tr data-family="{pseudonym}">\n'
            f'<td><input type="checkbox" name="families" value="{pk}" id="f-{pk}"'
            f"{' checked' if pk in chosen else ''}></td>\n"
            f'<td><label for="f-{pk}">{pseudonym}</label></td><td>{escape(str(row["arm"]))}</td>\n'
            f"<td>{escape(row['coach_today'])}</td>\n"
            f'<td class="muted">{escape(row["history_text"])}</td>\n'
            "</tr>"
        )
    return mark_safe("".join(out))


@register.simple_tag
def due_wave_cards(waves: list, enterable: set[int], w_due, w_window, w_family, w_enter):
    """The due waves' cards: family and wave, the record status, the dates, and the links to
    the family and (when the user may record its data) to the wave's entry."""
    detail, entry = url_parts("study:family_detail"), url_parts("study:wave_entry")
    words = status_words()
    w_due, w_window, w_family, w_enter = (
        escape(str(w)) for w in (w_due, w_window, w_family, w_enter)
    )
    out = []
    for wave in waves:
        status = wave.display_status
        enter = (
            f'<a href="{entry[0]}{wave.pk}{entry[1]}">{w_enter}</a>'
            if wave.family_id in enterable
            else ""
        )
        out.append(
            f'\n<div class="card due-wave" id="due-{wave.pk}">\n'
            f"  <strong>{escape(wave.pseudonym)} · {escape(wave.label)}</strong>\n"
            f'  <span class="badge {escape(status)}">{escape(words.get(status, status))}</span>'
            "<br>\n"
            f'  <span class="muted">{w_due} {_value(wave.due_date)} · {w_window} '
            f"{_value(wave.window_start)} – {_value(wave.window_end)}</span>\n"
            '  <div class="card-actions">\n'
            f'    <a href="{detail[0]}{wave.family_id}{detail[1]}">{w_family}</a>\n'
            f"    {enter}\n"
            "  </div>\n"
            "</div>\n"
        )
    return mark_safe("".join(out))


def url_parts(name: str) -> tuple[str, str]:
    """The URL of a route with one integer argument, split around that argument (reversed once,
    not per row)."""
    marker = 7_654_321_987
    prefix, suffix = reverse(name, args=[marker]).split(str(marker))
    return prefix, suffix
