"""MACE with a two-component (spammer / expert) prior on theta (``annotator.MACE_MIX``): off against on.

For every stress problem (benchmarks/stress_problems.py: train and test matrices from one
generator) and every shared set with gold (fit split without gold, eval split scored; crowd sets
fit and score all rows), the default ``LabelModel()`` is fitted with ``MACE_MIX`` off (the
library's default) and under each variant, and so is the ``"mace"`` family alone:

- ``mix``: ``theta_i ~ pi Beta(a0, b0) + (1 - pi) Beta(a1, b1)``, ``mu0 <= mu1``, re-estimated at
  each M-step on the complete-data counts (:func:`tripletws.estimators.theta_prior.mix_prior`),
  ``theta_i`` its posterior mean;
- ``mix_fixed``: the prior of the first M-step kept (``MACE_MIX_FIXED``);
- ``mix_1c``: as ``mix``, one-class LFs left out of the prior's estimate (``MACE_MIX_SKIP_ONE_CLASS``);
- ``mix_fixed_1c``: both (run apart: ``--variants mix_fixed_1c``).

Scores as in stress.py: accuracy under a uniform tie-break, F1 of class 1 (k = 2) or macro (k > 2).
Reported per variant: mean accuracy, win / tie / loss against majority vote (tie: within 0.5
points), the share at or above MV - 0.5 points, the worst difference to MV, means per family, the
problems and sets whose choice or accuracy moves, and the held-out choice of off/variant:
leave-one-family-out on the stress suite and leave-one-dataset-out on the shared sets (the setting
with the better mean accuracy on the rest, ties to off, scored on the held-out part).

    PYTHONPATH=src python benchmarks/mixprior_study.py --part stress --out /tmp/mix_stress.jsonl
    PYTHONPATH=src python benchmarks/mixprior_study.py --part shared --out /tmp/mix_shared.jsonl
    PYTHONPATH=src python benchmarks/mixprior_study.py --summarise /tmp/mix_stress.jsonl \\
        /tmp/mix_shared.jsonl --write benchmarks/results/mixprior.json
    PYTHONPATH=src python benchmarks/mixprior_study.py --components   (the mixture's components)
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

#: variant -> (MACE_MIX, MACE_MIX_FIXED, MACE_MIX_SKIP_ONE_CLASS)
VARIANTS = {
    "off": (False, False, False),
    "mix": (True, False, False),
    "mix_fixed": (True, True, False),
    "mix_1c": (True, False, True),
    "mix_fixed_1c": (True, True, True),
}


def _fit_all(k: int, L: np.ndarray, L_test: np.ndarray, y: np.ndarray, tags: list[str]) -> dict:
    out: dict = {}
    lm_test = check_label_matrix(L_test, k)
    unique = RowSummary.from_matrix(check_label_matrix(L, k), 10**7)
    for tag in tags:
        A.MACE_MIX, A.MACE_MIX_FIXED, A.MACE_MIX_SKIP_ONE_CLASS = VARIANTS[tag]
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
            A.MACE_MIX, A.MACE_MIX_FIXED, A.MACE_MIX_SKIP_ONE_CLASS = VARIANTS["off"]
        out[tag] = {
            "acc": acc,
            "f1": f1,
            "cpu_s": cpu,
            "chosen": sel.chosen if sel is not None else "(fallback)",
            "mace_acc": macc,
            "mace_f1": mf1,
        }
    return out


def run_components(families: list[str] | None) -> None:
    """The mixture at the end of each stress problem's ``"mace"`` fit (``mix``, on all rows): how
    often the two components stay apart (means more than 0.05 apart, each weight above 0.05)."""
    from stress_problems import all_problems, draw

    seen: list = []
    orig = A.mix_prior

    def spy(*a: object, **kw: object) -> tuple:
        r = orig(*a, **kw)  # type: ignore[arg-type]
        seen.append(r)
        return r

    def apart(r: tuple) -> bool:
        pi, mu, _ = r
        return bool(abs(mu[1, 0] - mu[0, 0]) > 0.05 and 0.05 < pi[0] < 0.95)

    A.mix_prior, A.MACE_MIX = spy, True
    rows = []
    try:
        for prob in all_problems():
            if families and prob.family not in families:
                continue
            k = int(prob.params["k"])
            L = draw(prob, None)[0]
            unique = RowSummary.from_matrix(check_label_matrix(L, k), 10**7)
            seen.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                A.fit_annotator(unique, "mace")
            pi, mu, _ = seen[-1]
            rows.append(
                (prob.name, apart(seen[0]), apart(seen[-1]), float(pi[0]), float(mu[0, 0]), float(mu[1, 0]))
            )
    finally:
        A.mix_prior, A.MACE_MIX = orig, False
    for r in rows:
        print(f"{r[0]:18s} apart first {r[1]!s:5s} last {r[2]!s:5s} pi0 {r[3]:.3f} mu {r[4]:.3f} {r[5]:.3f}")
    n1, n2 = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"components apart after the first M-step: {n1}/{len(rows)}; at the end: {n2}/{len(rows)}")


def summarise(paths: list[Path]) -> dict:
    recs = [json.loads(line) for p in paths for line in p.read_text().splitlines() if line.strip()]
    res: dict = {}
    for part in ("stress", "shared"):
        rs = [r for r in recs if r["part"] == part]
        if not rs:
            continue
        tags = [t for t in VARIANTS if t in rs[0]]
        s: dict = {"tags": tags}
        for tag in tags:
            s[tag] = {
                "acc": tag_stats(rs, tag),
                "f1": tag_stats(rs, tag, "f1"),
                "mace_alone": tag_stats(rs, tag, "mace_acc"),
                "cpu_s_total": float(sum(r[tag]["cpu_s"] for r in rs)),
            }
        s["mv_mean"] = float(np.mean([r["mv"]["acc"] for r in rs]))
        fams = sorted({r["family"] for r in rs})
        s["per_family"] = {
            f: {tag: float(np.mean([r[tag]["acc"] for r in rs if r["family"] == f])) for tag in tags}
            | {"mv": float(np.mean([r["mv"]["acc"] for r in rs if r["family"] == f]))}
            for f in fams
        }
        grp = "family" if part == "stress" else "name"
        s["held_out"] = {tag: held_out_choice(rs, grp, ["off", tag]) for tag in tags if tag != "off"}
        s["changed"] = [
            {
                "name": r["name"],
                "mv": r["mv"]["acc"],
                "acc": {t: r[t]["acc"] for t in tags},
                "f1_vs_mv": {t: r[t]["f1"] - r["mv"]["f1"] for t in tags},
                "chosen": {t: r[t]["chosen"] for t in tags},
                "mace_alone": {t: r[t]["mace_acc"] for t in tags},
            }
            for r in rs
            if any(
                abs(r[t]["acc"] - r["off"]["acc"]) > 0.001 or r[t]["chosen"] != r["off"]["chosen"]
                for t in tags
            )
        ]
        res[part] = s
    return res


def markdown(res: dict) -> str:
    lines = ["# MACE with a two-component (spammer / expert) prior on theta: off vs variants", ""]
    for part, s in res.items():
        tags = s["tags"]
        lines += [f"## {part} ({s['off']['acc']['n']} problems; MV mean {s['mv_mean']:.4f})", ""]
        lines += [
            "| | mean acc | vs MV | W/T/L vs MV | share >= MV-0.5 | worst vs MV | F1 worst vs MV"
            " | MACE alone mean | held out | CPU s |"
        ]
        lines += ["|---|---|---|---|---|---|---|---|---|---|"]
        for tag in tags:
            a, f, m = s[tag]["acc"], s[tag]["f1"], s[tag]["mace_alone"]
            ho = f"{s['held_out'][tag]['mean']:.4f}" if tag in s["held_out"] else "-"
            lines.append(
                f"| {tag} | {a['mean']:.4f} | {a['mean_vs_mv']:+.4f} | {'/'.join(map(str, a['wtl']))} | "
                f"{a['share_ge_mv']:.3f} | {a['worst']:+.4f} | {f['worst']:+.4f} | {m['mean']:.4f} | {ho} | "
                f"{s[tag]['cpu_s_total']:.1f} |"
            )
        lines += ["", f"Held out (leave one {'family' if part == 'stress' else 'set'} out), picks:", ""]
        for tag, ho in s["held_out"].items():
            on = sorted(g for g, p in ho["picked"].items() if p != "off")
            lines.append(f"- {tag}: mean {ho['mean']:.4f}; {tag} picked for {on if on else 'none'}")
        lines += ["", "| family | MV | " + " | ".join(tags) + " |", "|---" * (len(tags) + 2) + "|"]
        for f, v in s["per_family"].items():
            lines.append(f"| {f} | {v['mv']:.4f} | " + " | ".join(f"{v[t]:.4f}" for t in tags) + " |")
        lines += ["", "Changed (accuracy moves > 0.1 pt or the choice changes under some variant):", ""]
        lines += [
            "| name | MV | " + " | ".join(tags) + " | chosen | MACE alone |",
            "|---" * (len(tags) + 4) + "|",
        ]
        for c in s["changed"]:
            lines.append(
                f"| {c['name']} | {c['mv']:.4f} | "
                + " | ".join(f"{c['acc'][t]:.4f}" for t in tags)
                + f" | {'/'.join(c['chosen'][t] for t in tags)} | "
                + "/".join(f"{c['mace_alone'][t]:.3f}" for t in tags)
                + " |"
            )
        lines += ["", "CPU seconds: the default fits' process_time summed over the problems.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(ap)
    ap.add_argument("--variants", nargs="*", default=["mix", "mix_fixed", "mix_1c"], choices=list(VARIANTS))
    ap.add_argument(
        "--components", action="store_true", help="stress: whether the mixture's components stay apart"
    )
    args = ap.parse_args(argv)
    if summarise_if_asked(args, summarise, markdown):
        return 0
    if args.components:
        run_components(args.families)
        return 0
    tags = ["off"] + [t for t in args.variants if t != "off"]
    if args.part == "stress":
        run_stress(args.out, args.families, lambda *a: _fit_all(*a, tags), tags)
    elif args.part == "shared":
        run_shared(args.out, lambda *a: _fit_all(*a, tags), tags)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
