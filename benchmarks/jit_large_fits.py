"""Whole default fits past ``JIT_MAX_ROWS``: the compiled EM against numpy's, alternating.

The annotator model's EM runs compiled on at most ``em_jit.JIT_MAX_ROWS`` distinct rows and again
from ``em_jit.JIT_LARGE_CELLS`` distinct rows times classes where numba is loaded already. This
script times ``LabelModel().fit`` on synthetic crowds (each task answered by ``per`` of ``m``
workers, accuracy uniform in 0.3-0.95) and synthetic LF sets (every LF votes with probability
``coverage``, accuracy uniform in 0.55-0.85), with the large-fit rule on (the compiled kernels) and
off (``JIT_LARGE_CELLS`` set out of reach: numpy's batched EM), the two alternated ``--rounds``
times in one process after a warm-up fit of each (so numba is loaded, and the rule's second
condition holds). ``--cold`` also times one fit per fresh process, three times each: the rule as
shipped (a large fit alone does not load numba, so it runs numpy's EM) and with ``TRIPLETWS_JIT=1``
(numba loaded for it, about 0.3 s). Medians of CPU time (``time.process_time``) and wall time, one
BLAS thread; the largest difference of the two posteriors is printed too (they agree to rounding).

    PYTHONPATH=src python benchmarks/jit_large_fits.py [--rounds 5] [--cold]

Writes benchmarks/results/jit_large_fits.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))

from common import RESULTS, limit_threads, machine_info  # noqa: E402

CASES = (  # kind, distinct rows wanted (n), m, k, answers per task (crowd) or coverage (lf)
    ("crowd", 3000, 100, 4, 5),
    ("crowd", 20000, 40, 4, 5),
    ("crowd", 20000, 100, 3, 5),
    ("crowd", 20000, 500, 4, 5),
    ("crowd", 20000, 500, 10, 5),
    ("crowd", 20000, 500, 2, 5),
    ("lf", 20000, 20, 4, 0.3),
    ("lf", 20000, 30, 5, 0.2),
    ("lf", 20000, 40, 10, 0.1),
    ("lf", 20000, 20, 2, 0.3),
    ("crowd", 60000, 1000, 4, 5),
)


def crowd_matrix(n: int, m: int, k: int, per: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` tasks, each answered by ``per`` distinct workers of ``m`` (one-coin workers)."""
    y = rng.integers(0, k, n)
    acc = rng.uniform(0.3, 0.95, m)
    workers = np.argsort(rng.random((n, m)), axis=1)[:, :per]
    right = rng.random((n, per)) < acc[workers]
    votes = np.where(right, y[:, None], (y[:, None] + rng.integers(1, k, (n, per))) % k)
    L = np.full((n, m), -1, dtype=np.int16)
    np.put_along_axis(L, workers, votes.astype(np.int16), axis=1)
    return L


def lf_matrix(n: int, m: int, k: int, coverage: float, rng: np.random.Generator) -> np.ndarray:
    y = rng.integers(0, k, n)
    acc = rng.uniform(0.55, 0.85, m)
    L = np.where(rng.random((n, m)) < acc, y[:, None], (y[:, None] + rng.integers(1, k, (n, m))) % k)
    return np.where(rng.random((n, m)) < coverage, L, -1).astype(np.int16)


def fit_once(L: np.ndarray, k: int, large: bool):
    from tripletws import LabelModel
    from tripletws.estimators import annotator, em_jit

    annotator.JIT_LARGE_CELLS = em_jit.JIT_LARGE_CELLS if large else 1 << 62  # numba is loaded here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c, w = time.process_time(), time.perf_counter()
        lm = LabelModel(cardinality=k).fit(L)
        return time.process_time() - c, time.perf_counter() - w, lm


def cold_fit(L_path: str, k: int, load: bool) -> tuple[float, bool]:
    """Wall seconds of one fit in a fresh process, and whether numba was loaded: the rule as shipped
    (a large fit alone does not load numba) or, with ``load``, ``TRIPLETWS_JIT=1`` (it does)."""
    import os

    code = (
        "import sys, time, warnings, numpy as np\n"
        "warnings.simplefilter('ignore')\n"
        "from tripletws import LabelModel\n"
        f"L = np.load({L_path!r})\n"
        "t = time.perf_counter()\n"
        f"LabelModel(cardinality={k}).fit(L)\n"
        "print(time.perf_counter() - t, 'numba' in sys.modules)\n"
    )
    env = {key: v for key, v in os.environ.items() if key != "TRIPLETWS_JIT"}
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    if load:
        env["TRIPLETWS_JIT"] = "1"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    seconds, loaded = out.stdout.split()[-2:]
    return float(seconds), loaded == "True"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cold", action="store_true", help="also one fit per fresh process, 3 times each way")
    ap.add_argument("--out", default=str(RESULTS / "jit_large_fits.json"))
    args = ap.parse_args(argv)
    limit_threads(1)
    from tripletws.estimators import em_jit

    if em_jit.lean_kernel() is None:
        raise SystemExit("numba is not importable (or TRIPLETWS_JIT=0): nothing to compare")
    rng = np.random.default_rng(20261204)
    rows = []
    for kind, n, m, k, x in CASES:
        L = crowd_matrix(n, m, k, int(x), rng) if kind == "crowd" else lf_matrix(n, m, k, float(x), rng)
        fit_once(L, k, False)
        fit_once(L, k, True)
        numpy_runs, compiled_runs = [], []
        for _ in range(args.rounds):
            numpy_runs.append(fit_once(L, k, False))
            compiled_runs.append(fit_once(L, k, True))
        dP = float(np.abs(numpy_runs[-1][2].predict_proba(L) - compiled_runs[-1][2].predict_proba(L)).max())
        row = {
            "problem": f"{kind} n={n} m={m} k={k} {'per' if kind == 'crowd' else 'coverage'}={x}",
            "rows_x_classes": min(n, 20000) * k,
            "compiled_by_rule": min(n, 20000) * k >= em_jit.JIT_LARGE_CELLS,
            "numpy_cpu_s": statistics.median(r[0] for r in numpy_runs),
            "compiled_cpu_s": statistics.median(r[0] for r in compiled_runs),
            "numpy_wall_s": statistics.median(r[1] for r in numpy_runs),
            "compiled_wall_s": statistics.median(r[1] for r in compiled_runs),
            "max_abs_dP": dP,
        }
        if args.cold:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                path = str(Path(tmp) / "L.npy")
                np.save(path, L)
                for key, load in (("cold_shipped", False), ("cold_loading_numba", True)):
                    runs = [cold_fit(path, k, load) for _ in range(3)]
                    row[key + "_wall_s"] = statistics.median(r[0] for r in runs)
                    row[key + "_loaded_numba"] = runs[0][1]
        rows.append(row)
        print(
            f"{row['problem']:<42} cpu {row['numpy_cpu_s']:.3f} -> {row['compiled_cpu_s']:.3f} s "
            f"({row['numpy_cpu_s'] / row['compiled_cpu_s']:.2f}x)  wall {row['numpy_wall_s']:.3f} -> "
            f"{row['compiled_wall_s']:.3f} s  dP {dP:.1e}"
            + (
                f"  fresh process {row['cold_shipped_wall_s']:.2f} s, loading numba "
                f"{row['cold_loading_numba_wall_s']:.2f} s"
                if args.cold
                else ""
            ),
            flush=True,
        )
    from tripletws.atomic import atomic_write_text

    res = {
        "machine": machine_info(),
        "rounds": args.rounds,
        "large_cells": em_jit.JIT_LARGE_CELLS,
        "rows": rows,
    }
    out = Path(args.out)
    atomic_write_text(out, json.dumps(res, indent=1) + "\n")
    command = " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        "# Whole default fits past JIT_MAX_ROWS: compiled EM against numpy's",
        "",
        f"`PYTHONPATH=src python benchmarks/jit_large_fits.py {command}`"
        f"; {machine_info()}; one BLAS thread; medians of {args.rounds} alternated fits after a warm-up "
        f"(numba loaded); JIT_LARGE_CELLS = {em_jit.JIT_LARGE_CELLS}.",
        "",
        "| problem | rows x classes | compiled by the rule | numpy CPU s | compiled CPU s | ratio "
        "| numpy wall s | compiled wall s | max abs dP |"
        + (" fresh process s (numba loaded?) | fresh, TRIPLETWS_JIT=1 s |" if args.cold else ""),
        "|---|---:|---|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if args.cold else ""),
    ]
    for r in rows:
        lines.append(
            f"| {r['problem']} | {r['rows_x_classes']} | {'yes' if r['compiled_by_rule'] else 'no'} "
            f"| {r['numpy_cpu_s']:.3f} | {r['compiled_cpu_s']:.3f} "
            f"| {r['numpy_cpu_s'] / r['compiled_cpu_s']:.2f} "
            f"| {r['numpy_wall_s']:.3f} | {r['compiled_wall_s']:.3f} | {r['max_abs_dP']:.1e} |"
            + (
                f" {r['cold_shipped_wall_s']:.2f} ({'yes' if r['cold_shipped_loaded_numba'] else 'no'}) "
                f"| {r['cold_loading_numba_wall_s']:.2f} |"
                if args.cold
                else ""
            )
        )
    atomic_write_text(out.with_suffix(".md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
