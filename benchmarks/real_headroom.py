"""Headroom on the shared sets: the default against tables counted with the fit split's gold labels.

A yardstick, not a method (it reads gold): for every shared set whose fit split carries gold labels
on at least :data:`MIN_GOLD` of its rows, the conditionally independent model with Dawid-Skene
tables over *every* outcome (abstentions included, as ``"ds_abstain"`` reads them) counted on the
fit split's gold rows (one pseudo-count per cell), with the gold class balance (``oracle``) and with
a uniform one (``oracle/uni``), predicts the eval split.  Beside it, the same family fitted by EM
without gold (:func:`tripletws.estimators.annotator.fit_annotator`, ``"ds_abstain"``, estimated
balance, up to :data:`EM_STEPS` steps) from majority vote and from the oracle's own soft labels,
with each fit's log-likelihood per fitted row: where EM started at the oracle walks away from it to a
fit of higher likelihood and lower accuracy, the loss is the model's misspecification, not a local
optimum of EM.

Second table: the eval rows split by majority vote's margin (no vote, a tie between the top
classes, a margin of one vote, two or more) and the expected number right under each row's
tie-break (uniform among equal top scores) for majority vote, the default and the oracle.

On the crowd sets the fit split is the eval split (``eval_split == "all"``): the oracle is scored on
the rows it was counted on (in-sample).  Accuracy is the expectation under uniform tie-breaking;
F1 of class 1 for k = 2, macro for k > 2 (``scoring.tie_scores``).

    PYTHONPATH=src python benchmarks/real_headroom.py    # prints; writes results/real_headroom.{md,json}
    PYTHONPATH=src python benchmarks/real_headroom.py --sets youtube tubespam_rdp
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from common import load_index, load_split
from headroom_study import outcome_tables
from scoring import mv_scores, row_correct, tie_scores

from tripletws import LabelModel
from tripletws.atomic import atomic_write_text
from tripletws.baselines import MARGIN_KINDS, majority_margin, margin_kinds
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.annotator_design import _logsumexp, summary_design
from tripletws.inference import posterior
from tripletws.matrix import check_label_matrix
from tripletws.params import LabelModelParams
from tripletws.rows import RowSummary

RESULTS = Path(__file__).resolve().parent / "results"
#: Share of the fit split's rows that must carry a gold label for the oracle to be counted.
MIN_GOLD = 0.9
#: EM steps at most for the gold-free fits (the default's fits use 50; more, to reach the optimum).
EM_STEPS = 500


def gold_tables(L: np.ndarray, y: np.ndarray, k: int) -> LabelModelParams:
    """Tables ``P(outcome | y)`` (m, k + 1, k) counted on the gold rows (one pseudo-count per cell,
    :func:`headroom_study.outcome_tables`) and the gold class balance (one pseudo-count per class)."""
    cond = outcome_tables(L, np.eye(k)[y], k, 1.0).transpose(0, 2, 1)  # (m, k + 1, k)
    balance = np.bincount(y, minlength=k).astype(np.float64) + 1.0
    return LabelModelParams(class_balance=balance / balance.sum(), cond_probs=cond)


def log_lik(unique: RowSummary, params: LabelModelParams, k: int) -> float:
    """Log-likelihood per fitted row of ``params`` (abstentions informative)."""
    scores = summary_design(unique, k, abstain=True).log_scores(params)
    w = unique.counts.astype(np.float64)
    return float(w @ _logsumexp(scores)[0]) / float(w.sum())


def study(name: str, info: dict) -> dict | None:
    k, ev = int(info["k"]), info["eval_split"]
    L_eval, y_eval = load_split(name, ev)
    keep = y_eval >= 0
    L_eval, y_eval = L_eval[keep].astype(np.int64), y_eval[keep].astype(np.int64)
    fit_split = ev if ev == "all" else "train"
    L_fit, y_fit = load_split(name, fit_split)
    gold = y_fit >= 0
    if gold.mean() < MIN_GOLD:
        return None
    L_fit = L_fit.astype(np.int64)
    oracle = gold_tables(L_fit[gold], y_fit[gold].astype(np.int64), k)
    uniform = LabelModelParams(class_balance=np.full(k, 1.0 / k), cond_probs=oracle.cond_probs)
    lm_eval = check_label_matrix(L_eval, k)
    unique = RowSummary.from_matrix(check_label_matrix(L_fit, k), 10**7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = LabelModel(cardinality=k).fit(L_fit).predict_proba(L_eval)
        from_mv = fit_annotator(unique, "ds_abstain", max_steps=EM_STEPS)
        from_oracle = fit_annotator(unique, "ds_abstain", max_steps=EM_STEPS, init=oracle)
    scores = {
        "mv": mv_scores(L_eval, k),
        "default": default,
        "oracle": posterior(lm_eval, oracle),
        "oracle/uni": posterior(lm_eval, uniform),
        "em from mv": posterior(lm_eval, from_mv.params),
        "em from oracle": posterior(lm_eval, from_oracle.params),
    }
    out: dict = {"k": k, "fit_split": fit_split, "n_fit": len(L_fit), "n_eval": len(L_eval)}
    for label, P in scores.items():
        out[label] = dict(zip(("acc", "f1"), tie_scores(P, y_eval, k), strict=True))
    out["loglik"] = {
        "oracle": log_lik(unique, oracle, k),
        "em from mv": log_lik(unique, from_mv.params, k),
        "em from oracle": log_lik(unique, from_oracle.params, k),
    }
    kind = margin_kinds(majority_margin(L_eval, k))
    right = {lab: row_correct(scores[lab], y_eval) for lab in ("mv", "default", "oracle")}
    out["by_kind"] = {
        MARGIN_KINDS[t]: {
            "rows": int((kind == t).sum()),
            **{lab: float(r[kind == t].sum()) for lab, r in right.items()},
        }
        for t in range(len(MARGIN_KINDS))
    }
    return out


def render(results: dict) -> str:
    cols = ("mv", "default", "oracle", "oracle/uni", "em from mv", "em from oracle")
    lines = [
        "# Headroom on the shared sets: tables counted with gold (a yardstick)",
        "",
        "- command: `PYTHONPATH=src python benchmarks/real_headroom.py`",
        "- accuracy / F1 on the eval split; `oracle`: Dawid-Skene tables over every outcome counted on the "
        "fit split's gold rows, gold balance; `oracle/uni`: the same, uniform balance; `em from ...`: the "
        "same family fitted without gold (`ds_abstain`, estimated balance) from majority vote or from the "
        "oracle; log-likelihood per fitted row (abstentions informative); crowd sets in-sample",
        "",
        "| set | k | " + " | ".join(cols) + " | loglik oracle / em from mv / em from oracle |",
        "|---|---|" + "---|" * len(cols) + "---|",
    ]
    for name, r in results.items():
        cells = [f"{r[c]['acc']:.3f} / {r[c]['f1']:.3f}" for c in cols]
        ll = r["loglik"]
        lls = f"{ll['oracle']:.4f} / {ll['em from mv']:.4f} / {ll['em from oracle']:.4f}"
        lines.append(f"| {name} | {r['k']} | " + " | ".join(cells) + f" | {lls} |")
    lines += [
        "",
        "## Eval rows by majority vote's margin: rows, and expected right for MV / default / oracle",
        "",
        "| set | " + " | ".join(MARGIN_KINDS) + " |",
        "|---|" + "---|" * len(MARGIN_KINDS),
    ]
    for name, r in results.items():
        cells = []
        for kind in MARGIN_KINDS:
            b = r["by_kind"][kind]
            cells.append(f"{b['rows']}: {b['mv']:.1f} / {b['default']:.1f} / {b['oracle']:.1f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--sets", nargs="*", help="shared set names (default: every one with gold on its fit split)"
    )
    ap.add_argument("--out", default=str(RESULTS / "real_headroom"), help="results path without suffix")
    args = ap.parse_args(argv)
    index = load_index()
    names = args.sets or list(index)
    unknown = sorted(set(names) - set(index))
    if unknown:
        ap.error(f"unknown set(s): {', '.join(unknown)}")
    results = {}
    for name in names:
        r = study(name, index[name]) if index[name].get("eval_split") else None
        if r is not None:
            results[name] = r
    text = render(results)
    print(text, end="")
    atomic_write_text(Path(args.out + ".md"), text)
    atomic_write_text(Path(args.out + ".json"), json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
