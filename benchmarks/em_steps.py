"""How many EM steps the default fit's batches take, and what a looser stopping tolerance would save.

Fits the default ``LabelModel()`` once on each shared set (the fit split of
benchmarks/default_fit_time.py) and records every batch of the compiled EM kernels: the lean
kernel (the family choice: three candidates on all rows and on three folds' complements), the
informative kernel (the abstain check's fold fits) and the coverage kernel (the coverage check).
Each member stops when its mean log-likelihood per row improves by less than the tolerance
(``annotator.EM_TOL``, 1e-6) or after 50 steps (10 for the coverage check's warm-started folds).
Prints, per set and kernel, the members' steps and how many of them stopped at the cap, and in
all the share of member-steps spent in members that never met the tolerance.

``--tol`` rebinds the tolerance (in ``annotator``, ``abstain_check`` and ``coverage_check``, read at
call time) for the whole run; with ``--decisions SAVED`` (a file of ``abstain_decisions.py --save``,
made at 1e-6) it then runs that script's comparison on the 327 problems instead.

    PYTHONPATH=src python benchmarks/em_steps.py
    PYTHONPATH=src python benchmarks/em_steps.py --tol 1e-5 --decisions /tmp/before.jsonl
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))

from common import limit_threads  # noqa: E402
from default_fit_time import INDEX, fit_split  # noqa: E402

import tripletws.estimators.abstain_check as abstain_module  # noqa: E402
import tripletws.estimators.annotator as annotator_module  # noqa: E402
import tripletws.estimators.coverage_check as coverage_module  # noqa: E402
from tripletws import LabelModel  # noqa: E402


def set_tol(tol: float) -> None:
    """Use ``tol`` as the EM stopping tolerance everywhere the default fit reads it."""
    for mod in (annotator_module, abstain_module, coverage_module):
        if hasattr(mod, "EM_TOL"):
            mod.EM_TOL = tol
    for fn in (annotator_module.fit_annotator, coverage_module.coverage_em):  # keyword defaults, bound once
        fn.__kwdefaults__["tol"] = tol


def record_batches() -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """Wrap the three compiled drivers; returns the list they append (set, kernel, steps, converged) to."""
    log: list[tuple[str, str, np.ndarray, np.ndarray]] = []
    where = ["?"]

    def wrap(mod: Any, name: str, tag: str) -> None:
        inner = getattr(mod, name)

        def run(*args: Any, **kwargs: Any) -> Any:
            out = inner(*args, **kwargs)
            log.append((where[0], tag, np.asarray(out.n_steps).copy(), np.asarray(out.converged).copy()))
            return out

        setattr(mod, name, run)

    wrap(annotator_module, "_em_compiled", "lean")
    wrap(annotator_module, "_em_informative_compiled", "informative")
    wrap(coverage_module, "_coverage_em_compiled", "coverage")
    record_batches.where = where  # type: ignore[attr-defined]
    return log


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tol", type=float, default=None, help="EM stopping tolerance (default: the library's)")
    ap.add_argument("--decisions", metavar="JSONL", help="abstain_decisions.py --save file to compare")
    args = ap.parse_args()
    if args.tol is not None:
        set_tol(args.tol)
    if args.decisions:
        sys.argv = ["abstain_decisions.py", "--compare", args.decisions]
        runpy.run_path(str(HERE / "abstain_decisions.py"), run_name="__main__")
        return
    limit_threads(1)
    log = record_batches()
    where = record_batches.where  # type: ignore[attr-defined]
    index = json.loads(INDEX.read_text())
    for name, meta in index.items():
        where[0] = name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            LabelModel(cardinality=int(meta["k"])).fit(fit_split(name, meta))
    # per kernel: member-steps, those in members stopped at the cap, members, members stopped at the cap
    total: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    print(f"EM tolerance {annotator_module.EM_TOL:g}")
    for name, tag, steps, conv in log:
        t = total[tag]
        t[0] += int(steps.sum())
        t[1] += int(steps[~conv].sum())
        t[2] += len(steps)
        t[3] += int((~conv).sum())
        capped = int((~conv).sum())
        print(f"{name:22s} {tag:11s} steps {steps.tolist()}  at the cap: {capped} of {len(steps)}")
    for tag, (s, capped, n, nc) in total.items():
        share = capped / max(s, 1)
        print(f"{tag:11s}: {n} members, {nc} stopped at the cap; {s} member-steps ({share:.0%} in those)")


if __name__ == "__main__":
    main()
