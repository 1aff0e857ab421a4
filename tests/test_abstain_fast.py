"""The lean encoding of informative abstentions and its compiled EM against the one-hot encoding.

A lean design (``_Design(..., abstain=True)``, the default) holds the votes only: a row's score
is ``A_y`` plus its votes' gains over abstaining, and an LF's expected abstentions per class are
the expected rows less its expected votes.  The one-hot encoding of every outcome
(``lean=False``) is the reference.  Tolerances come from the arithmetic:

* a log-score is a sum of m terms re-associated (``A_y`` and the gains): each of the at most
  ``3 m + 2`` additions and subtractions is off by at most one unit in the last place of a partial
  sum, itself at most ``S = sum_i (|log T[i, a_ri, y]| + |log T[i, abstain, y]|)`` plus ``|log p_y|``,
  so the difference is below ``(3 m + 2) * 2**-52 * S`` (the one-hot sum adds its own m errors,
  covered by the factor 2 taken below);
* an abstain count is a total of R weights less a sum of at most R weights: below
  ``2 R * 2**-52 * total``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.estimators import abstain_check as AC
from tripletws.estimators import annotator_design as AD
from tripletws.estimators import coverage_check as CC
from tripletws.estimators import em_jit
from tripletws.estimators import family_choice as FC
from tripletws.estimators import heldout as H
from tripletws.estimators import votes as V
from tripletws.estimators.abstain_check import INFORMATIVE, _fold_scores, _unseen_rows, abstain_check
from tripletws.params import LabelModelParams
from tripletws.rows import RowSummary

EPS = 2.0**-52


def _rows(k: int, m: int, n: int, seed: int) -> RowSummary:
    """Distinct rows with abstentions (coverage 0.1-0.7 per LF and class) and their counts."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    cov = rng.uniform(0.1, 0.7, size=(m, k))
    acc = rng.uniform(0.5, 0.9, size=m)
    wrong = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    L = np.where(rng.random((n, m)) < acc, y[:, None], wrong)
    L = np.where(rng.random((n, m)) < cov[:, y].T, L, -1).astype(np.int8)
    L[:, 0] = y  # an LF that never abstains: no abstain column
    rows, counts = np.unique(L, axis=0, return_counts=True)
    return RowSummary(k, rows, counts.astype(np.float64), float(n), 100_000)


def _params(k: int, m: int, seed: int) -> LabelModelParams:
    rng = np.random.default_rng(seed)
    T = rng.dirichlet(np.ones(k + 1), size=(m, k)).transpose(0, 2, 1)  # (m, k + 1, k), columns sum to 1
    return LabelModelParams(rng.dirichlet(np.ones(k)), T)


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("dense", [False, True])
def test_lean_log_scores_equal_the_one_hot_sum(k: int, dense: bool) -> None:
    u = _rows(k, 12, 3000, seed=k)
    params = _params(k, 12, seed=k + 1)
    lean = AD._Design(u.rows, k)
    onehot = AD._Design(u.rows, k, lean=False)
    assert lean.lean and not onehot.lean
    assert len(lean.pos) == int((u.rows >= 0).sum()) < len(onehot.pos)  # the votes only
    assert 0 < len(lean.abstain_cols) < 12  # LF 0 never abstains
    lean.dense = onehot.dense = dense  # both products: the dense one and the bincount sums
    got, ref = lean.log_scores(params), onehot.log_scores(params)
    logt = np.log(params.cond_probs)
    rows = u.rows.astype(np.int64) + 1
    S = np.abs(logt[np.arange(12), rows]).sum(axis=1) + np.abs(logt[:, 0, :]).sum(axis=0)  # (R, k)
    S += np.abs(np.log(params.class_balance))
    bound = 2 * (3 * 12 + 2) * EPS * S
    assert np.all(np.abs(got - ref) <= bound)


@pytest.mark.parametrize("k", [2, 4])
def test_lean_expected_and_observed_counts_equal_the_one_hot_ones(k: int) -> None:
    u = _rows(k, 12, 3000, seed=10 + k)
    R = len(u.counts)
    rng = np.random.default_rng(k)
    counts = np.vstack([u.counts, u.counts * (rng.random(R) < 0.5)])  # a fold-like member: zeros
    counts[1, np.flatnonzero(u.rows[:, 3] < 0)] = 0.0  # no counted row abstains on LF 3 there
    q = rng.dirichlet(np.ones(k), size=(2, R)).transpose(2, 0, 1)  # (k, B, R)
    W = q * counts
    lean, onehot = AD._Design(u.rows, k), AD._Design(u.rows, k, lean=False)
    np.testing.assert_array_equal(lean.used, onehot.used)
    got, ref = lean.counts(W), onehot.counts(W)
    total = W.sum(axis=2)  # (k, B)
    assert np.all(np.abs(got - ref) <= 2 * R * EPS * total[None])
    seen = lean.abstaining(counts)
    np.testing.assert_array_equal(lean.counts(W, seen), got)
    # LF 3 in member 1: no counted row abstains, so exactly zero as in the one-hot sum
    col3 = np.flatnonzero(lean.lf[lean.abstain_cols] == 3)
    assert not seen[col3, 1].any()
    assert np.all(got[lean.abstain_cols[col3], :, 1] == 0.0) and np.all(
        ref[lean.abstain_cols[col3], :, 1] == 0.0
    )
    obs_got, obs_ref = lean.observed(counts), onehot.observed(counts)
    assert np.all(np.abs(obs_got - obs_ref) <= 2 * R * EPS * counts.sum(axis=1)[:, None, None])
    assert np.all((obs_got == 0) == (obs_ref == 0))


def _fits(u: RowSummary, bal):
    got = {}
    scores = H.heldout_row_scores(u, INFORMATIVE, n_folds=3, random_state=0, class_balance=bal, fits=got)
    return scores, got


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("given", [False, True])
def test_informative_fits_equal_on_every_path(monkeypatch: pytest.MonkeyPatch, k: int, given: bool) -> None:
    # compiled kernel (lean), numpy (lean) and numpy on the one-hot design: the same fits to rounding
    # (TOL as tests/test_em_jit.py: 50 steps of a contracting map, a few ulps each)
    pytest.importorskip("numba")
    u = _rows(k, 10, 2000, seed=20 + k)
    bal = np.full(k, 1.0 / k) if given else None
    assert em_jit.informative_kernel() is not None
    runs = [_fits(u, bal)]
    monkeypatch.setenv(em_jit.JIT_ENV, "0")
    runs.append(_fits(u, bal))
    orig = AD._Design.__init__
    monkeypatch.setattr(
        AD._Design, "__init__", lambda self, *a, **kw: orig(self, *a, **{**kw, "lean": False})
    )
    runs.append(_fits(u, bal))
    ref_scores, ref_fits = runs[2]
    for scores, fits in runs[:2]:
        for fam in INFORMATIVE:
            assert fits[fam].n_steps == ref_fits[fam].n_steps
            np.testing.assert_allclose(scores.row_loglik[fam], ref_scores.row_loglik[fam], rtol=0, atol=1e-10)
            np.testing.assert_allclose(
                fits[fam].params.cond_probs, ref_fits[fam].params.cond_probs, rtol=0, atol=1e-10
            )
            np.testing.assert_allclose(
                fits[fam].params.class_balance, ref_fits[fam].params.class_balance, rtol=0, atol=1e-10
            )
            np.testing.assert_allclose(
                fits[fam].log_likelihood, ref_fits[fam].log_likelihood, rtol=0, atol=1e-10
            )


@pytest.mark.parametrize("k", [2, 3, 4, 6])
def test_informative_kernel_with_one_class_lfs_equals_numpy(monkeypatch: pytest.MonkeyPatch, k: int) -> None:
    # LFs that never vote some class (kappa = abstain there): the kernel takes only the logs of
    # a column that its classes read; the fits equal the numpy path's to rounding (TOL as above).
    # k = 2, 3, 4 and 6: each of the kernel's expected-count loops
    pytest.importorskip("numba")
    u = _rows(k, 10, 2000, seed=40 + k)
    rows = u.rows.copy()
    rows[:, 3] = np.where(rows[:, 3] == 0, 0, -1)  # votes class 0 only
    rows[:, 4] = np.where(rows[:, 4] == k - 1, k - 1, -1)  # votes the last class only
    rows[rows[:, 5] == 1, 5] = -1  # every class but 1
    uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=u.counts)
    u = RowSummary(k, uniq, counts, float(counts.sum()), 100_000)
    runs = [_fits(u, None)]
    monkeypatch.setenv(em_jit.JIT_ENV, "0")
    runs.append(_fits(u, None))
    (scores, fits), (ref_scores, ref_fits) = runs
    for fam in INFORMATIVE:
        assert fits[fam].n_steps == ref_fits[fam].n_steps
        np.testing.assert_allclose(scores.row_loglik[fam], ref_scores.row_loglik[fam], rtol=0, atol=1e-10)
        np.testing.assert_allclose(
            fits[fam].params.cond_probs, ref_fits[fam].params.cond_probs, rtol=0, atol=1e-10
        )


def test_heldout_scores_without_the_fits_on_all_rows_are_the_same() -> None:
    # without ``fits`` the fits on all rows are not made: the folds' scores do not change
    u = _rows(3, 10, 2000, seed=7)
    with_fits, _ = _fits(u, None)
    alone = H.heldout_row_scores(u, INFORMATIVE, n_folds=3, random_state=0)
    for fam in INFORMATIVE:
        np.testing.assert_allclose(alone.row_loglik[fam], with_fits.row_loglik[fam], rtol=0, atol=1e-12)


def test_abstain_check_reuses_the_choices_scores() -> None:
    u = _rows(3, 10, 4000, seed=8)
    k = 3
    folds = H.deal_counts(u.rows, u.counts, k, 3, 0)
    sel = FC.select_family(
        u, FC.CANDIDATES, n_folds=3, random_state=0, folds=folds, class_balance=np.full(k, 1 / k)
    )
    assert sel.scores is not None
    fresh = abstain_check(u, sel.chosen, np.full(k, 1 / k), choose_balance=True)
    reused = abstain_check(u, sel.chosen, np.full(k, 1 / k), choose_balance=True, ref=sel.scores, folds=folds)
    assert (fresh.accepted, fresh.reason, fresh.family, fresh.balance) == (
        reused.accepted,
        reused.reason,
        reused.family,
        reused.balance,
    )
    assert abs(fresh.lead - reused.lead) <= 1e-12 and abs(fresh.lead_se - reused.lead_se) <= 1e-12


@pytest.mark.parametrize("jit", ["1", "0"])
def test_both_balances_in_one_batch_score_as_one_call_per_balance(
    monkeypatch: pytest.MonkeyPatch, jit: str
) -> None:
    # the check's folds' fits of a uniform and an estimated prior in one batch: each member is fitted
    # as if alone, so the scores are heldout_row_scores' per balance (to rounding: the numpy path's
    # batched products may add in another order; atol as in test_heldout_scores_without_...)
    monkeypatch.setenv(em_jit.JIT_ENV, jit)
    k = 3
    u = _rows(k, 10, 2000, seed=9)
    folds = H.deal_counts(u.rows, u.counts, k, 3, 0)
    balances = {"uniform": np.full(k, 1.0 / k), "estimated": None}
    got = _fold_scores(u, balances, folds)
    for name, bal in balances.items():
        ref = H.heldout_row_scores(u, INFORMATIVE, n_folds=3, random_state=0, class_balance=bal, folds=folds)
        for fam in INFORMATIVE:
            np.testing.assert_allclose(got[f"{fam}/{name}"], ref.row_loglik[fam], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="uniform and the estimated"):
        _fold_scores(u, {"given": np.array([0.2, 0.3, 0.5]), "estimated": None}, folds)


def _crowd(k: int, m: int, n: int, seed: int) -> RowSummary:
    """Many LFs that each vote on few rows (accuracy 0.7): held-out rows give outcomes their
    folds' complements never give."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    wrong = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    L = np.where(rng.random((n, m)) < 0.7, y[:, None], wrong)
    L = np.where(rng.random((n, m)) < 0.04, L, -1).astype(np.int8)
    L[:, 0] = y  # one LF that never abstains on the fold's rows but for one
    L[0, 0] = -1
    rows, counts = np.unique(L, axis=0, return_counts=True)
    return RowSummary(k, rows, counts.astype(np.float64), float(n), 100_000)


def test_unseen_rows_by_hand() -> None:
    rows = np.array([[0, -1], [1, 0], [0, 0]], dtype=np.int8)
    u = RowSummary(2, rows, np.ones(3), 3.0, 100)
    train = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    got = _unseen_rows(u, train, V.row_votes(rows))
    # fold 0's rows give LF 0: 1, 0; LF 1: 0 (never abstain): row 0's abstention of LF 1 is unseen
    # fold 1's rows give LF 0: 0; LF 1: abstain, 0: row 1's vote 1 of LF 0 is unseen
    np.testing.assert_array_equal(got, [[True, False, False], [False, True, False]])


def test_ds_abstain_skipped_only_where_its_bound_is_below(monkeypatch: pytest.MonkeyPatch) -> None:
    k = 3
    u = _crowd(k, 60, 400, seed=11)
    folds = H.deal_counts(u.rows, u.counts, k, 3, 0)
    balances = {"uniform": np.full(k, 1.0 / k), "estimated": None}
    # the bound holds: every held-out row's score under the ds_abstain fits is at most 0, and at most
    # UNSEEN_LOG_BOUND where it gives an unseen outcome (both to rounding: a few ulps of m factors)
    train = u.counts[None, :] - folds
    unseen = _unseen_rows(u, train, V.row_votes(u.rows))
    assert unseen[folds > 0].any()
    for bal in balances.values():
        ref = H.heldout_row_scores(
            u, ("ds_abstain",), n_folds=3, random_state=0, class_balance=bal, folds=folds
        )
        ll = ref.row_loglik["ds_abstain"]
        assert (ll[folds > 0] <= 1e-9).all()
        assert (ll[unseen & (folds > 0)] <= AC.UNSEEN_LOG_BOUND).all()
    screened = _fold_scores(u, balances, folds)
    assert all(
        (screened[f"ds_abstain/{n}"] == np.where(unseen, AC.UNSEEN_LOG_BOUND, 0.0)).all() for n in balances
    )
    # the check decides and records the same without the screen (every ds_abstain fit made)
    with_screen = abstain_check(u, "mace", np.full(k, 1 / k), choose_balance=True)
    monkeypatch.setattr(AC, "_unseen_rows", lambda unique, train, *_: np.zeros(train.shape, dtype=bool))
    without = abstain_check(u, "mace", np.full(k, 1 / k), choose_balance=True)
    assert (with_screen.accepted, with_screen.reason, with_screen.family, with_screen.balance) == (
        without.accepted,
        without.reason,
        without.family,
        without.balance,
    )
    assert with_screen.lead == without.lead and with_screen.lead_se == without.lead_se


# --------------------------------------------------------------------------- test (a)'s futility stop


@pytest.mark.parametrize("jit", ["1", "0"])
@pytest.mark.parametrize("maker", ["rows", "crowd"])
def test_folds_scored_in_two_calls_equal_one_call(
    monkeypatch: pytest.MonkeyPatch, jit: str, maker: str
) -> None:
    # the first fold alone, then the rest with the first's fits kept: each member is fitted as if alone
    # and the ds_abstain skip is decided on every fold in the second call, so the scores are the one
    # call's (exactly: the compiled kernel fits members one by one, and the numpy path's products add
    # each member's column alone)
    monkeypatch.setenv(em_jit.JIT_ENV, jit)
    k = 3
    u = _rows(k, 10, 2000, seed=9) if maker == "rows" else _crowd(k, 60, 400, seed=11)
    folds = H.deal_counts(u.rows, u.counts, k, 3, 0)
    balances = {"uniform": np.full(k, 1.0 / k), "estimated": None}
    whole = _fold_scores(u, balances, folds)
    fits = AC._FoldFits()
    first = _fold_scores(u, balances, folds, only=np.array([0]), fits=fits)
    for v in first.values():
        assert (v[1:] == 0).all()  # the folds not scored stay 0
    kept = {key[:2] for key in fits.scores}
    again = _fold_scores(u, balances, folds, fits=fits)
    for key in whole:
        np.testing.assert_array_equal(again[key], whole[key])
    assert ("mace_abstain", "uniform") in kept


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the members of every informative EM batch the check runs."""
    members: list[int] = []
    em = AC._em

    def counted(D, families, counts, q, **kw):  # type: ignore[no-untyped-def]
        members.append(len(families))
        return em(D, families, counts, q, **kw)

    monkeypatch.setattr(AC, "_em", counted)
    return members


def test_futility_stops_at_the_first_fold_with_the_same_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    # a crowd where reading abstentions loses by far (class-independent coverage, 150 LFs of about 16
    # votes each: 13 standard errors behind on all the rows): refused either way; with the stop, only
    # the first fold's mace_abstain fits are made (2 members)
    k = 3
    u = _crowd(k, 150, 400, seed=11)
    balances_auto = dict(choose_balance=True)
    members = _calls(monkeypatch)
    stopped = abstain_check(u, "mv", np.full(k, 1 / k), **balances_auto)
    assert not stopped.accepted and "first fold" in stopped.reason
    assert stopped.reason.startswith("no reading of abstentions")  # the kind benchmarks read ("lead")
    assert members == [2]
    assert stopped.lead < -AC.FUTILITY_SE * stopped.lead_se
    members.clear()
    monkeypatch.setattr(AC, "FUTILITY_SE", None)
    full = abstain_check(u, "mv", np.full(k, 1 / k), **balances_auto)
    assert not full.accepted and "first fold" not in full.reason and full.reason.startswith("no reading")
    assert sum(members) == 6  # every fold of mace_abstain, both balances (ds_abstain bounded)
    assert full.lead < 0


def test_futility_does_not_stop_a_reading_that_leads(monkeypatch: pytest.MonkeyPatch) -> None:
    # class-dependent coverage: the reading leads on every fold; the check's record is the one without
    # the stop, every field
    k = 3
    u = _rows(k, 10, 2000, seed=9)
    on = abstain_check(u, "mace", np.full(k, 1 / k), choose_balance=True)
    monkeypatch.setattr(AC, "FUTILITY_SE", None)
    off = abstain_check(u, "mace", np.full(k, 1 / k), choose_balance=True)
    assert on.to_dict() == off.to_dict()
    assert np.isfinite(on.lead) and on.lead > 0


def _with_background(k: int, m: int, n: int, seed: int, share: float) -> RowSummary:
    """Class-dependent coverage (the abstain reading leads held out) where a share ``share`` of the rows
    is instead a group in which every LF votes a random class with probability 0.7: a background group
    that test (b) finds."""
    rng = np.random.default_rng(seed)
    cov = np.clip(0.15 * np.exp(0.9 * rng.normal(size=(m, k))), 0.01, 0.9)
    acc = rng.uniform(0.5, 0.8, size=m)
    y = rng.integers(0, k, size=n)
    right = rng.random((n, m)) < acc[None, :]
    other = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    L = np.where(rng.random((n, m)) < cov[:, y].T, np.where(right, y[:, None], other), -1)
    g = rng.random(n) < share
    n_g = int(g.sum())
    L[g] = np.where(rng.random((n_g, m)) < 0.7, rng.integers(0, k, size=(n_g, m)), -1)
    rows, counts = np.unique(L.astype(np.int8), axis=0, return_counts=True)
    return RowSummary(k, rows, counts.astype(np.float64), float(n), 100_000)


def _background_folds(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Record the folds each call of test (b)'s background fits fits."""
    calls: list[list[int]] = []
    inner = AC._background

    def recorded(unique, family, folds, only=None):  # type: ignore[no-untyped-def]
        calls.append(list(range(len(folds))) if only is None else [int(f) for f in only])
        return inner(unique, family, folds, only=only)

    monkeypatch.setattr(AC, "_background", recorded)
    return calls


def test_background_futility_stops_at_the_first_fold_with_the_same_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # half the rows from a background group: the reading leads held out (test (a) passes), and the
    # background class gains beyond the stop's bar already on the first fold's rows (z 6.1; 7.3 on all)
    k = 3
    u = _with_background(k, 8, 6000, seed=1, share=0.5)
    calls = _background_folds(monkeypatch)
    stopped = abstain_check(u, "mace", np.full(k, 1 / k), choose_balance=True)
    assert stopped.lead > 2 * stopped.lead_se  # (a) passed
    assert not stopped.accepted and stopped.reason.startswith("the rows hold a group")
    assert "first fold" in stopped.reason and stopped.z > CC.BACKGROUND_FUTILITY_Z
    assert calls == [[0]]
    calls.clear()
    monkeypatch.setattr(CC, "BACKGROUND_FUTILITY_Z", None)
    full = abstain_check(u, "mace", np.full(k, 1 / k), choose_balance=True)
    assert not full.accepted and full.reason.startswith("the rows hold a group")
    assert "first fold" not in full.reason and full.z > 1.96
    assert calls == [[0, 1, 2]]
    # the same reading was tested, with the same lead
    assert (full.family, full.balance, full.lead, full.lead_se) == (
        stopped.family,
        stopped.balance,
        stopped.lead,
        stopped.lead_se,
    )


def test_background_futility_does_not_stop_a_check_that_passes_b(monkeypatch: pytest.MonkeyPatch) -> None:
    # class-dependent coverage without a background group: test (b) passes; with the stop the first fold
    # is fitted first, then the others, and the record is the one without the stop, every field
    k = 3
    u = _rows(k, 10, 2000, seed=9)
    calls = _background_folds(monkeypatch)
    on = abstain_check(u, "mace", np.full(k, 1 / k), choose_balance=True)
    assert calls == [[0], [1, 2]]
    monkeypatch.setattr(CC, "BACKGROUND_FUTILITY_Z", None)
    off = abstain_check(u, "mace", np.full(k, 1 / k), choose_balance=True)
    assert np.isfinite(on.z) and on.z <= 1.96
    assert on.to_dict() == off.to_dict()


@pytest.mark.parametrize("jit", ["1", "0"])
def test_background_fits_in_two_calls_score_as_in_one(monkeypatch: pytest.MonkeyPatch, jit: str) -> None:
    # each fold's fit is made as if alone: compiled, float for float; numpy's batch, to rounding (50
    # steps of a contracting map, a few ulps each: the tolerance of the paths' comparison above)
    if jit == "1":
        pytest.importorskip("numba")
    monkeypatch.setenv(em_jit.JIT_ENV, jit)
    k = 3
    u = _with_background(k, 8, 3000, seed=2, share=0.3)
    folds = H.deal_counts(u.rows, u.counts, k, 3, 0)
    whole = AC._background(u, "mace_abstain", folds)
    first = AC._background(u, "mace_abstain", folds, only=np.array([0]))
    assert (first[1:] == 0).all()
    parts = first + AC._background(u, "mace_abstain", folds, only=np.array([1, 2]))
    if jit == "1":
        np.testing.assert_array_equal(parts, whole)
    else:
        np.testing.assert_allclose(parts, whole, rtol=0, atol=1e-10)
