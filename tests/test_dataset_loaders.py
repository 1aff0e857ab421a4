"""Dataset loaders: .npz folders and WRENCH JSON are validated field by field, rows never misaligned."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tripletws.datasets import load_dataset, load_wrench_split


def _home(tmp_path, index=None, **splits):
    folder = tmp_path / "home" / "toy"
    folder.mkdir(parents=True)
    for split, arrays in splits.items():
        np.savez(folder / f"{split}.npz", **arrays)
    if index is not None:
        (tmp_path / "home" / "index.json").write_text(index if isinstance(index, str) else json.dumps(index))
    return tmp_path / "home"


GOOD_L = np.array([[0, 1, -1], [1, 1, 0], [-1, 0, 0]])


def test_a_good_folder_loads_with_k_inferred_or_given(tmp_path):
    home = _home(tmp_path, train={"L": GOOD_L}, test={"L": GOOD_L, "y": np.array([0, 1, 0])})
    d = load_dataset("toy", home)
    assert d.n_class == 2 and list(d.splits) == ["train", "test"]
    np.testing.assert_array_equal(d.splits["test"].y, [0, 1, 0])
    np.testing.assert_array_equal(d.splits["train"].y, [-1, -1, -1])


@pytest.mark.parametrize(
    ("splits", "index", "message"),
    [
        ({"train": {"L": GOOD_L, "y": np.array([0, 1])}}, None, r"train.npz: .*y"),
        ({"train": {"L": np.array([[0, 1, -3], [1, 1, 0]])}}, None, r"train.npz: .*value -3"),
        ({"train": {"L": np.array([[0.5, 1, 0], [1, 1, 0]])}}, None, r"train.npz: .*non-integer value 0.5"),
        ({"train": {"L": np.array([0, 1, 1])}}, None, r"train.npz: .*2-dimensional"),
        (
            {"train": {"L": GOOD_L, "y": np.array([0, 3, 0])}},
            {"toy": {"k": 2}},
            r"train.npz: .*y has value 3",
        ),
        ({"train": {"L": GOOD_L}}, {"toy": {"k": 1}}, r"index.json: 'toy' has k = 1"),
        ({"train": {"L": GOOD_L}}, "[1, 2]", r"index.json: expected an object"),
        ({"train": {"L": GOOD_L}}, "{not json", r"index.json: not readable JSON"),
        ({"train": {"y": np.array([0, 1, 0])}}, None, r"train.npz has no array 'L' \(arrays: y\)"),
        ({"train": {"L": GOOD_L}, "test": {"L": GOOD_L[:, :2]}}, None, r"test.npz: L has 2 LFs .* have 3"),
        ({"train": {"L": GOOD_L}}, {"toy": {"eval_split": "test"}}, r"evaluates on split 'test', which"),
        ({"train": {"L": GOOD_L, "ids": np.arange(2)}}, None, r"train.npz: array 'ids' has 2 entries but L"),
    ],
    ids=[
        "y-length",
        "below-abstain",
        "fraction",
        "1-d",
        "label-above-k",
        "k1",
        "list-index",
        "bad-json",
        "no-L",
        "lf-count",
        "missing-eval-split",
        "short-ids",
    ],
)
def test_a_bad_folder_names_the_file_and_the_problem(tmp_path, splits, index, message):
    home = _home(tmp_path, index=index, **splits)
    with pytest.raises(ValueError, match=message):
        load_dataset("toy", home)


def test_empty_splits_and_upper_case_suffixes_load(tmp_path):
    """A split of no rows was refused ('y is empty'); test.NPZ was skipped (a case-sensitive glob)."""
    home = _home(tmp_path, train={"L": GOOD_L}, valid={"L": GOOD_L[:0], "y": np.zeros(0, dtype=int)})
    (home / "toy" / "train.npz").rename(home / "toy" / "train.NPZ")
    d = load_dataset("toy", home)
    assert sorted(d.splits) == ["train", "valid"]
    assert d.splits["valid"].L.shape == (0, 3) and d.splits["valid"].y.shape == (0,)


def test_a_damaged_archive_names_the_file(tmp_path):
    home = _home(tmp_path, train={"L": GOOD_L})
    (home / "toy" / "train.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"train.npz: not a readable .npz archive"):
        load_dataset("toy", home)


def _wrench(tmp_path, examples):
    path = tmp_path / "train.json"
    path.write_text(examples if isinstance(examples, str) else json.dumps(examples))
    return path


def test_wrench_split_keeps_rows_labels_and_ids_aligned(tmp_path):
    examples = {
        "7": {"label": 1, "weak_labels": [1, -1, 0]},
        "3": {"label": None, "weak_labels": [0, 0, -1]},
        "5": {"weak_labels": [-1, 1, 1.0], "data": {"text": "x"}},
    }
    split = load_wrench_split(_wrench(tmp_path, examples))
    assert split.extra["ids"].tolist() == ["7", "3", "5"]
    np.testing.assert_array_equal(split.L, [[1, -1, 0], [0, 0, -1], [-1, 1, 1]])
    np.testing.assert_array_equal(split.y, [1, -1, -1])
    assert split.n_class == 2 and load_wrench_split(_wrench(tmp_path, examples), n_class=4).n_class == 4


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ({"a": {"label": 0, "weak_labels": [0.7, 1, -1]}}, r"example 'a' has weak_labels"),
        ({"a": {"label": 0.6, "weak_labels": [0, 1, -1]}}, r"example 'a' has label 0.6"),
        ({"a": {"label": 0, "weak_labels": ["1", 1, -1]}}, r"expected a list of integers"),
        ({"a": {"label": 0, "weak_labels": [[0], [1], [-1]]}}, r"expected a list of integers"),
        ({"a": {"label": 0, "weak_labels": [0, 1, -2]}}, r"value -2"),
        ({"a": {"label": -5, "weak_labels": [0, 1, -1]}}, r"label has value -5"),
        ({"a": {"label": 0, "weak_labels": []}}, r"\[0\] weak labels"),
        (
            {"a": {"label": 0, "weak_labels": [0, 1]}, "b": {"label": 0, "weak_labels": [0]}},
            r"\[1, 2\] weak labels",
        ),
        ({"a": {"label": 0}}, r"example 'a' is not in WRENCH layout"),
        ("{broken", r"not readable JSON"),
    ],
    ids=[
        "fraction",
        "label-fraction",
        "string",
        "nested",
        "below-abstain",
        "label-below",
        "empty",
        "ragged",
        "no-votes",
        "bad-json",
    ],
)
def test_wrench_split_refuses_bad_examples_naming_the_file(tmp_path, examples, message):
    with pytest.raises(ValueError, match=message) as info:
        load_wrench_split(_wrench(tmp_path, examples))
    assert "train.json" in str(info.value)


def test_make_synthetic_names_bad_options():
    import warnings

    from tripletws.datasets import make_synthetic

    with pytest.raises(ValueError, match=r"unipolar must be .* got 2.0"):
        make_synthetic(100, 5, 2, unipolar=2.0)
    with pytest.raises(ValueError, match=r"accuracies must be one number or 5 \(one per LF\)"):
        make_synthetic(100, 5, 2, accuracies=[0.7, 0.8])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one-class LFs of accuracy 0 or 1: no division warning
        d = make_synthetic(200, 4, 2, unipolar=True, accuracies=[1.0, 0.0, 0.7, 0.8], random_state=0)
    assert d.L.shape == (200, 4)
