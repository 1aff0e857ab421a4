"""CPU time of the default fit's stages: the summary, the solve, and in it the family choice and the checks.

For each named shared set (the fit split, as benchmarks/default_fit_time.py reads it) and, with
``--big``, the synthetic 1e6 x 50 problem: the median over ``--repeats`` fits (3 for the synthetic
one) of the CPU time (``time.process_time``, one BLAS thread) of the whole ``LabelModel().fit``
and of each stage, measured by wrapping the functions the annotator model calls: ``summary`` (the
pass over the rows: statistics and distinct rows, all threads' CPU) and ``solve`` (the annotator
model on the summary), and inside the solve the family choice and the checks.  The abstain
check is split into its held-out scoring (``abst.heldout``: its folds' fits, and the vote-only
family's scores where the choice's are not reused) and its background-class fit
(``abst.background``, run only when the held-out lead passes).

    PYTHONPATH=src python benchmarks/default_fit_stages.py [--sets sms trec] [--repeats 7] [--big]

Prints one line per set; ``--out`` writes the medians as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from common import limit_threads
from default_fit_time import INDEX, fit_split

import tripletws.estimators.abstain_check as abstain_module
import tripletws.model as fit_module
import tripletws.models.annotator as model_module
from tripletws import LabelModel
from tripletws.atomic import atomic_write_text
from tripletws.datasets import make_synthetic

STAGES = {
    (fit_module, "summarize"): "summary",
    (model_module.Annotator, "solve"): "solve",
    (model_module, "select_family"): "select",
    (model_module, "select_counting_once"): "select",  # the choice with copies counted once
    (model_module, "coverage_check"): "coverage",
    (model_module, "balance_check"): "balance",
    (model_module, "abstain_check"): "abstain",
    (abstain_module, "heldout_row_scores"): "abst.heldout",
    (abstain_module, "_fold_scores"): "abst.heldout",
    (abstain_module, "_background"): "abst.background",
}


def instrument(acc: dict[str, float]) -> None:
    """Wrap each stage's function in its module so that its CPU time adds up in ``acc``."""
    for (module, name), label in STAGES.items():
        inner = getattr(module, name, None)
        if inner is None:  # an older version of the library (to time it with this script)
            continue

        def timed(*args: Any, _inner: Any = inner, _label: str = label, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return _inner(*args, **kwargs)
            finally:
                acc[_label] += time.process_time() - start

        setattr(module, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--sets", nargs="*", default=["sms", "trec", "semeval", "adult_content", "weather_sentiment"]
    )
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--big", action="store_true", help="also the synthetic 1e6 x 50 problem (3 fits)")
    ap.add_argument("--out", default=None, metavar="JSON")
    args = ap.parse_args()
    limit_threads(1)
    acc: dict[str, float] = defaultdict(float)
    instrument(acc)
    index = json.loads(INDEX.read_text())
    problems = [
        (name, fit_split(name, index[name]), int(index[name]["k"]), args.repeats) for name in args.sets
    ]
    if args.big:
        problems.append(("1e6x50", make_synthetic(1_000_000, 50, 2, coverage=0.3, random_state=0).L, 2, 3))
    out = {}
    for name, L, k, repeats in problems:
        per: dict[str, list[float]] = defaultdict(list)
        for _ in range(repeats):
            acc.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.process_time()
                LabelModel(cardinality=k).fit(L)
                per["total"].append(time.process_time() - start)
            for label in STAGES.values():
                per[label].append(acc[label])
        out[name] = {label: 1e3 * statistics.median(v) for label, v in per.items()}
        print(
            f"{name:18s} " + "  ".join(f"{label} {v:6.1f}" for label, v in out[name].items()) + " ms",
            flush=True,
        )
    if args.out:
        atomic_write_text(
            Path(args.out), json.dumps({"cpu_ms_median": out, "repeats": args.repeats}, indent=1) + "\n"
        )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
