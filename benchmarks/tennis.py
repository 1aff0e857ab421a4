"""Tennis rally frames (FlyingSquid's video example): per-frame and chain label models.

Fits on the train split (no gold), evaluates on valid (gold for every frame) and
writes ``benchmarks/results/tennis.md`` (and ``.json``).  Frames are one video in
temporal order (``frame`` = 0..n-1), so the chain model treats each split as one
long sequence; the window rows cut it into FlyingSquid's windows of v = 3 frames.

Run with the project's Python (our methods only)::

    PYTHONPATH=src python benchmarks/tennis.py

or with the peers' env (``benchmarks/peers/setup_env.sh``) to add FlyingSquid rows::

    PYTHONPATH=src benchmarks/peers/.venv/bin/python benchmarks/tennis.py

Each timing is the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tripletws import LabelModel, MajorityLabelVoter, probs_to_preds  # noqa: E402
from tripletws.atomic import atomic_write_text  # noqa: E402
from tripletws.datasets import load_dataset  # noqa: E402
from tripletws.diagnostics import dependency_candidates  # noqa: E402
from tripletws.sequence import SequenceLabelModel  # noqa: E402

DATA = Path(os.environ.get("TRIPLETWS_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"
logging.getLogger("pgmpy").setLevel(logging.ERROR)


def metrics(y: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    pred = probs_to_preds(probs, "random")
    tp = np.sum((pred == 1) & (y == 1))
    fp = np.sum((pred == 1) & (y == 0))
    fn = np.sum((pred == 0) & (y == 1))
    onehot = np.eye(2)[y]
    return {
        "acc": float(np.mean(pred == y)),
        "f1": float(2 * tp / max(2 * tp + fp + fn, 1)),
        "brier": float(np.mean(np.sum((probs - onehot) ** 2, axis=1))),
    }


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, float(np.median(times))


def our_methods(v: int):
    """name -> (fit(L_train) -> fitted, predict_proba(fitted, L_valid), note)."""
    return {
        "majority vote": (lambda L: MajorityLabelVoter(), lambda m, L: m.predict_proba(L), ""),
        "LabelModel (per frame)": (lambda L: LabelModel().fit(L), lambda m, L: m.predict_proba(L), ""),
        "SequenceLabelModel (one sequence)": (
            lambda L: SequenceLabelModel().fit(L),
            lambda m, L: m.predict_proba(L),
            "rho estimated from cross-frame moments",
        ),
        f"SequenceLabelModel (window={v})": (
            lambda L: SequenceLabelModel(window=v).fit(L),
            lambda m, L: m.predict_proba(L),
            "FlyingSquid's windows, seq = frame // v",
        ),
        "SequenceLabelModel (one sequence, deps (3,5))": (
            lambda L: SequenceLabelModel(dependencies=[(3, 5)]).fit(L),
            lambda m, L: m.predict_proba(L),
            "top pair of the dependency diagnostic declared",
        ),
    }


def oracle_chain(train, valid):
    """The chain with parameters measured on valid gold (a ceiling, not a method): per-LF
    accuracies, class balance and P(label stays) of the valid frames."""
    from tripletws import LabelModelParams
    from tripletws.chain import chain_posteriors
    from tripletws.estimators.transition import tau_to_persistence
    from tripletws.inference import log_scores
    from tripletws.matrix import check_label_matrix

    y, L = valid.y, valid.L
    acc = np.array([np.mean(L[L[:, i] >= 0, i] == y[L[:, i] >= 0]) for i in range(L.shape[1])])
    p = np.bincount(y, minlength=2) / len(y)
    tau = 2 * np.mean(y[1:] == y[:-1]) - 1
    rho = tau_to_persistence(tau, p)
    params = LabelModelParams.symmetric(acc, (train.L >= 0).mean(axis=0), p)
    logE = log_scores(check_label_matrix(L, 2), params) - np.log(p)
    starts = np.zeros(len(y), dtype=bool)
    starts[0] = True
    return chain_posteriors(logE, starts, rho, p), rho


def flyingsquid_methods(v: int, m: int):
    """FlyingSquid per frame and with v-frame windows (temporal edges), as in its Video notebook."""
    try:
        from flyingsquid.label_model import LabelModel as FS
    except ImportError:
        return {}

    def fs(L):
        return np.where(L < 0, 0, 2 * L.astype(np.int64) - 1)

    def fit_frame(L):
        model = FS(m)
        model.fit(fs(L), solve_method="triplet_mean", verbose=False)
        return model

    def fit_window(L):
        n = len(L) // v * v
        model = FS(
            v * m,
            v=v,
            y_edges=[(i, i + 1) for i in range(v - 1)],
            lambda_y_edges=[(i, i // m) for i in range(v * m)],
        )
        model.fit(fs(L[:n]).reshape(-1, v * m), solve_method="triplet_mean", verbose=False)
        return model

    def predict_window(model, L):
        n = len(L) // v * v
        p1 = np.asarray(model.predict_proba_marginalized(fs(L[:n]).reshape(-1, v * m))).reshape(-1)
        return np.stack([1 - p1, p1], axis=1)

    return {
        "FlyingSquid (per frame)": (
            fit_frame,
            lambda model, L: np.asarray(model.predict_proba(fs(L)), dtype=np.float64),
            "",
        ),
        f"FlyingSquid (v={v} temporal)": (
            fit_window,
            predict_window,
            "drops the last partial window: scored on the first {n_win} frames",
        ),
    }


def git_rev() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True, text=True
        )
        return rev + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt(x: float) -> str:
    return f"{x:.3f}" if x >= 0.01 else f"{x:.4f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    ds = load_dataset("tennis_flyingsquid", DATA)
    train, valid = ds["train"], ds["valid"]
    v = int(train.extra.get("v", 3))
    y = valid.y
    n_win = len(y) // v * v
    methods = {**our_methods(v), **flyingsquid_methods(v, train.L.shape[1])}
    rows = []
    for name, (fit, predict, note) in methods.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model, t_fit = timed(lambda fit=fit: fit(train.L), args.repeats)
            probs, t_pred = timed(lambda p=predict, mdl=model: p(mdl, valid.L), args.repeats)
        row = {"method": name, "fit_s": t_fit, "predict_s": t_pred, "note": note.format(n_win=n_win)}
        if len(probs) == len(y):
            row.update(metrics(y, probs))
        row.update({f"{k}_{n_win}": v_ for k, v_ in metrics(y[:n_win], probs[:n_win]).items()})
        if hasattr(model, "persistence_"):
            row["persistence"] = model.persistence_
        rows.append(row)
        print(f"{name:48s} " + " ".join(f"{k}={v_:.4f}" for k, v_ in row.items() if isinstance(v_, float)))
    probs, rho = oracle_chain(train, valid)
    row = {
        "method": "chain with valid-gold parameters (ceiling)",
        "fit_s": float("nan"),
        "predict_s": float("nan"),
    }
    row.update(metrics(y, probs))
    row.update({f"{k}_{n_win}": v_ for k, v_ in metrics(y[:n_win], probs[:n_win]).items()})
    row.update({"persistence": rho, "note": "not a method: LF accuracies, p and rho measured on valid gold"})
    rows.append(row)
    lm = LabelModel().fit(train.L)
    diag = dependency_candidates(train.L, lm, as_frame=False, top=5)
    env = f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"
    md = [
        "# Tennis rally frames: per-frame and chain label models",
        "",
        f"Generated by `benchmarks/tennis.py` on {time.strftime('%Y-%m-%d')}; tripletws @ {git_rev()}; "
        f"{env} (shared machine: timings indicative, median of {args.repeats}).",
        "",
        f"Data: `tennis_flyingsquid` (FlyingSquid's video tutorial; 6 LFs per frame). Fit on train "
        f"({len(train.L)} frames, no gold), evaluate on valid ({len(y)} frames, all with gold). Frames are "
        "one video in temporal order, so the chain model treats each split as one sequence. Predictions: "
        'argmax with the per-row hash tie-break (`tie_break_policy="random"`). F1 of class 1 (rally). '
        f"Metrics on all {len(y)} valid frames and on the first {n_win} (FlyingSquid's v = {v} windows "
        "drop the last partial window).",
        "",
        f"| method | acc | F1 | acc ({n_win}) | F1 ({n_win}) | Brier | rho | fit s | predict s | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [
            r["method"],
            fmt(r["acc"]) if "acc" in r else "n/a",
            fmt(r["f1"]) if "f1" in r else "n/a",
            fmt(r[f"acc_{n_win}"]),
            fmt(r[f"f1_{n_win}"]),
            fmt(r.get("brier", r[f"brier_{n_win}"])),
            fmt(r["persistence"]) if "persistence" in r else "",
            f"{r['fit_s']:.2g}" if np.isfinite(r["fit_s"]) else "",
            f"{r['predict_s']:.2g}" if np.isfinite(r["predict_s"]) else "",
            r["note"],
        ]
        md.append("| " + " | ".join(cells) + " |")
    if not any(r["method"].startswith("FlyingSquid") for r in rows):
        md += [
            "",
            "FlyingSquid was not importable in this run (use the peers' env to add its rows). "
            "Reference measured for the issue: FlyingSquid v = 3 temporal 0.887 acc / 0.860 F1; "
            "per-frame MV 0.883 / 0.852.",
        ]
    md += [
        "",
        "Dependency diagnostic on train "
        "(`dependency_candidates(L_train, LabelModel().fit(L_train))`, top 5 by z):",
        "",
        "| LF i | LF j | co-votes | agreement | expected | z | suspect |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in diag:
        md.append(
            f"| {r['lf_i']} | {r['lf_j']} | {int(r['n_covotes'])} | {r['agreement']:.3f} "
            f"| {r['expected']:.3f} | {r['z']:.1f} | {'yes' if r['suspect'] else 'no'} |"
        )
    md += [
        "",
        "Reading: on this video the chain adds little over the per-frame model (at most a few frames "
        "of 746). The LFs' errors are "
        "themselves persistent (an LF that is wrong on a frame is wrong on the next one 50-85 % of the time "
        "on valid, mostly around rally boundaries), which a chain over the labels with per-frame independent "
        "LF noise cannot correct, and the per-frame posteriors are confident (98.5 % of valid frames above "
        "0.9), so the estimated persistence rarely overturns a frame. The LFs also share errors (the "
        "diagnostic flags most pairs), which inflates the triplet accuracies. The ceiling row shows that "
        "even the right parameters gain little with this model.",
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "tennis.md", "\n".join(md))
    atomic_write_text(args.out / "tennis.json", json.dumps({"rows": rows, "diagnostic": diag}, indent=1))
    print(f"wrote {args.out / 'tennis.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
