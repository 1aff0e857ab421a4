"""Peers on real LFs in new combinations: the subsets of ``benchmarks/lf_subsets.py``, every method.

``lf_subsets.py`` draws random subsets of the shared sets' LFs (3, 5 and 8 LFs) and of their crowds'
annotators (a quarter and half), fits without gold on the fit split and scores on the evaluation
split against majority vote over the same columns. It is the project's proxy for LF sets no choice
of ours has seen (issue 7's unseen collection); this runner scores the peers on the very same subsets
(same ``--seed`` and ``--draws``, same scores: accuracy expected under a uniform tie-break, F1 of
class 1 or macro), so that the default's figures there stand beside theirs:

* our default ``LabelModel()``, and ``LabelModel(one_class="shared")`` (``shared``: abstentions read
  as "not assigned", the conservative setting of docs/workflow.md);
* Snorkel 0.10 ``LabelModel`` (uniform prior, ``fit(L, seed=0)``), FlyingSquid (binary only);
* crowd-kit 1.4.2 Dawid-Skene, MACE and ZeroBasedSkill, and HyperLM 0.0.5 (transductive: fitted on
  the fit rows and the evaluation rows stacked, without gold, as ``run_quality.py`` does);
* given a known class balance (``--methods ... default+balance snorkel+balance ...``, not run unless
  named): ours, Snorkel and FlyingSquid with the evaluation split's own class frequencies (add-one,
  ``lf_subsets_dev.gold_frequencies``) as their ``class_balance``, and ``mv+balance``, majority
  vote with its ties (the rows without a vote included) broken toward the commoner class: the peers
  that take a prior, given the knowledge that docs/workflow.md (section 5) tells our users to give.

The peers' adapters are ``common.py``'s (their gotchas are handled there). A fit over the budget is
skipped (``timeout``) and a crash recorded (``err``); a subset's figures for a method count only where
it finished. The summary is ``lf_subsets.summarize``'s (per set and size, per size, pooled, over sets:
mean points against MV, share at or above MV - 0.5), plus, per method, the mean accuracy over sets
(each set weighted equally, as the issue's "mean above every peer's mean"), the share of subsets more
than 2 points below MV (the issue's "no set more than 2 points below majority vote"), and the default
against each peer subset by subset.

    benchmarks/peers/.venv/bin/python benchmarks/peers/run_subsets.py --draws 5 --seed 16 --jobs 2
    benchmarks/peers/.venv/bin/python benchmarks/peers/run_subsets.py \
        --render benchmarks/results/lf_subsets_peers_seed16.json
    python benchmarks/peers/run_subsets.py --seed 16 --methods default shared \
        --merge benchmarks/results/lf_subsets_peers_seed16.json    # our columns rerun, the peers' kept

Writes ``benchmarks/results/lf_subsets_peers_seed<S>.{json,md}`` (``--out`` changes the path). With
``--merge FILE`` the methods run replace (or add) their columns in that results file, whose subsets
and majority vote's scores must be the same (the same ``--seed``, ``--draws`` and sets).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    CrowdKit,
    CrowdKitDS,
    FlyingSquid,
    HyperLM,
    Method,
    Ours,
    SnorkelLM,
    WithBalance,
    limit_threads,
    machine_info,
    mv_counts,
    ours_revision,
    pool_map,
)

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

from lf_subsets import LF_SIZES, TIE, over_sets, shared_sets, subset_record, summarize, tasks  # noqa: E402
from lf_subsets_dev import gold_frequencies, mv_with_balance  # noqa: E402
from run_stress import FIT_BUDGET_S, run_one  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402

RESULTS = BENCH / "results"
COMMAND = "benchmarks/peers/.venv/bin/python benchmarks/peers/run_subsets.py"
#: A subset more than this far below majority vote is a loss in the sense of issue 7's unseen target.
BIG_LOSS = 0.02
NAMES = (
    "default",
    "shared",
    "snorkel",
    "flyingsquid",
    "crowdkit_ds",
    "crowdkit_mace",
    "crowdkit_zbs",
    "hyperlm",
)
#: Methods given the evaluation split's class frequencies (run only where named in ``--methods``).
BALANCED = ("default+balance", "shared+balance", "snorkel+balance", "flyingsquid+balance", "mv+balance")


class MVBalance(Method):
    """Majority vote with its ties broken toward the commoner class of a known balance (k,)."""

    name = "mv+balance"
    family = "baseline"

    def __init__(self, balance: np.ndarray):
        self.balance = np.asarray(balance, dtype=np.float64)

    def fit(self, L, k, class_balance=None):
        self.k = k
        return self

    def predict_proba(self, L):
        scores = mv_with_balance(mv_counts(L, self.k), self.balance)
        return scores / scores.sum(axis=1, keepdims=True)


def build_methods(only: list[str] | None = None, balance: np.ndarray | None = None) -> list[Any]:
    """The methods by name (``default`` is our ``LabelModel()``, ``shared`` our conservative setting
    ``LabelModel(one_class="shared")``, which reads abstentions as "not assigned"); with ``balance``
    (k,), also those of :data:`BALANCED` (given it), where ``only`` names them."""
    methods = [
        Ours("default", {}),
        Ours("shared", {"one_class": "shared"}),
        SnorkelLM("snorkel"),
        FlyingSquid(),
        CrowdKitDS(),
        CrowdKit("crowdkit_mace", "MACE"),
        CrowdKit("crowdkit_zbs", "ZeroBasedSkill"),
        HyperLM(),
    ]
    if balance is not None:
        given = [Ours("default", {}), Ours("shared", {"one_class": "shared"})]
        given += [SnorkelLM("snorkel", use_prior=True), FlyingSquid()]
        methods += [*(WithBalance(m, balance) for m in given), MVBalance(balance)]
    return [m for m in methods if (not only and m.name in NAMES) or (only and m.name in only)]


def score_method(method: Any, L_fit: np.ndarray, L_eval: np.ndarray, y: np.ndarray, k: int) -> dict[str, Any]:
    """One method on one subset, as ``run_stress.run_one`` fits and scores it (the stress suite's
    budget and limits), in ``lf_subsets.py``'s record form: ``{"acc", "f1", "fit_s", ...}``, or
    ``{"error": why}`` (never raises)."""
    res = run_one(method, L_fit, L_eval, y, k)
    status = res.pop("status")
    if status == "ok":
        return res
    return {"error": res["note"] if status == "err" else f"{status}: {res['note']}"}


def run_subset(task: tuple[Any, ...]) -> dict[str, Any]:
    """Every method on one subset (a task of ``lf_subsets.tasks``), with majority vote's scores."""
    limit_threads(1)
    ds, cols, size, draw, names = task
    k, y = ds["k"], ds["y"]
    L_fit = ds["L_fit"][:, cols]
    L_eval = ds["L_eval"][:, cols]
    if ds["crowd"] and np.array_equal(L_fit, L_eval):
        L_eval = L_fit  # a crowd set is fitted and scored on the same rows: transductive peers fit them once
    rec, _ = subset_record(ds, cols, size, draw, L_eval)
    balance = gold_frequencies(y, k) if set(names) & set(BALANCED) else None
    for method in build_methods(list(names), balance):
        rec[method.name] = score_method(method, L_fit, L_eval, y, k)
    return rec


def extra_summary(records: list[dict[str, Any]], methods: list[str]) -> dict[str, Any]:
    """Per method: mean accuracy over sets (each set equally), the share of subsets more than
    :data:`BIG_LOSS` below MV, and, against the default on the subsets both finished, the mean
    difference and the share where the default is at or above the method - 0.5 points."""
    out: dict[str, Any] = {}
    for name in ["mv", *methods]:
        done = [r for r in records if "acc" in r.get(name, {})]
        d = np.array([r[name]["acc"] - r["mv"]["acc"] for r in done])
        row: dict[str, Any] = {
            "finished": len(done),
            "of": len(records),
            "sets": len({r["set"] for r in done}),
            "mean_acc_over_sets": over_sets(done, [r[name]["acc"] for r in done]),
            "share_big_loss": float(np.mean(d < -BIG_LOSS)) if d.size else None,
        }
        if name not in ("mv", "default"):
            both = [r for r in done if "acc" in r.get("default", {})]
            diff = np.array([r["default"]["acc"] - r[name]["acc"] for r in both])
            row["default_minus"] = float(diff.mean()) if diff.size else None
            row["default_at_or_above"] = float(np.mean(diff >= -TIE)) if diff.size else None
            row["paired_subsets"] = int(diff.size)
            row["paired_sets_mean"] = over_sets(both, diff)
        out[name] = row
    return out


def _key(rec: dict[str, Any]) -> tuple[str, int, tuple[int, ...]]:
    return rec["set"], rec["size"], tuple(rec["lfs"])


def merge_columns(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` with the methods of ``new`` replaced or added, subset by subset; refuses (SystemExit)
    where the two do not hold the same subsets with the same majority vote scores."""
    before = {_key(r): r for r in old["records"]}
    if sorted(before) != sorted(_key(r) for r in new["records"]):
        raise SystemExit("--merge: the results hold other subsets (another --seed, --draws or --sets?)")
    added = new["meta"]["methods"]
    records = []
    for r in new["records"]:
        base = before[_key(r)]
        if base["mv"] != r["mv"]:
            raise SystemExit(f"--merge: majority vote differs on {_key(r)}: not the same rows")
        records.append({**base, **{name: r[name] for name in added}})
    methods = [n for n in NAMES + BALANCED if n in set(old["meta"]["methods"]) | set(added)]
    meta = {**old["meta"], "methods": methods}
    meta["merged"] = [
        *old["meta"].get("merged", []),
        f"{', '.join(added)} at {new['meta']['ours']}, {new['meta']['when']}",
    ]
    return {
        "meta": meta,
        "records": records,
        "summary": summarize(records, methods),
        "extra": extra_summary(records, methods),
    }


def _pts(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.1f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _grid(corner: str, rows: list[str], cols: list[str], cell: Any, text: Any) -> list[str]:
    """A markdown table: one line per row name, ``text(cell(row, col))`` per column ("-" where the
    summary counts no subset)."""
    lines = [f"| {corner} | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for row in rows:
        values = [cell(row, col) for col in cols]
        lines.append(f"| {row} | " + " | ".join("-" if not v.get("n") else text(v) for v in values) + " |")
    return lines


def to_markdown(res: dict[str, Any]) -> str:
    meta, summ, extra = res["meta"], res["summary"], res["extra"]
    methods = meta["methods"]
    lines = [
        "# Peers on real LFs in new combinations (`benchmarks/peers/run_subsets.py`)",
        "",
        f"`{meta['command']}`; {meta['when']}; {meta['machine']}; ours: {meta['ours']}; "
        f"{meta['subsets']} subsets (seed {meta['seed']}, {meta['draws']} draws per set and size)"
        + "".join(f"; columns {m}" for m in meta.get("merged", []))
        + ".",
        "",
        "Accuracy expected under a uniform tie-break. Points against majority vote over the same columns. "
        "Over sets: each shared set weighted equally. A method's figures count the subsets it finished "
        "(FlyingSquid's the binary sets only).",
        "",
        "| method | finished | mean accuracy over sets | points vs MV over sets "
        "| at or above MV - 0.5 (pooled) | more than 2 points below MV "
        "| default minus method (over sets / pooled) | default at or above it - 0.5 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ["mv", *methods]:
        e = extra[name]
        over = summ["over_sets"].get(name, {})
        pooled = summ["pooled"].get(name, {})
        acc = "-" if e["mean_acc_over_sets"] is None else f"{e['mean_acc_over_sets']:.4f}"
        vs = "-" if name == "mv" else _pts(over.get("mean"))
        share = "-" if name == "mv" else _pct(pooled.get("share_ok"))
        big = "-" if name == "mv" else _pct(e["share_big_loss"])
        dm = "-"
        at = "-"
        if "default_minus" in e:
            dm = f"{_pts(e['paired_sets_mean'])} / {_pts(e['default_minus'])}"
            at = _pct(e["default_at_or_above"])
        done = f"{e['finished']} / {e['of']} ({e['sets']} sets)"
        lines.append(f"| {name} | {done} | {acc} | {vs} | {share} | {big} | {dm} | {at} |")
    lines += ["", "## Points against MV by kind and size (mean / share at or above MV - 0.5)", ""]
    groups = list(next(iter(summ["by_size"].values())).keys())

    def both(s: dict[str, Any]) -> str:
        return f"{_pts(s['mean'])} / {_pct(s['share_ok'])}"

    lines += _grid("method", methods, groups, lambda name, g: summ["by_size"][name][g], both)
    lines += ["", "## Mean points against MV per set and size", ""]
    keys = list(summ["by_set_size"][methods[0]].keys())
    per_key = summ["by_set_size"]
    lines += _grid("set/size", keys, methods, lambda key, name: per_key[name][key], lambda s: _pts(s["mean"]))
    errors = {
        name: sorted({r[name]["error"].split(":")[0] for r in res["records"] if "error" in r.get(name, {})})
        for name in methods
    }
    errors = {n: e for n, e in errors.items() if e}
    if errors:
        lines += ["", "Not finished: " + "; ".join(f"{n}: {', '.join(e)}" for n, e in errors.items()) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=5, help="subsets per set and size (default 5)")
    ap.add_argument("--seed", type=int, default=16, help="lf_subsets.py's seed (default 16)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--sets", nargs="*", help="only these shared sets")
    ap.add_argument(
        "--methods",
        nargs="*",
        choices=NAMES + BALANCED,
        help="only these methods (default: all but those given a known balance, which run where named)",
    )
    ap.add_argument(
        "--lf-sizes",
        type=int,
        nargs="+",
        default=list(LF_SIZES),
        help="LFs per subset of an LF set (as lf_subsets.py)",
    )
    ap.add_argument("--out", type=Path, help="results path (.json; the .md beside it)")
    ap.add_argument("--render", type=Path, help="rewrite the .md of a results file and stop")
    ap.add_argument("--merge", type=Path, help="put the methods run into this results file (same subsets)")
    args = ap.parse_args(argv)
    if args.render:
        res = json.loads(args.render.read_text())
        atomic_write_text(args.render.with_suffix(".md"), to_markdown(res))
        return 0
    names = tuple(args.methods or NAMES)
    sets = shared_sets()
    if args.sets:
        sets = [s for s in sets if s["name"] in args.sets]
    drawn = tasks(sets, args.draws, args.seed, lf_sizes=tuple(args.lf_sizes))
    todo = [(ds, cols, size, draw, names) for ds, cols, size, draw, _ in drawn]
    t0 = time.time()
    records = pool_map(run_subset, todo, args.jobs)
    methods = [n for n in NAMES + BALANCED if n in names]
    res = {
        "meta": {
            "command": " ".join([COMMAND, *sys.argv[1:]]),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": machine_info(),
            "ours": ours_revision(),
            "seed": args.seed,
            "draws": args.draws,
            "lf_sizes": list(args.lf_sizes),
            "subsets": len(records),
            "methods": methods,
            "fit_budget_s": FIT_BUDGET_S,
            "wall_s": time.time() - t0,
        },
        "records": records,
        "summary": summarize(records, methods),
        "extra": extra_summary(records, methods),
    }
    if args.merge:
        res = merge_columns(json.loads(args.merge.read_text()), res)
    out = args.out or args.merge or RESULTS / f"lf_subsets_peers_seed{args.seed}.json"
    atomic_write_text(out, json.dumps(res, indent=1, default=float))
    text = to_markdown(res)
    atomic_write_text(out.with_suffix(".md"), text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
