"""How precise a known class balance must be: the default given rough balances on real-LF subsets.

The default's gain over majority vote on real LF sets rests on the class of the rows without a vote,
and that class rests on the class balance, which no vote speaks for (docs/workflow.md, section 5).
Its note tells the user to give ``class_balance=`` where they know the classes' frequencies. Users
seldom know them exactly: "spam is 10-15 % of the messages". This benchmark measures what a rough
balance is worth, on random subsets of the shared sets' LFs (the LF sets only: a crowd's abstentions
are "not assigned", ``benchmarks/lf_subsets.py``), fitted without gold on the fit split and scored on
the evaluation split.

Balances given (``p`` is the evaluation split's own class frequencies, ``u`` the uniform balance):

- ``exact``: ``p``;
- ``mix70`` / ``mix50``: ``0.7 p + 0.3 u`` / ``0.5 p + 0.5 u`` (a balance drawn toward uniform: a
  user who knows which classes are common but not by how much);
- ``tilt10``: ``0.1 p + 0.9 u`` (only the order of the classes' frequencies, faintly: a 90 / 10 set
  given as 54 / 46);
- ``odds/2`` / ``odds*2`` (two classes only): the odds of class 1 halved / doubled (a class that is
  20 % of the rows given as 11 % or 33 %);
- ``swapped`` (two classes only): the two frequencies exchanged (the commoner class given as the
  rarer).

Each balance is given to the default and to the conservative setting (``one_class="shared"``), and
to a baseline that needs no label model: majority vote with its ties (the rows without a vote
included) broken toward the class the balance makes commonest (``mv+balance``). A balance alone
labels the rows without a vote, so the baseline says how much of a method's gain the balance gives
and how much the LFs' fitted accuracies add.

    PYTHONPATH=src python benchmarks/rough_balance.py --draws 20 --seed 20 --jobs 2 \
        --out benchmarks/results/rough_balance_seed20.json

Nothing here chooses anything: it is a measurement for the docs (docs/workflow.md, section 5).
A study switch is measured under given balances with ``--set MODULE:NAME=VALUE`` (as in
benchmarks/lf_subsets.py) and ``--compare BASE.json AFTER.json`` (the default's change, by balance).
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

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH / "peers"))
sys.path.insert(0, str(BENCH))

from lf_subsets import (  # noqa: E402
    LF_SIZES,
    TIE,
    apply_settings,
    over_sets,
    run_meta,
    run_pool,
    shared_sets,
    subset_record,
    tasks,
    write_results,
)
from lf_subsets_dev import mv_with_balance  # noqa: E402
from scoring import tie_scores  # noqa: E402

#: The settings each balance is given to, by name.
METHODS: dict[str, dict[str, Any]] = {"default": {}, "shared": {"one_class": "shared"}}


def balances(p: np.ndarray) -> dict[str, np.ndarray]:
    """The balances given for true frequencies ``p`` (k,), by name (see the module's docstring)."""
    k = p.size
    u = np.full(k, 1.0 / k)
    out = {"exact": p, "mix70": 0.7 * p + 0.3 * u, "mix50": 0.5 * p + 0.5 * u, "tilt10": 0.1 * p + 0.9 * u}
    if k == 2:
        odds = p[1] / p[0]
        for name, f in (("odds/2", 0.5), ("odds*2", 2.0)):
            p1 = odds * f / (1.0 + odds * f)
            out[name] = np.array([1.0 - p1, p1])
        out["swapped"] = p[::-1].copy()
    return out


def run_subset(task: Any) -> dict[str, Any]:
    """Every method under every balance on one subset, against majority vote. Never raises."""
    from tripletws import LabelModel

    ds, cols, size, draw, _ = task
    k, y = ds["k"], ds["y"]
    L_fit, L_eval = ds["L_fit"][:, cols], ds["L_eval"][:, cols]
    rec, mv = subset_record(ds, cols, size, draw, L_eval)
    p = np.bincount(y, minlength=k) / y.size
    rec["gold_balance"] = p.tolist()
    scores: dict[str, dict[str, float]] = {}
    for name, kw in METHODS.items():
        for bname, prior in [("none", None), *balances(p).items()]:
            key = f"{name} {bname}"
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    extra = {} if prior is None else {"class_balance": prior}
                    P = LabelModel(k, **kw, **extra).fit(L_fit).predict_proba(L_eval)
                scores[key] = {"acc": tie_scores(P, y, k)[0]}
            except Exception as exc:  # a crash is a finding
                scores[key] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    for bname, prior in balances(p).items():
        scores[f"mv+balance {bname}"] = {"acc": tie_scores(mv_with_balance(mv, prior), y, k)[0]}
    rec["scores"] = scores
    return rec


def summarize(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per method and balance: subsets, pooled and over-sets points against MV, the share at
    or above MV - 0.5 and more than 2 points below it, and the share at or above ``mv+balance`` with the
    same balance - 0.5."""
    rows = []
    keys = sorted({key for r in records for key in r["scores"]}, key=_order)
    for key in keys:
        recs = [r for r in records if "acc" in r["scores"].get(key, {})]
        if not recs:
            continue
        d = np.array([r["scores"][key]["acc"] - r["mv"]["acc"] for r in recs])
        bname = key.split(" ", 1)[1]
        base = f"mv+balance {bname}"
        vs_base = [
            r["scores"][key]["acc"] - r["scores"][base]["acc"] >= -TIE
            for r in recs
            if base in r["scores"] and not key.startswith("mv+")
        ]
        rows.append(
            {
                "method": key,
                "subsets": len(recs),
                "errors": sum(1 for r in records if "error" in r["scores"].get(key, {})),
                "pooled": float(d.mean()),
                "over_sets": over_sets(recs, d),
                "share_ok": float(np.mean(d >= -TIE)),
                "below_2": float(np.mean(d < -0.02)),
                "vs_mv_balance_ok": float(np.mean(vs_base)) if vs_base else None,
            }
        )
    return rows


def _order(key: str) -> tuple[int, int]:
    method, bname = key.split(" ", 1)
    names = ["none", "exact", "mix70", "mix50", "tilt10", "odds/2", "odds*2", "swapped"]
    return (["default", "shared", "mv+balance"].index(method), names.index(bname))


def compare(base: dict[str, Any], after: dict[str, Any]) -> str:
    """Markdown: ``after`` against ``base`` (two runs of the same draws, e.g. without and with a
    ``--set`` switch): the default's summed points, subsets moved and subsets more than 2 points below
    MV, by balance."""
    a, b = base["records"], after["records"]
    pairs = list(zip(a, b, strict=True))
    if any((x["set"], x["lfs"]) != (y["set"], y["lfs"]) for x, y in pairs):
        raise SystemExit("--compare: the runs hold different subsets (same --draws, --seed and --lf-sizes?)")
    lines = [
        f"# `{after['meta'].get('command', '')}` against `{base['meta'].get('command', '')}`",
        "",
        "| balance | summed points | moved | more than 2 points below MV | by set |",
        "|---|---:|---:|---|---|",
    ]
    keys = sorted({key for r in a for key in r["scores"] if key.startswith("default ")}, key=_order)
    for key in keys:
        total, moved, below, by_set = 0.0, 0, [0, 0], {}
        for x, y in pairs:
            sx, sy = x["scores"].get(key, {}), y["scores"].get(key, {})
            if "acc" not in sx or "acc" not in sy:
                continue
            d = 100.0 * (sy["acc"] - sx["acc"])
            total += d
            moved += abs(d) > 1e-9
            by_set[x["set"]] = by_set.get(x["set"], 0.0) + d
            below[0] += sx["acc"] - x["mv"]["acc"] < -0.02
            below[1] += sy["acc"] - y["mv"]["acc"] < -0.02
        sets = ", ".join(f"{name} {v:+.1f}" for name, v in by_set.items() if abs(v) >= 0.05)
        tail = f"{below[0]} -> {below[1]} of {len(pairs)}"
        lines.append(f"| {key.split(' ', 1)[1]} | {total:+.1f} | {moved} | {tail} | {sets} |")
    return "\n".join(lines) + "\n"


def to_markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    lines = [
        "# A rough class balance given to the default (`benchmarks/rough_balance.py`)",
        "",
        f"- command: `{meta['command']}`",
        f"- code: {meta['code']}; {meta['when']}; {meta['machine']}",
        f"- subsets: {meta['subsets']} of the LF sets ({meta['draws']} draws per set and size, seed "
        f"{meta['seed']}, sizes {' '.join(map(str, meta['lf_sizes']))}); wall time {meta['wall_s']:.0f} s",
        "- balances: `exact` = the evaluation split's class frequencies p; `mix70` / `mix50` / `tilt10` ="
        " 0.7 p + 0.3 u / 0.5 p + 0.5 u / 0.1 p + 0.9 u (u uniform); `odds/2`, `odds*2` = class 1's odds"
        " halved / doubled, `swapped` = the two frequencies exchanged (two classes only); `none` = no"
        " balance given (the gold-free fit)",
        "- `mv+balance`: majority vote with its ties (the rows without a vote included) broken toward the"
        " class the balance makes commonest",
        "- accuracy: expectation under uniform tie-breaking; points against majority vote over the same LFs;"
        " `over sets`: each set's mean, then their mean",
        "",
        "| method and balance | subsets | pooled | over sets | >= MV - 0.5 | more than 2 below MV |"
        " >= mv+balance - 0.5 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in res["summary"]:
        vb = "-" if row["vs_mv_balance_ok"] is None else f"{100 * row['vs_mv_balance_ok']:.1f} %"
        lines.append(
            f"| {row['method']} | {row['subsets']} | {100 * row['pooled']:+.1f} | "
            f"{100 * row['over_sets']:+.1f} | {100 * row['share_ok']:.1f} % | {100 * row['below_2']:.1f} % | "
            f"{vb} |"
        )
    errors = [
        (r["set"], r["lfs"], key, s["error"])
        for r in res["records"]
        for key, s in r["scores"].items()
        if "error" in s
    ]
    lines += ["", "## Errors", ""]
    lines += [f"- {s} {lfs} {key}: {e}" for s, lfs, key, e in errors] or ["none"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=20, help="subsets per set and size (default 20)")
    ap.add_argument("--seed", type=int, default=0, help="a new seed draws new subsets (default 0)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--lf-sizes", type=int, nargs="+", default=list(LF_SIZES), help="LFs per subset")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="MODULE:NAME=VALUE",
        help="a library constant set before the fits, in every worker (a study switch, as in "
        "benchmarks/lf_subsets.py); repeatable",
    )
    ap.add_argument("--out", default=str(BENCH / "results" / "rough_balance.json"), help="results JSON")
    ap.add_argument(
        "--compare",
        nargs=2,
        metavar=("BASE", "AFTER"),
        help="print the default's change from one results JSON to another (same draws), and stop",
    )
    args = ap.parse_args(argv)
    if args.compare:
        base, after = (json.loads(Path(f).read_text()) for f in args.compare)
        print(compare(base, after), end="")
        return 0
    if min(args.lf_sizes) < 3:
        raise SystemExit(f"--lf-sizes: a label model needs 3 LFs or more, got {args.lf_sizes}")
    sets = [s for s in shared_sets() if not s["crowd"]]
    todo = tasks(sets, args.draws, args.seed, {}, tuple(args.lf_sizes))
    t0 = time.perf_counter()
    records = run_pool(run_subset, todo, args.jobs, apply_settings, (args.set,))
    res: dict[str, Any] = {
        "meta": {
            **run_meta("rough_balance.py", argv),
            "settings": list(args.set),
            "draws": args.draws,
            "seed": args.seed,
            "lf_sizes": list(args.lf_sizes),
            "subsets": len(records),
            "wall_s": time.perf_counter() - t0,
        },
        "records": records,
    }
    res["summary"] = summarize(records)
    print(write_results(res, Path(args.out), to_markdown(res)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
