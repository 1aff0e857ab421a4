"""benchmarks/lf_subsets_dev.py: a few gold rows on the real-LF subsets, scored on the other rows."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from bench_paths import needs_data

pytestmark = needs_data


def _sets(*names):
    import lf_subsets

    return [s for s in lf_subsets.shared_sets() if s["name"] in names]


def test_gold_rows_are_seeded_and_sized():
    import lf_subsets_dev as dev

    a = dev.dev_rows(250, 50, "youtube", 3, 0, 17)
    assert a.dtype == bool and a.sum() == 50
    assert np.array_equal(a, dev.dev_rows(250, 50, "youtube", 3, 0, 17))
    assert not np.array_equal(a, dev.dev_rows(250, 50, "youtube", 3, 0, 18))  # another seed
    assert not np.array_equal(a, dev.dev_rows(250, 50, "youtube", 3, 1, 17))  # another subset
    assert dev.dev_rows(250, 100, "youtube", 3, 0, 17).sum() == 100


def test_pairs_leave_enough_rows_to_score():
    import lf_subsets_dev as dev

    todo = dev.dev_tasks(_sets("bluebird", "wsd"), draws=1, seed=17, sizes=[50, 100])
    kept = {(t[0]["name"], t[4]) for t in todo}
    # bluebird has 108 evaluation rows, wsd 177: 100 must stay to score
    assert kept == {("wsd", 50)}
    assert all(len(t[0]["y"]) - t[4] >= dev.MIN_SCORED for t in todo)


def test_every_column_is_scored_on_the_rows_left_after_the_gold_rows():
    import lf_subsets_dev as dev
    from scoring import mv_scores, tie_scores

    from tripletws import LabelModel

    (task,) = [t for t in dev.dev_tasks(_sets("youtube"), draws=1, seed=17, sizes=[50]) if t[2] == 3]
    ds, cols, size, draw, n_gold, seed = task
    rec = dev.run_pair(task)
    gold = dev.dev_rows(len(ds["y"]), n_gold, ds["name"], size, draw, seed)
    L_fit, L_eval, y, k = ds["L_fit"][:, cols], ds["L_eval"][:, cols], ds["y"], ds["k"]
    assert rec["dev_rows"] == 50 and rec["lfs"] == cols
    mv = mv_scores(L_eval[~gold], k)
    assert rec["mv"]["acc"] == pytest.approx(tie_scores(mv, y[~gold], k)[0], abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = LabelModel(k).fit(L_fit).predict_proba(L_eval[~gold])
        with_gold = LabelModel(k).fit(L_fit, L_dev=L_eval[gold], Y_dev=y[gold])
        prior_only = LabelModel(k).fit(L_fit, Y_dev=y[gold]).predict_proba(L_eval[~gold])
    assert rec["default"]["acc"] == pytest.approx(tie_scores(plain, y[~gold], k)[0], abs=1e-12)
    got = tie_scores(with_gold.predict_proba(L_eval[~gold]), y[~gold], k)[0]
    assert rec["default+dev"]["acc"] == pytest.approx(got, abs=1e-12)
    assert rec["default+dev"]["chosen"] == with_gold.dev_choice_["chosen"]
    assert rec["default+y_dev"]["acc"] == pytest.approx(tie_scores(prior_only, y[~gold], k)[0], abs=1e-12)
    # majority vote with the gold rows' frequencies breaking its ties, by hand: a strict majority
    # keeps its class; a tie (a row without a vote among them) goes to the more frequent gold class
    # among the tied ones (equal frequencies stay a tie, scored as a coin)
    freq = np.bincount(y[gold], minlength=k)
    top = mv == mv.max(axis=1, keepdims=True)
    best = top & (freq == np.where(top, freq, -1).max(axis=1, keepdims=True))
    by_hand = float(np.mean(best[np.arange(len(mv)), y[~gold]] / best.sum(axis=1)))
    assert rec["mv+dev_prior"]["acc"] == pytest.approx(by_hand, abs=1e-12)


def test_run_writes_a_summary_per_gold_row_count(tmp_path):
    import lf_subsets_dev as dev

    out = tmp_path / "dev.json"
    assert dev.main(["--dev", "50", "100", "--draws", "1", "--sets", "youtube", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["meta"]["records"] == len(res["records"]) == 2 * 3  # 3 subset sizes, 2 gold counts
    assert set(res["summary"]) == {"50", "100"}
    for size, summ in res["summary"].items():
        recs = [r for r in res["records"] if r["dev_rows"] == int(size)]
        for method, big in summ["big_loss"].items():
            d = np.array([r[method]["acc"] - r["mv"]["acc"] for r in recs])
            assert big["all"] == pytest.approx(float(np.mean(d < -0.02)), abs=1e-12)
            assert summ["pooled"][method]["mean"] == pytest.approx(float(d.mean()), abs=1e-12)
        for method, p in summ["paired"].items():  # the reference against each column, record by record
            d = np.array([r[dev.REFERENCE]["acc"] - r[method]["acc"] for r in recs])
            assert p["n"] == len(recs) and p["pooled"] == pytest.approx(float(d.mean()), abs=1e-12)
            assert p["at_or_above"] == pytest.approx(float(np.mean(d >= -dev.TIE)), abs=1e-12)
    assert out.with_suffix(".md").read_text().startswith("# A few gold rows on real-LF subsets")
    with pytest.raises(SystemExit, match="positive"):
        dev.main(["--dev", "0", "--out", str(tmp_path / "x.json")])
    with pytest.raises(SystemExit, match="nosuch"):
        dev.main(["--sets", "nosuch", "--out", str(tmp_path / "x.json")])
