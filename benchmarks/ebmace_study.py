"""MACE with an empirical-Bayes prior on theta (``annotator.MACE_EB``): off against on, same run.

For every stress problem (benchmarks/stress_problems.py: train and test matrices from one
generator) and every shared set with gold (fit split without gold, eval split scored; crowd sets
fit and score all rows), the default ``LabelModel()`` is fitted twice, with ``MACE_EB`` off (the
uniform Beta(1, 1) prior of the library) and on (theta_i ~ Beta(s mu, s (1 - mu)), mu and s by the
beta-binomial method of moments at each M-step), and so is the ``"mace"`` family alone.  Scores as
in stress.py: accuracy under a uniform tie-break, F1 of class 1 (k = 2) or macro (k > 2).

Reported: mean accuracy, win / tie / loss against majority vote (tie: within 0.5 points), the
share at or above MV - 0.5 points, the worst difference to MV, means per family, the problems and
sets whose choice or accuracy moves, and the held-out choice of on/off: leave-one-family-out on
the stress suite and leave-one-dataset-out on the shared sets (pick the setting with the better
mean accuracy on the rest, ties to off; score it on the held-out part).

    PYTHONPATH=src python benchmarks/ebmace_study.py --part stress --out /tmp/eb_stress.jsonl
    PYTHONPATH=src python benchmarks/ebmace_study.py --part shared --out /tmp/eb_shared.jsonl
    PYTHONPATH=src python benchmarks/ebmace_study.py --part stress --plain --out /tmp/eb_plain.jsonl
    (variants: --plain, --fixed, --s-max 50; results/ebmace_{plain,var,fixed,cap}.md)
    PYTHONPATH=src python benchmarks/ebmace_study.py --summarise /tmp/eb_stress.jsonl /tmp/eb_shared.jsonl
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
sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from scoring import tie_scores
from variant_runs import (
    add_run_arguments,
    held_out_choice,
    run_shared,
    run_stress,
    summarise_if_asked,
    tag_stats,
)

import tripletws.estimators.annotator as A
from tripletws import LabelModel
from tripletws.inference import posterior
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary


def _fit_both(k: int, L: np.ndarray, L_test: np.ndarray, y: np.ndarray) -> dict:
    out: dict = {}
    lm_test = check_label_matrix(L_test, k)
    unique = RowSummary.from_matrix(check_label_matrix(L, k), 10**7)
    for tag, on in (("off", False), ("on", True)):
        A.MACE_EB = on
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.process_time()
                model = LabelModel(k).fit(L)
                cpu = time.process_time() - t0
                acc, f1 = tie_scores(model.predict_proba(L_test), y, k)
                sel = model.selection_
                fit = A.fit_annotator(unique, "mace")
                macc, mf1 = tie_scores(posterior(lm_test, fit.params), y, k)
        finally:
            A.MACE_EB = False
        out[tag] = {
            "acc": acc,
            "f1": f1,
            "cpu_s": cpu,
            "chosen": sel.chosen if sel is not None else "(fallback)",
            "heldout": dict(sel.heldout_loglik) if sel is not None else {},
            "mace_acc": macc,
            "mace_f1": mf1,
        }
    return out


def summarise(paths: list[Path]) -> dict:
    recs = [json.loads(line) for p in paths for line in p.read_text().splitlines() if line.strip()]
    res: dict = {}
    for part in ("stress", "shared"):
        rs = [r for r in recs if r["part"] == part]
        if not rs:
            continue
        s = {
            tag: {
                "acc": tag_stats(rs, tag),
                "f1": tag_stats(rs, tag, "f1"),
                "mace_alone": tag_stats(rs, tag, "mace_acc"),
            }
            for tag in ("off", "on")
        }
        s["mv_mean"] = float(np.mean([r["mv"]["acc"] for r in rs]))
        fams = sorted({r["family"] for r in rs})
        s["per_family"] = {
            f: {tag: float(np.mean([r[tag]["acc"] for r in rs if r["family"] == f])) for tag in ("off", "on")}
            | {"mv": float(np.mean([r["mv"]["acc"] for r in rs if r["family"] == f]))}
            for f in fams
        }
        s["held_out"] = held_out_choice(rs, "family" if part == "stress" else "name", ["off", "on"])
        s["changed"] = [
            {
                "name": r["name"],
                "mv": r["mv"]["acc"],
                "off": r["off"]["acc"],
                "on": r["on"]["acc"],
                "chosen": [r["off"]["chosen"], r["on"]["chosen"]],
                "mace_alone": [r["off"]["mace_acc"], r["on"]["mace_acc"]],
            }
            for r in rs
            if abs(r["on"]["acc"] - r["off"]["acc"]) > 0.001 or r["on"]["chosen"] != r["off"]["chosen"]
        ]
        s["cpu_s_total"] = {tag: float(sum(r[tag]["cpu_s"] for r in rs)) for tag in ("off", "on")}
        res[part] = s
    return res


def markdown(res: dict) -> str:
    lines = ["# MACE with an empirical-Bayes prior on theta: off vs on", ""]
    for part, s in res.items():
        lines += [f"## {part} ({s['off']['acc']['n']} problems; MV mean {s['mv_mean']:.4f})", ""]
        lines += [
            "| | mean acc | vs MV | W/T/L vs MV | share >= MV-0.5 | worst vs MV | F1 worst vs MV"
            " | MACE alone mean |"
        ]
        lines += ["|---|---|---|---|---|---|---|---|"]
        for tag in ("off", "on"):
            a, f, m = s[tag]["acc"], s[tag]["f1"], s[tag]["mace_alone"]
            lines.append(
                f"| {tag} | {a['mean']:.4f} | {a['mean_vs_mv']:+.4f} | {'/'.join(map(str, a['wtl']))} | "
                f"{a['share_ge_mv']:.3f} | {a['worst']:+.4f} | {f['worst']:+.4f} | {m['mean']:.4f} |"
            )
        ho = s["held_out"]
        lines += [
            "",
            f"Held out (leave one {'family' if part == 'stress' else 'set'} out): mean {ho['mean']:.4f}; "
            f"picked {json.dumps(ho['picked'])}",
            "",
        ]
        lines += ["| family | MV | off | on |", "|---|---|---|---|"]
        for f, v in s["per_family"].items():
            lines.append(f"| {f} | {v['mv']:.4f} | {v['off']:.4f} | {v['on']:.4f} |")
        lines += ["", "Changed (accuracy moves > 0.1 pt or the choice changes):", ""]
        lines += ["| name | MV | off | on | chosen off/on | MACE alone off/on |", "|---|---|---|---|---|---|"]
        for c in s["changed"]:
            lines.append(
                f"| {c['name']} | {c['mv']:.4f} | {c['off']:.4f} | {c['on']:.4f} | {'/'.join(c['chosen'])} | "
                f"{c['mace_alone'][0]:.4f}/{c['mace_alone'][1]:.4f} |"
            )
        lines += [
            "",
            f"CPU seconds of the default fits (process_time, summed): {json.dumps(s['cpu_s_total'])}",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(ap)
    ap.add_argument(
        "--plain",
        action="store_true",
        help="MACE_EB_VAR off: the spread of the expected counts alone (the first, failed variant)",
    )
    ap.add_argument("--fixed", action="store_true", help="MACE_EB_FIXED: the prior of the first M-step kept")
    ap.add_argument("--s-max", type=float, help="upper bound of the prior strength s (MACE_EB_S[1])")
    args = ap.parse_args(argv)
    if summarise_if_asked(args, summarise, markdown):
        return 0
    A.MACE_EB_VAR = not args.plain
    A.MACE_EB_FIXED = args.fixed
    if args.s_max is not None:
        A.MACE_EB_S = (A.MACE_EB_S[0], args.s_max)
    if args.part == "stress":
        run_stress(args.out, args.families, _fit_both, ["off", "on"])
    elif args.part == "shared":
        run_shared(args.out, _fit_both, ["off", "on"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
