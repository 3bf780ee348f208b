"""Make pyfixest's results independent of Python's string-hash seed.

pyfixest 0.60 collects the fixed effects of a formula (``| u + t``) in a ``set()``, so the order in
which it sweeps them out depends on PYTHONHASHSEED, which differs per process. The estimates then
differ around the ninth digit between processes, and a run redelivered to another worker would
not reproduce the result hash of an uninterrupted run. ``install()`` replaces that one helper by
the same code with the fixed effects in formula order. Idempotent; a no-op on other versions.
"""

from __future__ import annotations

import re


def _encode_fixed_effects_in_order(fixed_effects: str, data) -> str:
    import pandas as pd

    fes = list(dict.fromkeys(re.split(r"\s*\+\s*", fixed_effects)))  # formula order, deduplicated
    for fixed_effect in fes:
        if "^" not in fixed_effect:
            continue
        parts = fixed_effect.split("^")
        data[fixed_effect.replace("^", "_")] = (
            data[parts[0]]
            .astype(pd.StringDtype())
            .str.cat(data[parts[1:]].astype(pd.StringDtype()), sep="^", na_rep=None)
        )
    encoded = (f"__fixed_effect__({fe.replace('^', '_')})" for fe in fes)
    return f"{' + '.join(encoded)} - 1"


def install() -> bool:
    """Patch pyfixest's formula encoder; True when the patch is (already) in place."""
    try:
        from pyfixest.estimation.formula import model_matrix
    except ImportError:
        return False
    current = getattr(model_matrix, "_encode_fixed_effects", None)
    if current is None:
        return False
    model_matrix._encode_fixed_effects = _encode_fixed_effects_in_order
    return True
