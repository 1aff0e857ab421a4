"""benchmarks/peers/run_subsets.py: the peers on lf_subsets.py's real-LF subsets, scored alike."""

from __future__ import annotations

import numpy as np
import pytest
from bench_paths import needs_data


@needs_data
def test_default_scores_as_lf_subsets_does_on_the_same_subsets():
    import lf_subsets
    import run_subsets

    sets = [s for s in lf_subsets.shared_sets() if s["name"] in ("youtube", "bluebird")]
    todo = lf_subsets.tasks(sets, draws=1, seed=16)
    drawn = {(t[0]["name"], t[2]) for t in todo}
    assert drawn == {("youtube", 3), ("youtube", 5), ("youtube", 8), ("bluebird", 10), ("bluebird", 20)}
    for ds, cols, size, draw, _ in todo[:2] + todo[-1:]:
        ours = lf_subsets.run_subset((ds, cols, size, draw, {"default": {}}))
        rec = run_subsets.run_subset((ds, cols, size, draw, ("default",)))
        assert rec["lfs"] == cols and rec["mv"] == ours["mv"]
        # the same fit on the same rows: the same expected accuracy, to the rounding of one mean
        assert rec["default"]["acc"] == pytest.approx(ours["default"]["acc"], abs=1e-12)
        assert rec["default"]["f1"] == pytest.approx(ours["default"]["f1"], abs=1e-12)


class _Broken:
    name, transductive, binary_only = "broken", False, False

    def fit(self, L, k):
        raise RuntimeError("boom")


class _Constant:
    """A transductive stand-in: class 0 on every fitted row; records the rows it was fitted on."""

    name, transductive, binary_only = "constant", True, False

    def fit(self, L, k):
        self.rows = np.asarray(L).shape[0]
        self.P = np.tile(np.eye(k)[0], (self.rows, 1))

    def predict_proba(self, L):
        return self.P[self.rows - len(L) :]


def test_a_crash_is_recorded_and_transductive_methods_fit_the_scored_rows_too():
    import run_subsets

    L_fit = np.array([[0, 1, -1], [1, 1, 0], [0, -1, 0], [1, 0, 1]])
    L_eval = np.array([[0, 0, -1], [1, -1, 1]])
    y = np.array([0, 1])
    assert run_subsets.score_method(_Broken(), L_fit, L_eval, y, 2) == {"error": "RuntimeError: boom"}
    method = _Constant()
    out = run_subsets.score_method(method, L_fit, L_eval, y, 2)
    assert method.rows == 6 and out["acc"] == pytest.approx(0.5)  # fitted on 4 + 2 stacked rows
    out = run_subsets.score_method(method, L_eval, L_eval, y, 2)  # a crowd set: the same rows once
    assert method.rows == 2 and out["acc"] == pytest.approx(0.5)


def test_extra_summary_arithmetic():
    import run_subsets

    def rec(name, mv, default, peer):
        r = {"set": name, "mv": {"acc": mv}, "default": {"acc": default}}
        r["peer"] = {"acc": peer} if peer is not None else {"error": "timeout: estimated fit 99 s"}
        return r

    records = [rec("a", 0.60, 0.70, 0.65), rec("a", 0.60, 0.50, 0.60), rec("b", 0.80, 0.79, None)]
    out = run_subsets.extra_summary(records, ["default", "peer"])
    assert out["default"]["mean_acc_over_sets"] == pytest.approx(np.mean([0.60, 0.79]))
    assert out["default"]["share_big_loss"] == pytest.approx(1 / 3)  # 0.50 against 0.60; -0.01 is not big
    assert out["peer"]["finished"] == 2 and out["peer"]["of"] == 3 and out["peer"]["sets"] == 1
    assert out["peer"]["default_minus"] == pytest.approx(np.mean([0.05, -0.10]))
    assert out["peer"]["default_at_or_above"] == pytest.approx(0.5)
    assert out["mv"]["mean_acc_over_sets"] == pytest.approx(0.70)


def test_merge_adds_our_columns_and_refuses_other_subsets():
    import run_subsets

    def results(methods, accs, mv=0.6, lfs=(0, 1, 2), when="then"):
        recs = [
            {"set": "a", "crowd": False, "size": 3, "draw": 0, "lfs": list(lfs), "mv": {"acc": mv, "f1": 0.5}}
        ]
        recs[0].update({m: {"acc": a, "f1": 0.5} for m, a in zip(methods, accs, strict=True)})
        meta = {"methods": list(methods), "ours": f"tripletws @ {when}", "when": when}
        return {"meta": meta, "records": recs}

    old = results(["default", "hyperlm"], [0.7, 0.65])
    out = run_subsets.merge_columns(old, results(["default", "shared"], [0.72, 0.62], when="now"))
    rec = out["records"][0]
    assert rec["default"]["acc"] == 0.72 and rec["shared"]["acc"] == 0.62 and rec["hyperlm"]["acc"] == 0.65
    assert out["meta"]["methods"] == ["default", "shared", "hyperlm"]  # in the runner's order
    assert out["meta"]["merged"] == ["default, shared at tripletws @ now, now"]
    assert out["extra"]["hyperlm"]["default_minus"] == pytest.approx(0.07)
    with pytest.raises(SystemExit, match="other subsets"):
        run_subsets.merge_columns(old, results(["shared"], [0.6], lfs=(0, 1, 3)))
    with pytest.raises(SystemExit, match="majority vote differs"):
        run_subsets.merge_columns(old, results(["shared"], [0.6], mv=0.61))


def test_hyperlm_uncalibrated_where_its_calibration_raises():
    from common import _hyperlm_probs

    class Inner:
        def predict_prob(self, L):
            return np.full((len(L), 2), 0.5)

    class Model:
        unsupervised_HyperLM = Inner()

        def __init__(self, error):
            self.error = error

        def infer(self, L, return_probs=False):
            raise ValueError(self.error)

    L = np.array([[0, 1], [1, 0]])
    out = _hyperlm_probs(Model("zero-size array to reduction operation maximum which has no identity"), L)
    assert out.shape == (2, 2) and np.allclose(out, 0.5)
    with pytest.raises(ValueError, match="something else"):
        _hyperlm_probs(Model("something else"), L)


def test_methods_given_a_known_balance_run_only_where_named():
    import run_subsets

    names = [m.name for m in run_subsets.build_methods(["default", "snorkel"])]
    assert names == ["default", "snorkel"]
    assert "default+balance" not in [m.name for m in run_subsets.build_methods(None, np.array([0.7, 0.3]))]
    balanced = run_subsets.build_methods(list(run_subsets.BALANCED), np.array([0.7, 0.3]))
    assert [m.name for m in balanced] == list(run_subsets.BALANCED)
    snorkel = next(m for m in balanced if m.name == "snorkel+balance")
    assert snorkel.inner.use_prior  # Snorkel uses the balance only with use_prior
    # majority vote keeps its votes and breaks its ties (the row without a vote too) toward class 0
    mv = run_subsets.MVBalance(np.array([0.7, 0.3])).fit(None, 2)
    P = mv.predict_proba(np.array([[1, 1, 0], [0, 1, -1], [-1, -1, -1]]))
    assert P.argmax(axis=1).tolist() == [1, 0, 0] and np.allclose(P.sum(axis=1), 1.0)


@needs_data
def test_ours_given_a_known_balance_uses_it():
    import lf_subsets
    import run_subsets
    from lf_subsets_dev import gold_frequencies

    (ds,) = [s for s in lf_subsets.shared_sets() if s["name"] == "sms"]
    ((ds, cols, size, draw, _),) = lf_subsets.tasks([ds], draws=1, seed=20, lf_sizes=(3,))
    rec = run_subsets.run_subset((ds, cols, size, draw, ("default", "default+balance", "mv+balance")))
    assert gold_frequencies(ds["y"], 2)[0] > 0.5  # ham is the commoner class
    # the rows without a vote (most of sms's) go to ham with the balance, to a coin without it
    assert rec["default+balance"]["acc"] > rec["default"]["acc"] + 0.1
    assert rec["mv+balance"]["acc"] > rec["mv"]["acc"] + 0.1
