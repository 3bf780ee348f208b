"""Romano-Wolf step-down adjusted p-values from one joint wild cluster bootstrap (pure).

Several linear outcomes measured on the same families share the family cluster: one set of
bootstrap weights per family (the same weight for a family in every outcome's draw) keeps their
dependence, and the step-down of Romano & Wolf (2005) uses the maximum bootstrap |t| over the
hypotheses not yet rejected, which is less conservative than Holm when outcomes are correlated.
Each outcome's bootstrap is the restricted wild cluster bootstrap (WCR, CR1 studentisation) of
analysis/did/wild.py under its null b = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.did.linear import LinearFit
from analysis.did.wild import WildBootstrap, bootstrap_weights


def romano_wolf_pvalues(t_obs: np.ndarray, t_star: np.ndarray) -> np.ndarray:
    """Step-down adjusted p-values: ``t_obs`` (S,), bootstrap t-statistics under the null
    ``t_star`` (S, B) drawn jointly; returned in the input order, monotone in |t|."""
    t_obs = np.abs(np.asarray(t_obs, dtype=float))
    star = np.abs(np.asarray(t_star, dtype=float))
    if star.ndim != 2 or star.shape[0] != t_obs.size:
        raise ValueError("t_star must be (number of hypotheses, draws)")
    order = np.argsort(-t_obs, kind="stable")
    adjusted = np.empty(t_obs.size)
    running = 0.0
    for rank, j in enumerate(order):
        max_rest = star[order[rank:]].max(axis=0)
        p = float(np.mean(max_rest >= t_obs[j] - 1e-12 * max(1.0, t_obs[j])))
        running = max(running, p)
        adjusted[j] = running
    return adjusted


def joint_wild_t(
    fits: Sequence[tuple[LinearFit, int, np.ndarray]],
    *,
    draws: int = 9999,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Observed and bootstrap t-statistics of coefficient ``k`` in each fit, with one
    Rademacher weight per cluster label shared by all fits.

    ``fits``: (fit, k, label of each of the fit's clusters 0 ... G-1), the labels (e.g. family
    ids) saying which clusters of different fits are the same family.
    """
    labels = np.unique(np.concatenate([np.asarray(lab) for _, _, lab in fits]))
    v_all, _, _ = bootstrap_weights(labels.size, draws, kind="rademacher", seed=seed)
    t_obs, t_star = [], []
    for fit, k, lab in fits:
        rows = np.searchsorted(labels, np.asarray(lab))
        boot = WildBootstrap(fit, k, v_all[rows])
        t_obs.append(boot.t_obs(0.0))
        t_star.append(boot.t_star(0.0))
    return np.asarray(t_obs), np.vstack(t_star)
