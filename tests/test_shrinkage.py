"""The fit's departure from majority vote shrunk by James-Stein's share (tripletws.estimators.shrinkage)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from conftest import EPS64, signed_record

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.estimators import shrinkage as shrink
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.shrinkage import Shrinkage, pool, shrink_toward_mv
from tripletws.inference import posterior
from tripletws.matrix import LabelMatrix
from tripletws.params import LabelModelParams
from tripletws.rows import RowSummary


def _rows(L: np.ndarray, k: int) -> RowSummary:
    return RowSummary.from_matrix(LabelMatrix(L, k), 20000)


def _lam(L: np.ndarray, k: int, family: str) -> float:
    """James-Stein's share for ``family``'s fit of L (uniform prior) against majority vote's model."""
    rows = _rows(L, k)
    fit = fit_annotator(rows, family, class_balance=np.full(k, 1.0 / k)).params
    mv = fit_annotator(rows, "mv").params
    return shrink_toward_mv(rows, fit, mv, family)[1].lam


@pytest.mark.parametrize("family", ["one_coin", "mace"])
def test_departure_of_equal_lfs_is_noise(family):
    """Where every LF is equally accurate, majority vote's model is the truth and a richer fit's
    departure from it is sampling noise: the bootstrap says so and the share kept is small.

    300 rows, 10 LFs of accuracy 0.7 voting half the time, 20 seeds: the share kept is 0 on most
    (its median 0.00 and its largest 0.24 (one-coin) and 0.40 (MACE) when this was written); the bar
    sits well above that, as a share kept of 0.5 or more would mean the noise went unseen."""
    lams = [
        _lam(make_synthetic(n=300, m=10, k=2, accuracies=0.7, coverage=0.5, random_state=s).L, 2, family)
        for s in range(20)
    ]
    assert np.median(lams) <= 0.1
    assert max(lams) < 0.6


@pytest.mark.parametrize("family", ["one_coin", "mace"])
def test_departure_of_unequal_lfs_is_kept(family):
    """Three LFs of accuracy 0.95 among seven of 0.55: the fit's departure from equal weights is
    signal, and nearly all of it is kept (at 300 rows the smallest share over 20 seeds was 0.90 when
    this was written)."""
    acc = [0.95] * 3 + [0.55] * 7
    lams = [
        _lam(make_synthetic(n=300, m=10, k=2, accuracies=acc, coverage=0.5, random_state=s).L, 2, family)
        for s in range(20)
    ]
    assert min(lams) >= 0.8


def test_pool_is_the_log_linear_pool_of_the_posteriors(rng):
    """pool(..., exact=True) predicts P^lam P_target^(1 - lam), renormalised, on any row."""
    m, k = 7, 3
    tables = rng.dirichlet(np.ones(k + 1), size=(m, k)).transpose(0, 2, 1)  # (m, k + 1, k)
    other = rng.dirichlet(np.ones(k + 1), size=(m, k)).transpose(0, 2, 1)
    a = LabelModelParams(np.array([0.5, 0.3, 0.2]), tables)
    b = LabelModelParams(np.full(k, 1.0 / k), other)
    L = rng.integers(-1, k, size=(200, m))
    lm = LabelMatrix(L, k)
    for lam in (0.0, 0.3, 0.8):
        got = posterior(lm, pool(a, b, lam, exact=True))
        want = posterior(lm, a) ** lam * posterior(lm, b) ** (1 - lam)
        want /= want.sum(axis=1, keepdims=True)
        # m + 2 log terms of magnitude <= 50 per class, then a softmax
        np.testing.assert_allclose(got, want, rtol=0, atol=4 * (m + 2) * 50 * EPS64)
    assert pool(a, b, 1.0) is a
    # by default the prior is interpolated alone: a prior equal to the target's stays as it is
    same = pool(a, LabelModelParams(a.class_balance.copy(), other), 0.4)
    np.testing.assert_array_equal(same.class_balance, a.class_balance)
    np.testing.assert_allclose(same.cond_probs.sum(axis=1), 1.0, rtol=0, atol=8 * (k + 1) * EPS64)


def test_shrunk_fit_predicts_as_majority_vote_where_nothing_is_learned():
    """A default fit whose departure is all noise predicts as majority vote's model, and says so.

    150 rows, 40 LFs of one accuracy (0.6), 12 of them voting one class only: MACE describes the
    one-class LFs' vote frequencies, so the held-out likelihood picks it, but its per-LF weights on
    about 15 votes each are noise (the share kept was 0 for seeds 0-3 when this was written)."""
    d = make_synthetic(n=150, m=40, k=3, accuracies=0.6, coverage=0.1, unipolar=0.3, random_state=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # the uniform balance given (under "auto" the fits under the two balances name other classes on
        # many rows, and majority vote's family is fitted instead: models.annotator._settle_balance)
        lm = LabelModel(cardinality=3, class_balance="uniform").fit(d.L)
    s = lm.estimate_.shrinkage
    assert lm.estimate_.family == "mace"
    assert s is not None and s.lam == 0.0 and s.noise >= s.departure > 0
    assert any("no larger than its sampling noise" in str(w.message) for w in caught)
    counts = np.stack([(d.L == c).sum(axis=1) for c in range(3)], axis=1)
    P = lm.predict_proba(d.L)
    voted = counts.max(axis=1) > 0
    top = np.argmax(P, axis=1)
    clear = voted & (np.sort(counts, axis=1)[:, -1] > np.sort(counts, axis=1)[:, -2])
    assert (top[clear] == counts[clear].argmax(axis=1)).all()


def test_shrinkage_is_saved_and_checked(tmp_path):
    """The estimate's shrinkage survives save / load; a corrupt one is a ValueError naming it."""
    d = make_synthetic(n=400, m=12, k=2, accuracies=[0.9] * 4 + [0.6] * 8, coverage=0.3, random_state=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel().fit(d.L)
    s = lm.estimate_.shrinkage
    assert isinstance(s, Shrinkage) and 0.0 <= s.lam <= 1.0
    path = tmp_path / "m.json"
    lm.save(path)
    back = LabelModel.load(path)
    assert back.estimate_.shrinkage == s
    np.testing.assert_array_equal(back.predict_proba(d.L), lm.predict_proba(d.L))
    doc = json.loads(path.read_text())
    doc["state"]["solution"]["estimate"]["shrinkage"]["lam"] = 1.5
    path.write_text(json.dumps(signed_record(doc)))  # signed again: the field is what fails
    with pytest.raises(ValueError, match=r"shrinkage\.lam"):
        LabelModel.load(path)


def test_study_switch_off_leaves_the_fit(monkeypatch):
    """SHRINK = "off": no shrinkage, the fit's own tables (where the default shrinks them to majority
    vote's)."""
    d = make_synthetic(n=150, m=40, k=3, accuracies=0.6, coverage=0.1, unipolar=0.3, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on = LabelModel(cardinality=3, class_balance="uniform").fit(d.L)
        monkeypatch.setattr(shrink, "SHRINK", "off")
        off = LabelModel(cardinality=3, class_balance="uniform").fit(d.L)
    assert on.estimate_.shrinkage is not None and on.estimate_.shrinkage.lam < 1.0
    assert off.estimate_.shrinkage is None
    assert not np.allclose(on.params_.cond_probs, off.params_.cond_probs)


def test_bootstrap_draws_follow_the_rows_not_their_order(rng):
    """Each distinct row gets the same Poisson draws whatever the order of the columns, the names of
    the classes, or an LF that never votes (a copy blanked out): the draws follow the rows' content
    keys, as the deal into folds does."""
    from tripletws.estimators.shrinkage import bootstrap_counts

    L = make_synthetic(n=500, m=6, k=3, coverage=0.5, random_state=11).L
    rows = _rows(L, 3)
    base = bootstrap_counts(rows, 5)
    assert base.shape == (5, rows.n_unique) and (base >= 0).all()

    def by_row(summary, draws, index):
        keyed = {tuple(r): draws[:, j] for j, r in enumerate(summary.rows[:, index].tolist())}
        return [keyed[tuple(r)] for r in rows.rows.tolist()]

    order = rng.permutation(6)
    moved = _rows(L[:, order], 3)
    got = by_row(moved, bootstrap_counts(moved, 5), np.argsort(order))
    np.testing.assert_array_equal(np.array(got).T, base)
    names = np.array([2, 0, 1])
    renamed = _rows(np.where(L >= 0, names[np.maximum(L, 0)], -1), 3)
    back = np.where(renamed.rows >= 0, np.argsort(names)[np.maximum(renamed.rows, 0)], -1)
    keyed = {tuple(r): d for r, d in zip(back.tolist(), bootstrap_counts(renamed, 5).T, strict=True)}
    np.testing.assert_array_equal(np.array([keyed[tuple(r)] for r in rows.rows.tolist()]).T, base)
    silent = _rows(np.hstack([L, -np.ones((len(L), 1), dtype=L.dtype)]), 3)
    got = by_row(silent, bootstrap_counts(silent, 5), np.arange(6))
    np.testing.assert_array_equal(np.array(got).T, base)


def test_inspect_and_report_lines_show_the_prior_the_pool_predicts_with():
    from tripletws.models.base import balance_text, prediction_prior_text

    assert balance_text([0.25, 0.75]) == "P(Y=0)=0.2500, P(Y=1)=0.7500"
    assert balance_text([0.25, 0.75], digits=3, eq=" = ") == "P(Y=0) = 0.250, P(Y=1) = 0.750"
    # the same in the digits shown: nothing said; else the prior predicted with, after the fitted one
    assert prediction_prior_text([0.5, 0.5], [0.50004, 0.49996]) == ""
    text = prediction_prior_text([0.5, 0.5], [0.5202, 0.4798])
    assert text.startswith("; prediction prior 0.5202, 0.4798") and "shrinkage" in text
    assert prediction_prior_text([0.5, 0.5], [0.5202, 0.4798], digits=1) == ""
