"""Compiled (numba) against numpy EM: CPU time of the default's held-out family choice.

Times :func:`tripletws.estimators.heldout.heldout_row_scores` (3 candidate families x (the fit
on all rows + 3 fold fits), one EM batch) with the compiled kernel forced on and off, on the
distinct rows of each shared dataset (``../shared/data``, override with ``TRIPLETWS_DATA``) and
of synthetic label matrices from a few hundred to 20 000 distinct rows.  The crossover sets
:data:`tripletws.estimators.em_jit.JIT_MAX_ROWS`.  Medians of ``--repeats`` runs, CPU time
(``time.process_time``: the machine is shared).  Writes ``results/em_jit_crossover.md``.

``--informative`` times the abstain check's fold fits instead
(:func:`tripletws.estimators.abstain_check._fold_scores`: ``"mace_abstain"`` and ``"ds_abstain"``
under a uniform and an estimated balance on the same 3 folds, the compiled kernel
:mod:`tripletws.estimators._abstain_kernel` against the numpy steps), on the same sets and on more
classes (``SYNTHETIC_INFORMATIVE``); it writes ``results/em_jit_crossover_informative.md``.

Usage::

    python benchmarks/em_jit_crossover.py [--repeats 9] [--skip-big] [--informative]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from provenance import load_average, revision

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
DATA = Path(os.environ.get("TRIPLETWS_DATA", HERE.parent.parent / "shared" / "data"))

SYNTHETIC = (  # n, m, k, coverage
    (700, 10, 2, 0.5),
    (1000, 10, 2, 0.5),
    (1400, 10, 2, 0.5),
    (1200, 40, 3, 0.2),
    (1500, 20, 5, 0.3),
    (5000, 12, 2, 0.66),
    (20000, 20, 2, 0.3),
)
SYNTHETIC_INFORMATIVE = (  # more classes, where the informative kernel's numpy steps cost most
    (3000, 30, 5, 0.2),
    (5000, 20, 10, 0.3),
    (10000, 40, 10, 0.1),
    (20000, 20, 4, 0.3),
)


def _median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return 1e3 * statistics.median(times)


def _synthetic(n: int, m: int, k: int, coverage: float, rng: np.random.Generator) -> np.ndarray:
    y = rng.integers(0, k, n)
    acc = rng.uniform(0.55, 0.85, m)
    L = np.where(rng.random((n, m)) < acc, y[:, None], (y[:, None] + rng.integers(1, k, (n, m))) % k)
    return np.where(rng.random((n, m)) < coverage, L, -1).astype(np.int8)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--skip-big", action="store_true", help="no synthetic set above 2 000 rows")
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--informative", action="store_true", help="the abstain check's fold fits")
    args = p.parse_args(argv)
    from tripletws.estimators import abstain_check, annotator, em_jit, family_choice, heldout
    from tripletws.rows import RowAccumulator

    if em_jit.lean_kernel() is None:
        raise SystemExit("numba is not importable (or TRIPLETWS_JIT=0): nothing to compare")
    cases = []
    index = json.loads((DATA / "index.json").read_text()) if (DATA / "index.json").exists() else {}
    for name, info in index.items():
        if info.get("eval_split") is None:
            continue
        split = "train" if "train" in info["splits"] and info["eval_split"] != "all" else info["eval_split"]
        cases.append((name, np.load(DATA / name / f"{split}.npz")["L"], int(info["k"])))
    rng = np.random.default_rng(0)
    for n, m, k, cov in SYNTHETIC + (SYNTHETIC_INFORMATIVE if args.informative else ()):
        if args.skip_big and n > 2000:
            continue
        cases.append((f"synthetic n={n} m={m} k={k} coverage={cov}", _synthetic(n, m, k, cov, rng), k))
    limit = annotator.JIT_MAX_ROWS
    # both paths on every size: the EM's dispatch and the fold keys' (each module reads its own name)
    annotator.JIT_MAX_ROWS = heldout.JIT_MAX_ROWS = 1 << 62
    lines = []
    try:
        for name, L, k in cases:
            acc = RowAccumulator(L.shape[1], k, 20_000)
            acc.add(L)
            u = acc.summary()
            nnz = int((u.rows >= 0).sum())

            if args.informative:
                folds = heldout.deal_counts(u.rows, u.counts, k, 3, 0)
                balances = {"uniform": np.full(k, 1.0 / k), "estimated": None}

                def run(u=u, folds=folds, balances=balances) -> None:
                    abstain_check._fold_scores(u, balances, folds)
            else:

                def run(u=u) -> None:
                    candidates = family_choice.CANDIDATES
                    heldout.heldout_row_scores(u, candidates, n_folds=3, random_state=0, fits={})

            reps = max(3, args.repeats // 3) if len(u.counts) > 3000 else args.repeats
            os.environ[em_jit.JIT_ENV] = "1"
            jit = _median_ms(run, reps)
            os.environ[em_jit.JIT_ENV] = "0"
            plain = _median_ms(run, reps)
            os.environ.pop(em_jit.JIT_ENV)
            row = f"| {name} | {k} | {len(u.counts)} | {nnz} | {jit:.2f} | {plain:.2f} | {plain / jit:.2f} |"
            print(row, flush=True)
            lines.append(row)
    finally:
        annotator.JIT_MAX_ROWS = heldout.JIT_MAX_ROWS = limit
    what = "the abstain check's fold fits" if args.informative else "the default's held-out family choice"
    out = [
        f"# Compiled against numpy EM ({what})",
        "",
        f"- date: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; tripletws revision: "
        f"{revision('benchmarks/em_jit_crossover.py')}",
        f"- command: `python benchmarks/em_jit_crossover.py {' '.join(argv or sys.argv[1:])}`",
        f"- load average: {load_average()} (2-CPU machine); CPU time medians; JIT_MAX_ROWS = {limit}",
        "",
        "| data | k | distinct rows | votes | compiled ms | numpy ms | numpy / compiled |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *lines,
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    from tripletws.atomic import atomic_write_text  # after sys.path points at src

    name = "em_jit_crossover_informative.md" if args.informative else "em_jit_crossover.md"
    atomic_write_text(args.out / name, "\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
