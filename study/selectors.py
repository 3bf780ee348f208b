"""The read side of the study app: querysets that already apply access, and page summaries.

Every page, API endpoint and export starts here (or from `study.access`, the one access rule),
never from `Family.objects.all()`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import chain

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import localize
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
    family = _live_family(pk)
    if family is None:
        raise Http404
    rights = access.family_rights(user, family)
    if access.Right.VIEW_FAMILY not in rights:
        raise Http404
    return family, rights


def wave_get_with_rights(user, pk: int) -> tuple[Wave, set[access.Right]]:
    """`wave_get` and `access.family_rights` of the wave's family in one go (the same 404; the
    caseload asked once for a coach), as `family_get_with_rights`."""
    wave = _live_wave(pk)
    if wave is None:
        raise Http404
    rights = access.family_rights(user, wave.family)
    if access.Right.VIEW_FAMILY not in rights:
        raise Http404
    return wave, rights


def wave_get(user, pk: int) -> Wave:
    """One live wave of a family the user may see, or 404 (as `family_get`)."""
    wave = _live_wave(pk)
    if wave is None or not access.family_has_right(user, wave.family, access.Right.VIEW_FAMILY):
        raise Http404
    return wave


def family_detail(family: Family) -> dict:
    """Everything the family page shows, in a fixed handful of queries."""
    waves = list(family.waves.alive().order_by("index"))
    today = timezone.localdate()
    for wave in waves:
        wave.display_status = wave.status_on(today)
    # Only the columns shown (`Indicator.label`: the Dutch label for a Dutch language).
    indicators = list(
        indicators_for(family.study).values_list("pk", "code", "label_nl", "label_en")
    )
    code_of = {pk: code for pk, code, _nl, _en in indicators}
    # The values as shown, read as plain fields (not a value and an indicator instance each).
    shown: dict[tuple[int, str], str] = {}
    missing = {code: str(words) for code, words in MissingCode.choices}  # once, not per value
    for wave_id, indicator_id, value, missing_code in (
        IndicatorValue.objects.alive()
        .filter(wave_id__in=[wave.pk for wave in waves])
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
    indicator_rows = [
        {
            "code": code,
            "label": label_nl if dutch else label_en,
            "cells": [shown.get((wave.pk, code), "") for wave in waves],
        }
        for _pk, code, label_nl, label_en in indicators
    ]
    return {
        "family": family,
        "indicator_rows": indicator_rows,
        "members": list(family.members.alive()),
        "waves": waves,
        "involvements": list(family.care_involvements.alive()),
        "contacts": list(family.contacts.alive()[:50]),  # the page shows coach_id only
    }


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


def record_status_grid(
    families: QuerySet[Family], spec: GridFilter = GridFilter(), *, today: date | None = None
) -> dict:
    """Families x waves, each cell the wave's id and record status (planned, due, overdue,
    completed, missed, registry year, locked), filtered by arm, wijk, coach and status; counts per wave
    column; the filter choices. Four queries whatever the number of families: the coaches, the
    families, their waves and their open data queries (the filter choices come from those)."""
    today = today or timezone.localdate()
    if spec.arm:
        families = families.filter(arm__kind=spec.arm)
    if spec.wijk:
        families = families.filter(wijk=spec.wijk)
    coaches = CaseloadAssignment.objects.active_on(today).filter(family__in=families)
    # The coaches today of the families of the arm and wijk chosen: each row's coaches and the
    # coach filter's choices, in one query.
    coach_of: dict[int, list[str]] = {}
    for family_id, name in coaches.values_list("family_id", "coach__username"):
        coach_of.setdefault(family_id, []).append(name)
    if spec.coach:
        families = families.filter(
            pk__in=coaches.filter(coach__username=spec.coach).values("family_id")
        )
    # The families' fields, not model instances; the queries below select them by the same
    # subquery (cheaper to build than a list of their ids).
    rows = [
        GridFamily(pk, pseudonym, arm_kind, wijk)
        for pk, pseudonym, arm_kind, wijk in families.order_by(
            "arm__kind", "pseudonym"
        ).values_list("pk", "pseudonym", "arm__kind", "wijk")
    ]
    wijken = sorted({family.wijk for family in rows if family.wijk})
    # The waves' fields only, not a model instance per wave (seven per family).
    cells_of: dict[int, dict[int, tuple[int, str]]] = {}
    derived, locked_word = Wave.derived_status, Wave.LOCKED
    for family_id, pk, index, status, locked, window_start, window_end in (
        Wave.objects.alive()
        .filter(family__in=families)
        .order_by("family_id", "index")
        .values_list("family_id", "pk", "index", "status", "locked", "window_start", "window_end")
    ):
        shown = locked_word if locked else derived(status, window_start, window_end, today)
        cells_of.setdefault(family_id, {})[index] = (pk, shown)
    open_queries = dict(
        DataQuery.objects.filter(wave__family__in=families)
        .exclude(status=DataQuery.Status.CLOSED)
        .values("wave__family_id")
        .annotate(n=Count("pk"))
        .values_list("wave__family_id", "n")
    )
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
    """Families per arm and status, wave completion, what is due next, enrolment vs cap, and
    how many families were enrolled on an eligibility override."""
    today = today or timezone.localdate()
    grouped = (
        families.order_by()
        .values("arm__kind", "status")
        .annotate(n=Count("pk"), overrides=Count("pk", filter=~Q(eligibility_override_reason="")))
    )
    per_arm_status: Counter = Counter()
    overrides = family_count = 0
    for row in grouped:
        per_arm_status[(row["arm__kind"], row["status"])] += row["n"]
        overrides += row["overrides"]
        family_count += row["n"]
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
        "family_count": family_count,  # every family, whatever its arm
    }


def study_family_rows(families: QuerySet[Family]) -> QuerySet:
    """The study dashboard's family list: what it shows of each family (named rows, not model
    instances), in its order (arm, pseudonym)."""
    return families.order_by("arm__kind", "pseudonym", "pk").values_list(
        "pk",
        "pseudonym",
        "arm__name",
        "arm__kind",
        "wijk",
        "intake_date",
        "status",
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
    contact = (
        Contact.objects.alive()
        .filter(pk=_int_or_404(pk), family__is_deleted=False)
        .select_related("family__study")
        .first()
    )
    if contact is None or not access.family_has_right(
        user, contact.family, access.Right.VIEW_FAMILY
    ):
        raise Http404
    return contact


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
    built once: the page's ids and its cards then share the one day and rule)."""
    from django.db.models import Max, OuterRef, Subquery

    open_waves = (
        Wave.objects.alive()
        .filter(family=OuterRef("pk"), index__gte=0, status=Wave.Status.PLANNED)
        .order_by("index")
    )
    if families is None:
        families = access.caseload_families(user)
    if ids is not None:
        families = families.filter(pk__in=ids)
    return families.select_related("arm", "study").annotate(
        n_contacts=Count("contacts", filter=Q(contacts__is_deleted=False)),
        last_contact=Max("contacts__occurred_at", filter=Q(contacts__is_deleted=False)),
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


def waves_due_list(user, *, today: date | None = None, horizon_days: int = 60) -> list[Wave]:
    """Open waves (T0 and later) of the families a user may see that are overdue, due, or due
    within `horizon_days`, soonest first; each carries `display_status`."""
    today = today or timezone.localdate()
    waves = (
        Wave.objects.alive()
        .filter(
            family__in=family_list(user).filter(status=Family.Status.ACTIVE),
            index__gte=0,
            status__in=[Wave.Status.PLANNED, Wave.Status.DUE, Wave.Status.OVERDUE],
            window_start__lte=today + timedelta(days=horizon_days),
        )
        .select_related("family")  # the page shows the family's pseudonym, not its arm
        .order_by("due_date", "family__pseudonym")
    )
    result = []
    for wave in waves:
        wave.display_status = wave.status_on(today)
        result.append(wave)
    return result


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


def research_family_ids(user, waves: list[Wave]) -> set[int]:
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


def caseload_overview(user, study: Study) -> list[dict]:
    """The families of the study whose caseloads the user manages, each with its coach today
    and its caseload history (ended assignments included)."""
    families = list(
        access.caseload_managed_families(user)
        .filter(study=study)
        .select_related("arm")  # the page shows each family's arm
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
                # As the table shows them (one text per cell, not a loop and filters per row).
                "coach_today": ", ".join(a.coach.get_username() for a in current) or "—",
                "history_text": "; ".join(
                    f"{a.coach.get_username()} {localize(a.start_date)}–"
                    f"{localize(a.end_date) if a.end_date else ''}"
                    for a in rows
                ),
            }
        )
    return overview


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
                    f"{coach} {localize(start)}–{localize(end) if end else ''}"
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
