"""The EM step cap ``annotator.EM_STEPS``: one constant, read at call time, for every EM of the
annotator model that is not given its own cap."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.estimators import annotator as annotator_module
from tripletws.estimators import coverage_check as coverage_module
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.annotator_design import summary_design, summary_majority
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary


def _rows(seed: int, k: int = 3) -> RowSummary:
    data = make_synthetic(n=4000, m=8, k=k, coverage=0.4, random_state=seed)
    return RowSummary.from_matrix(check_label_matrix(data.L, k), 10**7)


def test_the_cap_is_fifty_by_default():
    assert annotator_module.EM_STEPS == 50


@pytest.mark.parametrize("family", ["mace", "ds_abstain"])
def test_fit_annotator_stops_at_the_cap_read_at_call_time(monkeypatch, family):
    rows = _rows(0)
    free = fit_annotator(rows, family)
    assert free.n_steps > 3  # the fit needs more than three steps to stop at the tolerance
    monkeypatch.setattr(annotator_module, "EM_STEPS", 3)
    capped = fit_annotator(rows, family)
    assert capped.n_steps == 3 and not capped.converged
    # an explicit cap wins over the module's
    assert fit_annotator(rows, family, max_steps=free.n_steps).n_steps == free.n_steps


def test_the_default_cap_gives_the_explicit_fifty():
    rows = _rows(1)
    a = fit_annotator(rows, "mace")
    b = fit_annotator(rows, "mace", max_steps=50)
    assert a.n_steps == b.n_steps
    np.testing.assert_array_equal(a.params.cond_probs, b.params.cond_probs)  # the same code path


def test_coverage_em_reads_the_cap(monkeypatch):
    k = 2
    data = make_synthetic(n=3000, m=6, k=k, coverage=0.3, unipolar=True, random_state=2)
    rows = RowSummary.from_matrix(check_label_matrix(data.L, k), 10**7)
    D = summary_design(rows, k, abstain=True)
    counts = rows.counts.astype(np.float64)[None]
    q = summary_majority(rows, k).T[:, None, :]
    prior = np.full((k, 1), 1.0 / k)

    def run() -> int:
        fit = coverage_module.coverage_em(
            D, ["mace_coverage"], counts, q, prior, np.array([True]), params=False
        )
        return int(fit.n_steps[0])

    free = run()
    assert free > 2
    monkeypatch.setattr(annotator_module, "EM_STEPS", 2)
    assert run() == 2


def test_the_cap_reaches_the_label_model(monkeypatch):
    data = make_synthetic(n=3000, m=8, k=3, coverage=0.5, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = LabelModel(cardinality=3).fit(data.L).predict_proba(data.L)
        monkeypatch.setattr(annotator_module, "EM_STEPS", 1)
        one = LabelModel(cardinality=3).fit(data.L).predict_proba(data.L)
    # one EM step from majority vote is not the fit of fifty: the probabilities move
    assert np.abs(base - one).max() > 1e-3
