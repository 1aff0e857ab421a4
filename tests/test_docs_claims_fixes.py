"""Claims of the user docs (docs/*.md) about behaviour, pinned where they were checked.

Each test names the page and the claim.  They are cheap (small fits) and deterministic.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from tripletws import LabelModel, probs_to_preds
from tripletws.cli import build_parser
from tripletws.datasets import make_synthetic
from tripletws.intervals import DEFAULT_BOOT, DEFAULT_CHUNKS, MAX_BOOT


def _varied_rows(n: int = 3000, m: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    right = rng.random((n, m)) < 0.75
    votes = np.where(right, y[:, None], 1 - y[:, None])
    return np.where(rng.random((n, m)) < 0.6, votes, -1)


def test_models_md_annotator_row_cap_is_a_hash_sample_not_drawn_with_random_state(monkeypatch) -> None:
    """docs/models.md: past the cap of distinct rows, the annotator reads a hash sample of whole
    distinct rows that does not depend on ``random_state``."""
    import tripletws.models.annotator as annotator

    monkeypatch.setattr(annotator, "ANNOTATOR_MAX_ROWS", 200)
    L = _varied_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = LabelModel(random_state=0).fit(L)
        b = LabelModel(random_state=12345).fit(L)
    assert a.rows_.n_unique <= 200 and a.rows_.level > 0
    np.testing.assert_array_equal(a.rows_.rows, b.rows_.rows)
    np.testing.assert_array_equal(a.rows_.counts, b.rows_.counts)
    np.testing.assert_array_equal(a.predict_proba(L[:200]), b.predict_proba(L[:200]))


def test_models_md_class_conditional_with_declared_dependencies_uses_the_symmetric_model() -> None:
    """docs/models.md, first table: declared dependencies are solved by the symmetric model for the
    class-conditional model too, and ``fallback_`` says so."""
    L = make_synthetic(2000, 6, 2, random_state=0).L
    with pytest.warns(UserWarning, match="symmetric model"):
        m = LabelModel(model="class_conditional").fit(L, dependencies=[(0, 1)])
    assert "symmetric" in m.fallback_
    np.testing.assert_array_equal(m.dependencies_, [[0, 1]])


def test_workflow_md_score_warns_only_for_the_no_vote_rows_it_scores() -> None:
    """docs/workflow.md, section 5: under a uniform prior the rows without votes tie, and
    ``score``'s default tie-break leaves them out without a warning; scored, they are counted."""
    d = make_synthetic(3000, 6, 2, coverage=0.3, random_state=0)
    silent = int((d.L == -1).all(axis=1).sum())
    assert silent > 0
    m = LabelModel(class_balance="uniform").fit(d.L)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.score(d.L, d.y)  # default tie_break_policy="abstain": no warning
    with pytest.warns(UserWarning, match=f"{silent} of 3000 gold rows"):
        m.score(d.L, d.y, tie_break_policy="random")
    assert m.score(d.L, d.y, metrics=["no_vote"])["no_vote"] == pytest.approx(silent / 3000)


def test_workflow_md_confidence_interval_defaults() -> None:
    """docs/workflow.md, section 3: level 0.95, n_boot 200, n_chunks None = 100 chunks,
    random_state None; n_boot at most 100,000."""
    sig = inspect.signature(LabelModel.confidence_intervals)
    defaults = {name: p.default for name, p in sig.parameters.items() if name != "self"}
    assert defaults == {
        "L": inspect.Parameter.empty,
        "level": 0.95,
        "n_boot": 200,
        "n_chunks": None,
        "random_state": None,
    }
    assert (DEFAULT_BOOT, DEFAULT_CHUNKS, MAX_BOOT) == (200, 100, 100_000)


def test_probs_to_preds_documented_defaults() -> None:
    """probs_to_preds' docstring: tie_break_policy "random", tol 1e-5 (Snorkel's)."""
    sig = inspect.signature(probs_to_preds)
    assert sig.parameters["tie_break_policy"].default == "random"
    assert sig.parameters["tol"].default == 1e-5
    probs = np.array([[0.5, 0.5], [0.500004, 0.499996], [0.6, 0.4]])
    np.testing.assert_array_equal(probs_to_preds(probs, "abstain"), [-1, -1, 0])
    np.testing.assert_array_equal(probs_to_preds(probs, "abstain", tol=1e-7), [-1, 0, 0])


def test_cli_defaults_stated_in_the_docs() -> None:
    """docs/workflow.md: ``tripletws report --seed`` defaults to 0 and ``tripletws evaluate``
    breaks ties by ``--tie-break random``."""
    parser = build_parser()
    report = parser.parse_args(["report", "m.json", "L.npy", "-o", "r.html"])
    assert report.seed == 0
    evaluate = parser.parse_args(["evaluate", "m.json", "L.npy"])
    assert evaluate.tie_break == "random"
