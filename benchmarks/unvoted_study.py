"""The abstain reading on rows without votes: how much of its gain and loss they carry, and gates.

Where the default reads every LF's abstentions as informative (estimators/abstain_check.py), a row
on which no LF votes gets the class most likely to make every LF abstain (the fitted coverage
tables), where majority vote ties every class and the vote-only fit says its prior.  For every
stress problem (benchmarks/stress_problems.py) the default is fitted on the train rows; where the
reading is accepted, the fit without it (the abstain check refused, as benchmarks/worst_losses.py
does) is made too, and both are scored on the test rows' gold (benchmarks/scoring.py) separately
on the rows with a vote and on the rows without one.

Variants for the unvoted rows only (the voted rows keep the reading's posterior):

* ``prior``: the vote-only fit's posterior there (its prior);
* ``shrink w``: the log-posterior ``w * log P_reading + (1 - w) * log P_vote_only`` there, one
  constant w for all problems, chosen on 11 families and scored on the 12th;
* ``gate=F``: the reading's posterior there where a gold-free feature F is above a threshold, else
  the vote-only fit's; the threshold is chosen on 11 families (the one that maximises the count at
  or above MV - 0.5, then the mean) and scored on the 12th (leave one family out).

Gold-free features of an accepted fit, from the train rows and the fitted tables only:

* ``cov_gain``: on the clear rows (majority ahead by >= 2 votes), the share on which the posterior
  from the row's abstain pattern alone (which LFs vote, not what) names the majority, minus the
  share of the clear rows' most frequent majority class (the best constant);
* ``unvoted_agree``: the share of the clear rows whose majority is the class the reading names on
  an unvoted row, minus the best constant's share;
* ``u_train``: the share of train rows without a vote;
* ``estimated``: 1 where the reading's class balance is estimated, else 0.

Each gate is tried both ways: ``gate=F`` keeps the reading where F is above the threshold,
``gate=-F`` where it is at or below.

    PYTHONPATH=src python benchmarks/unvoted_study.py            # all 312 problems, ~5 min CPU
    PYTHONPATH=src python benchmarks/unvoted_study.py --render benchmarks/results/unvoted.json

Writes benchmarks/results/unvoted.{json,md} (``--out`` changes the path).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from provenance import revision  # noqa: E402
from scoring import mv_scores, row_correct, tie_scores  # noqa: E402
from stress_problems import FAMILIES, all_problems, draw  # noqa: E402
from worst_losses import Probe  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402

RESULTS = HERE / "results"
TIE = 0.005  # the stress suite's tie: 0.5 points
#: Shrinkage strengths w of the reading's log-posterior toward the vote-only fit's on unvoted rows.
WEIGHTS = tuple(float(w) for w in np.linspace(0.0, 1.0, 21))
FEATURES = ("cov_gain", "unvoted_agree", "u_train", "estimated")


def features(L: np.ndarray, k: int, cond_probs: np.ndarray, prior: np.ndarray) -> dict[str, float]:
    """Gold-free features of an accepted reading (see the module docstring)."""
    votes = mv_scores(L, k)
    top2 = np.sort(votes, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] >= 2
    voted = (L >= 0).any(axis=1)
    la = np.log(np.maximum(cond_probs[:, 0, :], 1e-300))  # (m, k) log P(abstain | y)
    lv = np.log(np.maximum(1.0 - cond_probs[:, 0, :], 1e-300))  # log P(votes | y)
    lp = np.log(np.maximum(prior, 1e-300))
    unvoted_class = int(np.argmax(lp + la.sum(axis=0)))
    out = {"u_train": float(np.mean(~voted)), "n_clear": int(clear.sum())}
    if not clear.any():
        out.update(cov_gain=float("nan"), unvoted_agree=float("nan"))
        return out
    maj = votes[clear].argmax(axis=1)
    shares = np.bincount(maj, minlength=k) / clear.sum()
    V = (L[clear] >= 0).astype(np.float64)
    s = lp + V @ lv + (1.0 - V) @ la  # (n_clear, k): the abstain pattern alone
    out["cov_gain"] = float(np.mean(row_correct(s, maj))) - float(shares.max())
    out["unvoted_agree"] = float(shares[unvoted_class]) - float(shares.max())
    return out


def run_problem(problem: Any) -> dict[str, Any]:
    """The default on one problem; where the abstain reading is accepted, the fit without it and the
    scores on the test rows with and without a vote."""
    from tripletws import LabelModel

    k = int(problem.params["k"])
    L, _, L_test, y_test = draw(problem)
    mv_acc = tie_scores(mv_scores(L_test, k), y_test, k)[0]
    probe = Probe()
    out: dict[str, Any] = {"name": problem.name, "family": problem.family, "n": len(L), "m": L.shape[1]}
    out.update(k=k, mv=mv_acc)
    with warnings.catch_warnings(), probe.installed():
        warnings.simplefilter("ignore")
        lm = LabelModel(cardinality=k).fit(L)
        P = lm.predict_proba(L_test)
        out["default"] = tie_scores(P, y_test, k)[0]
        rec = probe.record.get("abstain")
        out["accepted"] = bool(rec and rec.get("accepted"))
        if not out["accepted"]:
            return out
        out["abstain"] = {key: rec[key] for key in ("family", "balance", "lead", "lead_se", "z")}
        probe.refuse = {"abstain"}
        lm0 = LabelModel(cardinality=k).fit(L)
        P0 = lm0.predict_proba(L_test)
    voted = (L_test >= 0).any(axis=1)
    mv_c = row_correct(mv_scores(L_test, k), y_test)
    c1, c0 = row_correct(P, y_test), row_correct(P0, y_test)
    n = len(y_test)
    out["u_test"] = float(np.mean(~voted))
    # summed correctness (per test row) on each row set: the reading, the vote-only fit, MV
    for name, c in (("read", c1), ("vote_only", c0), ("mv_rows", mv_c)):
        out[f"{name}_voted"] = float(c[voted].sum() / n)
        out[f"{name}_unvoted"] = float(c[~voted].sum() / n)
    out["no_abstain"] = float(c0.mean())
    out["best_unvoted"] = best_unvoted(L_test, y_test, k)
    if (~voted).any():  # every unvoted row has the same posterior under each fit
        lr, l0 = np.log(np.maximum(P[~voted][0], 1e-300)), np.log(np.maximum(P0[~voted][0], 1e-300))
        yu = y_test[~voted]
        out["shrink_unvoted"] = [
            float(row_correct(np.tile(w * lr + (1.0 - w) * l0, (len(yu), 1)), yu).sum() / n) for w in WEIGHTS
        ]
    else:
        out["shrink_unvoted"] = [0.0] * len(WEIGHTS)
    out.update(features(L, k, lm.get_conditional_probs(), np.asarray(lm.class_balance_, dtype=float)))
    out["estimated"] = float(rec["balance"] == "estimated")
    return out


def best_unvoted(L_test: np.ndarray, y_test: np.ndarray, k: int) -> float:
    """Summed correctness (per test row) on the unvoted test rows of the best single class, picked
    with gold: every unvoted row has the same input, so no prediction made from the fitted
    parameters scores higher there (an upper bound for every variant)."""
    unvoted = ~(L_test >= 0).any(axis=1)
    return float(np.bincount(y_test[unvoted], minlength=k).max() / len(y_test))


# ------------------------------------------------------------------ analysis


def variant_acc(p: dict[str, Any], use_reading: bool) -> float:
    """The default's accuracy with the unvoted rows given the reading's (True) or the vote-only
    fit's (False) posterior; the voted rows keep the reading's."""
    if not p["accepted"]:
        return p["default"]
    return p["read_voted"] + (p["read_unvoted"] if use_reading else p["vote_only_unvoted"])


def shrunk(probs: list[dict[str, Any]], j: int) -> list[float]:
    """Accuracies with the unvoted rows given the shrunk posterior at ``WEIGHTS[j]``."""
    return [p["read_voted"] + p["shrink_unvoted"][j] if p["accepted"] else p["default"] for p in probs]


def suite(probs: list[dict[str, Any]], accs: list[float]) -> tuple[float, int]:
    """(mean accuracy, count at or above MV - 0.5 points)."""
    return float(np.mean(accs)), int(sum(a >= p["mv"] - TIE for p, a in zip(probs, accs, strict=True)))


def value(p: dict[str, Any], feat: str) -> float:
    """Feature ``feat`` of a problem; ``"-F"``: minus feature F (nan where not recorded)."""
    if feat.startswith("-"):
        return -value(p, feat[1:])
    if feat == "estimated" and feat not in p and p["accepted"]:
        return float(p["abstain"]["balance"] == "estimated")
    return float(p.get(feat, float("nan")))


def gate(p: dict[str, Any], feat: str, thr: float) -> bool:
    """Whether the reading keeps the unvoted rows: the feature above ``thr`` (nan: no)."""
    v = value(p, feat)
    return bool(np.isfinite(v) and v > thr)


def choose(probs: list[dict[str, Any]], feat: str) -> float:
    """The threshold (-inf: keep all) maximising the count at or above MV - 0.5, then the mean."""
    vals = sorted({value(p, feat) for p in probs if p["accepted"] and np.isfinite(value(p, feat))})
    cands = [-np.inf, *vals]
    best, key = -np.inf, None
    for t in cands:
        mean, cnt = suite(probs, [variant_acc(p, gate(p, feat, t)) for p in probs])
        kk = (cnt, round(mean, 10))
        if key is None or kk > key:
            best, key = t, kk
    return best


def analyse(probs: list[dict[str, Any]]) -> dict[str, Any]:
    acc = [p for p in probs if p["accepted"]]
    res: dict[str, Any] = {"n_problems": len(probs), "accepted": len(acc)}
    # where the reading's effect comes from
    gain_v = [p["read_voted"] - p["vote_only_voted"] for p in acc]
    gain_u = [p["read_unvoted"] - p["vote_only_unvoted"] for p in acc]
    total = [a + b for a, b in zip(gain_v, gain_u, strict=True)]
    split = {}
    for name, sel in (("gains", [t > TIE for t in total]), ("losses", [t < -TIE for t in total])):
        split[name] = {
            "count": int(sum(sel)),
            "voted_pts": 100 * float(sum(g for g, s in zip(gain_v, sel, strict=True) if s)),
            "unvoted_pts": 100 * float(sum(g for g, s in zip(gain_u, sel, strict=True) if s)),
        }
    split["all"] = {
        "count": len(acc),
        "voted_pts": 100 * float(sum(gain_v)),
        "unvoted_pts": 100 * float(sum(gain_u)),
    }
    res["split"] = split
    res["per_problem"] = sorted(
        (
            {
                "name": p["name"],
                "m": p["m"],
                "k": p["k"],
                "u_test": p["u_test"],
                "effect": 100 * t,
                "voted": 100 * gv,
                "unvoted": 100 * gu,
                "default_mv": 100 * (p["default"] - p["mv"]),
                **{f: value(p, f) for f in FEATURES},
            }
            for p, t, gv, gu in zip(acc, total, gain_v, gain_u, strict=True)
        ),
        key=lambda r: r["effect"],
    )
    base = suite(probs, [variant_acc(p, True) for p in probs])
    prior = suite(probs, [variant_acc(p, False) for p in probs])
    rows = [{"variant": "default (reading on unvoted rows)", "mean": base[0], "at_or_above": base[1]}]
    rows.append(
        {"variant": "prior (vote-only fit on unvoted rows)", "mean": prior[0], "at_or_above": prior[1]}
    )
    pick = suite(probs, [max(variant_acc(p, True), variant_acc(p, False)) for p in probs])
    rows.append(
        {
            "variant": "oracle gate (the better of the two per problem, gold)",
            "mean": pick[0],
            "at_or_above": pick[1],
        }
    )
    bound = suite(
        probs, [p["read_voted"] + p["best_unvoted"] if p["accepted"] else p["default"] for p in probs]
    )
    ws = {}
    for fam in FAMILIES:
        train = [p for p in probs if p["family"] != fam]
        ws[fam] = max(
            range(len(WEIGHTS)), key=lambda j, train=train: (*suite(train, shrunk(train, j))[::-1],)
        )
    lo = suite(probs, [shrunk([p], ws[p["family"]])[0] for p in probs])
    j_in = max(range(len(WEIGHTS)), key=lambda j: (*suite(probs, shrunk(probs, j))[::-1],))
    ins = suite(probs, shrunk(probs, j_in))
    rows.append(
        {
            "variant": "shrink w (one constant)",
            "in_sample_threshold": WEIGHTS[j_in],
            "mean_in_sample": ins[0],
            "at_or_above_in_sample": ins[1],
            "mean": lo[0],
            "at_or_above": lo[1],
            "lofo_thresholds": {f: WEIGHTS[j] for f, j in ws.items()},
        }
    )
    best_w = suite(
        probs,
        [
            max(shrunk([p], j)[0] for j in range(len(WEIGHTS))) if p["accepted"] else p["default"]
            for p in probs
        ],
    )
    rows.append(
        {"variant": "oracle shrink (best w per problem, gold)", "mean": best_w[0], "at_or_above": best_w[1]}
    )
    rows.append(
        {
            "variant": "bound (best single class on unvoted rows, gold)",
            "mean": bound[0],
            "at_or_above": bound[1],
        }
    )
    for feat in [g for f in FEATURES for g in (f, f"-{f}")]:
        t_in = choose(probs, feat)
        ins = suite(probs, [variant_acc(p, gate(p, feat, t_in)) for p in probs])
        lofo_acc = {}
        thrs = {}
        for fam in FAMILIES:
            train = [p for p in probs if p["family"] != fam]
            t = choose(train, feat)
            thrs[fam] = t
            for p in probs:
                if p["family"] == fam:
                    lofo_acc[p["name"]] = variant_acc(p, gate(p, feat, t))
        lo = suite(probs, [lofo_acc[p["name"]] for p in probs])
        rows.append(
            {
                "variant": f"gate={feat}",
                "in_sample_threshold": t_in,
                "mean_in_sample": ins[0],
                "at_or_above_in_sample": ins[1],
                "mean": lo[0],
                "at_or_above": lo[1],
                "lofo_thresholds": thrs,
            }
        )
    res["variants"] = rows
    return res


def _f(v: float, nd: int = 3) -> str:
    return "-inf" if v == -np.inf else ("nan" if not np.isfinite(v) else f"{v:.{nd}f}")


def to_markdown(res: dict[str, Any]) -> str:
    a = res["analysis"]
    n = a["n_problems"]
    out = [
        "# The abstain reading on rows without votes (stress suite)",
        "",
        f"- command: `{res['command']}`",
        f"- code: tripletws @ {res['revision']}; {res['date']}",
        f"- {n} problems; the abstain reading accepted on {a['accepted']}",
        "- effect: the default's test accuracy minus the fit without the reading (points), split into",
        "  the rows with a vote and the rows without one (each summed over its rows / all test rows)",
        "",
        "## Where the reading's effect comes from",
        "",
        "| problems | count | on voted rows (pts, summed) | on unvoted rows (pts, summed) |",
        "|---|---|---|---|",
    ]
    labels = {
        "gains": "gains (effect > 0.5 pts)",
        "losses": "losses (effect < -0.5 pts)",
        "all": "all accepted",
    }
    for key, s in a["split"].items():
        v, u = s["voted_pts"], s["unvoted_pts"]
        out.append(f"| {labels[key]} | {s['count']} | {v:+.1f} | {u:+.1f} |")
    out += [
        "",
        "## Problems where the reading acts on unvoted rows (|unvoted part| >= 0.5 pts) or loses",
        "",
        "Worst first; features: see the script's docstring.",
        "",
        "| problem | m | k | unvoted test share | effect | voted | unvoted | default - MV | "
        + " | ".join(FEATURES)
        + " |",
        "|---|---|---|---|---|---|---|---|" + "---|" * len(FEATURES),
    ]
    for r in a["per_problem"]:
        if abs(r["unvoted"]) >= 50 * TIE or r["effect"] < -100 * TIE:
            out.append(
                f"| {r['name']} | {r['m']} | {r['k']} | {r['u_test']:.3f} | {r['effect']:+.1f} "
                f"| {r['voted']:+.1f} | {r['unvoted']:+.1f} | {r['default_mv']:+.1f} | "
                + " | ".join(_f(r[f]) for f in FEATURES)
                + " |"
            )
    out += [
        "",
        "## Variants for the unvoted rows (suite of all problems)",
        "",
        f"Mean test accuracy and count at or above MV - 0.5 points (of {n}); gates: threshold chosen on",
        "11 families (most at or above MV - 0.5, then mean), scored on the 12th.",
        "",
        "| variant | mean | at or above MV - 0.5 | in-sample threshold (w) | in-sample mean / count |",
        "|---|---|---|---|---|",
    ]
    for r in a["variants"]:
        ins = (
            f"{_f(r['in_sample_threshold'])} | {r['mean_in_sample']:.4f} / {r['at_or_above_in_sample']}"
            if "in_sample_threshold" in r
            else "- | -"
        )
        share = 100 * r["at_or_above"] / n
        out.append(f"| {r['variant']} | {r['mean']:.4f} | {r['at_or_above']} ({share:.1f} %) | {ins} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--families", nargs="*", choices=FAMILIES)
    ap.add_argument("--problems", nargs="*")
    ap.add_argument("--out", default=str(RESULTS / "unvoted.json"))
    ap.add_argument("--render", help="only re-analyse and re-render a results json")
    args = ap.parse_args(argv)
    if args.render:
        res = json.loads(Path(args.render).read_text())
        by_name = {p.name: p for p in all_problems()}
        for r in res["problems"]:
            if r["accepted"] and "best_unvoted" not in r:  # results written before the field
                _, _, L_test, y_test = draw(by_name[r["name"]])
                r["best_unvoted"] = best_unvoted(L_test, y_test, r["k"])
        res["analysis"] = analyse(res["problems"])
        atomic_write_text(Path(args.render), json.dumps(res, separators=(",", ":")))
        atomic_write_text(Path(args.render).with_suffix(".md"), to_markdown(res))
        return 0
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:
        pass
    problems = [
        p
        for p in all_problems()
        if (not args.families or p.family in args.families) and (not args.problems or p.name in args.problems)
    ]
    rows = []
    for i, p in enumerate(problems):
        rows.append(run_problem(p))
        if rows[-1]["accepted"]:
            r = rows[-1]
            gv = 100 * (r["read_voted"] - r["vote_only_voted"])
            gu = 100 * (r["read_unvoted"] - r["vote_only_unvoted"])
            print(f"[{i + 1}/{len(problems)}] {p.name}: voted {gv:+.1f} unvoted {gu:+.1f}", flush=True)
    res = {
        "command": "python benchmarks/unvoted_study.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "revision": revision(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "problems": rows,
    }
    res["analysis"] = analyse(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(res, separators=(",", ":")))
    atomic_write_text(out.with_suffix(".md"), to_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
