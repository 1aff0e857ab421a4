"""Fixes from fuzzing the less-used ``LabelModel`` settings (model, combine, copies, em_steps, ...)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from tripletws import LabelModel, compute_stats
from tripletws.datasets import make_synthetic

HERE = Path(__file__).name


@pytest.fixture(scope="module")
def L() -> np.ndarray:
    return make_synthetic(n=600, m=6, k=2, random_state=3).L


def _caught(call) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return list(caught)


@pytest.mark.parametrize(
    "model,settings,named",
    [
        ("symmetric", {"em_steps": 3}, "em_steps=3"),
        ("class_conditional", {"signs": "eigen"}, "signs='eigen'"),
        ("annotator", {"max_overrule": 0.5}, "max_overrule=0.5"),
    ],
)
def test_partial_fit_starting_a_stream_names_unread_settings(L, model, settings, named):
    # old: partial_fit on an unfitted model (the first batch of a stream, a fit) named nothing, while
    # fit(L) warned that the model does not read the setting
    caught = _caught(lambda: LabelModel(2, model=model, **settings).partial_fit(L))
    said = [w for w in caught if named in str(w.message) and "does not read" in str(w.message)]
    assert said and all(Path(w.filename).name == HERE for w in said)


def test_later_batches_of_a_stream_do_not_repeat_the_warning(L):
    model = LabelModel(2, model="symmetric", em_steps=3, refit_growth="always")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(L[:300])
    assert not [w for w in _caught(lambda: model.partial_fit(L[300:])) if "does not read" in str(w.message)]


@pytest.mark.parametrize(
    "settings", [{"combine": "stack"}, {"copies": "keep"}, {"one_class": "shared"}, {"balance_rule": "check"}]
)
@pytest.mark.parametrize("how", ["fit_stats", "dependencies"])
def test_annotator_settings_unread_by_its_symmetric_fallback_are_named(L, settings, how):
    # old: fit_stats or declared dependencies (the annotator solves the symmetric model) ignored the
    # annotator's own settings silently: the posteriors equal the defaults' and nothing was said
    name, value = next(iter(settings.items()))
    if how == "fit_stats":
        stats = compute_stats(L, 2)
        caught = _caught(lambda: LabelModel(2, **settings).fit_stats(stats))
    else:
        caught = _caught(lambda: LabelModel(2, dependencies=[(0, 1)], **settings).fit(L))
    said = [w for w in caught if f"{name}={value!r} ignored" in str(w.message)]
    assert said and "falls back to the symmetric model" in str(said[0].message)
    assert Path(said[0].filename).name == HERE


def test_annotator_fallback_with_default_settings_names_nothing(L):
    caught = _caught(lambda: LabelModel(2).fit_stats(compute_stats(L, 2)))
    assert not [w for w in caught if "ignored" in str(w.message)]
    caught = _caught(lambda: LabelModel(2, combine="stack").fit(L))  # read: no fallback
    assert not [w for w in caught if "ignored" in str(w.message)]
