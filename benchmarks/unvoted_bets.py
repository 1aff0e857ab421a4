"""Where the default's class for the rows without a vote pays on real LFs, by the classes the LFs name.

Majority vote leaves a row on which no LF votes to a coin (``1 / k`` of it right); the default gives it
the class its fit names there, a bet whose stake is the share of such rows.  This script reads the
records of ``benchmarks/lf_subsets.py`` (each holds the default's and majority vote's accuracy on the
evaluation rows with and without a vote, ``by_rows``) and splits each LF subset's points against
majority vote into the part the rows without a vote carry and the rest, grouped by which classes the
subset's LFs vote for on the fit split:

* ``k = 2, one class named``: every LF flags the same class ``c``; the rows without a vote go to the
  other class under the coverage reading, and how many rows it has rests on the class balance, which
  no vote speaks for (the reading's note says so).  These rows are further split by ``c`` and by
  whether ``c`` is the rarer class on the evaluation rows' gold (known here, not to the fit);
* ``k = 2, both named``; ``k > 2, all named``; ``k > 2, some class unnamed``.

With ``--by reading`` (session 53) the binary subsets are grouped instead by set, by the reading
behind the bet (the coverage reading of one-class LFs, or the abstain reading of every LF's
abstentions), by the source of its class balance (uniform: the rows did not settle one; estimated)
and by the class the rows without a vote get (the records' ``decisions``): which bets win, and under
which balance.

For each group: subsets, summed points against majority vote (all rows), summed points on the rows
without a vote, the subsets more than 2 points below majority vote, and how many of those would remain
with the rows without a vote left to majority vote's coin (the bet not taken).  Duplicate subsets
(the same LFs of one set, drawn under several seeds) count once.  It chooses nothing: it says where
the bet on the rows without a vote wins and loses.

    PYTHONPATH=src python benchmarks/unvoted_bets.py benchmarks/results/lf_subsets_seed19.json
    PYTHONPATH=src python benchmarks/unvoted_bets.py /tmp/seed1*.json --out /tmp/bets.json
    PYTHONPATH=src python benchmarks/unvoted_bets.py /tmp/seed1*.json --by reading

Writes ``--out`` (.json, and .md beside it) where given; prints the markdown.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH / "peers"))
sys.path.insert(0, str(BENCH))

from tripletws.atomic import atomic_write_text  # noqa: E402

BELOW = 0.02  # "more than 2 points below majority vote", the unseen collection's bar


def named_classes(L_fit: np.ndarray) -> list[frozenset[int]]:
    """The classes each LF (column of ``L_fit``) votes for on the fit split."""
    return [frozenset(np.unique(col[col >= 0]).tolist()) for col in np.asarray(L_fit).T]


def split_points(rec: dict[str, Any]) -> tuple[float, float]:
    """(points against majority vote on all evaluation rows, the part the rows without a vote carry),
    both as fractions of all the evaluation rows."""
    parts = rec["default"]["by_rows"]
    n = parts["voted"]["rows"] + parts["unvoted"]["rows"]
    u = parts["unvoted"]
    unvoted = u["rows"] * (u["acc"] - u["mv_acc"]) / n if u["rows"] else 0.0
    return rec["default"]["acc"] - rec["mv"]["acc"], unvoted


def group_of(rec: dict[str, Any], k: int, named: list[frozenset[int]], rare: int) -> str:
    """The record's group (module docstring); ``rare``: the rarer class of a binary set's gold."""
    classes = frozenset().union(*(named[j] for j in rec["lfs"]))
    if k == 2:
        if len(classes) == 1:
            (c,) = classes
            which = "the rarer" if c == rare else "the commoner"
            return f"k = 2, one class named: {rec['set']}, class {c} ({which})"
        return "k = 2, both named"
    return "k > 2, all named" if len(classes) == k else "k > 2, some class unnamed"


def reading_group(rec: dict[str, Any], k: int) -> str:
    """The record's group by the reading behind its bet (``--by reading``): for a binary set, the set,
    the accepted reading (``coverage`` or ``abstain``) with the source of its class balance, and the
    class the rows without a vote get (``coin`` where the fit leaves them tied); else ``k > 2`` or
    ``no reading``."""
    if k != 2:
        return "k > 2"
    d = rec["default"].get("decisions") or {}
    cover, abstain = d.get("one_class") or {}, d.get("abstain") or {}
    if cover.get("accepted"):
        kind, balance = "coverage", cover.get("balance", "?")
    elif abstain.get("accepted"):
        kind, balance = "abstain", abstain.get("balance", "?")
    else:
        return f"{rec['set']}, no reading"
    post = d.get("unvoted") or [0.5, 0.5]
    bet = "coin" if abs(post[1] - post[0]) < 1e-6 else f"class {int(post[1] > post[0])}"
    return f"{rec['set']}, {kind} reading, {balance} balance, rows without a vote: {bet}"


def tally(
    records: list[dict[str, Any]], sets: dict[str, dict[str, Any]], by: str = "classes"
) -> dict[str, dict[str, float]]:
    """Per group (``by``: ``"classes"``, :func:`group_of`; ``"reading"``, :func:`reading_group`):
    subsets, summed points (all rows; rows without a vote), subsets more than 2 points below majority
    vote, and those among them that the bet not taken would leave there."""
    named = {name: named_classes(ds["L_fit"]) for name, ds in sets.items()}
    rare = {name: int(np.argmin(np.bincount(ds["y"], minlength=ds["k"]))) for name, ds in sets.items()}
    out: dict[str, dict[str, float]] = defaultdict(
        lambda: {"subsets": 0, "points": 0.0, "unvoted_points": 0.0, "below": 0, "below_without_bet": 0}
    )
    seen: set[tuple[str, tuple[int, ...]]] = set()
    for rec in records:
        key = (rec["set"], tuple(rec["lfs"]))
        if rec["crowd"] or key in seen or "by_rows" not in rec.get("default", {}):
            continue
        seen.add(key)
        ds = sets[rec["set"]]
        total, unvoted = split_points(rec)
        if by == "reading":
            g = out[reading_group(rec, ds["k"])]
        else:
            g = out[group_of(rec, ds["k"], named[rec["set"]], rare[rec["set"]])]
        g["subsets"] += 1
        g["points"] += 100 * total
        g["unvoted_points"] += 100 * unvoted
        g["below"] += int(total < -BELOW)
        g["below_without_bet"] += int(total - unvoted < -BELOW)
    return dict(sorted(out.items()))


def to_markdown(res: dict[str, Any]) -> str:
    lines = [
        "# The rows without a vote on real-LF subsets, by "
        + (
            "the reading behind the bet" if res["meta"].get("by") == "reading" else "the classes the LFs name"
        ),
        "",
        "(`benchmarks/unvoted_bets.py`)",
        "",
        f"- command: `{res['meta']['command']}`",
        f"- records: {', '.join(res['meta']['inputs'])} ({res['meta']['subsets']} distinct LF subsets)"
        + (f"; {res['meta']['about']}" if res["meta"].get("about") else ""),
        "- points: the default's accuracy minus majority vote's, summed over the subsets; on the rows "
        "without a vote, majority vote's coin is its baseline. `> 2 below`: subsets more than 2 points "
        "below majority vote; `without the bet`: those that would stay there with the rows without a "
        "vote left to the coin. The rarer class is read from the evaluation rows' gold (the fit does not "
        "know it)",
        "",
        "| group | subsets | points | on rows without a vote | > 2 below | without the bet |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, g in res["groups"].items():
        lines.append(
            f"| {name} | {g['subsets']} | {g['points']:+.1f} | {g['unvoted_points']:+.1f} | {g['below']} | "
            f"{g['below_without_bet']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("records", nargs="+", help="results JSONs of benchmarks/lf_subsets.py")
    ap.add_argument("--out", default=None, metavar="JSON", help="results path (.json; the .md beside it)")
    ap.add_argument("--about", default="", help="how the records were made (a line in the results)")
    ap.add_argument(
        "--by",
        choices=("classes", "reading"),
        default="classes",
        help="group by the classes the LFs name (default) or, for binary sets, by the reading behind the "
        "bet, its balance's source and the class the rows without a vote get",
    )
    args = ap.parse_args(argv)
    from lf_subsets import shared_sets

    sets = {ds["name"]: ds for ds in shared_sets()}
    records = [r for path in args.records for r in json.loads(Path(path).read_text())["records"]]
    groups = tally(records, sets, by=args.by)
    res = {
        "meta": {
            "command": "python benchmarks/unvoted_bets.py "
            + " ".join(args.records)
            + (f" --by {args.by}" if args.by != "classes" else "")
            + (f" --out {args.out}" if args.out else ""),
            "inputs": [Path(p).name for p in args.records],
            "subsets": int(sum(g["subsets"] for g in groups.values())),
            "about": args.about,
            "by": args.by,
        },
        "groups": groups,
    }
    md = to_markdown(res)
    print(md, end="")
    if args.out:
        out = Path(args.out)
        atomic_write_text(out, json.dumps(res, indent=1) + "\n")
        atomic_write_text(out.with_suffix(".md"), md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
