"""A large crowd's report and model file: no bootstrap of the report's own where it would take too long
(and saying so), and model arrays encoded without copies (the same text)."""

from __future__ import annotations

import base64
import html
import json
import tracemalloc
import zlib

import numpy as np
import pytest

from tripletws import LabelModel, intervals, report
from tripletws.arrays import decode_array, encode_array
from tripletws.datasets import make_synthetic
from tripletws.io import model_from_dict, model_text

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def fitted():
    d = make_synthetic(1_500, 6, 3, coverage=0.5, random_state=7)
    return d, LabelModel(3).fit(d.L)


@pytest.fixture
def asked(monkeypatch):
    """The n_boot each bootstrap the report runs is asked for (each runs 2 replicates: quick)."""
    calls: list[int] = []
    real = intervals.bootstrap_intervals

    def recording(model, L, *, n_boot, **kwargs):
        calls.append(n_boot)
        return real(model, L, n_boot=2, **kwargs)

    monkeypatch.setattr(intervals, "bootstrap_intervals", recording)
    return calls


def _summary_intervals(text: str) -> str:
    start = text.index("<th class='l'>intervals</th><td>") + len("<th class='l'>intervals</th><td>")
    return html.unescape(text[start : text.index("</td>", start)])


def test_report_over_its_budget_draws_no_bootstrap_and_says_so(fitted, monkeypatch, asked):
    d, lm = fitted
    monkeypatch.setattr(report, "BOOT_BUDGET_S", 0.0)  # any projection is over it
    text = lm.report(d.L)
    said = _summary_intervals(text)
    assert asked == [2]  # the probe only
    assert said.startswith("none: not drawn: 200 bootstrap replicates would take about")
    assert "over the report's 0 s" in said and "n_boot=200" in said and "fit --intervals 200" in said
    assert "whiskers" not in text  # point estimates, no interval drawn


def test_report_within_its_budget_draws_the_default_replicates(fitted, asked):
    d, lm = fitted
    text = lm.report(d.L)
    assert asked == [2, intervals.DEFAULT_BOOT]  # the probe, then the bootstrap shown
    assert _summary_intervals(text).startswith("95% bootstrap, 2 replicates")


def test_projection_is_two_replicates_times_n_boot(fitted, monkeypatch):
    d, lm = fitted
    ticks = iter([10.0, 13.0])  # the probe's start and end
    monkeypatch.setattr("time.perf_counter", lambda: next(ticks))
    monkeypatch.setattr(intervals, "chunk_summaries", lambda *a, **kw: "read")
    monkeypatch.setattr(intervals, "bootstrap_intervals", lambda *a, **kw: None)
    # the chunk summaries the probe read come back with the projection, for the bootstrap proper
    assert report._projected_bootstrap_s(lm, d.L, 200) == (pytest.approx(300.0), "read")


def test_report_over_its_budget_honours_a_given_n_boot(fitted, monkeypatch, asked):
    d, lm = fitted
    monkeypatch.setattr(report, "BOOT_BUDGET_S", 0.0)
    text = lm.report(d.L, n_boot=7)
    assert asked == [7]  # no probe
    assert _summary_intervals(text).startswith("95% bootstrap, 2 replicates")


def test_report_over_its_budget_shows_the_models_own_intervals(fitted, monkeypatch, asked):
    d, _ = fitted
    lm = LabelModel(3).fit(d.L)
    lm.intervals_ = intervals.bootstrap_intervals(lm, d.L, n_boot=4, random_state=0)  # (recorded: 2)
    asked.clear()
    monkeypatch.setattr(report, "BOOT_BUDGET_S", 0.0)
    said = _summary_intervals(lm.report(d.L))
    assert asked == [] and said == "95% bootstrap, 2 replicates over 100 row chunks"


def test_command_line_report_takes_n_boot(fitted, tmp_path, monkeypatch, asked):
    from tripletws.cli import main

    d, lm = fitted
    lm.save(tmp_path / "m.json")
    np.save(tmp_path / "L.npy", d.L)
    monkeypatch.setattr(report, "BOOT_BUDGET_S", 0.0)
    out = tmp_path / "r.html"
    assert main(["report", str(tmp_path / "m.json"), str(tmp_path / "L.npy"), "-o", str(out)]) == 0
    assert asked == [2] and "tripletws report --n-boot 200" in html.unescape(out.read_text())
    argv = ["report", str(tmp_path / "m.json"), str(tmp_path / "L.npy"), "--n-boot", "7", "-o", str(out)]
    assert main(argv) == 0
    assert asked == [2, 7] and _summary_intervals(out.read_text()).startswith("95% bootstrap, 2 replicates")
    assert main([*argv[:-4], "--n-boot", "1", "-o", str(out)]) != 0  # refused, named


def test_report_checks_n_boot(fitted):
    d, lm = fitted
    with pytest.raises(ValueError, match="n_boot"):
        lm.report(d.L, n_boot=1)


def _old_encoding(a: np.ndarray) -> bytes:
    """The bytes the encoder wrote before it stopped copying (the file format)."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype("<f8")
    elif a.dtype.kind in "iu":
        a = a.astype(a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype)
    return zlib.compress(np.ascontiguousarray(a).tobytes(), 1)


@pytest.mark.parametrize(
    "a",
    [
        np.arange(12.0).reshape(3, 4).T,  # not C-contiguous
        np.arange(12.0).reshape(3, 4)[:, ::2],
        np.float32([1.5, -2.0]),
        np.arange(5, dtype=">i4"),
        np.arange(-3, 3, dtype=np.int8).reshape(2, 3),
        np.array([True, False, True]),
        np.array(2.5),
        np.zeros((0, 3)),
        np.zeros((4, 0), dtype=np.int64),
    ],
)
def test_encoded_arrays_are_those_of_the_format(a):
    record = encode_array(a)
    assert base64.b64decode(record["zlib_base64"]) == _old_encoding(a)
    assert record["shape"] == list(a.shape)
    kind = "b" if a.dtype.kind == "b" else "f"
    np.testing.assert_array_equal(decode_array(record, "a", kind=kind), a)


def test_encoding_a_large_table_makes_no_copy_of_it():
    table = np.zeros((1_000, 1_000))  # 8 MB of float64, as a crowd's co-vote table (mostly zeros)
    tracemalloc.start()
    try:
        encode_array(table)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < table.nbytes / 4  # a copy by astype, another by tobytes: twice the table before


def test_saved_text_of_a_crowd_model_loads_back_the_same(fitted):
    rng = np.random.default_rng(3)
    L = np.full((400, 40), -1, dtype=np.int8)
    for i in range(400):
        L[i, rng.choice(40, 4, replace=False)] = rng.integers(0, 3, 4)
    lm = LabelModel(3).fit(L)
    text = model_text(lm)
    back = model_from_dict(json.loads(text))
    assert model_text(back) == text
    np.testing.assert_array_equal(back.predict_proba(L), lm.predict_proba(L))


@pytest.mark.parametrize("step", [1, 7, 1 << 20])
def test_arrays_inflate_in_pieces_into_writable_arrays(monkeypatch, step):
    from tripletws import arrays

    monkeypatch.setattr(arrays, "_INFLATE_STEP", step)
    rng = np.random.default_rng(0)
    for a, kind in ((rng.random((20, 9)), "f"), (rng.integers(-1, 3, (30, 4)).astype(np.int8), "i")):
        out = decode_array(encode_array(a), "a", kind=kind, stored_ints=True)
        np.testing.assert_array_equal(out, a)
        assert out.dtype == a.dtype and out.flags.writeable


def _record(raw: bytes) -> dict:
    return {"dtype": "<f8", "shape": [4], "zlib_base64": base64.b64encode(raw).decode()}


@pytest.mark.parametrize("step", [3, 1 << 20])
def test_damaged_array_data_is_refused_as_before(monkeypatch, step):
    from tripletws import arrays

    monkeypatch.setattr(arrays, "_INFLATE_STEP", step)
    good = zlib.compress(np.arange(4.0).tobytes())
    mismatch = "array data does not match dtype <f8 and shape \\[4\\]"
    for raw in (
        good[:-3],  # truncated
        good + b"xx",  # data after the stream
        zlib.compress(np.arange(5.0).tobytes()),  # longer than the shape
        zlib.compress(np.arange(3.0).tobytes()),  # shorter
        zlib.compress(bytes(10**6)),  # a small record inflating to a large buffer
    ):
        with pytest.raises(ValueError, match=mismatch):
            decode_array(_record(raw), "a")
    with pytest.raises(ValueError, match="damaged array data"):
        decode_array(_record(b"garbage!"), "a")


def test_inconsistent_tables_are_found_in_any_rows_compared(monkeypatch):
    from dataclasses import replace

    from tripletws import summary
    from tripletws.stats import compute_stats

    monkeypatch.setattr(summary, "_CHECK_CELLS", 5)  # one row of the 5 x 5 tables at a time
    stats = compute_stats(np.array([[0, 1, 0, -1, 2], [1, 1, -1, 0, 2], [0, 0, 0, 0, 0]]), 3)
    summary._check_consistent(stats, "s")
    agree = stats.agree.copy()
    agree[4, 3] = stats.covote[4, 3] + 1
    with pytest.raises(ValueError, match=r"s\.agree exceeds s\.covote"):
        summary._check_consistent(replace(stats, agree=agree), "s")
    covote = stats.covote.copy()
    covote[4, 2] = stats.n_rows + 1  # in the last row compared only
    with pytest.raises(ValueError, match=r"s\.covote exceeds s\.n_rows"):
        summary._check_consistent(replace(stats, covote=covote), "s")


def test_a_shape_its_data_cannot_fill_gets_no_buffer_of_its_size():
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="does not match dtype <f8 and shape \\[100000000\\]"):
            decode_array(
                {
                    "dtype": "<f8",
                    "shape": [10**8],
                    "zlib_base64": base64.b64encode(zlib.compress(b"x" * 8)).decode(),
                },
                "a",
            )
        with pytest.raises(ValueError, match="damaged array data"):
            decode_array({"dtype": "<f8", "shape": [10**8], "zlib_base64": "AAAA"}, "a")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10**6  # not the 800 MB the shape declares
