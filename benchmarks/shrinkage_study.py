"""The shrinkage toward majority vote (session 35), against the fit unshrunk, on stress draws.

For each draw, two runs of the stress suite on the same problems: the default, and the default with
the study switch ``tripletws.estimators.shrinkage.SHRINK`` set to ``"off"`` (the rule before):

    PYTHONPATH=src python benchmarks/stress.py --jobs 2 --models --base-seed S --out ON_S.json
    PYTHONPATH=src python benchmarks/stress_probe.py set:tripletws.estimators.shrinkage:SHRINK=off \\
        --jobs 2 --models --base-seed S --out OFF_S.json
    python benchmarks/shrinkage_study.py --pairs OFF_S.json ON_S.json [OFF_T.json ON_T.json ...] \\
        --write benchmarks/results/shrinkage.md --json benchmarks/results/shrinkage.json

``--method NAME`` compares another configuration of the runs than ``default`` (both runs made with the
same ``--model-kw``): ``--method class_balance=gold`` for runs with ``--model-kw '{"class_balance":
"gold"}'``, the path where the fit keeps a balance the call gives.

The summary compares the two problem by problem (the same train and test draws: majority vote's
accuracy must agree to 1e-9): mean accuracy, the share of problems at or above MV - 0.5 points,
the problems that move by more than 0.5 points, per draw and per generator family, and whether the
default's mean stays above majority vote's and each single model's.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

TIE = 0.005  # half a point: a move or a loss beyond it counts


def _load(path: str) -> dict[str, dict[str, Any]]:
    doc = json.loads(Path(path).read_text())
    return {p["name"]: p for p in doc["problems"]}


def _acc(problem: dict[str, Any], method: str) -> float:
    return float(problem["results"][method]["acc"])


def compare(off_path: str, on_path: str, method: str = "default") -> dict[str, Any]:
    """One draw: ``method`` (the default) with the shrinkage (``on``) against the same runs without it
    (``off``)."""
    off, on = _load(off_path), _load(on_path)
    if set(off) != set(on):
        raise ValueError(f"{off_path} and {on_path} hold different problems")
    rows = []
    for name in sorted(on):
        mv = _acc(on[name], "mv")
        if abs(mv - _acc(off[name], "mv")) > 1e-9:
            raise ValueError(f"{name}: majority vote differs between the runs (not the same draw)")
        singles = {m: _acc(on[name], m) for m in on[name]["results"] if m not in ("mv", method)}
        rows.append(
            {
                "name": name,
                "family": name.rsplit("-", 1)[0],
                "mv": mv,
                "off": _acc(off[name], method),
                "on": _acc(on[name], method),
                "singles": singles,
            }
        )
    seed = json.loads(Path(on_path).read_text())["meta"].get("base_seed")
    return {"seed": seed, "rows": rows, "method": method}


def _share(rows: list[dict[str, Any]], key: str) -> float:
    return sum(r[key] >= r["mv"] - TIE for r in rows) / len(rows)


def _mean(rows: list[dict[str, Any]], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows)


def _line(label: str, rows: list[dict[str, Any]], digits: int) -> str:
    """A table row's first seven cells: the draw, its size, MV's mean, off and on, the points gained."""
    off, on, mv = _mean(rows, "off"), _mean(rows, "on"), _mean(rows, "mv")
    share_off, share_on = 100 * _share(rows, "off"), 100 * _share(rows, "on")
    return (
        f"| {label} | {len(rows)} | {mv:.4f} | {off:.4f} / {share_off:.{digits}f} % "
        f"| {on:.4f} / {share_on:.{digits}f} % | {100 * (on - off):+.{digits + 1}f} |"
    )


def summarize(draws: list[dict[str, Any]]) -> str:
    """The markdown report of one or more draws."""
    method = draws[0].get("method", "default") if draws else "default"
    what = "the default" if method == "default" else f"`{method}`"
    out = [
        f'# Shrinkage toward majority vote: {what} against the fit unshrunk (`SHRINK="off"`)',
        "",
        "Accuracy expected under a uniform tie-break on each problem's test rows; share = problems at or "
        "above MV - 0.5 points; up / down = problems the shrinkage moves by more than 0.5 points.",
        "",
        "| draw | problems | MV mean | off: mean / share | on: mean / share | points | up / down | worst |",
        "|---|---:|---:|---|---|---:|---|---|",
    ]
    everything: list[dict[str, Any]] = []
    for d in draws:
        rows = d["rows"]
        everything += rows
        moves = sorted(((r["on"] - r["off"]) * 100, r["name"]) for r in rows if abs(r["on"] - r["off"]) > TIE)
        up, down = sum(x > 0 for x, _ in moves), sum(x < 0 for x, _ in moves)
        worst = ", ".join(f"{n} {x:+.1f}" for x, n in moves[:3])
        out.append(_line(str(d["seed"]), rows, 1) + f" {up} / {down} | {worst} |")
    n = len(everything)
    out.append(_line("all", everything, 2) + " | |")
    fam: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in everything:
        fam[r["family"]].append(r)
    out += [
        "",
        "Per generator family (all draws): summed points of the shrinkage, problems below MV - 0.5 "
        "points off -> on.",
        "",
        "| family | problems | summed points | losses off -> on |",
        "|---|---:|---:|---|",
    ]
    for name, rows in sorted(fam.items()):
        lost_off = sum(r["off"] < r["mv"] - TIE for r in rows)
        lost_on = sum(r["on"] < r["mv"] - TIE for r in rows)
        points = 100 * sum(r["on"] - r["off"] for r in rows)
        out.append(f"| {name} | {len(rows)} | {points:+.1f} | {lost_off} -> {lost_on} |")
    singles = sorted({m for r in everything for m in r["singles"]})
    if singles:
        means = ", ".join(
            f"{m} {sum(r['singles'][m] for r in everything if m in r['singles']) / n:.4f}" for m in singles
        )
        mean_on, mean_mv = _mean(everything, "on"), _mean(everything, "mv")
        out += ["", f"Means over all draws: {method} {mean_on:.4f}, MV {mean_mv:.4f}, {means}."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", nargs="+", required=True, metavar="JSON", help="OFF ON result files, by pairs")
    ap.add_argument("--method", default="default", help="the configuration compared (default: default)")
    ap.add_argument("--write", help="markdown path (printed either way)")
    ap.add_argument("--json", help="also write each problem's accuracies (mv, off, on) here")
    args = ap.parse_args(argv)
    if len(args.pairs) % 2:
        raise SystemExit("--pairs takes OFF ON files by pairs")
    draws = [compare(args.pairs[i], args.pairs[i + 1], args.method) for i in range(0, len(args.pairs), 2)]
    text = summarize(draws)
    print(text, end="")
    from tripletws.atomic import atomic_write_text

    if args.write:
        atomic_write_text(Path(args.write), text)
    if args.json:
        compact = [
            {
                "base_seed": d["seed"],
                "problems": [{key: r[key] for key in ("name", "mv", "off", "on")} for r in d["rows"]],
            }
            for d in draws
        ]
        atomic_write_text(Path(args.json), json.dumps(compact, indent=0) + "\n")


if __name__ == "__main__":
    main()
