"""Combining the vote-only families (``LabelModel(combine=...)``): weights and the mixture posterior."""

from __future__ import annotations

import numpy as np
import pytest
from test_annotator import draw_mace

from tripletws import LabelModel
from tripletws.estimators.family_weights import pseudo_bma_weights, stacking_weights
from tripletws.estimators.heldout import HeldOutScores
from tripletws.inference import mixture_posterior, posterior
from tripletws.matrix import check_label_matrix
from tripletws.params import LabelModelParams

FAMS = ("mv", "one_coin", "mace")


def one_fold(per_row: dict[str, np.ndarray], counts: np.ndarray | None = None) -> HeldOutScores:
    n = len(next(iter(per_row.values())))
    c = np.ones(n) if counts is None else counts.astype(float)
    return HeldOutScores(c[None, :], {f: v[None, :].astype(float) for f, v in per_row.items()})


def test_stacking_recovers_a_mixture_weight_of_disjoint_components():
    # rows from component a score 0 under a and -700 under b (and the reverse): the objective is
    # sum_r log(w_a 1[r in a] + w_b 1[r in b]), maximised at w_a = the share of a's rows exactly
    rng = np.random.default_rng(0)
    n, share = 5_000, 0.3
    from_a = rng.random(n) < share
    s_a, s_b = np.where(from_a, 0.0, -700.0), np.where(from_a, -700.0, 0.0)
    w = stacking_weights(one_fold({"a": s_a, "b": s_b}), ("a", "b"))
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    # EM's stopping rule (objective per row rising < 1e-10) leaves the weight within ~1e-4 of it
    assert w[0] == pytest.approx(from_a.mean(), abs=1e-3)


def test_a_family_worse_on_every_row_gets_weight_zero():
    # its gradient is e^-1 < 1 at every point of the simplex: the optimum puts it at 0 exactly,
    # which EM alone only approaches (the KKT step sets it there)
    rng = np.random.default_rng(3)
    s = rng.normal(-2.0, 1.0, 500)
    w = stacking_weights(one_fold({"a": s, "b": s - 1.0}), ("a", "b"))
    assert w.tolist() == [1.0, 0.0]


def test_stacking_weights_maximise_the_held_out_log_score():
    rng = np.random.default_rng(1)
    n = 2_000
    S = {f: rng.normal(-3.0 - 0.1 * i, 1.0, n) for i, f in enumerate(FAMS)}
    counts = rng.integers(1, 4, n)
    scores = one_fold(S, counts)
    w = stacking_weights(scores, FAMS)
    E = np.exp(np.stack([S[f] for f in FAMS]))

    def objective(v):
        return float(counts @ np.log(v @ E))

    best = objective(w)
    for v in rng.dirichlet(np.ones(3), size=300):  # no point of the simplex does better (concave)
        assert objective(v) <= best + 1e-6 * counts.sum()
    # row counts are weights: repeating the rows gives the same answer
    rep = one_fold({f: np.repeat(S[f], counts) for f in FAMS})
    np.testing.assert_allclose(stacking_weights(rep, FAMS), w, atol=1e-4)


def test_pseudo_bma_weights():
    rng = np.random.default_rng(2)
    n = 1_000
    base = rng.normal(-2.0, 1.0, n)
    # equal scores: every bootstrap draw gives equal weights
    np.testing.assert_allclose(pseudo_bma_weights(one_fold({"a": base, "b": base}), ("a", "b")), 0.5)
    # a lead of 10 standard errors: all the weight
    d = rng.normal(0.0, 1.0, n)
    d = d - d.mean() + 10.0 / np.sqrt(n)
    w = pseudo_bma_weights(one_fold({"a": base, "b": base + d}), ("a", "b"))
    assert w[1] > 1 - 1e-6
    # a lead of exactly 0 with noise: the share of draws each wins, 1/2 up to the draws' noise
    # (1000 draws: standard error 0.016; 4 of them)
    d = d - d.mean()
    w = pseudo_bma_weights(one_fold({"a": base, "b": base + d}), ("a", "b"))
    assert w[1] == pytest.approx(0.5, abs=4 * 0.5 / np.sqrt(1000))


def brute_mixture(L, comps, w):
    n, k = L.shape[0], comps[0].cardinality
    out = np.zeros((n, k))
    for p, wf in zip(comps, w, strict=True):
        for r in range(n):
            for y in range(k):
                out[r, y] += (
                    wf
                    * p.class_balance[y]
                    * np.prod([p.cond_probs[i, L[r, i] + 1, y] for i in range(L.shape[1])])
                )
    return out / out.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("k", [2, 4])
def test_mixture_posterior_is_the_posterior_of_the_mixture(k):
    rng = np.random.default_rng(k)
    m, n = 5, 200
    comps = []
    for _ in range(3):
        cp = rng.dirichlet(np.ones(k + 1), size=(m, k)).transpose(0, 2, 1)  # (m, k + 1, k)
        comps.append(LabelModelParams(rng.dirichlet(np.ones(k)), cp))
    L = rng.integers(-1, k, size=(n, m))
    w = np.array([0.2, 0.5, 0.3])
    lm = check_label_matrix(L, k)
    P = mixture_posterior(lm, comps, w)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(P, brute_mixture(L, comps, w), rtol=1e-9, atol=1e-12)
    # one live component: that model's posterior
    np.testing.assert_allclose(
        mixture_posterior(lm, comps, np.array([0.0, 1.0, 0.0])), posterior(lm, comps[1]), atol=1e-6
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_mace_data_give_mace_the_weight(seed, tmp_path):
    rng = np.random.default_rng(seed)
    k, m, n = 3, 6, 6_000
    theta = np.linspace(0.3, 0.8, m)
    xi = rng.dirichlet(2 * np.ones(k), size=m)
    L, _ = draw_mace(n, theta, xi, np.full(m, 0.6), k, rng)
    for rule in ("stack", "pseudo_bma"):
        model = LabelModel(k, combine=rule).fit(L)
        w = model.selection_.weights
        assert set(w) == set(FAMS) and sum(w.values()) == pytest.approx(1.0, abs=1e-9)
        # the weight left to the simpler families shrinks like a mixture weight's standard error,
        # of order 1 / sqrt(n) (0.013 here); 5 of them
        assert w["mace"] >= 1 - 5 / np.sqrt(n)
        P = model.predict_proba(L[:500])
        np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
        model.save(tmp_path / f"{rule}.json")
        again = LabelModel.load(tmp_path / f"{rule}.json")
        assert again.selection_.weights == pytest.approx(w)
        np.testing.assert_allclose(again.predict_proba(L[:500]), P, atol=1e-12)
    assert LabelModel(k).fit(L).selection_.weights == {}


def test_unknown_combine_is_refused():
    with pytest.raises(ValueError, match="combine"):
        LabelModel(2, combine="average").fit(np.array([[0, 1], [1, 1], [0, 0]]))


def test_the_mixture_reaches_dask_and_the_cli(tmp_path):
    from test_cli import ok

    rng = np.random.default_rng(5)
    k, m, n = 3, 6, 4_000
    L, _ = draw_mace(
        n, np.linspace(0.3, 0.8, m), rng.dirichlet(2 * np.ones(k), size=m), np.full(m, 0.6), k, rng
    )
    model = LabelModel(k, combine="stack").fit(L)
    assert model.selection_.weights  # a mixture, not one family
    P = model.predict_proba(L)
    da = pytest.importorskip("dask.array")
    lazy = model.predict_proba(da.from_array(L, chunks=(700, m)))
    # the same mixture row by row; only the blocks' chunking differs
    np.testing.assert_allclose(lazy.compute(), P, rtol=1e-12, atol=1e-12)
    np.save(tmp_path / "L.npy", L)
    ok("fit", tmp_path / "L.npy", "-k", str(k), "--combine", "stack", "-o", tmp_path / "m.json")
    again = LabelModel.load(tmp_path / "m.json")
    assert again.selection_.weights == pytest.approx(model.selection_.weights)
    np.testing.assert_allclose(again.predict_proba(L), P, atol=1e-12)
