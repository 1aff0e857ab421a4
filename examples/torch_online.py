"""Train an end model on a stream with ``WeakSupervisionLoss`` and compare with majority-vote labels.

The stream: rows with d Gaussian features whose mean depends on the hidden
label y, and m heterogeneous labeling functions (a few accurate LFs that often
abstain, many noisy LFs that almost always vote).  Majority vote lets the noisy
LFs outvote the accurate ones; the online label model learns their accuracies
from the agreements alone (no gold) and weighs them accordingly.

Three copies of one end model (logistic regression, or a 1-hidden-layer MLP
with ``--hidden``), same initialisation, same batches, one pass over the
stream, are trained on:

* ``label model``: ``WeakSupervisionLoss`` (online ``LabelModel.partial_fit``
  per batch, cross-entropy against its soft labels);
* ``majority vote``: the same cross-entropy against majority-vote soft labels;
* ``gold``: the true labels (a ceiling no weak-supervision method can pass).

Run::

    PYTHONPATH=src python examples/torch_online.py [--seeds 5] [--hidden 0]

It prints, per seed and on average, the accuracy on a held-out test set with
gold labels and the accuracy of the training labels each method produced.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from tripletws import MajorityLabelVoter
from tripletws.datasets import make_synthetic
from tripletws.torch_loss import WeakSupervisionLoss

#: (count, accuracy when voting, coverage) of the two LF groups
ACCURATE_LFS = (2, 0.95, 0.5)
NOISY_LFS = (8, 0.58, 0.9)


def make_stream(seed: int, n_train: int, n_test: int, d: int, separation: float):
    """Features X (n, d), LF votes L (n, m) and labels y, split into train stream and test set."""
    rng = np.random.default_rng(seed)
    acc = np.repeat([ACCURATE_LFS[1], NOISY_LFS[1]], [ACCURATE_LFS[0], NOISY_LFS[0]])
    cov = np.repeat([ACCURATE_LFS[2], NOISY_LFS[2]], [ACCURATE_LFS[0], NOISY_LFS[0]])
    n = n_train + n_test
    syn = make_synthetic(n, len(acc), 2, accuracies=acc, coverage=cov, random_state=rng)
    mu = rng.normal(size=d)
    mu *= separation / np.linalg.norm(mu)  # Bayes accuracy Phi(separation)
    X = ((2 * syn.y - 1)[:, None] * mu + rng.normal(size=(n, d))).astype(np.float32)
    train = (X[:n_train], syn.L[:n_train], syn.y[:n_train])
    test = (X[n_train:], syn.y[n_train:])
    return train, test


def end_model(d: int, hidden: int) -> nn.Module:
    if hidden:
        return nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, 2))
    return nn.Linear(d, 2)


def soft_cross_entropy(logits: torch.Tensor, targets: np.ndarray) -> torch.Tensor:
    t = torch.as_tensor(targets, dtype=logits.dtype)
    return -(t * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def train(method: str, seed: int, data, args) -> tuple[float, float]:
    """One pass over the stream; returns (test accuracy, accuracy of the decided training labels)."""
    (X, L, y), (X_test, y_test) = data
    torch.manual_seed(seed)
    net = end_model(X.shape[1], args.hidden)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    loss_fn = WeakSupervisionLoss(cardinality=2)
    mv = MajorityLabelVoter(cardinality=2)
    right = decided = 0
    for start in range(0, len(X), args.batch_size):
        rows = slice(start, start + args.batch_size)
        logits = net(torch.from_numpy(X[rows]))
        if method == "label model":
            loss = loss_fn(logits, torch.from_numpy(L[rows]))
            targets = loss_fn.last_targets.numpy()
        elif method == "majority vote":
            targets = mv.predict_proba(L[rows])
            loss = soft_cross_entropy(logits, targets)
        else:
            targets = np.eye(2)[y[rows]]
            loss = soft_cross_entropy(logits, targets)
        sure = np.abs(targets[:, 1] - 0.5) > 1e-9  # ties (and all-abstain rows under MV) teach nothing
        right += int(((targets[sure, 1] > 0.5) == y[rows][sure]).sum())
        decided += int(sure.sum())
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        pred = net(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    return float((pred == y_test).mean()), right / max(decided, 1)


def main(argv: list[str] | None = None) -> dict[str, np.ndarray]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--n-train", type=int, default=1280, help="rows in the training stream")
    ap.add_argument("--n-test", type=int, default=5000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--dim", type=int, default=100, help="feature dimension d")
    ap.add_argument("--separation", type=float, default=2.0)
    ap.add_argument("--hidden", type=int, default=0, help="hidden units (0 = logistic regression)")
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    methods = ("label model", "majority vote", "gold")
    test_acc = {k: [] for k in methods}
    label_acc = {k: [] for k in methods}
    t0 = time.perf_counter()
    print(f"{'seed':>4}  " + "  ".join(f"{m:>13}" for m in methods) + "   (test accuracy)")
    for seed in range(args.seeds):
        data = make_stream(seed, args.n_train, args.n_test, args.dim, args.separation)
        for m in methods:
            acc, lab = train(m, seed, data, args)
            test_acc[m].append(acc)
            label_acc[m].append(lab)
        print(f"{seed:>4}  " + "  ".join(f"{test_acc[m][-1]:>13.4f}" for m in methods))
    print(
        "mean  "
        + "  ".join(f"{np.mean(test_acc[m]):>13.4f}" for m in methods)
        + f"   ({time.perf_counter() - t0:.1f} s)"
    )
    print(
        "training-label accuracy (rows with a decided label): "
        + ", ".join(f"{m} {np.mean(label_acc[m]):.4f}" for m in methods[:2])
    )
    wins = sum(a > b for a, b in zip(test_acc["label model"], test_acc["majority vote"], strict=True))
    print(f"label model beats majority vote on {wins} of {args.seeds} seeds")
    return {m: np.asarray(test_acc[m]) for m in methods}


if __name__ == "__main__":
    main()
