"""Bugs found by fuzzing the inspection features (LF analysis, diagnostics, intervals, report, CLI)."""

from __future__ import annotations

import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.diagnostics import dependency_candidates


def test_dependency_candidates_check_top_and_alpha():
    """``top=-1`` silently dropped the last pair (a slice), ``top=2.7`` was truncated, ``top=True`` kept
    one pair; ``alpha="0.1"`` was a TypeError from a comparison."""
    d = make_synthetic(1000, 5, 2, random_state=0)
    model = LabelModel(2, model="symmetric").fit(d.L)
    assert len(dependency_candidates(d.L, model, top=3, as_frame=False)) == 3
    for top in (-1, 0, 2.7, True, "3"):
        with pytest.raises(ValueError, match="top"):
            dependency_candidates(d.L, model, top=top, as_frame=False)
    for alpha in ("0.1", None, True):
        with pytest.raises(ValueError, match="alpha"):
            dependency_candidates(d.L, model, alpha=alpha, as_frame=False)
