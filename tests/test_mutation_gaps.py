"""Behaviour that no other test pinned down, found by mutation testing.

Each test names, in its docstring, the mutant of the library that it kills (a change under which
the rest of the suite still passed).  Rows are small integers and counts whole numbers, so the
comparisons of row summaries are exact; float comparisons carry tolerances from their arithmetic.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from tripletws.crowd import from_answers
from tripletws.estimators.copies import member_frequencies
from tripletws.estimators.family_choice import TIE_TOL, choose_within_se
from tripletws.estimators.heldout import HeldOutScores
from tripletws.io import load_model
from tripletws.lf_names import compare_classes, names_of
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary, check_rows_cap, replace_n_rows, sum_row_summaries
from tripletws.stats import compute_stats
from tripletws.validate import check_int


def summary(L: np.ndarray, k: int, cap: int = 10**6) -> RowSummary:
    return RowSummary.from_matrix(check_label_matrix(np.asarray(L), k), cap)


def pandas():
    return pytest.importorskip("pandas")


def random_votes(n: int, m: int, k: int, seed: int, coverage: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random((n, m)) < coverage, rng.integers(0, k, (n, m)), -1).astype(np.int8)


def assert_same_summary(a: RowSummary, b: RowSummary) -> None:
    assert (a.level, a.max_rows, a.n_rows) == (b.level, b.max_rows, b.n_rows)
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.counts, b.counts)  # whole numbers: exact in any order


# --------------------------------------------------------------------------- rows.py


def _record(rows: np.ndarray, counts: list[float], n_rows: float, k: int = 2, level: int = 0) -> dict:
    s = RowSummary(k, np.asarray(rows, dtype=np.int8), np.asarray(counts, dtype=float), n_rows, 100, level)
    return s.to_dict()


def test_row_summary_record_refuses_a_zero_count():
    """Kills rows.py ``from_dict``: ``(counts <= 0).any()`` -> ``(counts < 0).any()`` (a row of count 0
    read back although ``scaled`` drops such rows and a summary never holds them)."""
    d = _record([[0, 1], [1, -1]], [0.0, 3.0], 3.0)
    with pytest.raises(ValueError, match=r"rows\.counts must be positive"):
        RowSummary.from_dict(d, 2, 2)
    ok = RowSummary.from_dict(_record([[0, 1], [1, -1]], [1.0, 2.0], 3.0), 2, 2)
    np.testing.assert_array_equal(ok.counts, [1.0, 2.0])


def test_row_summary_record_refuses_the_vote_k():
    """Kills rows.py ``from_dict``: ``rows.max() >= k`` -> ``rows.max() > k`` (a vote for class k, one
    past the last class, read back)."""
    with pytest.raises(ValueError, match=r"votes outside -1\.\.1"):
        RowSummary.from_dict(_record([[0, 2], [1, -1]], [1.0, 1.0], 2.0), 2, 2)
    # the last class itself is a vote
    assert RowSummary.from_dict(_record([[0, 1], [1, -1]], [1.0, 1.0], 2.0), 2, 2).n_unique == 2


def test_row_summary_record_refuses_a_repeated_row():
    """Kills rows.py ``from_dict``: the check ``np.unique(keys).size == R`` removed (a row listed twice,
    which no summary holds: merges add the counts of equal rows)."""
    with pytest.raises(ValueError, match="holds a row twice"):
        RowSummary.from_dict(_record([[0, 1], [0, 1]], [1.0, 2.0], 3.0), 2, 2)


def test_row_summary_record_refuses_a_level_past_63():
    """Kills validate.py ``check_int``: ``value <= hi`` -> ``value <= hi + 1`` (an integer one past its
    bound accepted: here ``rows.level`` 64, a threshold ``2**(64 - level)`` of 1)."""
    d = _record([[0, 1]], [1.0], 2.0, level=63)
    assert RowSummary.from_dict(d, 2, 2).level == 63
    d["level"] = 64
    with pytest.raises(ValueError, match=r"rows\.level must be an integer in \[0, 63\]"):
        RowSummary.from_dict(d, 2, 2)
    assert check_int(10, "x", 0, 10) == 10
    with pytest.raises(ValueError, match=r"x must be an integer in \[0, 10\], got 11"):
        check_int(11, "x", 0, 10)


def test_subtracting_a_row_summary_of_more_rows_is_refused():
    """Kills rows.py ``RowSummary.__sub__``: the ``other.n_rows > self.n_rows`` check removed (a block
    claiming more rows than the summary it is taken from gave a negative ``n_rows``)."""
    a = summary(random_votes(200, 4, 2, seed=1), 2)
    claimed = replace_n_rows(a, a.n_rows + 1.0)  # the same rows, one more claimed
    with pytest.raises(ValueError, match="negative count"):
        a - claimed
    empty = a - a
    assert empty.n_rows == 0.0 and empty.n_unique == 0


def test_sum_row_summaries_keeps_the_smallest_cap():
    """Kills rows.py ``sum_row_summaries``: ``min(p.max_rows ...)`` -> ``max(...)`` (folding with ``+``
    keeps the smaller cap; the one-merge sum kept the larger one, and more rows)."""
    L = random_votes(2_000, 10, 2, seed=4)
    a, b = summary(L[:1_000], 2, 16), summary(L[1_000:], 2, 4_096)
    folded = a + b
    got = sum_row_summaries([(a, 1.0), (b, 1.0)])
    assert got.max_rows == folded.max_rows == 16
    assert got.n_unique <= 16
    assert_same_summary(got, folded)


def test_check_rows_cap_keeps_at_least_a_thousand_rows():
    """Kills rows.py ``check_rows_cap``: the floor ``max(1_000, ...)`` -> ``max(100, ...)`` (a very wide
    matrix kept fewer rows for the majority check than the documented 1,000)."""
    assert check_rows_cap(1) == 100_000
    assert check_rows_cap(100) == (1 << 23) // 100
    assert check_rows_cap(20_000) == 1_000
    assert check_rows_cap(10**7) == 1_000


# --------------------------------------------------------------------------- stats.py


def test_subtracting_statistics_of_other_rows_is_refused_by_one_count():
    """Kills stats.py ``LabelStats.__sub__``: ``arr.min() < 0`` -> ``arr.min() < -1`` (a block that was
    not part of the statistics, with as many rows, subtracted to counts of -1 without an error)."""
    a = compute_stats(np.array([[0, 0]]), 2, joint=True)
    b = compute_stats(np.array([[1, 1]]), 2, joint=True)
    with pytest.raises(ValueError, match="negative 'class_counts' count"):
        a - b


def test_subtracting_statistics_of_more_rows_is_refused():
    """Kills stats.py ``LabelStats.__sub__``: the ``out.n_rows < 0`` check removed (a block of more rows,
    none of them voted, left every count >= 0 and a negative row count)."""
    a = compute_stats(np.array([[0, 1]]), 2)
    b = compute_stats(np.array([[-1, -1], [-1, -1]]), 2)
    with pytest.raises(ValueError, match="negative row count"):
        a - b
    assert (a - compute_stats(np.array([[-1, -1]]), 2)).n_rows == 0


# --------------------------------------------------------------------------- family_choice.py


def test_a_lead_within_the_tie_tolerance_leaves_the_simpler_family_best():
    """Kills family_choice.py ``choose_within_se``: ``means[fam] > means[best] + TIE_TOL`` -> ``... -
    TIE_TOL`` (a richer family no better, or better by less than the tolerance, was named best)."""
    rng = np.random.default_rng(5)
    base = rng.normal(-2.0, 0.3, size=(3, 40))
    folds = np.ones((3, 40))
    for gap in (0.0, 0.25 * TIE_TOL):
        scores = HeldOutScores(folds, {"mv": base, "one_coin": base + gap, "mace": base + gap})
        chosen, best, leads = choose_within_se(scores, ("mv", "one_coin", "mace"), 2.0)
        assert (chosen, best) == ("mv", "mv")
        assert leads["mv"] == (0.0, 0.0)
    # a lead well past the tolerance, with no noise in it: the richer family is best and chosen
    scores = HeldOutScores(folds, {"mv": base, "one_coin": base + 0.1, "mace": base + 0.1})
    assert choose_within_se(scores, ("mv", "one_coin", "mace"), 2.0)[:2] == ("one_coin", "one_coin")


# --------------------------------------------------------------------------- abstain_check.py


def _class_dependent_rows(n: int = 3_000) -> RowSummary:
    """8 LFs over 3 classes whose coverage depends on the class (the world of test_abstain_check)."""
    k, m = 3, 8
    rng = np.random.default_rng(0)
    cov = np.clip(0.15 * np.exp(0.9 * rng.normal(size=(m, k))), 0.01, 0.9)
    acc = rng.uniform(0.5, 0.8, size=m)
    rng = np.random.default_rng(1)
    y = rng.integers(0, k, size=n)
    fire = rng.random((n, m)) < cov[:, y].T
    right = rng.random((n, m)) < acc[None, :]
    other = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    return summary(np.where(fire, np.where(right, y[:, None], other), -1), k)


def test_abstain_lead_must_pass_lead_se_standard_errors(monkeypatch):
    """Kills abstain_check.py test (a): ``lead > n_se * se`` -> ``lead > se`` (the informative reading
    was kept on a lead of one standard error, whatever ``LEAD_SE`` says)."""
    from tripletws.estimators import abstain_check as ac
    from tripletws.estimators import family_choice as fc

    rows = _class_dependent_rows()
    # the highest-scoring reading (a study switch), so that LEAD_SE moves the bar of test (a) only
    monkeypatch.setattr(ac, "PICK", "best")
    check = ac.abstain_check(rows, "mace", None)
    assert check.accepted, check.reason
    ratio = check.lead / check.lead_se
    assert ratio > 4.0  # far past 1 standard error: the mutant keeps the reading below
    monkeypatch.setattr(fc, "LEAD_SE", 2.0 * ratio)
    refused = ac.abstain_check(rows, "mace", None)
    assert not refused.accepted
    assert refused.reason.startswith("no reading of abstentions as informative")
    assert (refused.family, refused.balance) == (check.family, check.balance)


def test_abstain_majority_bar_is_strict(monkeypatch):
    """Kills abstain_check.py test (d): ``not kept > bar * clear_count`` -> ``not kept >= ...`` (a fit
    keeping the majority on exactly the bar's share of the clear rows passed; the docs say "strictly
    more than this")."""
    from tripletws.estimators import abstain_check as ac

    rows = _class_dependent_rows()
    monkeypatch.setattr(ac, "KEPT_CLEAR", 1.0)  # every clear row: this fit misses a few
    said = ac.abstain_check(rows, "mace", None).reason
    found = re.search(r"keeps the majority on (\d+) of the (\d+) rows whose majority wins by 2 votes", said)
    assert found, said
    kept, clear = map(int, found.groups())
    assert 0 < kept < clear
    bar = kept / clear
    assert bar * clear == kept  # the bar's product is the count itself, in float64
    monkeypatch.setattr(ac, "KEPT_CLEAR", bar)
    at_bar = ac.abstain_check(rows, "mace", None)
    assert not at_bar.accepted
    assert f"on {kept} of the {clear} rows whose majority wins by 2 votes" in at_bar.reason
    # just under the bar the margin-2 rows pass (refused later, if at all, on other rows)
    monkeypatch.setattr(ac, "KEPT_CLEAR", bar - 1e-9)
    below = ac.abstain_check(rows, "mace", None)
    assert "wins by 2 votes" not in below.reason


# --------------------------------------------------------------------------- copies.py


def test_member_frequencies_are_distributions():
    """Kills copies.py ``member_frequencies``: the smoothed frequencies divided by ``n + 1e-3`` instead of
    ``n + 1e-3 * (k + 1)`` (a member's table then summed to more than 1 over its outcomes)."""
    k = 3
    L = np.array([[0, 1, -1], [2, 1, 0], [-1, 1, 0], [0, -1, 2], [1, 1, 1]])  # 5 rows
    rows = summary(L, k)
    freq = member_frequencies(rows, np.array([0, 2]))
    assert freq.shape == (2, k + 1)
    # 5 rows: the smoothing's share is about 1e-3 * (k + 1) / 5 = 8e-4, far above rounding (1e-15)
    np.testing.assert_allclose(freq.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # LF 0 abstains once, votes 0 twice, 1 and 2 once each
    np.testing.assert_allclose(freq[0], (np.array([1, 2, 1, 1]) + 1e-3) / (5 + 4e-3), rtol=1e-12)


def _copy_pair_rows(seed: int) -> tuple[RowSummary, int, int]:
    """Six independent LFs (accuracy 0.75, coverage 0.6) and LF 0 a copy of LF 5 on about 70 % of
    LF 5's votes: the pair (0, 5) is the one copy group, LF 5 with more votes at the higher index."""
    rng = np.random.default_rng(seed)
    n, m = 3000, 6
    y = rng.integers(0, 2, n)
    L = np.where(rng.random((n, m)) < 0.75, y[:, None], 1 - y[:, None])
    L = np.where(rng.random((n, m)) < 0.6, L, -1)
    L[:, 0] = np.where((L[:, 5] >= 0) & (rng.random(n) < 0.7), L[:, 5], -1)
    return summary(L.astype(np.int8), 2), 0, 5


def test_copy_test_is_bonferroni_corrected_over_the_pairs():
    """Kills copies.py ``find_copies`` without its Bonferroni correction (``z_crit`` from ``alpha``
    instead of ``alpha / n_pairs``): the test's critical value is the normal quantile at 0.05 over
    the 15 pairs of six LFs that vote both classes."""
    from statistics import NormalDist

    from tripletws.estimators.annotator import fit_annotator
    from tripletws.estimators.copies import ALPHA, find_copies

    rows, _, _ = _copy_pair_rows(1)
    copies = find_copies(rows, fit_annotator(rows, "mace").params)
    assert copies.n_pairs == 15
    assert copies.z_crit == pytest.approx(NormalDist().inv_cdf(1 - ALPHA / 15), rel=1e-9)


def test_a_copy_group_is_counted_through_its_member_with_more_votes():
    """Kills copies.py's representative chosen with ties going to fewer votes (or to the lowest
    index): in a group of two the summed shares tie, and the LF with more votes represents it."""
    from tripletws.estimators.annotator import fit_annotator
    from tripletws.estimators.copies import find_copies

    rows, copy, original = _copy_pair_rows(2)
    votes = rows.counts @ (rows.rows >= 0)
    assert votes[original] > votes[copy]
    copies = find_copies(rows, fit_annotator(rows, "mace").params)
    assert [g.tolist() for g in copies.groups] == [[copy, original]]
    assert copies.representatives.tolist() == [original]
    assert copies.copy_of[copy] == original and copies.copy_of[original] == -1


# --------------------------------------------------------------------------- io.py


def test_model_file_nesting_limit_is_exact(tmp_path):
    """Kills io.py ``_check_depth``: ``> MAX_DEPTH`` -> ``> MAX_DEPTH + 1`` (JSON nested one level past
    the limit reached the parser)."""
    from tripletws.io import MAX_DEPTH

    deep = tmp_path / "deep.json"
    deep.write_text("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(ValueError, match="nested deeper than"):
        load_model(deep)
    at_limit = tmp_path / "at_limit.json"
    at_limit.write_text("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    with pytest.raises(ValueError, match="expected a JSON object"):  # parsed, then refused as no model
        load_model(at_limit)


# --------------------------------------------------------------------------- crowd.py


def test_integer_labels_using_half_of_their_range_keep_their_codes():
    """Kills crowd.py ``_class_codes``: ``max + 1 > 2 * len(used)`` -> ``>=`` (labels using exactly half
    of 0..max, "at least half" in the docs, were recoded as sorted ids)."""
    pd = pandas()
    df = pd.DataFrame({"task": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"], "label": [0, 3, 3, 0]})
    crowd = from_answers(df)
    assert crowd.classes == (0, 1, 2, 3)
    np.testing.assert_array_equal(crowd.dense(), [[0, 3], [3, 0]])
    # under half (2 of 0..4): ids, sorted
    df["label"] = [0, 4, 4, 0]
    crowd = from_answers(df)
    assert crowd.classes == (0, 4)
    np.testing.assert_array_equal(crowd.dense(), [[0, 1], [1, 0]])


def test_workers_naming_a_worker_twice_is_refused():
    """Kills crowd.py ``_fixed_workers``: the ``workers= names a worker twice`` check removed (two columns
    for one worker, one of them always empty)."""
    pd = pandas()
    df = pd.DataFrame({"task": [1, 1, 2], "worker": ["a", "b", "a"], "label": ["x", "y", "y"]})
    with pytest.raises(ValueError, match="names a worker twice"):
        from_answers(df, workers=["a", "b", "a"])
    assert from_answers(df, workers=["b", "a"]).worker_names == ["b", "a"]


# --------------------------------------------------------------------------- lf_names.py


def test_duplicate_column_names_are_matched_by_position():
    """Kills lf_names.py ``names_of``: the distinct-names condition removed (columns named ``a, a, b`` were
    kept as LF names that cannot tell the columns apart)."""
    pd = pandas()
    frame = pd.DataFrame([[0, 1, -1], [1, 1, 0]], columns=["a", "a", "b"])
    assert names_of(frame) is None
    assert names_of(pd.DataFrame([[0, 1]], columns=["a", "b"])) == ("a", "b")


def test_class_labels_compare_with_their_types():
    """Kills lf_names.py ``compare_classes``: ``_typed(given) == _typed(expected)`` -> a plain tuple
    comparison (labels ``False, True`` passed for ``0, 1``, and ``1.0`` for ``1``, since they are equal
    in Python)."""
    with pytest.raises(ValueError, match="the same code would mean another label"):
        compare_classes((0, 1), (False, True), "L")
    with pytest.raises(ValueError, match="the same code would mean another label"):
        compare_classes((1, 2), (1.0, 2.0), "L")
    compare_classes((0, 1), (0, 1), "L")  # the same labels: no error


def test_crowd_votes_coded_from_other_label_types_are_refused():
    """Kills lf_names.py ``compare_classes`` (as above), through a fitted model: answers labelled
    ``True``/``False`` are refused by a model fitted on answers labelled ``1``/``0``."""
    pd = pandas()
    from tripletws import LabelModel

    rng = np.random.default_rng(13)
    n_tasks, workers = 60, ["a", "b", "c"]
    truth = rng.integers(0, 2, size=n_tasks)
    rows = [
        (t, w, int(truth[t] if rng.random() < 0.8 else 1 - truth[t])) for t in range(n_tasks) for w in workers
    ]
    ints = pd.DataFrame(rows, columns=["task", "worker", "label"])
    bools = ints.assign(label=ints["label"].astype(bool))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(from_answers(ints).votes)
        with pytest.raises(ValueError, match="the same code would mean another label"):
            model.predict_proba(from_answers(bools).votes)
        P = model.predict_proba(from_answers(ints).votes)
    assert P.shape == (n_tasks, 2)
