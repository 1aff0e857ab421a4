"""benchmarks/peers/run_subsets_dev.py: the peers given the same gold rows on the real-LF subsets."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from bench_paths import needs_data


@needs_data
def test_our_columns_are_lf_subsets_dev_s_on_the_same_gold_rows():
    import lf_subsets
    import lf_subsets_dev
    import run_subsets_dev

    sets = [s for s in lf_subsets.shared_sets() if s["name"] == "youtube"]
    (task,) = [t for t in lf_subsets_dev.dev_tasks(sets, draws=1, seed=17, sizes=[50]) if t[2] == 5]
    ours = lf_subsets_dev.run_pair(task)
    rec = run_subsets_dev.run_pair((*task, ("default+dev", "default+y_dev", "shared+dev")))
    assert rec["lfs"] == ours["lfs"] and rec["mv"] == ours["mv"] and rec["dev_rows"] == 50
    assert rec["mv+dev_prior"] == ours["mv+dev_prior"]
    for name in ("default+dev", "default+y_dev", "shared+dev"):
        assert rec[name]["acc"] == pytest.approx(ours[name]["acc"], abs=1e-12)
        assert rec[name]["f1"] == pytest.approx(ours[name]["f1"], abs=1e-12)
    assert rec["default+dev"]["chosen"] == ours["default+dev"]["chosen"]


@needs_data
def test_a_crash_is_recorded_and_binary_only_methods_skip_multiclass_sets(monkeypatch):
    import lf_subsets
    import lf_subsets_dev
    import run_subsets_dev

    def broken(name, *args):
        raise RuntimeError(f"boom {name}")

    monkeypatch.setattr(run_subsets_dev, "gold_probs", broken)
    sets = [s for s in lf_subsets.shared_sets() if s["name"] in ("youtube", "wsd")]
    for task in (
        lf_subsets_dev.dev_tasks(sets, draws=1, seed=17, sizes=[50])[:1]
        + [t for t in lf_subsets_dev.dev_tasks(sets, draws=1, seed=17, sizes=[50]) if t[0]["name"] == "wsd"][
            :1
        ]
    ):
        rec = run_subsets_dev.run_pair((*task, ("snorkel+y_dev", "flyingsquid+y_dev")))
        assert rec["snorkel+y_dev"] == {"error": "RuntimeError: boom snorkel+y_dev"}
        if task[0]["k"] == 2:
            assert "error" in rec["flyingsquid+y_dev"]
        else:
            assert "flyingsquid+y_dev" not in rec  # k = 3: not scored, not a crash


def test_hyperlm_gets_the_gold_rows_where_its_reordered_matrix_holds_them(monkeypatch):
    """The adapter moves the rows without a vote first; the gold indices must follow them."""
    seen = {}

    class FakeModel:
        def __init__(self, device):
            self.device, self.checkpoint_path = device, "none"

        def infer(self, L, return_probs=False, y_indices=None, y_vals=None):
            seen["L"], seen["idx"], seen["vals"] = np.asarray(L), y_indices, y_vals
            assert isinstance(y_vals, np.ndarray)  # a list would compare False with each class
            return np.tile([0.3, 0.7], (len(L), 1))

    monkeypatch.setitem(sys.modules, "hyperlm", types.SimpleNamespace(HyperLabelModel=FakeModel))
    from common import HyperLM

    L = np.array([[0, 1, -1], [-1, -1, -1], [1, 1, 0], [-1, -1, -1], [0, -1, 0], [1, -1, -1]])
    gold = (np.array([2, 4, 5]), np.array([1, 0, 1]))
    method = HyperLM().fit(L, 2, gold=gold)
    # the rows the fake saw at the gold indices are the gold rows, with their labels
    assert np.array_equal(seen["L"][seen["idx"]], L[gold[0]])
    assert np.array_equal(seen["vals"], gold[1])
    # rows without a vote stay a coin; the rest are the model's, back in the caller's order
    assert np.allclose(method.P[[1, 3]], 0.5) and np.allclose(method.P[[0, 2, 4, 5]], [0.3, 0.7])
