"""On which rows a run gains and loses against majority vote: no vote, tied votes, a clear majority.

Reads the results of ``benchmarks/stress.py`` or ``benchmarks/lf_subsets.py`` (each record's
``by_kind``: a method's accuracy and majority vote's on each kind of evaluation row,
``scoring.split_by_kind``) and splits the method's points against majority vote by the kind of row
they come from:

- ``unvoted``: rows without a vote (majority vote's coin over every class: the bet on the class
  balance or on the abstentions decides them);
- ``tied``: rows whose votes tie between classes (a coin over the tied classes: the tie-break decides);
- ``clear``: rows with a clear majority (where the fitted accuracies outvote it).

For each run it reports, for the method (``--method``, default ``default``):

- its points against majority vote on each kind, summed over the problems, gains and losses apart;
- the problems below majority vote by more than the run's bar (0.5 points for the stress suite, the
  issue's 2 points for LF subsets; ``--below`` sets it): how many, their points on each kind, and how
  many of them one kind carries alone (with majority vote's accuracy on that kind of row in place
  of the method's, the problem would be within the bar);
- a what-if per kind: majority vote's predictions on that kind of row, everywhere, the fit otherwise
  unchanged: the share of problems within the bar and the summed points.  It is exact, not a
  refit: a row's expected accuracy does not depend on the other rows' predictions;
- the same split for two classes and for more.

Nothing here chooses anything: it says where a run's shortfall against a target sits, so that a
rule can be aimed at the rows that carry it, and what giving up a kind of row's bets would cost.

    python benchmarks/row_kinds.py benchmarks/results/stress_seed20940101.json [--out X.md]
    python benchmarks/row_kinds.py RUN.json --method default --below 0.5
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from scoring import ROW_KINDS  # noqa: E402
from subsets_diff import FAR_BELOW, emit  # noqa: E402

#: The stress suite's bar: a problem more than half a point below majority vote is a loss.
STRESS_BELOW = 0.005

Record = dict[str, Any]


def records(run: dict[str, Any], method: str) -> tuple[str, float, list[Record]]:
    """The run's kind (``"stress"`` or ``"subsets"``), its bar, and one flat record per problem:
    ``name``, ``k`` (None for LF-subset records before session 64), ``acc``, ``mv`` and ``parts``
    (kind -> (rows, acc, mv_acc)); problems where the method has no accuracy or no ``by_kind`` are
    left out.

    Raises
    ------
    ValueError
        When the file is neither a stress nor an LF-subsets run.
    """
    if "problems" in run:
        kind, bar = "stress", STRESS_BELOW
        raw = [
            (p["name"], p.get("k"), p.get("results", {}).get("mv", {}), p.get("results", {}).get(method, {}))
            for p in run["problems"]
        ]
    elif "records" in run:
        kind, bar = "subsets", FAR_BELOW
        raw = [
            (f"{r['set']}/{r['size']}/{r['draw']}", r.get("k"), r.get("mv", {}), r.get(method, {}))
            for r in run["records"]
        ]
    else:
        raise ValueError("not a stress.py or lf_subsets.py results file (no 'problems' or 'records')")
    out = []
    for name, k, mv, rec in raw:
        by = rec.get("by_kind")
        if rec.get("acc") is None or mv.get("acc") is None or not by:
            continue
        parts = {
            kind_: (int(by[kind_]["rows"]), by[kind_]["acc"], by[kind_]["mv_acc"]) for kind_ in ROW_KINDS
        }
        out.append(
            {
                "name": name,
                "k": None if k is None else int(k),
                "acc": float(rec["acc"]),
                "mv": float(mv["acc"]),
                "parts": parts,
            }
        )
    return kind, bar, out


def _weighted(rows: dict[str, int], new: dict[str, Any], old: dict[str, Any]) -> dict[str, float]:
    """Accuracy points of each kind of row: the kind's accuracy difference ``new - old`` times its share
    of the rows (a kind without rows: 0), so the kinds add up to the whole change."""
    n = sum(rows.values())
    return {
        kind: 100.0 * rows[kind] * (new[kind] - old[kind]) / n if rows[kind] else 0.0 for kind in ROW_KINDS
    }


def points(rec: Record) -> dict[str, float]:
    """The record's change against majority vote (accuracy points) on each kind of row."""
    parts = rec["parts"]
    return _weighted(
        {kind: rows for kind, (rows, _, _) in parts.items()},
        {kind: acc for kind, (_, acc, _) in parts.items()},
        {kind: mv for kind, (_, _, mv) in parts.items()},
    )


def change_by_kind(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    """Where a method's change between two fits of the same problem falls: the points of each kind of
    row (``before`` and ``after`` are the two records' ``by_kind``, on the same test rows)."""
    rows = {kind: int(before[kind]["rows"]) for kind in ROW_KINDS}
    for kind in ROW_KINDS:
        if int(after[kind]["rows"]) != rows[kind]:
            raise ValueError(
                f"the two records hold different {kind} rows ({rows[kind]} and {after[kind]['rows']})"
            )
    return _weighted(
        rows,
        {kind: after[kind]["acc"] for kind in ROW_KINDS},
        {kind: before[kind]["acc"] for kind in ROW_KINDS},
    )


def summary(recs: list[Record], bar: float) -> dict[str, Any]:
    """What :mod:`row_kinds` reports for one group of records (see the module's docstring)."""
    bar_pts = 100.0 * bar
    pts = [points(r) for r in recs]
    totals = [100.0 * (r["acc"] - r["mv"]) for r in recs]
    losses = [i for i, t in enumerate(totals) if t < -bar_pts]
    res: dict[str, Any] = {
        "problems": len(recs),
        "within": len(recs) - len(losses),
        "points": sum(totals),
        "kinds": {},
        "losses": len(losses),
    }
    for kind in ROW_KINDS:
        vals = [p[kind] for p in pts]
        # what-if: majority vote on this kind of row everywhere (its points there become 0)
        after = [t - p[kind] for t, p in zip(totals, pts, strict=True)]
        res["kinds"][kind] = {
            "gains": sum(v for v in vals if v > 0),
            "losses": sum(v for v in vals if v < 0),
            "in_losses": sum(pts[i][kind] for i in losses),
            "carries_alone": sum(1 for i in losses if after[i] >= -bar_pts),
            "whatif_within": sum(1 for a in after if a >= -bar_pts),
            "whatif_points": sum(after),
        }
    return res


def _share(count: int, total: int) -> str:
    return f"{count} ({100.0 * count / total:.1f} %)"


def report(
    runs: list[tuple[str, dict[str, Any]]], method: str, below: float | None, command: str = ""
) -> tuple[str, dict[str, Any]]:
    """Markdown and JSON for the runs (each a (label, results) pair); ``command`` heads the report."""
    lines = [f"# On which rows `{method}` gains and loses against majority vote", ""]
    if command:
        lines += [f"`{command}`", ""]
    lines.append(
        "Points: accuracy points against majority vote, each problem's change split by the kind of test "
        "row it comes from (no vote, tied votes, a clear majority), summed over the problems. A loss is a "
        "problem below majority vote by more than the bar. *Alone*: the losses that majority vote's "
        "accuracy on that kind of row alone would bring within the bar. *What-if*: majority vote's "
        "predictions on that kind of row, everywhere, the fit otherwise unchanged (exact, not a refit)."
    )
    out: dict[str, Any] = {"method": method, "runs": []}
    for label, run in runs:
        kind, bar, recs = records(run, method)
        bar = bar if below is None else below / 100.0
        skipped = len(run.get("problems", run.get("records", []))) - len(recs)
        groups = {
            "all": recs,
            "two classes": [r for r in recs if r["k"] == 2],
            "more classes": [r for r in recs if r["k"] is not None and r["k"] > 2],
        }
        entry: dict[str, Any] = {
            "run": label,
            "kind": kind,
            "bar_points": 100.0 * bar,
            "skipped": skipped,
            "groups": {},
        }
        lines += [
            "",
            f"## {label} ({kind}; bar {100.0 * bar:g} points; {len(recs)} problems"
            + (f", {skipped} without `by_kind`)" if skipped else ")"),
            "",
        ]
        meta = run.get("meta", {})
        if meta.get("command"):
            when = meta.get("date", meta.get("when", ""))
            lines += [f"`{meta['command']}`; {meta.get('code', '')}, {when}", ""]
        lines.append(
            "| group | problems | within the bar | points | kind | gains | losses | in the losses | alone "
            "| what-if within | what-if points |"
        )
        lines.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
        for name, group in groups.items():
            if not group:
                continue  # (records without k, LF subsets' before session 64: the whole group only)
            s = summary(group, bar)
            entry["groups"][name] = s
            for j, kd in enumerate(ROW_KINDS):
                v = s["kinds"][kd]
                within, whatif = _share(s["within"], s["problems"]), _share(v["whatif_within"], s["problems"])
                head = f"| {name} | {s['problems']} | {within} | {s['points']:+.1f}" if j == 0 else "| | | |"
                lines.append(
                    f"{head} | {kd} | {v['gains']:+.1f} | {v['losses']:+.1f} | {v['in_losses']:+.1f} "
                    f"| {v['carries_alone']} | {whatif} | {v['whatif_points']:+.1f} |"
                )
        out["runs"].append(entry)
    return "\n".join(lines) + "\n", out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", type=Path, nargs="+", help="stress.py or lf_subsets.py results (.json)")
    ap.add_argument(
        "--method", default="default", help="the method whose records are split (default: default)"
    )
    ap.add_argument(
        "--below",
        type=float,
        default=None,
        help="the bar in points (default: 0.5 for stress, 2 for LF subsets)",
    )
    ap.add_argument("--out", type=Path, default=None, help="write the markdown here and the JSON beside it")
    args = ap.parse_args(argv)
    runs = [(path.name, json.loads(path.read_text())) for path in args.runs]
    command = "python benchmarks/row_kinds.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text, res = report(runs, args.method, args.below, command)
    emit(text, res, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
