"""Which design and model answer each outcome (pure: no Django).

The primary design of every family-level outcome compares both arms on their own intake
(analysis/did/aligned.py): families enter the study at a crisis, so their problems peak around
intake and fall afterwards by themselves, in both arms. What the outcome's data allow decides
the variant, declared per outcome here (the registry of the outcome columns is
analysis/effects/derive.py):

* ``pre_period``: registry outcomes, retrieved for T-2 and T-1 too: the aligned DiD with the
  registry year T0 (partly treated) its own arm x T0 coefficient, the aligned event study with
  its joint pre-test, and the stacked and imputation estimates beside it.
* ``t0_only``: survey outcomes, measured from the intake visit (T0, before the approach starts):
  the aligned DiD with T0 as reference and the ANCOVA on T0 as a bracketing check; parallel
  trends cannot be tested.
* ``none``: measures that exist only after intake (contacts, contact hours, response time): a
  level comparison of the arms, not a DiD; its verdict is "geen oordeel".
* ``calendar``: professional outcomes. The new way of working starts at one date for every
  professional, so they keep the calendar-time design.

The model follows the outcome type: ``linear`` (continuous, scores), ``lpm`` (binary, in
percentage points), ``ppml`` (counts and costs).
"""

from __future__ import annotations

from analysis.effects.derive import (
    CONTACT_OUTCOMES,
    COST_OUTCOME,
    PROFESSIONAL_OUTCOMES,
    SURVEY_OUTCOMES,
    instrument_column,
)

DESIGNS = ("aligned", "calendar")  # a plan's (and a question's) design
OUTCOME_DESIGNS = ("pre_period", "t0_only", "none", "calendar")  # what an outcome's data allow
MODELS = ("auto", "linear", "lpm", "ppml")
MULTIPLICITY = ("holm", "bonferroni", "romano-wolf")
DEFAULT_DESIGN = "aligned"
DEFAULT_MULTIPLICITY = "holm"

#: Old ``estimator`` values (before design and model were separate) -> (design, model).
LEGACY_ESTIMATORS = {
    "twfe": ("calendar", "linear"),
    "auto": ("aligned", "auto"),
    "ppml": ("aligned", "ppml"),
    "aligned": ("aligned", "auto"),
    "calendar": ("calendar", "auto"),
}


def outcome_design(code: str) -> str:
    """The design an outcome's data allow (see the module docstring)."""
    if code in PROFESSIONAL_OUTCOMES:
        return "calendar"
    if code in SURVEY_OUTCOMES or instrument_column(code):  # instruments: from T0 on too
        return "t0_only"
    if code in CONTACT_OUTCOMES:
        return "none"
    return "pre_period"


def outcome_model(code: str, kind: str, model: str = "auto") -> str:
    """``linear``, ``lpm`` or ``ppml``: a question's choice, else by the outcome type."""
    if model in ("linear", "lpm", "ppml"):
        if model == "lpm" and kind != "binary":
            return "linear"
        return model
    if kind == "binary":
        return "lpm"
    if kind == "count" or code == COST_OUTCOME:
        return "ppml"
    return "linear"


def design_from_params(params: dict) -> str:
    """The plan's design: ``design`` if named, else what the old ``estimator`` meant.

    A plan frozen before design and model were separate names ``estimator: twfe`` (the
    calendar-time TWFE); it keeps that design until a researcher revises the plan.
    """
    design = params.get("design")
    if design in DESIGNS:
        return str(design)
    legacy = LEGACY_ESTIMATORS.get(str(params.get("estimator", "")))
    return legacy[0] if legacy else DEFAULT_DESIGN
