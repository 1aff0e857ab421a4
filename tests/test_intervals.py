"""Bootstrap intervals over row chunks of the mergeable statistics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats as st

from tripletws import LabelModel, compute_stats, merge_stats
from tripletws.datasets import make_synthetic
from tripletws.intervals import ConfidenceIntervals, chunk_stats


def _true_accuracy(d) -> np.ndarray:
    """P(LF right | LF votes) from the generating tables (cond_probs[i, vote + 1, y])."""
    k = len(d.class_balance)
    right = (d.cond_probs[:, 1 + np.arange(k), np.arange(k)] * d.class_balance).sum(axis=1)
    votes = (d.cond_probs[:, 1:, :].sum(axis=1) * d.class_balance).sum(axis=1)
    return right / votes


def test_chunk_statistics_add_up_to_the_one_pass_statistics():
    d = make_synthetic(1_003, 6, 3, random_state=1)
    parts = chunk_stats(d.L, 3, 10, joint=True, triple=True)
    assert len(parts) == 10
    total, ref = merge_stats(parts), compute_stats(d.L, 3, joint=True, triple=True)
    for name in ("class_counts", "covote", "agree", "joint", "triple"):
        np.testing.assert_array_equal(getattr(total, name), getattr(ref, name))  # integer counts


def test_95_percent_intervals_cover_the_true_accuracies():
    # 12 seeds x 8 LFs = 96 intervals; at 95 % about 5 miss.  P(Binomial(96, 0.05) > 14) < 1e-3,
    # and a coverage as poor as 85 % (about 14 misses expected) would fail about half the time.
    misses = total = 0
    for seed in range(12):
        d = make_synthetic(4_000, 8, 2, coverage=0.5, class_balance=[0.6, 0.4], random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lm = LabelModel(2, model="class_conditional").fit(d.L)
            ci = lm.confidence_intervals(d.L, n_boot=150, n_chunks=80, random_state=seed)
        truth = _true_accuracy(d)
        misses += int(((truth < ci.accuracy_low) | (truth > ci.accuracy_high)).sum())
        total += truth.size
        assert np.all(ci.accuracy_low <= ci.accuracy_high)
    assert misses <= st.binom.ppf(0.999, total, 0.05), f"{misses} of {total} intervals missed"


def test_intervals_narrow_with_more_rows():
    widths = []
    for n in (2_000, 32_000):
        d = make_synthetic(n, 6, 2, coverage=0.6, random_state=5)
        lm = LabelModel(2, model="class_conditional").fit(d.L)
        widths.append(lm.confidence_intervals(d.L, n_boot=100, random_state=0).accuracy_halfwidth.mean())
    # the width falls as 1/sqrt(n): 4x for 16x the rows; allow a wide band for bootstrap noise
    assert 2.5 < widths[0] / widths[1] < 6.5


def test_given_class_balance_has_a_zero_width_interval_and_intervals_are_saved(tmp_path):
    d = make_synthetic(3_000, 5, 2, random_state=2)
    lm = LabelModel(2, model="class_conditional").fit(d.L, class_balance=[0.5, 0.5])
    ci = lm.confidence_intervals(d.L, level=0.9, n_boot=50, n_chunks=20, random_state=1)
    np.testing.assert_array_equal(ci.class_balance_low, ci.class_balance_high)
    assert ci.level == 0.9 and ci.n_chunks == 20 and ci.n_boot == 50
    path = tmp_path / "m.json"
    lm.save(path)
    back = LabelModel.load(path).intervals_
    np.testing.assert_allclose(back.accuracy_low, ci.accuracy_low)
    lm.fit(d.L)  # a new fit drops intervals of the old one
    assert lm.intervals_ is None


def test_bad_interval_input():
    d = make_synthetic(500, 5, 2, random_state=0)
    lm = LabelModel(2, model="class_conditional").fit(d.L)
    with pytest.raises(ValueError, match="level"):
        lm.confidence_intervals(d.L, level=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        lm.confidence_intervals(d.L, n_boot=1)
    # numpy's or builtins' TypeErrors before, or a silent truncation of 2.7 to 2 chunks
    bads = [{"level": "0.9"}, {"n_chunks": 2.7}, {"n_chunks": "10"}]
    for bad in [*bads, {"random_state": 1.5}, {"random_state": -1}]:
        with pytest.raises(ValueError, match=next(iter(bad))):
            lm.confidence_intervals(d.L, n_boot=3, **bad)
    with pytest.raises(ValueError, match="fewer than n_chunks"):
        LabelModel(2, model="class_conditional").fit(d.L[:50]).confidence_intervals(d.L[:50], n_chunks=100)
    with pytest.raises(ValueError, match="not the matrix the model was fitted on"):  # checked first
        lm.confidence_intervals(d.L[:50], n_chunks=100)
    with pytest.raises(ValueError, match="fitted on 5"):
        lm.confidence_intervals(d.L[:, :4])
    good = lm.confidence_intervals(d.L, n_boot=10, n_chunks=10, random_state=0).to_dict()
    with pytest.raises(ValueError, match="accuracy_low must have shape"):
        ConfidenceIntervals.from_dict({**good, "accuracy_low": [0.5]}, 5, 2)
    with pytest.raises(ValueError, match="exceeds"):
        ConfidenceIntervals.from_dict({**good, "accuracy_low": [1.0] * 5, "accuracy_high": [0.0] * 5}, 5, 2)


def test_intervals_follow_a_majority_check_fallback():
    d = make_synthetic(6_000, 6, 2, class_balance=[0.7, 0.3], random_state=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(2, model="class_conditional", max_overrule=0.0).fit(
            d.L
        )  # any overrule at all: the symmetric solution
    assert lm.fallback_ and lm.overrule_rate_ > 0
    ci = lm.confidence_intervals(d.L, n_boot=100, random_state=0)
    assert np.all((ci.accuracy_low <= lm.accuracies_) & (lm.accuracies_ <= ci.accuracy_high))
    np.testing.assert_allclose(ci.class_balance, lm.fit_class_balance_)


def test_unidentified_lfs_get_no_interval_and_survive_a_save(tmp_path):
    # two of eight LFs vote one class only: with abstentions read as "not assigned" (one_class="shared";
    # the default may read them, estimators.abstain_check) the annotator model cannot identify their
    # accuracy and gives them a shared value, so they get no interval
    d = make_synthetic(4_000, 8, 3, unipolar=0.25, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(3, one_class="shared").fit(d.L)
        ci = lm.confidence_intervals(d.L, n_boot=20, n_chunks=20, random_state=0)
    assert set(lm.unidentified_.tolist()) == {0, 1}
    np.testing.assert_array_equal(ci.identified, np.arange(8) >= 2)
    assert np.all(np.isnan(ci.accuracy_low[:2])) and np.all(np.isnan(ci.accuracy_high[:2]))
    assert np.all(ci.accuracy_low[2:] <= ci.accuracy_high[2:])
    record = ci.to_dict()
    assert record["accuracy_low"][:2] == [None, None]  # JSON null, not NaN
    path = tmp_path / "m.json"
    lm.save(path)
    back = LabelModel.load(path).intervals_
    np.testing.assert_array_equal(back.identified, ci.identified)
    np.testing.assert_allclose(back.accuracy_high, ci.accuracy_high)  # NaN compares equal here
    with pytest.raises(ValueError, match="must be null for the unidentified"):
        ConfidenceIntervals.from_dict({**record, "accuracy_low": [0.5] * 8}, 8, 3)
    with pytest.raises(ValueError, match="accuracy_low must hold probabilities"):
        ConfidenceIntervals.from_dict({**record, "identified": [True] * 8}, 8, 3)
    older = {key: value for key, value in ci.to_dict().items() if key != "identified"}
    older["accuracy_low"], older["accuracy_high"] = [0.1] * 8, [0.9] * 8
    assert ConfidenceIntervals.from_dict(older, 8, 3).identified.all()  # files without the field


def test_annotator_intervals_cover_with_an_estimated_class_balance():
    # the default (annotator) model with class_balance="estimate": 10 seeds x 8 LFs = 80 intervals;
    # at 95 % about 4 miss, P(Binomial(80, 0.05) > 12) < 1e-3.  Its fixed uniform prior instead is
    # biased at this 60/40 balance and warns that the intervals do not include that bias.
    misses = total = 0
    for seed in range(10):
        d = make_synthetic(4_000, 8, 2, coverage=0.5, class_balance=[0.6, 0.4], random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lm = LabelModel(2, class_balance="estimate").fit(d.L)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning about the prior: the balance was estimated
            ci = lm.confidence_intervals(d.L, n_boot=100, n_chunks=80, random_state=seed)
        truth = _true_accuracy(d)
        assert ci.identified.all()
        misses += int(((truth < ci.accuracy_low) | (truth > ci.accuracy_high)).sum())
        total += truth.size
    assert misses <= st.binom.ppf(0.999, total, 0.05), f"{misses} of {total} intervals missed"


def test_a_fixed_uniform_prior_warns_that_its_bias_is_not_in_the_intervals():
    d = make_synthetic(2_000, 6, 2, class_balance=[0.6, 0.4], random_state=4)
    lm = LabelModel(2).fit(d.L)
    assert lm.class_balance_source_ == "uniform"
    with pytest.warns(UserWarning, match="uniform class balance"):
        lm.confidence_intervals(d.L, n_boot=5, n_chunks=10, random_state=0)


def test_default_chunks_on_fewer_rows_than_a_hundred():
    # the default of 100 chunks refused any L under 100 rows (LFAnalysis.lf_summary(model=...) with
    # its default intervals, too); it is now one row per chunk there, the plain row bootstrap
    d = make_synthetic(60, 5, 2, random_state=3)
    lm = LabelModel(2).fit(d.L)
    ci = lm.confidence_intervals(d.L, n_boot=20, random_state=0)
    assert ci.n_chunks == 60 and ci.n_boot == 20
    ok = ~np.isnan(ci.accuracy_low)
    assert np.all(ci.accuracy_low[ok] <= ci.accuracy_high[ok])
    big = make_synthetic(500, 5, 2, random_state=3).L
    assert LabelModel(2).fit(big).confidence_intervals(big, n_boot=2).n_chunks == 100
    with pytest.raises(ValueError, match="1 row"):
        lm.confidence_intervals(d.L[:1])


def test_replicates_repeat_the_dev_rows_choice(tmp_path):
    """After fit(L, L_dev=, Y_dev=) the replicates used to redo the gold-free fit only: a fit whose
    classes the dev rows relabelled lay outside every one of its own intervals."""
    d = make_synthetic(1500, 6, 3, random_state=0)
    L, L_dev = d.L[:1000], d.L[1000:1200]
    y_dev = np.array([1, 2, 0])[d.y[1000:1200]]  # gold that names the classes another way round
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(3).fit(L, L_dev=L_dev, Y_dev=y_dev)
        assert model.dev_choice_["chosen"].endswith("+relabel")
        ci = model.confidence_intervals(L, n_boot=30, random_state=0)
        assert np.all((ci.accuracy_low <= model.accuracies_) & (model.accuracies_ <= ci.accuracy_high))
        model.save(tmp_path / "m.json")
        loaded = LabelModel.load(tmp_path / "m.json")
        with pytest.raises(ValueError, match=r"chosen by dev rows .* does not keep"):
            loaded.confidence_intervals(L, n_boot=10, random_state=0)


def test_dev_rows_choosing_majority_votes_model_leave_every_lf_unidentified():
    d = make_synthetic(1500, 6, 2, random_state=9, class_balance=[0.8, 0.2], unipolar=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, dev_rule="any").fit(d.L[:1000], L_dev=d.L[1000:1100], Y_dev=d.y[1000:1100])
        assert model.dev_choice_["chosen"].startswith("mv")
        assert model.unidentified_.tolist() == list(range(6))  # was [] (the gold-free fit's)
        ci = model.confidence_intervals(d.L[:1000], n_boot=10, random_state=0)
    assert not ci.identified.any()


def test_intervals_refuse_rows_the_model_was_not_fitted_on():
    """Intervals computed from other rows (a dev matrix, a later batch) described a fit on those rows,
    not the model's: LFAnalysis(L_dev).lf_summary(Y=y_dev, model=) gave intervals that missed their own
    point estimates on half of youtube's LFs."""
    d = make_synthetic(1_000, 5, 2, random_state=5)
    lm = LabelModel(2).fit(d.L[:800])
    with pytest.raises(ValueError, match=r"not the matrix the model was fitted on .*200 rows, the fit 800"):
        lm.confidence_intervals(d.L[800:], n_boot=2)
    other = d.L[:800].copy()
    other[0, 2] = 1 - other[0, 2] if other[0, 2] >= 0 else 0  # one vote changed: same row count
    with pytest.raises(ValueError, match="LF 2 votes class"):
        lm.confidence_intervals(other, n_boot=2)
    rows = np.random.default_rng(0).permutation(800)  # the same rows in another order are the fit's
    assert lm.confidence_intervals(d.L[:800][rows], n_boot=2, random_state=0).n_boot == 2


def test_a_forgetting_stream_keeps_its_intervals():
    """A stream with forget < 1 holds decayed weights that no matrix's counts match: the fit-rows check
    refused every L (confidence_intervals raised, the report drew none)."""
    d = make_synthetic(3_000, 5, 2, random_state=6)
    model = LabelModel(2, forget=0.9)
    for start in range(0, 3_000, 1_000):
        model.partial_fit(d.L[start : start + 1_000])
    ci = model.confidence_intervals(d.L, n_boot=3, n_chunks=10, random_state=0)
    assert ci.n_boot == 3
