"""Sequence (video) model: forward-backward, cross-frame statistics, transition estimate, online use."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from conftest import load_real

from tripletws import LabelModel, MajorityLabelVoter, to_sparse
from tripletws.chain import chain_posteriors
from tripletws.crossframe import CrossFrameStats, cross_frame_stats, segment_rows
from tripletws.datasets import make_synthetic_sequences
from tripletws.estimators.transition import estimate_persistence, transition_matrix
from tripletws.matrix import check_label_matrix
from tripletws.sequence import SequenceLabelModel


def brute_force_marginals(logE, starts, rho, p):
    """Enumerate all k^n label sequences (n small)."""
    n, k = logE.shape
    T = transition_matrix(rho, p)
    post = np.zeros((n, k))
    for ys in itertools.product(range(k), repeat=n):
        lp = 0.0
        for t, y in enumerate(ys):
            lp += math.log(p[y]) if starts[t] else math.log(max(T[ys[t - 1], y], 1e-300))
            lp += logE[t, y]
        w = math.exp(lp)
        for t, y in enumerate(ys):
            post[t, y] += w
    return post / post.sum(axis=1, keepdims=True)


def _minus(a, b):
    """Statistics of the rows of ``a`` that are not in ``b`` (both are sums)."""
    return a + b.scaled(-1.0)


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


# -- forward-backward ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_forward_backward_equals_enumeration(seed):
    rng = np.random.default_rng(seed)
    k = 2 + seed % 2
    n = 7
    logE = rng.normal(0, 2, (n, k))
    starts = rng.random(n) < 0.3
    starts[0] = True
    p = rng.dirichlet(np.ones(k))
    lo = -p.min() / (1 - p.min())
    rho = [0.9, 0.3, max(lo, -0.2), 0.999, 0.0, 0.6][seed]
    expected = brute_force_marginals(logE, starts, rho, p)
    for block in (None, 1, 2, 3, 7, 50):
        got = chain_posteriors(logE, starts, rho, p, block=block)
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_persistence_at_its_lowest_still_matches_enumeration():
    """At rho = -p_min / (1 - p_min) staying in the rarer class has probability 0, which the chain's
    identity-plus-rank-one step only reaches to rounding; confident frames then read that rounding
    (posteriors wrong by up to 1).  The bound keeps the transition at MIN_STAY * p_min."""
    from tripletws.estimators.transition import MIN_STAY, lowest_persistence, persistence_bounds

    p = np.array([0.62, 0.38])
    lo, _ = persistence_bounds(p)
    assert lowest_persistence(p) < lo
    assert transition_matrix(lo, p)[1, 1] == pytest.approx(MIN_STAY * p[1], rel=1e-6)
    # confident frames (log-odds 90) naming 0 1 0 1 1 0 0: frames 3 and 4 stay in class 1
    votes = np.array([0, 1, 0, 1, 1, 0, 0])
    logE = np.where(np.arange(2)[None, :] == votes[:, None], 90.0, 0.0)
    starts = np.zeros(7, dtype=bool)
    starts[0] = True
    expected = brute_force_marginals(logE, starts, lo, p)
    for block in (None, 1, 3):
        np.testing.assert_allclose(chain_posteriors(logE, starts, lo, p, block=block), expected, atol=1e-9)


def test_forward_backward_is_stable_for_long_confident_chains():
    rng = np.random.default_rng(0)
    n = 20_000
    logE = rng.normal(0, 40, (n, 2))  # very confident frames: raw probabilities would underflow
    post = chain_posteriors(logE, np.eye(1, n, 0, dtype=bool)[0], 0.999999, np.array([0.5, 0.5]))
    assert np.all(np.isfinite(post))
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    # with rho = 0 frames are independent: the posterior is the per-frame softmax
    indep = chain_posteriors(logE, np.ones(n, dtype=bool), 0.5, np.array([0.5, 0.5]))
    soft = np.exp(logE - logE.max(axis=1, keepdims=True))
    np.testing.assert_allclose(indep, soft / soft.sum(axis=1, keepdims=True), atol=1e-12)


# -- sequence ids and cross-frame statistics ---------------------------------------------


def test_segment_rows_validates_ids_and_cuts_windows():
    seg = segment_rows(7, [5, 5, 5, 2, 2, 9, 9])
    assert seg.linked.tolist() == [True, True, False, True, False, True]
    assert (seg.first_id, seg.last_id, seg.last_position) == (5, 9, 1)
    seg = segment_rows(7, None, window=3)
    assert seg.starts.tolist() == [True, False, False, True, False, False, True]
    seg = segment_rows(4, ["a", "a", "a", "b"], window=2, continues=True, offset=1)
    assert seg.linked.tolist() == [False, True, False]  # positions 1 | 2 3 ; b starts
    with pytest.raises(ValueError, match="sequence id 1 appears again at row 3"):
        segment_rows(4, [1, 1, 2, 1])
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        segment_rows(4, [1, 1, 2])
    with pytest.raises(ValueError, match="window"):
        segment_rows(4, None, window=0)


def test_sequence_ids_that_cannot_be_saved_or_compared_are_refused(tmp_path):
    """Bytes ids used to fit and then fail at save (JSON); None or a mix of ints and strings failed
    inside np.unique with a TypeError about '<'."""
    with pytest.raises(ValueError, match=r"bytes.*decode"):
        segment_rows(3, np.array([b"a", b"a", b"b"]))
    with pytest.raises(ValueError, match="row 1 holds None"):
        segment_rows(3, np.array(["a", None, "b"], dtype=object))
    with pytest.raises(ValueError, match="mix integers and strings"):
        segment_rows(3, np.array([1, "a", "a"], dtype=object))
    seg = segment_rows(3, np.array(["a", "a", "b"], dtype=object))
    assert seg.linked.tolist() == [True, False]
    d = make_synthetic_sequences(4, 10, m=4, random_state=0)
    model = _quiet(SequenceLabelModel(2).fit, d.L, d.sequence_ids.astype(str).astype(object))
    model.save(tmp_path / "m.json")  # object ids holding str save as str
    assert SequenceLabelModel.load(tmp_path / "m.json").persistence_ == model.persistence_


def test_cross_frame_stats_by_hand_and_chunking():
    L = np.array([[0, 1, -1], [0, 0, 1], [1, -1, 1], [1, 1, 1]])
    seg = segment_rows(4, [0, 0, 0, 1])
    cs = cross_frame_stats(check_label_matrix(L, 2), seg.linked)
    assert cs.n_pairs == 2
    # pairs (row0 -> row1), (row1 -> row2)
    expected_cov = np.zeros((3, 3))
    expected_agree = np.zeros((3, 3))
    for a, b in ((0, 1), (1, 2)):
        for i in range(3):
            for j in range(3):
                if L[a, i] >= 0 and L[b, j] >= 0:
                    expected_cov[i, j] += 1
                    expected_agree[i, j] += L[a, i] == L[b, j]
    np.testing.assert_array_equal(cs.covote, expected_cov)
    np.testing.assert_array_equal(cs.agree, expected_agree)
    d = make_synthetic_sequences(30, (1, 40), m=5, k=3, random_state=1)
    lm = check_label_matrix(d.L, 3)
    seg = segment_rows(lm.n, d.sequence_ids)
    full = cross_frame_stats(lm, seg.linked)
    for chunk in (1, 7, 100):
        part = cross_frame_stats(lm, seg.linked, chunk_size=chunk)
        np.testing.assert_array_equal(part.agree, full.agree)
        np.testing.assert_array_equal(part.covote, full.covote)
    sparse = cross_frame_stats(check_label_matrix(to_sparse(d.L, 3), 3), seg.linked, chunk_size=64)
    np.testing.assert_array_equal(sparse.agree, full.agree)
    again = CrossFrameStats.from_dict(full.to_dict())
    np.testing.assert_array_equal(again.covote, full.covote)
    with pytest.raises(ValueError, match="inconsistent"):
        CrossFrameStats.from_dict(dict(full.to_dict(), agree=(full.covote + 1).tolist()))


# -- estimation -------------------------------------------------------------------------


def test_persistence_closed_form_with_true_accuracies():
    """With the true b, tau's only noise is the pooled cross-frame moment: tight tolerance."""
    k, rho = 3, 0.8
    d = make_synthetic_sequences(
        200, 200, m=6, k=k, persistence=rho, accuracies=0.7, coverage=0.6, random_state=2
    )
    lm = check_label_matrix(d.L, k)
    cross = cross_frame_stats(lm, segment_rows(lm.n, d.sequence_ids).linked)
    b = (k * d.accuracies - 1) / (k - 1)
    est = estimate_persistence(cross, b, d.class_balance)
    # sd of the pooled agreement over all ordered LF pairs (pairs share frames: counted once per frame pair)
    bb = b[0] ** 2
    A = (1 + (k - 1) * d.tau * bb) / k
    n_eff = cross.n_pairs * 0.6**2  # co-votes of one LF pair; pooling only helps
    sd_tau = k / (k - 1) * math.sqrt(A * (1 - A) / n_eff) / bb
    assert abs(est.tau_raw - d.tau) <= 4 * sd_tau, (est.tau_raw, d.tau, sd_tau)


@pytest.mark.parametrize("k", [2, 3])
def test_chain_beats_per_frame_model_and_recovers_persistence(k):
    rho = 0.9
    d = make_synthetic_sequences(
        150, (20, 300), m=6, k=k, persistence=rho, accuracies=0.75, coverage=0.6, random_state=60 + k
    )
    n = len(d.y)
    chain = SequenceLabelModel(k).fit(d.L, d.sequence_ids)
    frame = LabelModel(k, model="symmetric").fit(d.L)  # the per-frame model of the chain
    acc_chain = np.mean(chain.predict(d.L, sequence_ids=d.sequence_ids, tie_break_policy="random") == d.y)
    acc_frame = np.mean(frame.predict(d.L, tie_break_policy="random") == d.y)
    # labels are AR(1)-correlated: effective frames n (1 - rho) / (1 + rho); 5 sd of a difference
    n_eff = n * (1 - rho) / (1 + rho)
    margin = 5 * math.sqrt(2 * 0.25 / n_eff)
    assert acc_chain - acc_frame > margin, (acc_chain, acc_frame, margin)
    # tau within 4 jackknife standard errors (10 groups of whole sequences; the statistics
    # are sums, so leaving a group out is a subtraction), plus the jackknife bias estimate
    tau_loo = []
    for g in range(10):
        rows = d.sequence_ids % 10 == g
        part = SequenceLabelModel(k).fit(d.L[rows], d.sequence_ids[rows])
        rest = SequenceLabelModel(k).fit_stats(
            _minus(chain.stats_, part.stats_), _minus(chain.cross_stats_, part.cross_stats_)
        )
        tau_loo.append(rest.tau_)
    tau_loo = np.array(tau_loo)
    se = math.sqrt(9 / 10 * np.sum((tau_loo - tau_loo.mean()) ** 2))
    bias = 9 * (tau_loo.mean() - chain.tau_)
    assert abs(chain.tau_ - d.tau) <= 4 * se + abs(bias), (chain.tau_, d.tau, se, bias)
    assert se < 0.05  # the tolerance is informative
    np.testing.assert_allclose(chain.transition_.sum(axis=1), 1.0)
    # the per-frame part is exactly the LabelModel's
    np.testing.assert_allclose(chain.accuracies_, frame.accuracies_)
    np.testing.assert_allclose(chain.get_conditional_probs(), frame.get_conditional_probs())
    np.testing.assert_allclose(chain.coverage_, frame.coverage_)


def test_fixed_persistence_and_window_mode():
    d = make_synthetic_sequences(20, 60, m=5, persistence=0.9, accuracies=0.7, random_state=3)
    n = len(d.y)
    windowed = SequenceLabelModel(window=3, persistence=0.8).fit(d.L)
    by_ids = SequenceLabelModel(persistence=0.8).fit(d.L, np.arange(n) // 3)
    np.testing.assert_array_equal(windowed.cross_stats_.agree, by_ids.cross_stats_.agree)
    np.testing.assert_allclose(windowed.predict_proba(d.L), by_ids.predict_proba(d.L, np.arange(n) // 3))
    assert windowed.persistence_ == pytest.approx(0.8)
    # window 1: no consecutive frames, the chain is the per-frame model
    with pytest.warns(UserWarning, match="no consecutive frames"):
        single = SequenceLabelModel(window=1).fit(d.L)
    np.testing.assert_allclose(
        single.predict_proba(d.L), LabelModel(model="symmetric").fit(d.L).predict_proba(d.L), atol=1e-12
    )
    # windows restart inside each sequence
    w = SequenceLabelModel(window=4, persistence=0.8).fit(d.L, d.sequence_ids)
    pos = np.arange(n) - np.repeat(np.arange(20) * 60, 60)
    ids = d.sequence_ids * 1000 + pos // 4
    np.testing.assert_allclose(
        w.predict_proba(d.L, d.sequence_ids), by_ids.predict_proba(d.L, ids), atol=1e-12
    )


def test_settings_are_validated():
    d = make_synthetic_sequences(5, 30, m=4, random_state=4)
    with pytest.raises(ValueError, match="window"):
        SequenceLabelModel(window=0).fit(d.L)
    with pytest.raises(ValueError, match="persistence"):
        SequenceLabelModel(persistence=1.0).fit(d.L)
    with pytest.raises(ValueError, match="appears again"):
        SequenceLabelModel().fit(d.L, np.r_[np.zeros(10), np.ones(130), np.zeros(10)].astype(int))
    with pytest.raises(RuntimeError, match="not fitted"):
        SequenceLabelModel().predict_proba(d.L)


# -- online and persistence ------------------------------------------------------------


@pytest.mark.parametrize("window", [None, 4])
@pytest.mark.parametrize("named", [True, False])
def test_partial_fit_stream_equals_one_fit(window, named):
    d = make_synthetic_sequences(12, (5, 50), m=5, persistence=0.85, accuracies=0.75, random_state=5)
    ids = d.sequence_ids if named else None
    full = _quiet(SequenceLabelModel(window=window).fit, d.L, ids)
    online = SequenceLabelModel(window=window)
    cuts = [0, 1, 37, 38, 90, 200, len(d.y)]  # batches split sequences (and windows) anywhere
    for a, b in itertools.pairwise(cuts):
        _quiet(online.partial_fit, d.L[a:b], None if ids is None else ids[a:b])
    np.testing.assert_allclose(online.cross_stats_.agree, full.cross_stats_.agree)
    np.testing.assert_allclose(online.cross_stats_.covote, full.cross_stats_.covote)
    np.testing.assert_allclose(online.stats_.covote, full.stats_.covote)
    np.testing.assert_allclose(online.accuracies_, full.accuracies_, rtol=1e-12)
    assert online.persistence_ == pytest.approx(full.persistence_, rel=1e-12)
    np.testing.assert_allclose(online.predict_proba(d.L, ids), full.predict_proba(d.L, ids), atol=1e-12)


def test_save_load_and_resume_mid_stream(tmp_path):
    d = make_synthetic_sequences(10, 40, m=6, k=3, persistence=0.8, random_state=6)
    ids = d.sequence_ids
    cuts = [0, 55, 130, 222, 300, 400]
    straight = SequenceLabelModel(3, dependencies=[(0, 1)])
    resumed = SequenceLabelModel(3, dependencies=[(0, 1)])
    for step, (a, b) in enumerate(itertools.pairwise(cuts)):
        _quiet(straight.partial_fit, d.L[a:b], ids[a:b])
        _quiet(resumed.partial_fit, d.L[a:b], ids[a:b])
        if step == 2:
            path = tmp_path / "seq.json"
            resumed.save(path)
            resumed = SequenceLabelModel.load(path)
    np.testing.assert_array_equal(resumed.predict_proba(d.L, ids), straight.predict_proba(d.L, ids))
    assert resumed.persistence_ == straight.persistence_
    assert resumed.dependencies_.tolist() == [[0, 1]]
    with pytest.raises(ValueError, match="holds a SequenceLabelModel"):
        LabelModel.load(path)


def test_predict_proba_contract_and_score():
    d = make_synthetic_sequences(8, (3, 30), m=5, persistence=0.9, random_state=7)
    model = SequenceLabelModel().fit(d.L, d.sequence_ids)
    P = model.predict_proba(d.L, d.sequence_ids)
    assert P.shape == (len(d.y), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    # rows follow the given order: reversing the order of whole sequences reverses their blocks
    order = np.concatenate([np.flatnonzero(d.sequence_ids == s) for s in range(7, -1, -1)])
    np.testing.assert_allclose(model.predict_proba(d.L[order], d.sequence_ids[order]), P[order], atol=1e-12)
    assert model.predict_proba(d.L[:0], d.sequence_ids[:0]).shape == (0, 2)
    res = model.score(d.L, d.y, sequence_ids=d.sequence_ids, metrics=["accuracy", "f1"])
    assert set(res) == {"accuracy", "f1"}
    assert res["accuracy"] == pytest.approx(np.mean(P.argmax(axis=1) == d.y))


# -- real data ---------------------------------------------------------------------------


def test_tennis_chain_model_at_least_matches_majority_vote():
    data = load_real("tennis_flyingsquid")
    train, valid = data["train"], data["valid"]
    model = SequenceLabelModel().fit(train.L)
    pred = model.predict(valid.L, tie_break_policy="random")
    mv = MajorityLabelVoter().predict(valid.L, tie_break_policy="random")
    acc, acc_mv = np.mean(pred == valid.y), np.mean(mv == valid.y)
    assert acc >= acc_mv, (acc, acc_mv)
    assert 0.0 < model.persistence_ < 1.0


def test_predict_and_score_take_the_ids_positionally():
    """As the docs write them: predict(L, ids, ...) and score(L, Y, ids, ...) use the ids (not one
    sequence of every row), and a flag or a metric list where the ids go is refused."""
    import warnings

    from tripletws import SequenceLabelModel
    from tripletws.datasets import make_synthetic_sequences

    s = make_synthetic_sequences(20, 50, 6, 2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SequenceLabelModel(2).fit(s.L, s.sequence_ids)
    probs = model.predict_proba(s.L, sequence_ids=s.sequence_ids)
    one_sequence = model.predict_proba(s.L)
    assert not np.allclose(probs, one_sequence)  # the ids matter on this draw
    preds, got = model.predict(s.L, list(s.sequence_ids), return_probs=True)
    np.testing.assert_array_equal(got, probs)
    np.testing.assert_array_equal(preds, model.predict(s.L, sequence_ids=s.sequence_ids))
    np.testing.assert_array_equal(
        model.predict(s.L, s.sequence_ids, tie_break_policy="random"),
        model.predict(s.L, sequence_ids=s.sequence_ids, tie_break_policy="random"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        positional = model.score(s.L, s.y, s.sequence_ids, metrics=["accuracy", "f1"])
        keyword = model.score(s.L, s.y, sequence_ids=s.sequence_ids, metrics=["accuracy", "f1"])
    assert positional == keyword
    with pytest.raises(TypeError, match="pass return_probs= by keyword"):
        model.predict(s.L, True)
    with pytest.raises(TypeError, match="pass metrics= by keyword"):
        model.score(s.L, s.y, ["accuracy", "f1"])
