"""``tripletws demo``: fit on synthetic data with known LF accuracies and compare."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from ..baselines import MajorityLabelVoter
from ..model import LabelModel
from .options import (
    CLIError,
    fmt_value,
    table,
)


def add_parser(sub: Any) -> None:
    """Register the command's parser on the subparsers ``sub``."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "demo",
        help="fit on synthetic data with known LF accuracies and compare",
        description="Draw a synthetic label matrix with known LF accuracies, fit the label model on it, "
        "and print estimated vs true accuracies and label accuracy vs majority vote.",
        formatter_class=fmt,
    )
    p.add_argument("--n", type=int, metavar="N", default=100_000, help="rows (default: %(default)s)")
    p.add_argument("--m", type=int, metavar="M", default=10, help="labeling functions (default: %(default)s)")
    p.add_argument("--k", type=int, metavar="K", default=2, help="classes (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: %(default)s)")
    p.set_defaults(func=run)


#: The demo's largest problem (votes plus fitted tables): a few seconds and well under a GB.
DEMO_MAX_CELLS = 2e8

#: Below this first-fit time (seconds) the demo also times a second fit of the same matrix: there the
#: first call's one-time costs are a visible share of the time; above it they are not worth a refit.
WARM_REFIT_BELOW_S = 1.0


def run(args: argparse.Namespace) -> int:
    from ..datasets import make_synthetic

    if args.n < 100 or args.m < 3 or args.k < 2:
        raise CLIError(
            f"demo needs --n >= 100, --m >= 3 and --k >= 2; got n={args.n}, m={args.m}, k={args.k}"
        )
    cells = float(args.n) * args.m + float(args.m) * (args.k + 1) * args.k  # the votes and the fitted tables
    if cells > DEMO_MAX_CELLS:
        raise CLIError(
            f"demo --n {args.n} --m {args.m} --k {args.k} is a demonstration of {cells:.3g} numbers; "
            f"keep n * m + m * (k + 1) * k within {DEMO_MAX_CELLS:.0e} (fit your own data with 'fit')"
        )
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}")
    rng = np.random.default_rng(args.seed)
    accuracies = rng.uniform(0.55, 0.9, size=args.m) if args.k == 2 else rng.uniform(0.4, 0.85, size=args.m)
    coverage = rng.uniform(0.1, 0.9, size=args.m)
    data = make_synthetic(args.n, args.m, args.k, accuracies=accuracies, coverage=coverage, random_state=rng)
    t0 = time.perf_counter()
    model = LabelModel(cardinality=args.k).fit(data.L)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    probs = model.predict_proba(data.L)
    t_pred = time.perf_counter() - t0
    true_acc = data.accuracies
    print(
        f"synthetic label matrix: n={args.n} rows, m={args.m} LFs, k={args.k} classes (seed {args.seed}); "
        "the model sees only L, never y"
    )
    est_acc = model.accuracies_
    err = np.abs(est_acc - true_acc)
    rows = [
        [
            str(i),
            fmt_value(data.coverage[i], 3),
            fmt_value(true_acc[i], 3),
            fmt_value(est_acc[i], 3),
            fmt_value(err[i], 3),
        ]
        for i in range(args.m)
    ]
    print(table(["LF", "coverage", "true acc", "estimated", "abs error"], rows))
    print(f"mean absolute error of the estimated accuracies: {err.mean():.4f}")
    from ..predictions import probs_to_preds

    pred_model = probs_to_preds(probs, "random")
    pred_mv = MajorityLabelVoter(args.k).predict(data.L, tie_break_policy="random")
    acc_model = float(np.mean(pred_model == data.y))
    acc_mv = float(np.mean(pred_mv == data.y))
    print(f"label accuracy: label model {acc_model:.4f}, majority vote {acc_mv:.4f} (ties broken at random)")
    timing = f"time: fit {t_fit * 1e3:.1f} ms, predict_proba {t_pred * 1e3:.1f} ms"
    if t_fit < WARM_REFIT_BELOW_S:
        # the first fit of a process pays one-time costs (lazy imports such as scipy.sparse, first use
        # of the buffers); a second fit of the same matrix shows what later fits cost
        t0 = time.perf_counter()
        LabelModel(cardinality=args.k).fit(data.L)
        t_again = time.perf_counter() - t0
        timing += f" (first calls in this process); a second fit: {t_again * 1e3:.1f} ms"
    print(timing)
    return 0
