"""How many folds the default's gold-free choice and checks should deal the rows into (a study).

The family choice and every held-out check of the default (``LabelModel()``) deal the distinct rows'
counts into 3 folds (``tripletws.estimators.coverage_check.N_FOLDS``): each fold is scored by a fit
on the other two, so each fold's fit sees two thirds of the rows.  On small data that is a fit on
fewer rows than the one that predicts, and the held-out scores judge a model the data would fit
better.  This script runs the stress suite (``benchmarks/stress.py``) or the shared sets' judge with
every deal made into ``--folds`` folds instead, on the problems whose rows number fewer than
``--below`` (all problems when 0), by patching the deal (``deal_counts``) where the library calls
it; everything else is the default.

    PYTHONPATH=src python benchmarks/n_folds_study.py --folds 5 [--below 1000] -- --jobs 2 --out F.json
    PYTHONPATH=src python benchmarks/n_folds_study.py --folds 5 [--below 1000] --judge

Arguments after ``--`` go to ``benchmarks/stress.py``; ``--judge`` runs the shared sets' judge
(``/work/shared/tools/quality_eval.py`` or ``$TRIPLETWS_JUDGE``) in this process instead.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: The modules that call the deal by name (each imported it into its own namespace).
CALLERS = (
    "tripletws.estimators.heldout",
    "tripletws.estimators.coverage_check",
    "tripletws.estimators.abstain_check",
    "tripletws.estimators.copies",
    "tripletws.estimators.family_choice",
    "tripletws.models.annotator",
)


def set_folds(folds: int, below: int) -> None:
    """Deal into ``folds`` folds wherever the library deals into 3, for rows fewer than ``below``
    (every deal when ``below`` is 0); forked workers inherit the patch."""
    import importlib

    import tripletws.estimators.heldout as heldout

    library = heldout.deal_counts

    def dealt(rows, counts, k, n_folds, *args, **kwargs):
        if n_folds == 3 and (below <= 0 or float(counts.sum()) < below):
            n_folds = folds
        return library(rows, counts, k, n_folds, *args, **kwargs)

    for name in CALLERS:
        mod = importlib.import_module(name)
        if getattr(mod, "deal_counts", None) is library:
            mod.deal_counts = dealt


def main() -> int:
    argv = sys.argv[1:]
    rest: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1 :]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, required=True)
    ap.add_argument("--below", type=int, default=0, help="only where the rows number fewer (0: always)")
    ap.add_argument("--judge", action="store_true", help="the shared sets' judge instead of the stress suite")
    args = ap.parse_args(argv)
    set_folds(args.folds, args.below)
    if args.judge:
        judge = os.environ.get("TRIPLETWS_JUDGE", "/work/shared/tools/quality_eval.py")
        tools = Path(judge).parent
        sys.argv = [
            judge,
            str(tools.parent / "data"),
            str(tools / "shared_index.json"),
            str(tools / "anchors_shared.jsonl"),
            "--max-drop",
            "0.01",
            "--max-f1-drop",
            "0.02",
        ]
        runpy.run_path(judge, run_name="__main__")
        return 0
    sys.path.insert(0, str(HERE))
    import stress

    return stress.main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
