"""Candidate label models, the default's gold-free choice, and leave-one-dataset-out figures.

For every shared set with gold: fit each candidate on the fit split without gold, score the eval
split.  Accuracy is the expectation under a uniform tie-break among equal top probabilities (a
model that ties majority vote scores majority vote's accuracy); F1 (class 1 for k = 2, macro
for k > 2) is the mean over 20 seeded tie-breaks.  Crowd sets (a single split ``all``) fit and
score all rows.

Columns: majority vote; ``symmetric``, ``class_conditional`` and ``cc+em`` (LabelModel
configurations); the annotator families of ``tripletws.estimators.annotator`` fitted by EM
with a uniform prior; ``default`` (``LabelModel()``: the held-out-likelihood choice among
majority vote's model, one-coin and MACE-like); the per-set oracle (best column with gold).

Leave-one-dataset-out: the default's rule (the simplest family whose cross-fitted held-out
likelihood is within ``LEAD_SE`` = 2 standard errors of the best) uses a conventional constant,
not one tuned on these sets.  The rule is also run with 0, 1, 2 and 3 standard errors
(``default@se=z``), and ``LEAD_SE`` is chosen leave-one-dataset-out: for each set, the value
with the best mean accuracy on the other 14 sets (ties to the conventional 2), scored on it.
For comparison, ``best single (LODO)`` picks, for each set, the candidate with the best mean
accuracy on the other sets and scores it on the held-out set.

    PYTHONPATH=src python benchmarks/quality_lodo.py            # prints, writes results/quality_lodo.*
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from common import load_index, load_split
from scoring import tie_scores

import tripletws.estimators.family_choice as family_choice_module
from tripletws import LabelModel
from tripletws.atomic import atomic_write_text
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.family_choice import LEAD_SE
from tripletws.inference import posterior
from tripletws.matrix import check_label_matrix
from tripletws.rows import RowSummary

RESULTS = Path(__file__).resolve().parent / "results"
FAMILIES = ("one_coin", "mace", "mace_abstain", "ds", "ds_abstain")
CONFIGS = {
    "symmetric": {"model": "symmetric"},
    "class_conditional": {"model": "class_conditional"},
    "cc+em": {"model": "class_conditional", "em_steps": 100},
    "default": {},
}
SE_SWEEP = (0.0, 1.0, 2.0, 3.0)


def shared_sets() -> list[tuple[str, int, np.ndarray, np.ndarray, np.ndarray, bool]]:
    out = []
    for name, info in load_index().items():
        ev = info.get("eval_split")
        if not ev or info.get("mv_acc") is None:
            continue
        L_eval, y_eval = load_split(name, ev)
        keep = y_eval >= 0
        if not keep.any():
            continue
        crowd = ev == "all"
        L_fit = L_eval if crowd else load_split(name, "train")[0]
        out.append((name, int(info["k"]), L_fit, L_eval[keep], y_eval[keep].astype(np.int64), crowd))
    return out


def run() -> dict:
    rows = {}
    for name, k, L_fit, L_eval, y, crowd in shared_sets():
        counts = np.stack([(L_eval == c).sum(axis=1) for c in range(k)], axis=1).astype(float)
        res: dict[str, dict] = {"mv": dict(zip(("acc", "f1"), tie_scores(counts, y, k), strict=True))}
        lm_eval = check_label_matrix(L_eval, k)
        unique = RowSummary.from_matrix(check_label_matrix(L_fit, k), 10**7)
        for fam in FAMILIES:
            fit = fit_annotator(unique, fam, class_balance=np.full(k, 1.0 / k))
            res[fam] = dict(zip(("acc", "f1"), tie_scores(posterior(lm_eval, fit.params), y, k), strict=True))
        chosen, times = "", []
        for label, kw in CONFIGS.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in range(3 if label == "default" else 1):
                    t = time.perf_counter()
                    model = LabelModel(k, **kw).fit(L_fit)
                    times.append(time.perf_counter() - t)
            res[label] = dict(zip(("acc", "f1"), tie_scores(model.predict_proba(L_eval), y, k), strict=True))
            if label == "default":
                # the family the predictions come from: the held-out choice, or the coverage reading
                chosen = model.family_ if model.selection_ is not None else "(fallback)"
                res[label]["fit_s"] = float(np.median(times[-3:]))
                res[label]["chosen"] = chosen
                res[label]["heldout_loglik"] = model.selection_.heldout_loglik if model.selection_ else {}
        for z in SE_SWEEP:
            family_choice_module.LEAD_SE = z
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = LabelModel(k).fit(L_fit)
            finally:
                family_choice_module.LEAD_SE = LEAD_SE
            res[f"default@se={z:g}"] = dict(
                zip(("acc", "f1"), tie_scores(model.predict_proba(L_eval), y, k), strict=True)
            )
            res[f"default@se={z:g}"]["chosen"] = model.selection_.chosen if model.selection_ else "(fallback)"
        rows[name] = {"k": k, "crowd": crowd, "n_fit": int(L_fit.shape[0]), "m": int(L_fit.shape[1]), **res}
        print(
            f"{name:22s} mv {res['mv']['acc']:.3f} default {res['default']['acc']:.3f} ({chosen})", flush=True
        )
    return rows


def summarise(rows: dict) -> dict:
    names = list(rows)
    cands = [c for c in rows[names[0]] if isinstance(rows[names[0]][c], dict)]
    acc = {c: np.array([rows[n][c]["acc"] for n in names]) for c in cands}
    sweep = [c for c in cands if c.startswith("default@se=")]
    lodo = []
    for i in range(len(names)):
        others = [j for j in range(len(names)) if j != i]
        best = max(
            (c for c in cands if c != "default" and c not in sweep), key=lambda c: acc[c][others].mean()
        )
        lodo.append((names[i], best, float(acc[best][i])))
    se_lodo = []
    for i in range(len(names)):
        others = [j for j in range(len(names)) if j != i]
        # the best value on the other sets; ties (within 1e-9) go to the conventional LEAD_SE
        top = max(acc[c][others].mean() for c in sweep)
        tied = [c for c in sweep if acc[c][others].mean() >= top - 1e-9]
        pick = f"default@se={LEAD_SE:g}" if f"default@se={LEAD_SE:g}" in tied else tied[0]
        se_lodo.append((names[i], pick.split("=")[1], float(acc[pick][i])))
    cands = [c for c in cands if c not in sweep]
    oracle = [max(acc[c][i] for c in cands) for i in range(len(names))]
    crowd = np.array([rows[n]["crowd"] for n in names])
    summary = {
        "mean_acc": {c: float(acc[c].mean()) for c in cands},  # the sweep's columns are listed apart
        "mean_acc_lf_sets": {c: float(acc[c][~crowd].mean()) for c in cands},
        "mean_acc_crowd_sets": {c: float(acc[c][crowd].mean()) for c in cands},
        "default_lodo_mean": float(acc["default"].mean()),
        "best_single_lodo": {"per_set": lodo, "mean": float(np.mean([v for _, _, v in lodo]))},
        "lead_se_sweep": {c.split("=")[1]: float(acc[c].mean()) for c in sweep},
        "lead_se_lodo": {"per_set": se_lodo, "mean": float(np.mean([v for _, _, v in se_lodo]))},
        "oracle_mean": float(np.mean(oracle)),
        "default_worst_vs_mv": float((acc["default"] - acc["mv"]).min()),
        "default_worst_f1_vs_mv": float(min(rows[n]["default"]["f1"] - rows[n]["mv"]["f1"] for n in names)),
        "default_max_fit_s": float(max(rows[n]["default"]["fit_s"] for n in names)),
    }
    return summary


def markdown(rows: dict, summary: dict) -> str:
    names = list(rows)
    cands = list(summary["mean_acc"])
    out = [
        "# Quality of candidate models and of the default's choice (leave-one-dataset-out)",
        "",
        "`PYTHONPATH=src python benchmarks/quality_lodo.py`.  Accuracy expected under a uniform",
        "tie-break / F1 (class 1 for k = 2, macro for k > 2) averaged over 20 seeded tie-breaks.",
        "Annotator families fitted by EM with a uniform prior.  `default` = `LabelModel()`: the",
        "held-out-likelihood choice among mv / one_coin / mace (column `chosen`: the family the",
        "predictions come from): the simplest family within `LEAD_SE` = 2 standard errors of the",
        "best held-out score (a conventional constant; the sweep over 0-3 and its",
        "leave-one-dataset-out choice are below the tables).",
        "",
        "| set | k | " + " | ".join(cands) + " | chosen | fit ms |",
        "|---|---|" + "---|" * (len(cands) + 2),
    ]
    for n in names:
        r = rows[n]
        cells = [f"{r[c]['acc']:.3f} / {r[c]['f1']:.3f}" for c in cands]
        kind = " (crowd)" if r["crowd"] else ""
        out.append(
            f"| {n}{kind} | {r['k']} | "
            + " | ".join(cells)
            + f" | {r['default']['chosen']} | {1e3 * r['default']['fit_s']:.0f} |"
        )
    out += [
        "",
        "| mean accuracy | " + " | ".join(cands) + " |",
        "|---|" + "---|" * len(cands),
        "| all sets | " + " | ".join(f"{summary['mean_acc'][c]:.3f}" for c in cands) + " |",
        "| LF sets | " + " | ".join(f"{summary['mean_acc_lf_sets'][c]:.3f}" for c in cands) + " |",
        "| crowd sets | " + " | ".join(f"{summary['mean_acc_crowd_sets'][c]:.3f}" for c in cands) + " |",
        "",
        f"- default, in-sample = leave-one-dataset-out: {summary['default_lodo_mean']:.4f}",
        f"- best single candidate, chosen on the other sets: {summary['best_single_lodo']['mean']:.4f} ("
        + ", ".join(f"{n}: {c}" for n, c, _ in summary["best_single_lodo"]["per_set"])
        + ")",
        f"- per-set oracle (best column with gold): {summary['oracle_mean']:.4f}",
        "",
        "| set | " + " | ".join(f"{z} SE (chosen)" for z in summary["lead_se_sweep"]) + " |",
        "|---|" + "---|" * len(summary["lead_se_sweep"]),
        *(
            f"| {n} | "
            + " | ".join(
                f"{rows[n]['default@se=' + z]['acc']:.3f} / {rows[n]['default@se=' + z]['f1']:.3f} "
                f"({rows[n]['default@se=' + z]['chosen']})"
                for z in summary["lead_se_sweep"]
            )
            + " |"
            for n in names
        ),
        "",
        "- the rule's standard errors (`LEAD_SE`), mean accuracy over the 15 sets: "
        + ", ".join(f"{z} SE {v:.4f}" for z, v in summary["lead_se_sweep"].items()),
        f"- `LEAD_SE` chosen on 14 sets, scored on the 15th: {summary['lead_se_lodo']['mean']:.4f} ("
        + ", ".join(f"{n}: {z}" for n, z, _ in summary["lead_se_lodo"]["per_set"])
        + ")",
        f"- default's worst accuracy vs MV: {summary['default_worst_vs_mv']:+.3f}; worst F1 vs MV: "
        f"{summary['default_worst_f1_vs_mv']:+.3f}; slowest default fit: "
        f"{1e3 * summary['default_max_fit_s']:.0f} ms (median of 3)",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(RESULTS), help="folder for quality_lodo.md and .json")
    args = ap.parse_args(argv)
    rows = run()
    summary = summarise(rows)
    md = markdown(rows, summary)
    print(md)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "quality_lodo.md", md)
    atomic_write_text(out / "quality_lodo.json", json.dumps({"sets": rows, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
