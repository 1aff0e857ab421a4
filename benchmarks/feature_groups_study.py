"""LFs that co-fire beyond the fit, counted once: a study of the stress suite's shared-feature losses.

Where a few LFs fire together on a hidden feature whatever the class (the stress family
``shared_feature``), a conditionally independent fit reads them as witnesses that agree because they
are right: on the draw 20650101 the default's tables give such a group's members accuracies of
0.94-0.99 against true 0.57-0.65 (shared_feature-05), and the other LFs' fall toward chance; the draw
holds 10 losses against majority vote in that family.

The variant studied here finds the groups without gold and counts each once, as LF copies are
counted (``tripletws.estimators.copies``), but with a lower bar:

1. a reference ``"mace"`` fit of the distinct rows; every pair of LFs that vote (``--pairs all``), or
   of LFs that vote at least two classes (``--pairs multiclass``), whose share of equal outcomes
   exceeds the fit's expectation (full tables counted under the fit's posterior, as the copy test's
   null) at a family-wise 5 % (Bonferroni, one-sided binomial z), i.e. an excess agreement share
   ``s > 0`` where the copy test asks ``s > 0.5``; groups are the connected components;
2. each group's member with the most votes stays, the others are blanked, and the default is fitted
   on those rows (``LabelModel(k).fit``);
3. at prediction, each blanked member's vote adds ``log P(vote | y, voted)`` counted under that fit's
   posterior on the fitted rows (add-0.5 smoothing): its accuracy measured against the others, not
   against its partners.

Scored as benchmarks/stress.py and benchmarks/lf_subsets.py score: accuracy under a uniform tie-break
against majority vote over the same LFs, a tie within 0.5 points.

    PYTHONPATH=src python benchmarks/feature_groups_study.py --part stress --base-seed 20650101 --pairs all
    PYTHONPATH=src python benchmarks/feature_groups_study.py --part subsets --seed 0 --pairs multiclass
    PYTHONPATH=src python benchmarks/feature_groups_study.py --part shared --pairs all

Each run appends one summary to ``--out`` (JSON lines; default benchmarks/results/feature_groups.jsonl)
and prints it.  Result (session 46): not adopted (docs/studies.md, "LFs that co-fire beyond the fit,
counted once").
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "peers"))

from provenance import revision  # noqa: E402
from scoring import mv_scores, tie_scores  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402

TIE = 0.005
ALPHA = 0.05
PAIRS = ("all", "multiclass")


def find_groups(L: np.ndarray, k: int, pairs: str) -> list[np.ndarray]:
    """Groups (2 or more LFs) of pairs whose outcomes agree beyond a ``"mace"`` fit of ``L``."""
    from tripletws.dependencies import components
    from tripletws.estimators import copies as C
    from tripletws.estimators.annotator import fit_annotator
    from tripletws.estimators.votes import summary_votes
    from tripletws.matrix import check_label_matrix
    from tripletws.rows import RowSummary

    rows = RowSummary.from_matrix(check_label_matrix(L, k), 10**6)
    lfs = np.flatnonzero((L >= 0).any(axis=0))
    if pairs == "multiclass":
        lfs = np.array([i for i in lfs if np.unique(L[L[:, i] >= 0, i]).size >= 2], dtype=np.int64)
    if lfs.size < 2:
        return []
    cast = summary_votes(rows)
    iu, ju, obs, n = C.outcome_agreement(rows, lfs, cast[:2])
    if iu.size == 0:
        return []
    null = C.posterior_tables(rows, fit_annotator(rows, "mace").params, cast)
    e = np.clip(C.expected_agreement(null, iu, ju), 0.0, 1.0)
    z_crit = C._normal_isf(ALPHA / (lfs.size * (lfs.size - 1) // 2))
    flag = C._copied(obs, e, np.zeros(iu.size), n, z_crit)
    if not flag.any():
        return []
    return [g for g in components(np.stack([iu[flag], ju[flag]], axis=1), L.shape[1]) if len(g) > 1]


def grouped_proba(L: np.ndarray, L_test: np.ndarray, k: int, pairs: str) -> tuple[np.ndarray | None, dict]:
    """The variant's posterior on ``L_test`` (None where it finds no group or leaves under 3 LFs)."""
    from tripletws import LabelModel

    groups = find_groups(L, k, pairs)
    if not groups:
        return None, {"groups": 0}
    votes = (L >= 0).sum(axis=0)
    members = np.array(sorted(i for g in groups for i in g if i != g[np.argmax(votes[g])]), dtype=np.int64)
    kept, kept_test = L.copy(), L_test.copy()
    kept[:, members] = -1
    kept_test[:, members] = -1
    if int((kept >= 0).any(axis=0).sum()) < 3:
        return None, {"groups": len(groups), "skipped": "under 3 LFs left"}
    model = LabelModel(k).fit(kept)
    P = model.predict_proba(kept)
    log_p = np.log(np.maximum(model.predict_proba(kept_test), 1e-300))
    for i in members:
        counted = np.stack([P[L[:, i] == a].sum(axis=0) for a in range(k)])  # (vote, y)
        table = (counted + 0.5) / (counted.sum(axis=0, keepdims=True) + 0.5 * k)
        on = L_test[:, i] >= 0
        log_p[on] += np.log(table[L_test[on, i]])
    log_p -= log_p.max(axis=1, keepdims=True)
    out = np.exp(log_p)
    return out / out.sum(axis=1, keepdims=True), {"groups": len(groups), "members": int(members.size)}


def score_one(task: tuple[str, str, int, np.ndarray, np.ndarray, np.ndarray, str, bool]) -> dict[str, Any]:
    """Majority vote, the default and the variant on one problem or subset."""
    from tripletws import LabelModel

    name, group, k, L, L_test, y, pairs, crowd = task
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = tie_scores(LabelModel(k).fit(L).predict_proba(L_test), y, k)[0]
        try:
            P, info = grouped_proba(L, L_test, k, pairs)
        except Exception as exc:  # a crash is a finding
            P, info = None, {"error": f"{type(exc).__name__}: {exc}"[:200]}
    variant = default if P is None else tie_scores(P, y, k)[0]
    mv = tie_scores(mv_scores(L_test, k), y, k)[0]
    rec = {"name": name, "group": group, "crowd": crowd, "mv": mv, "default": default, "variant": variant}
    return {**rec, **info}


def tasks(args: argparse.Namespace) -> list[tuple]:
    if args.part == "stress":
        from stress_problems import all_problems, draw

        out = []
        for p in all_problems(args.base_seed):
            if args.families and p.family not in args.families:
                continue
            L, _, L_test, y = draw(p)
            out.append((p.name, p.family, int(p.params["k"]), L, L_test, y, args.pairs, p.family == "crowd"))
        return out
    if args.part == "subsets":
        from lf_subsets import shared_sets
        from lf_subsets import tasks as subset_tasks

        return [
            (f"{ds['name']}:{','.join(map(str, cols))}", ds["name"], ds["k"], ds["L_fit"][:, cols],
             ds["L_eval"][:, cols], ds["y"], args.pairs, ds["crowd"])
            for ds, cols, _, _, _ in subset_tasks(shared_sets(), args.draws, args.seed)
        ]  # fmt: skip
    from quality_lodo import shared_sets as splits

    return [
        (name, name, k, L_fit, L_eval, y, args.pairs, crowd) for name, k, L_fit, L_eval, y, crowd in splits()
    ]


def _summed(recs: list[dict[str, Any]]) -> float:
    """The variant's points against the default's, summed."""
    return round(100 * sum(r["variant"] - r["default"] for r in recs), 1)


def summary(recs: list[dict[str, Any]]) -> dict[str, Any]:
    def part(rs: list[dict[str, Any]]) -> dict[str, Any]:
        d = np.array([r["default"] - r["mv"] for r in rs])
        v = np.array([r["variant"] - r["mv"] for r in rs])
        return {
            "n": len(rs),
            "applied": sum(1 for r in rs if r.get("members")),
            "share_default": float(np.mean(d >= -TIE)),
            "share_variant": float(np.mean(v >= -TIE)),
            "mean_default": float(d.mean()),
            "mean_variant": float(v.mean()),
            "summed_points": float(100 * (v - d).sum()),
        }

    by_group: dict[str, list] = defaultdict(list)
    for r in recs:
        by_group[r["group"]].append(r)
    return {
        "all": part(recs),
        "lf": part([r for r in recs if not r["crowd"]]) if any(not r["crowd"] for r in recs) else None,
        "crowd": part([r for r in recs if r["crowd"]]) if any(r["crowd"] for r in recs) else None,
        "by_group": {g: _summed(rs) for g, rs in by_group.items()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("stress", "subsets", "shared"), required=True)
    ap.add_argument("--pairs", choices=PAIRS, default="all")
    ap.add_argument("--base-seed", type=int, default=20261201, help="stress: the suite's seed")
    ap.add_argument("--families", nargs="*", help="stress: these families only")
    ap.add_argument("--seed", type=int, default=0, help="subsets: the draws' seed")
    ap.add_argument("--draws", type=int, default=20, help="subsets: draws per set and size")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(BENCH / "results" / "feature_groups.jsonl"))
    args = ap.parse_args(argv)
    with Pool(args.jobs) as pool:
        recs = pool.map(score_one, tasks(args), chunksize=2)
    run = {k: v for k, v in vars(args).items() if k not in ("out", "jobs")}
    code = f"tripletws @ {revision('benchmarks/feature_groups_study.py')}"
    res = {"run": run, "code": code, **summary(recs)}
    changed = sorted(recs, key=lambda r: r["variant"] - r["default"])
    res["largest_changes"] = [
        {"name": r["name"], "default": round(100 * (r["default"] - r["mv"]), 1),
         "variant": round(100 * (r["variant"] - r["mv"]), 1)}
        for r in changed[:5] + changed[-5:] if abs(r["variant"] - r["default"]) > TIE
    ]  # fmt: skip
    out = Path(args.out)
    before = out.read_text() if out.exists() else ""
    atomic_write_text(out, before + json.dumps(res) + "\n")  # the runs so far and this one, replaced whole
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
