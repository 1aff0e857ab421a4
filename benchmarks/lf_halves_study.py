"""A gold-free fallback to majority vote: is the default less self-consistent than MV on halves of the LFs?

Session 16 (issue 7), measured and not adopted.  The family choice and the checks are judged by
held-out likelihood, which rewards a better model of the votes whether or not its latent class is
the label; most of the default's losses against majority vote on fresh stress draws lead by tens of
standard errors.  This study tries a criterion of *predictions* instead: the LFs are split at random
into two disjoint halves (``SPLITS`` seeded splits); on the rows where both halves vote, the default
fitted on each half labels the rows, and so does majority vote on each half.  Under conditional
independence of the halves given the class, two labellings agree more often the more accurate both
are (two classes: ``P(agree) = a b + (1 - a)(1 - b)``, increasing in ``a`` where ``b > 1/2``), so a
default that agrees with itself across halves less than majority vote does is suspect.  The veto:
fall back to majority vote where the default's mean agreement is below MV's by more than ``Z``
standard errors of the paired per-row difference (rows of all splits pooled; a rough error, as a
row recurs in every split).  Problems with fewer than 6 LFs (a half needs 3) or fewer than 20 rows
voted by both halves are not tested.

For each stress problem of a draw: majority vote's and the default's test accuracy, and the
halves' agreement figures; ``--summarise`` then scores the veto at several ``Z`` (the default's
accuracy replaced by MV's where vetoed).

    PYTHONPATH=src python benchmarks/lf_halves_study.py --seed 20261201 --jobs 2
    PYTHONPATH=src python benchmarks/lf_halves_study.py --summarise results/lf_halves_20261201.json

writes ``results/lf_halves_<seed>.{json,md}``.  Accuracy is the expectation under a uniform
tie-break among equal top scores (``scoring.tie_scores``).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from provenance import revision  # noqa: E402
from scoring import mv_scores, tie_scores  # noqa: E402
from stress import write_atomic  # noqa: E402
from stress_problems import all_problems, draw  # noqa: E402

from tripletws import LabelModel  # noqa: E402

RESULTS = HERE / "results"
SPLITS = 3
MIN_ROWS = 20
TIE = 0.005
ZS = (1.0, 2.0, 3.0, 4.0, 6.0)


def _fit(L: np.ndarray, k: int) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(cardinality=k).fit(L)


def expected_agreement(SA: np.ndarray, SB: np.ndarray) -> np.ndarray:
    """(n,) probability that two labellings agree when each breaks its ties among its top classes
    uniformly at random: ``|A & B| / (|A| |B|)`` for the rows' top sets ``A``, ``B``."""
    a = SA >= SA.max(axis=1, keepdims=True) - 1e-9
    b = SB >= SB.max(axis=1, keepdims=True) - 1e-9
    return (a & b).sum(axis=1) / (a.sum(axis=1) * b.sum(axis=1))


def halves(L: np.ndarray, k: int, seed: int) -> dict[str, Any] | None:
    """The default's and majority vote's agreement across ``SPLITS`` random halves of the LFs."""
    n, m = L.shape
    if m < 6:
        return None
    rng = np.random.default_rng([seed, m, n])
    diffs, ours, mvs = [], [], []
    for _ in range(SPLITS):
        perm = rng.permutation(m)
        A, B = np.sort(perm[: m // 2]), np.sort(perm[m // 2 :])
        both = (L[:, A] >= 0).any(axis=1) & (L[:, B] >= 0).any(axis=1)
        if both.sum() < MIN_ROWS:
            continue
        LA, LB = L[both][:, A], L[both][:, B]
        try:
            d = expected_agreement(_fit(LA, k).predict_proba(LA), _fit(LB, k).predict_proba(LB))
        except ValueError:  # a half that cannot be fitted (e.g. every LF of it silent on these rows)
            continue
        v = expected_agreement(mv_scores(LA, k), mv_scores(LB, k))
        ours.append(d)
        mvs.append(v)
        diffs.append(d - v)
    if not diffs:
        return None
    diff = np.concatenate(diffs)
    rows = len(diff) / len(diffs)
    se = float(diff.std(ddof=1) / np.sqrt(rows)) if len(diff) > 1 else float("inf")
    return {
        "default": float(np.concatenate(ours).mean()),
        "mv": float(np.concatenate(mvs).mean()),
        "diff": float(diff.mean()),
        "se": se,
        "rows": int(rows),
        "splits": len(diffs),
    }


def run_problem(problem: Any) -> dict[str, Any]:
    k = int(problem.params["k"])
    L, _, L_test, y_test = draw(problem)
    mv_acc, _ = tie_scores(mv_scores(L_test, k), y_test, k)
    acc, _ = tie_scores(_fit(L, k).predict_proba(L_test), y_test, k)
    return {
        "name": problem.name,
        "family": problem.family,
        "n": int(L.shape[0]),
        "m": int(L.shape[1]),
        "k": k,
        "mv": mv_acc,
        "default": acc,
        "halves": halves(L, k, problem.seed),
    }


def vetoed(row: dict[str, Any], z: float) -> bool:
    h = row["halves"]
    return h is not None and np.isfinite(h["se"]) and h["diff"] < -z * h["se"]


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The veto at each ``Z``: mean accuracy, share at or above MV - 0.5 points, vetoes won / lost."""
    mv = np.array([r["mv"] for r in rows])
    base = np.array([r["default"] for r in rows])
    out = [{"rule": "default", "mean": float(base.mean()), "share": float(np.mean(base >= mv - TIE))}]
    for z in ZS:
        veto = np.array([vetoed(r, z) for r in rows])
        acc = np.where(veto, mv, base)
        change = (mv - base)[veto]
        out.append(
            {
                "rule": f"veto at z = {z:g}",
                "mean": float(acc.mean()),
                "share": float(np.mean(acc >= mv - TIE)),
                "vetoed": int(veto.sum()),
                "gains": int((change > TIE).sum()),
                "losses": int((change < -TIE).sum()),
                "points": float(100 * change.sum()),
            }
        )
    return out


def to_markdown(doc: dict[str, Any]) -> str:
    lines = [
        "# The default vetoed where it is less self-consistent than MV on halves of the LFs",
        "",
        f"- command: `{doc['command']}`",
        f"- code: {doc['revision']}; problems: {len(doc['rows'])}; splits {SPLITS}, rows voted by both "
        f"halves >= {MIN_ROWS}, m >= 6",
        "- veto: majority vote's labels where the default's mean cross-half agreement is below MV's by more "
        "than z standard errors; share = problems at or above MV - 0.5 points; gains / losses: vetoed "
        "problems where MV is above / below the default by more than 0.5 points",
        "",
        "| rule | mean accuracy | share | vetoed | gains | losses | points |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in doc["summary"]:
        lines.append(
            f"| {s['rule']} | {s['mean']:.4f} | {100 * s['share']:.1f} % | {s.get('vetoed', '-')} | "
            f"{s.get('gains', '-')} | {s.get('losses', '-')} | "
            + (f"{s['points']:+.1f} |" if "points" in s else "- |")
        )
    lines += ["", "Vetoed at z = 2 (accuracy points of MV minus the default):", ""]
    hit = sorted((100 * (r["mv"] - r["default"]), r["name"]) for r in doc["rows"] if vetoed(r, 2.0))
    lines.append(", ".join(f"{name} {d:+.1f}" for d, name in hit) or "none")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261201, help="the stress draw")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--summarise", help="re-render a results json")
    args = ap.parse_args(argv)
    if args.summarise:
        doc = json.loads(Path(args.summarise).read_text())
    else:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        problems = all_problems(args.seed)
        if args.jobs > 1:
            with Pool(args.jobs) as pool:
                rows = pool.map(run_problem, problems, chunksize=2)
        else:
            rows = [run_problem(p) for p in problems]
        command = f"python benchmarks/lf_halves_study.py --seed {args.seed} --jobs {args.jobs}"
        doc = {"command": command, "revision": revision(), "rows": rows}
    doc["summary"] = summarise(doc["rows"])
    stem = RESULTS / f"lf_halves_{args.seed}" if not args.summarise else Path(args.summarise).with_suffix("")
    write_atomic(stem.with_suffix(".json"), json.dumps(doc, indent=1))
    write_atomic(stem.with_suffix(".md"), to_markdown(doc))
    print(to_markdown(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
