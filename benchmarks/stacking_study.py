"""Combining the default's vote-only families (stacking, pseudo-BMA+) instead of choosing one.

The default scores majority vote's model, one-coin and MACE by cross-fitted held-out
log-likelihood and keeps the simplest within 2 standard errors of the best.  ``LabelModel(combine=...)``
instead predicts with their mixture, ``P(Y | votes)`` proportional to ``sum_f w_f P_f(votes, Y)``,
with weights learned from the same held-out scores: ``"stack"`` (stacking of predictive densities)
or ``"pseudo_bma"`` (pseudo-BMA+ weights), Yao, Vehtari, Simpson & Gelman (2018), "Using stacking
to average Bayesian predictive distributions", Bayesian Analysis 13(3).  The fit is the same as the
default's (every check included); only prediction changes, and only where no check replaced the
chosen family's posterior.  So one fit per data set gives all three predictions.

This script:

* the 15 shared sets: one fit per set, the three predictions scored against MV (accuracy under a
  uniform tie-break, F1 of class 1 for k = 2, macro for k > 2), the weights, and the choice among
  none / stack / pseudo_bma made leave-one-dataset-out (best mean accuracy on the other 14, ties
  to none);
* a stress results file run with ``--model-kw '{}' '{"combine": "stack"}' '{"combine": "pseudo_bma"}'``
  (``--stress JSON``): per generator family the mean difference to the default and W/T/L, and the
  choice made leave-one-family-out (on the other 11 families: the variant with the best mean
  accuracy among those whose share at or above MV - 0.5 points is not below none's; ties to none);
* named cases (adult_content, bluebird, stress problems by name): leads, weights and accuracies.

    # every stress problem fitted once and scored every way (also the *_rich / *_mv variants):
    PYTHONPATH=src python benchmarks/stacking_study.py --stress-run benchmarks/results/stacking_stress.json
    # or the three LabelModel settings through the stress suite (the same figures), then read:
    PYTHONPATH=src python benchmarks/stress.py --jobs 1 --models \\
        --model-kw '{}' '{"combine":"stack"}' '{"combine":"pseudo_bma"}' --out /tmp/stress_combine.json
    PYTHONPATH=src python benchmarks/stacking_study.py --stress /tmp/stress_combine.json

Writes benchmarks/results/stacking.{md,json} (``--out`` changes the folder).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))

from provenance import revision  # noqa: E402
from quality_lodo import shared_sets  # noqa: E402
from scoring import mv_scores, tie_scores  # noqa: E402
from stress_problems import all_problems, draw  # noqa: E402

from tripletws import LabelModel  # noqa: E402
from tripletws.atomic import atomic_write_text  # noqa: E402
from tripletws.estimators.family_choice import CANDIDATES  # noqa: E402
from tripletws.estimators.family_weights import combine_weights  # noqa: E402
from tripletws.inference import mixture_posterior, posterior  # noqa: E402
from tripletws.matrix import check_label_matrix  # noqa: E402

RESULTS = HERE / "results"
#: none: the hard choice (the default); stack / pseudo_bma: the mixture wherever no check replaced the
#: chosen family; ``*_rich``: the mixture only where the choice is not majority vote's model;
#: ``*_mv``: only where it is (the two halves of the mixture's effect).
VARIANTS = (
    "none",
    "stack",
    "pseudo_bma",
    "stack_rich",
    "pseudo_bma_rich",
    "stack_mv",
    "pseudo_bma_mv",
)
STRESS_NAMES = {"none": "default", "stack": "combine=stack", "pseudo_bma": "combine=pseudo_bma"}


def key(v: str) -> str:
    """The name of a variant in a stress results file."""
    return STRESS_NAMES.get(v, v)


TIE = 0.005


def three_ways(k: int, L_fit: np.ndarray, L_eval: np.ndarray) -> dict[str, Any]:
    """One default fit; its prediction and the two mixtures' (where no check replaced the family)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(k, combine="stack").fit(L_fit)
    lm = check_label_matrix(L_eval, k)
    est = model.solution_.estimate
    mixture = getattr(est, "mixture", None)
    sel = model.selection_
    out: dict[str, Any] = {"P": {"none": posterior(lm, model.params_)}}
    info: dict[str, Any] = {
        "chosen": sel.chosen if sel is not None else "(fallback)",
        "family": str(model.family_),
        "leads": {f: [float(a), float(b)] for f, (a, b) in sel.leads.items()} if sel is not None else {},
        "mixed": mixture is not None,
    }
    for rule in ("stack", "pseudo_bma"):
        if mixture is None:
            out["P"][rule] = out["P"]["none"]
            continue
        w = combine_weights(sel.scores, CANDIDATES, rule)
        info[f"w_{rule}"] = {f: float(v) for f, v in zip(CANDIDATES, w, strict=True)}
        out["P"][rule] = mixture_posterior(lm, list(mixture.components), w)
    for rule in ("stack", "pseudo_bma"):
        mv_chosen = info["chosen"] == "mv"
        out["P"][f"{rule}_rich"] = out["P"]["none" if mv_chosen else rule]
        out["P"][f"{rule}_mv"] = out["P"][rule if mv_chosen else "none"]
    if mixture is not None:  # each family alone (the components, with the chosen fit's treatments)
        info["alone"] = {
            f: posterior(lm, p) for f, p in zip(mixture.families, mixture.components, strict=True)
        }
    out["info"] = info
    return out


def shared_part() -> dict[str, Any]:
    rows = {}
    for name, k, L_fit, L_eval, y, _crowd in shared_sets():
        res = three_ways(k, L_fit, L_eval)
        mv = tie_scores(mv_scores(L_eval, k), y, k)
        row: dict[str, Any] = {"k": k, "mv": {"acc": mv[0], "f1": mv[1]}}
        for v in VARIANTS:
            a, f = tie_scores(res["P"][v], y, k)
            row[v] = {"acc": a, "f1": f}
        info = res["info"]
        alone = info.pop("alone", {})
        info["alone_acc"] = {f: tie_scores(P, y, k)[0] for f, P in alone.items()}
        row["info"] = info
        rows[name] = row
        print(
            f"{name:22s} mv {mv[0]:.3f} none {row['none']['acc']:.3f} stack {row['stack']['acc']:.3f} "
            f"pbma {row['pseudo_bma']['acc']:.3f} chosen {info['chosen']} w_stack {info.get('w_stack')}",
            flush=True,
        )
    names = list(rows)
    lodo = {}
    for held in names:
        rest = [n for n in names if n != held]
        means = {v: np.mean([rows[n][v]["acc"] for n in rest]) for v in VARIANTS}
        pick = max(VARIANTS, key=lambda v: (round(means[v], 12), v == "none"))
        lodo[held] = {"pick": pick, "acc": rows[held][pick]["acc"], "f1": rows[held][pick]["f1"]}
    summary = {}
    for v in VARIANTS:
        da = [rows[n][v]["acc"] - rows[n]["mv"]["acc"] for n in names]
        df = [rows[n][v]["f1"] - rows[n]["mv"]["f1"] for n in names]
        summary[v] = {
            "mean_acc": float(np.mean([rows[n][v]["acc"] for n in names])),
            "worst_acc_vs_mv": float(min(da)),
            "worst_f1_vs_mv": float(min(df)),
        }
    da = [lodo[n]["acc"] - rows[n]["mv"]["acc"] for n in names]
    df = [lodo[n]["f1"] - rows[n]["mv"]["f1"] for n in names]
    summary["lodo"] = {
        "mean_acc": float(np.mean([lodo[n]["acc"] for n in names])),
        "worst_acc_vs_mv": float(min(da)),
        "worst_f1_vs_mv": float(min(df)),
        "picks": {n: lodo[n]["pick"] for n in names},
    }
    summary["mv_mean_acc"] = float(np.mean([rows[n]["mv"]["acc"] for n in names]))
    return {"sets": rows, "summary": summary}


def _stress_table(probs: list[dict], v: str) -> dict[str, Any]:
    a = np.array([p["results"][key(v)]["acc"] for p in probs])
    mv = np.array([p["results"]["mv"]["acc"] for p in probs])
    d = a - mv
    return {
        "n": len(probs),
        "mean_acc": float(a.mean()),
        "share_at_least_mv": float(np.mean(d >= -TIE)),
        "win": int(np.sum(d > TIE)),
        "tie": int(np.sum(np.abs(d) <= TIE)),
        "loss": int(np.sum(d < -TIE)),
        "worst_vs_mv": float(d.min()),
    }


def stress_part(path: Path) -> dict[str, Any]:
    res = json.loads(path.read_text())
    variants = tuple(v for v in VARIANTS if any(key(v) in p.get("results", {}) for p in res["problems"]))
    probs = [
        p
        for p in res["problems"]
        if "results" in p and all("acc" in p["results"].get(key(v), {}) for v in variants)
    ]
    families = sorted({p["family"] for p in probs}, key=[p["family"] for p in probs].index)
    out: dict[str, Any] = {"n_problems": len(res["problems"]), "n_scored": len(probs)}
    out["variants"] = list(variants)
    out["overall"] = {v: _stress_table(probs, v) for v in variants}
    per = {}
    for fam in families:
        fp = [p for p in probs if p["family"] == fam]
        per[fam] = {v: _stress_table(fp, v) for v in variants}
        for v in variants[1:]:
            diff = np.array([p["results"][key(v)]["acc"] - p["results"]["default"]["acc"] for p in fp])
            per[fam][v]["vs_none"] = {
                "better": int(np.sum(diff > TIE)),
                "worse": int(np.sum(diff < -TIE)),
                "mean_diff": float(diff.mean()),
            }
    out["families"] = per
    # leave one family out
    picks, held = {}, []
    for fam in families:
        rest = [p for p in probs if p["family"] != fam]
        t = {v: _stress_table(rest, v) for v in variants}
        ok = [v for v in variants if t[v]["share_at_least_mv"] >= t["none"]["share_at_least_mv"]]
        pick = max(ok, key=lambda v: (round(t[v]["mean_acc"], 12), v == "none"))
        picks[fam] = pick
        held += [(p, pick) for p in probs if p["family"] == fam]
    a = np.array([p["results"][key(v)]["acc"] for p, v in held])
    mv = np.array([p["results"]["mv"]["acc"] for p, _ in held])
    out["lofo"] = {
        "picks": picks,
        "mean_acc": float(a.mean()),
        "share_at_least_mv": float(np.mean(a - mv >= -TIE)),
        "worst_vs_mv": float((a - mv).min()),
    }
    moved = []
    for p in probs:
        base = p["results"]["default"]["acc"]
        for v in variants[1:3]:
            d = p["results"][key(v)]["acc"] - base
            if abs(d) > TIE:
                moved.append(
                    {
                        "name": p["name"],
                        "variant": v,
                        "diff": float(d),
                        "none": base,
                        "mv": p["results"]["mv"]["acc"],
                    }
                )
    moved.sort(key=lambda r: r["diff"])
    out["largest_moves"] = moved[:8] + moved[-8:] if len(moved) > 16 else moved
    return out


def run_stress(path: Path, families: list[str] | None = None) -> None:
    """Every stress problem fitted once (the default's fit) and scored under every variant; written as
    a stress results file (``problems`` with ``results``) that :func:`stress_part` reads."""
    problems = []
    todo = [p for p in all_problems() if not families or p.family in families]
    for j, problem in enumerate(todo):
        k = int(problem.params["k"])
        L, _, L_test, y_test = draw(problem)
        cpu = time.process_time()
        res = three_ways(k, L, L_test)
        cpu = time.process_time() - cpu
        mv = tie_scores(mv_scores(L_test, k), y_test, k)
        results = {"mv": {"acc": mv[0], "f1": mv[1]}}
        for v in VARIANTS:
            a, f = tie_scores(res["P"][v], y_test, k)
            results[key(v)] = {"acc": a, "f1": f}
        info = res["info"]
        info.pop("alone", None)
        problems.append(
            {"name": problem.name, "family": problem.family, "results": results, "info": info, "cpu_s": cpu}
        )
        print(
            f"[{j + 1}/{len(todo)}] {problem.name} chosen {info['chosen']} mv {mv[0]:.3f} "
            + " ".join(f"{v} {results[key(v)]['acc']:.3f}" for v in VARIANTS[:3]),
            flush=True,
        )
    atomic_write_text(path, json.dumps({"problems": problems}, default=float))


def named_stress(names: list[str]) -> dict[str, Any]:
    out = {}
    by_name = {p.name: p for p in all_problems()}
    for name in names:
        problem = by_name[name]
        k = int(problem.params["k"])
        L, _, L_test, y_test = draw(problem)
        res = three_ways(k, L, L_test)
        info = res["info"]
        alone = info.pop("alone", {})
        info["alone_acc"] = {f: tie_scores(P, y_test, k)[0] for f, P in alone.items()}
        info["acc"] = {v: tie_scores(res["P"][v], y_test, k)[0] for v in VARIANTS}
        info["mv"] = tie_scores(mv_scores(L_test, k), y_test, k)[0]
        info["n"] = int(L.shape[0])
        out[name] = info
        print(name, info, flush=True)
    return out


def _f(x: float, nd: int = 3) -> str:
    return f"{x:+.{nd}f}" if x < 0 or x > 0 else f"{x:.{nd}f}"


def render(res: dict[str, Any]) -> str:
    lines = [
        "# Combining the vote-only families: stacking and pseudo-BMA+ against the hard choice",
        "",
        f"Revision {res['revision']}. `PYTHONPATH=src python benchmarks/stacking_study.py"
        + (f" --stress {res['stress_path']}" if res.get("stress_path") else "")
        + "` (see the script's docstring for the stress run).",
        "",
    ]
    sh = res.get("shared")
    if sh:
        s = sh["summary"]
        lines += [
            "## Shared sets (15, with gold)",
            "",
            f"MV mean accuracy {s['mv_mean_acc']:.4f}.",
            "",
            "| variant | mean acc | worst acc vs MV | worst F1 vs MV |",
            "|---|---|---|---|",
        ]
        for v in (*VARIANTS, "lodo"):
            lines.append(
                f"| {v} | {s[v]['mean_acc']:.4f} | {_f(s[v]['worst_acc_vs_mv'])} | "
                f"{_f(s[v]['worst_f1_vs_mv'])} |"
            )
        lines += [
            "",
            "Leave-one-dataset-out picks: " + ", ".join(f"{n} {p}" for n, p in s["lodo"]["picks"].items()),
            "",
            "| set | MV | none | stack | pseudo_bma | chosen (family) | stacking weights mv/one_coin/mace "
            "| pseudo-BMA+ weights | each family alone |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for n, r in sh["sets"].items():
            i = r["info"]

            def w(key: str, i: dict = i) -> str:
                return " / ".join(f"{i[key][f]:.3f}" for f in CANDIDATES) if key in i else "(check replaced)"

            alone = " / ".join(f"{i['alone_acc'][f]:.3f}" for f in CANDIDATES) if i.get("alone_acc") else "-"
            lines.append(
                f"| {n} | {r['mv']['acc']:.3f} | {r['none']['acc']:.3f} | {r['stack']['acc']:.3f} | "
                f"{r['pseudo_bma']['acc']:.3f} | {i['chosen']} ({i['family']}) | {w('w_stack')} | "
                f"{w('w_pseudo_bma')} | {alone} |"
            )
        lines.append("")
    st = res.get("stress")
    if st:
        lines += [
            f"## Stress suite ({st['n_scored']} of {st['n_problems']} problems scored)",
            "",
            "| variant | mean acc | >= MV - 0.5 pt | W / T / L vs MV | worst vs MV |",
            "|---|---|---|---|---|",
        ]
        for v in st["variants"]:
            t = st["overall"][v]
            lines.append(
                f"| {v} | {t['mean_acc']:.4f} | {100 * t['share_at_least_mv']:.1f} % | "
                f"{t['win']} / {t['tie']} / {t['loss']} | {_f(t['worst_vs_mv'])} |"
            )
        lo = st["lofo"]
        lines += [
            f"| leave one family out | {lo['mean_acc']:.4f} | {100 * lo['share_at_least_mv']:.1f} % | - | "
            f"{_f(lo['worst_vs_mv'])} |",
            "",
            "Leave-one-family-out picks: " + ", ".join(f"{f} {p}" for f, p in lo["picks"].items()),
            "",
            "Per family: mean accuracy (at or above MV - 0.5 of n; better / worse than none by > 0.5 pt).",
            "",
            "| family | n | " + " | ".join(st["variants"]) + " |",
            "|---|---|" + "---|" * len(st["variants"]),
        ]
        for fam, r in st["families"].items():
            cells = [f"{r['none']['mean_acc']:.4f} ({r['none']['win'] + r['none']['tie']})"]
            for v in st["variants"][1:]:
                t = r[v]
                cells.append(
                    f"{t['mean_acc']:.4f} ({t['win'] + t['tie']}; "
                    f"{t['vs_none']['better']} / {t['vs_none']['worse']})"
                )
            lines.append(f"| {fam} | {r['none']['n']} | " + " | ".join(cells) + " |")
        lines += ["", "Largest moves against none (points of accuracy):", ""]
        for m in st["largest_moves"]:
            lines.append(
                f"- {m['name']} {m['variant']}: {100 * m['diff']:+.1f} "
                f"(none {m['none']:.3f}, MV {m['mv']:.3f})"
            )
        lines.append("")
    nm = res.get("named")
    if nm:
        lines += ["## Named cases", ""]
        for n, i in nm.items():
            lines.append(f"- **{n}** (n = {i['n']}): {json.dumps(i, default=float)}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stress", type=Path, help="stress results json with the three variants")
    ap.add_argument(
        "--stress-run",
        type=Path,
        help="fit every stress problem once, score every variant, write this json (then read as --stress)",
    )
    ap.add_argument("--families", nargs="*", help="with --stress-run: only these generator families")
    ap.add_argument("--named", nargs="*", default=["sparse-08"], help="stress problems to look into")
    ap.add_argument("--no-shared", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    res: dict[str, Any] = {"revision": revision("src", "benchmarks/stacking_study.py")}
    if not args.no_shared:
        res["shared"] = shared_part()
    if args.stress_run:
        run_stress(args.stress_run, args.families)
        args.stress = args.stress_run
    if args.stress:
        res["stress_path"] = str(args.stress)
        res["stress"] = stress_part(args.stress)
    if args.named:
        res["named"] = named_stress(args.named)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "stacking.json", json.dumps(res, indent=1, default=float))
    atomic_write_text(args.out / "stacking.md", render(res))
    print(render(res))


if __name__ == "__main__":
    main()
