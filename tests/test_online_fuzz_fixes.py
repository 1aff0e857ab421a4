"""Regression tests for bugs found by fuzzing the online path (partial_fit, the torch losses, checkpoints).

Each test says what the code did before its fix.
"""

from __future__ import annotations

import copy
import io
import warnings

import numpy as np
import pytest

from tripletws import LabelModel


def _votes(n: int, m: int = 6, k: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    L = np.where(rng.random((n, m)) < 0.75, y[:, None], rng.integers(0, k, (n, m)))
    return np.where(rng.random((n, m)) < 0.7, L, -1)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def tl(torch):
    import tripletws.torch_loss as tl

    return tl


# -- float and sparse votes given to the torch loss ---------------------------------------------


@pytest.mark.parametrize(
    "value, message",
    [
        (float("nan"), r"NaN in column 2 \(row 3\)"),  # was "votes must hold integer votes", no cell named
        (0.5, r"non-integer value 0\.5 in column 2 \(row 3\)"),  # idem
        # was cast to int64 first: "value -9223372036854775808 in column 2 (row 3)"
        (float("inf"), r"value inf in column 2 \(row 3\)"),
        (1e10, r"value 10000000000\.0 in column 2 \(row 3\)"),
    ],
)
def test_float_tensor_votes_name_the_bad_cell(torch, tl, value, message):
    votes = torch.tensor(_votes(8), dtype=torch.float32)
    votes[3, 2] = value
    loss_fn = tl.WeakSupervisionLoss(2)
    with pytest.raises(ValueError, match=message):
        loss_fn(torch.zeros(8, 2), votes)
    assert loss_fn.n_batches == 0 and not loss_fn._fitted()


def test_float_tensor_votes_train_as_integer_votes(torch, tl):
    L = _votes(200)
    a, b = tl.WeakSupervisionLoss(2, update_every=2), tl.WeakSupervisionLoss(2, update_every=2)
    z = torch.randn(200, 2)
    for half in (L[:100], L[100:]):
        la = a(z[:100], half)
        lb = b(z[:100], torch.tensor(half, dtype=torch.float64, requires_grad=True))
        torch.testing.assert_close(la, lb, rtol=0, atol=0)
    # the pending votes are kept as integers (state_dict records them as ints)
    assert b._pending == [] or b._pending[0][0].dtype.kind == "i"


def test_scipy_sparse_votes(torch, tl):
    """Sparse votes (class c stored as c + 1, as partial_fit reads them) work as dense ones."""
    sp = pytest.importorskip("scipy.sparse")
    L = _votes(50)
    z = torch.randn(50, 2)
    dense = tl.WeakSupervisionLoss(2)(z, L)
    # was: ValueError "votes must have shape (n, m), got ()" (np.asarray of a sparse matrix is 0-d)
    sparse = tl.WeakSupervisionLoss(2)(z, sp.csr_matrix(L + 1))
    torch.testing.assert_close(dense, sparse, rtol=0, atol=0)


def test_torch_sparse_votes_refused(torch, tl):
    votes = torch.tensor(_votes(8)).to_sparse()
    # was: TypeError "can't convert Sparse layout tensor to numpy"
    with pytest.raises(ValueError, match=r"layout torch\.sparse_coo"):
        tl.WeakSupervisionLoss(2)(torch.zeros(8, 2), votes)


# -- a label model fitted with another number of classes ----------------------------------------


def test_label_model_fitted_with_another_cardinality(torch, tl):
    lm = LabelModel(3, model="symmetric").fit(_votes(300, k=3))
    lm.set_params(cardinality=2)
    # was accepted; in eval mode the 1-D binary loss then read column 1 of 3-class probabilities
    with pytest.raises(ValueError, match="fitted with cardinality 3"):
        tl.WeakSupervisionLoss(2, label_model=lm)


def test_label_model_cardinality_changed_after_construction(torch, tl):
    lm = LabelModel(3)
    loss_fn = tl.WeakSupervisionLoss(3, label_model=lm)
    loss_fn(torch.zeros(100, 3), _votes(100, k=3))
    loss_fn.label_model.set_params(cardinality=2)
    assert loss_fn.cardinality == 3  # was 2: the loss read the label model's setting
    loss_fn.eval()
    # the loss labels with the fitted 3 classes, as it was built for
    out = loss_fn(torch.zeros(10, 3), _votes(10, k=2))
    assert out.shape == () and loss_fn.last_targets.shape == (10, 3)
    # a label model swapped for one fitted with another k is refused, not broadcast
    other = LabelModel(2, model="symmetric").fit(_votes(100))
    other.set_params(cardinality=3)
    loss_fn.label_model = other
    with pytest.raises(ValueError, match="probabilities of 2 classes, the loss has cardinality 3"):
        loss_fn(torch.zeros(10, 3), _votes(10))  # was a RuntimeError from broadcasting (10, 2) by (10, 3)


# -- the loss's state_dict is read field by field -----------------------------------------------


def _loss_state(torch, tl, sequences: bool = False):
    if sequences:
        loss_fn = tl.SequenceWeakSupervisionLoss(2, update_every=3)
        for i in range(5):
            loss_fn(torch.zeros(4, 6, 2), np.stack([_votes(6, seed=10 * i + j) for j in range(4)]))
    else:
        loss_fn = tl.WeakSupervisionLoss(2, update_every=3)
        for i in range(5):
            loss_fn(torch.zeros(30, 2), _votes(30, seed=i))
    assert loss_fn._pending
    return loss_fn.state_dict()


def _load(tl, state, change, sequences: bool = False):
    state = copy.deepcopy(state)
    change(state["_extra_state"])
    cls = tl.SequenceWeakSupervisionLoss if sequences else tl.WeakSupervisionLoss
    loss_fn = cls(2, update_every=3)
    loss_fn.load_state_dict(state)
    return loss_fn


def _set_ids(extra, value):
    extra["pending"][0]["ids"] = [value] * len(extra["pending"][0]["votes"])


def _set_vote(extra, value):
    extra["pending"][0]["votes"][0][0] = value


@pytest.mark.parametrize(
    "change, message",
    [
        # was kept: a negative batch counter
        (lambda e: e.__setitem__("n_batches", -1), r"_extra_state\.n_batches must be an integer"),
        # was truncated to 2
        (lambda e: e.__setitem__("n_batches", 2.7), r"_extra_state\.n_batches must be an integer"),
        # was "invalid literal for int()"
        (lambda e: e.__setitem__("n_batches", "x"), r"_extra_state\.n_batches must be an integer"),
        (lambda e: e.pop("n_batches"), r"lacks field\(s\) \['n_batches'\]"),  # was KeyError
        # was truncated to class 0 by np.asarray(..., dtype=int64)
        (lambda e: _set_vote(e, 0.5), r"pending\[0\]\.votes: .*non-integer value 0\.5 in column 0 \(row 0\)"),
        # was queued, to fail at a later update naming a row of the concatenated batches
        (lambda e: _set_vote(e, 7), r"pending\[0\]\.votes: .*value 7 in column 0 \(row 0\)"),
        (lambda e: e.__setitem__("pending", 5), r"_extra_state\.pending must be a list"),  # was TypeError
        (lambda e: e["pending"][0].pop("ids"), r"pending\[0\] lacks field"),  # was KeyError
        (lambda e: e["pending"][0].__setitem__("ids", [1]), r"pending\[0\]\.ids must be null"),  # was kept
        (lambda e: e.__setitem__("bogus", 1), r"unknown field\(s\) \['bogus'\]"),  # was ignored
    ],
)
def test_loss_state_dict_fields_checked(torch, tl, change, message):
    state = _loss_state(torch, tl)
    with pytest.raises(ValueError, match=message):
        _load(tl, state, change)


def test_loss_state_dict_round_trip_still_exact(torch, tl):
    state = _loss_state(torch, tl)
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    loaded = _load(tl, torch.load(buf, weights_only=True), lambda e: None)
    assert loaded.n_batches == 5 and len(loaded._pending) == 1
    saved = np.array(state["_extra_state"]["pending"][0]["votes"])
    np.testing.assert_array_equal(loaded._pending[0][0], saved)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda e: e.__setitem__("n_sequences", -3), r"n_sequences must be an integer"),  # was kept
        (lambda e: e.pop("n_sequences"), r"lacks field\(s\) \['n_sequences'\]"),  # was KeyError
        # was kept: an id of a sequence not numbered yet, which a later batch would number again
        (lambda e: _set_ids(e, 10**6), r"pending\[0\]\.ids holds ids outside"),
        (lambda e: e["pending"][0].__setitem__("ids", [0]), r"pending\[0\]\.ids must be a list of 24"),
    ],
)
def test_sequence_loss_state_dict_fields_checked(torch, tl, change, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        state = _loss_state(torch, tl, sequences=True)
    with pytest.raises(ValueError, match=message):
        _load(tl, state, change, sequences=True)


# -- unsigned votes whose abstains wrapped ------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint64])
def test_partial_fit_names_a_wrapped_abstain(dtype):
    model = LabelModel(2, model="symmetric").partial_fit(_votes(100))
    batch = _votes(50, seed=1)
    wrapped = batch.astype(dtype)  # -1 becomes the dtype's largest value
    r, c = np.argwhere(batch < 0)[0]
    top = np.iinfo(dtype).max
    # was: "... set cardinality=256 if there are 256 classes 0..255 ..." (for uint8), advice that cannot help
    with pytest.raises(ValueError, match=rf"value {top} in column {c} \(row {r}\).*-1 \(abstain\) cast to"):
        model.partial_fit(wrapped)
    assert model.n_batches_ == 1


def test_inferred_cardinality_refuses_a_wrapped_abstain():
    from tripletws.matrix import check_label_matrix

    L = _votes(40).astype(np.uint8)
    r, c = np.argwhere(L == 255)[0]
    # was: k = 256 inferred (the CLI's fit then solved a 256-class model of a 2-class stream)
    with pytest.raises(ValueError, match=rf"value 255 in column {c} \(row {r}\).*give the cardinality"):
        check_label_matrix(L)
    assert check_label_matrix(L, 256).cardinality == 256  # a class 255, when said so
    assert check_label_matrix(np.where(L == 255, 0, L).astype(np.uint8)).cardinality == 2


# -- a window's stream record ------------------------------------------------------------------


def test_window_record_with_more_batches_than_the_stream_saw(tmp_path):
    from test_model_file_fuzz_fixes import _write_signed

    from tripletws.io import load_model, model_to_dict

    model = LabelModel(2, model="symmetric", window=3)
    for seed in range(5):
        model.partial_fit(_votes(40, seed=seed))
    record = model_to_dict(model)
    record["state"]["stream"]["n_batches"] = 1
    # was loaded: n_batches_ said 1 (and the next batch 2) of a window holding 3 batches
    with pytest.raises(ValueError, match=r"batches hold 3 batches, more than stream\.n_batches \(1\)"):
        load_model(_write_signed(record, tmp_path / "bad.json"))
