"""Speed work on the family page and the audit trail must not change what they show: the rows
built by the `page_rows` tags are the rows the template loops made (the loops are kept here as
the reference), and a page of the trail read by the keys query is the first rows of the full
trail (the CSV's merge of every history table), in the same order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import islice

import pytest
from django.template import Context, Template
from django.utils import timezone
from django.utils.translation import override

from study import audit_trail, selectors
from study.services.values import indicator_values_record
from study.services.waves import wave_entry_record, wave_lock, wave_unlock
from study.views.helpers import url_maker
from tests.factories import make_family

pytestmark = pytest.mark.django_db

# The template markup before the rows were built in Python (templates/study/*.html).
OLD_AUDIT_ROWS = """{% for row in trail %}<tr class="audit-{{ row.type }}"><td>{{ row.when|date:"DATETIME_FORMAT" }}</td><td>{{ row.who }}</td><td>{{ row.model|capfirst }} · {{ row.object }} <span class="badge">{{ row.type_label }}</span></td>
<td>{% for c in row.changes %}<div><span class="muted">{{ c.field }}:</span> {{ c.old }} → {{ c.new }}</div>{% endfor %}</td><td>{{ row.reason }}</td></tr>
{% endfor %}"""
OLD_INDICATOR_ROWS = """{% for row in indicator_rows %}<tr><td>{{ row.label }}</td>{% for cell in row.cells %}<td class="num">{{ cell }}</td>{% endfor %}</tr>{% endfor %}"""
OLD_CONTACT_ROWS = """{% load i18n %}{% for c in contacts %}<tr><td>{{ c.occurred_at|date:"DATETIME_FORMAT" }}</td><td>{{ c.get_kind_display }}</td><td class="num">{{ c.duration_minutes }}</td><td>{{ c.get_initiated_by_display }}</td><td>{% if may_correct_all or c.coach_id == user.pk %}<a href="{{ c.href }}">{% translate "Correct" %}</a>{% endif %}</td></tr>{% endfor %}"""

OLD_ACCESS_ROWS = """{% for event in events %}
<tr>
  <td>{{ event.at|date:"DATETIME_FORMAT" }}:{{ event.at|date:"s" }}</td>
  <td>{{ event.actor.username|default:"–" }}</td>
  <td>{{ event.role|role_name }}</td>
  <td><code>{{ event.action }}</code></td>
  <td>{{ event.row_count }}{% if event.pseudonym %} ({{ event.pseudonym }}){% endif %}</td>
  <td><code>{{ event.scope }}{% if event.detail %} {{ event.detail }}{% endif %}</code></td>
  <td>{{ event.client_ip|default:"–" }}</td>
  <td><code>{{ event.credential }}</code></td>
</tr>
{% endfor %}"""

# Moments around the clock changes of 2026 (UTC): other minutes and seconds, 02:30 twice.
AMSTERDAM_CHANGES = [
    datetime(2026, 10, 25, 0, 30, 5, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 30, 5, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 30, 59, 999, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 59, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, 1, tzinfo=UTC),
]


def _datetime_format(monkeypatch, fmt: str) -> None:
    """DATETIME_FORMAT as `fmt` for the template's date filter and the tags ("": as it is);
    a format with seconds has every moment formatted on its own."""
    if not fmt:
        return
    from django.utils import formats

    from study.templatetags import page_rows

    real = formats.get_format

    def patched(name, *args, **kwargs):
        return fmt if name == "DATETIME_FORMAT" else real(name, *args, **kwargs)

    monkeypatch.setattr(formats, "get_format", patched)
    monkeypatch.setattr(page_rows, "get_format", patched)


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def _history(study, researcher, data_manager):
    """Two families with changes in several history tables, some in the same second."""
    families = [make_family(study, user=researcher) for _ in range(2)]
    for n, family in enumerate(families):
        t1 = family.waves.get(index=1)
        for i in range(8):
            indicator_values_record(wave=t1, values={"bijstand": i + n}, user=researcher)
        indicator_values_record(wave=family.waves.get(index=0), values={"ww": 1}, user=data_manager)
        wave_entry_record(wave=t1, values={"bijstand": "3"}, user=researcher)
        wave_lock(wave=t1, user=researcher)
        wave_unlock(wave=t1, user=data_manager, reason='typo <b>"&"</b>')
    return families


@pytest.mark.parametrize("backward", [True, False])
def test_a_page_of_the_trail_is_the_first_rows_of_the_full_trail(
    study, researcher, data_manager, backward, monkeypatch
):
    # Both ways of finding a table's newest rows (read backwards from the table's newest row,
    # or found by the families' index and sorted: `audit_trail._keys_sql`), whichever the
    # families' share of all families would choose.
    keys_sql = audit_trail._keys_sql
    monkeypatch.setattr(
        audit_trail, "_keys_sql", lambda *a, **k: keys_sql(*a, **{**k, "backward": backward})
    )
    families = _history(study, researcher, data_manager)
    ids = sorted(f.pk for f in families)
    today = timezone.localdate()
    specs = [
        audit_trail.TrailFilter(),
        audit_trail.TrailFilter(wave=1),
        audit_trail.TrailFilter(person=data_manager.username),
        audit_trail.TrailFilter(since=today - timedelta(days=1), until=today),
        audit_trail.TrailFilter(until=date(2000, 1, 1)),
    ]
    for family_ids in (ids, ids[:1], []):
        for spec in specs:
            for limit in (1, 5, 51, 500):
                full = list(islice(audit_trail.trail(family_ids, spec), limit))
                assert list(audit_trail.trail(family_ids, spec, limit=limit)) == full


@pytest.mark.parametrize("fmt", ["", "Y-m-d H:i:s"])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_audit_rows_are_the_template_loop_s(
    language, fmt, study, researcher, data_manager, monkeypatch
):
    families = _history(study, researcher, data_manager)
    _datetime_format(monkeypatch, fmt)
    with override(language):
        rows = list(audit_trail.trail([f.pk for f in families], limit=100))
        rows.append(
            {
                "when": timezone.now(),
                "who": "<script>x</script>",
                "model": "élément & co",
                "object": "a 'b' \"c\"",
                "type": "changed",
                "type_label": "<i>",
                "reason": "",
                "changes": [{"field": "f<", "old": "&amp;", "new": "—"}],
            }
        )
        # Other minutes and seconds, and the hours the clocks change (02:30 twice in Amsterdam).
        for when in AMSTERDAM_CHANGES:
            rows.append({**rows[0], "when": when})
        new = _render("{% load page_rows %}{% audit_rows trail %}", trail=rows)
        assert new == _render(OLD_AUDIT_ROWS, trail=rows)
        assert "&lt;script&gt;" in new


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_family_page_rows_are_the_template_loop_s(
    language, family, coach, researcher, data_manager
):
    indicator_values_record(wave=family.waves.get(index=1), values={"bijstand": 2}, user=coach)
    from study.services.contacts import contact_log

    for minutes in (5, 1250):
        contact_log(
            family=family,
            coach=coach,
            occurred_at=timezone.now(),
            kind="home_visit",
            duration_minutes=minutes,
            initiated_by="coach",
            note="",
        )
    with override(language):
        context = selectors.family_detail(family)
        correct = url_maker("study:contact_correct")
        for contact in context["contacts"]:
            contact.href = correct(contact.pk)
        # The template loop showed the contacts as model instances (the tag: plain rows).
        instances = list(family.contacts.alive()[:50])
        for contact in instances:
            contact.href = correct(contact.pk)
        assert [c.pk for c in instances] == [c.pk for c in context["contacts"]]
        assert context["contacts"] and context["indicator_rows"]
        rows = context["indicator_rows"] + [{"label": "<b>&", "cells": ["1.5", "<i>", ""]}]
        assert _render("{% load page_rows %}{% indicator_rows rows %}", rows=rows) == _render(
            OLD_INDICATOR_ROWS, indicator_rows=rows
        )
        for user, may_correct_all in ((coach, False), (researcher, False), (data_manager, True)):
            shown = {"may_correct_all": may_correct_all, "user": user}
            new = _render(
                "{% load page_rows %}{% contact_rows contacts may_correct_all %}",
                contacts=context["contacts"],
                **shown,
            )
            assert new == _render(OLD_CONTACT_ROWS, contacts=instances, **shown)


OLD_MEMBERS = """{% load i18n %}{% for m in members %}<li>{{ m.get_role_display }}, {% translate "born" %} {{ m.birth_year|unlocalize }}</li>{% endfor %}"""
NEW_MEMBERS = """{% load i18n %}{% for m in members %}<li>{{ m.role_display }}, {% translate "born" %} {{ m.birth_year|unlocalize }}</li>{% endfor %}"""
INVOLVEMENTS = """{% for inv in involvements %}<tr><td>{{ inv.organisation }}</td><td>{{ inv.discipline }}</td><td>{{ inv.start_date }}</td><td>{{ inv.end_date|default:"—" }}</td></tr>{% endfor %}"""


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_family_page_s_plain_rows_show_as_the_model_instances(
    language, family, researcher, data_manager
):
    """Members and care workers read as their shown fields (not model instances) show the same
    text; without the registry the page's other rows are the same."""
    from study.services.care import care_involvement_add

    for n, end in enumerate((None, date(2024, 2, 29))):
        care_involvement_add(
            family=family,
            organisation=f"Org <{n}> & co",
            discipline="Maatschappelijk werk",
            start_date=date(2023, 1, 1 + n),
            end_date=end,
            organisation_other=True,
            discipline_other=True,
            user=data_manager,
        )
    with override(language):
        context = selectors.family_detail(family)
        members = list(family.members.alive())
        assert members and len(context["involvements"]) == 2
        assert _render(NEW_MEMBERS, members=context["members"]) == _render(
            OLD_MEMBERS, members=members
        )
        rows = _render(INVOLVEMENTS, involvements=context["involvements"])
        assert rows == _render(INVOLVEMENTS, involvements=list(family.care_involvements.alive()))
        assert "&lt;0&gt; &amp; co" in rows
        without = selectors.family_detail(family, registry=False)
        assert without.pop("indicator_rows") == []
        for key, value in without.items():
            if key not in ("waves", "contacts"):  # fresh instances, rows
                assert value == context[key], key


OLD_WAVE_ROWS = (
    "{% load i18n record_status %}"
    """{% for wave in waves %}<tr id="wave-{{ wave.index }}"><td>{{ wave.label }}{% if wave.index >= 0 %}<br><small><a href="{{ wave.instruments_href }}" class="instruments-link">{% translate "Instruments" %}</a></small>{% endif %}</td><td>{{ wave.year|unlocalize }}</td><td>{{ wave.due_date|default:"—" }}</td><td><span class="badge {{ wave.display_status }}">{{ wave.display_status|status_word }}</span>{% if wave.missed_reason %} {{ wave.missed_reason }}{% endif %}</td><td>{% if wave.locked %}<span class="badge locked">{% translate "locked" %}</span>{% endif %}</td>{% if may_see_registry %}<td><a href="{{ wave.entry_href }}">{% if wave.locked %}{% translate "View" %}{% else %}{% translate "Enter data" %}{% endif %}</a></td>{% endif %}</tr>{% endfor %}"""
)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_wave_rows_are_the_template_loop_s(language, family):
    """Every kind of wave row: planned, due, locked, missed with a reason to escape, no due
    date, a wave before the baseline (no instruments link); with and without the entry link."""
    waves = selectors.family_detail(family, registry=False)["waves"]
    waves[1].locked = True
    waves[2].display_status, waves[2].missed_reason = "missed", 'moved <away> & "gone"'
    waves[3].due_date = None
    waves[4].index = -1
    waves[5].display_status = "no-such-status"
    for n, wave in enumerate(waves):
        wave.instruments_href, wave.entry_href = f"/w/{n}/?a=1&b=<2>", f"/e/{n}/"
    with override(language):
        for may_see_registry in (True, False):
            shown = {"waves": waves, "may_see_registry": may_see_registry}
            new = _render("{% load page_rows %}{% wave_rows waves may_see_registry %}", **shown)
            assert new == _render(OLD_WAVE_ROWS, **shown)
            assert "&lt;away&gt;" in new and "instruments-link" in new


def test_the_field_row_tag_is_the_field_partial():
    from django import forms

    from study.forms import AuditFilterForm

    class Sample(forms.Form):
        name = forms.CharField(label="Na<me> & co", help_text="<b>help</b>", max_length=3)
        kind = forms.ChoiceField(choices=[("a", "A&"), ("b", "B")])
        when = forms.DateField(required=False)

    for form in (
        Sample(),
        Sample({"name": "too long", "kind": "x", "when": "no date"}),
        AuditFilterForm(),
        AuditFilterForm({"since": "x", "wave": "9"}),
    ):
        form.is_bound and form.is_valid()
        for field in form:
            old = _render('{% include "partials/field.html" with field=field %}', field=field)
            assert _render("{% load field_rows %}{% field_row field %}", field=field) == old


def test_the_trail_reads_backwards_only_for_at_least_half_of_all_families(
    study, researcher, data_manager, monkeypatch
):
    """The choice of `_newest`: one study alone (the usual case) or most families read the
    tables backwards from their newest rows; a few families of many are found by their index."""
    families = _history(study, researcher, data_manager)
    make_family(study, user=researcher)  # three families in all
    chosen = []
    keys_sql = audit_trail._keys_sql

    def spy(*args, **kwargs):
        chosen.append(kwargs["backward"])
        return keys_sql(*args, **kwargs)

    monkeypatch.setattr(audit_trail, "_keys_sql", spy)
    ids = sorted(f.pk for f in families)
    for family_ids in (ids, ids[:1]):
        list(audit_trail.trail(family_ids, audit_trail.TrailFilter(), limit=5))
    assert chosen == [True, False]


@pytest.mark.parametrize("fmt", ["", "Y-m-d H:i:s"])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_access_log_rows_are_the_template_loop_s(
    language, fmt, study, family, researcher, monkeypatch
):
    from django.test import RequestFactory

    from study.access_log import access_event_record, access_events_for, family_read
    from study.models import AccessEvent
    from study.views.access_log import SHOWN

    _datetime_format(monkeypatch, fmt)
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    request.user = researcher
    family_read(request, action="family.view", families=family, study=study, scope="a<b")
    family_read(request, action="study.records", families=[family.pk], study=study)
    access_event_record(user=None, action="x&y", study=study, row_count=12345, detail='"d"')
    access_event_record(user=researcher, action="audit.view", family=family, detail="")
    with override(language):
        events = list(access_events_for(study))
        assert len(events) >= 4
        shown = list(access_events_for(study).only(*SHOWN))  # the columns the page reads
        more = [AccessEvent(at=at, action="a", role="researcher") for at in AMSTERDAM_CHANGES]
        new = _render("{% load page_rows %}{% access_rows events %}", events=shown + more)
        assert new == _render(OLD_ACCESS_ROWS, events=events + more)
        assert "x&amp;y" in new and "–" in new
