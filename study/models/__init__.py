"""What is recorded in a study: the REDCap-like longitudinal design of arms, families and waves.

Every model that holds study data keeps a full change history (django-simple-history), is soft
deleted with a reason, and is written through `study.services` only. One module per aggregate;
this package exports them all, as Django expects of an app's `models`.
"""

from study.models.access import ApiKey, ApiKeyUse, EnrolmentLink, TokenFactor
from study.models.allocation import AllocationRecord, AllocationStratum
from study.models.audit import AccessEvent, AuditCounter, AuditSeal, FamilyErasure
from study.models.base import (
    PSEUDONYM_ALPHABET,
    AuditedQuerySet,
    MissingCode,
    SoftDeleteModel,
    SoftDeleteQuerySet,
    Source,
    new_pseudonym,
)
from study.models.care import CareCatalogueEntry, CareInvolvement, Contact
from study.models.entry import IdempotencyRecord, StudyDataPolicy
from study.models.family import (
    CaseloadAssignment,
    CaseloadQuerySet,
    Family,
    FamilyQuerySet,
    Member,
    NotesGrant,
)
from study.models.imports import ImportBatch
from study.models.indicator import Indicator
from study.models.matching import MatchingCandidate
from study.models.professional import Professional, ProfessionalSurvey
from study.models.profile import UserProfile
from study.models.quality import DataQuery, QualityRule, QueryMessage
from study.models.study import Arm, Study, StudyMembership
from study.models.wave import IndicatorValue, Wave, WaveReminder, WaveSurvey

__all__ = [
    "MatchingCandidate",
    "PSEUDONYM_ALPHABET",
    "AccessEvent",
    "AllocationRecord",
    "AllocationStratum",
    "AuditCounter",
    "ApiKey",
    "ApiKeyUse",
    "Arm",
    "AuditSeal",
    "AuditedQuerySet",
    "CareCatalogueEntry",
    "CareInvolvement",
    "CaseloadAssignment",
    "NotesGrant",
    "CaseloadQuerySet",
    "Contact",
    "DataQuery",
    "EnrolmentLink",
    "Family",
    "FamilyErasure",
    "FamilyQuerySet",
    "IdempotencyRecord",
    "ImportBatch",
    "Indicator",
    "IndicatorValue",
    "Member",
    "UserProfile",
    "MissingCode",
    "Professional",
    "ProfessionalSurvey",
    "QualityRule",
    "QueryMessage",
    "SoftDeleteModel",
    "SoftDeleteQuerySet",
    "Source",
    "Study",
    "StudyDataPolicy",
    "StudyMembership",
    "TokenFactor",
    "Wave",
    "WaveReminder",
    "WaveSurvey",
    "new_pseudonym",
]
