"""A/B of the default fit's CPU time between two source trees, in alternating rounds.

Two worker processes import ``tripletws`` from ``--a`` and ``--b`` (each a ``src`` folder), load the
15 shared sets (the fit split of benchmarks/default_fit_time.py) and a 30-row, 3-LF matrix of
agreeing votes, fit each once to warm up, then answer requests: the median CPU time
(``time.process_time``, one BLAS thread) of ``reps`` fits of ``LabelModel()`` on one set.  The
driver asks both, in alternating order, for every set in each of ``--rounds`` rounds and reports
the median over rounds: on a shared machine both sides see the same load, which a before run
and an after run minutes apart do not.

    python benchmarks/fit_ab.py --a /work/main/src --b src --rounds 7

``--big``: the synthetic 1e6 x 50 problem of benchmarks/speed.py (``make_synthetic(1_000_000, 50, 2,
random_state=0)``) instead, fitted with ``n_jobs=1`` and with the default ``n_jobs`` (BLAS on one
thread either way, as inside ``fit``), one fit per side and setting each round, after a warm-up
fit on its first 65 536 rows; reports the medians of CPU and of wall-clock time.

    python benchmarks/fit_ab.py --a /work/main/src --b src --big --rounds 9
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMALL = {"tiny30x3", "spouse_rdp", "youtube", "tubespam_rdp", "tennis_flyingsquid", "sms_spear"}


def big_worker(src: str) -> None:
    """Serve ``jobs`` requests (``1`` or ``auto``): the CPU and wall ms of one fit of the 1e6 x 50 matrix."""
    sys.path.insert(0, str(Path(src).resolve()))
    sys.path.insert(0, str(HERE / "peers"))
    from common import limit_threads

    import tripletws
    from tripletws import LabelModel
    from tripletws.datasets import make_synthetic

    if not tripletws.__file__.startswith(str(Path(src).resolve())):
        raise SystemExit(f"tripletws imported from {tripletws.__file__}, not {src}")
    limit_threads(1)
    warnings.simplefilter("ignore")
    L = make_synthetic(1_000_000, 50, 2, random_state=0).L
    for jobs in (1, None):
        LabelModel(cardinality=2, n_jobs=jobs).fit(L[: 1 << 16])
    print(json.dumps(["1e6x50"]), flush=True)
    for line in sys.stdin:
        jobs = None if line.strip() == "auto" else int(line)
        cpu, wall = time.process_time(), time.perf_counter()
        LabelModel(cardinality=2, n_jobs=jobs).fit(L)
        print(f"{(time.process_time() - cpu) * 1e3:.3f} {(time.perf_counter() - wall) * 1e3:.3f}", flush=True)


def big_main(args: argparse.Namespace) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--a", "-", "--b", "-", "--big", "--worker", src],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for src in (args.a, args.b)
    ]
    for p in procs:
        p.stdout.readline()  # type: ignore[union-attr]
    settings = ("1", "auto")
    times = {(j, side): ([], []) for j in settings for side in (0, 1)}
    for r in range(args.rounds):
        for jobs in settings:
            for side in (0, 1) if r % 2 == 0 else (1, 0):
                p = procs[side]
                p.stdin.write(f"{jobs}\n")  # type: ignore[union-attr]
                p.stdin.flush()  # type: ignore[union-attr]
                cpu, wall = (float(x) for x in p.stdout.readline().split())  # type: ignore[union-attr]
                times[jobs, side][0].append(cpu)
                times[jobs, side][1].append(wall)
    for p in procs:
        p.stdin.close()  # type: ignore[union-attr]
        p.wait()
    print(f"1e6 x 50 fit, ms, median of {args.rounds} alternating rounds; a = {args.a}, b = {args.b}")
    print(
        f"{'n_jobs':8s} {'a cpu':>8s} {'b cpu':>8s} {'a / b':>7s} {'a wall':>8s} {'b wall':>8s} {'a / b':>7s}"
    )
    for jobs in settings:
        a_cpu, a_wall = (statistics.median(t) for t in times[jobs, 0])
        b_cpu, b_wall = (statistics.median(t) for t in times[jobs, 1])
        print(
            f"{jobs:8s} {a_cpu:8.1f} {b_cpu:8.1f} {a_cpu / b_cpu:7.3f} "
            f"{a_wall:8.1f} {b_wall:8.1f} {a_wall / b_wall:7.3f}"
        )


def worker(src: str) -> None:
    """Serve ``name reps`` requests on stdin with the median CPU ms of ``reps`` fits."""
    sys.path.insert(0, str(Path(src).resolve()))
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE / "peers"))
    import numpy as np
    from common import limit_threads
    from default_fit_time import INDEX, fit_split

    import tripletws
    from tripletws import LabelModel

    if not tripletws.__file__.startswith(str(Path(src).resolve())):
        raise SystemExit(f"tripletws imported from {tripletws.__file__}, not {src}")
    limit_threads(1)
    warnings.simplefilter("ignore")
    data = {n: (fit_split(n, m), int(m["k"])) for n, m in json.loads(INDEX.read_text()).items()}
    y = np.random.default_rng(0).integers(0, 2, 30)
    data["tiny30x3"] = (np.tile(y[:, None], (1, 3)), 2)
    for L, k in data.values():
        LabelModel(cardinality=k).fit(L)
    print(json.dumps(sorted(data)), flush=True)
    for line in sys.stdin:
        name, reps = line.split()
        L, k = data[name]
        times = []
        for _ in range(int(reps)):
            start = time.process_time()
            LabelModel(cardinality=k).fit(L)
            times.append(time.process_time() - start)
        print(f"{statistics.median(times) * 1e3:.5f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="src folder of the reference")
    ap.add_argument("--b", required=True, help="src folder of the candidate")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--big", action="store_true", help="the 1e6 x 50 synthetic fit (n_jobs 1 and auto)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        (big_worker if args.big else worker)(args.worker)
        return
    if args.big:
        big_main(args)
        return
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--a", "-", "--b", "-", "--worker", src],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for src in (args.a, args.b)
    ]
    listed = [json.loads(p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
    if listed[0] != listed[1]:
        raise SystemExit("the two workers hold different sets")
    names = listed[0]
    times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in names}
    for r in range(args.rounds):
        for name in names:
            reps = 25 if name in SMALL else 7
            for side in (0, 1) if r % 2 == 0 else (1, 0):
                p = procs[side]
                p.stdin.write(f"{name} {reps}\n")  # type: ignore[union-attr]
                p.stdin.flush()  # type: ignore[union-attr]
                times[name][side].append(float(p.stdout.readline()))  # type: ignore[union-attr]
    for p in procs:
        p.stdin.close()  # type: ignore[union-attr]
        p.wait()
    print(f"CPU ms per fit, median of {args.rounds} alternating rounds; a = {args.a}, b = {args.b}")
    print(f"{'set':22s} {'a':>8s} {'b':>8s} {'a / b':>7s}")
    logs = []
    for name in names:
        a, b = (statistics.median(t) for t in times[name])
        if name != "tiny30x3":
            logs.append(math.log(a / b))
        print(f"{name:22s} {a:8.2f} {b:8.2f} {a / b:7.3f}")
    print(f"geometric mean of a / b over the {len(logs)} shared sets: {math.exp(sum(logs) / len(logs)):.3f}")


if __name__ == "__main__":
    main()
