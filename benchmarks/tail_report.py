"""Where the real-LF subsets' tail is: a report of one ``lf_subsets.py`` results file, without refitting.

Issue 7's unseen-data target asks that no LF set end more than 2 points below majority vote; its proxy
is the share of ``lf_subsets.py``'s LF subsets (not the crowd subsets) that do. Sessions 48-61 asked the
same questions of each run's records by hand; this script asks them once:

1. how many LF subsets end more than 2 points below majority vote, by set;
2. how much of their summed loss falls on the evaluation rows without a vote (the default's bet on
   those rows) and how much on the rows with votes (each record's ``by_rows``);
3. by reading (the vote-only families, the coverage reading, the abstain reading) and its balance: the
   subsets, their summed points against majority vote, and how many are in the tail;
4. the bet on the rows without a vote over every subset, by set: its summed points and how many
   subsets it moves by more than 2 points either way;
5. the same bet by how near a coin the fit's posterior for a row without a vote is (the margin
   between its two highest classes, ``decisions.unvoted``).

    PYTHONPATH=src python benchmarks/lf_subsets.py --draws 20 --seed 36 --jobs 2 --out /tmp/sub.json
    python benchmarks/tail_report.py /tmp/sub.json [--out /tmp/tail.json]

Points are accuracy points (expected accuracy under a uniform tie-break, as ``lf_subsets.py`` scores
it); a part's points are its rows' accuracy difference weighted by their share of the evaluation rows,
so the voted and unvoted parts of a subset add up to its difference.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from lf_subsets import write_results  # noqa: E402

#: A subset this far below majority vote is in the tail (2 points, the issue's criterion and
#: ``switch_check.FAR_BELOW``).
FAR_BELOW = 0.02
#: Margins between the two highest classes of a row without a vote, the bins' upper edges (section 5; the
#: first holds the ties, where the default leaves such rows to a coin).
MARGIN_EDGES = (1e-9, 0.02, 0.05, 0.1, 0.2, 1.0)


def parts(rec: dict[str, Any]) -> tuple[float, float]:
    """The default's points against majority vote on the rows with votes and on those without, each
    weighted by its share of the evaluation rows (they add up to the subset's difference)."""
    by = rec["default"]["by_rows"]
    n = by["voted"]["rows"] + by["unvoted"]["rows"]
    out = []
    for part in ("voted", "unvoted"):
        p = by[part]
        out.append(100.0 * (p["acc"] - p["mv_acc"]) * p["rows"] / n if p["rows"] and n else 0.0)
    return out[0], out[1]


def reading(rec: dict[str, Any]) -> str:
    """The reading the default's predictions come from, with its balance where one was chosen."""
    family = str(rec["default"].get("family") or "")
    decisions = rec["default"].get("decisions") or {}
    if family.endswith("_coverage"):
        balance = (decisions.get("one_class") or {}).get("balance")
        return f"coverage reading ({balance or 'given'} balance)"
    if family.endswith("_abstain"):
        balance = (decisions.get("abstain") or {}).get("balance")
        return f"abstain reading ({balance or 'given'} balance)"
    return "vote-only family"


def margin(rec: dict[str, Any]) -> float | None:
    """The margin between the two highest classes of the fit's posterior for a row without a vote."""
    p = (rec["default"].get("decisions") or {}).get("unvoted")
    if not p or len(p) < 2:
        return None
    top = sorted(p, reverse=True)
    return float(top[0] - top[1])


def report(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The five sections' figures (JSON-able)."""
    lf = [r for r in records if not r.get("crowd") and r.get("default", {}).get("acc") is not None]
    tail = [r for r in lf if r["default"]["acc"] < r["mv"]["acc"] - FAR_BELOW]
    voted = unvoted = 0.0
    for r in tail:
        v, u = parts(r)
        voted, unvoted = voted + v, unvoted + u
    by_reading: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])
    for r in lf:
        row = by_reading[reading(r)]
        row[0] += 1
        row[1] += 100.0 * (r["default"]["acc"] - r["mv"]["acc"])
        row[2] += r in tail
    bet: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0, 0])
    bins: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0, 0])
    for r in records:
        if r.get("default", {}).get("acc") is None or "by_rows" not in r["default"]:
            continue
        u = parts(r)[1]
        m = margin(r)
        edge = "no posterior" if m is None else next(f"<= {e:g}" for e in MARGIN_EDGES if m <= e)
        for table, key in ((bet, r["set"]), (bet, "all"), (bins, edge)):
            row = table[key]
            row[0] += 1
            row[1] += u
            row[2] += u < -100.0 * FAR_BELOW
            row[3] += u > 100.0 * FAR_BELOW
    return {
        "lf_subsets": len(lf),
        "tail": len(tail),
        "tail_by_set": dict(Counter(r["set"] for r in tail).most_common()),
        "tail_points": {"voted": voted, "unvoted": unvoted},
        "by_reading": {k: by_reading[k] for k in sorted(by_reading)},
        "bet_by_set": {k: bet[k] for k in sorted(bet, key=lambda k: (k != "all", k))},
        "bet_by_margin": {
            k: bins[k] for k in [*(f"<= {e:g}" for e in MARGIN_EDGES), "no posterior"] if k in bins
        },
    }


def to_markdown(name: str, rep: dict[str, Any]) -> str:
    sets = ", ".join(f"{s} {c}" for s, c in rep["tail_by_set"].items())
    tp = rep["tail_points"]
    lines = [
        f"# Where the real-LF subsets' tail is: `{name}`",
        "",
        f"- LF subsets more than 2 points below majority vote: **{rep['tail']} of {rep['lf_subsets']}**"
        + (f" ({sets})" if sets else ""),
        f"- their summed points against majority vote: {tp['voted'] + tp['unvoted']:+.1f}, of which "
        f"{tp['unvoted']:+.1f} on the rows without a vote and {tp['voted']:+.1f} on the rows with votes",
        "",
        "| reading (LF subsets) | subsets | summed points vs MV | in the tail |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {k} | {n:.0f} | {p:+.1f} | {t:.0f} |" for k, (n, p, t) in rep["by_reading"].items()]
    lines += [
        "",
        "The bet on the rows without a vote, every subset (crowd subsets too): summed points on those rows, "
        "and the subsets it moves by more than 2 points.",
        "",
        "| set | subsets | summed points | down > 2 | up > 2 |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {k} | {n:.0f} | {p:+.1f} | {d:.0f} | {u:.0f} |" for k, (n, p, d, u) in rep["bet_by_set"].items()
    ]
    lines += [
        "",
        "| margin of a row without a vote's top two classes | subsets | summed points | down > 2 | up > 2 |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {k} | {n:.0f} | {p:+.1f} | {d:.0f} | {u:.0f} |"
        for k, (n, p, d, u) in rep["bet_by_margin"].items()
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", type=Path, help="an lf_subsets.py results JSON")
    ap.add_argument("--out", type=Path, default=None, help="JSON; the markdown beside it (.md)")
    args = ap.parse_args(argv)
    data = json.loads(args.results.read_text())
    records = data["records"] if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(r, dict) and "set" in r for r in records):
        raise ValueError(
            f"{args.results}: not an lf_subsets.py results file (no list of records with a 'set')"
        )
    rep = report(records)
    text = to_markdown(args.results.name, rep)
    print(text, end="")
    if args.out is not None:
        write_results(rep, args.out, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
