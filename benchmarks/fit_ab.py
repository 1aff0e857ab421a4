"""A/B of the default fit's CPU time between two source trees, in alternating rounds.

Two worker processes import ``tripletws`` from ``--a`` and ``--b`` (each a ``src`` folder), load the
15 shared sets (the fit split of benchmarks/default_fit_time.py) and a 30-row, 3-LF matrix of
agreeing votes, fit each once to warm up, then answer requests: the median CPU time
(``time.process_time``, one BLAS thread) of ``reps`` fits of ``LabelModel()`` on one set.  The
driver asks both, in alternating order, for every set in each of ``--rounds`` rounds and reports
the median over rounds: on a shared machine both sides see the same load, which a before run
and an after run minutes apart do not.

    python benchmarks/fit_ab.py --a /work/main/src --b src --rounds 7
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
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
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
