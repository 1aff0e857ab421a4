"""What class-dependent coverage buys on the shared sets whose LFs vote one class only.

On 8 of the 15 shared sets every LF votes one class only; the default gives those LFs majority
vote's shared accuracy (docs/models.md).  This study fits the ``"mace_coverage"`` family
(abstain informative for one-class LFs, :mod:`tripletws.estimators.one_class`) on the fit split
without gold and scores the eval split, in several readings:

``cov/uni``, ``cov/est``
    the fit with a uniform or an estimated class balance, predicting with it;
``cov/est->uni``
    the table fitted with an estimated balance, predicting with a uniform prior;
``cov/voted``
    ``cov/est`` on rows with a vote, a tie (majority vote's uniform tie-break) on rows without;
``cov/weights``
    only the vote weights: each one-class LF keeps the vote-only reading with ``theta_i =
    max(0, 1 - b_i / a_i)`` (the likelihood ratio of its vote under the coverage fit), a
    uniform prior, the other LFs as in ``mace``;
``cov/best-start``
    EM from majority vote, from one "activity" start per class (every one-class LF fires
    more on that latent class) and from label-rotated starts; the highest likelihood wins,
    its latent classes named by the LFs' orientation (an assignment maximising the
    coverage-weighted firing of each class's LFs on it).

``shared`` is ``LabelModel(one_class="shared")`` (the default until the coverage reading became
the default); ``default`` is ``LabelModel()`` (``one_class="coverage"``): it reads the
coverage for k = 2 when its gold-free check passes (``background z`` and ``used``, from
``one_class_``).  Besides the scores, per set: the
coverage-weighted share of one-class LFs oriented towards their
class under ``cov/est`` (:func:`tripletws.estimators.one_class.orientation`) and the held-out
log-likelihood per row of ``mace_coverage`` minus that of ``mace`` (3 folds, uniform prior).

    PYTHONPATH=src python benchmarks/one_class_study.py     # prints, writes results/one_class.{md,json}
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from quality_lodo import shared_sets
from scoring import mv_scores, tie_scores

from tripletws import LabelModel
from tripletws.atomic import atomic_write_text
from tripletws.estimators.annotator import fit_annotator
from tripletws.estimators.heldout import heldout_loglik
from tripletws.estimators.one_class import coverage_rates, coverage_table, one_class_votes, orientation
from tripletws.inference import posterior
from tripletws.matrix import check_label_matrix
from tripletws.params import LabelModelParams
from tripletws.rows import RowSummary

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = (
    "mv",
    "shared",
    "default",
    "cov/uni",
    "cov/est",
    "cov/est->uni",
    "cov/voted",
    "cov/weights",
    "cov/best-start",
)


def vote_weights(
    params: LabelModelParams, base: LabelModelParams, lfs, classes, coverage
) -> LabelModelParams:
    """``base`` with each one-class LF's vote-only table at ``theta_i = max(0, 1 - b_i / a_i)``."""
    k = params.cardinality
    rates = coverage_rates(params, lfs, classes)
    theta = np.clip(1.0 - rates.off_class / np.maximum(rates.on_class, 1e-12), 0.0, 1.0 - 1e-6)
    cp = base.cond_probs.copy()
    for j, (i, c) in enumerate(zip(lfs, classes, strict=True)):
        ci = max(float(coverage[i]), 1e-6)
        T = np.zeros((k + 1, k))
        T[0] = 1.0 - ci
        T[c + 1] = ci * (1.0 - theta[j])
        T[c + 1, c] = ci
        for y in range(k):
            if y != c:
                T[y + 1, y] = ci * theta[j]
        cp[i] = T
    return LabelModelParams(np.full(k, 1.0 / k), cp)


def named_by_orientation(params: LabelModelParams, lfs, classes, coverage) -> LabelModelParams:
    """Relabel the latent classes so that each class's LFs fire most on it (an assignment)."""
    from scipy.optimize import linear_sum_assignment

    k = params.cardinality
    r = params.cond_probs[lfs, classes + 1, :]  # (u, k): P(votes | latent y)
    excess = coverage[lfs, None] * (r - (r @ params.class_balance)[:, None])
    S = np.stack([excess[classes == c].sum(axis=0) for c in range(k)], axis=1)  # latent x class
    latent, cls = linear_sum_assignment(-S)
    perm = np.empty(k, dtype=np.int64)
    perm[cls] = latent
    return LabelModelParams(params.class_balance[perm], params.cond_probs[:, :, perm].copy())


def best_start(u: RowSummary, lfs, classes, coverage) -> LabelModelParams:
    k = u.cardinality
    first = fit_annotator(u, "mace_coverage")
    fits = [first]
    on = np.clip(2.0 * coverage[lfs], 1e-3, 0.99)
    off = np.clip(0.5 * coverage[lfs], 1e-4, 0.99)
    for c in range(k):
        cp = first.params.cond_probs.copy()
        cp[lfs] = coverage_table(on, off, np.full_like(classes, c), k)
        fits.append(fit_annotator(u, "mace_coverage", init=LabelModelParams(np.full(k, 1.0 / k), cp)))
    for s in range(1, min(k, 3)):
        cp = np.roll(first.params.cond_probs, s, axis=2)
        fits.append(fit_annotator(u, "mace_coverage", init=LabelModelParams(np.full(k, 1.0 / k), cp)))
    top = max(fits, key=lambda f: f.log_likelihood)
    return named_by_orientation(top.params, lfs, classes, coverage)


def run() -> dict:
    out: dict[str, dict] = {}
    for name, k, L_fit, L_eval, y, _crowd in shared_sets():
        u = RowSummary.from_matrix(check_label_matrix(L_fit, k), 10**7)
        lfs, classes = one_class_votes(u)
        voting = np.flatnonzero(np.asarray((L_fit >= 0).any(axis=0)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            default = LabelModel(k, one_class="shared").fit(L_fit)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            on = LabelModel(k).fit(L_fit)
        res: dict[str, object] = {
            "mv": tie_scores(mv_scores(L_eval, k), y, k),
            "shared": tie_scores(default.predict_proba(L_eval), y, k),
            "default": tie_scores(on.predict_proba(L_eval), y, k),
        }
        if lfs.size < voting.size:  # some LF votes several classes: not a one-class set
            out[name] = {"one_class_set": False, **{c: list(v) for c, v in res.items()}}
            continue
        ev = check_label_matrix(L_eval, k)
        coverage = np.asarray((L_fit >= 0).mean(axis=0), dtype=np.float64)
        uniform = np.full(k, 1.0 / k)
        uni = fit_annotator(u, "mace_coverage", class_balance=uniform).params
        est = fit_annotator(u, "mace_coverage").params
        P_est = posterior(ev, est)
        voted = (L_eval >= 0).any(axis=1)
        P_voted = np.where(voted[:, None], P_est, 1.0 / k)
        mace = fit_annotator(u, "mace", class_balance=uniform).params
        weighted = vote_weights(est, mace, lfs, classes, coverage)
        res.update(
            {
                "cov/uni": tie_scores(posterior(ev, uni), y, k),
                "cov/est": tie_scores(P_est, y, k),
                "cov/est->uni": tie_scores(posterior(ev, LabelModelParams(uniform, est.cond_probs)), y, k),
                "cov/voted": tie_scores(P_voted, y, k),
                "cov/weights": tie_scores(posterior(ev, weighted), y, k),
                "cov/best-start": tie_scores(posterior(ev, best_start(u, lfs, classes, coverage)), y, k),
            }
        )
        held = heldout_loglik(u, ("mace", "mace_coverage"), n_folds=3, class_balance=uniform, random_state=0)
        check = on.one_class_
        out[name] = {
            "one_class_set": True,
            "check_z": None if check is None else check.z,
            "check_used": None if check is None else check.accepted,
            **{c: list(v) for c, v in res.items()},
            "orientation_est": orientation(coverage_rates(est, lfs, classes), coverage),
            "heldout_gain": held["mace_coverage"] - held["mace"],
        }
        print(name, " ".join(f"{c} {res[c][0]:.3f}" for c in COLUMNS), flush=True)
    return out


def markdown(rows: dict) -> str:
    sets = [n for n, r in rows.items() if r["one_class_set"]]
    lines = [
        "# Class-dependent coverage on the one-class LF sets",
        "",
        "`PYTHONPATH=src python benchmarks/one_class_study.py`.  Fit split without gold, eval split",
        "scored: accuracy expected under a uniform tie-break / F1 (class 1 for k = 2, macro for k > 2).",
        "Columns: see the module docstring.  `orient.`: coverage-weighted share of one-class LFs",
        "firing more on their class under `cov/est`; `held-out`: held-out log-likelihood per row,",
        "`mace_coverage` minus `mace` (uniform prior).",
        "",
        "| set | " + " | ".join(COLUMNS) + " | orient. | held-out | background z | used |",
        "|---|" + "---|" * (len(COLUMNS) + 4),
    ]
    for n in sets:
        r = rows[n]
        cells = " | ".join(f"{r[c][0]:.3f} / {r[c][1]:.3f}" for c in COLUMNS)
        z = "-" if r["check_z"] is None or not np.isfinite(r["check_z"]) else f"{r['check_z']:+.1f}"
        lines.append(
            f"| {n} | {cells} | {r['orientation_est']:.2f} | {r['heldout_gain']:+.3f} | {z} | "
            f"{'yes' if r['check_used'] else 'no'} |"
        )
    mean8 = {c: np.mean([rows[n][c][0] for n in sets]) for c in COLUMNS}
    lines += ["| **mean, these sets** | " + " | ".join(f"{mean8[c]:.3f}" for c in COLUMNS) + " | | | | |"]
    # the 15-set mean if each column replaced the default on these sets only
    others = [n for n in rows if n not in sets]
    mean15 = {
        c: np.mean([rows[n][c][0] for n in sets] + [rows[n]["shared"][0] for n in others]) for c in COLUMNS
    }
    lines += [
        "| **mean, 15 sets** (shared elsewhere) | "
        + " | ".join(f"{mean15[c]:.4f}" for c in COLUMNS)
        + " | | | | |",
        "",
    ]
    for c in COLUMNS[2:]:
        worst = min(rows[n][c][0] - rows[n]["mv"][0] for n in sets)
        worst_f1 = min(rows[n][c][1] - rows[n]["mv"][1] for n in sets)
        lines.append(f"- `{c}`: worst accuracy vs MV {worst:+.3f}, worst F1 vs MV {worst_f1:+.3f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    rows = run()
    md = markdown(rows)
    print(md)
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(RESULTS / "one_class.md", md)
    atomic_write_text(RESULTS / "one_class.json", json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
