"""Reproducers for bugs found by fuzzing the readers of label matrices, gold labels and sequence ids
(:mod:`tripletws.files`, :func:`tripletws.matrix.check_labels`, the command line's input options).

Each test failed before its fix: a row silently dropped or a value silently changed, or an error that
was a traceback from numpy / pyarrow internals instead of a ValueError naming the file and the place.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from conftest import run_cli

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
