"""Study: the default fitted on several deals of the rows into folds, its posteriors averaged.

The family choice and the checks of the default decide on one deal's held-out scores; on about
one stress problem in nine another deal changes the result by more than 0.5 points (up to 50;
docs/models.md, "What one deal is worth").  This study fits the default once per deal (deal
``d``: every fold seed xor a hash of ``d``, ``stress.set_fold_salt`` as ``benchmarks/stress.py
--fold-salt d``; ``d = 0`` is the library's own deal), averages the test rows' posteriors and
scores each single deal and the average against majority vote, on the stress suite's problems.

    PYTHONPATH=src python benchmarks/deal_bagging_study.py --jobs 2                      # development draw
    PYTHONPATH=src python benchmarks/deal_bagging_study.py --jobs 2 --base-seed 20470101

Writes ``benchmarks/results/deal_bagging[_seed<S>].{json,md}`` (``--out`` changes the path).
Not a library option: the average of the deals' fits is not one model file's parameters.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from provenance import revision  # noqa: E402
from scoring import mv_scores, tie_scores  # noqa: E402
from stress import set_fold_salt  # noqa: E402
from stress_problems import BASE_SEED, all_problems, draw  # noqa: E402

from tripletws import LabelModel  # noqa: E402
from tripletws.atomic import atomic_write_text  # noqa: E402

TIE = 0.005  # within 0.5 points of majority vote is a tie, as in stress.py


def run_problem(task: tuple) -> dict:
    problem, deals = task
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        L, _, L_test, y_test = draw(problem)
        k = problem.params["k"]
        mv = tie_scores(mv_scores(L_test, k), y_test, k)
        posteriors = []
        for d in deals:
            set_fold_salt(d)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                posteriors.append(LabelModel(k).fit(L).predict_proba(L_test))
        set_fold_salt(0)
        single = [tie_scores(P, y_test, k) for P in posteriors]
        bagged = tie_scores(np.mean(posteriors, axis=0), y_test, k)
    return {
        "name": problem.name,
        "family": problem.family,
        "mv": list(mv),
        "single": [list(s) for s in single],
        "bagged": list(bagged),
    }


def summarise(rows: list[dict], deals: list[int]) -> list[dict]:
    mv = np.array([r["mv"][0] for r in rows])
    out = []
    columns = [(f"deal {d}", np.array([r["single"][j][0] for r in rows])) for j, d in enumerate(deals)]
    columns.append((f"average of {len(deals)} deals", np.array([r["bagged"][0] for r in rows])))
    for label, acc in columns:
        diff = acc - mv
        out.append(
            {
                "method": label,
                "mean_acc": float(acc.mean()),
                "wins": int((diff > TIE).sum()),
                "ties": int((np.abs(diff) <= TIE).sum()),
                "losses": int((diff < -TIE).sum()),
                "share": float((diff >= -TIE).mean()),
                "worst": float(diff.min()),
            }
        )
    return out


def to_markdown(res: dict) -> str:
    meta = res["meta"]
    lines = [
        "# Bagging the default over deals of the rows into folds (study)",
        "",
        f"- command: `{meta['command']}`",
        f"- code: tripletws @ {meta['code']}; problems: {meta['n_problems']} (base seed {meta['base_seed']})",
        f"- majority vote's mean accuracy: {meta['mv_mean']:.4f}; tie = within 0.5 points of MV",
        "",
        "| fit | mean acc | W / T / L vs MV | >= MV - 0.5 pt | worst vs MV |",
        "|---|---|---|---|---|",
    ]
    for s in res["summary"]:
        lines.append(
            f"| {s['method']} | {s['mean_acc']:.4f} | {s['wins']} / {s['ties']} / {s['losses']} | "
            f"{100 * s['share']:.1f} % | {100 * s['worst']:+.1f} |"
        )
    lines += ["", "Problems whose deals disagree by more than 0.5 points (points against MV):", ""]
    lines += ["| problem | single deals | average |", "|---|---|---|"]
    for r in res["problems"]:
        single = [100 * (s[0] - r["mv"][0]) for s in r["single"]]
        if max(single) - min(single) > 100 * TIE:
            shown = ", ".join(f"{v:+.1f}" for v in single)
            lines.append(f"| {r['name']} | {shown} | {100 * (r['bagged'][0] - r['mv'][0]):+.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-seed", type=int, default=BASE_SEED, help="the stress suite's seed")
    ap.add_argument("--deals", type=int, nargs="+", default=[0, 1, 2], help="deal salts (0: the library's)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", help="results .json (the .md beside it)")
    args = ap.parse_args(argv)
    problems = all_problems(args.base_seed)
    tasks = [(p, args.deals) for p in problems]
    if args.jobs > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(args.jobs) as pool:
            rows = list(pool.imap(run_problem, tasks))
    else:
        rows = [run_problem(t) for t in tasks]
    suffix = "" if args.base_seed == BASE_SEED else f"_seed{args.base_seed}"
    out = Path(args.out) if args.out else HERE / "results" / f"deal_bagging{suffix}.json"
    res = {
        "meta": {
            "command": "python benchmarks/deal_bagging_study.py "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "code": revision(),
            "base_seed": args.base_seed,
            "n_problems": len(rows),
            "mv_mean": float(np.mean([r["mv"][0] for r in rows])),
        },
        "summary": summarise(rows, args.deals),
        "problems": rows,
    }
    atomic_write_text(out, json.dumps(res, indent=1))
    atomic_write_text(out.with_suffix(".md"), to_markdown(res))
    for s in res["summary"]:
        print(
            f"{s['method']:>22s}: mean acc {s['mean_acc']:.4f}; W/T/L {s['wins']}/{s['ties']}/{s['losses']}; "
            f">= MV-0.5pt {100 * s['share']:.1f} %"
        )
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
