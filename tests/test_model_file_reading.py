"""Reading a model file: what it holds and no more, without a buffer of the size limit."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import tripletws.io as model_io
from tripletws import LabelModel
from tripletws.arrays import decode_array, encode_array
from tripletws.datasets import make_synthetic
from tripletws.rows import RowSummary


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LabelModel().fit(make_synthetic(400, 5, 2, random_state=0).L).save(path)
    return path


def test_no_read_asks_for_the_size_limit(saved, monkeypatch):
    """One read(MAX_FILE_BYTES + 1) allocated 1 GiB for a file of a few kilobytes: under an
    address-space limit (ulimit -v) no model could be loaded (MemoryError)."""
    asked: list[int] = []
    real_open = Path.open

    class Recording:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n=-1):
            asked.append(n)
            return self.fh.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def recording_open(self, mode="r", *args, **kwargs):
        fh = real_open(self, mode, *args, **kwargs)
        return Recording(fh) if self == saved and "b" in mode else fh

    monkeypatch.setattr(Path, "open", recording_open)
    model = LabelModel.load(saved)
    size = saved.stat().st_size
    assert asked and max(asked) <= max(size + 1, model_io._READ_STEP)
    assert model.accuracies_.shape == (5,)


def test_a_file_longer_than_its_stat_size_is_read_whole(saved):
    """A file that grew after its size was read (or whose size is unknown) is read to its end."""
    data = saved.read_bytes()
    assert model_io._read_capped(saved, 0) == data
    assert model_io._read_capped(saved, len(data) // 3) == data
    assert model_io._read_capped(saved, len(data)) == data


def test_the_size_limit_holds_for_a_file_that_grew(saved, monkeypatch):
    """Past the limit the reader stops one byte after it, and the load is refused."""
    size = saved.stat().st_size
    monkeypatch.setattr(model_io, "MAX_FILE_BYTES", size // 2)
    assert len(model_io._read_capped(saved, 10)) == size // 2 + 1
    with pytest.raises(ValueError, match="larger than a model file may be"):
        LabelModel.load(saved)
    real_stat = Path.stat

    def stale_stat(self, *args, **kwargs):  # the size seen before the file grew
        st = real_stat(self, *args, **kwargs)
        return type("Stat", (), {"st_size": 10, "st_mode": st.st_mode})() if self == saved else st

    monkeypatch.setattr(Path, "stat", stale_stat)
    with pytest.raises(ValueError, match="more bytes than a model file may hold"):
        LabelModel.load(saved)


def test_rows_are_read_in_the_integer_type_they_are_stored_in():
    """The distinct rows (int8 in the file) were widened to int64 on load, eight times their size
    (800 MB for 20 000 rows of 5 000 crowd workers) before being narrowed back; votes out of range in
    a wider stored type are still refused before the narrowing."""
    votes = np.array([[0, 1, -1], [1, 1, 0], [-1, -1, 1]], dtype=np.int8)
    record = encode_array(votes)
    assert decode_array(record, "r", kind="i", stored_ints=True).dtype == np.int8
    assert decode_array(record, "r", kind="i").dtype == np.int64
    summary = RowSummary.from_dict(
        {
            "cardinality": 2,
            "rows": record,
            "counts": encode_array(np.ones(3)),
            "n_rows": 3.0,
            "max_rows": 10,
            "level": 0,
        },
        3,
        2,
    )
    assert summary.rows.dtype == np.int8 and summary.rows.flags.writeable
    np.testing.assert_array_equal(summary.rows, votes)
    wide = votes.astype(np.int16)
    wide[0, 0] = 256  # an int8 narrowing would read it as a vote for class 0
    with pytest.raises(ValueError, match=r"votes outside -1..1"):
        RowSummary.from_dict(
            {
                "cardinality": 2,
                "rows": encode_array(wide),
                "counts": encode_array(np.ones(3)),
                "n_rows": 3.0,
                "max_rows": 10,
                "level": 0,
            },
            3,
            2,
        )
