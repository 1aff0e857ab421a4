"""Can a rule learned from many gold-free features tell when a part of the default loses?

Reads the records of ``benchmarks/worst_losses.py`` (one JSON per stress draw: each problem's
gold-free features of the default's fit, its test accuracy, majority vote's, and the accuracy with
each part switched off) and asks, for one part (``--action``: ``family=mv``, the held-out family
choice replaced by majority vote's family; or ``no_abstain``, ``no_coverage``, ``no_balance``,
``no_copies``), whether a classifier of the features predicts the problems where switching the part
off gains more than 0.5 points.  The classifier (logistic regression on standardised features, or
gradient-boosted trees) is trained on all but one group and applied to the held-out group, for
every group: leave one stress family out (``LOFO``) and leave one draw out (``LODO``).  Where it
predicts a gain (probability above ``--thresholds``), the part is switched off; the table gives
the problems switched, the accuracy points summed against the default and the change in problems
more than 0.5 points below majority vote (negative: fewer losses), over all the draws read.

    PYTHONPATH=src python benchmarks/worst_losses.py --base-seed S --out /tmp/wl/wl_S.json   # per draw
    python benchmarks/meta_rule_study.py /tmp/wl/wl_*.json --action family=mv

Needs scikit-learn (in the ``dev`` extra).  Prints the table and, with ``--out``, writes it as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

#: A switch-off that gains more than this (accuracy, 0.5 points) is the class the rule predicts.
GAIN = 0.005

ACTIONS = ("family=mv", "no_abstain", "no_coverage", "no_balance", "no_copies")


def _tv(a: np.ndarray, b: np.ndarray) -> float:
    return 0.5 * float(np.abs(a - b).sum()) if a.shape == b.shape else 0.0


def features(p: dict[str, Any]) -> dict[str, float]:
    """The gold-free features of one problem's record (worst_losses.py), as numbers."""
    rec = p.get("record") or {}
    sel = rec.get("selection") or {}
    leads = sel.get("leads") or {}
    lead_mv, se_mv = leads.get("mv", (0.0, 0.0))
    lead_oc = leads.get("one_coin", (0.0, 0.0))[0]
    shape = rec.get("lead_shape") or {}
    prior = np.asarray(p.get("fit_prior") or [0.0])
    clear = np.asarray(p.get("clear_shares") or [0.0])
    votes = np.asarray(p.get("mv_shares") or [0.0])

    def log1p10(x: float | None) -> float:
        return math.log10(1.0 + max(float(x or 0.0), 0.0))

    return {
        "log_n": math.log10(p["n"]),
        "log_m": math.log10(p["m"]),
        "k": float(p["k"]),
        "log_coverage": math.log10(max(p["coverage"], 1e-4)),
        "log_n_per_m": math.log10(p["n"] / p["m"]),
        "mace": float(sel.get("chosen") == "mace"),
        "lead_mv": float(lead_mv),
        "lead_mv_se": log1p10(lead_mv / se_mv) if se_mv > 0 else 3.0,
        "lead_one_coin": float(lead_oc),
        "top1_share": float(shape.get("top1") or 0.0),
        "trimmed_t": log1p10(shape.get("trim_t")),
        "min_fold_t": log1p10(shape.get("min_fold_t")),
        "rows_won": float(shape.get("win") or 0.0),
        "abstain_read": float(bool((rec.get("abstain") or {}).get("accepted"))),
        "coverage_read": float(bool((rec.get("coverage") or {}).get("accepted"))),
        "copies": float(bool(p.get("copies"))),
        "prior_vs_clear": _tv(prior, clear),
        "prior_vs_votes": _tv(prior, votes),
        "prior_max_times_k": float(prior.max()) * p["k"],
    }


def load(paths: list[str], action: str) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The problems on which ``action`` acted, and their feature matrix (N, F)."""
    rows = []
    for path in paths:
        draw = Path(path).stem
        for p in json.loads(Path(path).read_text())["problems"]:
            ablations = p.get("ablations") or {}
            if action not in ablations or not (p.get("record") or {}).get("selection"):
                continue
            rows.append(
                {
                    "draw": draw,
                    "family": p["family"],
                    "name": p["name"],
                    "mv": p["mv"],
                    "default": p["default"],
                    "off": ablations[action],
                    "features": features(p),
                }
            )
    if not rows:
        raise SystemExit(f"no problem in {paths} has the ablation {action!r}")
    names = list(rows[0]["features"])
    X = np.array([[r["features"][n] for n in names] for r in rows], dtype=np.float64)
    return rows, X


def reading_bar(paths: list[str], bars: tuple[float, ...] = (2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0)) -> list[str]:
    """The abstain reading's gain by the strength of its evidence, and a higher bar for its test (a).

    For every problem whose reading was accepted: the default's accuracy and the accuracy with the
    reading refused (``no_abstain``), binned by the lead in standard errors and by the background
    z; then the bar on the lead's z that sums highest where it is chosen, in-sample and chosen on all
    but one stress family (or draw) and scored on it.  Returns the report's lines."""
    rows = []
    for path in paths:
        for p in json.loads(Path(path).read_text())["problems"]:
            a = (p.get("record") or {}).get("abstain") or {}
            if not a.get("accepted") or "no_abstain" not in (p.get("ablations") or {}):
                continue
            se = a.get("lead_se") or 0.0
            z = a["lead"] / se if se > 0 else float("inf")
            background = a.get("z")
            rows.append(
                (
                    Path(path).stem,
                    p["family"],
                    a.get("family", ""),
                    z,
                    np.nan if background is None else background,
                    p["default"],
                    p["ablations"]["no_abstain"],
                    p["mv"],
                )
            )
    if not rows:
        raise SystemExit(f"no accepted abstain reading in {paths}")
    draw, fam, kind = (np.array([r[i] for r in rows]) for i in range(3))
    z, bz, d, off, mv = (np.array([r[i] for r in rows], dtype=np.float64) for i in range(3, 8))
    gain = 100 * (d - off)

    def line(label: str, s: np.ndarray) -> str:
        with_, without = int((d[s] < mv[s] - GAIN).sum()), int((off[s] < mv[s] - GAIN).sum())
        return f"| {label} | {int(s.sum())} | {gain[s].sum():+.1f} | {with_} | {without} |"

    out = [
        f"{len(rows)} accepted readings in {len(paths)} draws",
        "| evidence | problems | reading's points | below MV - 0.5 with it | without it |",
        "|---|---|---|---|---|",
    ]
    for lo, hi in ((2, 3), (3, 4), (4, 6), (6, 10), (10, 20), (20, np.inf)):
        out.append(line(f"lead z in [{lo}, {hi})", (z >= lo) & (z < hi)))
    for lo, hi in ((-np.inf, 0), (0, 1), (1, 1.96)):
        out.append(line(f"background z in [{lo}, {hi})", (bz >= lo) & (bz < hi)))
    for name in ("mace_abstain", "ds_abstain"):
        out.append(line(name, kind == name))

    def total(mask: np.ndarray, bar: float) -> tuple[float, int]:
        new = np.where(z[mask] < bar, off[mask], d[mask])
        return float(100 * (new - d[mask]).sum()), int(
            (new < mv[mask] - GAIN).sum() - (d[mask] < mv[mask] - GAIN).sum()
        )

    every = np.ones(len(rows), dtype=bool)
    out += [
        f"bar {b:g}, in-sample: {total(every, b)[0]:+.1f} points, losses {total(every, b)[1]:+d}"
        for b in bars
    ]
    for split, groups in (("leave one family out", fam), ("leave one draw out", draw)):
        points, losses, picks = 0.0, 0, []
        for g in np.unique(groups):
            train = groups != g
            pick = max(bars, key=lambda b: (total(train, b)[0], -b))
            picks.append(pick)
            p_, l_ = total(~train, pick)
            points, losses = points + p_, losses + l_
        out.append(f"{split}: bars {sorted(set(picks))}, {points:+.1f} points, losses {losses:+d}")
    return out


def held_out(X: np.ndarray, y: np.ndarray, groups: np.ndarray, make: Any) -> np.ndarray:
    """Each group's probabilities from a classifier trained on the other groups."""
    prob = np.zeros(len(y))
    for g in np.unique(groups):
        test = groups == g
        train = ~test
        if len(np.unique(y[train])) < 2:
            continue
        prob[test] = make().fit(X[train], y[train]).predict_proba(X[test])[:, 1]
    return prob


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("records", nargs="+", help="worst_losses.py results, one per draw")
    ap.add_argument("--action", default="family=mv", choices=ACTIONS)
    ap.add_argument("--thresholds", type=float, nargs="*", default=[0.4, 0.5, 0.6, 0.7])
    ap.add_argument("--C", type=float, nargs="*", default=[0.1, 1.0, 10.0], help="logistic strengths")
    ap.add_argument(
        "--apply", nargs="*", default=[], help="records to score with a classifier trained on all"
    )
    ap.add_argument("--reading-bar", action="store_true", help="the abstain reading's gain by its evidence")
    ap.add_argument("--out", help="write the table as JSON")
    args = ap.parse_args(argv)
    if args.reading_bar:
        print("\n".join(reading_bar(args.records)))
        return 0
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows, X = load(args.records, args.action)
    default = np.array([r["default"] for r in rows])
    off = np.array([r["off"] for r in rows])
    mv = np.array([r["mv"] for r in rows])
    y = (off > default + GAIN).astype(int)
    below = default < mv - GAIN
    gains, losses = int(y.sum()), int((off < default - GAIN).sum())
    print(
        f"{args.action}: {len(rows)} problems in {len(args.records)} draws; the switch-off gains on {gains}, "
        f"loses on {losses}; the default is below MV - 0.5 points on {int(below.sum())}"
    )

    def logistic(c: float) -> Any:
        return lambda: make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))

    models: dict[str, Any] = {f"logistic C={c:g}": logistic(c) for c in args.C}
    models["boosted trees"] = lambda: GradientBoostingClassifier(
        n_estimators=100, max_depth=2, learning_rate=0.05, random_state=0
    )
    splits = {
        "leave one family out": np.array([r["family"] for r in rows]),
        "leave one draw out": np.array([r["draw"] for r in rows]),
    }
    table = []
    print("| classifier | held out | threshold | switched | points vs default | losses vs MV |")
    print("|---|---|---|---|---|---|")
    for name, make in models.items():
        for split, groups in splits.items():
            prob = held_out(X, y, groups, make)
            for t in args.thresholds:
                switch = prob > t
                new = np.where(switch, off, default)
                row = {
                    "classifier": name,
                    "held_out": split,
                    "threshold": t,
                    "switched": int(switch.sum()),
                    "points": float(100 * (new - default).sum()),
                    "losses": int((new < mv - GAIN).sum() - below.sum()),
                }
                table.append(row)
                points, lost = f"{row['points']:+.1f}", f"{row['losses']:+d}"
                cells = (name, split, f"{t:g}", row["switched"], points, lost)
                print("| " + " | ".join(str(c) for c in cells) + " |")
    if args.apply:
        other, X_other = load(args.apply, args.action)
        print(
            "\nTrained on every record above, applied to",
            ", ".join(args.apply),
            "(problem: P(gain), switched?, points)",
        )
        for name, make in models.items():
            prob = make().fit(X, y).predict_proba(X_other)[:, 1]
            for t in args.thresholds:
                hits = [
                    f"{r['name']} {pr:.2f} {100 * (r['off'] - r['default']):+.1f}"
                    for r, pr in zip(other, prob, strict=True)
                    if pr > t
                ]
                points = sum(
                    100 * (r["off"] - r["default"]) for r, pr in zip(other, prob, strict=True) if pr > t
                )
                print(
                    f"{name} threshold {t:g}: {len(hits)} switched, {points:+.1f} points: " + "; ".join(hits)
                )
    if args.out:
        from tripletws.atomic import atomic_write_text

        record = {"action": args.action, "records": args.records, "table": table}
        atomic_write_text(args.out, json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
