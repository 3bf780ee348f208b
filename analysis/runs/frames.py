"""Everything a run reads from the database, as DataFrames, in a fixed handful of queries.

study/panels.py is the one door from the database to pandas; this module picks the frames a run
needs (and the costs of the cost model), and fingerprints them: an unchanged rerun reads the
same frames, so it has the same fingerprint and the same numbers.
"""

from __future__ import annotations

import hashlib
import logging

import pandas as pd
from django.db.models import Count

from analysis.costs import engine as cost_engine
from analysis.costs import pricing
from analysis.costs.selectors import CatalogueNotFound, costs_for_families, cpi_series
from instruments import panels as instrument_panels
from study import panels
from study.models import Family, Study

log = logging.getLogger(__name__)


def build_frames(study: Study) -> dict[str, pd.DataFrame]:
    """The study's families, indicator values, surveys, involvements, contacts, professionals
    and costs. The number of queries does not depend on the number of families."""
    families = Family.objects.alive().filter(study=study)
    frames = {
        "families": panels.family_frame(families),
        "wide": panels.indicator_wide_frame(families),
        "surveys": panels.survey_frame(families),
        "involvements": panels.involvement_frame(families),
        "contacts": panels.contact_frame(families),
        "professionals": panels.professional_survey_frame(study),
        "instrument_scores": instrument_panels.score_frame(families),
        # Families enrolled on the case file despite the recorded indicators (issue 18), per arm.
        "eligibility_overrides": pd.DataFrame(
            list(
                families.exclude(eligibility_override_reason="")
                .values("arm__kind")
                .annotate(n=Count("id"))
                .order_by("arm__kind")
            ),
            columns=["arm__kind", "n"],
        ).rename(columns={"arm__kind": "arm"}),
    }
    try:
        # Years after the last published CPI year cannot be indexed yet: they are left out.
        last_cpi_year = max(cpi_series(), default=study.price_year)
        costs = costs_for_families(families, price_year=study.price_year, max_year=last_cpi_year)
        frames["costs"] = cost_engine.family_totals(costs)
        frames["cost_domains"] = cost_engine.domain_totals(costs)
    except (pricing.MissingCpiYearError, CatalogueNotFound) as exc:
        log.warning("costs not computed: %s", exc)
        frames["costs"] = pd.DataFrame()
        frames["cost_domains"] = pd.DataFrame()
    return frames


def instrument_definitions(study: Study) -> list:
    """The definitions of the instrument versions the study's families answered (for version
    breaks and threshold outcomes; their content is in the scores' fingerprint already)."""
    return instrument_panels.score_definitions(Family.objects.alive().filter(study=study))


def fingerprint(frames: dict[str, pd.DataFrame]) -> str:
    """SHA-256 of the input frames: an unchanged rerun has the same fingerprint and numbers."""
    digest = hashlib.sha256()
    for name in sorted(frames):
        frame = frames[name]
        digest.update(name.encode())
        digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
    return digest.hexdigest()
