"""Sequence model and torch losses: regressions found by a fuzz round (prior kept by a stream, partial_fit's
warnings, an impossible persistence estimate, loss state and batch checks)."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from tripletws.datasets import make_synthetic, make_synthetic_sequences
from tripletws.sequence import SequenceLabelModel


def _quiet_fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(*args, **kwargs)


# -- a prior given to fit / partial_fit is kept by the stream ---------------------------------------------


@pytest.fixture
def skewed():
    return make_synthetic_sequences(20, (5, 30), m=5, k=2, class_balance=[0.3, 0.7], random_state=3)


@pytest.mark.parametrize("where", ["fit", "partial_fit"])
def test_a_prior_given_once_is_kept_for_later_batches(skewed, where):
    L, ids = skewed.L, skewed.sequence_ids
    one = _quiet_fit(SequenceLabelModel(2), L, ids, class_balance=[0.3, 0.7])
    stream = SequenceLabelModel(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if where == "fit":
            stream.fit(L[:100], ids[:100], class_balance=[0.3, 0.7])
        else:
            stream.partial_fit(L[:50], ids[:50])
            stream.partial_fit(L[50:100], ids[50:100], class_balance=[0.3, 0.7])
    stream.partial_fit(L[100:], ids[100:])
    np.testing.assert_allclose(stream.class_balance_, [0.3, 0.7])
    np.testing.assert_allclose(stream.predict_proba(L, ids), one.predict_proba(L, ids), atol=1e-12)


def test_a_kept_prior_survives_a_model_file_and_a_new_one_replaces_it(skewed, tmp_path):
    L, ids = skewed.L, skewed.sequence_ids
    y_dev = np.array([0] * 3 + [1] * 7)
    model = _quiet_fit(SequenceLabelModel(2), L[:100], ids[:100], Y_dev=y_dev)
    model.save(tmp_path / "chain.json")
    loaded = SequenceLabelModel.load(tmp_path / "chain.json")
    loaded.partial_fit(L[100:150], ids[100:150])
    np.testing.assert_allclose(loaded.class_balance_, [0.3, 0.7])
    assert loaded.frame_model_.class_balance_source_ == "Y_dev"
    loaded.partial_fit(L[150:200], ids[150:200], class_balance=[0.4, 0.6])
    loaded.partial_fit(L[200:], ids[200:])
    np.testing.assert_allclose(loaded.class_balance_, [0.4, 0.6])
    assert loaded.frame_model_.class_balance_source_ == "given"


def test_fit_starts_over_without_the_earlier_prior(skewed):
    L, ids = skewed.L, skewed.sequence_ids
    model = _quiet_fit(SequenceLabelModel(2), L, ids, class_balance=[0.3, 0.7])
    _quiet_fit(model, L[:100], ids[:100])
    model.partial_fit(L[100:], ids[100:])
    np.testing.assert_allclose(model.class_balance_, [0.5, 0.5])  # the constructor's "uniform"


# -- partial_fit logs fit's warnings; fit's warnings name the caller's line --------------------------------


def test_partial_fit_raises_none_of_fits_warnings_and_keeps_them_as_notes(caplog):
    s = make_synthetic_sequences(60, (1, 6), m=5, k=2, persistence=0.8, random_state=0)
    model = SequenceLabelModel(2)
    with caplog.at_level(logging.INFO, logger="tripletws"), warnings.catch_warnings():
        warnings.simplefilter("error")
        for b in np.array_split(np.arange(len(s.L)), 20)[:8]:
            model.partial_fit(s.L[b], s.sequence_ids[b])
    logged = [
        r.getMessage().split("partial_fit: ", 1)[1]
        for r in caplog.records
        if "partial_fit: " in r.getMessage()
    ]
    assert logged
    assert set(model.notes_) <= set(logged) and model.notes_  # the last solve's notes, each logged


def test_fit_warnings_name_the_callers_line():
    L = -np.ones((20, 4), int)
    L[:, 0] = 1  # LFs 1-3 never vote; no consecutive frames with usable votes
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SequenceLabelModel(2).fit(L)
    assert len(caught) >= 2
    assert {w.filename for w in caught} == {__file__}
    assert set(model.notes_) >= {str(w.message) for w in caught}


# -- an impossible persistence estimate --------------------------------------------------------------------


@pytest.mark.parametrize("seed, tau_raw", [(1, r"3\.723"), (22, r"1\.067")])
def test_an_estimate_outside_its_range_is_clipped_with_a_warning(seed, tau_raw):
    # far outside (seed 1) or just outside (seed 22): the clip stays (falling back to rho = 0 loses most of
    # the chain's gain on strongly persistent frames, whose raw tau also lands well above 1), but it is said
    s = make_synthetic_sequences(30, (1, 40), m=5, k=2, persistence=0.8, random_state=seed)
    with pytest.warns(
        UserWarning, match=rf"tau_raw = {tau_raw} .*upper bound 0\.999999.*persistence="
    ) as caught:
        model = SequenceLabelModel(2).fit(s.L, s.sequence_ids)
    assert all(w.filename == __file__ for w in caught)
    assert model.persistence_ == pytest.approx(1 - 1e-6)
    assert any("tau_raw" in note for note in model.notes_)


def test_a_plausible_estimate_warns_nothing():
    s = make_synthetic_sequences(30, (1, 40), m=5, k=2, persistence=0.8, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SequenceLabelModel(2).fit(s.L, s.sequence_ids)
    assert 0.7 < model.persistence_ < 0.9
    assert not any("tau_raw" in note for note in model.notes_)


def test_the_persistence_note_is_kept_in_the_model_file(tmp_path):
    s = make_synthetic_sequences(30, (1, 40), m=5, k=2, persistence=0.8, random_state=1)
    model = _quiet_fit(SequenceLabelModel(2), s.L, s.sequence_ids)
    model.save(tmp_path / "chain.json")
    loaded = SequenceLabelModel.load(tmp_path / "chain.json")
    assert loaded.notes_ == model.notes_
    assert loaded.transition_estimate_ == model.transition_estimate_


# -- fit_stats starts a new stream -------------------------------------------------------------------------


def test_fit_stats_forgets_the_last_frame_of_an_earlier_fit():
    s = make_synthetic_sequences(10, 20, m=5, k=2, random_state=0)
    L, ids = s.L, s.sequence_ids
    a = _quiet_fit(SequenceLabelModel(2), L[:100], ids[:100])  # ends in sequence 4
    b = _quiet_fit(SequenceLabelModel(2), L[100:], ids[100:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.fit_stats(b.stats_, b.cross_stats_)
    before = a.cross_stats_.n_pairs
    a.partial_fit(L[80:100], ids[80:100])  # 20 frames of sequence 4: 19 links, none to the old frame
    assert a.cross_stats_.n_pairs - before == 19


# -- a fixed persistence outside its range -----------------------------------------------------------------


@pytest.mark.parametrize("k, rho", [(3, -0.9), (3, -0.51), (2, -1.2), (2, 1.0)])
def test_a_fixed_persistence_outside_its_range_is_refused(k, rho):
    s = make_synthetic_sequences(20, (5, 30), m=5, k=k, random_state=3)
    with pytest.raises(ValueError, match=rf"persistence must lie in .*got {rho}"):
        SequenceLabelModel(k, persistence=rho).fit(s.L, s.sequence_ids)


def test_a_fixed_persistence_below_what_the_prior_allows_is_raised_with_a_warning():
    s = make_synthetic_sequences(20, (5, 30), m=5, k=2, random_state=3)
    with pytest.warns(UserWarning, match="persistence=-0.9 is below") as caught:
        model = SequenceLabelModel(2, persistence=-0.9, class_balance=[0.3, 0.7]).fit(s.L, s.sequence_ids)
    assert all(w.filename == __file__ for w in caught)
    assert model.persistence_ == pytest.approx(-0.3 / 0.7, abs=1e-5)


# -- torch losses ------------------------------------------------------------------------------------------


@pytest.fixture
def tl():
    pytest.importorskip("torch")
    from tripletws import torch_loss

    return torch_loss


def test_a_pretrained_sequence_model_is_not_continued_by_the_loss(tl):
    import torch

    s = make_synthetic_sequences(1, 50, m=5, k=2, random_state=0)  # one sequence, id 0
    pre = _quiet_fit(SequenceLabelModel(2), s.L, s.sequence_ids)
    before = pre.cross_stats_.n_pairs
    s2 = make_synthetic_sequences(4, 10, m=5, k=2, random_state=1)
    loss = tl.SequenceWeakSupervisionLoss(2, label_model=pre)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss(torch.zeros(40, 2), s2.L, sequence_ids=s2.sequence_ids)
    assert loss.label_model.cross_stats_.n_pairs - before == 4 * 9


def test_load_state_dict_refuses_another_cardinality(tl):
    import torch

    a = tl.WeakSupervisionLoss(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a(torch.zeros(200, 2), make_synthetic(200, 5, 2, random_state=0).L)
    b = tl.WeakSupervisionLoss(3)
    with pytest.raises(ValueError, match="cardinality 2, the loss 3"):
        b.load_state_dict(a.state_dict())
    assert b.cardinality == 3


@pytest.mark.parametrize("training", [True, False])
def test_an_empty_batch_is_a_value_error_in_both_modes(tl, training):
    import torch

    L = make_synthetic(200, 5, 2, random_state=0).L
    loss = tl.WeakSupervisionLoss(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss(torch.zeros(200, 2), L)
    loss.train(training)
    with pytest.raises(ValueError, match="votes have no rows"):
        loss(torch.zeros(0, 2), L[:0])


def test_update_every_accepts_numpy_integers(tl):
    assert tl.WeakSupervisionLoss(2, update_every=np.int64(2)).update_every == 2
    assert type(tl.SequenceWeakSupervisionLoss(2, update_every=np.int32(3)).update_every) is int


def test_the_padded_layout_names_the_shape_passed(tl):
    import torch

    s = make_synthetic_sequences(2, 8, m=4, k=2, random_state=1)
    with pytest.raises(ValueError, match=r"outputs have shape \(2, 8, 3\); expected \(2, 8, 2\)"):
        tl.SequenceWeakSupervisionLoss(2)(torch.zeros(2, 8, 3), s.L.reshape(2, 8, 4))
