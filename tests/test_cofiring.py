"""Co-firing of one-class LFs naming different classes (``diagnostics.cofiring_candidates``)."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from conftest import load_real

from tripletws import LabelModel, cofiring_candidates
from tripletws.datasets import make_synthetic
from tripletws.diagnostics import untested_pairs
from tripletws.stats import compute_stats


def one_class_matrix(
    n: int,
    classes: list[int],
    on: float,
    off: float,
    *,
    k: int = 3,
    shared: tuple[int, int] | None = None,
    lift: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows (n, m) of one-class LFs: LF i votes ``classes[i]``, firing with probability ``on`` on
    that class and ``off`` elsewhere, independently given the class.  ``shared = (i, j)``: those two
    also fire with probability ``lift`` more on the rows of a hidden feature held by a third of the
    rows, whatever their class (a shared feature)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    feature = rng.random(n) < 1 / 3
    L = np.full((n, len(classes)), -1, dtype=np.int8)
    for i, c in enumerate(classes):
        p = np.where(y == c, on, off)
        if shared is not None and i in shared:
            p = np.clip(p + lift * feature, 0.0, 1.0)
        L[rng.random(n) < p, i] = c
    return L, y


def fit(L: np.ndarray, k: int = 3, **kw) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one-class LFs: the fit's notes are not under test here
        return LabelModel(cardinality=k, **kw).fit(L)


def test_independent_oriented_lfs_flag_nothing():
    # under conditional independence, LFs firing more on their own class fire together less often
    # than independent coins: every z is well below 0 here, so no seed may flag a pair
    for seed in range(8):
        L, _ = one_class_matrix(4000, [0, 0, 1, 1, 2, 2], on=0.6, off=0.1, seed=seed)
        rows = cofiring_candidates(L, fit(L), as_frame=False)
        assert len(rows) == 12  # the pairs naming different classes; same-class pairs are not tested
        assert not any(r["suspect"] for r in rows)
        assert max(r["z"] for r in rows) < 0


def test_null_law_where_firing_ignores_the_class():
    # LFs that fire independently of everything sit on the test's boundary (covariance 0): the
    # one-sided p-values are then about uniform, so about 5 % fall below 0.05
    pvals = []
    for seed in range(40):
        L, _ = one_class_matrix(3000, [0, 1, 2, 0, 1, 2], on=0.3, off=0.3, seed=100 + seed)
        pvals += [r["p_value"] for r in cofiring_candidates(L, fit(L), as_frame=False)]
    n = len(pvals)
    share = np.mean(np.asarray(pvals) < 0.05)
    # the 12 pairs of a seed share rows, so allow 4 binomial standard errors of the 40 seeds' pairs
    assert abs(share - 0.05) < 4 * math.sqrt(0.05 * 0.95 / n)
    assert 0.35 < np.mean(pvals) < 0.65


def test_a_shared_feature_is_the_top_pair():
    L, _ = one_class_matrix(5000, [0, 1, 2, 0, 1, 2], on=0.5, off=0.1, shared=(1, 5), lift=0.4, seed=7)
    rows = cofiring_candidates(L, fit(L), as_frame=False)
    top = rows[0]
    assert (top["lf_i"], top["lf_j"], top["class_i"], top["class_j"]) == (1, 5, 1, 2)
    assert top["suspect"] and top["z"] > 5 and top["excess"] > 0
    assert not any(r["suspect"] for r in rows[1:])
    assert [r["z"] for r in rows] == sorted((r["z"] for r in rows), reverse=True)


def test_an_lf_firing_on_another_class_is_flagged():
    # LF 3 names class 0 but fires on class 1's rows: it fires together with LF 1 (class 1)
    L, y = one_class_matrix(5000, [0, 1, 2, 0], on=0.5, off=0.05, seed=3)
    rng = np.random.default_rng(4)
    L[:, 3] = np.where((y == 1) & (rng.random(len(y)) < 0.5), 0, -1)
    rows = cofiring_candidates(L, fit(L), as_frame=False)
    assert (rows[0]["lf_i"], rows[0]["lf_j"]) == (1, 3) and rows[0]["suspect"]


def test_z_squared_is_pearsons_chi_square_of_the_pair():
    from scipy.stats import chi2_contingency

    L, _ = one_class_matrix(3000, [0, 1, 2], on=0.5, off=0.2, shared=(0, 2), lift=0.3, seed=11)
    for r in cofiring_candidates(L, fit(L), as_frame=False):
        a, b = L[:, r["lf_i"]] >= 0, L[:, r["lf_j"]] >= 0
        table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
        chi2 = chi2_contingency(table, correction=False)[0]
        assert r["z"] ** 2 == pytest.approx(chi2, rel=1e-9)
        assert r["cofiring"] == pytest.approx(np.mean(a & b)) and r["n_rows"] == 3000
        assert r["expected"] == pytest.approx(np.mean(a) * np.mean(b))


def test_sources_of_the_statistics_agree():
    pd = pytest.importorskip("pandas")
    L, _ = one_class_matrix(2000, [0, 1, 2, 2], on=0.5, off=0.1, seed=5)
    model = fit(L)
    from_matrix = cofiring_candidates(L, model)
    assert isinstance(from_matrix, pd.DataFrame) and list(from_matrix.columns)[:4] == [
        "lf_i",
        "lf_j",
        "class_i",
        "class_j",
    ]
    from_model = cofiring_candidates(None, model)
    from_stats = cofiring_candidates(compute_stats(L, 3), model)
    for other in (from_model, from_stats):
        assert np.allclose(other["z"].to_numpy(), from_matrix["z"].to_numpy(), rtol=1e-12, atol=0)
    assert len(cofiring_candidates(L, model, top=2)) == 2


def test_pairs_left_out():
    rng = np.random.default_rng(0)
    L, _ = one_class_matrix(2000, [0, 1, 0, 2], on=0.5, off=0.1, seed=9)
    L = np.column_stack([L, rng.integers(-1, 3, len(L)).astype(np.int8)])  # LF 4 votes every class
    L[:, 3] = np.where(np.arange(len(L)) < 4, 2, -1)  # LF 3 fires on 4 rows only
    model = fit(L)
    rows = cofiring_candidates(L, model, as_frame=False)
    # tested: pairs of one-class LFs naming different classes ((0, 2) name the same one; LF 4 votes
    # every class) with 5 co-firing rows expected under independence (LF 3's pairs expect fewer)
    assert sorted((r["lf_i"], r["lf_j"]) for r in rows) == [(0, 1), (1, 2)]
    every = cofiring_candidates(L, model, min_expected=0, as_frame=False)
    assert sorted((r["lf_i"], r["lf_j"]) for r in every) == [(0, 1), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert untested_pairs(compute_stats(L, 3))["other_class"] == 5
    declared = fit(L, model="symmetric", dependencies=[(0, 1)])
    assert [(r["lf_i"], r["lf_j"]) for r in cofiring_candidates(L, declared, as_frame=False)] == [(1, 2)]
    listed = cofiring_candidates(L, declared, include_declared=True, as_frame=False)
    assert [r["declared"] for r in sorted(listed, key=lambda r: r["lf_i"])] == [True, False]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"alpha": 0}, "alpha must be a number in \\(0, 1\\)"),
        ({"alpha": True}, "alpha must be a number in \\(0, 1\\)"),
        ({"min_expected": -1}, "min_expected must be a number >= 0"),
        ({"min_expected": float("nan")}, "min_expected must be a number >= 0"),
        ({"top": 0}, "top must be an integer >= 1"),
    ],
)
def test_bad_arguments_are_named(kw, message):
    L, _ = one_class_matrix(500, [0, 1, 2], on=0.5, off=0.1, seed=1)
    with pytest.raises(ValueError, match=message):
        cofiring_candidates(L, fit(L), **kw)


def test_unfitted_model_and_other_width_are_refused():
    L, _ = one_class_matrix(500, [0, 1, 2], on=0.5, off=0.1, seed=1)
    with pytest.raises(ValueError, match="fitted label model"):
        cofiring_candidates(L, LabelModel(cardinality=3))
    with pytest.raises(ValueError, match="data has m=2, k=3 but the model has m=3, k=3"):
        cofiring_candidates(compute_stats(L[:, :2], 3), fit(L))
    with pytest.raises(ValueError, match="data has m=3, k=4 but the model has m=3, k=3"):
        cofiring_candidates(compute_stats(L, 4), fit(L))


def test_youtube_lfs_sharing_a_feature():
    # LF 2 (spam) fires with the ham LF 6 on 39 % of its rows, against 23 % overall: the pair the
    # default's coverage reading absorbs by reading LF 2 against its class (docs/studies.md)
    L = load_real("youtube").splits["train"].L  # skipped where ../shared/data is absent
    model = fit(L, k=2)
    rows = cofiring_candidates(L, model, as_frame=False)
    assert (rows[0]["lf_i"], rows[0]["lf_j"]) == (2, 6) and rows[0]["suspect"]
    assert sum(r["suspect"] for r in rows) == 1
    # the fit's note on the LF read against its class points to the test (its vote counts as neutral
    # since session 45: tests/test_named_votes.py), and the coverage reading's note names the pair
    assert not [n for n in model.notes_ if "worse than chance" in n]
    (note,) = [n for n in model.notes_ if "fit reads their firing as likelier under another class" in n]
    assert note.startswith("LF(s) 2 vote one class only") and "cofiring_candidates" in note
    (reading,) = [n for n in model.notes_ if "are read as evidence of the class" in n]
    assert "which this reading may take for the class: 2 and 6 (z = 5.6)" in reading


def test_command_line(tmp_path):
    import json

    from test_cli import run_main

    L, _ = one_class_matrix(5000, [0, 1, 2, 0, 1, 2], on=0.5, off=0.1, shared=(1, 5), lift=0.4, seed=7)
    np.save(tmp_path / "L.npy", L)
    model = tmp_path / "m.json"
    assert run_main("fit", tmp_path / "L.npy", "-o", model, "--cardinality", "3").returncode == 0
    plain = run_main("dependencies", model, tmp_path / "L.npy")
    assert plain.returncode == 0 and "--cofiring tests how often they fire together" in plain.stdout
    text = run_main("dependencies", model, tmp_path / "L.npy", "--cofiring", "--top", "2")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[1].split()[:2] == ["pair", "classes"] and lines[2].split()[:2] == ["1-5", "1-2"]
    assert lines[2].split()[-1] == "yes" and len(lines) == 4
    out = run_main("dependencies", model, "--cofiring", "--json")  # the model's own statistics
    rows, direct = json.loads(out.stdout), cofiring_candidates(L, fit(L), as_frame=False)
    assert [(r["lf_i"], r["lf_j"], r["suspect"]) for r in rows] == [
        (r["lf_i"], r["lf_j"], r["suspect"]) for r in direct
    ]
    assert [r["z"] for r in rows] == pytest.approx([r["z"] for r in direct], rel=1e-12)
    none = run_main("dependencies", model, "--cofiring", "--min-expected", "1e9")
    assert none.returncode == 0 and "no pair tested: no two LFs that each vote one class only" in none.stdout
    bad = run_main("dependencies", model, "--cofiring", "--min-expected", "-1")
    assert bad.returncode == 2 and "--min-expected must be 0 or more, got -1" in bad.stderr


def test_report_lists_cofiring_pairs_of_one_class_lfs():
    pytest.importorskip("matplotlib")
    L, _ = one_class_matrix(5000, [0, 1, 2, 0, 1, 2], on=0.5, off=0.1, shared=(1, 5), lift=0.4, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the intervals' note on the uniform balance, not under test
        text = fit(L).report(L, n_boot=2, random_state=0)
        other = make_synthetic(3000, 6, 3, coverage=0.4, random_state=1).L
        other_text = fit(other).report(other, n_boot=2, random_state=0)
    section = text[text.index('<section id="dependencies">') :]
    section = section[: section.index("</section>")]
    assert "fire together at most that often" in section
    first = re.search(r"<td[^>]*>LF 1 – LF 5</td><td[^>]*>1 – 2</td>", section)
    assert first is not None and section.index("LF 1 – LF 5") < section.index("LF 0 – LF 1")
    # LFs that vote several classes: the agreement test only, as before
    assert "fire together" not in other_text


@pytest.mark.parametrize("lift", [0.0, 0.4])
def test_the_coverage_readings_note_names_pairs_firing_together(lift):
    # two-class one-class LFs: the default reads their coverage; LFs 0 (class 0) and 1 (class 1) share a
    # feature when lift > 0, and the reading's note then names them with the test's z.  Four LFs of class 0
    # and two of class 1: a row without a vote is likelier under class 1 with either balance, so the
    # reading is not refused for leaving those rows to the balance (coverage_check.UNVOTED_FLIP)
    L, _ = one_class_matrix(6000, [0, 1, 0, 1, 0, 0], on=0.35, off=0.1, k=2, shared=(0, 1), lift=lift, seed=0)
    model = fit(L, k=2)
    assert model.one_class_.accepted
    (note,) = [n for n in model.notes_ if "are read as evidence of the class" in n]
    z = cofiring_candidates(L, model, as_frame=False)[0]["z"]
    named = "fire together more often than chance" in note
    assert named == (lift > 0)
    if named:
        assert f": 0 and 1 (z = {z:.1f}) (tripletws.cofiring_candidates lists them)" in note
