"""Peers with a few gold rows on the real-LF subsets: each method given the same gold rows its own way.

``benchmarks/lf_subsets_dev.py`` scores our ``fit(L, L_dev=, Y_dev=)`` on the real-LF subsets with N
gold rows drawn from each subset's evaluation split, on the rest of it. This runner puts the peers
that take gold beside it, on the same subsets and the same gold rows (``lf_subsets_dev.dev_tasks``,
same ``--seed`` and ``--draws``), scored alike:

* ``default+dev``, ``shared+dev``: our ``LabelModel()`` and ``LabelModel(one_class="shared")`` with
  the gold rows and their votes (the dev choice); ``default+y_dev``: the labels alone (the prior);
* ``snorkel+y_dev``: Snorkel 0.10's ``LabelModel`` with the gold rows' class frequencies as its
  ``class_balance`` (what its ``fit(Y_dev=)`` does, add-one here: Snorkel refuses a prior of 0 where
  the gold rows miss a class);
* ``flyingsquid+y_dev``: FlyingSquid with the same ``class_balance`` (binary sets only);
* ``hyperlm+dev``: HyperLM 0.0.5's semi-supervised inference (``infer(L, y_indices=, y_vals=)``),
  transductive: on the fit rows and the evaluation rows stacked (a crowd set's rows once), the gold
  rows' labels given;
* ``mv+dev_prior``: majority vote with its ties broken by the gold rows' commonest class.

crowd-kit's models take no gold and are left out. Each fit runs under the stress runner's hard limit;
a crash is recorded. Writes ``benchmarks/results/lf_subsets_peers_dev_seed<S>.{json,md}``; the summary
compares every column with ``default+dev`` subset by subset (``--render FILE`` recomputes it).

    benchmarks/peers/.venv/bin/python benchmarks/peers/run_subsets_dev.py --dev 50 --draws 5 \
        --seed 17 --jobs 2
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
from common import (
    HyperLM,
    hard_limit,
    limit_threads,
    machine_info,
    ours_revision,
    pool_map,
    time_call,
    to_flyingsquid,
)

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

from lf_subsets import shared_sets, write_results  # noqa: E402
from lf_subsets_dev import (  # noqa: E402
    dev_tasks,
    gold_frequencies,
    ours_probs,
    pair_record,
    summary_by_size,
    to_markdown,
)
from run_stress import HARD_LIMIT_S  # noqa: E402
from scoring import tie_scores  # noqa: E402

RESULTS = BENCH / "results"
COMMAND = "benchmarks/peers/.venv/bin/python benchmarks/peers/run_subsets_dev.py"
NAMES = ("default+dev", "default+y_dev", "shared+dev", "snorkel+y_dev", "flyingsquid+y_dev", "hyperlm+dev")


def gold_probs(
    name: str, ds: dict[str, Any], L_fit: np.ndarray, L_eval: np.ndarray, dev: np.ndarray
) -> tuple[np.ndarray, dict[str, Any]]:
    """(n_scored, k) probabilities of method ``name`` on the evaluation rows outside the gold rows
    ``dev`` ((n_eval,) bool), given those rows its own way; and extras for the record."""
    k, y = ds["k"], ds["y"]
    freq = gold_frequencies(y[dev], k)
    if name in ("default+dev", "default+y_dev", "shared+dev"):  # lf_subsets_dev.py's columns
        return ours_probs(name, k, L_fit, L_eval, y, dev)
    if name == "snorkel+y_dev":
        from snorkel.labeling.model import LabelModel

        model = LabelModel(cardinality=k, verbose=False)
        model.fit(np.asarray(L_fit, np.int64), class_balance=freq, seed=0, progress_bar=False)
        return model.predict_proba(np.asarray(L_eval[~dev], np.int64)), {}
    if name == "flyingsquid+y_dev":
        from flyingsquid.label_model import LabelModel

        model = LabelModel(L_fit.shape[1])  # its class_balance follows enumerate_ys: [-1], [+1] = 0, 1
        model.fit(to_flyingsquid(L_fit), class_balance=freq, solve_method="triplet_mean", verbose=False)
        if [list(v) for v in model.enumerate_ys()] != [[-1], [1]]:
            raise RuntimeError("unexpected FlyingSquid label order")
        return np.asarray(model.predict_proba(to_flyingsquid(L_eval[~dev])), dtype=np.float64), {}
    if name == "hyperlm+dev":
        crowd = ds["crowd"] and np.array_equal(L_fit, L_eval)
        X, offset = (L_eval, 0) if crowd else (np.vstack([L_fit, L_eval]), len(L_fit))
        method = HyperLM().fit(X, k, gold=(offset + np.flatnonzero(dev), y[dev]))
        return method.P[offset + np.flatnonzero(~dev)], {}
    raise ValueError(f"unknown method {name!r}")


def run_pair(task: tuple[Any, ...]) -> dict[str, Any]:
    """Every method on one (subset, gold-row count), scored on the evaluation rows left. Never raises."""
    limit_threads(1)
    ds, cols, names = task[0], task[1], task[-1]
    k, y = ds["k"], ds["y"]
    L_fit, L_eval = ds["L_fit"][:, cols], ds["L_eval"][:, cols]
    rec, dev = pair_record(task)
    for name in names:
        if name.startswith("flyingsquid") and k != 2:
            continue  # binary only: not scored on the multi-class sets
        try:
            with hard_limit(HARD_LIMIT_S), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                (P, extra), fit_s = time_call(gold_probs, name, ds, L_fit, L_eval, dev)
            P = np.array(P, dtype=np.float64)
            if P.shape != (int((~dev).sum()), k):
                raise RuntimeError(f"probabilities of shape {P.shape}")
            bad = ~np.isfinite(P).all(axis=1)
            P[bad] = 1.0 / k  # scored as a coin, and counted
            acc, f1 = tie_scores(P, y[~dev], k)
            rec[name] = {"acc": acc, "f1": f1, "fit_s": fit_s, **extra}
            if bad.any():
                rec[name]["nonfinite_rows"] = int(bad.sum())
        except Exception as exc:  # a crash is a finding: record it and go on
            rec[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", type=int, nargs="+", default=[50], help="gold-row counts (default 50)")
    ap.add_argument("--draws", type=int, default=5, help="subsets per set and size (default 5)")
    ap.add_argument("--seed", type=int, default=17, help="lf_subsets.py's seed (default 17)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--sets", nargs="*", help="only these shared sets")
    ap.add_argument("--methods", nargs="*", choices=NAMES, help="only these methods (default all)")
    ap.add_argument("--out", type=Path, help="results path (.json; the .md beside it)")
    ap.add_argument("--render", type=Path, help="recompute the summary of a results file, rewrite it, stop")
    args = ap.parse_args(argv)
    if args.render:
        res = json.loads(args.render.read_text())
        res["summary"] = summary_by_size(res["records"], res["meta"]["dev"], res["meta"]["methods"])
        write(res, args.render)
        return 0
    names = tuple(args.methods or NAMES)
    sets = [s for s in shared_sets() if not args.sets or s["name"] in args.sets]
    todo = [(*t, names) for t in dev_tasks(sets, args.draws, args.seed, args.dev)]
    t0 = time.time()
    records = pool_map(run_pair, todo, args.jobs)
    methods = ["mv+dev_prior", *names]
    res: dict[str, Any] = {
        "meta": {
            "command": " ".join([COMMAND, *(sys.argv[1:] if argv is None else argv)]),
            "code": f"ours {ours_revision()}",
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": machine_info(),
            "seed": args.seed,
            "draws": args.draws,
            "dev": args.dev,
            "records": len(records),
            "methods": methods,
            "wall_s": time.time() - t0,
        },
        "records": records,
    }
    res["summary"] = summary_by_size(records, args.dev, methods)
    print(write(res, args.out or RESULTS / f"lf_subsets_peers_dev_seed{args.seed}.json"))
    return 0


def write(res: dict[str, Any], out: Path) -> str:
    """Write the results and their markdown beside them; return the markdown."""
    title = "Peers with a few gold rows on real-LF subsets (`run_subsets_dev.py`)"
    return write_results(res, out, to_markdown(res, title=title))


if __name__ == "__main__":
    raise SystemExit(main())
