"""Study: read class-dependent coverage of multi-class LFs behind gold-free guards (a prototype).

For every stress problem (benchmarks/stress_problems.py) the default ``LabelModel()`` is fitted; where
its one-class coverage check did not accept, the abstain-informative families ("mace_abstain",
"ds_abstain", each with a uniform and an estimated class balance) are scored by cross-fitted held-out
log-likelihood on the same 3 folds as the vote-only candidates, and the best of them replaces the
default's fit only when

(a) it leads the vote-only choice by more than ``LEAD_SE`` standard errors of the paired per-row
    difference (held-out rows, the same folds);
(b) a ``k + 1``-th latent class of the same family (estimated balance) gains no significant held-out
    likelihood (z <= ``BACKGROUND_Z``, the coverage check's test);
(c) on clear rows (majority wins by >= 2 votes) it keeps the majority not significantly less often
    than the vote-only fit (McNemar, continuity-corrected, at ``LEAD_SE``).

Prints per-problem results and a summary (mean accuracy, share at/above MV - 0.5 points) for the
default and for the candidate guarded by (a), (b) and (c) ("new"), and writes JSON lines with
``--out``, which also hold what other guards need (``silenced``: classes clear rows name that the
candidate never predicts on them, the test the library uses instead of (c); ``mc_share``: share of
the votes cast by LFs that vote several classes; clear rows kept), so that variants can be scored
from the file.  ``--real DATA_DIR INDEX_JSON`` runs real label matrices instead of the stress suite.

    PYTHONPATH=src python benchmarks/mc_abstain_study.py --families class_abstain mixed
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scoring import mv_scores, tie_scores  # noqa: E402
from stress_problems import all_problems, draw  # noqa: E402

from tripletws import LabelModel  # noqa: E402
from tripletws.estimators.abstain_check import _background  # noqa: E402
from tripletws.estimators.annotator_design import _Design  # noqa: E402
from tripletws.estimators.balance_check import clear_rows  # noqa: E402
from tripletws.estimators.coverage_check import BACKGROUND_Z, _gain  # noqa: E402
from tripletws.estimators.family_choice import CANDIDATES, LEAD_SE, choose_within_se  # noqa: E402
from tripletws.estimators.heldout import HeldOutScores, heldout_row_scores  # noqa: E402
from tripletws.rows import RowSummary  # noqa: E402

INFORMATIVE = ("mace_abstain", "ds_abstain")
MAX_ROWS = 20_000


def summary_of(L: np.ndarray, k: int) -> RowSummary:
    rows, counts = np.unique(L.astype(np.int8), axis=0, return_counts=True)
    if len(rows) > MAX_ROWS:  # keep the most frequent rows (prototype only)
        keep = np.argsort(-counts, kind="stable")[:MAX_ROWS]
        rows, counts = rows[keep], counts[keep]
    return RowSummary(k, rows, counts.astype(np.float64), float(len(L)), MAX_ROWS)


def guarded(u: RowSummary) -> dict:
    """The guarded choice on distinct rows ``u``: a record with the decision and the candidate's params."""
    k = u.cardinality
    uni = np.full(k, 1.0 / k)
    fits: dict = {}
    s_u = heldout_row_scores(
        u, (*CANDIDATES, *INFORMATIVE), n_folds=3, class_balance=uni, random_state=0, fits=fits
    )
    fits_e: dict = {}
    s_e = heldout_row_scores(u, INFORMATIVE, n_folds=3, class_balance=None, random_state=0, fits=fits_e)
    assert np.array_equal(s_u.folds, s_e.folds)
    ll = dict(s_u.row_loglik)
    allfits = dict(fits)
    for f in INFORMATIVE:
        ll[f + "+est"] = s_e.row_loglik[f]
        allfits[f + "+est"] = fits_e[f]
    scores = HeldOutScores(s_u.folds, ll)
    chosen, _, _ = choose_within_se(scores, CANDIDATES)
    names = [f for f in ll if f not in CANDIDATES]
    cand = max(names, key=scores.mean)
    lead, se = scores.lead(cand, chosen)
    rec = {
        "chosen": chosen,
        "cand": cand,
        "lead": lead,
        "se": se,
        "z_lead": lead / se if se > 0 else float("inf"),
    }
    rec["a"] = bool(np.isfinite(lead) and lead > LEAD_SE * se)
    fam = cand.split("+")[0]
    bg = _background(u, fam, s_u.folds)
    ref = ll[fam + "+est"]
    gain, z = _gain(s_u.folds, ref, bg)
    rec["bg_gain"], rec["bg_z"] = gain, z
    rec["b"] = bool(z <= BACKGROUND_Z)
    clear, majority = clear_rows(u)
    Dv = _Design(u.rows, k, abstain=False)
    Di = _Design(u.rows, k, abstain=True)
    keep_v = clear & (Dv.log_scores(allfits[chosen].params).argmax(axis=1) == majority)
    keep_c = clear & (Di.log_scores(allfits[cand].params).argmax(axis=1) == majority)
    gained = float(u.counts[keep_c & ~keep_v].sum())
    lost = float(u.counts[keep_v & ~keep_c].sum())
    rec["gained"], rec["lost"] = gained, lost
    rec["n_clear"], rec["kept_v"], rec["kept_c"] = (float(u.counts[x].sum()) for x in (clear, keep_v, keep_c))
    rec["c"] = not (lost - gained - 1.0 > LEAD_SE * math.sqrt(gained + lost))
    # classes that clear rows name but the candidate never predicts on them (a collapse, balance_check's test)
    pred = Di.log_scores(allfits[cand].params).argmax(axis=1)
    seen = clear & (u.counts > 0)
    rec["silenced"] = np.setdiff1d(np.unique(majority[seen]), np.unique(pred[seen])).tolist()
    # share of the votes cast by LFs that vote several classes
    voted = np.stack([(u.counts[:, None] * (u.rows == y)).sum(axis=0) for y in range(k)])  # (k, m)
    multi = (voted > 0).sum(axis=0) >= 2
    rec["mc_share"] = float(voted[:, multi].sum() / max(voted.sum(), 1e-300))
    rec["params"] = allfits[cand].params
    return rec


def posterior(params, L: np.ndarray) -> np.ndarray:
    k = params.cardinality
    rows, inv = np.unique(L.astype(np.int8), axis=0, return_inverse=True)
    s = _Design(rows, k, abstain=True).log_scores(params)
    s -= s.max(axis=1, keepdims=True)
    P = np.exp(s)
    P /= P.sum(axis=1, keepdims=True)
    return P[inv.reshape(-1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--families", nargs="*", default=None)
    ap.add_argument("--names", nargs="*", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument(
        "--real",
        nargs=2,
        metavar=("DATA_DIR", "INDEX_JSON"),
        default=None,
        help="real label matrices instead: DATA_DIR/<name>/{train,<eval split>}.npz and an index "
        "{name: {k, eval_split, fit_split?}}",
    )
    a = ap.parse_args()
    if a.real:
        root, index = Path(a.real[0]), json.loads(Path(a.real[1]).read_text())
        probs = []
        for name, meta in index.items():
            d = root / name
            ev = meta["eval_split"]
            fs = meta.get("fit_split") or ("train" if (d / "train.npz").exists() else ev)
            probs.append((name, int(meta["k"]), d / f"{fs}.npz", d / f"{ev}.npz"))
    else:
        probs = [
            p
            for p in all_problems()
            if (a.families is None or p.family in a.families) and (a.names is None or p.name in a.names)
        ]
    fh = open(a.out, "w") if a.out else None
    rows = []
    for p in probs:
        if a.real:
            name, k, ff, ef = p
            L = np.load(ff)["L"].astype(np.int64)
            e = np.load(ef)
            Lt, yt = e["L"].astype(np.int64), e["y"].astype(np.int64)
            Lt, yt = Lt[yt >= 0], yt[yt >= 0]
        else:
            name, k = p.name, int(p.params["k"])
            L, _, Lt, yt = draw(p)
        mv, mv_f1 = tie_scores(mv_scores(Lt, k), yt, k)
        t0 = time.process_time()
        lm = LabelModel(cardinality=k).fit(L)
        t_def = time.process_time() - t0
        d_acc, d_f1 = tie_scores(lm.predict_proba(Lt), yt, k)
        est = lm.estimate_
        oc = getattr(est, "one_class", None)
        rec = {
            "name": name,
            "k": k,
            "mv": mv,
            "default": d_acc,
            "new": d_acc,
            "mv_f1": mv_f1,
            "default_f1": d_f1,
            "new_f1": d_f1,
            "used": False,
            "t_def": t_def,
        }
        if oc is not None and oc.accepted:
            rec["skip"] = "coverage accepted"
        else:
            t0 = time.process_time()
            u = summary_of(L, k)
            g = guarded(u)
            rec["t_guard"] = time.process_time() - t0
            params = g.pop("params")
            g_acc, g_f1 = tie_scores(posterior(params, Lt), yt, k)
            rec.update(g)
            rec["cand_acc"], rec["cand_f1"] = g_acc, g_f1
            if g["a"] and g["b"] and g["c"]:
                rec["used"], rec["new"], rec["new_f1"] = True, g_acc, g_f1
        rows.append(rec)
        print(
            f"{name:18s} k={k:2d} mv={mv:.3f} def={d_acc - mv:+.3f} "
            f"cand={rec.get('cand_acc', np.nan) - mv:+.3f} "
            f"{rec.get('cand', '-'):16s} a={rec.get('a', '-')}({rec.get('z_lead', np.nan):.1f}) "
            f"b={rec.get('b', '-')}({rec.get('bg_z', np.nan):.1f}) c={rec.get('c', '-')}"
            f"({rec.get('gained', 0):g}/{rec.get('lost', 0):g}) used={rec['used']} "
            f"new={rec['new'] - mv:+.3f}",
            flush=True,
        )
        if fh:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
    for key in ("default", "new"):
        x = np.array([r[key] for r in rows])
        m = np.array([r["mv"] for r in rows])
        share = np.mean(x >= m - 0.005) * 100
        print(f"{key:8s} mean {x.mean():.4f}  at/above MV-0.5: {share:.1f} %  (n={len(rows)})")


if __name__ == "__main__":
    main()
