"""Estimator contract and thread safety of LabelModel, MajorityLabelVoter and SequenceLabelModel, as a
scikit-learn user meets them: a fit that raises keeps the previous fit, fits and predictions from
several threads never mix two fits, parameters are checked at fit time."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import tripletws.model as model_module
from tripletws import LabelModel, MajorityLabelVoter, SequenceLabelModel
from tripletws.datasets import make_synthetic
from tripletws.models import get_solver

TIMEOUT = 10.0  # seconds any thread of these tests may wait: a deadlock fails the test, never hangs it


@pytest.fixture(scope="module")
def two_datasets() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two label matrices of 6 LFs and 3 classes with different accuracies, and gold labels of the
    second."""
    first = make_synthetic(400, 6, 3, random_state=0)
    second = make_synthetic(400, 6, 3, random_state=1)
    return first.L, second.L, second.y


def _fit(model: LabelModel, *args, **kwargs) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(*args, **kwargs)


def _run(target, *args, name: str = "worker") -> tuple[threading.Thread, list]:
    """Start ``target(*args)`` on a thread called ``name``; the list receives its result or its
    exception."""
    out: list = []

    def body() -> None:
        try:
            out.append(target(*args))
        except BaseException as exc:  # handed to the test thread
            out.append(exc)

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return thread, out


def _joined(thread: threading.Thread, out: list):
    thread.join(TIMEOUT)
    assert not thread.is_alive(), "thread still running: deadlock"
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def test_fit_with_bad_dev_rows_keeps_the_previous_fit(two_datasets):
    # the gold-free fit of the new L_train was kept before the dev rows were checked: a fit that raised
    # (L_dev with another number of LFs) had replaced the model's fit with that of the new data
    L1, L2, y2 = two_datasets
    model = _fit(LabelModel(3), L1)
    expected = model.predict_proba(L1)
    with pytest.raises(ValueError, match="L_dev has 5 LFs"):
        _fit(model, L2, L_dev=L2[:20, :5], Y_dev=y2[:20])
    np.testing.assert_array_equal(model.predict_proba(L1), expected)
    assert model.__dict__.get("_dev_set") is None


def test_predict_during_a_fit_with_dev_rows_never_sees_the_gold_free_fit(two_datasets, monkeypatch):
    # the gold-free fit was kept on the model while the dev rows chose: a predict from another thread
    # at that moment returned the gold-free fit's posteriors, a model no fit ever ended with
    L1, L2, y2 = two_datasets
    model = _fit(LabelModel(3), L1)
    before = model.predict_proba(L1)
    solver = get_solver("annotator")
    choosing, predicted = threading.Event(), threading.Event()
    original = type(solver).choose_with_dev

    def paused(self, *args, **kwargs):
        choosing.set()
        assert predicted.wait(TIMEOUT)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(solver), "choose_with_dev", paused)
    fit_thread, fit_out = _run(lambda: _fit(model, L2, L_dev=L2[:40], Y_dev=y2[:40]))
    assert choosing.wait(TIMEOUT)
    seen = model.predict_proba(L1)  # while the dev rows choose
    predicted.set()
    _joined(fit_thread, fit_out)
    np.testing.assert_array_equal(seen, before)


def test_predict_proba_reads_one_fit_while_another_thread_refits(two_datasets, monkeypatch):
    # predict_proba read the fit twice (the vote tables, then the estimate's mixture): a refit between
    # the two reads mixed a k = 3 fit's checks with a k = 2 fit's mixture
    L1, L2, _ = two_datasets
    model = _fit(LabelModel(3), L1)
    expected = model.predict_proba(L1)
    L2 = np.where(L2 == 2, -1, L2)  # two classes
    checking, refitted = threading.Event(), threading.Event()
    original = model_module.check_label_matrix

    def paused(*args, **kwargs):
        if threading.current_thread().name == "predictor":
            checking.set()
            assert refitted.wait(TIMEOUT)
        return original(*args, **kwargs)

    monkeypatch.setattr(model_module, "check_label_matrix", paused)
    thread, out = _run(model.predict_proba, L1, name="predictor")
    assert checking.wait(TIMEOUT)
    _fit(model.set_params(cardinality=2, combine="stack"), L2)
    refitted.set()
    np.testing.assert_array_equal(_joined(thread, out), expected)


def test_each_fit_tells_its_own_notes_when_two_threads_fit_at_once(two_datasets, monkeypatch):
    # the notes (warnings, the verbose log line) were read back from the model after its lock was let
    # go: a fit in another thread in between made this fit warn that fit's notes
    L1, _, _ = two_datasets
    model = LabelModel(3)
    first_done, second_done = threading.Event(), threading.Event()
    told: dict[int, int] = {}
    warn_unlikely = model_module.warn_unlikely_input

    def paused(*args, **kwargs):
        if threading.current_thread().name == "first fit":
            first_done.set()
            assert second_done.wait(TIMEOUT)
        return warn_unlikely(*args, **kwargs)

    def tell(solution, *args, **kwargs):
        told[threading.get_ident()] = solution.params.n_lfs

    monkeypatch.setattr(model_module, "warn_unlikely_input", paused)
    monkeypatch.setattr(model_module, "_tell", tell)
    thread, out = _run(model.fit, L1, name="first fit")  # 6 LFs
    assert first_done.wait(TIMEOUT)
    model.fit(L1[:, :4])  # 4 LFs, while the first fit is about to tell its notes
    second_done.set()
    _joined(thread, out)
    assert told == {thread.ident: 6, threading.get_ident(): 4}
    assert model.n_lfs_ == 4


@pytest.mark.parametrize(
    ("setting", "value"),
    [("cardinality", 1), ("cardinality", "2"), ("random_state", -1), ("random_state", "a")],
)
def test_majority_vote_fit_refuses_bad_settings(two_datasets, setting, value):
    # MajorityLabelVoter.fit returned self whatever its settings (a bad cardinality raised only at
    # predict, a bad random_state only at a "true-random" tie-break); LabelModel.fit refuses them
    L1, _, _ = two_datasets
    voter = MajorityLabelVoter(3).set_params(**{setting: value})
    with pytest.raises(ValueError, match=setting):
        voter.fit(L1)
    assert MajorityLabelVoter(3, random_state=np.random.default_rng(0)).fit(L1).predict(L1).shape == (400,)


@pytest.mark.parametrize(
    ("setting", "value"), [("same_lf_pairs", "no"), ("same_lf_pairs", None), ("verbose", "yes")]
)
def test_sequence_fit_refuses_a_flag_that_is_not_a_bool(two_datasets, setting, value):
    # SequenceLabelModel(same_lf_pairs="no").fit used the same-LF pairs ("no" is true) and
    # verbose="yes" fitted too: the flags were checked only when a model file was loaded
    L1, _, _ = two_datasets
    model = SequenceLabelModel(3).set_params(**{setting: value})
    with pytest.raises(ValueError, match=f"{setting} must be True or False"):
        model.fit(L1)
    with pytest.raises(ValueError, match=f"{setting} must be True or False"):
        model.partial_fit(L1)


def test_sequence_partial_fit_from_two_threads_counts_both_batches(two_datasets, monkeypatch):
    # SequenceLabelModel.partial_fit had no lock: two threads read the same running statistics, added
    # their batch and kept their sum, so one batch was silently lost
    L1, L2, _ = two_datasets
    model = _fit(SequenceLabelModel(3), L1)
    barrier = threading.Barrier(2, timeout=1.0)  # both calls at once where they can be (no lock)
    original = SequenceLabelModel._solve

    def meeting(self, *args, **kwargs):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:  # serialised: the other call waits for this one's lock
            pass
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SequenceLabelModel, "_solve", meeting)
    threads = [_run(model.partial_fit, batch, name=f"batch {i}") for i, batch in enumerate((L2, L1[:100]))]
    for thread, out in threads:
        assert _joined(thread, out) is model
    assert model.stats_.n_rows == 400 + 400 + 100


def test_sequence_predict_proba_reads_one_fit_while_another_thread_refits(two_datasets, monkeypatch):
    # predict_proba read the frame model, then the persistence: a refit in between gave the old frame
    # model's scores chained with the new fit's persistence, posteriors of neither fit
    import tripletws.sequence as sequence_module

    L1, L2, _ = two_datasets
    model = _fit(SequenceLabelModel(3, persistence=0.2), L1)
    expected = model.predict_proba(L1)
    scoring, refitted = threading.Event(), threading.Event()
    original = sequence_module.log_scores

    def paused(*args, **kwargs):
        if threading.current_thread().name == "predictor":
            scoring.set()
            assert refitted.wait(TIMEOUT)
        return original(*args, **kwargs)

    monkeypatch.setattr(sequence_module, "log_scores", paused)
    thread, out = _run(model.predict_proba, L1, name="predictor")
    assert scoring.wait(TIMEOUT)
    _fit(model.set_params(persistence=0.8), L2)
    refitted.set()
    np.testing.assert_array_equal(_joined(thread, out), expected)


def test_repr_of_long_parameters_is_one_short_line():
    # the repr printed every value whole: 3000 declared edges and a 5000-class prior made a 40 kB,
    # many-line repr (scikit-learn cuts long reprs)
    model = LabelModel(
        5000, dependencies=[(i, i + 1) for i in range(3000)], class_balance=np.full(5000, 1 / 5000)
    )
    text = repr(model)
    assert len(text) < 1000 and "\n" not in text
    assert text.startswith("LabelModel(cardinality=5000, ") and "dependencies=[(0, 1), (1, 2)" in text
    assert "(2999, 3000)]" in text and "refit_growth='auto')" in text  # the end of a long value is kept
    short = LabelModel(class_balance=np.array([0.2, 0.8]), random_state=7)
    assert "class_balance=array([0.2, 0.8])" in repr(short) and "random_state=7" in repr(short)
    assert repr(SequenceLabelModel(3, window=4)).startswith("SequenceLabelModel(cardinality=3, window=4,")
