"""Gain from a few gold labels: ``fit(L, L_dev=..., Y_dev=...)`` with 50, 100 and 200 dev rows.

For every shared set with gold and each dev size, 10 seeded draws of dev rows from the eval
split's gold rows; the model is fitted on the fit split (without gold) plus the dev rows'
gold, and scored on the remaining eval rows, as are ``LabelModel()`` (no gold) and majority
vote.  Accuracy is expected under a uniform tie-break (see ``quality_lodo.py``).

    PYTHONPATH=src python benchmarks/quality_dev.py          # writes results/quality_dev.{md,json}
    PYTHONPATH=src python benchmarks/quality_dev.py --no-relabel --lead-se none --name quality_dev_plain

``--no-relabel`` / ``--lead-se`` set the dev choice's options (``tripletws.dev_choice.choose_with_dev``'s
``relabelling`` and ``lead_se``: "none" = any lead, a number = that many standard errors, "loo" = the
choice checked left one dev row out; default:
the library's) for a comparison; ``--name`` names the results files.
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from quality_lodo import shared_sets, tie_scores

from tripletws import LabelModel
from tripletws.atomic import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (50, 100, 200)
SEEDS = range(10)


def run() -> dict:
    out: dict[str, dict] = {}
    for name, k, L_fit, L_eval, y, crowd in shared_sets():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base = LabelModel(k).fit(L_fit)
        P_base = base.predict_proba(L_eval)
        counts = np.stack([(L_eval == c).sum(axis=1) for c in range(k)], axis=1).astype(float)
        row: dict[str, dict] = {}
        for size in SIZES:
            if size >= len(y) // 2:
                continue
            acc, f1, base_acc, mv_acc, chosen = [], [], [], [], Counter()
            for seed in SEEDS:
                rng = np.random.default_rng(seed)
                dev = np.zeros(len(y), dtype=bool)
                dev[rng.choice(len(y), size, replace=False)] = True
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = LabelModel(k).fit(L_fit, L_dev=L_eval[dev], Y_dev=y[dev])
                a, f = tie_scores(model.predict_proba(L_eval[~dev]), y[~dev], k)
                acc.append(a)
                f1.append(f)
                base_acc.append(tie_scores(P_base[~dev], y[~dev], k)[0])
                mv_acc.append(tie_scores(counts[~dev], y[~dev], k)[0])
                chosen[model.dev_choice_["chosen"]] += 1
            row[str(size)] = {
                "acc": float(np.mean(acc)),
                "f1": float(np.mean(f1)),
                "no_gold_acc": float(np.mean(base_acc)),
                "mv_acc": float(np.mean(mv_acc)),
                "worst_draw_vs_no_gold": float(np.min(np.array(acc) - np.array(base_acc))),
                "chosen": dict(chosen.most_common()),
            }
        out[name] = {"k": k, "crowd": crowd, "n_eval": len(y), **row}
        print(name, {s: round(r["acc"] - r["no_gold_acc"], 3) for s, r in row.items()}, flush=True)
    return out


def markdown(res: dict) -> str:
    lines = [
        "# Gain from a few gold labels (`fit(L, L_dev=..., Y_dev=...)`)",
        "",
        "`PYTHONPATH=src python benchmarks/quality_dev.py`.  Dev rows drawn from the eval split's",
        "gold rows (10 seeds per size), scored on the remaining eval rows.  Accuracy expected under",
        "a uniform tie-break; `no gold` = `LabelModel().fit(L)` on the same remaining rows.",
        "",
        "| set | MV | no gold | "
        + " | ".join(f"{s} dev rows" for s in SIZES)
        + " | most chosen (largest size) |",
        "|---|---|---|" + "---|" * (len(SIZES) + 1),
    ]
    means = {s: [] for s in SIZES}
    base, mv = [], []
    for name, r in res.items():
        sizes = [str(s) for s in SIZES if str(s) in r]
        if len(sizes) < len(SIZES):
            cells = [f"{r[s]['acc']:.3f}" if s in r else "(too few rows)" for s in map(str, SIZES)]
        else:
            cells = [f"{r[s]['acc']:.3f}" for s in sizes]
            for s in SIZES:
                means[s].append(r[str(s)]["acc"])
            base.append(r[sizes[0]]["no_gold_acc"])
            mv.append(r[sizes[0]]["mv_acc"])
        first = r[sizes[0]] if sizes else None
        top = next(iter(r[sizes[-1]]["chosen"])) if sizes else ""
        lines.append(
            f"| {name} | {first['mv_acc']:.3f} | {first['no_gold_acc']:.3f} | "
            + " | ".join(cells)
            + f" | {top} |"
            if first
            else f"| {name} | | | " + " | ".join(cells) + " | |"
        )
    lines += [
        "",
        f"Mean over the {len(base)} sets with room for 200 dev rows: MV {np.mean(mv):.3f}, no gold "
        f"{np.mean(base):.3f}, " + ", ".join(f"{s} dev rows {np.mean(means[s]):.3f}" for s in SIZES) + ".",
        f"All {len(res)} sets with 50 dev rows: no gold "
        f"{np.mean([r['50']['no_gold_acc'] for r in res.values()]):.3f}, with gold "
        f"{np.mean([r['50']['acc'] for r in res.values()]):.3f} "
        f"(MV {np.mean([r['50']['mv_acc'] for r in res.values()]):.3f}).",
        "(Per size, the no-gold and MV figures are on the same remaining rows; shown for 50.)",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-relabel", action="store_true", help="no relabelled candidates")
    ap.add_argument("--lead-se", default="default", help='"none", "loo", a number, or "default"')
    ap.add_argument("--name", default="quality_dev")
    args = ap.parse_args()
    options: dict = {}
    if args.no_relabel:
        options["relabelling"] = False
    if args.lead_se != "default":
        named = {"none": None, "loo": "loo"}
        options["lead_se"] = named[args.lead_se] if args.lead_se in named else float(args.lead_se)
    if options:
        import tripletws.dev_choice as dc

        original = dc.choose_with_dev
        dc.choose_with_dev = lambda *a, **kw: original(*a, **{**kw, **options})
    res = run()
    md = markdown(res)
    if options:
        md += (
            f"\nDev choice options: `{options}` (`python benchmarks/quality_dev.py` with "
            + ("`--no-relabel` " if args.no_relabel else "")
            + f"`--lead-se {args.lead_se}`).\n"
        )
    print(md)
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(RESULTS / f"{args.name}.md", md)
    atomic_write_text(RESULTS / f"{args.name}.json", json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
