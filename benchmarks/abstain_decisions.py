"""The default fit's abstain-check decisions on every stress problem and shared set, saved or compared.

For each problem of the stress suite (benchmarks/stress_problems.py, the training draw) and each
shared set (its fit split, as benchmarks/default_fit_time.py reads it) the default ``LabelModel()``
is fitted and its abstain check's record kept: accepted, family, balance, the kind of refusal
(``screen``, ``lead``, ``background``, ``silenced``, ``majority``), the family the predictions come from, the
check's CPU time and, on the stress problems, the test accuracy of the argmax prediction.  ``--save``
writes them as JSON lines; ``--compare`` prints every problem whose decision differs from a saved
file (accepted, family and balance where accepted, the kind of refusal) and the accuracy it moves.

    PYTHONPATH=src python benchmarks/abstain_decisions.py --save /tmp/before.jsonl
    PYTHONPATH=src python benchmarks/abstain_decisions.py --compare /tmp/before.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))

from common import limit_threads  # noqa: E402
from default_fit_time import INDEX, fit_split  # noqa: E402
from stress_problems import all_problems, draw  # noqa: E402

import tripletws.models.annotator as model_module  # noqa: E402
from tripletws import LabelModel  # noqa: E402
from tripletws.atomic import atomic_write_text  # noqa: E402

KINDS = {
    "no reading": "lead",
    "the rows hold": "background",
    "the fit never": "silenced",
    "the fit keeps": "majority",
    "no LF's abstentions": "screen",
}


def kind(reason: str) -> str:
    """The kind of refusal ("" when accepted)."""
    for start, name in KINDS.items():
        if reason.startswith(start):
            return name
    return reason[:30]


def record(name: str, L: np.ndarray, k: int, L_test: np.ndarray | None, y_test: np.ndarray | None) -> dict:
    spent = [0.0]
    inner = model_module.abstain_check

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - start

    model_module.abstain_check = timed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lm = LabelModel(cardinality=k).fit(L)
    finally:
        model_module.abstain_check = inner
    est = lm.estimate_
    ab = getattr(est, "abstain", None)
    out: dict[str, Any] = {"name": name, "family": str(getattr(lm, "family_", "") or ""), "check_s": spent[0]}
    if ab is None:
        out["abstain"] = None
    else:
        d = ab.to_dict()
        out["abstain"] = d
        out["kind"] = kind(d["reason"])
    if L_test is not None and y_test is not None:
        out["acc"] = float(np.mean(lm.predict_proba(L_test).argmax(axis=1) == y_test))
    return out


def key(rec: dict) -> tuple:
    ab = rec["abstain"]
    if ab is None:
        return (None,)
    if ab["accepted"]:
        return (True, ab["family"], ab["balance"])
    return (False, rec["kind"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save", metavar="JSONL")
    ap.add_argument("--compare", metavar="JSONL")
    ap.add_argument("--no-stress", action="store_true")
    ap.add_argument("--no-shared", action="store_true")
    ap.add_argument("--base-seed", type=int, default=None, help="another stress draw (as stress.py's)")
    args = ap.parse_args()
    limit_threads(1)
    recs = []
    # compile the kernels first (numba's cache may be cold): not counted
    warm = np.random.default_rng(0).integers(-1, 2, size=(200, 8))
    record("warm-up", warm, 2, None, None)
    if not args.no_shared:
        index = json.loads(INDEX.read_text())
        for name, meta in index.items():
            recs.append(record(f"shared/{name}", fit_split(name, meta), int(meta["k"]), None, None))
    if not args.no_stress:
        for prob in all_problems() if args.base_seed is None else all_problems(args.base_seed):
            L, _, L_test, y_test = draw(prob)
            recs.append(record(prob.name, L, int(prob.params["k"]), L_test, y_test))
    if args.save:
        atomic_write_text(Path(args.save), "".join(json.dumps(r) + "\n" for r in recs))
    accepted = sum(1 for r in recs if r["abstain"] and r["abstain"]["accepted"])
    total_s = sum(r["check_s"] for r in recs)
    print(f"{len(recs)} problems, {accepted} accepted, abstain check CPU {total_s:.2f} s in all")
    if args.compare:
        old = {r["name"]: r for r in map(json.loads, Path(args.compare).read_text().splitlines())}
        flips, moved = 0, 0.0
        for r in recs:
            o = old.get(r["name"])
            if o is None:
                continue
            if key(o) != key(r):
                flips += 1
                d = (r.get("acc") or 0.0) - (o.get("acc") or 0.0)
                moved += d
                print(f"  {r['name']}: {key(o)} -> {key(r)}, accuracy {d:+.4f}")
            elif o.get("acc") is not None and abs(r["acc"] - o["acc"]) > 0:
                print(f"  {r['name']}: same decision, accuracy {r['acc'] - o['acc']:+.4f}")
        old_s = sum(o["check_s"] for o in old.values())
        print(f"{flips} decision(s) differ (accuracy {moved:+.4f}); CPU {old_s:.2f} -> {total_s:.2f} s")


if __name__ == "__main__":
    main()
