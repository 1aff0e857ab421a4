"""Partly dependent LFs down-weighted (``annotator.SOFTDEP``): the default against variants, same problems.

For every stress problem (benchmarks/stress_problems.py: train and test matrices from one
generator) and every shared set with gold (fit split without gold, eval split scored; crowd sets
fit and score all rows), ``LabelModel(k).fit`` is run with ``SOFTDEP`` off (the default) and with
each variant:

* ``chosen``: excess agreement shares against the chosen family's fit (or the accepted coverage
  reading's), every chosen family, the coverage reading refitted weighted too (its class balance
  estimated again where it was estimated);
* ``mvnull``: the same against majority vote's model (equal accuracies);
* ``chosen_vote``: ``chosen`` for the vote-only families only (``SOFTDEP_COVERAGE`` off);
* ``chosen_nomv``: ``chosen`` but not where majority vote's model is chosen;
* ``chosen3``, ``mvnull3``: three rounds (shares against the null, weighted refit; after the first
  the null is the last weighted fit); ``mvnull3_vote``: ``mvnull3`` for the vote-only families only.

Scores as in stress.py: accuracy under a uniform tie-break, F1 of class 1 (k = 2) or macro (k > 2).
Reported per variant: mean accuracy, W/T/L against majority vote (tie: within 0.5 points), the
share at or above MV - 0.5 points, the worst difference to MV, means per family, and the held-out
choice among off and the variants: leave-one-family-out on the stress suite, leave-one-dataset-out
on the shared sets (the setting with the best mean accuracy on the rest, ties to off, scored on
the held-out part).

    V="chosen mvnull chosen_vote chosen3 mvnull3 mvnull3_vote"
    PYTHONPATH=src python benchmarks/softdep_study.py --part stress --variants $V --out /tmp/sd_stress.jsonl
    PYTHONPATH=src python benchmarks/softdep_study.py --part shared --variants $V --out /tmp/sd_shared.jsonl
    PYTHONPATH=src python benchmarks/softdep_study.py --summarise /tmp/sd_stress.jsonl /tmp/sd_shared.jsonl \\
        --write benchmarks/results/softdep.json

(Records of several runs are merged per problem, so variants may be added by later runs.)  Result: no
variant raises the stress share at or above MV - 0.5 (docs/studies.md, "What did not work").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring import tie_scores
from variant_runs import (
    add_run_arguments,
    held_out_choice,
    run_shared,
    run_stress,
    summarise_if_asked,
    tag_stats,
)

import tripletws.models.annotator as M
from tripletws import LabelModel

#: tag -> (SOFTDEP, SOFTDEP_ON_MV, SOFTDEP_COVERAGE, SOFTDEP_ROUNDS)
VARIANTS = {
    "off": ("off", True, True, 1),
    "chosen": ("chosen", True, True, 1),
    "mvnull": ("mv", True, True, 1),
    "chosen_vote": ("chosen", True, False, 1),
    "chosen_nomv": ("chosen", False, True, 1),
    "chosen3": ("chosen", True, True, 3),
    "mvnull3": ("mv", True, True, 3),
    "mvnull3_vote": ("mv", True, False, 3),
}


def _fit_all(k: int, L: np.ndarray, L_test: np.ndarray, y: np.ndarray, tags: list[str]) -> dict:
    out: dict = {}
    for tag in tags:
        M.SOFTDEP, M.SOFTDEP_ON_MV, M.SOFTDEP_COVERAGE, M.SOFTDEP_ROUNDS = VARIANTS[tag]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.process_time()
                model = LabelModel(k).fit(L)
                cpu = time.process_time() - t0
                acc, f1 = tie_scores(model.predict_proba(L_test), y, k)
        finally:
            M.SOFTDEP, M.SOFTDEP_ON_MV, M.SOFTDEP_COVERAGE, M.SOFTDEP_ROUNDS = "off", True, True, 1
        notes = " ".join(getattr(model, "notes_", ()) or ())
        out[tag] = {
            "acc": acc,
            "f1": f1,
            "cpu_s": cpu,
            "chosen": model.selection_.chosen if model.selection_ is not None else "(fallback)",
            "weighted": "SOFTDEP" in notes,
        }
    return out


def _stats(recs: list[dict], tag: str, key: str = "acc") -> dict:
    return dict(tag_stats(recs, tag, key), n_weighted=int(sum(bool(r[tag].get("weighted")) for r in recs)))


def summarise(paths: list[Path]) -> dict:
    merged: dict = {}  # one record per problem: runs with other variants add their tags
    for p in paths:
        for line in p.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                merged.setdefault((rec["part"], rec["name"]), {}).update(rec)
    recs = list(merged.values())
    res: dict = {}
    for part in ("stress", "shared"):
        rs = [r for r in recs if r["part"] == part]
        if not rs:
            continue
        tags = [t for t in VARIANTS if all(t in r for r in rs)]
        s: dict = {"tags": tags}
        s["stats"] = {t: {"acc": _stats(rs, t), "f1": _stats(rs, t, "f1")} for t in tags}
        s["mv_mean"] = float(np.mean([r["mv"]["acc"] for r in rs]))
        fams = sorted({r["family"] for r in rs})
        s["per_family"] = {
            f: {t: float(np.mean([r[t]["acc"] for r in rs if r["family"] == f])) for t in ["mv", *tags]}
            for f in fams
        }
        s["held_out"] = held_out_choice(rs, "family" if part == "stress" else "name", tags)
        s["changed"] = [
            {"name": r["name"], "mv": r["mv"]["acc"], **{t: r[t]["acc"] for t in tags}}
            for r in rs
            if any(abs(r[t]["acc"] - r["off"]["acc"]) > 0.001 for t in tags)
        ]
        s["cpu_s_total"] = {t: float(sum(r[t]["cpu_s"] for r in rs)) for t in tags}
        res[part] = s
    return res


def markdown(res: dict) -> str:
    lines = ["# Partly dependent LFs down-weighted (annotator.SOFTDEP): off vs variants", ""]
    for part, s in res.items():
        tags = s["tags"]
        n = s["stats"]["off"]["acc"]["n"]
        lines += [f"## {part} ({n} problems; MV mean {s['mv_mean']:.4f})", ""]
        lines += [
            "| variant | mean acc | vs MV | W/T/L vs MV | share >= MV-0.5 | worst vs MV | F1 vs MV | F1 worst"
            " | weighted fits |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for t in tags:
            a, f = s["stats"][t]["acc"], s["stats"][t]["f1"]
            lines.append(
                f"| {t} | {a['mean']:.4f} | {a['mean_vs_mv']:+.4f} | {'/'.join(map(str, a['wtl']))} | "
                f"{a['share_ge_mv']:.3f} | {a['worst']:+.4f} | {f['mean_vs_mv']:+.4f} | {f['worst']:+.4f} | "
                f"{a['n_weighted']} |"
            )
        ho = s["held_out"]
        lines += [
            "",
            f"Held out (leave one {'family' if part == 'stress' else 'set'} out): mean {ho['mean']:.4f}; "
            f"picked {json.dumps(ho['picked'])}",
            "",
        ]
        lines += ["| family | MV | " + " | ".join(tags) + " |", "|---" * (len(tags) + 2) + "|"]
        for f, v in s["per_family"].items():
            lines.append(f"| {f} | " + " | ".join(f"{v[t]:.4f}" for t in ["mv", *tags]) + " |")
        lines += ["", "Changed (some variant moves accuracy by > 0.1 pt):", ""]
        lines += ["| name | MV | " + " | ".join(tags) + " |", "|---" * (len(tags) + 2) + "|"]
        for c in s["changed"]:
            lines.append(f"| {c['name']} | " + " | ".join(f"{c[t]:.4f}" for t in ["mv", *tags]) + " |")
        lines += [
            "",
            f"CPU seconds of the fits (process_time, summed): {json.dumps(s['cpu_s_total'])}",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(ap)
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), help="tags to fit (off always included)")
    args = ap.parse_args(argv)
    if summarise_if_asked(args, summarise, markdown):
        return 0
    tags = ["off", *[t for t in args.variants if t != "off"]]
    if "mv" in tags or any(t not in VARIANTS for t in tags):
        ap.error(f"variants are among {', '.join(VARIANTS)}")
    if args.part == "stress":
        run_stress(args.out, args.families, lambda *a: _fit_all(*a, tags), tags)
    elif args.part == "shared":
        run_shared(args.out, lambda *a: _fit_all(*a, tags), tags)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
