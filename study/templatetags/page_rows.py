"""The long tables of the family page and the audit trail as one tag each: their rows' HTML
built in Python (a template loop costs a variable lookup, a filter and an escape per cell; these
pages have hundreds of cells). Every value is shown exactly as the template showed it:
`_shown` does what a `{{ value }}` does (local time, localized, escaped), `_when` a
`{{ value|date:"DATETIME_FORMAT" }}` (study.templatetags.shown)."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.templatetags.l10n import unlocalize
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _

from study.models import Contact
from study.templatetags.labels import role_name
from study.templatetags.record_status import status_word
from study.templatetags.shown import shown as _shown
from study.templatetags.shown import shown_date as _when

register = template.Library()


@register.simple_tag
def audit_rows(trail: Iterable[dict]) -> SafeString:
    """The rows of the audit trail's table (`family_audit.html`)."""
    fmt = get_format("DATETIME_FORMAT")
    kinds: dict[str, str] = {}  # each model's name once, not once per row
    out = []
    for row in trail:
        if row["model"] not in kinds:
            kinds[row["model"]] = _shown(capfirst(row["model"]))
        changes = "".join(
            f'<div><span class="muted">{_shown(c["field"])}:</span> {_shown(c["old"])} → '
            f"{_shown(c['new'])}</div>"
            for c in row["changes"]
        )
        out.append(
            f'<tr class="audit-{_shown(row["type"])}"><td>{_when(row["when"], fmt)}</td>'
            f"<td>{_shown(row['who'])}</td><td>{kinds[row['model']]} · "
            f'{_shown(row["object"])} <span class="badge">{_shown(row["type_label"])}</span></td>\n'
            f"<td>{changes}</td><td>{_shown(row['reason'])}</td></tr>\n"
        )
    return mark_safe("".join(out))  # every value above is escaped by _shown


@register.simple_tag
def access_rows(events: Iterable) -> SafeString:
    """The rows of the access log's table (`access_log.html`): one per event."""
    fmt = get_format("DATETIME_FORMAT")
    roles: dict[str, str] = {}  # each role's name once, not once per row
    out = []
    for e in events:
        if e.role not in roles:
            roles[e.role] = _shown(role_name(e.role))
        at = template_localtime(e.at)
        actor = e.actor.username if e.actor is not None else ""
        pseudonym = f" ({_shown(e.pseudonym)})" if e.pseudonym else ""
        detail = f" {_shown(e.detail)}" if e.detail else ""
        out.append(
            f"\n<tr>\n  <td>{_when(at, fmt)}:{at.second:02d}</td>\n"
            f"  <td>{_shown(actor or '–')}</td>\n  <td>{roles[e.role]}</td>\n"
            f"  <td><code>{_shown(e.action)}</code></td>\n"
            f"  <td>{_shown(e.row_count)}{pseudonym}</td>\n"
            f"  <td><code>{_shown(e.scope)}{detail}</code></td>\n"
            f"  <td>{_shown(e.client_ip or '–')}</td>\n"
            f"  <td><code>{_shown(e.credential)}</code></td>\n</tr>\n"
        )
    return mark_safe("".join(out))  # every value above is escaped by _shown


@register.simple_tag
def indicator_rows(rows: Iterable[dict]) -> SafeString:
    """The registry indicators' rows of the family page: a label and a cell per wave."""
    out = []
    for row in rows:
        cells = "".join(f'<td class="num">{_shown(cell)}</td>' for cell in row["cells"])
        out.append(f"<tr><td>{_shown(row['label'])}</td>{cells}</tr>")
    return mark_safe("".join(out))  # every value above is escaped by _shown


@register.simple_tag(takes_context=True)
def contact_rows(context, contacts: Iterable, may_correct_all: bool) -> SafeString:
    """The contacts' rows of the family page (`selectors.ContactRow`s); the correct link for
    the data manager and for the contact's own coach."""
    user_pk = getattr(context.get("user"), "pk", None)
    correct = _shown(_("Correct"))
    fmt = get_format("DATETIME_FORMAT")
    cells: dict[tuple[str, object], str] = {}  # each choice's words, each number once

    def cell(contact, field: str) -> str:
        """`{{ contact.<field> }}`, or `{{ contact.get_<field>_display }}` for a choice."""
        value = getattr(contact, field)
        key = (field, value)
        if key not in cells:
            choices = dict(Contact._meta.get_field(field).flatchoices)
            cells[key] = _shown(choices.get(value, value) if choices else value)
        return cells[key]

    out = []
    for c in contacts:
        link = (
            f'<a href="{_shown(c.href)}">{correct}</a>'
            if may_correct_all or c.coach_id == user_pk
            else ""
        )
        out.append(
            f"<tr><td>{_when(c.occurred_at, fmt)}</td><td>{cell(c, 'kind')}</td>"
            f'<td class="num">{cell(c, "duration_minutes")}</td>'
            f"<td>{cell(c, 'initiated_by')}</td><td>{link}</td></tr>"
        )
    return mark_safe("".join(out))  # every value above is escaped by _shown


@register.simple_tag
def wave_rows(waves: Iterable, may_see_registry: bool) -> SafeString:
    """The waves' rows of the family page: label and instruments link, year, due date, record
    status (and why missed), locked, and the data entry link for research readers."""
    instruments = _shown(_("Instruments"))
    locked = f'<span class="badge locked">{_shown(_("locked"))}</span>'
    view, enter = _shown(_("View")), _shown(_("Enter data"))
    out = []
    for w in waves:
        link = (
            f'<br><small><a href="{_shown(w.instruments_href)}" class="instruments-link">'
            f"{instruments}</a></small>"
            if w.index >= 0
            else ""
        )
        why = f" {_shown(w.missed_reason)}" if w.missed_reason else ""
        entry = (
            f'<td><a href="{_shown(w.entry_href)}">{view if w.locked else enter}</a></td>'
            if may_see_registry
            else ""
        )
        out.append(
            f'<tr id="wave-{_shown(w.index)}"><td>{_shown(w.label)}{link}</td>'
            f"<td>{_shown(unlocalize(w.year))}</td>"
            f"<td>{_shown(w.due_date) if w.due_date else '—'}</td>"
            f'<td><span class="badge {_shown(w.display_status)}">'
            f"{_shown(status_word(w.display_status))}</span>{why}</td>"
            f"<td>{locked if w.locked else ''}</td>{entry}</tr>"
        )
    return mark_safe("".join(out))  # every value above is escaped by _shown
