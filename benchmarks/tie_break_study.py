"""Breaking majority vote's ties with a pooled confusion model: measured, not kept (issue 7).

Where the default cannot tell LFs apart it predicts majority vote, which leaves rows whose top
classes have equal vote counts to a coin. On trec and semeval most of those ties pair one class
against another (semeval: 79 test rows, class 1 against class 6, class 1 right on 74), so a
gold-free rule that breaks them well gains several points.  The candidate measured here is the
*pooled* model of Paun et al. (2018, "Comparing Bayesian models of annotation", TACL 6): one
confusion matrix ``C[v, y] = P(vote v | Y = y)`` shared by every LF, abstentions not read, fitted
by EM from majority vote's soft labels with the class balance fixed (the model's own, uniform
unless its balance check estimated one) and one Laplace-like pseudo-row per class.  Its k(k-1)
free parameters are identified by co-votes across LFs, including LFs that vote one class only.

Only rows whose top classes tie change: the tied mass is shared among the tied classes in
proportion to the pooled posterior. Columns:

``default``        ``LabelModel()``;
``+tb flat``       the default with the tie-break where all its fitted accuracies are equal
                   (the fallback that predicts majority vote);
``+tb all``        the default with the tie-break on every tied row;
``mv+tb``          majority vote with the tie-break (uniform balance).

    PYTHONPATH=src python benchmarks/tie_break_study.py --jobs 2    # writes results/tie_break.{md,json}
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
from scoring import TIE_TOL, mv_scores, tie_scores  # noqa: E402
from stress import write_atomic  # noqa: E402
from stress_problems import all_problems, draw  # noqa: E402

RESULTS = HERE / "results"
SHARED = HERE.parent.parent / "shared"
TIE = 0.005
COLUMNS = ("mv", "default", "+tb flat", "+tb all", "mv+tb")


def pooled_confusion(N: np.ndarray, prior: np.ndarray, steps: int = 100) -> np.ndarray:
    """EM for one confusion matrix shared by all LFs.

    Parameters
    ----------
    N : ndarray, shape (n, k)
        Votes per class on each row.
    prior : ndarray, shape (k,)
        Fixed class balance.

    Returns
    -------
    ndarray, shape (k, k)
        ``C[v, y] = P(vote v | Y = y)``, columns summing to 1.
    """
    k = N.shape[1]
    q = N + 1e-3
    q /= q.sum(axis=1, keepdims=True)
    q[N.sum(axis=1) == 0] = 1.0 / k
    pseudo = (np.eye(k) * (k - 1) + (1 - np.eye(k))) / k  # one pseudo-row per class, diagonal-heavy
    for _ in range(steps):
        C = N.T @ q + pseudo
        C /= C.sum(axis=0, keepdims=True)
        s = np.log(prior) + N @ np.log(C)
        s -= s.max(axis=1, keepdims=True)
        q = np.exp(s)
        q /= q.sum(axis=1, keepdims=True)
    return C


def break_ties(P: np.ndarray, N: np.ndarray, C: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``P`` (n, k) with each tied row's top mass shared by the pooled posterior (other rows unchanged)."""
    s = np.log(prior) + N @ np.log(C)
    q = np.exp(s - s.max(axis=1, keepdims=True))
    top = P >= P.max(axis=1, keepdims=True) - TIE_TOL
    tied = top.sum(axis=1) > 1
    qt = q * top
    qt /= qt.sum(axis=1, keepdims=True)
    out = P.copy()
    mass = (P * top).sum(axis=1, keepdims=True)
    out[tied] = np.where(top[tied], qt[tied] * mass[tied], P[tied])
    return out


def measure(k: int, L: np.ndarray, L_test: np.ndarray, y_test: np.ndarray) -> dict:
    from tripletws import LabelModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(cardinality=k).fit(L)
    P = lm.predict_proba(L_test)
    acc = np.asarray(lm.accuracies_, dtype=np.float64)
    flat = bool(acc.size > 1 and np.ptp(acc) < 1e-9)
    prior = np.asarray(lm.class_balance_, dtype=np.float64)
    N, Nt = mv_scores(L, k), mv_scores(L_test, k)
    uniform = np.full(k, 1.0 / k)
    Pt = break_ties(P, Nt, pooled_confusion(N, prior), prior)
    Pm = np.exp(Nt - Nt.max(axis=1, keepdims=True))
    Pm /= Pm.sum(axis=1, keepdims=True)
    out = {"flat": flat}
    for name, S in (
        ("mv", Nt),
        ("default", P),
        ("+tb flat", Pt if flat else P),
        ("+tb all", Pt),
        ("mv+tb", break_ties(Pm, Nt, pooled_confusion(N, uniform), uniform)),
    ):
        out[name], out[name + " f1"] = tie_scores(S, y_test, k)
    return out


def shared_sets() -> list[dict]:
    index = json.loads((SHARED / "tools" / "shared_index.json").read_text())
    rows = []
    for name, meta in index.items():
        d = SHARED / "data" / name
        fit_split = meta.get("fit_split") or ("train" if (d / "train.npz").exists() else meta["eval_split"])
        fit, ev = np.load(d / f"{fit_split}.npz"), np.load(d / f"{meta['eval_split']}.npz")
        gold = ev["y"] >= 0
        rows.append({"name": name, **measure(int(meta["k"]), fit["L"], ev["L"][gold], ev["y"][gold])})
    return rows


def stress_one(problem) -> dict:
    L, _, L_test, y_test = draw(problem, None)
    return {
        "name": problem.name,
        "family": problem.family,
        **measure(int(problem.params["k"]), L, L_test, y_test),
    }


def summary(rows: list[dict]) -> dict:
    mv = np.array([r["mv"] for r in rows])
    out = {}
    for c in COLUMNS:
        a = np.array([r[c] for r in rows])
        out[c] = {"mean": float(a.mean()), "share_at_mv": float(np.mean(a >= mv - TIE))}
    return out


def to_markdown(shared: list[dict], stress: list[dict], rev: str) -> str:
    lines = [
        "# Majority vote's ties broken by a pooled confusion model (not kept)",
        "",
        f"- tripletws revision: {rev}; command: `PYTHONPATH=src python benchmarks/tie_break_study.py`",
        "- accuracy: expectation under uniform tie-breaking; columns in the script's docstring",
        "",
        "## Shared sets",
        "",
        "| set | flat | " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for r in shared:
        lines.append(
            f"| {r['name']} | {'yes' if r['flat'] else ''} | "
            + " | ".join(f"{r[c]:.3f}" for c in COLUMNS)
            + " |"
        )
    s = summary(shared)
    lines.append("| **mean** | | " + " | ".join(f"**{s[c]['mean']:.4f}**" for c in COLUMNS) + " |")
    t = summary(stress)
    lines += [
        "",
        f"## Stress suite ({len(stress)} problems)",
        "",
        "| | " + " | ".join(COLUMNS) + " |",
        "|---|" + "---|" * len(COLUMNS),
        "| mean accuracy | " + " | ".join(f"{t[c]['mean']:.4f}" for c in COLUMNS) + " |",
        "| share at or above MV - 0.5 | "
        + " | ".join(f"{100 * t[c]['share_at_mv']:.1f} %" for c in COLUMNS)
        + " |",
        "",
        "Per family: mean change of `+tb flat` from `default` (points), problems losing / gaining > 0.5:",
        "",
        "| family | change | lose | gain |",
        "|---|---|---|---|",
    ]
    for fam in dict.fromkeys(r["family"] for r in stress):
        d = np.array([r["+tb flat"] - r["default"] for r in stress if r["family"] == fam])
        lines.append(f"| {fam} | {100 * d.mean():+.2f} | {(d < -TIE).sum()} | {(d > TIE).sum()} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    shared = shared_sets()
    with Pool(args.jobs) as pool:
        stress = pool.map(stress_one, all_problems(), chunksize=4)
    rev = revision()
    RESULTS.mkdir(exist_ok=True)
    write_atomic(
        RESULTS / "tie_break.json",
        json.dumps({"revision": rev, "shared": shared, "stress": stress}, indent=1),
    )
    md = to_markdown(shared, stress, rev)
    write_atomic(RESULTS / "tie_break.md", md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
