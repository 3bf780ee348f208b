"""The indicator catalogue: study/data/indicators.csv is the single source of the global rows.

Forms, validation, import, the codebook and the cost model read the catalogue through here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

CATALOGUE_PATH = Path(__file__).resolve().parent / "data" / "indicators.csv"


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    level: str
    kind: str
    min_value: Decimal
    max_value: Decimal
    group: str  # what kind of care or problem (police, youth_care, child_protection, ggz, ...)
    mpg_domain: int | None
    chronic_support: bool
    cost_items: str
    research_questions: str
    label_en: str
    label_nl: str
    order: int


@lru_cache(maxsize=1)
def catalogue_specs() -> tuple[IndicatorSpec, ...]:
    """Parse the catalogue file (cached)."""
    with CATALOGUE_PATH.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return tuple(
        IndicatorSpec(
            code=row["code"],
            level=row["level"],
            kind=row["kind"],
            min_value=Decimal(row["min"]),
            max_value=Decimal(row["max"]),
            group=row["group"],
            mpg_domain=int(row["mpg_domain"]) if row["mpg_domain"] else None,
            chronic_support=row["chronic_support"].strip().lower() == "yes",
            cost_items=row["cost_items"],
            research_questions=row["research_questions"],
            label_en=row["label_en"],
            label_nl=row["label_nl"],
            order=i,
        )
        for i, row in enumerate(rows)
    )


def codes_in_group(group: str, *, level: str | None = None) -> list[str]:
    """The catalogue codes of one group (optionally one level: household, adult, child), in
    catalogue order. The police, youth-care and child-protection lists are built from this, so
    an indicator added to the file joins every derived outcome and monitor column of its group."""
    codes = [
        s.code
        for s in catalogue_specs()
        if s.group == group and (level is None or s.level == level)
    ]
    if not codes:
        raise KeyError(
            f"no indicator of group {group!r} (level {level!r}) in {CATALOGUE_PATH.name}"
        )
    return codes


def sync_global_indicators(indicator_model) -> int:
    """Create or update the global Indicator rows from the file; returns how many changed.

    Takes the model class so a data migration can pass its historical model.
    """
    changed = 0
    for spec in catalogue_specs():
        fields = {
            "level": spec.level,
            "kind": spec.kind,
            "min_value": spec.min_value,
            "max_value": spec.max_value,
            "mpg_domain": spec.mpg_domain,
            "chronic_support": spec.chronic_support,
            "cost_items": spec.cost_items,
            "research_questions": spec.research_questions,
            "label_en": spec.label_en,
            "label_nl": spec.label_nl,
            "order": spec.order,
        }
        _, created = indicator_model.objects.update_or_create(
            study=None, code=spec.code, defaults=fields
        )
        changed += 1
    return changed


def indicators_for(study):
    """The global catalogue plus the study's own indicators, in catalogue order."""
    from django.db.models import Q

    from study.models import Indicator

    return Indicator.objects.filter(Q(study__isnull=True) | Q(study=study)).order_by(
        "order", "code"
    )


def ensure_global_catalogue() -> None:
    """Seed the global indicators if they are absent (after a database flush, or a fresh install
    that skipped the data migration); never rewrites existing rows."""
    from study.models import Indicator

    if not Indicator.objects.filter(study__isnull=True).exists():
        sync_global_indicators(Indicator)
