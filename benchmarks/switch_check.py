"""A study switch against the default on the development data, problem by problem.

Every rule tried for issue 7 is judged the same way (docs/studies.md): on the shared sets, on real
LFs in new combinations (``lf_subsets.py``, spent seeds) and on the stress suite (``stress.py``,
spent draws, balanced and with every class imbalanced), each against the default *run in the same
invocation*, so that a change of the default since a results file was written cannot bias the
comparison.  This script runs those pairs for one setting (one or more module constants, as
``lf_subsets.py --set`` and ``stress_probe.py set:`` take them) and prints what a bar written
down beforehand needs: summed points against the default, how many problems move, the share of
stress problems at or above majority vote - 0.5 points and the share of LF subsets more than 2
points below majority vote, each before and after; and where the moves fall (LF subsets: the rows with
a vote or without; stress runs: the rows without a vote, tied or with a clear majority, as
``benchmarks/row_kinds.py`` splits them; both: the default's reading before and after)::

    PYTHONPATH=src python benchmarks/switch_check.py \\
        tripletws.estimators.abstain_check:UNNAMED_EMPTY=multiclass \\
        --subset-seeds 14 15 16 --large-subset-seeds 17 18 \\
        --stress-seeds 20700101 20710101 --imbalance-all-too --keyword-seeds 20261201 20750101 \\
        --jobs 2 --out /tmp/check.md

A stress draw takes about two minutes a run on two cores; the subsets about fifteen seconds.

A bar given with the ``--bar-*`` options (the criteria of sessions 59-61: ``--bar-judge-drop 0.001
--bar-tail lower --bar-subsets-points -100 --bar-shares each_not_fewer --bar-stress-points -40``) is
written to ``--out`` with the command, the code's revision and the time *before* any run, and judged
criterion by criterion at the end (``passed`` / ``missed``), so that a bar cannot be written after its
results nor misread against them.

``--keep DIR`` keeps the runs' own results files (each problem, each LF subset, with and without the
setting), so that a later look, e.g. ``benchmarks/tail_report.py DIR/subsets_36_False_switch.json`` or a
split of the moves by rows, needs no second run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import subsets_diff  # noqa: E402
from provenance import revision  # noqa: E402
from row_kinds import change_by_kind  # noqa: E402
from scoring import ROW_KINDS, mv_scores, tie_scores  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402

#: Differences within this many accuracy points (0.5 points) are ties, as in stress.py.
TIE = 0.005
#: An LF subset this far below majority vote counts in the issue's second criterion (2 points).
FAR_BELOW = subsets_diff.FAR_BELOW
#: The stress tables' last column: each problem's change in points, then the default's points against MV.
MOVES = "largest moves: change (was default - MV)"
#: Subset sizes of ``--large-subset-seeds`` (``lf_subsets.py --lf-sizes``).
LARGE_SIZES = ("12", "16", "24", "32")


@contextmanager
def settings(specs: list[str]) -> Iterator[None]:
    """Each ``MODULE:NAME=VALUE`` set in this process (``stress_probe.set_constant``), restored after."""
    from stress_probe import set_constant

    old = []
    for spec in specs:
        module_name, _, assignment = spec.partition(":")
        name = assignment.partition("=")[0]
        module = importlib.import_module(module_name)
        old.append((module, name, getattr(module, name)))
        set_constant(spec)
    try:
        yield
    finally:
        for module, name, value in reversed(old):
            setattr(module, name, value)


def shared_rows(specs: list[str]) -> list[dict[str, Any]]:
    """The shared sets' accuracy and F1 (expected under a uniform tie-break) under the default and
    under the setting, with majority vote's, one dict per set."""
    from lf_subsets import shared_sets

    from tripletws import LabelModel

    rows = []
    for ds in shared_sets():
        k, y = ds["k"], ds["y"]
        row: dict[str, Any] = {"set": ds["name"]}
        row["mv"] = tie_scores(mv_scores(ds["L_eval"], k), y, k)
        for label, active in (("default", []), ("switch", specs)):
            with settings(active), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                P = LabelModel(k).fit(ds["L_fit"]).predict_proba(ds["L_eval"])
            row[label] = tie_scores(P, y, k)
        rows.append(row)
    return rows


def compare_subsets(base: list[dict[str, Any]], switch: list[dict[str, Any]]) -> dict[str, Any]:
    """The default's records of ``lf_subsets.py`` against the same subsets' under the setting.

    Returns summed points (accuracy, each subset once), how many subsets move, and how many LF
    subsets (not crowd) end more than :data:`FAR_BELOW` below majority vote before and after; with
    where the points fall (``benchmarks/subsets_diff.py``): ``rows``, the summed points on the rows
    with a vote and on those without (None where a moved record has no ``by_rows``), and ``readings``,
    the moved subsets by the default's family before and after (``"A -> B"``: [subsets, points])."""
    res = subsets_diff.diff(base, switch)
    total, far = res["total"], res["far_below"]["all"]
    return {
        "subsets": total["subsets"],
        "moved": total["moved"],
        "points": total["points"],
        "lf_subsets": far[2],
        "far_below": far[:2],
        "by_set": {name: t["points"] for name, t in res["by_set"].items() if t["moved"]},
        "rows": [total["voted"], total["unvoted"]] if total["split"] else None,
        "readings": {name: [t["moved"], t["points"]] for name, t in res["readings"].items()},
    }


def compare_stress(base: list[dict[str, Any]], switch: list[dict[str, Any]]) -> dict[str, Any]:
    """The default's problems of a ``stress.py`` run against the same draw's under the setting.

    Returns summed points, the problems that move (name, points, the default's points against
    majority vote before), how many problems are at or above majority vote - 0.5 points before
    and after, ``readings``: the moved problems by the default's family before and after
    (``"A -> B"``: [problems, points]; ``?`` where a record has no family, as before session 63), and
    ``kinds``: the summed points by kind of test row (``row_kinds.change_by_kind``; None where a moved
    record has no ``by_kind``, as before session 64)."""
    after = {p["name"]: p for p in switch}
    if set(after) != {p["name"] for p in base}:
        raise ValueError("the two runs hold different problems")
    out: dict[str, Any] = {
        "problems": len(base),
        "points": 0.0,
        "at_or_above": [0, 0],
        "moves": [],
        "readings": {},
        "kinds": dict.fromkeys(ROW_KINDS, 0.0),
    }
    for prob in base:
        mv = prob["results"]["mv"]["acc"]
        a = prob["results"]["default"].get("acc")
        b = after[prob["name"]]["results"]["default"].get("acc")
        a = 0.0 if a is None else a  # a crash counts as a loss, as in stress.py
        b = 0.0 if b is None else b
        out["at_or_above"][0] += a >= mv - TIE
        out["at_or_above"][1] += b >= mv - TIE
        if abs(b - a) > 1e-12:
            change = 100.0 * (b - a)
            out["points"] += change
            out["moves"].append((prob["name"], round(change, 2), round(100.0 * (a - mv), 1)))
            before = prob["results"]["default"].get("family") or "?"
            reading = f"{before} -> {after[prob['name']]['results']['default'].get('family') or '?'}"
            tally = out["readings"].setdefault(reading, [0, 0.0])
            tally[0] += 1
            tally[1] += change
            kinds = (
                prob["results"]["default"].get("by_kind"),
                after[prob["name"]]["results"]["default"].get("by_kind"),
            )
            if out["kinds"] is not None and all(kinds):
                for kind, points in change_by_kind(*kinds).items():
                    out["kinds"][kind] += points
            else:
                out["kinds"] = None
    out["moves"].sort(key=lambda move: move[1])
    return out


def _run(argv: list[str]) -> None:
    subprocess.run([sys.executable, *argv], check=True, stdout=subprocess.DEVNULL)


def run_subsets(specs: list[str], seed: int, large: bool, jobs: int, tmp: Path) -> dict[str, Any]:
    """``lf_subsets.py`` on one seed with and without the setting, compared."""
    runs = []
    for label, active in (("base", []), ("switch", specs)):
        out = tmp / f"subsets_{seed}_{large}_{label}.json"
        argv = [str(BENCH / "lf_subsets.py"), "--draws", "20", "--seed", str(seed), "--jobs", str(jobs)]
        if large:
            argv += ["--lf-sizes", *LARGE_SIZES]
        for spec in active:
            argv += ["--set", spec]
        _run([*argv, "--out", str(out)])
        runs.append(json.loads(out.read_text())["records"])
    return compare_subsets(*runs)


def run_stress(
    specs: list[str], seed: int, imbalanced: bool, jobs: int, tmp: Path, families: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``stress.py`` on one draw, and ``stress_probe.py`` with the setting on it, compared (``families``:
    only those, e.g. the opt-in ``keyword``)."""
    runs = []
    for label in ("base", "switch"):
        out = tmp / f"stress_{seed}_{imbalanced}_{'_'.join(families)}_{label}.json"
        script = [str(BENCH / "stress.py")] if label == "base" else [str(BENCH / "stress_probe.py")]
        if label == "switch":
            script += [f"set:{spec}" for spec in specs]
        argv = [*script, "--jobs", str(jobs), "--base-seed", str(seed), "--out", str(out)]
        if imbalanced:
            argv.append("--imbalance-all")
        if families:
            argv += ["--families", *families]
        _run(argv)
        runs.append(json.loads(out.read_text())["problems"])
    return compare_stress(*runs)


#: The rules a bar's criteria can take (``--bar-tail``, ``--bar-shares``).
TAIL_RULES = ("lower", "not_higher")
SHARE_RULES = ("each_not_fewer", "each_not_fewer_total_more")


def bar_of(args: argparse.Namespace) -> dict[str, Any]:
    """The bar's criteria given on the command line ({} where none is)."""
    keys = ("judge_drop", "tail", "subsets_points", "shares", "stress_points")
    return {key: getattr(args, f"bar_{key}") for key in keys if getattr(args, f"bar_{key}") is not None}


def bar_lines(bar: dict[str, Any]) -> list[str]:
    """The bar's criteria in words, one per line."""
    words = {
        "judge_drop": lambda v: f"the shared sets' mean accuracy not lower than the default's by {v:g}",
        "tail": lambda v: (
            "each subsets seed: the LF subsets more than 2 points below MV "
            + ("strictly fewer" if v == "lower" else "not more")
        ),
        "subsets_points": lambda v: f"each subsets seed: summed points >= {v:g}",
        "shares": lambda v: (
            "each stress run: no fewer problems at or above MV - 0.5"
            + ("; all runs together strictly more" if v == "each_not_fewer_total_more" else "")
        ),
        "stress_points": lambda v: f"the stress runs' summed points >= {v:g}",
    }
    return [f"- {words[key](value)}" for key, value in bar.items()]


def judge_bar(bar: dict[str, Any], res: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """Each criterion of ``bar`` on the results: (criterion, held, the figures it read)."""
    out = []
    if "judge_drop" in bar and res.get("shared"):
        default, switch = (
            float(np.mean([row[c][0] for row in res["shared"]])) for c in ("default", "switch")
        )
        out.append(("judge", switch > default - float(bar["judge_drop"]), f"{default:.4f} -> {switch:.4f}"))
    for name, c in res.get("subsets", {}).items():
        before, after = c["far_below"]
        if "tail" in bar:
            held = after < before if bar["tail"] == "lower" else after <= before
            out.append((f"tail, {name}", held, f"{before} -> {after} of {c['lf_subsets']}"))
        if "subsets_points" in bar:
            held = c["points"] >= float(bar["subsets_points"])
            out.append((f"summed points, {name}", held, f"{c['points']:+.1f}"))
    runs = res.get("stress", {})
    if "shares" in bar and runs:
        for name, c in runs.items():
            before, after = c["at_or_above"]
            out.append((f"share, {name}", after >= before, f"{before} -> {after} of {c['problems']}"))
        if bar["shares"] == "each_not_fewer_total_more":
            before = sum(c["at_or_above"][0] for c in runs.values())
            after = sum(c["at_or_above"][1] for c in runs.values())
            out.append(("share, all runs", after > before, f"{before} -> {after}"))
    if "stress_points" in bar and runs:
        total = sum(c["points"] for c in runs.values())
        out.append(("stress summed points", total >= float(bar["stress_points"]), f"{total:+.1f}"))
    return out


def bar_markdown(bar: dict[str, Any], res: dict[str, Any]) -> list[str]:
    """The bar's verdict: one row per criterion, then passed or missed."""
    rows = judge_bar(bar, res)
    lines = ["## The bar", "", "| criterion | figures | held |", "|---|---|---|"]
    lines += [f"| {name} | {figures} | {'yes' if held else '**no**'} |" for name, held, figures in rows]
    verdict = "passed" if rows and all(held for _, held, _ in rows) else "missed"
    return [*lines, "", f"Verdict: **{verdict}**.", ""]


def header(specs: list[str], argv: list[str], bar: dict[str, Any], when: str) -> list[str]:
    """The results file's title, command, code and bar (written before the runs where a bar is given)."""
    lines = [
        f"# `{' '.join(specs)}` against the default, paired",
        "",
        f"- command: `python benchmarks/switch_check.py {' '.join(argv)}`",
        f"- code: tripletws @ {revision('benchmarks')}; started {when}",
    ]
    if bar:
        lines += [
            "- the bar, written with the command before any run:",
            *(f"  {line}" for line in bar_lines(bar)),
        ]
    return [*lines, ""]


def readings_line(name: str, c: dict[str, Any]) -> str:
    """One line on the readings of a stress run's moved problems (empty where nothing moved or no record
    names its family)."""
    readings = c.get("readings", {})
    if not readings or set(readings) == {"? -> ?"}:
        return ""
    kinds = c.get("kinds")
    split = (
        "rows without a vote {unvoted:+.1f}, tied {tied:+.1f}, clear {clear:+.1f}; ".format(**kinds)
        if kinds is not None
        else ""
    )
    return f"- {name}: {split}moved readings: {_readings(readings)}"


def _readings(readings: dict[str, list]) -> str:
    """``"A -> B"``: [moved, points] as text, the largest loss first."""
    moved = sorted(readings.items(), key=lambda kv: kv[1][1])
    return ", ".join(f"{r} {n} ({p:+.1f})" for r, (n, p) in moved)


def subsets_where(name: str, c: dict[str, Any]) -> str:
    """One line on where a subsets run's points fall: the rows with a vote or without, and the readings
    of the moved subsets (empty where nothing moved)."""
    if not c["moved"]:
        return ""
    rows = c.get("rows")
    split = f"rows with a vote {rows[0]:+.1f}, without {rows[1]:+.1f}; " if rows is not None else ""
    return f"- {name}: {split}moved readings: {_readings(c.get('readings', {}))}"


def to_markdown(
    specs: list[str], res: dict[str, Any], head: list[str] | None = None, bar: dict[str, Any] | None = None
) -> str:
    lines = list(head) if head else [f"# `{' '.join(specs)}` against the default, paired", ""]
    shared = res.get("shared")
    if shared:
        lines += ["| shared set | MV | default | with the setting |", "|---|---:|---:|---:|"]
        for row in shared:
            cells = " | ".join(f"{row[c][0]:.4f}" for c in ("mv", "default", "switch"))
            lines.append(f"| {row['set']} | {cells} |")
        means = [np.mean([row[c][0] for row in shared]) for c in ("mv", "default", "switch")]
        lines += [f"| mean | {means[0]:.4f} | {means[1]:.4f} | {means[2]:.4f} |", ""]
    if res.get("subsets"):
        lines += [
            "| LF subsets | moved | summed points | LF subsets more than 2 points below MV | by set |",
            "|---|---:|---:|---|---|",
        ]
        for name, c in res["subsets"].items():
            by = ", ".join(f"{s} {v:+.1f}" for s, v in sorted(c["by_set"].items()))
            far = f"{c['far_below'][0]} -> {c['far_below'][1]} of {c['lf_subsets']}"
            lines.append(f"| {name} | {c['moved']} | {c['points']:+.1f} | {far} | {by} |")
        lines.append("")
        lines += [where for name, c in res["subsets"].items() if (where := subsets_where(name, c))]
        if lines[-1]:
            lines.append("")
    for part, title in (("stress", "stress draw"), ("keyword", "`keyword` draw (opt-in family)")):
        if not res.get(part):
            continue
        if lines[-1]:
            lines.append("")
        lines += [
            f"| {title} | moved | summed points | at or above MV - 0.5 | {MOVES} |",
            "|---|---:|---:|---|---|",
        ]
        for name, c in res[part].items():
            worst = ", ".join(f"{n} {pts:+.1f} (was {was:+.1f})" for n, pts, was in c["moves"][:4])
            share = f"{c['at_or_above'][0]} -> {c['at_or_above'][1]} of {c['problems']}"
            lines.append(f"| {name} | {len(c['moves'])} | {c['points']:+.1f} | {share} | {worst} |")
        total = sum(c["points"] for c in res[part].values())
        lines += [
            "",
            f"{'Stress' if part == 'stress' else '`keyword`'}, summed over the runs: {total:+.1f} points.",
        ]
        readings = [where for name, c in res[part].items() if (where := readings_line(name, c))]
        lines += ["", *readings] if readings else []
    if bar:
        lines += [*([""] if lines[-1] else []), *bar_markdown(bar, res)]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("settings", nargs="+", help="MODULE:NAME=VALUE, one or more (applied together)")
    ap.add_argument("--subset-seeds", type=int, nargs="*", default=[])
    ap.add_argument("--large-subset-seeds", type=int, nargs="*", default=[])
    ap.add_argument("--stress-seeds", type=int, nargs="*", default=[])
    ap.add_argument("--imbalance-all-too", action="store_true", help="each stress draw imbalanced as well")
    ap.add_argument(
        "--keyword-seeds",
        type=int,
        nargs="*",
        default=[],
        help="draws of the opt-in stress family keyword (LFs like real keyword LFs), reported apart",
    )
    ap.add_argument("--no-shared", action="store_true", help="skip the shared sets")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="markdown; a .json beside it")
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep every run's results file in DIR (lf_subsets.py's records, stress.py's problems, with "
        "and without the setting: subsets_SEED_LARGE_{base,switch}.json, stress_SEED_IMBALANCED_"
        "FAMILIES_{base,switch}.json), for analyses beyond the comparison; else a temporary folder",
    )
    bar = ap.add_argument_group("the bar (written to --out before any run, judged at the end)")
    bar.add_argument(
        "--bar-judge-drop", type=float, default=None, help="the shared mean may not fall by this"
    )
    bar.add_argument(
        "--bar-tail", choices=TAIL_RULES, default=None, help="LF subsets far below MV, each seed"
    )
    bar.add_argument(
        "--bar-subsets-points", type=float, default=None, help="summed points, each subsets seed"
    )
    bar.add_argument("--bar-shares", choices=SHARE_RULES, default=None, help="stress at or above MV - 0.5")
    bar.add_argument("--bar-stress-points", type=float, default=None, help="summed over the stress runs")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw)
    bar = bar_of(args)
    head = header(args.settings, raw, bar, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    if bar and args.out is not None:  # the bar on record before any result
        atomic_write_text(args.out, "\n".join([*head, "(running)", ""]))
    res: dict[str, Any] = {"settings": args.settings, "bar": bar, "subsets": {}, "stress": {}, "keyword": {}}
    if not args.no_shared:
        res["shared"] = shared_rows(args.settings)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    with nullcontext(str(args.keep)) if args.keep else tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for seed in args.subset_seeds:
            res["subsets"][f"seed {seed}"] = run_subsets(args.settings, seed, False, args.jobs, tmp)
        for seed in args.large_subset_seeds:
            res["subsets"][f"seed {seed}, 12-32 LFs"] = run_subsets(args.settings, seed, True, args.jobs, tmp)
        for seed in args.stress_seeds:
            for imbalanced in (False, True) if args.imbalance_all_too else (False,):
                name = f"{seed}{' imbalanced' if imbalanced else ''}"
                res["stress"][name] = run_stress(args.settings, seed, imbalanced, args.jobs, tmp)
        for seed in args.keyword_seeds:
            res["keyword"][str(seed)] = run_stress(args.settings, seed, False, args.jobs, tmp, ("keyword",))
    if bar:
        res["verdict"] = [list(row) for row in judge_bar(bar, res)]
    subsets_diff.emit(to_markdown(args.settings, res, head, bar), res, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
