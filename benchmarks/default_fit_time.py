"""Fit time of the default label model (``LabelModel()``, the annotator model with its gold-free choice).

For each shared set with gold (the fit split of /work/shared/tools/shared_index.json: ``train``
when there is one, else the eval split): median over ``--repeats`` fits of the wall time
(``time.perf_counter``) and of the CPU time of this process (``time.process_time``), with one
BLAS thread.  Then one synthetic 1e6 x 50 problem (make_synthetic, k = 2), the whole ``fit``
including the row summary and the choice.  The machine is shared: the load average
(``os.getloadavg``) is recorded with the figures; the CPU time is the figure to compare.
``--passes N`` times the shared sets in N passes, one after the other, and reports each pass's
medians and the median over passes: on this host the same code's times drift by 1.3-1.5x within
twenty minutes at the same load (docs/speed.md, "Session 14"), which one pass does not show.
The table counts the sets whose CPU time is within ``--target-ms`` (issue 7's 20 ms).

    PYTHONPATH=src python benchmarks/default_fit_time.py [--repeats 5] [--passes 3] [--profile]

Writes benchmarks/results/default_fit_time.{md,json}; ``--profile`` prints cProfile's top
entries for the slowest set.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from common import DATA, RESULTS, limit_threads, machine_info

from tripletws import LabelModel
from tripletws.atomic import atomic_write_text
from tripletws.datasets import make_synthetic

INDEX = Path(os.environ.get("TRIPLETWS_INDEX", DATA.parent / "tools" / "shared_index.json"))


def fit_split(name: str, meta: dict) -> np.ndarray:
    d = DATA / name
    split = meta.get("fit_split") or ("train" if (d / "train.npz").exists() else meta["eval_split"])
    return np.load(d / f"{split}.npz")["L"]


def time_fit(L: np.ndarray, k: int, repeats: int, kw: dict | None = None) -> dict:
    walls, cpus, family = [], [], ""
    for _ in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, c = time.perf_counter(), time.process_time()
            lm = LabelModel(cardinality=k, **(kw or {})).fit(L)
            cpus.append(time.process_time() - c)
            walls.append(time.perf_counter() - t)
        # the family the predictions come from (the coverage reading's when it was used)
        family = str(getattr(lm, "family_", "") or "")
    return {
        "n": int(L.shape[0]),
        "m": int(L.shape[1]),
        "k": k,
        "family": family,
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "repeats": repeats,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--big-repeats", type=int, default=3)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--passes", type=int, default=1, help="passes over the shared sets (medians of each)")
    ap.add_argument("--target-ms", type=float, default=20.0, help="CPU ms per fit counted as met")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument(
        "--model-kw",
        type=json.loads,
        default=None,
        metavar="JSON",
        help='LabelModel keywords (e.g. \'{"one_class": "shared"}\'); with them the results go to '
        "--out instead of results/default_fit_time.*",
    )
    ap.add_argument("--out", default=None, metavar="JSON", help="results path (.json; the .md beside it)")
    args = ap.parse_args()
    kw = args.model_kw or {}
    limit_threads(1)
    index = json.loads(INDEX.read_text())
    load_before = os.getloadavg()
    if args.passes < 1:
        ap.error("--passes must be at least 1")
    matrices = {name: (fit_split(name, meta), int(meta["k"])) for name, meta in index.items()}
    with warnings.catch_warnings():  # one untimed fit of each set: the compiled kernels load on first use
        warnings.simplefilter("ignore")
        for L, k in matrices.values():
            LabelModel(cardinality=k, **kw).fit(L)
    passes: list[dict[str, dict]] = []
    for j in range(args.passes):
        one = {}
        for name, (L, k) in matrices.items():
            one[name] = r = time_fit(L, k, args.repeats, kw)
            print(
                f"pass {j + 1} {name:20s} n={r['n']:6d} m={r['m']:3d} k={r['k']:2d} {r['family']:9s} "
                f"wall {1e3 * r['wall_s']:7.1f} ms  cpu {1e3 * r['cpu_s']:7.1f} ms",
                flush=True,
            )
        passes.append(one)
    # each set's medians over the passes (of each pass's median over its fits)
    rows = {
        name: {
            **passes[0][name],
            "wall_s": statistics.median(p[name]["wall_s"] for p in passes),
            "cpu_s": statistics.median(p[name]["cpu_s"] for p in passes),
            "passes_cpu_s": [p[name]["cpu_s"] for p in passes],
        }
        for name in matrices
    }
    target = args.target_ms / 1e3
    met = sum(r["cpu_s"] <= target for r in rows.values())
    print(
        f"CPU time within {args.target_ms:g} ms: {met} of {len(rows)} sets (median over {args.passes} passes)"
    )
    big = None
    if not args.skip_big:
        d = make_synthetic(1_000_000, 50, 2, coverage=0.3, random_state=0)
        big = time_fit(d.L, 2, args.big_repeats, kw)
        print(f"synthetic 1e6 x 50 k=2 {big['family']}: wall {big['wall_s']:.3f} s  cpu {big['cpu_s']:.3f} s")
    load_after = os.getloadavg()
    slowest = max(rows, key=lambda n: rows[n]["cpu_s"])
    if args.profile:
        import cProfile
        import pstats

        L, k = fit_split(slowest, index[slowest]), int(index[slowest]["k"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prof = cProfile.Profile()
            prof.enable()
            LabelModel(cardinality=k, **kw).fit(L)
            prof.disable()
        print(f"cProfile of the slowest set ({slowest}):")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(18)
    out = {
        "machine": machine_info(),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "sets": rows,
        "passes": args.passes,
        "target_ms": args.target_ms,
        "met": met,
        "synthetic_1e6x50": big,
        "model_kw": kw,
    }
    if args.out is not None:
        json_path = Path(args.out)
    elif kw:
        ap.error("--model-kw needs --out (results/default_fit_time.* are the default's)")
    else:
        json_path = RESULTS / "default_fit_time.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(json_path, json.dumps(out, indent=1) + "\n")
    lines = [
        f"# Fit time of `LabelModel({', '.join(f'{a}={v!r}' for a, v in kw.items())})`"
        + (" (the default)" if not kw else ""),
        "",
        f"{machine_info()}; one BLAS thread; load average (1, 5, 15 min) {load_before[0]:.2f}, "
        f"{load_before[1]:.2f}, {load_before[2]:.2f} before and {load_after[0]:.2f}, {load_after[1]:.2f}, "
        f"{load_after[2]:.2f} after (a shared machine: compare the CPU time).",
        f"Median of {args.repeats} fits on the fit split"
        + (
            f", then the median over {args.passes} passes (each pass's CPU ms in the last column)"
            if args.passes > 1
            else ""
        )
        + f"; `PYTHONPATH=src python benchmarks/default_fit_time.py --passes {args.passes}`.",
        f"CPU time within {args.target_ms:g} ms: {met} of {len(rows)} sets.",
        "",
        "| set | n | m | k | family | wall (ms) | CPU (ms) |"
        + (" passes' CPU (ms) |" if args.passes > 1 else ""),
        "|---|---:|---:|---:|---|---:|---:|" + ("---|" if args.passes > 1 else ""),
    ]
    for name, r in rows.items():
        each = " | " + ", ".join(f"{1e3 * v:.1f}" for v in r["passes_cpu_s"]) if args.passes > 1 else ""
        lines.append(
            f"| {name} | {r['n']} | {r['m']} | {r['k']} | {r['family']} | {1e3 * r['wall_s']:.1f} | "
            f"{1e3 * r['cpu_s']:.1f}{each} |"
        )
    if big is not None:
        lines.append(
            f"| synthetic 1e6 x 50 (median of {big['repeats']}) | {big['n']} | 50 | 2 | {big['family']} | "
            f"{1e3 * big['wall_s']:.0f} | {1e3 * big['cpu_s']:.0f} |"
        )
    atomic_write_text(json_path.with_suffix(".md"), "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
