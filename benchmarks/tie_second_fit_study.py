"""Ties of the default's posterior broken by a second fit: the rules measured (issue 7, session 15).

Where the default cannot tell classes apart on a row (majority vote's model on rows with equal
votes, or votes that cancel) the row's top classes tie and a coin decides.  Each candidate rule
shares a tied row's top mass (rows with at least one vote) in proportion to a second posterior
(:func:`tripletws.ties.break_ties`); untied rows keep theirs.  Columns:

``default``      ``LabelModel()`` with its tie-break switched off (the posterior of its tables);
``mass``         the second posterior is 1 / (the class's share of all votes on the fitted rows):
                 the classes LFs name least often win (flippers' balanced voter on ties);
``mace_abs``     a ``"mace_abstain"`` fit on the fitted rows (abstentions read as informative),
                 uniform balance;
``ds_abs``       a ``"ds_abstain"`` fit (Dawid-Skene's full tables, abstentions informative),
                 uniform balance: what the default keeps (``TIE_FAMILY``), with more than two classes
                 (``TIE_BINARY = False``);
``... k>2``      the same rule on problems with more than two classes only (two-class problems keep
                 ``default``).

    PYTHONPATH=src python benchmarks/tie_second_fit_study.py --seed 20261201 --jobs 2
    PYTHONPATH=src python benchmarks/tie_second_fit_study.py --shared

writes ``results/tie_second_fit_<seed or shared>.{md,json}``.  Accuracy is the expectation under a
uniform tie-break among equal top probabilities; F1 of class 1 (k = 2) or macro (k > 2).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from multiprocessing import Pool
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from provenance import revision  # noqa: E402
from quality_lodo import shared_sets  # noqa: E402
from scoring import mv_scores, tie_scores  # noqa: E402
from stress import write_atomic  # noqa: E402
from stress_problems import all_problems, draw  # noqa: E402

import tripletws.models.annotator as annotator_module  # noqa: E402
from tripletws import LabelModel  # noqa: E402
from tripletws.estimators.annotator import fit_annotator  # noqa: E402
from tripletws.inference import posterior  # noqa: E402
from tripletws.matrix import LabelMatrix  # noqa: E402
from tripletws.params import LabelModelParams  # noqa: E402
from tripletws.rows import RowSummary  # noqa: E402
from tripletws.ties import break_ties  # noqa: E402

RESULTS = HERE / "results"
TIE = 0.005
RULES = ("mass", "mace_abs", "ds_abs")
COLUMNS = ("default", *RULES, *(f"{r} k>2" for r in RULES))


def measure(k: int, L: np.ndarray, L_test: np.ndarray, y_test: np.ndarray) -> dict:
    L, L_test = np.asarray(L, dtype=np.int64), np.asarray(L_test, dtype=np.int64)
    y_test = np.asarray(y_test, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(cardinality=k).fit(L)
    test = LabelMatrix(L_test, k)
    P = posterior(test, lm.params_)  # the tables' posterior: the default's before its tie-break
    uniform = np.full(k, 1.0 / k)
    rows = RowSummary.from_matrix(LabelMatrix(L, k), annotator_module.ANNOTATOR_MAX_ROWS)
    mass = mv_scores(L, k).mean(axis=0)
    seconds = {
        # 1 / vote share as a "posterior": the tables' votes say nothing, only the class's share does
        "mass": lambda: (None, uniform / np.maximum(mass / mass.sum(), 1e-12)),
        "mace_abs": lambda: (fit_annotator(rows, "mace_abstain", class_balance=uniform).params, None),
        "ds_abs": lambda: (fit_annotator(rows, "ds_abstain", class_balance=uniform).params, None),
    }
    out: dict = {"k": k}
    out["mv"], out["mv f1"] = tie_scores(mv_scores(L_test, k), y_test, k)
    out["default"], out["default f1"] = tie_scores(P, y_test, k)
    for name, make in seconds.items():
        params, weights = make()
        if params is None:
            # the mass rule as a second model: tables that say nothing, its prior the weights
            params = LabelModelParams(weights / weights.sum(), np.full((L.shape[1], k + 1, k), 1.0 / (k + 1)))
        Pb = break_ties(P.copy(), test, lm.params_, params)
        out[name], out[name + " f1"] = tie_scores(Pb, y_test, k)
        two = k == 2
        out[f"{name} k>2"] = out["default"] if two else out[name]
        out[f"{name} k>2 f1"] = out["default f1"] if two else out[name + " f1"]
    return out


def shared_one(item: tuple) -> dict:
    name, k, L_fit, L_eval, y_eval, _ = item  # quality_lodo.shared_sets(): the eval split's gold rows
    return {"name": name, **measure(k, L_fit, L_eval, y_eval)}


def stress_one(problem) -> dict:
    L, _, L_test, y_test = draw(problem, None)
    return {
        "name": problem.name,
        "family": problem.family,
        **measure(int(problem.params["k"]), L, L_test, y_test),
    }


def summary(rows: list[dict]) -> dict:
    mv = np.array([r["mv"] for r in rows])
    base = np.array([r["default"] for r in rows])
    out = {}
    for c in COLUMNS:
        a = np.array([r[c] for r in rows])
        d = a - base
        out[c] = {
            "mean": float(a.mean()),
            "share_at_mv": float(np.mean(a >= mv - TIE)),
            "gain": int((d > TIE).sum()),
            "loss": int((d < -TIE).sum()),
            "points": float(d.sum() * 100),
            "worst": float(d.min() * 100),
            "worst_f1_vs_mv": float(min(r[c + " f1"] - r["mv f1"] for r in rows) * 100),
        }
    return out


def to_markdown(rows: list[dict], label: str, rev: str, command: str) -> str:
    s = summary(rows)
    mv = float(np.mean([r["mv"] for r in rows]))
    lines = [
        f"# Ties broken by a second fit: {label}",
        "",
        f"- tripletws revision: {rev}; command: `{command}`",
        f"- {len(rows)} problems; MV mean accuracy {mv:.4f}; columns in the script's docstring",
        "",
        "| rule | mean acc | share >= MV - 0.5 | gain / loss vs default (> 0.5 pt) | summed points | worst "
        "| worst F1 vs MV (pt) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c, v in s.items():
        lines.append(
            f"| {c} | {v['mean']:.4f} | {v['share_at_mv'] * 100:.1f} % | {v['gain']} / {v['loss']} | "
            f"{v['points']:+.1f} | {v['worst']:+.1f} | {v['worst_f1_vs_mv']:+.1f} |"
        )
    if label == "shared":
        lines += [
            "",
            "| set | k | mv | " + " | ".join(COLUMNS) + " |",
            "|---|---|---|" + "---|" * len(COLUMNS),
        ]
        for r in rows:
            cells = " | ".join(f"{r[c]:.3f} / {r[c + ' f1']:.3f}" for c in COLUMNS)
            lines.append(f"| {r['name']} | {r['k']} | {r['mv']:.3f} / {r['mv f1']:.3f} | {cells} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=None, help="stress suite seed (default: the development one)")
    ap.add_argument("--shared", action="store_true", help="the 15 shared sets instead of the stress suite")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    with Pool(args.jobs) as pool:
        if args.shared:
            rows, label = pool.map(shared_one, shared_sets()), "shared"
        else:
            problems = all_problems() if args.seed is None else all_problems(args.seed)
            rows = pool.map(stress_one, problems, chunksize=4)
            label = f"stress seed {args.seed or 'development'}"
    rev = revision()
    tag = "shared" if args.shared else str(args.seed or "dev")
    command = "PYTHONPATH=src python benchmarks/tie_second_fit_study.py " + " ".join(sys.argv[1:])
    RESULTS.mkdir(exist_ok=True)
    write_atomic(
        RESULTS / f"tie_second_fit_{tag}.json", json.dumps({"revision": rev, "rows": rows}, indent=1)
    )
    md = to_markdown(rows, label, rev, command)
    write_atomic(RESULTS / f"tie_second_fit_{tag}.md", md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
