"""Regression tests for defects found by a practitioner's fuzzing pass of the torch losses and the online
label model (``tripletws.torch_loss``, ``LabelModel.partial_fit``).

Each test's docstring says what the code did before its fix.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_online_fuzz_fixes import _votes  # the same votes

from tripletws import LabelModel


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def tl(torch):
    return pytest.importorskip("tripletws.torch_loss")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_dataframe_votes_keep_their_column_names(torch, tl):
    """The loss read DataFrame votes with np.asarray, dropping the names: columns reordered between
    batches were silently read as other LFs (partial_fit and predict_proba refuse them)."""
    pd = pytest.importorskip("pandas")
    L = _votes(600)
    frame = pd.DataFrame(L, columns=list("abcdef"))
    for update_every in (1, 3):
        loss_fn = tl.WeakSupervisionLoss(2, update_every=update_every)
        loss_fn(torch.zeros(300, 2), frame[:300])
        assert loss_fn.label_model.lf_names_ == tuple("abcdef")
        swapped = frame[300:][list("fedcba")]
        with pytest.raises(ValueError, match="votes names the model's LFs in another order: column 0 is 'f'"):
            loss_fn(torch.zeros(300, 2), swapped)
        assert loss_fn.n_batches == 1 and not loss_fn._pending  # refused before the label model saw it
        loss_fn.eval()
        with pytest.raises(ValueError, match="another order"):
            loss_fn(torch.zeros(300, 2), swapped)
        loss_fn(torch.zeros(300, 2), frame[300:])  # the same order, or unnamed votes, still label
        loss_fn(torch.zeros(300, 2), L[300:])
    seq = tl.SequenceWeakSupervisionLoss(2)
    ids = np.repeat(np.arange(30), 10)
    seq(torch.zeros(300, 2), frame[:300], sequence_ids=ids)
    with pytest.raises(ValueError, match="another order"):
        seq(torch.zeros(300, 2), frame[300:][list("fedcba")], sequence_ids=ids)
    # a DataFrame's missing vote is named by its column, as partial_fit names it (was "dtype object")
    holes = frame.astype("Int64")
    holes.iloc[3, 2] = pd.NA
    with pytest.raises(ValueError, match=r"NaN in column 2 \('c'\) \(row 3\)"):
        tl.WeakSupervisionLoss(2)(torch.zeros(600, 2), holes)


def test_drop_uncovered_mean_in_float16(torch, tl):
    """drop_uncovered's mean summed and counted the covered rows in the logits' dtype: in float16 a batch
    of 65,520 or more covered rows counted inf and the loss was 0."""
    dtype = torch.float16
    n = 70_000
    L = _votes(n)
    covered = (L >= 0).any(axis=1)
    assert covered.sum() > 65_520
    outputs = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    loss_fn = tl.WeakSupervisionLoss(2, label_model=LabelModel(2, model="symmetric"), drop_uncovered=True)
    low = outputs.to(dtype).requires_grad_()
    loss = loss_fn(low, L)
    loss.backward()
    assert loss.dtype == dtype
    # the reference: the same float16 per-row losses, their mean over the covered rows taken in float64
    loss_fn.eval()
    per_row = tl.WeakSupervisionLoss(2, label_model=loss_fn.label_model, reduction="none").eval()
    rows = per_row(low.detach(), L).double()
    expected = float(rows[torch.as_tensor(covered)].mean())
    # float32 pairwise sums (log2(n) < 17 roundings of 2**-24 each), then one rounding to float16 (2**-11)
    bound = (torch.finfo(dtype).eps / 2 + 17 * torch.finfo(torch.float32).eps / 2) * expected
    assert abs(float(loss) - expected) <= bound
    assert torch.isfinite(low.grad).all() and float(low.grad.abs().sum()) > 0


def test_drop_uncovered_must_be_a_bool(torch, tl):
    """drop_uncovered went through bool(): the text 'False' (or 'no') switched it on, silently."""
    for value in ("False", "no", 1, None):
        with pytest.raises(ValueError, match="drop_uncovered must be True or False, got"):
            tl.WeakSupervisionLoss(2, drop_uncovered=value)
        with pytest.raises(ValueError, match="drop_uncovered must be True or False"):
            tl.SequenceWeakSupervisionLoss(2, drop_uncovered=value)
    assert tl.WeakSupervisionLoss(2, drop_uncovered=np.bool_(True)).drop_uncovered is True


def test_eval_mode_before_training_names_the_loss(torch, tl):
    """A loss in eval mode before any training batch said the label model's 'call fit first' (there is no
    fit to call on a loss); now it says to train on a batch first or give a fitted label_model."""
    from tripletws.base import NotFittedError

    loss_fn = tl.WeakSupervisionLoss(2).eval()
    with pytest.raises(
        NotFittedError, match="WeakSupervisionLoss is in eval mode and its label model is not fitted"
    ):
        loss_fn(torch.zeros(4, 2), _votes(4))
    seq = tl.SequenceWeakSupervisionLoss(2).eval()
    with pytest.raises(ValueError, match="SequenceWeakSupervisionLoss is in eval mode"):
        seq(torch.zeros(4, 2), _votes(4), sequence_ids=[0, 0, 1, 1])
    fitted = LabelModel(2).fit(_votes(300))
    tl.WeakSupervisionLoss(2, label_model=fitted).eval()(torch.zeros(4, 2), _votes(4))


@pytest.mark.parametrize("value", [0.5, 2.0, -1.0, float("nan")])
def test_padding_mask_values_other_than_0_1(torch, tl, value):
    """A padding mask went through astype(bool): 0.5, 2, -1 and NaN were all read as real frames."""
    V = _votes(200).reshape(20, 10, 6)
    mask = torch.ones(20, 10)
    mask[:, 8:] = 0
    loss_fn = tl.SequenceWeakSupervisionLoss(2)
    loss_fn(torch.zeros(20, 10, 2), V, mask=mask)  # a float 0/1 mask is fine
    mask[3, 9] = value
    with pytest.raises(
        ValueError, match=r"mask must hold booleans or 0/1 \(1 = a real frame\); mask\[3, 9\] is"
    ):
        loss_fn(torch.zeros(20, 10, 2), V, mask=mask)
    assert loss_fn.n_batches == 1


def test_flush_hands_the_queued_votes_to_the_label_model(torch, tl):
    """With update_every > 1 the votes of the batches after the last scheduled update stayed in the loss's
    queue for good: label_model.refit() at the end of training (as documented) left them out, and there
    was no way to hand them over.  flush() does; then the stream is the model of one fit on every row."""
    L = _votes(1000)
    loss_fn = tl.WeakSupervisionLoss(2, update_every=3)
    for i in range(5):  # batches 0 and 3 update; 4 waits
        loss_fn(torch.zeros(200, 2), L[i * 200 : (i + 1) * 200])
    assert len(loss_fn._pending) == 1 and loss_fn.label_model.stats_.n_rows == 800
    assert loss_fn.flush() is loss_fn
    assert not loss_fn._pending and loss_fn.label_model.stats_.n_rows == 1000
    loss_fn.flush()  # nothing waits: nothing happens
    assert loss_fn.label_model.stats_.n_rows == 1000
    loss_fn.label_model.refit()
    one_fit = LabelModel(2).fit(L)
    # the same statistics summed in another grouping (exact integer counts), and the same solver
    np.testing.assert_allclose(loss_fn.label_model.predict_proba(L), one_fit.predict_proba(L), atol=1e-9)
    # the schedule goes on: batch 5 waits, batch 6 updates
    loss_fn(torch.zeros(200, 2), L[:200])
    assert len(loss_fn._pending) == 1
    seq = tl.SequenceWeakSupervisionLoss(2, update_every=2)
    ids = np.repeat(np.arange(20), 10)
    for i in range(4):
        seq(torch.zeros(200, 2), L[i * 200 : (i + 1) * 200], sequence_ids=ids)
    assert len(seq._pending) == 1
    seq.flush()
    assert not seq._pending


@pytest.mark.parametrize("growth", [1e306, 1e308])
@pytest.mark.parametrize("kwargs", [{}, {"forget": 0.5}])
def test_refit_growth_near_the_float_range(growth, kwargs):
    """A refit_growth of 1e306 or more (a finite number, accepted) overflowed both sides of the due rule
    to inf, so every batch was solved: the opposite of the setting.  It now behaves as 1e300 does."""
    L = _votes(3000)
    solved = []
    for g in (growth, 1e300):
        model = LabelModel(2, model="symmetric", refit_growth=g, **kwargs)
        for i in range(6):
            model.partial_fit(L[i * 500 : (i + 1) * 500])
        solved.append((model.solved_rows_, model.pending_rows_))
    assert solved[0] == solved[1]
    assert solved[0][0] == 500.0  # only the first batch was solved
