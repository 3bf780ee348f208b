"""The one access rule: what a user may read and write, answered from per-study memberships.

Every selector, view, endpoint, export and the monitor asks here; nothing else looks at roles.

**Roles are per study** (a `StudyMembership`, active or not). A role's rights hold in the studies
the user holds it in, with one narrowing: a wijkcoach's family-level rights hold only for the
families on their own caseload today, and only in studies where they are an active wijkcoach
member. So a wijkcoach of study A who is a researcher of study B reads research data of B's
families, never of A's caseload.

| role        | study-wide rights                                                         | caseload |
|-------------|---------------------------------------------------------------------------|----------|
| researcher  | view study, view families, research read + write, care write, analyse,    |          |
|             | edit plans, publish reports, read published, manage the monitor (*),      |          |
|             | change the study's set-up, enrol despite the indicators (with a reason),  |          |
|             | enter instruments                                                         |          |
| datamanager | everything a researcher has, and unlock waves, manage caseloads, manage   |          |
|             | members and enrolment links, issue API keys, manage the price catalogue   |          |
| coordinator | view study, read published, manage caseloads (assign, hand over, end),    |          |
|             | grant a new coach the earlier notes                                       |          |
| wijkcoach   | view study, read published                                                | view family, care write, log contacts, enter instruments |
| gemeente    | view study, read published, read published monitor reports (*)           |          |

(*) of the municipality of the study (`municipality_of`): the monitor is scoped by
municipality, not by study.

**Decision: the data manager is a per-study role**, like the others (a data manager of Hengelo's
study does not read Almelo's families; their access is an audited membership row). The one
installation-wide role is the **installation administrator** (Django's superuser, made with
`manage.py createsuperuser`): every right in every study, for setting up studies and their
people; it needs a second factor like every role that reads family data. Global Django groups
grant nothing.

**Service accounts** (API keys, `study.models.ApiKey`) hold no membership: their rights are
their scopes (`SCOPES`), in their one study.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from study import bulk_sql, municipalities
from study.models import CaseloadAssignment, Contact, Family, NotesGrant, Study, StudyMembership
from study.models.study import membership_generation
from study.roles import Role


class Right(StrEnum):
    VIEW_STUDY = "view_study"  # the study is listed; its page (public part)
    VIEW_FAMILY = "view_family"  # a family's page, waves, contacts and care workers
    RESEARCH_READ = "research_read"  # registry values, surveys, members, audit, costs, exports
    RESEARCH_WRITE = "research_write"  # record values and surveys, waves, enrol, import
    CARE_WRITE = "care_write"  # record care workers (hulpverleners) involved with a family
    CONTACT_LOG = "contact_log"  # log a contact with a family (its wijkcoach)
    DATA_CORRECT = "data_correct"  # correct or remove anyone's recorded data, with a reason
    WAVE_UNLOCK = "wave_unlock"
    ANALYSE = "analyse"  # runs, draft reports, plans (read)
    PLAN_EDIT = "plan_edit"  # questions, analysis plans, report schedules
    REPORT_PUBLISH = "report_publish"
    READ_PUBLISHED = "read_published"  # published effect reports
    MONITOR_MANAGE = "monitor_manage"  # run, save, publish, withdraw monitor reports
    MONITOR_READ_PUBLISHED = "monitor_read_published"
    CASELOAD_MANAGE = "caseload_manage"  # assign, hand over and end caseloads
    NOTES_GRANT = "notes_grant"  # give a new coach access to earlier contact notes
    MEMBERS_MANAGE = "members_manage"  # invite, deactivate, enrolment links
    API_KEYS_MANAGE = "api_keys_manage"
    ACCESS_LOG_READ = "access_log_read"  # the study's access log (NEN 7513), data managers
    REFERENCE_DATA_MANAGE = "reference_data_manage"  # price catalogues, CPI (all studies share)
    STUDY_SET_UP = "study_set_up"  # change the study's set-up (waves, arms, allocation, ...)
    ELIGIBILITY_OVERRIDE = "eligibility_override"  # enrol on the case file, with a reason
    INSTRUMENT_ENTER = "instrument_enter"  # enter an instrument at a wave and see its scores


_RESEARCHER = frozenset(
    {
        Right.VIEW_STUDY,
        Right.VIEW_FAMILY,
        Right.RESEARCH_READ,
        Right.RESEARCH_WRITE,
        Right.CARE_WRITE,
        Right.ANALYSE,
        Right.PLAN_EDIT,
        Right.REPORT_PUBLISH,
        Right.READ_PUBLISHED,
        Right.MONITOR_MANAGE,
        Right.STUDY_SET_UP,
        Right.ELIGIBILITY_OVERRIDE,
        Right.INSTRUMENT_ENTER,
    }
)

#: What each role may do in every family of the studies it is held in.
STUDY_RIGHTS: dict[str, frozenset[Right]] = {
    Role.RESEARCHER: _RESEARCHER,
    Role.DATA_MANAGER: _RESEARCHER
    | {
        Right.WAVE_UNLOCK,
        Right.DATA_CORRECT,
        Right.CASELOAD_MANAGE,
        Right.MEMBERS_MANAGE,
        Right.API_KEYS_MANAGE,
        Right.REFERENCE_DATA_MANAGE,
        Right.ACCESS_LOG_READ,
    },
    Role.COORDINATOR: frozenset(
        {Right.VIEW_STUDY, Right.READ_PUBLISHED, Right.CASELOAD_MANAGE, Right.NOTES_GRANT}
    ),
    Role.WIJKCOACH: frozenset({Right.VIEW_STUDY, Right.READ_PUBLISHED}),
    Role.GEMEENTE: frozenset(
        {Right.VIEW_STUDY, Right.READ_PUBLISHED, Right.MONITOR_READ_PUBLISHED}
    ),
}
#: What a role may do in the families on the user's own caseload only.
CASELOAD_RIGHTS: dict[str, frozenset[Right]] = {
    Role.WIJKCOACH: frozenset(
        {Right.VIEW_FAMILY, Right.CARE_WRITE, Right.CONTACT_LOG, Right.INSTRUMENT_ENTER}
    ),
}
#: The scopes an API key can carry, and the rights each gives in the key's study.
SCOPES: dict[str, frozenset[Right]] = {
    "families:read": frozenset({Right.VIEW_STUDY, Right.VIEW_FAMILY}),
    "research:read": frozenset({Right.VIEW_STUDY, Right.RESEARCH_READ}),
    "research:write": frozenset({Right.VIEW_STUDY, Right.RESEARCH_WRITE, Right.INSTRUMENT_ENTER}),
    "caseloads:write": frozenset({Right.VIEW_STUDY, Right.CASELOAD_MANAGE}),
    "members:write": frozenset({Right.VIEW_STUDY, Right.MEMBERS_MANAGE}),
    "reports:read": frozenset({Right.VIEW_STUDY, Right.READ_PUBLISHED}),
}


# --- who is asking ----------------------------------------------------------------------------


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def api_key_of(user):
    """The API key a service account is signed in with (None for people)."""
    return getattr(user, "_api_key", None)


def is_installation_admin(user) -> bool:
    """Django's superuser: every right in every study (see the module docstring)."""
    return _active(user) and api_key_of(user) is None and bool(user.is_superuser)


def _key_rights(key) -> frozenset[Right]:
    rights: frozenset[Right] = frozenset()
    for scope in key.scopes or ():
        rights |= SCOPES.get(scope, frozenset())
    return rights


def _roles_with(right: Right) -> list[str]:
    return [role for role, rights in STUDY_RIGHTS.items() if right in rights]


# --- the user's memberships, read once per request ----------------------------------------------


def _memberships(user) -> tuple[tuple[int, str], ...]:
    """(study id, role) of the user's active memberships: one query, kept on the user object,
    which lives for one request (Django keeps a user's permissions on it the same way); read
    again after any membership changed in this process (`membership_generation`)."""
    generation = membership_generation()
    cached = getattr(user, "_memberships_cache", None)
    if cached is not None and cached[0] == generation:
        return cached[1]
    rows = tuple(
        StudyMembership.objects.filter(user=user, active=True).values_list("study_id", "role")
    )
    user._memberships_cache = (generation, rows)
    return rows


def _member_studies(user, roles) -> list[int]:
    """Ids of the studies where the user holds one of `roles` actively."""
    wanted = set(roles)
    return sorted({study_id for study_id, role in _memberships(user) if role in wanted})


def _roles_in(user, study_id: int) -> set[str]:
    return {role for member_of, role in _memberships(user) if member_of == study_id}


# --- roles --------------------------------------------------------------------------------------


def roles_held(user) -> set[str]:
    """Every role the user holds actively in some study: for navigation and the access log only,
    never for an access decision."""
    if not _active(user):
        return set()
    if api_key_of(user) is not None:
        return {"service"}
    held = {role for _study_id, role in _memberships(user)}
    if user.is_superuser:
        held.add(Role.DATA_MANAGER)
    return held


def study_roles(user, study: Study) -> set[str]:
    """The roles the user holds actively in one study (an installation administrator: all)."""
    if not _active(user) or api_key_of(user) is not None:
        return set()
    if user.is_superuser:
        return set(Role.values)
    return _roles_in(user, study.pk)


# --- studies ------------------------------------------------------------------------------------


def study_rights(user, study: Study) -> set[Right]:
    """The study-wide rights the user holds in one study (caseload rights not included)."""
    if not _active(user):
        return set()
    key = api_key_of(user)
    if key is not None:
        return set(_key_rights(key)) if key.study_id == study.pk else set()
    if user.is_superuser:
        return set(Right)
    rights: set[Right] = set()
    for role in study_roles(user, study):
        rights |= STUDY_RIGHTS.get(role, frozenset())
    return rights


def has_right(user, study: Study, right: Right) -> bool:
    """Whether the user holds `right` study-wide in `study`."""
    if not _active(user):
        return False
    key = api_key_of(user)
    if key is not None:
        return key.study_id == study.pk and right in _key_rights(key)
    if user.is_superuser:
        return True
    return any(right in STUDY_RIGHTS.get(role, ()) for role in _roles_in(user, study.pk))


def studies_with(user, right: Right) -> QuerySet[Study]:
    """The studies where the user holds `right` study-wide."""
    if not _active(user):
        return Study.objects.none()
    key = api_key_of(user)
    if key is not None:
        ok = right in _key_rights(key)
        return Study.objects.filter(pk=key.study_id) if ok else Study.objects.none()
    if user.is_superuser:
        return Study.objects.all()
    return Study.objects.filter(pk__in=_member_studies(user, _roles_with(right)))


def holds_anywhere(user, right: Right) -> bool:
    """Whether the user holds `right` in at least one study (or on a caseload)."""
    if is_installation_admin(user):
        return True
    if _caseload_roles_with(right) and families_with(user, right).exists():
        return True
    return studies_with(user, right).exists()


def visible_studies(user) -> QuerySet[Study]:
    """The studies a user may open (every role of the study)."""
    return studies_with(user, Right.VIEW_STUDY)


# --- families -----------------------------------------------------------------------------------


def _caseload_roles_with(right: Right) -> list[str]:
    return [role for role, rights in CASELOAD_RIGHTS.items() if right in rights]


def _caseload_of(user, roles, day: date) -> Q | None:
    """The families on the user's caseload on `day`, in studies where they hold `roles` (None:
    no such study). The study is asked of the family itself and the caseload subquery has no
    join: joined to the families, PostgreSQL planned it as a loop over every family of the study
    once per family when its statistics were young (a coach's record status page 3x slower)."""
    studies = _member_studies(user, roles)
    if not studies:
        return None
    assigned = CaseloadAssignment.objects.active_on(day).filter(coach=user).values("family_id")
    return Q(study_id__in=studies, pk__in=assigned)


def families_with(user, right: Right, *, on: date | None = None) -> QuerySet[Family]:
    """The live families for which the user holds `right`: the families of the studies where a
    role of the user grants it, and the user's caseload where a caseload role grants it."""
    qs = Family.objects.alive()
    if not _active(user):
        return qs.none()
    key = api_key_of(user)
    if key is not None:
        return qs.filter(study_id=key.study_id) if right in _key_rights(key) else qs.none()
    if user.is_superuser:
        return qs
    conditions = []
    wide = _roles_with(right)
    if wide:
        conditions.append(Q(study_id__in=_member_studies(user, wide)))
    caseload_roles = _caseload_roles_with(right)
    if caseload_roles:
        caseload = _caseload_of(user, caseload_roles, on or timezone.localdate())
        if caseload is not None:
            conditions.append(caseload)
    if not conditions:
        return qs.none()
    return qs.filter(reduce(or_, conditions))


def family_rights(user, family: Family) -> set[Right]:
    """Every right the user holds for this one family: its study's roles, and the caseload
    roles when the family is on the user's caseload today (at most two queries)."""
    if not _active(user):
        return set()
    key = api_key_of(user)
    if key is not None or user.is_superuser:
        return study_rights(user, family.study)
    roles = study_roles(user, family.study)
    rights: set[Right] = set()
    for role in roles:
        rights |= STUDY_RIGHTS.get(role, frozenset())
    caseload_roles = roles & set(CASELOAD_RIGHTS)
    if caseload_roles and on_caseload(user, family.pk):
        for role in caseload_roles:
            rights |= CASELOAD_RIGHTS[role]
    return rights


def family_has_right(user, family: Family | int, right: Right) -> bool:
    """Whether the user holds `right` for this one live family: the rule of `families_with`,
    answered from the user's memberships and, for a caseload right, one EXISTS (given a family
    id instead of a family, one query more to read its study)."""
    if isinstance(family, int):
        row = Family.objects.alive().filter(pk=family).values_list("study_id").first()
        if row is None:
            return False
        pk, study_id = family, row[0]
    else:
        if family.is_deleted:
            return False
        pk, study_id = family.pk, family.study_id
    return _family_right(user, pk, study_id, right)


def _family_right(user, family_id: int, study_id: int, right: Right) -> bool:
    """`family_has_right` for a live family known by its id and its study's id."""
    if not _active(user):
        return False
    key = api_key_of(user)
    if key is not None:
        return key.study_id == study_id and right in _key_rights(key)
    if user.is_superuser:
        return True
    roles = _roles_in(user, study_id)
    if any(right in STUDY_RIGHTS.get(role, ()) for role in roles):
        return True
    if any(right in CASELOAD_RIGHTS.get(role, ()) for role in roles):
        return on_caseload(user, family_id)
    return False


def visible_families(user, *, on: date | None = None) -> QuerySet[Family]:
    """The families whose page (and waves, contacts, care workers) the user may open."""
    return families_with(user, Right.VIEW_FAMILY, on=on)


def research_families(user, *, write: bool = False) -> QuerySet[Family]:
    """The families whose research data the user may read (or, with `write`, record)."""
    return families_with(user, Right.RESEARCH_WRITE if write else Right.RESEARCH_READ)


def may_read_research(user, target: Study | Family) -> bool:
    """May this user read research data of this family / study?"""
    if isinstance(target, Family):
        return family_has_right(user, target, Right.RESEARCH_READ)
    return has_right(user, target, Right.RESEARCH_READ)


def may_write_research(user, target: Study | Family) -> bool:
    """May this user record research data of this family / study?"""
    if isinstance(target, Family):
        return family_has_right(user, target, Right.RESEARCH_WRITE)
    return has_right(user, target, Right.RESEARCH_WRITE)


def may_correct(
    user,
    family: Family,
    *,
    recorded_by_id: int | None,
    right: Right,
    rights: set[Right] | None = None,
) -> bool:
    """May this user correct or remove a record of this family: the person who recorded it,
    while they still hold the right to record it (`right`), or a data manager of the study.
    `rights`: the family's rights already read (`family_rights`), not asked again."""
    if rights is None:
        rights = family_rights(user, family)
    if Right.DATA_CORRECT in rights:
        return True
    return right in rights and recorded_by_id is not None and recorded_by_id == user.pk


def instrument_families(user, *, write: bool = False) -> QuerySet[Family]:
    """The families whose instrument administrations the user may read (research readers, and
    whoever may enter them: a wijkcoach for their own caseload) or, with `write`, enter."""
    entering = families_with(user, Right.INSTRUMENT_ENTER)
    if write:
        return entering
    return Family.objects.alive().filter(
        Q(pk__in=entering.values("pk")) | Q(pk__in=research_families(user).values("pk"))
    )


def caseload_families(user, *, on: date | None = None) -> QuerySet[Family]:
    """The families on the user's own caseload as an active wijkcoach (the coach's pages)."""
    return families_with(user, Right.CONTACT_LOG, on=on)


def on_caseload(user, family_id: int, *, on: date | None = None) -> bool:
    """Whether the family is on the user's own caseload today (the rule of `caseload_families`,
    asked as one cheap EXISTS: contact logging is the API's hot path)."""
    if not _active(user) or api_key_of(user) is not None:
        return False
    return bulk_sql.caseload_exists(
        coach_id=user.pk, family_id=int(family_id), day=on or timezone.localdate()
    )


def caseload_managed_families(user) -> QuerySet[Family]:
    """The families whose caseload the user may assign, hand over and end (coordinator, data
    manager)."""
    return families_with(user, Right.CASELOAD_MANAGE)


# --- contact notes: read only for a purpose ---------------------------------------------------


class NoteView(StrEnum):
    FULL = "full"  # the coach who wrote it
    MASKED = "masked"  # shown with numbers that pass the BSN check masked
    HIDDEN = "hidden"  # the contact is shown, its note is not


def note_reader(user) -> Callable[[Contact], NoteView]:
    """How this user may read the note of a contact they may see (one query per kind of reason,
    then a cheap call per contact):

    - the coach who wrote the note reads it in full;
    - a private note is read by no one else;
    - the study's researchers and data managers (and API keys with `research:read`) read it
      masked only when the study allows it (`Study.contact_notes_for_research`);
    - another coach of the family (after a hand-over: the family's new coach) reads the notes of
      the earlier coaches masked only when the study's coordinator granted it (`NotesGrant`),
      and only while the family is on their caseload;
    - everyone else: hidden."""
    if not _active(user):
        return lambda contact: NoteView.HIDDEN
    research = set(
        studies_with(user, Right.RESEARCH_READ)
        .filter(contact_notes_for_research=True)
        .values_list("pk", flat=True)
    )
    granted: set[int] = set()
    if api_key_of(user) is None:
        granted = set(
            NotesGrant.objects.filter(coach=user, family__in=caseload_families(user)).values_list(
                "family_id", flat=True
            )
        )
    study_of: dict[int, int] = {}

    def study_id(contact: Contact) -> int:
        known = getattr(contact, "family_study_id", None)  # annotated by the API's list
        if known is not None:
            return known
        if contact.family_id not in study_of:
            study_of[contact.family_id] = Family.objects.values_list("study_id", flat=True).get(
                pk=contact.family_id
            )
        return study_of[contact.family_id]

    def view(contact: Contact) -> NoteView:
        return _note_rule(
            user,
            contact,
            masked=lambda: (
                contact.family_id in granted or bool(research and study_id(contact) in research)
            ),
        )

    return view


def _note_rule(user, contact: Contact, *, masked: Callable[[], bool]) -> NoteView:
    """The note rule's order (`note_reader`, `note_view`): its own coach reads it in full, a
    private note no one else, and the others masked when `masked()` says so (asked last)."""
    if contact.coach_id == user.pk:
        return NoteView.FULL
    if contact.note_private:
        return NoteView.HIDDEN
    return NoteView.MASKED if masked() else NoteView.HIDDEN


def note_view(user, contact: Contact, *, rights: set[Right]) -> NoteView:
    """`note_reader(user)(contact)` for one contact, given `family_rights` of its family
    (already read by the page): its study from `contact.family.study`, and at most one query
    (a notes grant, only for a coach with the family on their caseload) instead of two."""
    if not _active(user):
        return NoteView.HIDDEN

    def masked() -> bool:
        # The study's research readers (`studies_with(user, RESEARCH_READ)`: a study right).
        if Right.RESEARCH_READ in rights and contact.family.study.contact_notes_for_research:
            return True
        # A grant counts while the family is on the user's caseload (CONTACT_LOG: a caseload
        # right).
        return (
            Right.CONTACT_LOG in rights
            and api_key_of(user) is None
            and NotesGrant.objects.filter(
                coach=user, family_id=contact.family_id, family__in=caseload_families(user)
            ).exists()
        )

    return _note_rule(user, contact, masked=masked)


def may_grant_notes(user, family: Family) -> bool:
    """May this user let the family's coach read the earlier coaches' notes (the study's
    coordinator; the data manager holds no such right: notes are the coaches')."""
    return has_right(user, family.study, Right.NOTES_GRANT)


# --- the monitor: scoped by municipality ------------------------------------------------------


def _municipality_name(name: str, code: str) -> str:
    """The municipality a study counts for: the CBS list's name of its gemeentecode (the
    monitor's extracts name municipalities as CBS does), or the study's own name without one."""
    return (municipalities.name_of(code) if code else None) or name


def municipality_of(study: Study) -> str:
    """The municipality a study counts for in the monitor and its scoping (by its gemeentecode)."""
    return _municipality_name(study.municipality, study.municipality_code)


def monitor_municipalities(user, right: Right = Right.MONITOR_MANAGE) -> frozenset[str] | None:
    """The municipalities where the user holds `right` (through the studies of their active
    memberships, by each study's gemeentecode); None means every municipality (the
    installation administrator)."""
    if not _active(user):
        return frozenset()
    if is_installation_admin(user):
        return None
    rows = studies_with(user, right).values_list("municipality", "municipality_code")
    names = (_municipality_name(name, code) for name, code in rows)
    return frozenset(n for n in names if n)


def may_manage_monitor(user, municipality: str | None = None) -> bool:
    """May the user run, save, publish and withdraw monitor reports of `municipality` (None: of
    at least one municipality)?"""
    names = monitor_municipalities(user)
    if names is None:
        return _active(user)
    return bool(names) if municipality is None else municipality in names


def monitor_report_filter(user) -> Q | None:
    """The monitor reports a user may see, as a filter (None: every report): every report of
    the municipalities they manage, the published ones of the municipalities they read."""
    managed = monitor_municipalities(user)
    if managed is None:
        return None
    readers = monitor_municipalities(user, Right.MONITOR_READ_PUBLISHED) or frozenset()
    return Q(municipality__in=managed) | Q(municipality__in=readers, published_at__isnull=False)


# --- installation-wide reference data -------------------------------------------------------


def may_manage_reference_data(user) -> bool:
    """Price catalogues, CPI and scenarios (shared by every study): data managers of any study
    and the installation administrator."""
    if is_installation_admin(user):
        return True
    return api_key_of(user) is None and studies_with(user, Right.REFERENCE_DATA_MANAGE).exists()


def may_read_reference_data(user) -> bool:
    """The price catalogue pages: whoever reads research data in some study."""
    if is_installation_admin(user):
        return True
    return api_key_of(user) is None and studies_with(user, Right.RESEARCH_READ).exists()


# --- second factor -----------------------------------------------------------------------------


def otp_required_for(user) -> bool:
    """Whether the user must pass a second factor: the installation administrator and staff,
    every role in OTP_REQUIRED_ROLES, and a wijkcoach as soon as one of the studies of their
    active wijkcoach memberships requires it (`Study.coach_otp_required`, on by default)."""
    if not settings.OTP_REQUIRED or not _active(user) or api_key_of(user) is not None:
        return False
    if user.is_superuser or user.is_staff:
        return True
    required = set(settings.OTP_REQUIRED_ROLES)
    if any(role in required for _study_id, role in _memberships(user)):
        return True
    coached = _member_studies(user, [Role.WIJKCOACH])
    return bool(coached) and Study.objects.filter(pk__in=coached, coach_otp_required=True).exists()
