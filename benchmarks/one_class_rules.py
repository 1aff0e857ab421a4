"""Gold-free rules tried for the coverage reading of one-class LFs, and why they were not kept.

On the stress problems where the reading can apply (k = 2, one-class LFs casting at least half
of the votes) and on the shared k = 2 sets whose LFs vote one class only, this measures:

``chosen (5 families)``
    the simplest family within ``LEAD_SE`` standard errors of the best in one held-out
    log-likelihood choice among mv, one_coin, mace (abstain "not assigned") and
    shared_coverage, mace_coverage (abstain informative for one-class LFs), 3 cold folds: both
    readings are generative models of the whole row (the vote-only one has class-independent
    coverage), scored on the same rows and folds, so their held-out likelihoods compare;
``flagged pairs``, ``drop copies``
    a test of the one-class LFs' firing correlations against a rank-one structure (the
    conditionally independent coverage model makes the oriented correlations ``lambda_i
    lambda_j``; ``lambda_i`` is the median over pairs of other LFs of the triplet estimate,
    robust to a few dependent pairs); pairs with at least 10 co-votes whose excess is beyond a
    Bonferroni 5 % level are flagged, and ``drop copies`` is the accuracy of the default fitted
    after silencing, in each flagged pair, the LF with fewer votes;
``agree``
    the share of training rows on which the two coverage families' fits (estimated balance)
    give the same class.

``default`` is ``LabelModel()`` (the coverage reading where its check passes), ``shared`` is
``LabelModel(one_class="shared")``.

    PYTHONPATH=src python benchmarks/one_class_rules.py      # writes results/one_class_rules.{md,json}
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from scoring import mv_scores, tie_scores
from stress_problems import all_problems, draw

from tripletws import LabelModel
from tripletws.atomic import atomic_write_text
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.family_choice import choose_within_se
from tripletws.estimators.heldout import heldout_row_scores
from tripletws.estimators.one_class import one_class_votes
from tripletws.inference import posterior
from tripletws.matrix import check_label_matrix
from tripletws.models.annotator import ANNOTATOR_MAX_ROWS, one_class_share
from tripletws.rows import RowSummary

RESULTS = Path(__file__).resolve().parent / "results"
FIVE = ("mv", "one_coin", "mace", "shared_coverage", "mace_coverage")
TIE = 0.005


def normal_isf(p: float) -> float:
    """Upper normal quantile by bisection on erfc (no scipy needed)."""
    lo, hi = 0.0, 40.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(mid / math.sqrt(2)) > p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def copy_pairs(rows: RowSummary, min_covotes: int = 10, alpha: float = 0.05) -> tuple[int, list[int]]:
    """Flagged one-class LF pairs (rank-one test of their firing correlations) and the LFs to silence."""
    uni, cls = one_class_votes(rows)
    u = len(uni)
    if u < 4:
        return 0, []
    c = rows.counts.astype(np.float64)
    n = c.sum()
    X = (rows.rows[:, uni] >= 0).astype(np.float64)
    f = c @ X / n
    co = (X * c[:, None]).T @ X
    sd = np.sqrt(np.maximum(f * (1 - f), 1e-300))
    s = np.where(cls == 1, 1.0, -1.0)
    R = (co / n - np.outer(f, f)) / np.outer(sd, sd) * np.outer(s, s)
    lam = np.zeros(u)
    for i in range(u):
        o = np.delete(np.arange(u), i)
        a, den = R[i, o], R[np.ix_(o, o)]
        iu, ju = np.triu_indices(len(o), 1)
        d = den[iu, ju]
        ok = np.abs(d) > 3 / np.sqrt(n)
        if ok.any():
            lam[i] = np.sqrt(max(float(np.median(a[iu][ok] * a[ju][ok] / d[ok])), 0.0))
    iu, ju = np.triu_indices(u, 1)
    idx = np.flatnonzero(co[iu, ju] >= min_covotes)
    if idx.size == 0:
        return 0, []
    z = (R[iu, ju] - lam[iu] * lam[ju]) * np.sqrt(n)
    hits = idx[z[idx] > normal_isf(alpha / idx.size)]
    hits = hits[np.argsort(-z[hits])]
    dropped: set[int] = set()
    for h in hits:
        a, b = int(uni[iu[h]]), int(uni[ju[h]])
        if a not in dropped and b not in dropped:
            dropped.add(a if f[iu[h]] < f[ju[h]] else b)
    return len(hits), sorted(dropped)


def measure(name: str, L: np.ndarray, L_test: np.ndarray, y_test: np.ndarray) -> dict | None:
    k = 2
    rows = RowSummary.from_matrix(check_label_matrix(L, k), ANNOTATOR_MAX_ROWS)
    uni, _ = one_class_votes(rows)
    if uni.size == 0 or one_class_share(rows, uni) < 0.5:
        return None
    out: dict = {"name": name, "mv": tie_scores(mv_scores(L_test, k), y_test, k)[0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(k).fit(L)
        out["default"] = tie_scores(lm.predict_proba(L_test), y_test, k)[0]
        out["accepted"] = bool(lm.one_class_ is not None and lm.one_class_.accepted)
        shared = LabelModel(k, one_class="shared").fit(L)
        out["shared"] = tie_scores(shared.predict_proba(L_test), y_test, k)[0]
        scores = heldout_row_scores(rows, FIVE, n_folds=3, random_state=0)
        out["chosen5"] = choose_within_se(scores, FIVE)[0]
        out["flagged"], drop = copy_pairs(rows)
        L2, T2 = L.copy(), L_test.copy()
        L2[:, drop], T2[:, drop] = -1, -1
        dropped = LabelModel(k).fit(L2)
        ok = dropped.one_class_ is not None and dropped.one_class_.accepted
        out["drop_copies"] = tie_scores(
            dropped.predict_proba(T2) if ok else shared.predict_proba(L_test), y_test, k
        )[0]
        out["n_dropped"] = len(drop)
        lmx = check_label_matrix(L, k)
        a = posterior(lmx, fit_annotator(rows, "shared_coverage").params).argmax(axis=1)
        b = posterior(lmx, fit_annotator(rows, "mace_coverage").params).argmax(axis=1)
        out["agree"] = float(np.mean(a == b))
    return out


def main() -> None:
    from quality_lodo import shared_sets

    res = []
    for p in all_problems():
        if int(p.params["k"]) != 2:
            continue
        L, _, L_test, y_test = draw(p)
        r = measure(p.name, L, L_test, y_test)
        if r is not None:
            res.append(r)
            print(json.dumps({k: v for k, v in r.items()}), flush=True)
    for name, k, L_fit, L_eval, y, _crowd in shared_sets():
        if k == 2:
            r = measure(f"shared:{name}", L_fit, L_eval, y)
            if r is not None:
                res.append(r)
                print(json.dumps(r), flush=True)
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(RESULTS / "one_class_rules.json", json.dumps(res, indent=1) + "\n")
    lines = [
        "# Gold-free rules tried for the coverage reading (see the module docstring)",
        "",
        "`PYTHONPATH=src python benchmarks/one_class_rules.py`. Rows: k = 2 stress problems where",
        "one-class LFs cast at least half of the votes, then the shared sets (`shared:`). Accuracy on",
        "the test draw / eval split; `*`: more than 0.5 points below MV.",
        "",
        "| problem | MV | shared | default | check | chosen (5 families) | flagged pairs "
        "| drop copies (dropped) | agree |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(v: float, mv: float) -> str:
        return f"{v:.3f}{' *' if v < mv - TIE else ''}"

    for r in res:
        lines.append(
            f"| {r['name']} | {r['mv']:.3f} | {cell(r['shared'], r['mv'])} | {cell(r['default'], r['mv'])} | "
            f"{'used' if r['accepted'] else 'off'} | {r['chosen5']} | {r['flagged']} | "
            f"{cell(r['drop_copies'], r['mv'])} ({r['n_dropped']}) | {r['agree']:.2f} |"
        )
    stress = [r for r in res if not r["name"].startswith("shared:")]
    below = {c: sum(r[c] < r["mv"] - TIE for r in stress) for c in ("shared", "default", "drop_copies")}
    cov5 = sum(r["chosen5"].endswith("coverage") for r in stress)
    lines += [
        "",
        f"- stress problems: {len(stress)}; more than 0.5 points below MV: shared {below['shared']}, "
        f"default {below['default']}, drop copies {below['drop_copies']}",
        f"- the 5-family choice picks a coverage family on {cov5} of {len(stress)}",
    ]
    atomic_write_text(RESULTS / "one_class_rules.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
