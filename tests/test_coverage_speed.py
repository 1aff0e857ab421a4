"""The coverage check's batched fits against the one-fit-at-a-time reference (same arithmetic, reordered)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tripletws.estimators import coverage_check
from tripletws.estimators import coverage_check as coverage_check_module
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.annotator_design import _Design, majority_soft_labels
from tripletws.estimators.coverage_check import (
    _compiled,
    _cross_fit,
    background_gain,
    coverage_em,
    row_logliks,
)
from tripletws.estimators.heldout import deal_counts
from tripletws.estimators.one_class import (
    CoverageTables,
    coverage_table,
    mstep_coverage,
    mstep_shared_coverage,
)
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary

# The batched code computes the same sums and products as the per-fit code in another order: each
# result differs by a few ulps (~1e-16 relative); EM's fixed point is stable, so after 50 steps the
# tables differ by at most a small multiple of that.  1e-10 leaves room for the E-step's exp/log.
TOL = 1e-10


def draw(n, prior, classes, on, off, seed, both=False):
    rng = np.random.default_rng(seed)
    y = rng.choice(len(prior), size=n, p=prior)
    L = np.full((n, len(classes) + both), -1, dtype=np.int64)
    for i, c in enumerate(classes):
        L[rng.random(n) < np.where(y == c, on[i], off[i]), i] = c
    if both:  # an LF that votes both classes (MACE's table) on a third of the rows
        hit = rng.random(n) < 0.3
        L[hit, -1] = np.where(rng.random(hit.sum()) < 0.8, y[hit], 1 - y[hit])
    return RowSummary.from_matrix(check_label_matrix(L, len(prior)), 10**7)


def reference_tables(family, obs, total, N):
    """The one-class LFs' tables of one member from the per-LF M-step functions, (u, k + 1, k)."""
    k = obs.shape[1] - 1
    seen = obs[:, 1:] > 0
    lfs = np.flatnonzero(seen.sum(axis=1) == 1)
    classes = seen[lfs].argmax(axis=1)
    rates = mstep_coverage if family == "mace_coverage" else mstep_shared_coverage
    on, off = rates(N, lfs, classes, total)
    return lfs, coverage_table(on, off, classes, k)


@pytest.mark.parametrize("k", [2, 3])
def test_batched_m_step_matches_the_per_member_functions(k):
    rng = np.random.default_rng(k)
    B, m = 5, 7
    obs = rng.integers(0, 40, size=(B, m, k + 1)).astype(float)
    obs[:, :5, 1:] = 0.0  # LFs 0..4 vote one class (member-dependent), 5 and 6 several
    for b in range(B):
        obs[b, np.arange(5), 1 + rng.integers(0, k, 5)] = rng.integers(1, 30, 5)
    obs[:, :, 0] += 50.0
    total = obs[:, 0].sum(axis=1)
    N = rng.random((B, m, k + 1, k)) * obs[..., None] / k
    families = ["shared_coverage", "mace_coverage", "mace_coverage", "shared_coverage", "mace_coverage"]
    T = CoverageTables(families, obs, total).step(N)
    for b, fam in enumerate(families):
        lfs, ref = reference_tables(fam, obs[b], float(total[b]), N[b])
        assert lfs.tolist() == [0, 1, 2, 3, 4]
        np.testing.assert_allclose(T[b, lfs], ref, rtol=TOL, atol=0)
        np.testing.assert_allclose(T[b].sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("both", [False, True])
@pytest.mark.parametrize("balance", [None, np.array([0.5, 0.5])])
def test_coverage_em_matches_fit_annotator(both, balance):
    u = draw(3000, [0.7, 0.3], [0, 0, 1, 1], [0.6, 0.4, 0.5, 0.7], [0.1, 0.05, 0.1, 0.2], 1, both)
    D = _Design(u.rows, 2, abstain=True)
    fams = ["shared_coverage", "mace_coverage"]
    prior = np.full((2, 2), 0.5) if balance is None else np.repeat(balance[:, None], 2, axis=1)
    free = np.full(2, balance is None)
    c = np.tile(u.counts.astype(float), (2, 1))
    start = majority_soft_labels(u.rows, 2).T[:, None, :]
    got = coverage_em(D, fams, c, start, prior, free, max_steps=50)
    for b, fam in enumerate(fams):
        ref = fit_annotator(u, fam, class_balance=balance)
        assert got.n_steps[b] == ref.n_steps
        np.testing.assert_allclose(got.params[b].cond_probs, ref.params.cond_probs, rtol=TOL, atol=0)
        np.testing.assert_allclose(got.params[b].class_balance, ref.params.class_balance, rtol=TOL, atol=0)
        assert abs(got.log_likelihood[b] - ref.log_likelihood) < TOL


@pytest.mark.parametrize("both", [False, True])
def test_background_class_in_the_same_batch_changes_nothing(both):
    # with every LF one-class the k- and (k + 1)-class fits share one batch (zero prior on the extra
    # class); with an LF voting both classes they cannot, and each size is fitted alone
    u = draw(
        4000, [0.6, 0.4], [0, 0, 1, 1, 1], [0.6, 0.4, 0.5, 0.7, 0.3], [0.1, 0.05, 0.1, 0.2, 0.1], 2, both
    )
    folds = deal_counts(u.rows, u.counts, 2, 3, 0)
    members = [
        ("mace_coverage", None, 2),
        ("shared_coverage", np.array([0.5, 0.5]), 2),
        ("mace_coverage", None, 3),
    ]
    together = _cross_fit(u, members, folds)
    for b, mem in enumerate(members):
        alone = _cross_fit(u, [mem], folds)
        assert together.fits[b].n_steps == alone.fits[0].n_steps
        np.testing.assert_allclose(
            together.fits[b].params.cond_probs, alone.fits[0].params.cond_probs, rtol=TOL
        )
        np.testing.assert_allclose(together.row_loglik[b], alone.row_loglik[0], rtol=TOL, atol=TOL)
    # and the background test against its definition, one fit at a time
    gain, z = background_gain(u)
    ref_gain, ref_z = reference_background_gain(u)
    assert abs(gain - ref_gain) < TOL and abs(z - ref_z) < TOL * max(1.0, abs(ref_z)) * 100


def reference_background_gain(unique):
    """:func:`background_gain` as first written: fit_annotator with k and k + 1 classes, each fold scored
    by a fit on the others warm-started from the fit on all rows."""
    k = unique.cardinality
    folds = deal_counts(unique.rows, unique.counts, k, 3, 0)
    scores = []
    for card in (k, k + 1):
        u = replace(unique, cardinality=card)
        full = fit_annotator(u, "mace_coverage")
        s = np.zeros_like(folds)
        for f in range(3):
            train = unique.counts - folds[f]
            sub = replace(u, counts=train, n_rows=float(train.sum()))
            s[f] = row_logliks(
                unique.rows, fit_annotator(sub, "mace_coverage", max_steps=10, init=full.params).params
            )
        scores.append(s)
    w, d = folds.ravel(), (scores[1] - scores[0]).ravel()
    n = float(w.sum())
    gain = float(w @ d) / n
    return gain, gain / (np.sqrt(float(w @ (d - gain) ** 2) / n) / np.sqrt(n))


@pytest.mark.parametrize("silent", [False, True])
def test_compiled_coverage_em_matches_numpy(monkeypatch, silent):
    pytest.importorskip("numba")
    # members with held-out rows (count 0: scored once at the end by the kernel), both families, a fixed
    # and an estimated balance, and a member with a background class (3 classes, the others padded)
    u = draw(4000, [0.6, 0.4], [0, 0, 1, 1, 1], [0.6, 0.4, 0.5, 0.7, 0.3], [0.1, 0.05, 0.1, 0.2, 0.1], 3)
    folds = deal_counts(u.rows, u.counts, 2, 3, 0)
    counts = np.vstack([u.counts[None], u.counts - folds]).astype(float)
    if silent:  # LF 0 without votes in the second member's rows and LF 4 in the last's (e.g. a fold)
        counts[1, u.rows[:, 0] >= 0] = 0.0
        counts[3, u.rows[:, 4] >= 0] = 0.0
    fams = ["shared_coverage", "mace_coverage", "mace_coverage", "shared_coverage"]
    n_classes = np.array([2, 2, 3, 2])
    prior = np.zeros((3, 4))
    prior[:2, [0, 1, 3]] = 0.5
    prior[:, 2] = 1.0 / 3.0
    free = np.array([False, True, True, True])
    q = np.zeros((3, 4, len(u.counts)))
    for b, n in enumerate(n_classes):
        q[:n, b] = majority_soft_labels(u.rows, int(n)).T
    D = _Design(u.rows, 3, abstain=True)
    runs, calls = {}, []
    compiled = coverage_check._coverage_em_compiled
    monkeypatch.setattr(coverage_check, "_coverage_em_compiled", lambda *a: calls.append(1) or compiled(*a))
    for jit in ("1", "0"):
        monkeypatch.setenv("TRIPLETWS_JIT", jit)
        assert (_compiled() is not None) == (jit == "1")
        runs[jit] = coverage_em(D, fams, counts, q, prior, free, max_steps=50, n_classes=n_classes)
    assert calls == [1]  # the kernel ran (an LF without votes in a member's rows included)
    a, b = runs["1"], runs["0"]
    np.testing.assert_array_equal(a.n_steps, b.n_steps)
    np.testing.assert_allclose(a.log_norm, b.log_norm, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(a.soft_labels, b.soft_labels, rtol=0, atol=TOL)
    for x, y in zip(a.params, b.params, strict=True):
        np.testing.assert_allclose(x.cond_probs, y.cond_probs, rtol=TOL, atol=0)
        np.testing.assert_allclose(x.class_balance, y.class_balance, rtol=TOL, atol=0)


def test_compiled_coverage_em_matches_numpy_beyond_three_classes(monkeypatch):
    # members of 3 and 4 classes: the kernel's loops over a class array (2 and 3 have local sums)
    pytest.importorskip("numba")
    u = draw(3000, [0.5, 0.3, 0.2], [0, 0, 1, 1, 2, 2], [0.6, 0.4, 0.5, 0.7, 0.5, 0.6], [0.1] * 6, 4)
    counts = np.vstack([u.counts[None], u.counts[None]]).astype(float)
    fams = ["mace_coverage", "mace_coverage"]
    n_classes = np.array([3, 4])
    prior = np.zeros((4, 2))
    prior[:3, 0] = 1.0 / 3.0
    prior[:, 1] = 0.25
    q = np.zeros((4, 2, len(u.counts)))
    for b, n in enumerate(n_classes):
        q[:n, b] = majority_soft_labels(u.rows, int(n)).T
    D = _Design(u.rows, 4, abstain=True)
    runs = {}
    for jit in ("1", "0"):
        monkeypatch.setenv("TRIPLETWS_JIT", jit)
        runs[jit] = coverage_em(
            D, fams, counts, q, prior, np.ones(2, bool), max_steps=50, n_classes=n_classes
        )
    a, b = runs["1"], runs["0"]
    np.testing.assert_array_equal(a.n_steps, b.n_steps)
    np.testing.assert_allclose(a.log_likelihood, b.log_likelihood, rtol=0, atol=TOL)
    np.testing.assert_allclose(a.log_norm, b.log_norm, rtol=TOL, atol=TOL)
    for x, y in zip(a.params, b.params, strict=True):
        np.testing.assert_allclose(x.cond_probs, y.cond_probs, rtol=TOL, atol=0)


def test_folds_dealt_once_give_the_same_choice_and_check():
    # the default deals the folds once and hands them to the family choice and the coverage check
    from tripletws.estimators.coverage_check import FOLD_SEED, N_FOLDS, coverage_check
    from tripletws.estimators.family_choice import select_family

    u = draw(3000, [0.6, 0.4], [0, 0, 1, 1, 1], [0.6, 0.4, 0.5, 0.7, 0.3], [0.1, 0.05, 0.1, 0.2, 0.1], 5)
    folds = deal_counts(u.rows, u.counts, 2, N_FOLDS, FOLD_SEED)
    a = select_family(u, n_folds=N_FOLDS, random_state=FOLD_SEED)
    b = select_family(u, n_folds=N_FOLDS, random_state=FOLD_SEED, folds=folds)
    assert a.chosen == b.chosen and a.heldout_loglik == b.heldout_loglik  # the same arithmetic
    c = coverage_check(u, None, choose_balance=True)
    d = coverage_check(u, None, choose_balance=True, folds=folds)
    assert c == d  # accepted, reason, gain, z, balance (same folds, same arithmetic)


@pytest.mark.parametrize("jit", [True, False])
def test_lean_design_beyond_the_dense_cells_gives_the_same_check(monkeypatch, jit):
    # past CHECK_DENSE_CELLS the check's designs hold the votes only (abstentions through one constant
    # per class): the same fits to rounding (TOL), so the same decision and balance
    from tripletws.estimators.coverage_check import coverage_check
    from tripletws.estimators.em_jit import JIT_ENV

    if not jit:
        monkeypatch.setenv(JIT_ENV, "0")
    for both in (False, True):  # every LF one-class (the compiled EM where on), or one LF votes both
        u = draw(
            4000, [0.6, 0.4], [0, 0, 1, 1, 1], [0.6, 0.4, 0.5, 0.7, 0.3], [0.1, 0.05, 0.1, 0.2, 0.1], 9, both
        )
        monkeypatch.setattr(coverage_check_module, "CHECK_DENSE_CELLS", 10**6)
        assert not coverage_check_module._design(u.rows, 2).lean
        onehot = coverage_check(u, None, choose_balance=True)
        monkeypatch.setattr(coverage_check_module, "CHECK_DENSE_CELLS", 0)
        assert coverage_check_module._design(u.rows, 2).lean
        lean = coverage_check(u, None, choose_balance=True)
        assert (lean.accepted, lean.reason.split("(")[0], lean.balance) == (
            onehot.accepted,
            onehot.reason.split("(")[0],
            onehot.balance,
        )
        for name in ("gain", "z"):
            a, b = getattr(lean, name), getattr(onehot, name)
            assert (np.isnan(a) and np.isnan(b)) or abs(a - b) <= TOL * max(1.0, abs(b))
        if onehot.fit is not None:
            np.testing.assert_allclose(
                lean.fit.params.cond_probs, onehot.fit.params.cond_probs, rtol=0, atol=TOL
            )


def _members_fitted(monkeypatch):
    """Record the members (B) of every coverage EM batch the check runs."""
    calls = []
    inner = coverage_check_module.coverage_em

    def recorded(D, families, counts, *args, **kwargs):
        calls.append(len(families))
        return inner(D, families, counts, *args, **kwargs)

    monkeypatch.setattr(coverage_check_module, "coverage_em", recorded)
    return calls


def quiet_group_matrix():
    """(8000, 6) label matrix of one-class LFs in which 40 % of the distinct rows lose most of their
    votes whatever their class: a background group far beyond the background test's bar."""
    rng = np.random.default_rng(3)
    u = draw(8000, [0.5, 0.5], [0, 0, 0, 1, 1, 1], [0.6, 0.5, 0.7, 0.6, 0.5, 0.4], [0.1] * 6, 4)
    rows = u.rows.copy()
    quiet = rng.random(len(rows)) < 0.4
    rows[(rng.random(rows.shape) < 0.85) & quiet[:, None]] = -1
    return np.repeat(rows, u.counts.astype(int), axis=0)


def test_background_stop_at_the_first_fold_gives_the_same_refusal(monkeypatch):
    # 40 % of the rows lose most of their votes whatever their class (a background group, far beyond
    # the test's bar on the first fold already): the pair the test reads is fitted on all rows and on
    # the first fold (2 + 2 members), nothing else; without the stop, every member on every fold
    from tripletws.estimators.coverage_check import BACKGROUND_Z, coverage_check

    u = RowSummary.from_matrix(check_label_matrix(quiet_group_matrix(), 2), 10**7)
    calls = _members_fitted(monkeypatch)
    stopped = coverage_check(u, None, choose_balance=True)
    assert not stopped.accepted and "first fold" in stopped.reason
    assert stopped.z > coverage_check_module.BACKGROUND_FUTILITY_Z
    assert calls == [2, 2]
    calls.clear()
    monkeypatch.setattr(coverage_check_module, "BACKGROUND_FUTILITY_Z", None)
    full = coverage_check(u, None, choose_balance=True)
    assert not full.accepted and "first fold" not in full.reason and full.z > BACKGROUND_Z
    assert full.reason.split("(")[0] == stopped.reason.split("(")[0]
    assert calls == [5, 15]  # both families under both balances, and the background class


@pytest.mark.parametrize("jit", [True, False])
def test_background_stop_changes_nothing_where_the_test_passes(monkeypatch, jit):
    # a clean coverage model: the first fold is far below the bar, every member is then fitted on all
    # rows and every fold, and the check's record and fit are those without the stop (each member fitted
    # as if alone: compiled float for float, numpy's batch to rounding)
    from tripletws.estimators.coverage_check import coverage_check
    from tripletws.estimators.em_jit import JIT_ENV

    if jit:
        pytest.importorskip("numba")
    else:
        monkeypatch.setenv(JIT_ENV, "0")
    u = draw(6000, [0.7, 0.3], [0, 0, 0, 1, 1, 1], [0.6, 0.5, 0.7, 0.6, 0.5, 0.4], [0.1] * 6, 5)
    on = coverage_check(u, None, choose_balance=True)
    monkeypatch.setattr(coverage_check_module, "BACKGROUND_FUTILITY_Z", None)
    off = coverage_check(u, None, choose_balance=True)
    assert on.accepted and off.accepted and (on.reason, on.balance) == (off.reason, off.balance)
    tol = 0.0 if jit else TOL
    for name in ("gain", "z", "prior_lead"):
        a, b = np.ravel(getattr(on, name)), np.ravel(getattr(off, name))
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    np.testing.assert_allclose(on.fit.params.cond_probs, off.fit.params.cond_probs, rtol=0, atol=tol)


def test_background_refuses_reads_the_share_switch_only_when_set(monkeypatch):
    from tripletws.estimators.coverage_check import BACKGROUND_Z, background_refuses

    assert not background_refuses(BACKGROUND_Z, 1.0, 0.1)  # at the bar: passes
    assert background_refuses(BACKGROUND_Z + 0.1, 1e-6, 10.0)  # the default: significance alone
    assert background_refuses(float("nan"), 0.0, 1.0)  # not a number refuses, as before
    monkeypatch.setattr(coverage_check_module, "BACKGROUND_SHARE", 0.02)
    assert not background_refuses(8.0, 0.0015, 0.85)  # 0.2 % of the reading's lead: passes
    assert background_refuses(8.0, 0.05, 0.85)  # 6 % of it: refuses
    assert background_refuses(8.0, 0.0015, None)  # no lead to compare with: significance alone
    assert background_refuses(8.0, 0.0015, -0.1)  # a reading behind the vote-only fit: any gain refuses


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_background_share_switch_in_the_default_fit(monkeypatch):
    # the 40 % "quiet" group of quiet_group_matrix: its background class gains much of the coverage
    # reading's own lead, so the share rule refuses it too (after every fold: no first-fold stop); an
    # absurd share turns the background test off and the check goes on to its other tests
    from tripletws import LabelModel

    L = quiet_group_matrix()

    def coverage_record():
        lm = LabelModel(cardinality=2).fit(L)
        return lm.solution_.estimate.one_class

    default = coverage_record()
    assert default.reason.startswith("the rows hold a group") and "first fold" in default.reason
    monkeypatch.setattr(coverage_check_module, "BACKGROUND_SHARE", 0.02)
    shared = coverage_record()
    assert shared.reason.startswith("the rows hold a group") and "first fold" not in shared.reason
    monkeypatch.setattr(coverage_check_module, "BACKGROUND_SHARE", 1e6)
    assert not coverage_record().reason.startswith("the rows hold a group")
