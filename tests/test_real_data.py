"""Label quality on the shared real label matrices, against majority vote in the same test.

The model is fitted on the fit split's votes only (no gold), then scored on the
evaluation split with the same hash tie-break ("random") as majority vote.  It must
not be worse than MV by more than two standard errors of a difference of two
proportions on n_eval rows: 2 * sqrt(a_mv (1 - a_mv) / n + a_lm (1 - a_lm) / n).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import load_real

from tripletws import LabelModel, MajorityLabelVoter

DATASETS = ["youtube", "sms", "tubespam_rdp", "trec", "bluebird"]


def compare_with_majority_vote(name: str, subset_seed: int | None = None) -> dict[str, float]:
    """The default against majority vote on the eval split; fitted on all the fit split's rows, or on a
    seeded random 80 % of them (``subset_seed``)."""
    ds = load_real(name)
    fit, ev = ds[ds.fit_split], ds[ds.eval_split or ds.fit_split]
    k = ds.n_class
    metrics = ["accuracy", "f1" if k == 2 else "f1_macro"]
    gold = ev.y >= 0
    L, y = ev.L[gold], ev.y[gold]
    L_fit = fit.L
    if subset_seed is not None:
        n_fit = L_fit.shape[0]
        L_fit = L_fit[np.sort(np.random.default_rng(subset_seed).permutation(n_fit)[: int(0.8 * n_fit)])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # per-LF notes on real LFs
        model = LabelModel(cardinality=k).fit(L_fit)
    lm = model.score(L, y, metrics, tie_break_policy="random")
    mv = MajorityLabelVoter(k).score(L, y, metrics, tie_break_policy="random")
    return {
        "n": len(y),
        "lm_acc": lm["accuracy"],
        "mv_acc": mv["accuracy"],
        "lm_f1": lm[metrics[1]],
        "mv_f1": mv[metrics[1]],
    }


@pytest.mark.parametrize("subset_seed", [None, 0, 1])
@pytest.mark.parametrize("name", DATASETS)
def test_not_worse_than_majority_vote(name: str, subset_seed: int | None) -> None:
    # also fitted on 80 % of the rows: before session 12, trec so fitted read abstentions as informative
    # and scored 0.378 against majority vote's 0.611 (all rows: 0.607)
    r = compare_with_majority_vote(name, subset_seed)
    n, a, b = r["n"], r["lm_acc"], r["mv_acc"]
    margin = 2 * np.sqrt(a * (1 - a) / n + b * (1 - b) / n)
    assert a >= b - margin, (
        f"{name}: label model {a:.4f} vs majority vote {b:.4f} (n={n}, margin {margin:.4f})"
    )
    assert np.isfinite(r["lm_f1"]) and np.isfinite(r["mv_f1"])


def test_probabilities_are_valid_on_real_data() -> None:
    ds = load_real("sms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        probs = LabelModel().fit(ds["train"].L).predict_proba(ds["test"].L)
    assert np.all(np.isfinite(probs)) and np.allclose(probs.sum(axis=1), 1.0)
