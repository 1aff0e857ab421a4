"""Labels that Python counts as one (True and 1, False and 0) are refused, not merged into one class."""

from __future__ import annotations

import pandas as pd
import pytest

from tripletws.crowd import from_answers


def _answers(labels):
    n = len(labels)
    tasks, workers = [i // 2 for i in range(n)], ["a", "b"] * (n // 2)
    return pd.DataFrame({"task": tasks, "worker": workers, "label": labels})


@pytest.mark.parametrize(
    ("labels", "named"),
    [
        ([True, 1, 0, 0, "x", "x"], ("answer 1", "label 1", "label True")),
        ([True, 2, 0, False, "x", "x"], ("answer 2", "label 0", "label False")),
        ([1.0, True, "x", "y"], ("answer 0", "label 1.0", "label True")),
    ],
)
def test_bools_mixed_with_equal_numbers_are_refused(labels, named):
    with pytest.raises(ValueError, match="merge into one class") as info:
        from_answers(_answers(labels))
    for part in named:
        assert part in str(info.value)


def test_bools_alone_and_bools_with_other_labels_are_read():
    assert from_answers(_answers([True, False, True, True])).classes == (False, True)
    # a bool beside text and numbers it does not equal: distinct labels, nothing merged
    m = from_answers(_answers([True, 5, "x", 5]))
    assert len(m.classes) == 3
    # named classes: the same refusal where the answers mix them
    with pytest.raises(ValueError, match="merge into one class"):
        from_answers(_answers([True, 1, 0, 0]), classes=[0, 1])


@pytest.mark.parametrize("labels", [[True, False, 2, 2], [True, False, True, True]])
def test_booleans_against_numeric_classes_are_refused(labels):
    # classes=[0, 1, 2] names numbers: True would silently be class 1
    with pytest.raises(ValueError, match="boolean label True") as info:
        from_answers(_answers(labels), classes=[0, 1, 2])
    assert "answer 0" in str(info.value)


def test_booleans_named_in_classes_and_numbers_alone_are_read():
    assert from_answers(_answers([True, False, True, True]), classes=[False, True]).classes == (False, True)
    assert from_answers(_answers([0, 1, 2, 2]), classes=[0, 1, 2]).classes == (0, 1, 2)
    assert from_answers(_answers(["x", 1, "x", 1]), classes=["x", 1]).classes == ("x", 1)


def test_categorical_labels_mixing_booleans_and_numbers_are_refused():
    # pandas merged True and 1 when it built the categories: the answers cannot be told apart any more
    frame = _answers([True, 1, 0, 2, "x", "x"])
    frame["label"] = frame["label"].astype("category")
    assert len(frame["label"].cat.categories) == 4  # True, 0, 2, "x": 1 already read as True
    with pytest.raises(ValueError, match="categorical with categories that mix booleans") as info:
        from_answers(frame)
    assert "'label'" in str(info.value)
    assert "True" in str(info.value) and "0" in str(info.value)


def test_categorical_labels_of_one_type_are_read():
    frame = _answers(["yes", "no", "no", "no"])
    frame["label"] = frame["label"].astype("category")
    assert from_answers(frame).classes == ("no", "yes")
    frame = _answers([True, False, True, True])
    frame["label"] = frame["label"].astype("category")
    assert from_answers(frame).classes == (False, True)
    frame = _answers([0, 2, 1, 1])
    frame["label"] = frame["label"].astype("category")
    assert from_answers(frame).classes == (0, 1, 2)
