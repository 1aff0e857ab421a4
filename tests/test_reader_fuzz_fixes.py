"""Reproducers for bugs found by fuzzing the readers of label matrices, gold labels and sequence ids
(:mod:`tripletws.files`, :func:`tripletws.matrix.check_labels`, the command line's input options).

Each test failed before its fix: a row silently dropped or a value silently changed, or an error that
was a traceback from numpy / pyarrow internals instead of a ValueError naming the file and the place.
"""

from __future__ import annotations

import re
import warnings
import zipfile

import numpy as np
import pytest
from conftest import run_cli

from tripletws.files import read_labels, read_matrix, read_matrix_named
from tripletws.matrix import check_labels

# ----------------------------------------------------------------------------
# gold labels: no cast may wrap a value into -1..k-1
# ----------------------------------------------------------------------------


def test_uint64_gold_label_beyond_int64_is_refused_not_read_as_unknown():
    y = np.array([0, 1, 2**64 - 1], dtype=np.uint64)  # the cast to int64 made it -1 (unknown)
    with pytest.raises(ValueError, match=r"Y has value 18446744073709551615 at position 2, outside -1\.\.1"):
        check_labels(y, None, 2)
    with pytest.raises(ValueError, match=r"value 9223372036854775808 at position 0"):
        check_labels(np.array([2**63], dtype=np.uint64), None, 2)


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e300])
def test_infinite_or_huge_float_gold_label_is_named_as_it_is(value):
    y = np.array([0.0, 1.0, value])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered in cast" came first
        message = re.escape(f"Y has value {value!r} at position 2, outside -1..1")
        with pytest.raises(ValueError, match=message):
            check_labels(y, None, 2)


def test_integral_float_gold_label_out_of_range_is_named_as_an_integer():
    with pytest.raises(ValueError, match=r"Y has value 5 at position 1, outside -1\.\.1"):
        check_labels(np.array([0.0, 5.0]), None, 2)


def test_cli_evaluate_refuses_uint64_gold_label_beyond_int64(tmp_path):
    rng = np.random.default_rng(0)
    L = rng.integers(-1, 2, (60, 4)).astype(np.int8)
    y = rng.integers(0, 2, 60).astype(np.uint64)
    y[-1] = 2**64 - 1
    np.save(tmp_path / "L.npy", L)
    np.save(tmp_path / "y.npy", y)
    res = run_cli("fit", "L.npy", "--cardinality", "2", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = run_cli("evaluate", "m.json", "L.npy", "y.npy", cwd=tmp_path)
    assert res.returncode == 2
    assert "y.npy: Y has value 18446744073709551615 at position 59" in res.stderr


# ----------------------------------------------------------------------------
# Parquet: column names
# ----------------------------------------------------------------------------


def test_parquet_duplicate_column_names_are_refused(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    cols = [pa.array([1, 0]), pa.array([0, 1]), pa.array([1, 1])]
    pq.write_table(pa.Table.from_arrays(cols, names=["a", "a", "b"]), tmp_path / "L.parquet")
    # the matrix was read, and the model then fitted without names (duplicates name no column)
    with pytest.raises(ValueError, match=r"L\.parquet: the column name\(s\) \['a'\] appear more than once"):
        read_matrix_named(tmp_path / "L.parquet")
    pq.write_table(pa.Table.from_arrays(cols[:2], names=["y", "y"]), tmp_path / "y.parquet")
    # the labels failed inside the reader: "zip() argument 2 is longer than argument 1"
    with pytest.raises(ValueError, match=r"y\.parquet: the column name\(s\) \['y'\] appear more than once"):
        read_labels(tmp_path / "y.parquet")


def test_parquet_labels_beside_duplicated_other_columns_still_read(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    cols = [pa.array([1, 0]), pa.array([0, 1]), pa.array([1, 1])]
    pq.write_table(pa.Table.from_arrays(cols, names=["y", "x", "x"]), tmp_path / "y.parquet")
    assert read_labels(tmp_path / "y.parquet").tolist() == [1, 0]


# ----------------------------------------------------------------------------
# .npz: members that are no .npy arrays
# ----------------------------------------------------------------------------


def test_npz_member_that_is_not_an_npy_array_is_a_value_error(tmp_path):
    with zipfile.ZipFile(tmp_path / "raw.npz", "w") as archive:
        archive.writestr("L", "1,0,1\n")  # np.load gives the member's bytes: AttributeError on .ndim
        archive.writestr("y", "1\n")
    with pytest.raises(ValueError, match=r"raw\.npz: array 'L' is not a \.npy array"):
        read_matrix(tmp_path / "raw.npz")
    with pytest.raises(ValueError, match=r"raw\.npz: array 'y' is not a \.npy array"):
        read_labels(tmp_path / "raw.npz")  # was "labels must be one column, got shape ()"
    res = run_cli("fit", "raw.npz", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2 and "unexpected" not in res.stderr
    assert "raw.npz: array 'L' is not a .npy array" in res.stderr
