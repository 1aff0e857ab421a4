"""What the variant studies share: a fit of every variant on the stress suite and the shared sets,
appended as JSON lines, and the summaries those studies report.

A study (benchmarks/ebmace_study.py, mixprior_study.py, softdep_study.py) supplies ``fit_all(k, L,
L_test, y) -> {tag: record}``, one record (at least ``acc`` and ``f1``) per variant, the default's
under ``"off"``. Every line holds the problem or set, majority vote's scores and the records; the
summaries compare each variant with majority vote (:func:`tag_stats`) and choose among the
variants held out (:func:`held_out_choice`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scoring import mv_scores, tie_scores

from tripletws.atomic import atomic_write_text

#: Differences to majority vote within this many accuracy points (0.5 points) are ties.
TIE = 0.005

FitAll = Callable[[int, np.ndarray, np.ndarray, np.ndarray], dict]


def _write(fh, rec: dict, label: str, tags: list[str]) -> None:
    fh.write(json.dumps(rec) + "\n")
    fh.flush()
    line = " ".join(f"{t} {rec[t]['acc']:.3f}" for t in tags)
    print(f"{label:22s} mv {rec['mv']['acc']:.3f} {line}", flush=True)


def run_stress(out: Path, families: list[str] | None, fit_all: FitAll, tags: list[str]) -> None:
    """Fit every variant on each stress problem (of ``families``, all when None); one line each."""
    from stress_problems import all_problems, draw

    with out.open("a") as fh:
        for prob in all_problems():
            if families and prob.family not in families:
                continue
            k = int(prob.params["k"])
            L, _, L_test, y = draw(prob, None)
            acc, f1 = tie_scores(mv_scores(L_test, k), y, k)
            rec = {"part": "stress", "name": prob.name, "family": prob.family, "k": k}
            rec["mv"] = {"acc": acc, "f1": f1}
            rec.update(fit_all(k, L, L_test, y))
            _write(fh, rec, prob.name, tags)


def run_shared(out: Path, fit_all: FitAll, tags: list[str]) -> None:
    """Fit every variant on each shared set with gold (benchmarks/quality_lodo.py's splits); one line each."""
    from quality_lodo import shared_sets

    with out.open("a") as fh:
        for name, k, L_fit, L_eval, y, crowd in shared_sets():
            counts = np.stack([(L_eval == c).sum(axis=1) for c in range(k)], axis=1).astype(float)
            acc, f1 = tie_scores(counts, y, k)
            family = "crowd" if crowd else "wrench"
            rec = {"part": "shared", "name": name, "family": family, "k": k, "mv": {"acc": acc, "f1": f1}}
            rec.update(fit_all(k, L_fit, L_eval, y))
            _write(fh, rec, name, tags)


def tag_stats(recs: list[dict], tag: str, key: str = "acc") -> dict:
    """Variant ``tag``'s mean of ``key`` and its comparison with majority vote (F1 keys against its F1)."""
    ref = "f1" if key.endswith("f1") else "acc"
    d = np.array([r[tag][key] - r["mv"][ref] for r in recs])
    a = np.array([r[tag][key] for r in recs])
    return {
        "n": len(recs),
        "mean": float(a.mean()),
        "mean_vs_mv": float(d.mean()),
        "wtl": [int((d > TIE).sum()), int((np.abs(d) <= TIE).sum()), int((d < -TIE).sum())],
        "share_ge_mv": float((d >= -TIE).mean()),
        "worst": float(d.min()),
    }


def held_out_choice(recs: list[dict], group: str, tags: list[str]) -> dict:
    """Leave one ``group`` (family or set) out: the variant with the best mean accuracy on the rest
    (ties to ``"off"``), scored on the group left out."""
    groups = sorted({r[group] for r in recs})
    picked, acc = {}, []
    for g in groups:
        rest = [r for r in recs if r[group] != g]
        means = {t: np.mean([r[t]["acc"] for r in rest]) for t in tags}
        best = max(tags, key=lambda t: means[t])
        tag = best if means[best] > means["off"] + 1e-12 else "off"
        picked[g] = tag
        acc += [r[tag]["acc"] for r in recs if r[group] == g]
    return {"picked": picked, "mean": float(np.mean(acc))}


def add_run_arguments(ap: argparse.ArgumentParser) -> None:
    """The options every variant study takes: what to run, where to append, what to summarise."""
    ap.add_argument("--part", choices=("stress", "shared"))
    ap.add_argument("--families", nargs="*")
    ap.add_argument("--out", type=Path, help="JSON lines to append to")
    ap.add_argument("--summarise", nargs="*", type=Path, help="JSON lines files to summarise")
    ap.add_argument("--write", type=Path, help="with --summarise: results path (.json; .md beside it)")


def summarise_if_asked(
    args: argparse.Namespace, summarise: Callable[[list[Path]], dict], markdown: Callable[[dict], str]
) -> bool:
    """With ``--summarise``: print the study's markdown of those files and, with ``--write``, write
    it and the JSON summary (each to a temporary file renamed into place); True when done."""
    if not args.summarise:
        return False
    res = summarise(args.summarise)
    md = markdown(res)
    print(md)
    if args.write:
        atomic_write_text(args.write, json.dumps(res, indent=1) + "\n")
        atomic_write_text(args.write.with_suffix(".md"), md + "\n")
    return True
