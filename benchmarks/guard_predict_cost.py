"""What the voted guard costs ``predict_proba``: the same fitted model with and without its guard.

youtube's default fit keeps a voted guard (:mod:`tripletws.voted_guard`: both classes' LFs fire
together less often than the fit expects).  The model is fitted once on youtube's fit split; its rows
are tiled to ``--n`` rows, and ``predict_proba`` runs in alternating rounds with the estimate's
``voted_guard`` and with it set to None, wall time, median of the rounds.  The guard's cost is its scan
for rows whose top class holds none of their votes (:func:`tripletws.voted_guard.voted_off_top`) and
the votes-only posterior of those rows.

    PYTHONPATH=src python benchmarks/guard_predict_cost.py [--n 1000000] [--rounds 7] [--data ../shared/data]

Prints one line and writes ``results/guard_predict_cost.json``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
from tie_predict_cost import alternating_medians, with_and_without, write_cost

from tripletws import LabelModel
from tripletws.datasets import load_dataset

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    args = ap.parse_args()
    data = load_dataset("youtube", args.data)
    L_fit = data[data.fit_split].L
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(cardinality=data.n_class).fit(L_fit)
    L = np.tile(L_fit, (args.n // len(L_fit) + 1, 1))[: args.n]
    med = alternating_medians(lm, with_and_without(lm, "voted_guard", "voted guard"), L, args.rounds)
    record = {"set": "youtube", "n": int(L.shape[0]), "m": int(L.shape[1]), "dtype": str(L.dtype)}
    shape = f"youtube tiled to {L.shape[0]} x {L.shape[1]} ({L.dtype})"
    write_cost("guard_predict_cost", record, med, args.rounds, "the voted guard", shape)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
