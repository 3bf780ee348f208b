"""The door from stored administrations to the analysis: their scores as the frame of
instruments/frames.py (one query)."""

from __future__ import annotations

import pandas as pd
from django.db.models import Q, QuerySet

from instruments.frames import SCORE_COLUMNS, comparable_groups
from instruments.models import Administration, InstrumentVersion
from study.models import Family


def score_frame(families: QuerySet[Family]) -> pd.DataFrame:
    """Every score of the live administrations of these (access-checked) families."""
    rows = (
        Administration.objects.alive()
        .filter(wave__family__in=families, wave__is_deleted=False)
        .values(
            "wave__family_id",
            "wave__index",
            "wave__year",
            "instrument_code",
            "instrument_version__version",
            "scores",
        )
    )
    versions = InstrumentVersion.objects.filter(code__in={r["instrument_code"] for r in rows}).only(
        "code", "version", "definition"
    )
    groups = comparable_groups(v.parsed for v in versions)
    out = []
    for r in rows:
        key = (r["instrument_code"], r["instrument_version__version"])
        for score, value in (r["scores"] or {}).items():
            out.append(
                (
                    r["wave__family_id"],
                    r["wave__index"],
                    r["wave__year"],
                    *key,
                    groups.get(key, key[1]),
                    score,
                    value,
                )
            )
    frame = pd.DataFrame(out, columns=SCORE_COLUMNS)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    return frame


def score_definitions(families: QuerySet[Family]) -> list:
    """The parsed definitions of every version of the instruments these families answered (the
    analysis names version breaks and threshold outcomes from them)."""
    codes = set(
        Administration.objects.alive()
        .filter(wave__family__in=families, wave__is_deleted=False)
        .values_list("instrument_code", flat=True)
    )
    versions = InstrumentVersion.objects.filter(
        Q(study__isnull=True) | Q(study_id__in=families.values("study_id")), code__in=codes
    ).only("code", "version", "definition")
    return [v.parsed for v in versions]
