"""Defects found by fuzzing tripletws.crowd and ``tripletws aggregate``, one test each (every one
failed before its fix)."""

from __future__ import annotations

import numpy as np
import pytest
from test_cli import run_main

pd = pytest.importorskip("pandas")
crowd_mod = pytest.importorskip("tripletws.crowd")
from_answers, aggregate = crowd_mod.from_answers, crowd_mod.aggregate


def cli(*args: str) -> tuple[int, str, str]:
    """The command line in this process: (exit status, stdout, stderr)."""
    res = run_main(*args)
    return res.returncode, res.stdout, res.stderr


def small(**columns) -> pd.DataFrame:
    """Six answers: tasks a, b, c; workers u, v, w; columns replaced by ``columns``."""
    base = {
        "task": ["a", "a", "a", "b", "b", "c"],
        "worker": ["u", "v", "w", "u", "v", "w"],
        "label": ["x", "y", "x", "y", "y", "x"],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_worker_ids_equal_as_text_are_refused():
    """Workers 1 and "1" are two columns whose LF names would both be "1": the fit silently kept no
    names (lf_names_ None) and workers= merged the two into one column."""
    df = small(worker=[1, "1", 3, 1, "1", 3])
    with pytest.raises(ValueError, match=r"workers 1 and '1' are distinct ids with the same text '1'"):
        from_answers(df)
    with pytest.raises(ValueError, match="same text"):
        from_answers(df, workers=["1", "3"])
    assert from_answers(small(worker=[1, 2, 3, 1, 2, 3])).worker_names == ["1", "2", "3"]


def test_unhashable_ids_and_classes_are_value_errors():
    """A list as a task id, or as a class, was a bare TypeError (unhashable type: 'list')."""
    with pytest.raises(ValueError, match=r"answer 2 \(index 2\) has 'task' \[1\]: a list cannot be an id"):
        from_answers(small(task=["a", "a", [1], "b", "b", "c"]))
    with pytest.raises(ValueError, match="classes must hold hashable labels"):
        from_answers(small(), classes=[["x"], ["y"]])


def test_duplicate_column_name_is_named():
    """Two columns named label: an AttributeError ('DataFrame' object has no attribute 'dtype')."""
    df = pd.concat([small(), small()[["label"]]], axis=1)
    with pytest.raises(ValueError, match="the answers have 2 columns named 'label'"):
        from_answers(df)


def test_dense_writes_the_small_dtype_directly():
    """dense() went through an int64 copy of the whole matrix (16 s and 3.6 GB for 200 000 tasks x
    2 000 workers): now it writes int8 straight away, and equals the library's from_sparse."""
    from tripletws.matrix import from_sparse

    rng = np.random.default_rng(0)
    n = 5000
    df = pd.DataFrame(
        {"task": rng.integers(0, 800, n), "worker": rng.integers(0, 40, n), "label": rng.integers(0, 3, n)}
    )
    crowd = from_answers(df, duplicates="last")
    dense = crowd.dense()
    expected = from_sparse(crowd.L, crowd.cardinality)
    assert dense.dtype == expected.dtype == np.int8
    np.testing.assert_array_equal(dense, expected)
    last = df.drop_duplicates(["task", "worker"], keep="last")
    rows = crowd.tasks.get_indexer(last["task"])
    cols = crowd.workers.get_indexer(last["worker"])
    np.testing.assert_array_equal(dense[rows, cols], last["label"].to_numpy())
    assert (dense >= 0).sum() == len(last)

    import tracemalloc

    big = from_answers(
        pd.DataFrame(
            {"task": np.arange(20000) // 2, "worker": np.arange(20000) % 400, "label": np.arange(20000) % 2}
        )
    )
    tracemalloc.start()
    big.dense()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 * big.L.shape[0] * big.L.shape[1]  # the int8 result, not an int64 detour (8x)
