"""HonestDiD relative-magnitude bounds against a hand-computed identified set.

Rambachan & Roth (2023), Delta^RM(Mbar): post-period changes in the bias are at most Mbar times
the largest pre-period change. With leads (e=-3, -2) = (0.1, 0) and the reference period at 0,
the largest pre change is 0.1; for the average of two post periods the bias is at most
Mbar * 0.1 * (1 + 2) / 2 = 0.15 Mbar. With negligible sampling variance the robust interval is
the identified set [1 - 0.15 Mbar, 1 + 0.15 Mbar].
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.did.honest import relative_magnitude_bounds

BETA = np.array([0.1, 0.0, 1.0, 1.0])


def test_robust_interval_approaches_the_identified_set_when_noise_vanishes():
    r = relative_magnitude_bounds(
        BETA, np.eye(4) * 1e-6, n_pre=2, n_post=2, mbar=(1.0,), breakdown=False
    )
    # the set plus ~2 SE (0.001 each) of sampling noise, to the grid's resolution
    assert r.bounds[0]["ci_low"] == pytest.approx(0.85, abs=6e-3)
    assert r.bounds[0]["ci_high"] == pytest.approx(1.15, abs=6e-3)


def test_the_change_between_the_first_two_pre_periods_counts():
    # moderndid 0.2.0's own RM routine ignores this change; with the leads reversed the
    # largest change sits there only, and the set must be as wide.
    a = relative_magnitude_bounds(
        BETA, np.eye(4) * 1e-6, n_pre=2, n_post=2, mbar=(1.0,), breakdown=False
    )
    b = relative_magnitude_bounds(
        np.array([0.0, 0.1, 1.0, 1.0]),
        np.eye(4) * 1e-6,
        n_pre=2,
        n_post=2,
        mbar=(1.0,),
        breakdown=False,
    )
    assert a.bounds[0]["ci_low"] == pytest.approx(b.bounds[0]["ci_low"], abs=6e-3)


def test_breakdown_value_is_where_the_identified_set_reaches_zero():
    # the set [1 - 0.15 M, 1 + 0.15 M] includes 0 from M = 1/0.15 = 6.67
    r = relative_magnitude_bounds(BETA, np.eye(4) * 1e-6, n_pre=2, n_post=2, mbar=(2.0,))
    assert r.breakdown_mbar == pytest.approx(6.67, abs=0.2)


def test_breakdown_is_zero_when_the_ordinary_interval_already_includes_zero():
    r = relative_magnitude_bounds(
        np.array([0.0, 0.0, 0.1, 0.1]), np.eye(4), n_pre=2, n_post=2, mbar=(0.5,)
    )
    assert r.breakdown_mbar == 0.0
