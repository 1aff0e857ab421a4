"""PyTorch losses backed by online label models (skipped without torch)."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tripletws import LabelModel, compute_stats
from tripletws.datasets import make_synthetic

REPO = Path(__file__).resolve().parents[1]


def test_import_tripletws_does_not_import_torch():
    code = (
        "import sys, tripletws\n"
        "from tripletws.datasets import make_synthetic\n"
        "L = make_synthetic(300, 5, 2, random_state=0).L\n"
        "tripletws.LabelModel(window=2).partial_fit(L[:100]).partial_fit(L[100:]).predict_proba(L)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "src")},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _loss_module():
    from tripletws import torch_loss

    return torch_loss


def _same_label_model(a: LabelModel, b: LabelModel) -> None:
    assert a.stats_.n_rows == b.stats_.n_rows
    np.testing.assert_array_equal(a.stats_.agree, b.stats_.agree)
    np.testing.assert_array_equal(a.stats_.covote, b.stats_.covote)
    np.testing.assert_array_equal(a.params_.cond_probs, b.params_.cond_probs)
    np.testing.assert_array_equal(a.params_.class_balance, b.params_.class_balance)
    assert a.n_batches_ == b.n_batches_


@pytest.mark.parametrize("k", [2, 3])
def test_loss_is_cross_entropy_against_the_online_label_model(torch, k):
    tl = _loss_module()
    d = make_synthetic(3_000, 6, k, random_state=0)
    loss_fn = tl.WeakSupervisionLoss(cardinality=k)
    ref = LabelModel(k)
    gen = torch.Generator().manual_seed(0)
    for part in np.array_split(d.L, 6):
        logits = torch.randn(len(part), k, generator=gen, dtype=torch.float64, requires_grad=True)
        loss = loss_fn(logits, torch.from_numpy(part))
        ref.partial_fit(part)
        t = torch.from_numpy(ref.predict_proba(part))
        expected = -(t * torch.log_softmax(logits.detach(), dim=1)).sum(dim=1).mean()
        torch.testing.assert_close(loss.detach(), expected, rtol=1e-12, atol=0)
        loss.backward()
        # d/dz of the mean soft cross-entropy is (softmax(z) - t) / n
        grad = (torch.softmax(logits.detach(), dim=1) - t) / len(part)
        torch.testing.assert_close(logits.grad, grad, rtol=1e-9, atol=1e-15)
    _same_label_model(loss_fn.label_model, ref)
    torch.testing.assert_close(loss_fn.last_targets, t)


def test_binary_logit_forms_agree(torch):
    tl = _loss_module()
    d = make_synthetic(500, 5, 2, random_state=1)
    z = torch.randn(500, dtype=torch.float64)
    two = torch.stack([torch.zeros_like(z), z], dim=1)  # softmax of (0, z) = sigmoid(z)
    losses = []
    for out in (z, z[:, None], two):
        loss_fn = tl.WeakSupervisionLoss(2)
        losses.append(loss_fn(out, d.L))
    torch.testing.assert_close(losses[0], losses[2], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(losses[1], losses[2], rtol=1e-12, atol=1e-14)


def test_update_every_keeps_every_batch(torch):
    tl = _loss_module()
    d = make_synthetic(7_000, 6, 2, random_state=2)
    parts = np.array_split(d.L, 7)
    loss_fn = tl.WeakSupervisionLoss(2, update_every=3)
    z = torch.zeros(1_000)
    for t, part in enumerate(parts):
        loss_fn(z, part)
        if t == 4:  # solved at batches 0 and 3 (with 1, 2); batch 4 waits
            assert loss_fn.label_model.n_batches_ == 2
            assert loss_fn.label_model.stats_.n_rows == 4_000
    assert loss_fn.label_model.n_batches_ == 3
    assert loss_fn.n_batches == 7
    ref = compute_stats(d.L, 2)
    np.testing.assert_array_equal(loss_fn.label_model.stats_.agree, ref.agree)


def test_a_failed_call_leaves_the_label_model_and_queue_untouched(torch):
    """Wrong outputs or bad votes raise before the batch reaches the label model or the pending queue:
    fixing the call and retrying counts the batch once, and later batches are not poisoned."""
    tl = _loss_module()
    d = make_synthetic(4_000, 6, 2, random_state=3)
    parts = np.array_split(d.L, 4)
    for every in (1, 3):
        loss_fn = tl.WeakSupervisionLoss(2, update_every=every)
        loss_fn(torch.zeros(1_000), parts[0])
        with pytest.raises(ValueError, match=r"outputs have shape \(1000, 3\)"):
            loss_fn(torch.zeros(1_000, 3), parts[1])
        bad = parts[1].copy()
        bad[3, 2] = 7
        with pytest.raises(ValueError, match="value 7 in column 2"):
            loss_fn(torch.zeros(1_000), bad)
        with pytest.raises(ValueError, match="votes have 5 columns"):
            loss_fn(torch.zeros(1_000), parts[1][:, :5])
        assert loss_fn.n_batches == 1 and loss_fn.label_model.n_batches_ == 1 and not loss_fn._pending
        for part in parts[1:]:  # the good batches, once each
            loss_fn(torch.zeros(1_000), part)
        assert loss_fn.n_batches == 4
        # every row counted once: absorbed by the label model or waiting for the next update
        waiting = sum(len(v) for v, _ in loss_fn._pending)
        assert loss_fn.label_model.stats_.n_rows + waiting == 4_000


def test_eval_mode_freezes_the_label_model(torch):
    tl = _loss_module()
    d = make_synthetic(2_000, 5, 2, random_state=3)
    loss_fn = tl.WeakSupervisionLoss(2)
    with pytest.raises(RuntimeError, match="not fitted"):
        loss_fn.eval()(torch.zeros(10), d.L[:10])
    loss_fn.train()(torch.zeros(1_000), d.L[:1_000])
    before = loss_fn.label_model.stats_.n_rows
    loss_fn.eval()(torch.zeros(1_000), d.L[1_000:])
    assert loss_fn.label_model.stats_.n_rows == before
    assert loss_fn.n_batches == 1


def test_reductions_and_uncovered_rows(torch):
    tl = _loss_module()
    d = make_synthetic(400, 4, 2, coverage=0.3, random_state=4)
    L = d.L.copy()
    covered = (L >= 0).any(axis=1)
    assert 0 < covered.sum() < len(L)
    z = torch.randn(len(L), 2, dtype=torch.float64)
    per_row = tl.WeakSupervisionLoss(2, reduction="none")(z, L)
    assert per_row.shape == (len(L),)
    total = tl.WeakSupervisionLoss(2, reduction="sum")(z, L)
    torch.testing.assert_close(total, per_row.sum())
    dropped = tl.WeakSupervisionLoss(2, drop_uncovered=True)(z, L)
    torch.testing.assert_close(dropped, per_row[torch.from_numpy(covered)].mean())


def test_bad_arguments(torch):
    tl = _loss_module()
    d = make_synthetic(100, 5, 3, random_state=5)
    loss_fn = tl.WeakSupervisionLoss(3)
    with pytest.raises(ValueError, match=r"shape \(100, 2\); expected logits of shape \(100, 3\)"):
        loss_fn(torch.zeros(100, 2), d.L)
    with pytest.raises(ValueError, match=r"votes must have shape \(n, m\)"):
        loss_fn(torch.zeros(100, 3), d.L[:, 0])
    with pytest.raises(ValueError, match=r"non-integer value 0\.5 in column 0 \(row 0\)"):
        loss_fn(torch.zeros(100, 3), torch.full((100, 5), 0.5))
    with pytest.raises(ValueError, match=r"floating-point logits, got dtype torch\.int64"):
        loss_fn(torch.zeros(100, 3, dtype=torch.int64), d.L)  # was torch's NotImplementedError
    with pytest.raises(ValueError, match="cardinality 2, the loss 3"):
        tl.WeakSupervisionLoss(3, label_model=LabelModel(2))
    with pytest.raises(ValueError, match="update_every"):
        tl.WeakSupervisionLoss(2, update_every=0)
    with pytest.raises(ValueError, match="reduction"):
        tl.WeakSupervisionLoss(2, reduction="max")


@pytest.mark.parametrize("label_model_kwargs", [{}, {"window": 3}, {"forget": 0.8}])
def test_state_dict_checkpoint_resumes_exactly(torch, label_model_kwargs):
    tl = _loss_module()
    d = make_synthetic(10_000, 6, 2, random_state=6)
    parts = np.array_split(d.L, 10)
    z = torch.zeros(1_000, 2)

    def make():
        return tl.WeakSupervisionLoss(2, label_model=LabelModel(2, **label_model_kwargs), update_every=2)

    straight = make()
    straight_losses = [straight(z, p).item() for p in parts]

    first = make()
    for p in parts[:4]:  # solves at batches 0 and 2; batch 3 is pending (update_every=2)
        first(z, p)
    buf = io.BytesIO()
    torch.save(first.state_dict(), buf)
    buf.seek(0)
    resumed = make()
    resumed.load_state_dict(torch.load(buf, weights_only=True))
    assert len(resumed._pending) == 1
    resumed_losses = [resumed(z, p).item() for p in parts[4:]]
    assert resumed_losses == straight_losses[4:]
    _same_label_model(resumed.label_model, straight.label_model)
    assert resumed.n_batches == straight.n_batches == 10


def test_example_beats_majority_vote(torch):
    """The example's end model trained with the loss beats the one trained on majority vote.

    Both are scored on the same 5,000 gold test rows; the binomial standard error of one
    accuracy near 0.93 is about 0.0036, so the mean gap over 3 seeds must exceed 3 of them.
    """
    spec = importlib.util.spec_from_file_location("torch_online", REPO / "examples" / "torch_online.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    acc = example.main(["--seeds", "3", "--n-test", "5000"])
    se = np.sqrt(0.93 * 0.07 / 5_000)
    assert acc["label model"].mean() - acc["majority vote"].mean() > 3 * se
    assert (acc["label model"] <= acc["gold"] + 3 * se).all()


# -- sequences ---------------------------------------------------------------------------


@pytest.fixture
def seq(torch):
    """The sequence label model module (tripletws.sequence)."""
    return pytest.importorskip("tripletws.sequence")


def _sequences(seed: int, n_sequences: int = 60, length=(5, 40), persistence: float = 0.9):
    from tripletws.datasets import make_synthetic_sequences

    return make_synthetic_sequences(
        n_sequences, length, m=5, k=2, persistence=persistence, coverage=0.6, random_state=seed
    )


def _padded(d, seqs: np.ndarray):
    """Votes (B, T, m), labels (B, T) and mask (B, T) of the given sequences, padded at the end."""
    rows = [np.flatnonzero(d.sequence_ids == s) for s in seqs]
    T = max(len(r) for r in rows)
    V = np.full((len(rows), T, d.L.shape[1]), -1, dtype=d.L.dtype)
    mask = np.zeros((len(rows), T), dtype=bool)
    for b, r in enumerate(rows):
        V[b, : len(r)] = d.L[r]
        mask[b, : len(r)] = True
    return V, mask


def test_sequence_runs_numbers_contiguous_sequences(torch):
    tl = _loss_module()
    runs, n = tl.sequence_runs(np.array(["a", "a", "b", "c", "c", "c"]))
    assert runs.tolist() == [0, 0, 1, 2, 2, 2] and n == 3
    with pytest.raises(ValueError, match="sequence id 'a' appears again at row 3"):
        tl.sequence_runs(np.array(["a", "a", "b", "a"]))


def test_sequence_loss_flat_matches_the_sequence_label_model(torch, seq):
    SequenceLabelModel = seq.SequenceLabelModel
    tl = _loss_module()
    d = _sequences(0)
    loss_fn = tl.SequenceWeakSupervisionLoss(2)
    ref = SequenceLabelModel(2)
    gen = torch.Generator().manual_seed(1)
    for seqs in np.array_split(np.arange(60), 4):  # batches of whole sequences
        rows = np.isin(d.sequence_ids, seqs)
        L, ids = d.L[rows], d.sequence_ids[rows]
        logits = torch.randn(len(L), 2, generator=gen, dtype=torch.float64)
        loss = loss_fn(logits, torch.from_numpy(L), sequence_ids=torch.from_numpy(ids))
        ref.partial_fit(L, ids)
        t = torch.from_numpy(ref.predict_proba(L, ids))
        expected = -(t * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
        torch.testing.assert_close(loss, expected, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(loss_fn.label_model.stats_.agree, ref.stats_.agree)
    np.testing.assert_array_equal(loss_fn.label_model.cross_stats_.agree, ref.cross_stats_.agree)
    assert loss_fn.label_model.persistence_ == ref.persistence_
    assert loss_fn.n_sequences == 60


def test_sequence_loss_padded_layout_equals_flat(torch, seq):
    tl = _loss_module()
    d = _sequences(2)
    flat_fn = tl.SequenceWeakSupervisionLoss(2)
    padded_fn = tl.SequenceWeakSupervisionLoss(2, reduction="none")
    for seqs in np.array_split(np.arange(60), 3):
        rows = np.isin(d.sequence_ids, seqs)
        V, mask = _padded(d, seqs)
        z = torch.randn(*mask.shape, dtype=torch.float64)  # (B, T) binary logits
        per_frame = padded_fn(z, torch.from_numpy(V), mask=torch.from_numpy(mask))
        assert per_frame.shape == mask.shape
        assert (per_frame[torch.from_numpy(~mask)] == 0).all()
        flat = flat_fn(z[torch.from_numpy(mask)], d.L[rows], sequence_ids=d.sequence_ids[rows])
        torch.testing.assert_close(per_frame.sum() / mask.sum(), flat, rtol=1e-12, atol=0)
    a, b = padded_fn.label_model, flat_fn.label_model
    np.testing.assert_array_equal(a.cross_stats_.agree, b.cross_stats_.agree)
    np.testing.assert_array_equal(a.stats_.agree, b.stats_.agree)


def test_sequence_loss_labels_beat_per_frame_labels(torch, seq):
    """With persistent labels the chain's soft labels are more accurate than per-frame ones.

    About 13,000 frames: the standard error of a difference of two accuracies near 0.85
    is below 0.0045, so the gap must exceed 3 of them.
    """
    tl = _loss_module()
    d = _sequences(3, n_sequences=400, length=(10, 55), persistence=0.95)
    seq_fn, frame_fn = tl.SequenceWeakSupervisionLoss(2), tl.WeakSupervisionLoss(2)
    right_seq = right_frame = 0
    for seqs in np.array_split(np.arange(400), 8):
        rows = np.isin(d.sequence_ids, seqs)
        z = torch.zeros(int(rows.sum()), 2)
        seq_fn(z, d.L[rows], sequence_ids=d.sequence_ids[rows])
        frame_fn(z, d.L[rows])
        y = d.y[rows]
        right_seq += int((seq_fn.last_targets.argmax(1).numpy() == y).sum())
        right_frame += int((frame_fn.last_targets.argmax(1).numpy() == y).sum())
    n = len(d.y)
    se = np.sqrt(2 * 0.85 * 0.15 / n)
    assert (right_seq - right_frame) / n > 3 * se, (right_seq / n, right_frame / n)


def test_sequence_loss_checkpoint_resumes_exactly(torch, seq):
    tl = _loss_module()
    d = _sequences(4)
    batches = [np.isin(d.sequence_ids, s) for s in np.array_split(np.arange(60), 6)]
    z = [torch.zeros(int(r.sum()), 2) for r in batches]

    def run(loss_fn, idx):
        return [loss_fn(z[i], d.L[batches[i]], sequence_ids=d.sequence_ids[batches[i]]).item() for i in idx]

    straight = tl.SequenceWeakSupervisionLoss(2, update_every=2)
    expected = run(straight, range(6))
    first = tl.SequenceWeakSupervisionLoss(2, update_every=2)
    run(first, range(4))  # batch 3 pending
    buf = io.BytesIO()
    torch.save(first.state_dict(), buf)
    buf.seek(0)
    resumed = tl.SequenceWeakSupervisionLoss(2, update_every=2)
    resumed.load_state_dict(torch.load(buf, weights_only=True))
    assert run(resumed, range(4, 6)) == expected[4:]
    assert resumed.n_sequences == straight.n_sequences == 60
    a, b = resumed.label_model, straight.label_model
    np.testing.assert_array_equal(a.cross_stats_.agree, b.cross_stats_.agree)
    assert a.persistence_ == b.persistence_


def test_sequence_loss_bad_arguments(torch, seq):
    tl = _loss_module()
    d = _sequences(5, n_sequences=4, length=6)
    loss_fn = tl.SequenceWeakSupervisionLoss(2)
    V, mask = _padded(d, np.arange(4))
    holes = mask.copy()
    holes[1, 2] = False
    with pytest.raises(ValueError, match="mask row 1 has a real frame after padding"):
        loss_fn(torch.zeros(4, 6), V, mask=holes)
    with pytest.raises(ValueError, match=r"expected \(4, 6, 2\) or \(4, 6\)"):
        loss_fn(torch.zeros(4, 5), V)
    with pytest.raises(ValueError, match="appears again"):
        loss_fn(torch.zeros(24), d.L, sequence_ids=np.tile([0, 1], 12))
    with pytest.raises(ValueError, match="not both"):
        loss_fn(torch.zeros(24), d.L, sequence_ids=d.sequence_ids, mask=mask)
    with pytest.raises(ValueError, match=r"votes must have shape \(batch, T, m\)"):
        loss_fn(torch.zeros(24), d.L)
