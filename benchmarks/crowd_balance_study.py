"""Imbalanced crowds: would a gold-free rule that accepts the estimated class balance help?

The default (model "annotator") accepts an estimated class balance only where the balance check
(estimators/balance_check.py) finds it keeps significantly more clear majorities.  On crowd data
with few votes per item that test has little power.  This study records, for every stress problem
where the check ran and refused, gold-free features of the data and of the estimated-balance fit,
and refits with the estimated balance forced in, so that rules can be tried on the recorded table:

* ``cov_med``: median share of rows an LF votes on (crowd annotators see few items);
* ``multi``: share of voting LFs that vote two or more classes;
* ``votes_row``: mean votes per voted row;
* ``all_named``: the estimated fit predicts, on the clear rows, every class they name;
* ``est_min``: the estimated prior's smallest class probability (times k: 1 = uniform).

    PYTHONPATH=src python benchmarks/crowd_balance_study.py --base-seed 20261201 --out /tmp/cb_20261201.json
    PYTHONPATH=src python benchmarks/crowd_balance_study.py --render /tmp/cb_*.json --rule ...

Scores as benchmarks/stress.py (expected accuracy on the test draw, ties 0.5 points).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scoring import mv_scores, tie_scores  # noqa: E402
from stress_problems import all_problems, draw  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402

TIE = 0.005


def data_features(rows: Any) -> dict[str, float]:
    """Gold-free features of a row summary (distinct rows and counts)."""
    r = np.asarray(rows.rows)
    w = np.asarray(rows.counts, dtype=np.float64)
    n = float(w.sum())
    voted = r >= 0
    cov = (voted * w[:, None]).sum(axis=0) / max(n, 1.0)
    k = int(rows.cardinality)
    classes = np.stack([((r == c) * w[:, None]).sum(axis=0) > 0 for c in range(k)], axis=0).sum(axis=0)
    active = classes > 0
    nv = voted.sum(axis=1)
    return {
        "cov_med": float(np.median(cov)),
        "multi": float(np.mean(classes[active] >= 2)) if active.any() else 0.0,
        "votes_row": float((nv * w)[nv > 0].sum() / max(w[nv > 0].sum(), 1.0)),
        "m": int(r.shape[1]),
    }


@contextlib.contextmanager
def probe(record: dict[str, Any], force: bool) -> Iterator[None]:
    """Record the balance check's features; with ``force`` accept any estimated fit it made."""
    import tripletws.models.annotator as mod
    from tripletws.estimators.annotator_design import _Design
    from tripletws.estimators.balance_check import clear_rows
    from tripletws.estimators.votes import summary_votes

    orig = mod.balance_check

    def balance_check(rows: Any, selection: Any, **kw: Any) -> Any:
        res = orig(rows, selection, **kw)
        rec: dict[str, Any] = {"accepted": bool(res.accepted), "gained": res.gained, "lost": res.lost}
        rec["chosen"] = selection.chosen
        rec.update(data_features(rows))
        if res.fit is not None:
            k = rows.cardinality
            cb = np.asarray(res.fit.params.class_balance, dtype=np.float64)
            rec["est_min"] = float(cb.min() * k)
            rec["est_bal"] = cb.tolist()
            clear, maj = clear_rows(rows)
            design = _Design(rows.rows, k, abstain=False, votes=summary_votes(rows))
            pred = design.log_scores(res.fit.params).argmax(axis=1)
            seen = clear & (rows.counts > 0)
            named, kept = np.unique(maj[seen]), np.unique(pred[seen])
            rec["all_named"] = bool(np.setdiff1d(named, kept).size == 0)
            rec["n_clear"] = float(rows.counts[clear].sum())
        record["balance"] = rec
        if force and res.fit is not None and not res.accepted:
            res = replace(res, accepted=True)
        return res

    mod.balance_check = balance_check
    try:
        yield
    finally:
        mod.balance_check = orig


def fit_acc(k: int, L: np.ndarray, L_test: np.ndarray, y_test: np.ndarray, rec: dict, force: bool) -> float:
    from tripletws import LabelModel

    with warnings.catch_warnings(), probe(rec, force):
        warnings.simplefilter("ignore")
        P = LabelModel(cardinality=k).fit(L).predict_proba(L_test)
    return tie_scores(P, y_test, k)[0]


def run(base_seed: int, families: list[str] | None) -> list[dict[str, Any]]:
    out = []
    for pr in all_problems(base_seed):
        if families and pr.family not in families:
            continue
        k = int(pr.params["k"])
        L, _, L_test, y_test = draw(pr)
        mv = tie_scores(mv_scores(L_test, k), y_test, k)[0]
        rec: dict[str, Any] = {}
        acc = fit_acc(k, L, L_test, y_test, rec, False)
        row = {"name": pr.name, "family": pr.family, "k": k, "mv": mv, "default": acc, **rec}
        b = rec.get("balance")
        if b is not None and not b["accepted"] and "est_min" in b:
            row["forced"] = fit_acc(k, L, L_test, y_test, {}, True)
        out.append(row)
    return out


def rule_accepts(
    b: dict[str, Any], cov_max: float, multi_min: float, votes_min: float, est_floor: float
) -> bool:
    """The candidate rule: on crowd-like data, accept an estimated balance that silences no class."""
    return (
        b.get("all_named", False)
        and b["cov_med"] <= cov_max
        and b["multi"] >= multi_min
        and b["votes_row"] >= votes_min
        and b.get("est_min", 0.0) >= est_floor
    )


def summary(accs: list[float], mvs: list[float]) -> dict[str, float]:
    a, m = np.asarray(accs), np.asarray(mvs)
    d = a - m
    return {
        "mean": float(100 * a.mean()),
        "W": int((d > TIE).sum()),
        "T": int((np.abs(d) <= TIE).sum()),
        "L": int((d < -TIE).sum()),
        "share": float(np.mean(d >= -TIE)),
        "worst": float(100 * d.min()),
    }


def evaluate(rows: list[dict[str, Any]], **rule: float) -> tuple[dict, dict, dict]:
    mv = [r["mv"] for r in rows]
    dflt = [r["default"] for r in rows]
    ruled, changed = [], []
    for r in rows:
        b = r.get("balance")
        if "forced" in r and rule_accepts(b, **rule):
            ruled.append(r["forced"])
            changed.append((r["name"], round(100 * (r["forced"] - r["default"]), 2)))
        else:
            ruled.append(r["default"])
    fam: dict[str, tuple[float, float]] = {}
    crowd = [i for i, r in enumerate(rows) if r["family"] == "crowd"]
    if crowd:
        fam["crowd"] = (
            float(100 * np.mean([dflt[i] for i in crowd])),
            float(100 * np.mean([ruled[i] for i in crowd])),
        )
    return summary(dflt, mv), summary(ruled, mv), {"changed": changed, "family": fam}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-seed", type=int, default=20261201)
    ap.add_argument("--families", nargs="*")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--render", nargs="*", type=Path, help="recorded tables to evaluate a rule on")
    ap.add_argument("--cov-max", type=float, default=0.05)
    ap.add_argument("--multi-min", type=float, default=0.8)
    ap.add_argument("--votes-min", type=float, default=3.0)
    ap.add_argument("--est-floor", type=float, default=0.2)
    args = ap.parse_args(argv)
    rule = {
        "cov_max": args.cov_max,
        "multi_min": args.multi_min,
        "votes_min": args.votes_min,
        "est_floor": args.est_floor,
    }
    if args.render:
        for path in args.render:
            rows = json.loads(path.read_text())
            d, r, info = evaluate(rows, **rule)
            print(path.name, "default", d)
            print(path.name, "rule   ", r, info["family"])
            print("  changed:", info["changed"])
        return 0
    rows = run(args.base_seed, args.families)
    if args.out:
        atomic_write_text(args.out, json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
