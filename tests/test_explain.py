"""``LabelModel.explain`` and ``tripletws explain``: each LF's term of the posterior's log-scores."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import binary_batching_tolerance
from test_cli import run_main

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.explain import scores_posterior

DATA = Path(os.environ.get("TRIPLETWS_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _fit(L, k=2, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(k, **kw).fit(L)


def _float64_tolerance(lm, m):
    """A float64 posterior against the same sum in another order: m terms of size at most max|log p|,
    each order within m u max of the exact sum (u = 2^-53), times 4 (two sides and the softmax)."""
    logp = np.log(np.maximum(lm.params_.cond_probs, 1e-300))
    return 4.0 * (m + 2) * float(np.abs(logp).max()) * 2.0**-53


def test_terms_sum_to_the_posterior_binary():
    d = make_synthetic(4000, 8, 2, coverage=0.4, random_state=3)
    lm = _fit(d.L)
    rows = d.L[:300]
    e = lm.explain(rows)
    assert e.lfs.shape == (300, 8, 2) and e.prior.shape == (2,) and e.pairs.shape == (300, 0, 2)
    np.testing.assert_array_equal(e.votes, rows)
    # the posterior is the model's, and the softmax of the terms' sum gives it (float32 binary path)
    np.testing.assert_allclose(e.posterior, lm.predict_proba(rows), rtol=0, atol=1e-15)
    tol = binary_batching_tolerance(lm, rows) + _float64_tolerance(lm, 8)
    np.testing.assert_allclose(scores_posterior(e), e.posterior, rtol=0, atol=tol)
    # centred: every term sums to 0 over the classes
    np.testing.assert_allclose(e.lfs.sum(axis=2), 0.0, atol=1e-12)
    np.testing.assert_allclose(e.prior.sum(), 0.0, atol=1e-12)
    # abstentions read as 'not assigned' (a vote-only family) add nothing; each vote's term favours
    # the class it names when the LF is better than chance
    assert lm.family_ in ("mv", "one_coin", "mace")
    np.testing.assert_allclose(e.lfs[rows < 0], 0.0, atol=1e-12)
    r, i = np.nonzero(rows >= 0)
    better = lm.accuracies_[i] > 0.5
    favoured = e.lfs[r, i, rows[r, i]] > 0
    np.testing.assert_array_equal(favoured[better], True)


@pytest.mark.parametrize("accuracies", [None, 0.7])
def test_terms_on_k_classes_and_tied_rows(accuracies):
    """k = 3; with equal accuracies majority vote's model is chosen and its ties go to a second fit."""
    d = make_synthetic(3000, 6, 3, accuracies=accuracies, coverage=0.3, random_state=0)
    lm = _fit(d.L, k=3)
    e = lm.explain(d.L)
    np.testing.assert_allclose(e.posterior, lm.predict_proba(d.L), rtol=0, atol=1e-15)
    free = ~e.tie_broken
    np.testing.assert_allclose(
        scores_posterior(e)[free], e.posterior[free], rtol=0, atol=_float64_tolerance(lm, 6)
    )
    if accuracies is None:
        assert not e.tie_broken.any()
        return
    assert lm.family_ == "mv" and lm.solution_.estimate.tie_break is not None
    t = np.flatnonzero(e.tie_broken)
    assert t.size > 100
    # a tied row's tied classes keep their summed mass under the tables, shared by the second fit
    S = scores_posterior(e)[t]
    top = S >= S.max(axis=1, keepdims=True) - 1e-9
    assert (top.sum(axis=1) >= 2).all()
    np.testing.assert_allclose((e.posterior[t] * top).sum(1), (S * top).sum(1), atol=1e-9)
    assert "a second fit shared their mass" in e.table(int(t[0]))


def test_dependency_edges_add_their_terms():
    d = make_synthetic(4000, 6, 2, coverage=0.5, random_state=7)
    L = d.L.copy()
    L[:, 1] = np.where(np.random.default_rng(0).random(len(L)) < 0.8, L[:, 0], L[:, 1])
    lm = _fit(L, dependencies=[(0, 1)])
    e = lm.explain(L[:200])
    assert e.edges.tolist() == [[0, 1]] and e.pairs.shape == (200, 1, 2)
    assert np.abs(e.pairs).max() > 0
    np.testing.assert_allclose(scores_posterior(e), lm.predict_proba(L[:200]), rtol=0, atol=1e-6)
    assert "edge 0-1" in e.table(int(np.flatnonzero(np.abs(e.pairs[:, 0]).max(1) > 0)[0]))


def test_table_and_frame_name_lfs_and_classes():
    pd = pytest.importorskip("pandas")
    d = make_synthetic(2000, 5, 2, coverage=0.5, random_state=1)
    names = [f"lf_{c}" for c in "abcde"]
    lm = _fit(pd.DataFrame(d.L, columns=names))
    e = lm.explain(pd.DataFrame(d.L[:5], columns=names))
    text = e.table(0)
    voted = [names[i] for i in np.flatnonzero(d.L[0] >= 0)]
    assert all(name in text for name in voted)
    assert "class balance" in text and "posterior" in text and "sum (nats)" in text
    assert "add nothing shown on this row" in text  # the abstaining LFs of a vote-only fit
    # top=0: no LF one by one, every term in the summed line
    assert f"{len(voted)} other LF(s), {len(voted)} voting" in e.table(0, top=0)
    assert not any(name in e.table(0, top=0) for name in names)
    frame = e.to_frame(-1)
    assert list(frame.index) == ["class balance", *names]
    assert list(frame.columns) == ["vote", "class 0", "class 1"]
    assert frame["vote"].iloc[1:].tolist() == d.L[4].tolist()
    np.testing.assert_allclose(frame[["class 0", "class 1"]].to_numpy()[1:], e.lfs[4])
    for bad in (5, -6, 1.0, True):
        with pytest.raises(ValueError, match="row must be an integer"):
            e.table(bad)
    with pytest.raises(ValueError, match="top must be"):
        e.table(0, top=-1)


def test_explain_refuses_what_has_no_terms(monkeypatch):
    d = make_synthetic(1500, 5, 2, coverage=0.5, random_state=2)
    with pytest.raises(ValueError, match=r"not fitted|call fit first"):
        LabelModel(2).explain(d.L)
    stacked = _fit(d.L, combine="stack")
    with pytest.raises(ValueError, match="mixture of families"):
        stacked.explain(d.L[:3])
    lm = _fit(d.L)
    with pytest.raises(ValueError, match=r"at least 3|columns|LFs"):
        lm.explain(d.L[:3, :4])
    import tripletws.explain as explain_module

    monkeypatch.setattr(explain_module, "MAX_CELLS", 20)
    with pytest.raises(ValueError, match="meant for a few rows"):
        lm.explain(d.L[:3])
    da = pytest.importorskip("dask.array")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="compute the rows"):
        lm.explain(da.from_array(d.L[:10], chunks=5))


def test_explain_reads_sparse_rows_as_dense():
    sp = pytest.importorskip("scipy.sparse")
    d = make_synthetic(2000, 6, 3, coverage=0.4, random_state=4)
    lm = _fit(d.L, k=3)
    dense = lm.explain(d.L[:50])
    sparse = lm.explain(sp.csr_array(np.where(d.L[:50] >= 0, d.L[:50] + 1, 0)))
    np.testing.assert_array_equal(sparse.votes, dense.votes)
    np.testing.assert_array_equal(sparse.lfs, dense.lfs)


@pytest.mark.skipif(not (DATA / "youtube").exists(), reason=f"shared data not found at {DATA}")
def test_youtube_abstentions_carry_terms_under_the_coverage_reading():
    """The default reads youtube's one-class LFs' coverage: an abstention there is evidence, and
    its term shows it (the docs' example: test row 3, where only LF 4 votes)."""
    L = np.load(DATA / "youtube" / "train.npz")["L"]
    test = np.load(DATA / "youtube" / "test.npz")["L"]
    lm = _fit(L)
    assert lm.family_ == "mace_coverage"
    e = lm.explain(test[3:4])
    assert (test[3] >= 0).sum() == 1
    abstaining = np.flatnonzero(test[3] < 0)
    assert np.abs(e.lfs[0, abstaining]).max() > 0.1
    tol = binary_batching_tolerance(lm, test[3:4]) + _float64_tolerance(lm, L.shape[1])
    np.testing.assert_allclose(scores_posterior(e), lm.predict_proba(test[3:4]), rtol=0, atol=tol)


def test_cli_explain(tmp_path):
    d = make_synthetic(2000, 6, 2, coverage=0.5, random_state=8)
    np.save(tmp_path / "L.npy", d.L)
    assert run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json").returncode == 0
    res = run_main("explain", tmp_path / "m.json", tmp_path / "L.npy", "--rows", "0,-1", "--top", "2")
    assert res.returncode == 0, res.stderr
    assert "row 0:" in res.stdout and f"row {len(d.L) - 1}:" in res.stdout
    assert res.stdout.count("posterior") == 2
    lm = LabelModel.load(tmp_path / "m.json")
    p = lm.predict_proba(d.L[:1])[0]
    assert f"{p[0]:.3f}" in res.stdout.split("row 0:")[1].split("posterior")[1].splitlines()[0]
    res = run_main("explain", tmp_path / "m.json", tmp_path / "L.npy", "--rows", str(len(d.L)))
    assert res.returncode == 2 and "out of range" in res.stderr
    res = run_main("explain", tmp_path / "m.json", tmp_path / "L.npy", "--rows", "x")
    assert res.returncode == 2 and "comma-separated row numbers" in res.stderr


def test_overrule_drivers_name_the_lfs_trusted_over_the_majority():
    """Two accurate LFs (0.95) among five poor ones (0.6): the model overrules poor majorities, each
    time on an accurate LF's vote, and is right where it does (gold)."""
    from tripletws.overrules import overrule_drivers

    d = make_synthetic(
        5000, 7, 2, accuracies=[0.95, 0.95, 0.6, 0.6, 0.6, 0.6, 0.6], coverage=0.6, random_state=0
    )
    lm = _fit(d.L)
    o = overrule_drivers(lm, d.L)
    C = np.stack([(d.L == c).sum(axis=1) for c in range(2)], axis=1)
    strict = C.max(axis=1) > C.min(axis=1)
    assert o.n_majority == int(strict.sum())
    pred = lm.predict_proba(d.L).argmax(axis=1)
    np.testing.assert_array_equal(o.rows, np.flatnonzero(strict & (pred != C.argmax(axis=1))))
    assert len(o.rows) / o.n_majority == pytest.approx(lm.overrule_rate_, abs=0.01)  # fitted rows = these
    assert {lf for lf, _, _, _ in o.counts()} == {0, 1} and (o.by == "vote").all() and (o.push > 0).all()
    assert sum(n for _, _, n, _ in o.counts()) == len(o.examined) == len(o.rows)
    # the overrules are right far more often than the majorities they overrule (sd of a share of
    # ~300 rows: 0.03)
    assert np.mean(pred[o.rows] == d.y[o.rows]) > 0.75
    capped = overrule_drivers(lm, d.L, max_rows=10)
    np.testing.assert_array_equal(capped.examined, o.rows[:10])
    np.testing.assert_array_equal(capped.driver, o.driver[:10])


def test_report_shows_the_overrules():
    pytest.importorskip("matplotlib")
    from tripletws.report import build_report

    d = make_synthetic(
        3000, 7, 2, accuracies=[0.95, 0.95, 0.6, 0.6, 0.6, 0.6, 0.6], coverage=0.6, random_state=1
    )
    lm = _fit(d.L)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = build_report(lm, d.L, d.y, n_boot=2)
    section = page.split('<section id="overrules">')[1].split("</section>")[0]
    from tripletws.overrules import overrule_drivers

    o = overrule_drivers(lm, d.L)
    assert f"on {len(o.rows)} of the {o.n_majority} rows that have one" in section
    assert "with gold the model is right on" in section
    assert "<td>LF 0</td>" in section or "LF 0" in section
    stacked = _fit(d.L, combine="stack")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page = build_report(stacked, d.L, n_boot=2)
    assert "Not shown" in page.split('<section id="overrules">')[1].split("</section>")[0]


def test_evaluate_reports_the_overruled_majorities(tmp_path):
    import json

    from tripletws.overrules import overrule_drivers

    d = make_synthetic(
        3000, 7, 2, accuracies=[0.95, 0.95, 0.6, 0.6, 0.6, 0.6, 0.6], coverage=0.6, random_state=4
    )
    np.save(tmp_path / "L.npy", d.L)
    np.save(tmp_path / "y.npy", d.y)
    assert run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json").returncode == 0
    res = run_main("evaluate", tmp_path / "m.json", tmp_path / "L.npy", tmp_path / "y.npy", "--json")
    assert res.returncode == 0, res.stderr
    rec = json.loads(res.stdout)["overruled"]
    lm = LabelModel.load(tmp_path / "m.json")
    o = overrule_drivers(lm, d.L)
    assert rec["rows"] == len(o.rows) > 0 and rec["majority_rows"] == o.n_majority
    assert rec["gold_rows"] == len(o.rows)  # every row has gold
    assert [(r["lf"], r["by"], r["rows"]) for r in rec["drivers"]] == [
        (f"LF {lf}", by, n) for lf, by, n, _ in o.counts()
    ]
    right = lm.predict(d.L[o.rows], tie_break_policy="random") == d.y[o.rows]
    assert rec["label model"] == pytest.approx(right.mean(), abs=1e-12)
    assert rec["label model"] > rec["majority vote"]  # the accurate LFs are right to overrule
    text = run_main("evaluate", tmp_path / "m.json", tmp_path / "L.npy", tmp_path / "y.npy").stdout
    assert f"strict majority on {len(o.rows)} of {o.n_majority} rows" in text


def test_a_strong_prior_is_named_as_the_driver():
    """Weak LFs (0.65) under a given balance of 0.1 / 0.9: the prior outweighs a one-vote majority for
    class 0, and the drivers name the class balance."""
    from tripletws.overrules import overrule_drivers

    d = make_synthetic(3000, 6, 2, accuracies=0.65, coverage=0.3, random_state=0)
    lm = _fit(d.L, class_balance=[0.1, 0.9])
    o = overrule_drivers(lm, d.L)
    assert len(o.rows) > 100
    (lf, by, n, push), *_ = o.counts()
    assert (lf, by, n) == (-1, "class balance", len(o.rows))
    assert push == pytest.approx(np.log(9.0))  # log(0.9 / 0.1): the centred prior's difference


def test_cli_rows_from_the_end_and_top_all(tmp_path):
    d = make_synthetic(1000, 6, 2, coverage=0.5, random_state=9)
    np.save(tmp_path / "L.npy", d.L)
    assert run_main("fit", tmp_path / "L.npy", "-o", tmp_path / "m.json").returncode == 0
    for rows in (("-1", "0"), ("--rows=-1,0",)):
        args = ("--rows", *rows) if rows[0] == "-1" else rows
        res = run_main("explain", tmp_path / "m.json", tmp_path / "L.npy", *args)
        assert res.returncode == 0, res.stderr
        assert res.stdout.index(f"row {len(d.L) - 1}:") < res.stdout.index("row 0:")
    res = run_main("explain", tmp_path / "m.json", tmp_path / "L.npy", "--rows", "0", "--top", "all")
    assert res.returncode == 0 and "other LF(s)" not in res.stdout
    res = run_main("explain", tmp_path / "m.json", tmp_path / "L.npy", "--rows", "0", "--top", "0")
    assert res.returncode == 0 and "other LF(s)" in res.stdout
    res = run_main("explain", tmp_path / "m.json", tmp_path / "L.npy", "--rows", "0", "--top", "-2")
    assert res.returncode == 2 and "'all'" in res.stderr


def test_overrule_drivers_check_the_columns_and_inputs():
    pd = pytest.importorskip("pandas")
    from tripletws.overrules import overrule_drivers

    d = make_synthetic(2000, 6, 2, accuracies=[0.95, 0.95, 0.6, 0.6, 0.6, 0.6], coverage=0.6, random_state=3)
    names = [f"lf_{i}" for i in range(6)]
    lm = _fit(pd.DataFrame(d.L, columns=names))
    with pytest.raises(ValueError, match="another order"):
        overrule_drivers(lm, pd.DataFrame(d.L, columns=names)[names[::-1]])
    with pytest.raises(ValueError, match="max_rows"):
        overrule_drivers(lm, d.L, max_rows=0)
    with pytest.raises(ValueError, match="fitted LabelModel"):
        from tripletws import MajorityLabelVoter

        overrule_drivers(MajorityLabelVoter(2), d.L)
    with pytest.raises(ValueError, match="fitted with 6"):
        overrule_drivers(lm, d.L[:, :5])
    named = overrule_drivers(lm, pd.DataFrame(d.L, columns=names))
    plain = overrule_drivers(lm, d.L)
    np.testing.assert_array_equal(named.rows, plain.rows)


def test_labelled_classes_print_their_labels():
    """A crowd's classes keep their labels: the vote column shows them, a class named 'vote' too."""
    pytest.importorskip("pandas")
    from tripletws.crowd import from_answers

    d = make_synthetic(800, 6, 2, coverage=0.6, random_state=5)
    r, c = np.nonzero(d.L >= 0)
    import pandas as pd

    labels = np.array(["vote", "spam"], dtype=object)
    answers = pd.DataFrame({"task": r, "worker": [f"w{j}" for j in c], "label": labels[d.L[r, c]]})
    crowd = from_answers(answers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel().fit(crowd.votes)
    e = lm.explain(crowd.L[:3])  # (sparse: class c stored as c + 1)
    assert set(e.class_names) == {"vote", "spam"}
    row = int(np.flatnonzero((e.votes >= 0).any(axis=1))[0])
    i = int(np.flatnonzero(e.votes[row] >= 0)[0])
    label = e.class_names[e.votes[row, i]]
    assert e.vote_labels == e.class_names
    line = next(t for t in e.table(row, top=None).splitlines() if t.startswith(e.lf_names[i] + " "))
    assert label in line
    frame = e.to_frame(row)
    assert frame.columns[0] == "LF vote"
    assert frame["LF vote"].iloc[1 + i] == label
