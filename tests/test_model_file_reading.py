"""Reading a model file: what it holds and no more, without a buffer of the size limit."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import tripletws.io as model_io
from tripletws import LabelModel
from tripletws.datasets import make_synthetic


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
