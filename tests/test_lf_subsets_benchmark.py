"""The real-LF subset suite (benchmarks/lf_subsets.py): random subsets of the shared sets' LFs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from bench_paths import needs_data

pytestmark = needs_data


def test_subsets_are_distinct_voting_and_seeded():
    import lf_subsets

    sets = [s for s in lf_subsets.shared_sets() if s["name"] in ("spouse_rdp", "youtube", "bluebird")]
    todo = lf_subsets.tasks(sets, draws=6, seed=0)
    by = {}
    for ds, cols, size, _, _ in todo:
        by.setdefault((ds["name"], size), []).append(tuple(cols))
        assert len(cols) == size and cols == sorted(set(cols))
        assert (ds["L_fit"][:, cols] >= 0).any(axis=0).all()  # every drawn LF votes on the fit split
    assert sorted(s for (name, s) in by if name == "youtube") == [3, 5, 8]
    assert len(by["spouse_rdp", 3]) == 4  # 4 LFs hold only 4 subsets of 3, drawn once each
    assert all(len(set(v)) == len(v) for v in by.values())
    crowd_sizes = sorted(s for (name, s) in by if name == "bluebird")  # a quarter and half of 39
    assert crowd_sizes == [10, 20]
    again = lf_subsets.tasks(sets, draws=6, seed=0)
    assert [t[1] for t in again] == [t[1] for t in todo]
    other = lf_subsets.tasks(sets, draws=6, seed=1)
    assert [t[1] for t in other] != [t[1] for t in todo]


def test_run_scores_against_majority_vote_on_the_same_columns(tmp_path):
    import lf_subsets
    from scoring import mv_scores, tie_scores

    out = tmp_path / "subsets.json"
    assert lf_subsets.main(["--draws", "2", "--sets", "youtube", "wsd", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    sets = {s["name"]: s for s in lf_subsets.shared_sets()}
    assert res["meta"]["subsets"] == len(res["records"]) == 2 * 3 + 2 * 2
    for rec in res["records"]:
        ds = sets[rec["set"]]
        acc, _ = tie_scores(mv_scores(ds["L_eval"][:, rec["lfs"]], ds["k"]), ds["y"], ds["k"])
        assert rec["mv"]["acc"] == pytest.approx(acc, abs=1e-12)
        assert 0.0 <= rec["default"]["acc"] <= 1.0 and "error" not in rec["default"]
        # the rows with and without a vote partition the evaluation rows, and their accuracies
        # (row means) average back to the whole: for the default and for majority vote
        parts = rec["default"]["by_rows"]
        n = len(ds["y"])
        assert parts["voted"]["rows"] + parts["unvoted"]["rows"] == n
        assert parts["unvoted"]["rows"] == round(rec["unvoted_eval"] * n)
        for key, whole in (("acc", rec["default"]["acc"]), ("mv_acc", rec["mv"]["acc"])):
            total = sum(p[key] * p["rows"] for p in parts.values() if p["rows"])
            assert total / n == pytest.approx(whole, abs=1e-9)
        assert rec["k"] == ds["k"]
        kinds = rec["default"]["by_kind"]  # no vote, tied votes, a clear majority: the rows again
        assert kinds["unvoted"]["rows"] == parts["unvoted"]["rows"]
        assert kinds["tied"]["rows"] + kinds["clear"]["rows"] == parts["voted"]["rows"]
        total = sum(q["acc"] * q["rows"] for q in kinds.values() if q["rows"]) / n
        assert total == pytest.approx(rec["default"]["acc"], abs=1e-9)
        if parts["unvoted"]["rows"]:  # majority vote leaves a row without a vote to a coin
            assert parts["unvoted"]["mv_acc"] == pytest.approx(1.0 / ds["k"], abs=1e-12)
        decided = rec["default"]["decisions"]
        assert decided["selection"]["chosen"] in ("mv", "one_coin", "mace")
        assert set(decided) == {"selection", "one_class", "abstain", "shrinkage", "unvoted"}
        assert len(decided["unvoted"]) == ds["k"] and sum(decided["unvoted"]) == pytest.approx(1.0)
    summary = res["summary"]["pooled"]["default"]
    diffs = np.array([r["default"]["acc"] - r["mv"]["acc"] for r in res["records"]])
    assert summary["mean"] == pytest.approx(float(diffs.mean()), abs=1e-12)
    assert summary["share_ok"] == pytest.approx(float(np.mean(diffs >= -lf_subsets.TIE)), abs=1e-12)
    md = out.with_suffix(".md").read_text()
    assert "Worst subsets for the default" in md and "youtube" in md


def test_unknown_sets_and_repeated_methods_are_refused(tmp_path):
    import lf_subsets

    with pytest.raises(SystemExit, match="nosuch"):
        lf_subsets.main(["--sets", "nosuch", "--out", str(tmp_path / "x.json")])
    with pytest.raises(SystemExit, match="already among the methods"):
        lf_subsets.main(["--sets", "wsd", "--model-kw", "{}", "--out", str(tmp_path / "x.json")])


def test_the_run_gives_back_the_blas_threads(tmp_path):
    import lf_subsets
    from threadpoolctl import threadpool_info

    before = [pool["num_threads"] for pool in threadpool_info()]
    assert lf_subsets.main(["--draws", "1", "--sets", "wsd", "--out", str(tmp_path / "w.json")]) == 0
    assert [pool["num_threads"] for pool in threadpool_info()] == before


def test_set_applies_a_study_switch_in_every_worker(tmp_path, monkeypatch):
    """``--set`` reaches the fits in worker processes too: with the named-vote rule off (session 45),
    youtube's LF 2 is read against the class it names again, on a subset that holds it."""
    import lf_subsets

    import tripletws.models.annotator as annotator

    monkeypatch.setattr(annotator, "NAMED_VOTES", annotator.NAMED_VOTES)  # restored after main's setting
    runs = {}
    for label, extra in (("on", []), ("off", ["--set", "tripletws.models.annotator:NAMED_VOTES=false"])):
        out = tmp_path / f"{label}.json"
        argv = ["--draws", "20", "--sets", "tubespam_rdp", "--jobs", "2", "--out", str(out), *extra]
        assert lf_subsets.main(argv) == 0
        runs[label] = json.loads(out.read_text())
    assert runs["off"]["meta"]["settings"] == ["tripletws.models.annotator:NAMED_VOTES=false"]
    on = {tuple(r["lfs"]): r["default"]["acc"] for r in runs["on"]["records"]}
    off = {tuple(r["lfs"]): r["default"]["acc"] for r in runs["off"]["records"]}
    assert on.keys() == off.keys()
    assert any(abs(on[c] - off[c]) > 1e-9 for c in on)  # the switch changed some fits in the workers


def test_larger_lf_subsets_on_request(tmp_path):
    import lf_subsets

    sets = [s for s in lf_subsets.shared_sets() if s["name"] in ("cdr_metal", "youtube", "bluebird")]
    todo = lf_subsets.tasks(sets, draws=2, seed=0, lf_sizes=(16, 32))
    drawn = sorted({(t[0]["name"], t[2]) for t in todo})
    # youtube's 10 LFs hold no subset of 16; a crowd keeps its shares
    assert drawn == [("bluebird", 10), ("bluebird", 20), ("cdr_metal", 16), ("cdr_metal", 32)]
    with pytest.raises(SystemExit, match="3 LFs or more"):
        lf_subsets.main(["--lf-sizes", "2", "5", "--out", str(tmp_path / "x.json")])
