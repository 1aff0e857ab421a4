"""Posteriors of every model configuration on every shared data set, to check a refactor changes nothing.

Fits each configuration below on each data set (the ``train`` split, or ``all`` for the crowd sets),
predicts on the data set's evaluation split (``train`` when it has none) and stores the posteriors,
one array per (data set, configuration), in an ``.npz`` file.  Run it before a change with ``--save``
and after it with ``--compare``; the comparison prints the largest absolute difference per
configuration and overall, and exits 1 when it exceeds ``--tol``::

    PYTHONPATH=src python benchmarks/posteriors_unchanged.py --data /path/to/data --save /tmp/ref.npz
    PYTHONPATH=src python benchmarks/posteriors_unchanged.py --data /path/to/data --compare /tmp/ref.npz

``--data`` is a folder of ``<name>/<split>.npz`` files with an ``index.json`` (the layout of
``benchmarks/peers/common.py``).  ``--big`` adds the default model's posteriors on 1e6 x 50 synthetic
matrices (``make_synthetic``, coverage 0.5, 0.3 and 0.1), fitted with ``n_jobs`` 1 and 2: the large-fit
paths (a hash sample of the distinct rows, sparse designs, row blocks on two threads).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

CONFIGS: dict[str, dict] = {
    "default": {},
    "cc estimate": {"model": "class_conditional", "class_balance": "estimate"},
    "cc uniform": {"model": "class_conditional", "class_balance": "uniform"},
    "cc em": {"model": "class_conditional", "em_steps": 20},
    "cc strict": {"model": "class_conditional", "max_overrule": 0.0},
    "cc deps": {"model": "class_conditional", "dependencies": [(0, 1)]},
    "sym": {"model": "symmetric"},
    "sym estimate": {"model": "symmetric", "class_balance": "estimate"},
    "sym triplet": {"model": "symmetric", "solver": "triplet"},
    "sym median": {"model": "symmetric", "solver": "triplet_median"},
    "sym rank_one": {"model": "symmetric", "solver": "rank_one"},
    "sym eigen": {"model": "symmetric", "signs": "eigen"},
    "sym deps": {"model": "symmetric", "dependencies": [(0, 1)]},
    "majority": {"baseline": "majority"},
}


def _splits(data: Path, name: str, info: dict) -> tuple[np.ndarray, np.ndarray]:
    splits = info["splits"]
    fit_split = "train" if "train" in splits else "all"
    eval_split = info.get("eval_split") or fit_split
    L_fit = np.load(data / name / f"{fit_split}.npz")["L"]
    L_eval = np.load(data / name / f"{eval_split}.npz")["L"]
    return L_fit, L_eval


def _posteriors(config: dict, k: int, L_fit: np.ndarray, L_eval: np.ndarray) -> np.ndarray:
    from tripletws import LabelModel, MajorityLabelVoter

    if config.get("baseline") == "majority":
        return MajorityLabelVoter(cardinality=k).predict_proba(L_eval)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(cardinality=k, **config).fit(L_fit).predict_proba(L_eval)


def collect(data: Path) -> dict[str, np.ndarray]:
    """Posteriors keyed ``"<data set>/<configuration>"``; a fit that raises is recorded as NaN."""
    index = json.loads((data / "index.json").read_text())
    out = {}
    for name, info in index.items():
        L_fit, L_eval = _splits(data, name, info)
        for label, config in CONFIGS.items():
            try:
                out[f"{name}/{label}"] = _posteriors(config, int(info["k"]), L_fit, L_eval)
            except ValueError as exc:  # e.g. a dependency the set's LFs cannot support
                print(f"{name}/{label}: {exc}", file=sys.stderr)
                out[f"{name}/{label}"] = np.full((1, 1), np.nan)
    return out


#: (coverage, seed) of the ``--big`` matrices, fitted with each of BIG_JOBS.
BIG = ((0.5, 0), (0.3, 0), (0.1, 3))
BIG_JOBS = (1, 2)


def collect_big() -> dict[str, np.ndarray]:
    """The default model's posteriors on the 1e6 x 50 matrices, keyed ``"synthetic-.../default n_jobs=J"``."""
    from tripletws import LabelModel
    from tripletws.datasets import make_synthetic

    out = {}
    for coverage, seed in BIG:
        L = make_synthetic(1_000_000, 50, 2, coverage=coverage, random_state=seed).L
        for jobs in BIG_JOBS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                P = LabelModel(cardinality=2, n_jobs=jobs).fit(L).predict_proba(L)
            out[f"synthetic-1e6x50-c{coverage}-s{seed}/default n_jobs={jobs}"] = P
    return out


def compare(new: dict[str, np.ndarray], ref_path: Path) -> float:
    """Largest |dP| over all keys (NaN records must match NaN records); prints per configuration."""
    ref = dict(np.load(ref_path))
    if set(ref) != set(new):
        raise SystemExit(f"keys differ: {sorted(set(ref) ^ set(new))}")
    worst: dict[str, float] = {}
    for key in sorted(ref):
        a, b = ref[key], new[key]
        if a.shape != b.shape or (np.isnan(a).any() != np.isnan(b).any()):
            diff = float("inf")
        elif np.isnan(a).any():
            diff = 0.0
        else:
            diff = float(np.max(np.abs(a - b), initial=0.0))
        label = key.split("/", 1)[1]
        worst[label] = max(worst.get(label, 0.0), diff)
    for label, diff in worst.items():
        print(f"{label:16s} max |dP| = {diff:.3g}")
    return max(worst.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--compare", type=Path)
    parser.add_argument("--tol", type=float, default=1e-12)
    parser.add_argument(
        "--big", action="store_true", help="also the 1e6 x 50 synthetic fits (n_jobs 1 and 2)"
    )
    args = parser.parse_args(argv)
    posteriors = collect(args.data)
    if args.big:
        posteriors.update(collect_big())
    if args.save:
        np.savez_compressed(args.save, **posteriors)
        print(f"saved {len(posteriors)} posterior arrays to {args.save}")
        return 0
    worst = compare(posteriors, args.compare)
    print(f"overall max |dP| = {worst:.3g} over {len(posteriors)} arrays (tol {args.tol:g})")
    return 0 if worst <= args.tol else 1


if __name__ == "__main__":
    raise SystemExit(main())
