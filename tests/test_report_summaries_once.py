"""The report reads the chunk summaries once: its probe of two replicates hands those it read to the
bootstrap proper (``bootstrap_intervals(..., summaries=)``), and the report and the intervals are the
same as when each read them."""

from __future__ import annotations

import warnings
from dataclasses import fields

import numpy as np
import pytest

from tripletws import LabelModel, intervals
from tripletws.datasets import make_synthetic
from tripletws.intervals import OtherRowsError, bootstrap_intervals, chunk_summaries


@pytest.fixture(scope="module")
def data():
    return make_synthetic(1_200, 6, 3, coverage=0.5, random_state=11)


@pytest.fixture(scope="module")
def models(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            name: LabelModel(3, **kw).fit(data.L)
            for name, kw in (
                ("annotator", {}),
                ("symmetric", {"model": "symmetric", "class_balance": "estimate"}),
                ("class_conditional", {"model": "class_conditional"}),
            )
        }


def _same(a, b):
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ["annotator", "symmetric", "class_conditional"])
def test_intervals_from_handed_summaries_equal_those_read_again(data, models, name):
    lm = models[name]
    n_chunks = 40 if name == "class_conditional" else None
    read = chunk_summaries(lm, data.L, n_chunks=n_chunks)
    want = bootstrap_intervals(lm, data.L, n_boot=6, n_chunks=n_chunks, random_state=3)
    # twice from the same summaries (a probe, then the bootstrap proper): not changed by the first
    bootstrap_intervals(lm, data.L, n_boot=2, n_chunks=n_chunks, random_state=0, summaries=read)
    _same(bootstrap_intervals(lm, data.L, n_boot=6, n_chunks=n_chunks, random_state=3, summaries=read), want)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_handed_summaries_are_checked(data, models):
    lm = models["annotator"]
    read = chunk_summaries(lm, data.L)
    with pytest.raises(ValueError, match="summaries must be the chunk summaries"):
        bootstrap_intervals(lm, data.L, n_boot=2, summaries=[1, 2])
    with pytest.raises(ValueError, match="summaries are of 100 chunks, n_chunks is 50"):
        bootstrap_intervals(lm, data.L, n_boot=2, n_chunks=50, summaries=read)
    with pytest.raises(ValueError, match="other solver needs"):  # the symmetric model keeps no rows
        bootstrap_intervals(lm, data.L, n_boot=2, summaries=chunk_summaries(models["symmetric"], data.L))
    narrow = LabelModel(3).fit(data.L[:, :5])
    with pytest.raises(ValueError, match="summaries are of 6 LFs but the model was fitted on 5"):
        bootstrap_intervals(narrow, data.L[:, :5], n_boot=2, summaries=read)
    other = LabelModel(3).fit(data.L[:600])  # the same LFs, other rows: as for L
    with pytest.raises(OtherRowsError):
        bootstrap_intervals(other, data.L[:600], n_boot=2, summaries=read)
    with pytest.raises(ValueError, match="n_chunks"):
        chunk_summaries(lm, data.L, n_chunks=1)


@pytest.fixture
def reads(monkeypatch):
    """How many times the rows are read into chunk summaries (the report's bootstrap of 20 replicates)."""
    monkeypatch.setattr(intervals, "DEFAULT_BOOT", 20)
    calls: list[int] = []
    real = intervals._chunk_summaries

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(intervals, "_chunk_summaries", counting)
    return calls


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_report_reads_the_chunk_summaries_once_and_is_the_same(data, models, reads, monkeypatch):
    pytest.importorskip("matplotlib")
    lm, y = models["annotator"], data.y
    text = lm.report(data.L, y)
    assert len(reads) == 1  # the probe's read, handed to the bootstrap proper
    # the bootstrap proper reading the rows again (as before): the same report, byte for byte
    real = intervals.bootstrap_intervals

    def reading(model, L, *, summaries=None, **kwargs):
        return real(model, L, **kwargs)

    monkeypatch.setattr(intervals, "bootstrap_intervals", reading)
    reads.clear()
    assert lm.report(data.L, y) == text
    assert len(reads) == 3  # the probe's, its two replicates' and the bootstrap proper's


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_report_of_other_rows_still_says_why_it_has_no_intervals(data, models, reads):
    pytest.importorskip("matplotlib")
    text = models["annotator"].report(data.L[:700], data.y[:700])
    assert "L is not the matrix the model was fitted on" in text
    assert len(reads) == 2  # the probe's read failed: the bootstrap proper reads (and says why)


def test_report_warns_of_the_uniform_prior_once(data, models):
    """The probe's two replicates keep their warnings to themselves: the bootstrap proper gives them."""
    pytest.importorskip("matplotlib")
    lm = models["annotator"]
    assert lm.class_balance_source_ == "uniform"  # the fit whose intervals carry the warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lm.report(data.L, data.y)
    said = [w for w in caught if str(w.message) == intervals.UNIFORM_PRIOR_WARNING]
    assert len(said) == 1
