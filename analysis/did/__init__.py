"""Difference-in-differences statistics on pandas DataFrames (no Django): the public API."""

from analysis.did.aligned import AlignedResult, aligned_did, aligned_lpm
from analysis.did.aligned_alt import imputation_did, stacked_did
from analysis.did.aligned_checks import (
    BalanceResult,
    ancova_t0,
    bracket_check,
    level_comparison,
    t0_balance,
)
from analysis.did.aligned_event import AlignedEventStudyResult, aligned_event_study
from analysis.did.aligned_ppml import AlignedRatioResult, aligned_ppml
from analysis.did.aligned_summary import AlignedSummary, aligned_summary
from analysis.did.attrition import attrition_table, stay_weights
from analysis.did.cs import CsError, CsResult, callaway_santanna
from analysis.did.design_sim import CrisisDesign, SimulatedStudy, simulate_study
from analysis.did.event_study import EventStudyResult, event_study
from analysis.did.honest import HonestBounds, relative_magnitude_bounds
from analysis.did.inference import (
    DEFAULT_METHODS,
    INFERENCE_METHODS,
    VARIANCE_METHODS,
    InferenceError,
    Robust,
    fit_linear,
    wild_cluster_bootstrap,
)
from analysis.did.methods_text import methods_paragraph
from analysis.did.multiplicity import benjamini_hochberg, holm
from analysis.did.outcomes import RatioResult, logit_twfe, lpm_twfe, ppml_twfe
from analysis.did.panel import PanelError, treatment_indicator, validate_panel
from analysis.did.power import MdeResult, mde_analytic, mde_simulated, power_simulated
from analysis.did.randomization import RiResult, randomization_inference
from analysis.did.twfe import TwfeResult, did_2x2, twfe

__all__ = [
    "DEFAULT_METHODS",
    "INFERENCE_METHODS",
    "VARIANCE_METHODS",
    "CsError",
    "CsResult",
    "EventStudyResult",
    "HonestBounds",
    "InferenceError",
    "MdeResult",
    "PanelError",
    "RatioResult",
    "RiResult",
    "Robust",
    "TwfeResult",
    "attrition_table",
    "benjamini_hochberg",
    "callaway_santanna",
    "did_2x2",
    "event_study",
    "fit_linear",
    "holm",
    "logit_twfe",
    "lpm_twfe",
    "mde_analytic",
    "mde_simulated",
    "methods_paragraph",
    "power_simulated",
    "ppml_twfe",
    "randomization_inference",
    "relative_magnitude_bounds",
    "stay_weights",
    "treatment_indicator",
    "twfe",
    "validate_panel",
    "wild_cluster_bootstrap",
    # intake-aligned design (issue 13)
    "AlignedEventStudyResult",
    "AlignedRatioResult",
    "AlignedResult",
    "AlignedSummary",
    "BalanceResult",
    "CrisisDesign",
    "SimulatedStudy",
    "aligned_did",
    "aligned_event_study",
    "aligned_lpm",
    "aligned_ppml",
    "aligned_summary",
    "ancova_t0",
    "bracket_check",
    "imputation_did",
    "level_comparison",
    "simulate_study",
    "stacked_did",
    "t0_balance",
]
