"""The read side of the study app: querysets that already apply access, and page summaries.

Every page, API endpoint and export starts here (or from `study.access`, the one access rule),
never from `Family.objects.all()`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import chain
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.formats import get_format
from django.utils.translation import get_language
from django_otp.plugins.otp_totp.models import TOTPDevice

from study import access
from study.catalogue import indicators_for
from study.models import (
    ApiKey,
    Arm,
    CareInvolvement,
    CaseloadAssignment,
    Contact,
    DataQuery,
    Family,
    ImportBatch,
    Indicator,
    IndicatorValue,
    MatchingCandidate,
    Member,
    MissingCode,
    Professional,
    ProfessionalSurvey,
    Study,
    StudyMembership,
    Wave,
    WaveSurvey,
)

_Record = TypeVar("_Record", Family, Wave, Contact)


def study_list(user) -> QuerySet[Study]:
    """Studies a user may open: those of their active memberships (`access.visible_studies`)."""
    return access.visible_studies(user)


def study_get(user, pk: int) -> Study:
    try:
        return study_list(user).get(pk=pk)
    except Study.DoesNotExist:
        raise Http404 from None


def family_list(user, *, study: Study | None = None) -> QuerySet[Family]:
    """Families whose page the user may open (`access.visible_families`)."""
    qs = access.visible_families(user).select_related("arm", "study")
    if study is not None:
        qs = qs.filter(study=study)
    return qs


def family_get(user, pk: int) -> Family:
    """One family the user may see, or 404 (never 403: do not confirm it exists). Read by its
    key and then asked of `access.family_has_right` (the rule of `visible_families`, without
    building the user's family set into the query)."""
    family = _live_family(pk)
    if family is None or not access.family_has_right(user, family, access.Right.VIEW_FAMILY):
        raise Http404
    return family


def _live_family(pk) -> Family | None:
    """The live family `pk` (a non-number is a 404) with its arm and study, whoever asks."""
    return Family.objects.alive().select_related("arm", "study").filter(pk=_int_or_404(pk)).first()


def _live_wave(pk) -> Wave | None:
    """The live wave `pk` of a live family (a non-number is a 404), whoever asks."""
    return (
        Wave.objects.alive()
        .select_related("family__study", "family__arm")
        .filter(pk=_int_or_404(pk), family__is_deleted=False)
        .first()
    )


def family_get_with_rights(user, pk: int) -> tuple[Family, set[access.Right]]:
    """`family_get` and `access.family_rights` of that family in one go: the same 404 (the
    user holds VIEW_FAMILY for the family exactly when `family_has_right` says so: the rights
    are the union of its study's roles' rights and, on the caseload, the caseload roles'), and
    the caseload asked once instead of twice for a coach."""
    return _with_rights(user, _live_family(pk), lambda family: family)


def _with_rights(
    user, record: _Record | None, family_of: Callable[[_Record], Family]
) -> tuple[_Record, set[access.Right]]:
    """A live record (family, wave, contact) and the user's rights on its family, or 404 when
    there is no such record or the user may not see its family (the `*_get_with_rights`)."""
    if record is None:
        raise Http404
    rights = access.family_rights(user, family_of(record))
    if access.Right.VIEW_FAMILY not in rights:
        raise Http404
    return record, rights


def wave_get_with_rights(user, pk: int) -> tuple[Wave, set[access.Right]]:
    """`wave_get` and `access.family_rights` of the wave's family in one go (the same 404; the
    caseload asked once for a coach), as `family_get_with_rights`."""
    return _with_rights(user, _live_wave(pk), lambda wave: wave.family)


def wave_get(user, pk: int) -> Wave:
    """One live wave of a family the user may see, or 404 (as `family_get`)."""
    wave = _live_wave(pk)
    if wave is None or not access.family_has_right(user, wave.family, access.Right.VIEW_FAMILY):
        raise Http404
    return wave


@dataclass(slots=True)
class ContactRow:
    """A contact as the family page's table shows it (its fields, not a model instance); `href`
    its correct link, set by the view."""

    pk: int
    occurred_at: datetime
    kind: str
    duration_minutes: int
    initiated_by: str
    coach_id: int | None
    href: str = ""


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A family member as the family page lists them."""

    role_display: str
    birth_year: int


def family_detail(family: Family, *, registry: bool = True) -> dict:
    """Everything the family page shows, in a fixed handful of queries; the registry
    indicators' rows only with `registry` (the page shows them to research readers only). The
    members, care workers and contacts as their shown fields, not model instances."""
    waves = list(family.waves.alive().order_by("index"))
    today = timezone.localdate()
    for wave in waves:
        wave.display_status = wave.status_on(today)
    roles = dict(Member._meta.get_field("role").flatchoices)
    return {
        "family": family,
        "indicator_rows": _indicator_rows(family, waves) if registry else [],
        "members": [
            MemberRow(roles.get(role, role), birth_year)
            for role, birth_year in family.members.alive().values_list("role", "birth_year")
        ],
        "waves": waves,
        "involvements": list(
            family.care_involvements.alive().values(
                "organisation", "discipline", "start_date", "end_date"
            )
        ),
        "contacts": [
            ContactRow(*row)
            for row in family.contacts.alive()[:50].values_list(
                "pk", "occurred_at", "kind", "duration_minutes", "initiated_by", "coach_id"
            )
        ],
    }


def _indicator_rows(family: Family, waves: list[Wave]) -> list[dict]:
    """The family page's registry indicators: a label and the value shown per wave."""
    # Only the columns shown (`Indicator.label`: the Dutch label for a Dutch language).
    indicators = list(
        indicators_for(family.study).values_list("pk", "code", "label_nl", "label_en")
    )
    code_of = {pk: code for pk, code, _nl, _en in indicators}
    # The values as shown, read as plain fields (not a value and an indicator instance each).
    shown: dict[tuple[int, str], str] = {}
    missing = {code: str(words) for code, words in MissingCode.choices}  # once, not per value
    wave_ids = [wave.pk for wave in waves]
    for wave_id, indicator_id, value, missing_code in (
        IndicatorValue.objects.alive()
        .filter(wave_id__in=wave_ids)
        .values_list("wave_id", "indicator_id", "value", "missing_code")
    ):
        code = code_of.get(indicator_id)
        if code is not None:
            shown[(wave_id, code)] = (
                missing.get(missing_code, missing_code)
                if value is None
                else f"{value.normalize():f}"
            )
    dutch = (get_language() or "nl").startswith("nl")
    return [
        {
            "code": code,
            "label": label_nl if dutch else label_en,
            "cells": [shown.get((wave_id, code), "") for wave_id in wave_ids],
        }
        for _pk, code, label_nl, label_en in indicators
    ]


@dataclass(frozen=True)
class GridFilter:
    arm: str = ""
    wijk: str = ""
    coach: str = ""  # a username
    status: str = ""  # a record status: families with at least one wave in it


@dataclass(frozen=True, slots=True)
class GridFamily:
    """A family as the record status grid shows it (its fields, not a model instance)."""

    pk: int
    pseudonym: str
    arm_kind: str | None
    wijk: str


def _grid_families(
    families: QuerySet[Family], today: date
) -> tuple[list[GridFamily], dict[int, dict[int, tuple[int, str]]], Counter]:
    """The record status grid's families in its order (arm, pseudonym), each family's cells
    (wave index -> the wave's id and status) and open data queries, in one query: a row per
    wave (and one for a family without waves), deleted waves included, whose open queries
    count for the family as every query of the family's waves does. Plain fields, not a model
    instance per family and wave."""
    waves = (
        families.order_by("arm__kind", "pseudonym", "pk", "waves__index")
        .values_list(
            "pk",
            "pseudonym",
            "arm__kind",
            "wijk",
            "waves__pk",
            "waves__index",
            "waves__status",
            "waves__locked",
            "waves__window_start",
            "waves__window_end",
            "waves__is_deleted",
        )
        .annotate(
            open_queries=Count(
                "waves__queries", filter=~Q(waves__queries__status=DataQuery.Status.CLOSED)
            )
        )
    )
    rows: list[GridFamily] = []
    cells_of: dict[int, dict[int, tuple[int, str]]] = {}
    open_queries: Counter = Counter()
    derived, locked_word = Wave.derived_status, Wave.LOCKED
    for (
        pk,
        pseudonym,
        arm_kind,
        wijk,
        wave_id,
        index,
        status,
        locked,
        start,
        end,
        deleted,
        n,
    ) in waves:
        if not rows or rows[-1].pk != pk:
            rows.append(GridFamily(pk, pseudonym, arm_kind, wijk))
            cells_of[pk] = {}
        open_queries[pk] += n
        if wave_id is not None and not deleted:
            shown = locked_word if locked else derived(status, start, end, today)
            cells_of[pk][index] = (wave_id, shown)
    return rows, cells_of, open_queries


def record_status_grid(
    families: QuerySet[Family], spec: GridFilter = GridFilter(), *, today: date | None = None
) -> dict:
    """Families x waves, each cell the wave's id and record status (planned, due, overdue,
    completed, missed, registry year, locked), filtered by arm, wijk, coach and status; counts per wave
    column; the filter choices. Two queries whatever the number of families: the families with
    their waves and open data queries (`_grid_families`: the families' access rule planned
    once), then the coaches today of those families by their ids (the coach filter is applied
    to the rows read; its choices come from the same query)."""
    today = today or timezone.localdate()
    if spec.arm:
        families = families.filter(arm__kind=spec.arm)
    if spec.wijk:
        families = families.filter(wijk=spec.wijk)
    rows, cells_of, open_queries = _grid_families(families, today)
    # The coaches today of the families of the arm and wijk chosen: each row's coaches and the
    # coach filter's choices.
    coach_of: dict[int, list[str]] = {}
    if rows:
        for family_id, name in (
            CaseloadAssignment.objects.active_on(today)
            .filter(family_id__in=[family.pk for family in rows])
            .order_by()
            .values_list("family_id", "coach__username")
        ):
            coach_of.setdefault(family_id, []).append(name)
    if spec.coach:
        rows = [family for family in rows if spec.coach in coach_of.get(family.pk, ())]
    wijken = sorted({family.wijk for family in rows if family.wijk})
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
        "wijken": wijken,
        "coaches": sorted(set(chain.from_iterable(coach_of.values()))),
        "statuses": Wave.status_words(),
    }


def study_dashboard(study: Study, families: QuerySet[Family], *, today: date | None = None) -> dict:
    """Families per arm and status, wave completion, what is due next, enrolment vs cap, how
    many families were enrolled on an eligibility override, and every family's row of the
    family list (`study_family_rows`, in its order). Three queries whatever the number of
    families: the families' rows (the counts are made from them; the families' access rule
    planned once), the study's arms, and the families' waves by the families' ids."""
    today = today or timezone.localdate()
    rows = list(study_family_rows(families))
    per_arm_status = Counter((row.arm__kind, row.status) for row in rows)
    arms = {}
    for arm in study.arms.order_by("kind"):
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
    pseudonyms = {row.pk: row.pseudonym for row in rows}
    waves = (
        Wave.objects.alive()
        .filter(family_id__in=list(pseudonyms), index__gte=0)  # no query for no families
        .order_by("due_date", "pk")
        .values_list("index", "status", "window_start", "window_end", "due_date", "family_id")
    )
    status_counts: Counter = Counter()
    by_index: dict[int, Counter] = {}
    upcoming: list[Wave] = []
    for index, status, window_start, window_end, due_date, family_id in waves:
        shown = Wave.derived_status(status, window_start, window_end, today)
        status_counts[shown] += 1
        by_index.setdefault(index, Counter())[shown] += 1
        if shown in (Wave.Status.DUE, Wave.Status.OVERDUE) and len(upcoming) < 25:
            family = Family(pk=family_id, pseudonym=pseudonyms[family_id])
            upcoming.append(
                Wave(index=index, due_date=due_date, window_end=window_end, family=family)
            )
    return {
        "arms": arms,
        "wave_status": dict(status_counts),
        "upcoming": upcoming,
        "by_index": [(index, dict(counts)) for index, counts in sorted(by_index.items())],
        "n_families": sum(a["total"] for a in arms.values()),
        "overrides": sum(1 for row in rows if row.eligibility_override_reason),
        "family_count": len(rows),  # every family, whatever its arm
        "families": rows,
    }


def study_family_rows(families: QuerySet[Family]) -> QuerySet:
    """The study dashboard's family list: what it shows of each family and whether it was
    enrolled on an eligibility override (named rows, not model instances), in its order (arm,
    pseudonym)."""
    return families.order_by("arm__kind", "pseudonym", "pk").values_list(
        "pk",
        "pseudonym",
        "arm__name",
        "arm__kind",
        "wijk",
        "intake_date",
        "status",
        "eligibility_override_reason",
        named=True,
    )


def family_wave_list(family: Family) -> list[Wave]:
    """The family's live waves, T-2 first."""
    return list(family.waves.alive().order_by("index"))


def care_involvement_list(family: Family) -> list[CareInvolvement]:
    """The care workers involved with the family, the latest first."""
    return list(family.care_involvements.alive().order_by("-start_date"))


def _int_or_404(pk: object) -> int:
    try:
        return int(pk)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise Http404 from None


def contact_get(user, pk: int) -> Contact:
    """A live contact with a family the user may see, or 404 (as `family_get`)."""
    contact = _live_contact(pk)
    if contact is None or not access.family_has_right(
        user, contact.family, access.Right.VIEW_FAMILY
    ):
        raise Http404
    return contact


def contact_get_with_rights(user, pk: int) -> tuple[Contact, set[access.Right]]:
    """`contact_get` and `access.family_rights` of the contact's family in one go (the same
    404; the caseload asked once for a coach), as `family_get_with_rights`."""
    return _with_rights(user, _live_contact(pk), lambda contact: contact.family)


def _live_contact(pk) -> Contact | None:
    """The live contact `pk` of a live family (a non-number is a 404) with its family and
    study, whoever asks."""
    return (
        Contact.objects.alive()
        .filter(pk=_int_or_404(pk), family__is_deleted=False)
        .select_related("family__study")
        .first()
    )


def care_involvement_get(user, pk: int) -> CareInvolvement:
    """A live involvement with a family the user may see, or 404 (as `family_get`)."""
    involvement = (
        CareInvolvement.objects.alive()
        .filter(pk=_int_or_404(pk), family__is_deleted=False)
        .select_related("family")
        .first()
    )
    if involvement is None or not access.family_has_right(
        user, involvement.family, access.Right.VIEW_FAMILY
    ):
        raise Http404
    return involvement


def coach_caseload_ids(user, *, families: QuerySet[Family] | None = None) -> QuerySet:
    """The ids of the families on the user's caseload, in the cards' order (for paging);
    `families`: the user's `access.caseload_families` already asked for in this request."""
    if families is None:
        families = access.caseload_families(user)
    return families.order_by("pseudonym", "pk").values_list("pk", flat=True)


def coach_caseload(
    user, *, ids: list[int] | None = None, families: QuerySet[Family] | None = None
) -> QuerySet[Family]:
    """The families on the user's own caseload, with their number of contacts, the last
    contact and the next wave to do (its label index and due date), for the caseload cards;
    `ids`: only those (a page: its contacts are counted, not every family's); `families`: the
    user's `access.caseload_families` already asked for in this request (the same access filter,
    built once: the page's ids and its cards then share the one day and rule).

    The contacts are counted per family in a subquery (by the contacts' family index), not
    joined and grouped: on young statistics PostgreSQL hashed every contact of every study for
    that join (a data manager's page of 50 families of 10 studies: 80 ms instead of 2)."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Coalesce

    open_waves = (
        Wave.objects.alive()
        .filter(family=OuterRef("pk"), index__gte=0, status=Wave.Status.PLANNED)
        .order_by("index")
    )
    contacts = Contact.objects.alive().filter(family=OuterRef("pk")).order_by().values("family")
    if families is None:
        families = access.caseload_families(user)
    if ids is not None:
        families = families.filter(pk__in=ids)
    return families.select_related("arm", "study").annotate(
        n_contacts=Coalesce(Subquery(contacts.annotate(n=Count("pk")).values("n")), 0),
        last_contact=Subquery(contacts.annotate(last=Max("occurred_at")).values("last")),
        next_wave_index=Subquery(open_waves.values("index")[:1]),
        next_wave_due=Subquery(open_waves.values("due_date")[:1]),
    )


def coach_caseload_cards(
    user, *, ids: list[int], families: QuerySet[Family] | None = None
) -> list[dict]:
    """The caseload cards of the families `ids` (a page of `coach_caseload_ids`): what each
    card shows, as plain rows (not model instances), in the cards' order; `families`: as for
    `coach_caseload`."""
    return list(
        coach_caseload(user, ids=ids, families=families)
        .order_by("pseudonym", "pk")
        .values(
            "pk",
            "pseudonym",
            "wijk",
            "study_id",
            "arm__name",
            "arm__kind",
            "n_contacts",
            "last_contact",
            "next_wave_index",
            "next_wave_due",
        )
    )


def study_of_families(study_of: dict[int, int]) -> Study | None:
    """The one study of families (family id -> its study id; None when none or several), as
    the read log looks up the study of the families it logs itself (its first 1,000 ids), with no
    query instead of two: only its id is set (all the read log reads of it)."""
    study_ids = {study_of[pk] for pk in sorted(study_of)[:1000]}
    if len(study_ids) != 1:
        return None
    # No query: the read log stores the study's id only (`AccessEvent.study_id`, which its mac
    # covers), and the study exists: the families were just read and `Family.study` is PROTECT.
    return Study(pk=study_ids.pop())


def family_audit_trail(family: Family, *, limit: int = 500) -> list[dict]:
    """Every recorded change to a family and its data: who, when, what from what to what."""
    sources = [
        family.history.all(),
        Member.history.filter(family_id=family.pk),
        Wave.history.filter(family_id=family.pk),
        IndicatorValue.history.filter(wave__family_id=family.pk).select_related("indicator"),
        WaveSurvey.history.filter(wave__family_id=family.pk),
        CareInvolvement.history.filter(family_id=family.pk),
        Contact.history.filter(family_id=family.pk),
    ]
    records = sorted(
        chain.from_iterable(qs.select_related("history_user")[:limit] for qs in sources),
        key=lambda r: (r.history_date, r.history_id),
        reverse=True,
    )[:limit]
    return [_audit_row(record) for record in records]


def _audit_row(record) -> dict:
    changes = []
    previous = record.prev_record
    if previous is not None:
        delta = record.diff_against(previous)
        changes = [
            {"field": c.field, "old": c.old, "new": c.new}
            for c in delta.changes
            if c.field not in {"updated_at"}
        ]
    return {
        "when": record.history_date,
        "who": getattr(record.history_user, "username", "") or "system",
        "model": record.instance._meta.verbose_name,
        "object": str(getattr(record, "indicator", "") or record.instance),
        "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
        "reason": record.history_change_reason or "",
        "changes": changes,
    }


@dataclass(frozen=True, slots=True)
class DueWave:
    """A wave as the due waves page shows it (what its card reads of the wave and family)."""

    pk: int
    family_id: int
    study_id: int
    pseudonym: str
    index: int
    due_date: date | None
    window_start: date | None
    window_end: date | None
    display_status: str

    @property
    def label(self) -> str:
        return f"T{self.index}"


def waves_due_list(user, *, today: date | None = None, horizon_days: int = 60) -> list[DueWave]:
    """Open waves (T0 and later) of the families a user may see that are overdue, due, or due
    within `horizon_days`, soonest first; each carries `display_status`. Plain rows (the
    fields the cards show), not a wave and a family instance each."""
    today = today or timezone.localdate()
    rows = (
        Wave.objects.alive()
        .filter(
            family__in=family_list(user).filter(status=Family.Status.ACTIVE),
            index__gte=0,
            status__in=[Wave.Status.PLANNED, Wave.Status.DUE, Wave.Status.OVERDUE],
            window_start__lte=today + timedelta(days=horizon_days),
        )
        .order_by("due_date", "family__pseudonym")
        .values_list(
            "pk",
            "family_id",
            "family__study_id",
            "family__pseudonym",
            "index",
            "due_date",
            "window_start",
            "window_end",
            "status",
        )
    )
    due = []
    for pk, family_id, study_id, pseudonym, index, due_date, start, end, status in rows:
        shown = Wave.derived_status(status, start, end, today)
        due.append(DueWave(pk, family_id, study_id, pseudonym, index, due_date, start, end, shown))
    return due


def wave_entry_values(
    wave: Wave, version: str | None = None, *, waves: list[Wave] | None = None
) -> dict:
    """What the wave entry form starts from: the wave's own values (code -> (number, missing
    code)) as they stand now or, given a version the form carried, as they stood then; the
    previous wave's values as suggestions (code -> (number, missing code, wave label)) for
    indicators this wave has no value for; the survey's answers (none before the intake); and
    the version. `waves`: the family's live waves (`family_wave_list`), when the caller has them
    (one query fewer)."""
    from study.services.surveys import survey_as_of
    from study.services.values import parse_version, values_as_of, wave_version

    def values_of(*of: Wave) -> dict[int, dict[str, tuple[str, str]]]:
        """wave id -> its values, the waves' values read in one query."""
        read: dict[int, dict[str, tuple[str, str]]] = {w.pk: {} for w in of}
        for wave_id, code, value, missing in (
            IndicatorValue.objects.alive()
            .filter(wave__in=of)
            .values_list("wave_id", "indicator__code", "value", "missing_code")
        ):
            read[wave_id][code] = ("" if value is None else _number_text(value), missing)
        return read

    if waves is None:
        previous = wave.family.waves.alive().filter(index=wave.index - 1).first()
    else:  # one live wave per index (unique_wave_index)
        previous = next((w for w in waves if w.index == wave.index - 1), None)
    before = (previous,) if previous is not None else ()
    try:
        base = parse_version(version)
    except ValidationError:
        base = None
    if base is None:
        version = wave_version(wave)
        read = values_of(wave, *before)  # this wave's and the previous one's in one query
        current = read[wave.pk]
        answers = {}
        # A wave before the intake has no survey (the services refuse one; the form has none).
        survey = (
            None if wave.is_pre_intake else WaveSurvey.objects.alive().filter(wave=wave).first()
        )
        if survey is not None:
            answers = {f: getattr(survey, f) for f in _SURVEY_INITIAL}
    else:
        codes = dict(Indicator.objects.values_list("pk", "code"))
        current = {
            codes[pk]: ("" if e.value is None else _number_text(e.value), e.missing_code)
            for pk, e in values_as_of(wave, base[0]).items()
        }
        answers = {f: v for f, v in survey_as_of(wave, base[1]).items() if f in _SURVEY_INITIAL}
        read = values_of(*before) if before else {}
    suggestions = {}
    if previous is not None:
        suggestions = {
            code: (number, missing, previous.label)
            for code, (number, missing) in read[previous.pk].items()
            if code not in current
        }
    survey_initial = {f: v for f, v in answers.items() if v not in (None, "")}
    return {
        "current": current,
        "suggestions": suggestions,
        "survey": survey_initial,
        "version": version,
    }


_SURVEY_INITIAL = (*WaveSurvey.SCORE_FIELDS, "qol_instrument")


def _number_text(value: Decimal) -> str:
    number = value.normalize()
    return f"{number:f}"


# --- research data: researchers (of the study) and data managers only ----------------------


def research_study_list(user) -> QuerySet[Study]:
    """Studies whose research data (members, surveys, professionals) a user may read."""
    return access.studies_with(user, access.Right.RESEARCH_READ)


def research_family_list(user, *, write: bool = False) -> QuerySet[Family]:
    """Families whose research data a user may read (`write`: record); a wijkcoach's caseload
    does not count."""
    return access.research_families(user, write=write).select_related("arm", "study")


def research_family_ids(user, waves: list[Wave] | list[DueWave]) -> set[int]:
    """Which of the waves' families the user may record research data of (one query)."""
    ids = {w.family_id for w in waves}
    if not ids:
        return set()
    families = access.research_families(user, write=True).filter(pk__in=ids)
    return set(families.values_list("pk", flat=True))


def member_list(user) -> QuerySet[Member]:
    return Member.objects.alive().filter(family__in=research_family_list(user)).order_by("pk")


def wave_survey_list(user) -> QuerySet[WaveSurvey]:
    return (
        WaveSurvey.objects.alive()
        .filter(wave__family__in=research_family_list(user), wave__is_deleted=False)
        .select_related("wave")
        .order_by("pk")
    )


def research_wave_get(user, pk: int) -> Wave:
    """A wave whose research data the user may write, or 404."""
    try:
        return (
            Wave.objects.alive()
            .select_related("family__study")
            .get(pk=pk, family__in=research_family_list(user, write=True))
        )
    except (Wave.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def professional_list(user) -> QuerySet[Professional]:
    return Professional.objects.alive().filter(study__in=research_study_list(user)).order_by("pk")


def professional_get(user, pk: int, *, write: bool = False) -> Professional:
    """A professional whose surveys the user may read (`write`: record), or 404."""
    if write:
        studies = access.studies_with(user, access.Right.RESEARCH_WRITE)
        qs = Professional.objects.alive().filter(study__in=studies)
    else:
        qs = professional_list(user)
    try:
        return qs.get(pk=pk)
    except (Professional.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass
class ProfessionalSurveyStart:
    """What the professional survey page starts from: the user's professional records (one per
    study), the one chosen, the answers already given this year and the years done."""

    professionals: list[Professional]
    professional: Professional
    initial: dict
    years_done: list[int]


def professional_survey_start(
    user, *, chosen: str | None, year: int
) -> ProfessionalSurveyStart | None:
    """None when the user is no professional of any study."""
    professionals = list(Professional.objects.alive().filter(user=user).select_related("study"))
    if not professionals:
        return None
    professional = next((p for p in professionals if str(p.pk) == chosen), professionals[0])
    # Every year's answers in one query (one row a year): this year's and the years done.
    done = list(ProfessionalSurvey.objects.alive().filter(professional=professional).order_by("pk"))
    existing = next((survey for survey in done if survey.year == year), None)
    initial: dict = {"year": year}
    if existing is not None:
        initial.update({name: getattr(existing, name) for name in ProfessionalSurvey.SCALES})
    return ProfessionalSurveyStart(
        professionals=professionals,
        professional=professional,
        initial=initial,
        years_done=sorted(survey.year for survey in done),
    )


def professional_survey_list(user) -> QuerySet[ProfessionalSurvey]:
    return (
        ProfessionalSurvey.objects.alive()
        .filter(professional__in=professional_list(user))
        .order_by("pk")
    )


def may_import(user, study: Study) -> bool:
    """Whether the user may import registry extracts into the study (who records its research
    data)."""
    return access.may_write_research(user, study)


def import_study_get(user, pk: int) -> Study:
    """A study the user may import into, or 404."""
    study = study_list(user).filter(pk=pk).first()
    if study is None or not may_import(user, study):
        raise Http404
    return study


def import_batch_list(user) -> QuerySet[ImportBatch]:
    """Import batches of the studies where the user may import; the one access rule for import
    pages and the import API."""
    # The stored file can be tens of MB: lists and status pages never load it.
    qs = ImportBatch.objects.select_related("study", "created_by").defer("content")
    return qs.filter(study__in=access.studies_with(user, access.Right.RESEARCH_WRITE))


def import_batch_get(user, pk: int) -> ImportBatch:
    batch = import_batch_list(user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


# --- people and credentials of a study -------------------------------------------------------


def study_member_list(study: Study) -> list:
    """The study's active members (each once), with their roles there and whether they have
    linked an authenticator."""
    rows = StudyMembership.objects.filter(study=study, active=True).select_related("user")
    people: dict[int, object] = {}
    for row in rows.order_by("user__username", "role"):
        person = people.setdefault(row.user_id, row.user)
        person.study_roles = [*getattr(person, "study_roles", []), row.get_role_display()]
    with_device = set(
        TOTPDevice.objects.filter(user_id__in=people, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    for pk, person in people.items():
        person.has_authenticator = pk in with_device
    return list(people.values())


def study_member_get(study: Study, user_id: str):
    """An active member of the study, or 404."""
    try:
        membership = StudyMembership.objects.select_related("user").filter(
            study=study, active=True, user_id=int(user_id)
        )
    except (TypeError, ValueError):
        raise Http404 from None
    first = membership.first()
    if first is None:
        raise Http404
    return first.user


def api_key_list(user, *, study: Study) -> QuerySet[ApiKey]:
    """The keys of a study, for those who manage them."""
    if not access.has_right(user, study, access.Right.API_KEYS_MANAGE):
        return ApiKey.objects.none()
    return ApiKey.objects.filter(study=study).select_related("created_by", "revoked_by")


# --- set-up pages: members, caseloads, professionals -----------------------------------------


def study_memberships(study: Study) -> QuerySet[StudyMembership]:
    """Every membership of the study (active first), for its members page."""
    return (
        StudyMembership.objects.filter(study=study)
        .select_related("user")
        .order_by("-active", "user__username", "role")
    )


def study_coaches(study: Study) -> list:
    """The study's active wijkcoaches (to choose a caseload's coach from)."""
    rows = StudyMembership.objects.filter(study=study, role="wijkcoach", active=True)
    return [m.user for m in rows.select_related("user").order_by("user__username")]


def handed_over_families(user, study: Study) -> list[dict]:
    """The families of the study whose caseloads the user manages that were handed over: each
    with a coach today and an earlier coach who is not one of them, in pseudonym order, as plain
    rows (what the notes-grant page shows and offers): `family` (pk, pseudonym), `current`
    (coach id and user name of each assignment today, by start), `earlier` (the earlier coaches'
    names, sorted). Two queries."""
    families = (
        access.caseload_managed_families(user)
        .filter(study=study)
        .order_by("pseudonym")
        .values_list("pk", "pseudonym")
    )
    today = timezone.localdate()
    history: dict[int, list[tuple]] = {}
    for family_id, start, end, coach_id, coach in (
        CaseloadAssignment.objects.filter(family__in=families.values("pk"))
        .order_by("start_date", "pk")
        .values_list("family_id", "start_date", "end_date", "coach_id", "coach__username")
    ):
        history.setdefault(family_id, []).append((start, end, coach_id, coach))
    handed_over = []
    for pk, pseudonym in families:
        rows = history.get(pk, [])
        current = [
            (coach_id, coach)
            for start, end, coach_id, coach in rows
            if start <= today and (end is None or end >= today)
        ]
        today_ids = {coach_id for coach_id, _name in current}
        earlier = sorted({coach for _s, _e, coach_id, coach in rows if coach_id not in today_ids})
        if current and earlier:
            handed_over.append(
                {"family": CaseloadFamily(pk, pseudonym), "current": current, "earlier": earlier}
            )
    return handed_over


@dataclass(frozen=True, slots=True)
class CaseloadFamily:
    """A family as the caseloads page lists it (and its form offers it)."""

    pk: int
    pseudonym: str


def caseload_table(user, study: Study) -> list[dict]:
    """The rows of the caseloads page (as `caseload_overview`, in plain rows, not model
    instances): each family of the study whose caseload the user manages, its arm, its coaches
    today and its caseload history as the table shows them. Two queries."""
    families = (
        access.caseload_managed_families(user)
        .filter(study=study)
        .order_by("pseudonym")
        .values_list("pk", "pseudonym", "arm__name", "arm__kind")
    )
    today = timezone.localdate()
    history: dict[int, list[tuple]] = {}
    for family_id, start, end, coach in (
        CaseloadAssignment.objects.filter(family__in=families.values("pk"))
        .order_by("start_date", "pk")
        .values_list("family_id", "start_date", "end_date", "coach__username")
    ):
        history.setdefault(family_id, []).append((start, end, coach))
    kinds = {code: str(word) for code, word in Arm.Kind.choices}
    # `localize(day)`, with the language's date format read once, not once per date.
    date_format = get_format("DATE_FORMAT")
    table = []
    for pk, pseudonym, arm_name, arm_kind in families:
        rows = history.get(pk, [])
        table.append(
            {
                "family": CaseloadFamily(pk, pseudonym),
                "arm": arm_name or kinds.get(arm_kind, arm_kind),
                "coach_today": ", ".join(
                    coach
                    for start, end, coach in rows
                    if start <= today and (end is None or end >= today)
                )
                or "—",
                "history_text": "; ".join(
                    f"{coach} {format_date(start, date_format)}–"
                    f"{format_date(end, date_format) if end else ''}"
                    for start, end, coach in rows
                ),
            }
        )
    return table


def caseload_families_chosen(user, study: Study, ids: set[int]) -> list[Family]:
    """The families of `ids` whose caseloads the user manages in the study (for a change), in
    the table's order."""
    return list(
        access.caseload_managed_families(user)
        .filter(study=study, pk__in=ids)
        .select_related("arm")
        .order_by("pseudonym")
    )


def study_professionals(study: Study) -> QuerySet[Professional]:
    return Professional.objects.alive().filter(study=study).order_by("-active", "code")


def matching_pool_summary(study: Study) -> dict:
    """What a matched study's recorded candidate pool holds, as counts only (never a candidate
    key): per intake year the candidates and how many were selected, the totals, when and by whom
    it was last recorded, and the matching variables it names."""
    rows = MatchingCandidate.objects.filter(study=study)
    per_year = list(
        rows.values("intake_year")
        .annotate(n=Count("pk"), selected=Count("pk", filter=Q(selected=True)))
        .order_by("intake_year")
    )
    last = rows.aggregate(at=Max("recorded_at"))["at"]
    recorded_by = (
        rows.filter(recorded_at=last).select_related("recorded_by").first() if last else None
    )
    variables = sorted({k for values in rows.values_list("values", flat=True) for k in values})
    return {
        "per_year": per_year,
        "total": sum(r["n"] for r in per_year),
        "selected": sum(r["selected"] for r in per_year),
        "recorded_at": last,
        "recorded_by": recorded_by.recorded_by if recorded_by else None,
        "variables": variables,
    }


@dataclass(frozen=True)
class QueryRow:
    """One row of the study's query list: only what it shows (no model instances)."""

    pk: int
    family_id: int
    pseudonym: str
    wave_label: str
    indicator_code: str
    message: str
    status: str
    status_display: str
    opened_at: datetime


def query_list_rows(queries) -> list[QueryRow]:
    """The rows of a study's query list (a DataQuery queryset, ordered and cut by the
    caller) as plain values: one query, no model instances."""
    words = dict(DataQuery.Status.choices)
    return [
        QueryRow(
            pk=pk,
            family_id=family_id,
            pseudonym=pseudonym,
            wave_label=Wave(index=index).label,
            indicator_code=code,
            message=message,
            status=status,
            status_display=words.get(status, status),
            opened_at=opened_at,
        )
        for pk, family_id, pseudonym, index, code, message, status, opened_at in queries.values_list(
            "pk",
            "wave__family_id",
            "wave__family__pseudonym",
            "wave__index",
            "indicator__code",
            "message",
            "status",
            "opened_at",
        )
    ]
