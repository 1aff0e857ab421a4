"""A few gold rows on real LFs in new combinations: does ``fit(L, L_dev=, Y_dev=)`` mend the default's tail?

``benchmarks/lf_subsets.py`` found the default more than 2 points below majority vote on about one
real-LF subset in six (docs/studies.md, "The peers on the real-LF subsets"): its readings of
abstentions are bets on the rows without a vote that the rows themselves do not settle. A user with
a few gold rows can settle them: the dev choice (``tripletws.dev_choice``) scores the candidate fits,
majority vote's family among them, on the gold rows. This suite measures that on the same subsets.

For each subset of ``lf_subsets.tasks`` (same ``--seed`` and ``--draws``) and each ``--dev`` size N,
N gold rows are drawn from the evaluation split (seeded by the subset's seed and N); every method is
fitted on the fit split without gold (``<method>``), with the gold rows' labels alone (``Y_dev``:
their class frequencies as the prior, Snorkel's meaning; ``<method>+y_dev``) and with the gold rows
and their votes (``L_dev``/``Y_dev``: the dev choice; ``<method>+dev``). All of them, majority vote,
and majority vote with its ties broken by the gold rows' class frequencies (``mv+dev_prior``) are
scored on the remaining evaluation rows. A (subset, N) pair is skipped where
fewer than ``MIN_SCORED`` rows would remain. Records, scores and summaries are ``lf_subsets.py``'s;
each record holds its ``dev_rows`` and the dev choice's ``chosen`` candidate. It chooses nothing.

    PYTHONPATH=src python benchmarks/lf_subsets_dev.py --dev 50 100 --draws 20 --seed 17 --jobs 2 \
        --out benchmarks/results/lf_subsets_dev_seed17.json
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH / "peers"))
sys.path.insert(0, str(BENCH))

from lf_subsets import (  # noqa: E402
    TIE,
    run_meta,
    run_pool,
    shared_sets,
    subset_record,
    subset_seed,
    summarize,
    tasks,
    write_results,
)
from scoring import tie_scores  # noqa: E402

MIN_SCORED = 100  # evaluation rows left to score after the gold rows are drawn
METHODS = {"default": {}, "shared": {"one_class": "shared"}}

DevTask = tuple[dict[str, Any], list[int], int, int, int, int]


def dev_rows(n_eval: int, size: int, name: str, subset_size: int, draw: int, seed: int) -> np.ndarray:
    """(n_eval,) bool: the ``size`` gold rows of one subset's evaluation split, stable across runs."""
    rng = np.random.default_rng([subset_seed(name, subset_size, draw, seed), size])
    mask = np.zeros(n_eval, dtype=bool)
    mask[rng.choice(n_eval, size, replace=False)] = True
    return mask


def gold_frequencies(y_dev: np.ndarray, k: int) -> np.ndarray:
    """(k,): the gold rows' class frequencies, add-one (every class stays possible)."""
    return (np.bincount(y_dev, minlength=k) + 1.0) / (len(y_dev) + k)


def mv_with_balance(mv: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """Majority vote's whole vote counts ``mv`` (n, k) with their ties, and only their ties, broken toward
    the more frequent class under ``freq`` (k,): ``0.5 freq / max(freq)`` added, a nudge below one vote
    (classes equally frequent stay tied). The plainest use of gold rows (``mv+dev_prior``) or of a known
    balance; the rows without a vote are ties of every class."""
    return mv + 0.5 * (freq / freq.max())[None, :]


def pair_record(task: DevTask) -> tuple[dict[str, Any], np.ndarray]:
    """A (subset, gold-row count)'s record before any method is fitted: ``lf_subsets.subset_record``'s
    on the evaluation rows left after the gold rows, their number (``dev_rows``) and majority vote with
    the gold rows' frequencies breaking its ties (``mv+dev_prior``); and the (n_eval,) gold-row mask."""
    ds, cols, subset_size, draw, size, seed = task[:6]
    k, y = ds["k"], ds["y"]
    dev = dev_rows(len(y), size, ds["name"], subset_size, draw, seed)
    rec, mv = subset_record({**ds, "y": y[~dev]}, cols, subset_size, draw, ds["L_eval"][~dev][:, cols])
    rec["dev_rows"] = size
    acc, f1 = tie_scores(mv_with_balance(mv, gold_frequencies(y[dev], k)), y[~dev], k)
    rec["mv+dev_prior"] = {"acc": acc, "f1": f1}
    return rec, dev


def ours_probs(
    name: str, k: int, L_fit: np.ndarray, L_eval: np.ndarray, y: np.ndarray, dev: np.ndarray
) -> tuple[np.ndarray, dict[str, Any]]:
    """Our column ``name`` (``<method>``, ``<method>+y_dev`` or ``<method>+dev``, :data:`METHODS`):
    (n_scored, k) probabilities on the evaluation rows outside the gold rows ``dev`` ((n_eval,) bool),
    and the dev choice's ``chosen`` candidate where the gold rows' votes were given."""
    from tripletws import LabelModel

    method, _, gold = name.partition("+")
    fit_kw = {"": {}, "y_dev": {"Y_dev": y[dev]}, "dev": {"L_dev": L_eval[dev], "Y_dev": y[dev]}}[gold]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(k, **METHODS[method]).fit(L_fit, **fit_kw)
        P = model.predict_proba(L_eval[~dev])
    return P, ({"chosen": str(model.dev_choice_["chosen"])} if gold == "dev" else {})


def run_pair(task: DevTask) -> dict[str, Any]:
    """Every method with and without ``size`` gold rows on one subset, scored on the other rows."""
    ds, cols = task[0], task[1]
    k, y = ds["k"], ds["y"]
    L_fit, L_eval = ds["L_fit"][:, cols], ds["L_eval"][:, cols]
    rec, dev = pair_record(task)
    for name in (m + suffix for m in METHODS for suffix in ("", "+y_dev", "+dev")):
        try:
            P, extra = ours_probs(name, k, L_fit, L_eval, y, dev)
            acc, f1 = tie_scores(P, y[~dev], k)
            rec[name] = {"acc": acc, "f1": f1, **extra}
        except Exception as exc:  # a crash is a finding: record it and go on
            rec[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return rec


def dev_tasks(sets: list[dict[str, Any]], draws: int, seed: int, sizes: list[int]) -> list[DevTask]:
    """``lf_subsets.tasks``'s subsets, each with every gold-row count that leaves ``MIN_SCORED`` rows."""
    return [
        (ds, cols, subset_size, draw, size, seed)
        for ds, cols, subset_size, draw, _ in tasks(sets, draws, seed)
        for size in sizes
        if len(ds["y"]) - size >= MIN_SCORED
    ]


def big_loss_share(records: list[dict[str, Any]], method: str) -> float:
    """Share of the records on which ``method`` ends more than 2 points below majority vote."""
    d = [r[method]["acc"] - r["mv"]["acc"] for r in records if "acc" in r.get(method, {})]
    return float(np.mean(np.array(d) < -0.02)) if d else float("nan")


def summary_by_size(
    records: list[dict[str, Any]], sizes: list[int], methods: list[str] | None = None
) -> dict[str, Any]:
    """Per gold-row count: ``lf_subsets.summarize`` of its records, and each method's share of records
    more than 2 points below majority vote (all, LF subsets, crowd subsets). ``methods``: the record's
    columns (this suite's where not given)."""
    if methods is None:
        methods = ["mv+dev_prior", *(f"{m}{s}" for m in METHODS for s in ("", "+y_dev", "+dev"))]
    out: dict[str, Any] = {}
    for size in sizes:
        recs = [r for r in records if r["dev_rows"] == size]
        if not recs:
            continue
        summ = summarize(recs, methods)
        summ["big_loss"] = {
            m: {
                "all": big_loss_share(recs, m),
                "lf": big_loss_share([r for r in recs if not r["crowd"]], m),
                "crowd": big_loss_share([r for r in recs if r["crowd"]], m),
            }
            for m in methods
        }
        summ["paired"] = {m: paired(recs, REFERENCE, m) for m in methods if m != REFERENCE}
        out[str(size)] = summ
    return out


#: The column every other is compared with, subset by subset: the default given the gold rows' votes.
REFERENCE = "default+dev"


def paired(records: list[dict[str, Any]], first: str, second: str) -> dict[str, Any]:
    """``first`` minus ``second`` on the records both scored: the mean over sets (each set's mean,
    then their mean), the pooled mean, and the share where ``first`` is at or above ``second`` - 0.5
    points."""
    both = [r for r in records if "acc" in r.get(first, {}) and "acc" in r.get(second, {})]
    if not both:
        return {"n": 0}
    d = np.array([r[first]["acc"] - r[second]["acc"] for r in both])
    sets = np.array([r["set"] for r in both])
    return {
        "n": len(both),
        "sets": len(set(sets)),
        "over_sets": float(np.mean([d[sets == s].mean() for s in np.unique(sets)])),
        "pooled": float(d.mean()),
        "at_or_above": float(np.mean(d >= -TIE)),
    }


def _pts(x: float) -> str:
    return f"{100 * x:+.2f}"


def _pct(x: float) -> str:
    """A share in percent, "-" where no record counts (NaN)."""
    return "-" if np.isnan(x) else f"{100 * x:.1f}"


def to_markdown(
    res: dict[str, Any], title: str = "A few gold rows on real-LF subsets (`fit(L, L_dev=, Y_dev=)`)"
) -> str:
    meta = res["meta"]
    lines = [
        f"# {title}",
        "",
        f"- command: `{meta['command']}`",
        f"- code: {meta['code']}; {meta['when']}; {meta['machine']}",
        f"- records: {meta['records']} (subsets x gold-row counts); wall time {meta['wall_s']:.0f} s",
        "- scored on the evaluation rows left after the gold rows are drawn; points against majority vote "
        f"on the same rows; `>= MV - 0.5`: share of records within {100 * TIE:.1f} points of MV or above; "
        "`> 2 below`: share more than 2 points below MV",
        "",
        "| gold rows | method | over sets: mean | over sets: >= MV - 0.5 | pooled: mean | "
        "> 2 below: all / LF / crowd | worst |",
        "|---|---|---|---|---|---|---|",
    ]
    for size, summ in res["summary"].items():
        for method, big in summ["big_loss"].items():
            o, p = summ["over_sets"][method], summ["pooled"][method]
            lines.append(
                f"| {size} | {method} | {_pts(o['mean'])} | {100 * o['share_ok']:.1f} % | "
                f"{_pts(p['mean'])} | "
                f"{_pct(big['all'])} / {_pct(big['lf'])} / {_pct(big['crowd'])} % | "
                f"{_pts(p['worst'])} |"
            )
    lines += [
        "",
        f"`{REFERENCE}` against each other column, on the records both scored (points; over sets, pooled; "
        f"share where `{REFERENCE}` is at or above it - 0.5 points):",
        "",
        "| gold rows | method | records (sets) | over sets | pooled | at or above |",
        "|---|---|---|---|---|---|",
    ]
    for size, summ in res["summary"].items():
        for method, p in summ.get("paired", {}).items():
            if p["n"]:
                lines.append(
                    f"| {size} | {method} | {p['n']} ({p['sets']}) | {_pts(p['over_sets'])} | "
                    f"{_pts(p['pooled'])} | {100 * p['at_or_above']:.1f} % |"
                )
    lines += ["", "Chosen by the dev rows (the default's dev choice), per gold-row count:", ""]
    for size in res["summary"]:
        counts: dict[str, int] = {}
        for r in res["records"]:
            if r["dev_rows"] == int(size) and "chosen" in r.get("default+dev", {}):
                counts[r["default+dev"]["chosen"]] = counts.get(r["default+dev"]["chosen"], 0) + 1
        top = sorted(counts.items(), key=lambda kv: -kv[1])
        lines.append(f"- {size}: " + ", ".join(f"{c} {n}" for c, n in top))
    errors = [
        (r["set"], r["lfs"], r["dev_rows"], m, v["error"])
        for r in res["records"]
        for m, v in r.items()
        if isinstance(v, dict) and "error" in v
    ]
    lines += ["", "## Errors", ""]
    lines += [f"- {s} {lfs} ({n} gold rows) {m}: {e}" for s, lfs, n, m, e in errors] or ["none"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", type=int, nargs="+", default=[50, 100], help="gold-row counts (default 50 100)")
    ap.add_argument("--draws", type=int, default=20, help="subsets per set and size (default 20)")
    ap.add_argument("--seed", type=int, default=0, help="lf_subsets.py's seed (default 0)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--sets", nargs="*", help="only these shared sets")
    ap.add_argument("--out", default=str(BENCH / "results" / "lf_subsets_dev.json"), help="results JSON")
    args = ap.parse_args(argv)
    if any(size < 1 for size in args.dev):
        raise SystemExit(f"--dev: gold-row counts must be positive, got {args.dev}")
    sets = [s for s in shared_sets() if not args.sets or s["name"] in args.sets]
    if args.sets and len(sets) != len(set(args.sets)):
        known = ", ".join(s["name"] for s in shared_sets())
        raise SystemExit(f"--sets: {' '.join(args.sets)}: some are not among the shared sets ({known})")
    todo = dev_tasks(sets, args.draws, args.seed, args.dev)
    t0 = time.perf_counter()
    records = run_pool(run_pair, todo, args.jobs)
    res: dict[str, Any] = {
        "meta": {
            **run_meta("lf_subsets_dev.py", argv),
            "draws": args.draws,
            "seed": args.seed,
            "dev": args.dev,
            "records": len(records),
            "methods": {**METHODS},
            "wall_s": time.perf_counter() - t0,
        },
        "records": records,
    }
    res["summary"] = summary_by_size(records, args.dev)
    print(write_results(res, Path(args.out), to_markdown(res)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
