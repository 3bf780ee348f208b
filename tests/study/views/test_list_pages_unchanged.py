"""The list pages made faster (issue 21) show the same markup as before. The rows of the record
status grid and its foot, of the study dashboard's tables, the caseload cards, the caseloads table
and the due waves are rendered here as they were: the templates' loops and the selectors' reads
of before, frozen below, must appear unchanged in the pages, for several roles, both languages
and some filters of the grid, on the demo study."""

from collections import Counter
from datetime import date

import pytest
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.template import engines
from django.utils import timezone, translation
from django.utils.formats import localize

from study import access, selectors
from study.demo import seed_demo
from study.models import CaseloadAssignment, DataQuery, Family, Study, Wave
from study.selectors import GridFilter
from study.templatetags.record_status import status_words
from study.views.helpers import url_maker

pytestmark = pytest.mark.django_db

OLD_RECORD_ROWS = """{% load i18n %}{% for row in rows %}<tr id="family-{{ row.family.pk|unlocalize }}"><td><a href="{{ row.href }}">{{ row.family.pseudonym }}</a></td><td>{{ row.family.arm.get_kind_display }}</td><td>{{ row.coaches|join:", "|default:"—" }}</td><td class="num">{% if row.open_queries %}<a href="{{ queries_url }}?family={{ row.family.pk|unlocalize }}">{{ row.open_queries }}</a>{% else %}0{% endif %}</td>
{% for cell in row.links %}<td>{% if cell %}<a class="badge {{ cell.status }}" href="{{ cell.href }}">{{ cell.word }}</a>{% else %}—{% endif %}</td>{% endfor %}</tr>
{% empty %}<tr><td colspan="4">{% translate "No families match these filters." %}</td></tr>{% endfor %}
</tbody>
<tfoot><tr><th colspan="4">{% translate "Count per wave" %}</th>{% for i, counts in grid.counts %}<td>{% for status, n in counts %}<div><span class="badge {{ status }}">{{ status|status_word }}</span> {{ n }}</div>{% endfor %}</td>{% endfor %}</tr></tfoot>"""

OLD_DASHBOARD_ROWS = """{% load i18n %}{% for wave in dashboard.upcoming %}<tr><td><a href="{{ wave.href }}">{{ wave.family.pseudonym }}</a></td><td>{{ wave.label }}</td><td>{{ wave.due_date }}</td><td>{{ wave.window_end }}</td></tr>
{% empty %}<tr><td colspan="4">{% translate "Nothing due." %}</td></tr>{% endfor %}
</tbody></table>

<h2>{% translate "Families" %}</h2>
<table><thead><tr><th>{% translate "Pseudonym" %}</th><th>{% translate "Arm" %}</th><th>{% translate "District" %}</th><th>{% translate "Intake" %}</th><th>{% translate "Status" %}</th></tr></thead><tbody>
{% for family in families %}<tr><td><a href="{{ family.href }}">{{ family.pseudonym }}</a></td><td>{{ family.arm }}</td><td>{{ family.wijk }}</td><td>{{ family.intake_date }}</td><td>{{ family.get_status_display }}</td></tr>{% endfor %}
</tbody></table>"""

OLD_CASELOAD_CARDS = """{% load i18n %}{% translate "contacts" as w_contacts %}{% translate "Last contact" as w_last %}{% translate "Next wave" as w_next %}{% translate "due" as w_due %}{% translate "Log contact" as w_log %}{% translate "Care workers" as w_care %}{% for family in families %}
<div class="card caseload-family" id="family-{{ family.pk|unlocalize }}">
  <a href="{{ family.links.detail }}"><strong>{{ family.pseudonym }}</strong></a>
  <span class="muted">{{ family.wijk }} · {{ family.arm }} · {{ family.n_contacts }} {{ w_contacts }}</span>
  <dl class="caseload-facts">
    <div><dt>{{ w_last }}</dt><dd>{% if family.last_contact %}{{ family.last_contact|date }}{% else %}—{% endif %}</dd></div>
    <div><dt>{{ w_next }}</dt><dd>{% if family.next_wave_index is not None %}T{{ family.next_wave_index|unlocalize }}{% if family.next_wave_due %}, {{ w_due }} {{ family.next_wave_due|date }}{% endif %}{% else %}—{% endif %}</dd></div>
  </dl>
  <div class="card-actions">
    <a class="button" href="{{ family.links.contact }}">{{ w_log }}</a>
    <a class="button secondary" href="{{ family.links.care }}">{{ w_care }}</a>
  </div>
</div>
{% empty %}<p>{% translate "No families on your caseload." %}</p>{% endfor %}"""

OLD_CASELOADS_ROWS = """{% load i18n %}{% for row in overview %}<tr data-family="{{ row.family.pseudonym|unlocalize }}">
{% with pk=row.family.pk|unlocalize %}<td><input type="checkbox" name="families" value="{{ pk }}" id="f-{{ pk }}"{% if pk in chosen %} checked{% endif %}></td>
<td><label for="f-{{ pk }}">{{ row.family.pseudonym }}</label></td>{% endwith %}<td>{{ row.family.arm }}</td>
<td>{{ row.coach_today }}</td>
<td class="muted">{{ row.history_text }}</td>
</tr>{% empty %}<tr><td colspan="5">{% translate "No families enrolled yet." %}</td></tr>{% endfor %}"""

OLD_HANDED_OVER_ROWS = """{% for row in rows %}<tr data-family="{{ row.family.pseudonym }}"><td>{{ row.family.pseudonym }}</td>
<td>{% for a in row.current %}{{ a.coach.get_username }}{% if not forloop.last %}, {% endif %}{% endfor %}</td>
<td>{{ row.earlier|join:", " }}</td></tr>
{% empty %}<tr><td colspan="3">{% translate "No family has been handed over." %}</td></tr>{% endfor %}"""

OLD_DUE_CARDS = """{% load i18n record_status %}{% for wave in waves %}
<div class="card due-wave" id="due-{{ wave.pk|unlocalize }}">
  <strong>{{ wave.family.pseudonym }} · {{ wave.label }}</strong>
  <span class="badge {{ wave.display_status }}">{{ wave.display_status|status_word }}</span><br>
  <span class="muted">{% translate "due" %} {{ wave.due_date }} · {% translate "window" %} {{ wave.window_start }} – {{ wave.window_end }}</span>
  <div class="card-actions">
    <a href="{% url 'study:family_detail' wave.family_id %}">{% translate "Family" %}</a>
    {% if wave.family_id in enterable %}<a href="{% url 'study:wave_entry' wave.pk %}">{% translate "Enter data" %}</a>{% endif %}
  </div>
</div>
{% empty %}<p>{% translate "No waves due." %}</p>{% endfor %}"""


def _render(source: str, context: dict) -> str:
    return engines["django"].from_string("{% load record_status %}" + source).render(context)


# --- the selectors as they were -------------------------------------------------------------


def old_record_status_grid(
    families: QuerySet[Family], spec: GridFilter, *, today: date | None = None
) -> dict:
    """Families x waves, each cell the wave's id and record status (planned, due, overdue,
    completed, missed, registry year, locked), filtered by arm, wijk, coach and status; counts per wave
    column; the filter choices. Four queries whatever the number of families."""
    today = today or timezone.localdate()
    if spec.arm:
        families = families.filter(arm__kind=spec.arm)
    if spec.wijk:
        families = families.filter(wijk=spec.wijk)
    coaches = CaseloadAssignment.objects.active_on(today).filter(family__in=families)
    if spec.coach:
        families = families.filter(
            pk__in=coaches.filter(coach__username=spec.coach).values("family_id")
        )
    rows = list(families.select_related("arm").order_by("arm__kind", "pseudonym"))
    # The waves' fields only, not a model instance per wave (seven per family).
    cells_of: dict[int, dict[int, tuple[int, str]]] = {}
    for family_id, pk, index, status, locked, window_start, window_end in (
        Wave.objects.alive()
        .filter(family__in=families)
        .order_by("family_id", "index")
        .values_list("family_id", "pk", "index", "status", "locked", "window_start", "window_end")
    ):
        shown = (
            Wave.LOCKED if locked else Wave.derived_status(status, window_start, window_end, today)
        )
        cells_of.setdefault(family_id, {})[index] = (pk, shown)
    open_queries = dict(
        DataQuery.objects.filter(wave__family__in=families)
        .exclude(status=DataQuery.Status.CLOSED)
        .values("wave__family_id")
        .annotate(n=Count("pk"))
        .values_list("wave__family_id", "n")
    )
    coach_of: dict[int, list[str]] = {}
    for family_id, name in coaches.values_list("family_id", "coach__username"):
        coach_of.setdefault(family_id, []).append(name)
    indices: set[int] = set()
    grid = []
    for family in rows:
        cells = cells_of.get(family.pk, {})
        if spec.status and spec.status not in {status for _w, status in cells.values()}:
            continue
        indices |= set(cells)
        grid.append(
            {
                "family": family,
                "coaches": sorted(coach_of.get(family.pk, [])),
                "cells": cells,
                "open_queries": open_queries.get(family.pk, 0),
            }
        )
    columns = sorted(indices)
    counts = {i: Counter(row["cells"][i][1] for row in grid if i in row["cells"]) for i in columns}
    for row in grid:
        row["row"] = [row["cells"].get(i) for i in columns]
    return {
        "columns": columns,
        "rows": grid,
        "counts": [(i, sorted(counts[i].items())) for i in columns],
        "wijken": sorted({w for w in families.values_list("wijk", flat=True) if w}),
        "coaches": sorted(set(coaches.values_list("coach__username", flat=True))),
        "statuses": Wave.status_words(),
    }


def old_study_dashboard(
    study: Study, families: QuerySet[Family], *, today: date | None = None
) -> dict:
    """Families per arm and status, wave completion, what is due next, enrolment vs cap, and
    how many families were enrolled on an eligibility override."""
    today = today or timezone.localdate()
    grouped = (
        families.order_by()
        .values("arm__kind", "status")
        .annotate(n=Count("pk"), overrides=Count("pk", filter=~Q(eligibility_override_reason="")))
    )
    per_arm_status: Counter = Counter()
    overrides = 0
    for row in grouped:
        per_arm_status[(row["arm__kind"], row["status"])] += row["n"]
        overrides += row["overrides"]
    arms = {}
    for arm in study.arms.all():
        counts = {
            status: per_arm_status.get((arm.kind, status), 0) for status in Family.Status.values
        }
        total = sum(counts.values())
        cap = study.intervention_cap if arm.is_intervention else study.comparison_cap
        left = total - counts[Family.Status.ACTIVE] - counts[Family.Status.COMPLETED]
        arms[arm.kind] = {
            "arm": arm,
            "counts": counts,
            "total": total,
            "cap": cap,
            "attrition": left,
        }
    # The stored fields of every wave, not a model instance each (hundreds per study); the 25
    # due next become waves with their family's pseudonym, all the table shows of them.
    rows = (
        Wave.objects.alive()
        .filter(family__in=families, index__gte=0)
        .order_by("due_date")
        .values_list(
            "index",
            "status",
            "window_start",
            "window_end",
            "due_date",
            "family_id",
            "family__pseudonym",
        )
    )
    status_counts: Counter = Counter()
    by_index: dict[int, Counter] = {}
    upcoming: list[Wave] = []
    for index, status, window_start, window_end, due_date, family_id, pseudonym in rows:
        shown = Wave.derived_status(status, window_start, window_end, today)
        status_counts[shown] += 1
        by_index.setdefault(index, Counter())[shown] += 1
        if shown in (Wave.Status.DUE, Wave.Status.OVERDUE) and len(upcoming) < 25:
            family = Family(pk=family_id, pseudonym=pseudonym)
            upcoming.append(
                Wave(index=index, due_date=due_date, window_end=window_end, family=family)
            )
    return {
        "arms": arms,
        "wave_status": dict(status_counts),
        "upcoming": upcoming,
        "by_index": [(index, dict(counts)) for index, counts in sorted(by_index.items())],
        "n_families": sum(a["total"] for a in arms.values()),
        "overrides": overrides,
    }


def old_record_rows(user, study, spec: GridFilter, page: int = 1) -> str:
    families = selectors.family_list(user).filter(study=study)
    grid = old_record_status_grid(families, spec)
    shown = list(Paginator(grid["rows"], 50).get_page(page).object_list)
    entry, detail = url_maker("study:wave_entry"), url_maker("study:family_detail")
    words = status_words()
    for row in shown:
        row["href"] = detail(row["family"].pk)
        row["links"] = [
            {"status": cell[1], "word": words.get(cell[1], cell[1]), "href": entry(cell[0])}
            if cell
            else None
            for cell in row["row"]
        ]
    from django.urls import reverse

    context = {
        "rows": shown,
        "grid": grid,
        "queries_url": reverse("study:query_list", args=[study.pk]),
    }
    return _render(OLD_RECORD_ROWS, context)


def old_dashboard_rows(user, study, page: int = 1) -> str:
    families = selectors.research_family_list(user).filter(study=study)
    dashboard = old_study_dashboard(study, families)
    shown = list(
        Paginator(families.order_by("arm__kind", "pseudonym", "pk"), 50).get_page(page).object_list
    )
    detail = url_maker("study:family_detail")
    for row in (*shown, *dashboard["upcoming"]):
        row.href = detail(row.family_id if isinstance(row, Wave) else row.pk)
    return _render(OLD_DASHBOARD_ROWS, {"dashboard": dashboard, "families": shown})


def old_coach_caseload(user, *, ids: list[int]) -> QuerySet[Family]:
    """`selectors.coach_caseload` as it was: the contacts joined, counted and grouped."""
    from django.db.models import Max, OuterRef, Subquery

    open_waves = (
        Wave.objects.alive()
        .filter(family=OuterRef("pk"), index__gte=0, status=Wave.Status.PLANNED)
        .order_by("index")
    )
    families = access.caseload_families(user).filter(pk__in=ids)
    return families.select_related("arm", "study").annotate(
        n_contacts=Count("contacts", filter=Q(contacts__is_deleted=False)),
        last_contact=Max("contacts__occurred_at", filter=Q(contacts__is_deleted=False)),
        next_wave_index=Subquery(open_waves.values("index")[:1]),
        next_wave_due=Subquery(open_waves.values("due_date")[:1]),
    )


def old_caseload_cards(user, page: int = 1) -> str:
    ids = selectors.coach_caseload_ids(user)
    ids = list(Paginator(ids, 50).get_page(page).object_list)
    shown = list(old_coach_caseload(user, ids=ids).order_by("pseudonym", "pk"))
    detail, contact, care = (
        url_maker(name)
        for name in ("study:family_detail", "study:contact_new", "study:care_workers")
    )
    for family in shown:
        family.links = {
            "detail": detail(family.pk),
            "contact": contact(family.pk),
            "care": care(family.pk),
        }
    return _render(OLD_CASELOAD_CARDS, {"families": shown})


def old_caseload_overview(user, study) -> list[dict]:
    """`selectors.caseload_overview` as it was (the caseloads and notes-grant pages' rows):
    model instances, each family's current assignments and history."""
    families = list(
        access.caseload_managed_families(user)
        .filter(study=study)
        .select_related("arm")
        .order_by("pseudonym")
    )
    today = timezone.localdate()
    history: dict[int, list] = {}
    for row in (
        CaseloadAssignment.objects.filter(family__in=families)
        .select_related("coach")
        .order_by("start_date", "pk")
    ):
        history.setdefault(row.family_id, []).append(row)
    overview = []
    for family in families:
        rows = history.get(family.pk, [])
        current = [
            a for a in rows if a.start_date <= today and (a.end_date is None or a.end_date >= today)
        ]
        overview.append(
            {
                "family": family,
                "current": current,
                "history": rows,
                "coach_today": ", ".join(a.coach.get_username() for a in current) or "—",
                "history_text": "; ".join(
                    f"{a.coach.get_username()} {localize(a.start_date)}–"
                    f"{localize(a.end_date) if a.end_date else ''}"
                    for a in rows
                ),
            }
        )
    return overview


def old_caseloads_rows(user, study) -> str:
    return _render(
        OLD_CASELOADS_ROWS,
        {"overview": old_caseload_overview(user, study), "chosen": set()},
    )


def old_handed_over(user, study) -> list[dict]:
    """The notes-grant page's rows as its view made them from `caseload_overview`."""
    rows = []
    for row in old_caseload_overview(user, study):
        current = {a.coach_id for a in row["current"]}
        earlier = sorted(
            {a.coach.get_username() for a in row["history"] if a.coach_id not in current}
        )
        if current and earlier:
            rows.append({**row, "earlier": earlier})
    return rows


def old_waves_due_list(user) -> list[Wave]:
    """`selectors.waves_due_list` as it was: wave instances with their family."""
    from datetime import timedelta

    today = timezone.localdate()
    waves = (
        Wave.objects.alive()
        .filter(
            family__in=selectors.family_list(user).filter(status=Family.Status.ACTIVE),
            index__gte=0,
            status__in=[Wave.Status.PLANNED, Wave.Status.DUE, Wave.Status.OVERDUE],
            window_start__lte=today + timedelta(days=60),
        )
        .select_related("family")
        .order_by("due_date", "family__pseudonym")
    )
    result = []
    for wave in waves:
        wave.display_status = wave.status_on(today)
        result.append(wave)
    return result


def old_due_cards(user) -> str:
    waves = old_waves_due_list(user)
    enterable = selectors.research_family_ids(user, waves)
    return _render(OLD_DUE_CARDS, {"waves": waves, "enterable": enterable})


# --- the pages now --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        study, _ = seed_demo(seed=7)
        yield study
        transaction.set_rollback(True)


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("username", ["beheerder", "onderzoeker", "coach1"])
def test_the_list_pages_show_the_rows_as_before(
    client, demo, django_user_model, username, language
):
    user = django_user_model.objects.get(username=username)
    client.force_login(user)
    client.cookies["django_language"] = language
    study = Study.objects.get(pk=demo.pk)
    coach = (
        CaseloadAssignment.objects.filter(family__study=study)
        .values_list("coach__username", flat=True)
        .first()
    )
    wijk = study.families.exclude(wijk="").values_list("wijk", flat=True).first()
    checked = 0
    with translation.override(language):
        for query, spec, page in [
            ("", GridFilter(), 1),
            ("?page=2", GridFilter(), 2),
            ("?status=overdue", GridFilter(status="overdue"), 1),
            ("?status=locked", GridFilter(status="locked"), 1),
            (f"?coach={coach}", GridFilter(coach=coach), 1),
            (f"?wijk={wijk}&arm=comparison", GridFilter(wijk=wijk, arm="comparison"), 1),
        ]:
            html = _page(client, f"/studies/{study.pk}/records/{query}")
            assert old_record_rows(user, study, spec, page) in html, query
            checked += 1
        if selectors.research_family_list(user).filter(study=study).exists():
            for page in (1, 2):
                html = _page(client, f"/studies/{study.pk}/?page={page}")
                assert old_dashboard_rows(user, study, page) in html
                checked += 1
        response = client.get("/caseload/")
        if response.status_code == 200:
            for page in (1, 2):
                assert old_caseload_cards(user, page) in _page(client, f"/caseload/?page={page}")
                checked += 1
            # No page number: the first page (read without a COUNT when it is the only one).
            assert old_caseload_cards(user, 1) in _page(client, "/caseload/")
        response = client.get(f"/studies/{study.pk}/caseloads/")
        if response.status_code == 200:
            assert old_caseloads_rows(user, study) in response.content.decode()
            checked += 1
        assert old_due_cards(user) in _page(client, "/due/")
    assert checked >= 7


@pytest.mark.parametrize("username", ["beheerder", "coach1"])
def test_the_caseload_and_due_pages_log_their_reads_as_before(
    client, demo, django_user_model, username
):
    """The caseload and due pages hand the read log a study with its id only (no query): the
    event is the one the read log writes when it looks the study up itself (same action, study,
    ids and count)."""
    from study.access_log import family_read
    from study.models import AccessEvent

    user = django_user_model.objects.get(username=username)
    client.force_login(user)
    for url, action in [("/caseload/", "caseload"), ("/due/", "waves.due")]:
        before = AccessEvent.objects.order_by("pk").last()
        response = client.get(url)
        if response.status_code != 200:
            continue
        events = list(AccessEvent.objects.filter(pk__gt=getattr(before, "pk", 0)).order_by("pk"))
        logged = [e for e in events if e.family_ids]
        assert len(logged) == 1, (url, [e.action for e in events])
        event = logged[0]
        # What the read log writes for the same families when it is given no study.
        own = family_read(None, user=user, action=event.action, families=event.family_ids)
        assert (event.study_id, event.family_ids, event.row_count) == (
            own.study_id,
            own.family_ids,
            own.row_count,
        ), url
        assert event.study_id == demo.pk and event.row_count == len(event.family_ids) > 0
        assert event.action == action


@pytest.mark.parametrize("username", ["beheerder", "coach1"])
def test_the_caseload_page_is_the_paginators_page(demo, django_user_model, username):
    """`_caseload_page` (the first page read with one id more, no COUNT when it fits) gives the
    page `Paginator(ids).get_page` gives, for every kind of page number; the data manager's
    caseload has more than one page, the coach's one."""
    from study.views.coach import CASELOAD_PER_PAGE, _caseload_page

    user = django_user_model.objects.get(username=username)
    ids = selectors.coach_caseload_ids(user)
    n = ids.count()
    assert n > 0 and (n > CASELOAD_PER_PAGE) == (username == "beheerder")
    for number in [None, "1", "2", "3", "", "0", "-1", "abc", "999"]:
        old = Paginator(ids, CASELOAD_PER_PAGE).get_page(number)
        new = _caseload_page(ids, number)
        assert (new.number, list(new.object_list), new.paginator.count) == (
            old.number,
            list(old.object_list),
            old.paginator.count,
        ), number
        assert (new.paginator.num_pages, new.start_index(), new.end_index()) == (
            old.paginator.num_pages,
            old.start_index(),
            old.end_index(),
        ), number
        assert (new.has_previous(), new.has_next()) == (old.has_previous(), old.has_next())


def test_the_caseload_cards_count_contacts_as_before(client, demo, django_user_model):
    """A family without live contacts (every one removed) and a family with one removed
    contact: the cards (contacts counted per family in a subquery) show what the joined and
    grouped count showed (0 and no last contact; one contact fewer)."""
    from study.models import Contact

    user = django_user_model.objects.get(username="beheerder")
    client.force_login(user)
    first, second = list(selectors.coach_caseload_ids(user)[:2])
    with transaction.atomic():
        Contact.objects.filter(family_id=first).update(is_deleted=True)
        newest = Contact.objects.filter(family_id=second).order_by("-occurred_at").first()
        Contact.objects.filter(pk=newest.pk).update(is_deleted=True)
        html = _page(client, "/caseload/")
        assert old_caseload_cards(user, 1) in html
        card = html.split(f'id="family-{first}"', 1)[1].split("</div>\n</div>", 1)[0]
        assert " 0 " in card and "<dd>—</dd>" in card
        transaction.set_rollback(True)


def test_the_notes_grant_page_shows_and_offers_the_handed_over_families_as_before(
    client, demo, django_user_model
):
    """The notes-grant page's table and choices from plain rows equal those the view made from
    `caseload_overview`: hand-overs to one and to two coaches today, a family handed back to an
    earlier coach, a granted pair (not offered), and families never handed over (not listed)."""
    from study.models import NotesGrant
    from study.roles import Role
    from study.services import care
    from tests.factories import make_member

    study = Study.objects.get(pk=demo.pk)
    coordinator = make_member(study, Role.COORDINATOR)
    coach1, coach2, coach3 = (
        django_user_model.objects.get(username=f"coach{n}") for n in (1, 2, 3)
    )
    today = timezone.localdate()
    mine = list(study.families.filter(assignments__coach=coach1).order_by("pk").distinct())
    assert len(mine) >= 4
    care.caseloads_hand_over(families=mine[:3], coach=coach2, on=today, user=coordinator)
    # a second coach today beside coach2; a family whose earlier coach is back beside coach2
    CaseloadAssignment.objects.create(family=mine[1], coach=coach3, start_date=today)
    CaseloadAssignment.objects.create(family=mine[2], coach=coach1, start_date=today)
    care.notes_grant(family=mine[0], coach=coach2, reason="overdracht", user=coordinator)
    old = old_handed_over(coordinator, study)
    # the family whose earlier coach is back has no earlier coach but those of today
    assert [r["family"].pk for r in old] == sorted(
        [mine[0].pk, mine[1].pk], key=lambda pk: study.families.get(pk=pk).pseudonym
    )
    new = selectors.handed_over_families(coordinator, study)
    assert [(r["family"].pk, r["family"].pseudonym, r["earlier"]) for r in new] == [
        (r["family"].pk, r["family"].pseudonym, r["earlier"]) for r in old
    ]
    assert [r["current"] for r in new] == [
        [(a.coach_id, a.coach.get_username()) for a in r["current"]] for r in old
    ]
    client.force_login(coordinator)
    response = client.get(f"/studies/{study.pk}/notes-grants/")
    assert response.status_code == 200
    with translation.override("nl"):
        table = (
            engines["django"]
            .from_string("{% load i18n %}" + OLD_HANDED_OVER_ROWS)
            .render({"rows": old})
        )
    assert table in response.content.decode()
    granted = set(NotesGrant.objects.values_list("family_id", "coach_id"))
    old_choices = [
        ("", "—"),
        *(
            (
                f"{r['family'].pk}:{a.coach_id}",
                f"{r['family'].pseudonym} → {a.coach.get_username()}",
            )
            for r in old
            for a in r["current"]
            if (r["family"].pk, a.coach_id) not in granted
        ),
    ]
    assert list(response.context["form"].fields["grant"].choices) == old_choices


def _plain(grid: dict) -> dict:
    """A grid with each family as its shown fields (old rows: instances, new: plain rows)."""
    rows = [
        {
            **{k: v for k, v in row.items() if k not in ("family", "href")},
            "family": (row["family"].pk, row["family"].pseudonym, row["family"].wijk),
        }
        for row in grid["rows"]
    ]
    return {**grid, "rows": rows}


@pytest.mark.parametrize("username", ["beheerder", "onderzoeker", "coach1", "coach4", "gemeente"])
def test_the_record_status_grid_is_the_grid_of_before(demo, django_user_model, username):
    """The grid read in two queries (families with their waves and open queries, then the
    coaches by the families' ids; the coach filter applied to those rows) is the grid of the
    four queries before: rows, cells, counts, columns and the filter choices, for every filter;
    a deleted wave's open query still counts for its family, and a family without waves
    still has its row."""
    from study.models import Indicator

    user = django_user_model.objects.get(username=username)
    study = Study.objects.get(pk=demo.pk)
    family = study.families.order_by("pk").first()
    wave = family.waves.order_by("index").last()
    DataQuery.objects.create(wave=wave, indicator=Indicator.objects.first(), message="?")
    Wave.objects.filter(pk=wave.pk).update(is_deleted=True)
    bare = study.families.order_by("pk")[1]
    Wave.objects.filter(family=bare).update(is_deleted=True)
    coaches = set(
        CaseloadAssignment.objects.filter(family__study=study).values_list(
            "coach__username", flat=True
        )
    )
    wijken = set(study.families.values_list("wijk", flat=True))
    specs = [GridFilter(), GridFilter(coach="nobody"), GridFilter(arm="nothing")]
    specs += [GridFilter(coach=c) for c in sorted(coaches)]
    specs += [GridFilter(wijk=w) for w in sorted(wijken) if w]
    specs += [GridFilter(status=s) for s in [*Wave.status_words(), "nothing"]]
    specs += [GridFilter(arm="comparison", wijk=w) for w in sorted(wijken) if w]
    specs += [GridFilter(arm="intervention", coach=c, status="due") for c in sorted(coaches)]
    for spec in specs:
        families = selectors.family_list(user).filter(study=study)
        new = selectors.record_status_grid(families, spec)
        assert _plain(new) == _plain(old_record_status_grid(families, spec)), spec


@pytest.mark.parametrize("username", ["beheerder", "onderzoeker"])
def test_the_study_dashboard_counts_are_the_counts_of_before(demo, django_user_model, username):
    """The dashboard made from every family's row read once (and the waves by the families'
    ids) counts as the grouped queries of before: per arm and status, attrition, waves per
    status and index, the overrides, and the waves due next; the family list is every family
    in the list's order."""
    user = django_user_model.objects.get(username=username)
    study = Study.objects.get(pk=demo.pk)
    Family.objects.filter(pk=study.families.order_by("pk")[2].pk).update(
        eligibility_override_reason="case file"
    )
    families = selectors.research_family_list(user).filter(study=study)
    new, old = selectors.study_dashboard(study, families), old_study_dashboard(study, families)
    assert old["overrides"] == 1
    for key in ("arms", "wave_status", "by_index", "n_families", "overrides"):
        assert new[key] == old[key], key

    def due(waves):
        return [(w.family_id, w.family.pseudonym, w.index, w.due_date, w.window_end) for w in waves]

    assert due(new["upcoming"]) == due(old["upcoming"]) and old["upcoming"]
    ordered = families.order_by("arm__kind", "pseudonym", "pk")
    assert [row.pk for row in new["families"]] == list(ordered.values_list("pk", flat=True))
    assert new["family_count"] == ordered.count()
