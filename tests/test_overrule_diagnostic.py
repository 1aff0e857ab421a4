"""The default model's overrule rate: how far its labels stray from the LFs' majority, shown by inspect."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

from tripletws import LabelModel
from tripletws.datasets import make_synthetic


def _fit(L, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(2).fit(L, **kw)


def _overruled(model, L):
    """The share of L's rows with a unique most-voted class where the model's top class is another."""
    counts = np.stack([(L == c).sum(axis=1) for c in range(2)], axis=1)
    strict = counts[:, 0] != counts[:, 1]
    top = model.predict_proba(L[strict]).argmax(axis=1)
    return float(np.mean(top != counts[strict].argmax(axis=1)))


def test_the_rate_is_the_share_of_majorities_the_fit_overrules():
    # every row distinct-or-counted, no sample: the rate over the fitted rows is the rate over L
    data = make_synthetic(3000, 8, 2, random_state=3)
    model = _fit(data.L)
    assert 0.0 < model.overrule_rate_ < 0.5
    assert model.overrule_rate_ == model.solution_.choices()["overrule_rate"]
    # the same count up to the tie-break's rows (a fit's exact ties go to the first class there)
    assert abs(model.overrule_rate_ - _overruled(model, data.L)) <= 1.0 / 3000 * 5


def test_majority_vote_overrules_nothing():
    # each LF votes one random class or abstains, no signal: the default falls back to MV's ranking
    rng = np.random.default_rng(0)
    L = np.where(rng.random((2000, 5)) < 0.4, rng.integers(0, 2, (2000, 5)), -1)
    model = _fit(L)
    assert model.family_ == "mv" and model.overrule_rate_ == 0.0


def test_the_dev_choice_recomputes_it_for_the_fit_that_predicts(monkeypatch):
    # the rows of tests/test_dev_choice.py: a gold-free fit that names its classes the wrong way round,
    # relabelled by 100 gold rows; the rate then describes the relabelled fit, which predicts.  (The
    # identity below holds for the tables as fitted: with the named-vote rule on, the swapped gold-free
    # fit reads its one-class LFs' votes as neutral, which the relabelled candidate does not.)
    import tripletws.models.annotator as annotator

    monkeypatch.setattr(annotator, "NAMED_VOTES", False)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_dev_choice import _draw

    L, _ = _draw(20_000, 0)
    L_dev, y_dev = _draw(100, 1)
    gold_free, model = _fit(L), _fit(L, L_dev=L_dev, Y_dev=y_dev)
    assert "+relabel" in model.dev_choice_["chosen"]
    for fit in (gold_free, model):  # each fit's own rate (to the few rows the tie-break decides)
        assert abs(fit.overrule_rate_ - _overruled(fit, L)) <= 0.002
    # two classes relabelled: every majority the gold-free fit kept is overruled, and the other way round
    assert abs(model.overrule_rate_ + gold_free.overrule_rate_ - 1.0) <= 0.002


def test_inspect_shows_it_and_the_file_keeps_it(tmp_path):
    data = make_synthetic(2000, 6, 2, random_state=5)
    model = _fit(data.L)
    path = tmp_path / "m.json"
    model.save(path)
    assert LabelModel.load(path).overrule_rate_ == model.overrule_rate_
    run = [sys.executable, "-m", "tripletws", "inspect", str(path)]
    text = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert f"majority overruled: {model.overrule_rate_:.1%} of the fitted rows" in text
    record = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True, check=True).stdout)
    assert record["overrule_rate"] == model.overrule_rate_


def test_the_vote_lists_give_the_posterior_pass_count():
    """checks.overrule_rate sums each row's votes from the summary's vote lists; the posterior's own
    pass over the rows (float32 for two classes) must rank the classes the same way on every row
    whose scores are apart by more than that pass's rounding."""
    from tripletws.checks import _column_argmax, overrule_rate
    from tripletws.inference import log_scores
    from tripletws.kernels import vote_counts
    from tripletws.matrix import LabelMatrix
    from tripletws.params import LabelModelParams
    from tripletws.rows import RowSummary

    rng = np.random.default_rng(11)
    for k, m in ((2, 7), (3, 12), (5, 9)):
        L = np.where(rng.random((4000, m)) < 0.4, rng.integers(0, k, (4000, m)), -1)
        rows = RowSummary.from_matrix(LabelMatrix(L, k), max_rows=100_000)
        cond = rng.dirichlet(np.full(k + 1, 0.7), size=(m, k)).transpose(0, 2, 1)  # abstentions informative
        params = LabelModelParams(rng.dirichlet(np.ones(k)), cond)
        lm = rows.as_matrix()
        top, majority, n_top = _column_argmax(vote_counts(lm))
        strict = (n_top == 1) & (top > 0)
        scores = log_scores(lm, params)
        order = np.sort(scores, axis=1)
        clear = strict & (order[:, -1] - order[:, -2] > 1e-4)  # no near-tie for the float32 pass
        _, pred, _ = _column_argmax(scores)
        w = rows.counts
        expected = w[clear & (pred != majority)].sum() / w[strict].sum()
        near = w[strict & ~clear].sum() / w[strict].sum()
        assert abs(overrule_rate(rows, params) - expected) <= near + 1e-12


def test_the_report_shows_it():
    import pytest

    pytest.importorskip("matplotlib", reason="the report's plots need matplotlib (the report extra)")
    data = make_synthetic(1500, 6, 2, random_state=6)
    model = _fit(data.L)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the report's intervals warn about the uniform prior
        html = model.report(data.L)
    assert "majority overruled" in html and f"{model.overrule_rate_:.1%} of the fitted rows" in html
