"""The default solve's time on one and on several threads: wall, CPU and critical path.

On a shared machine the wall time of a threaded solve is a lottery of time slices, and the
process's CPU time adds up every thread.  This script also reports the **critical path**: the
CPU time of the thread that calls ``solve`` plus, for every split of the solve's work
(:func:`tripletws.parallel.map_parts`), how much longer the pool's slowest part ran than the
calling thread's own part; on a quiet machine with one core per thread the wall time would be
about that.  ``serial`` is the calling thread's CPU outside the splits (work no other thread can
take).  Each figure is over the solves of ``--repeats`` fits of ``LabelModel(n_jobs=J)`` on a
synthetic binary matrix (the fit's statistics pass is not included).

    PYTHONPATH=src python benchmarks/solve_threads.py --n 1e6 --m 50 --jobs 1 2 --repeats 7

Prints one line per setting: median / minimum of each figure in ms, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import warnings
from collections import defaultdict
from typing import Any

import numpy as np

import tripletws.estimators.annotator as annotator_module
import tripletws.estimators.annotator_design as design_module
import tripletws.models.annotator as model_module
from tripletws import LabelModel
from tripletws.datasets import make_synthetic

_split: dict[str, float] = {"excess": 0.0, "own": 0.0}
_real_map_parts = annotator_module.map_parts


def _timed_map_parts(fn: Any, n_parts: int) -> list[Any]:
    """``map_parts`` that records each part's thread CPU time (calling thread: part 0)."""
    times: dict[int, float] = {}
    caller = threading.get_ident()

    def timed(i: int) -> Any:
        start = time.thread_time()
        try:
            return fn(i)
        finally:
            times[i] = time.thread_time() - start

    out = _real_map_parts(timed, n_parts)
    if threading.get_ident() == caller and len(times) > 1:
        _split["own"] += times[0]
        _split["excess"] += max(0.0, max(times[i] for i in range(1, n_parts)) - times[0])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=float, default=1e6, help="rows of the synthetic matrix")
    ap.add_argument("--m", type=int, default=50, help="LFs")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="n_jobs settings")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    # the design's row blocks and the EM's dealt batches (each module reads its own name)
    annotator_module.map_parts = design_module.map_parts = _timed_map_parts
    real_solve = model_module.Annotator.solve
    last: dict[str, float] = {}

    def solve(self: Any, *a: Any, **kw: Any) -> Any:
        _split["excess"] = _split["own"] = 0.0
        cpu, wall = time.thread_time(), time.perf_counter()
        out = real_solve(self, *a, **kw)
        last["caller"] = time.thread_time() - cpu
        last["wall"] = time.perf_counter() - wall
        last["critical"] = last["caller"] + _split["excess"]
        last["serial"] = last["caller"] - _split["own"]
        return out

    model_module.Annotator.solve = solve  # type: ignore[method-assign]
    L = make_synthetic(int(args.n), args.m, 2, coverage=0.3, random_state=0).L
    warnings.simplefilter("ignore")
    for jobs in args.jobs:
        LabelModel(cardinality=2, n_jobs=jobs).fit(L)  # warm-up
        per: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.repeats):
            LabelModel(cardinality=2, n_jobs=jobs).fit(L)
            for key in ("wall", "critical", "caller", "serial"):
                per[key].append(last[key])
        figures = "  ".join(
            f"{key} {1e3 * statistics.median(v):.0f}/{1e3 * min(v):.0f}" for key, v in per.items()
        )
        print(
            f"n={args.n:g} m={args.m} n_jobs={jobs}: {figures} ms (median/min)  "
            f"load {os.getloadavg()[0]:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
