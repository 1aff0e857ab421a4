"""Gold-free features of the default's one-class readings on a stress suite, with the fit refused.

For every stress problem of the suite ``--base-seed`` (benchmarks/stress_problems.py) the default
``LabelModel`` is fitted on the train rows under :class:`worst_losses.Probe`; where the abstain
reading (estimators/abstain_check.py) or the coverage reading (estimators/coverage_check.py) was
accepted, the fit is redone with that reading refused.  Recorded per problem: test accuracy of MV,
of the default and of the refused fit (benchmarks/scoring.py), and gold-free features of both fits
on the train rows (their predicted class shares, how often they agree, how many clear majorities
-- rows whose majority wins by >= 2 votes -- each keeps, per class).  The study of guards
(``--analyse``) reads these files; no gold enters a feature.  The study behind docs/models.md, "What
did not work (issue 7)", "A stricter majority test for the abstain reading".

    PYTHONPATH=src python benchmarks/tail_guard_study.py --base-seed 20270601 --jobs 2
    PYTHONPATH=src python benchmarks/tail_guard_study.py --analyse /tmp/tail_2026*.json /tmp/tail_2027*.json \
        /tmp/tail_2028*.json --fixed 0.75

Writes ``--out`` (default /tmp/tail_<seed>.json): exploration data, not a results file.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scoring import mv_scores, tie_scores  # noqa: E402
from stress_problems import all_problems, draw  # noqa: E402
from worst_losses import Probe  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402


def _fit(
    probe: Probe, k: int, L: np.ndarray, L_test: np.ndarray, y_test: np.ndarray
) -> tuple[float, np.ndarray]:
    from tripletws import LabelModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(cardinality=k).fit(L)
        acc, _ = tie_scores(lm.predict_proba(L_test), y_test, k)
        P = lm.predict_proba(L)
    return acc, P


def _shape(P: np.ndarray, L: np.ndarray, k: int) -> dict[str, Any]:
    """Gold-free description of a fit's predictions ``P`` (n, k) on the train rows ``L``."""
    pred = P.argmax(axis=1)
    votes = mv_scores(L, k)
    top = np.sort(votes, axis=1)
    clear = top[:, -1] - top[:, -2] >= 2
    maj = votes.argmax(axis=1)
    kept = []
    for c in range(k):
        sel = clear & (maj == c)
        kept.append([int(sel.sum()), int((sel & (pred == c)).sum())])
    return {
        "shares": (np.bincount(pred, minlength=k) / len(pred)).tolist(),
        "kept": kept,  # per class c: [clear rows with majority c, of which predicted c]
        "pred": pred,
    }


def run_problem(problem: Any) -> dict[str, Any]:
    k = int(problem.params["k"])
    L, _, L_test, y_test = draw(problem)
    mv_acc, _ = tie_scores(mv_scores(L_test, k), y_test, k)
    votes = mv_scores(L, k)
    top = np.sort(votes, axis=1)
    untied = (top[:, -1] > top[:, -2]) & (top[:, -1] > 0)
    out: dict[str, Any] = {
        "name": problem.name,
        "family": problem.family,
        "n": int(L.shape[0]),
        "m": int(L.shape[1]),
        "k": k,
        "coverage": float(np.mean(L >= 0)),
        "mv": mv_acc,
        "mv_shares": (np.bincount(votes[untied].argmax(axis=1), minlength=k) / max(untied.sum(), 1)).tolist(),
        "voted": float(np.mean((L >= 0).any(axis=1))),
    }
    probe = Probe()
    with probe.installed():
        acc, P = _fit(probe, k, L, L_test, y_test)
        rec = dict(probe.record)
        out["default"] = acc
        d = _shape(P, L, k)
        pred_d = d.pop("pred")
        out["def_shape"] = d
        out["selection"] = rec.get("selection", {}).get("chosen")
        out["abstain"] = rec.get("abstain")
        out["coverage_read"] = rec.get("coverage", {}).get("accepted", False)
        for part in ("abstain", "coverage"):
            if (rec.get(part) or {}).get("accepted"):
                probe.refuse = {part}
                acc_r, P_r = _fit(probe, k, L, L_test, y_test)
                r = _shape(P_r, L, k)
                pred_r = r.pop("pred")
                out[f"no_{part}"] = acc_r
                out[f"no_{part}_shape"] = r
                out[f"no_{part}_agree"] = float(np.mean(pred_r == pred_d))
                out["def_agree_mv"] = float(np.mean(pred_d[untied] == votes[untied].argmax(axis=1)))
                probe.refuse = set()
    return out


def _init() -> None:
    try:
        from threadpoolctl import threadpool_limits

        _init.limiter = threadpool_limits(limits=1)  # type: ignore[attr-defined]
    except ImportError:
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-seed", type=int, default=20261201)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out")
    ap.add_argument(
        "--analyse", nargs="*", help="study files written before: print the kept-clear rule's figures"
    )
    ap.add_argument("--fixed", type=float, default=0.75, help="the KEPT_CLEAR bar reported (--analyse)")
    args = ap.parse_args(argv)
    if args.analyse:
        analyse(args.analyse, np.round(np.arange(0.5, 0.9001, 0.005), 3), args.fixed)
        return 0
    problems = all_problems(args.base_seed)
    with mp.get_context("fork").Pool(args.jobs, initializer=_init) as pool:
        rows = pool.map(run_problem, problems, chunksize=1)
    out = Path(args.out or f"/tmp/tail_{args.base_seed}.json")
    atomic_write_text(out, json.dumps({"base_seed": args.base_seed, "problems": rows}))
    print(f"wrote {out}: {len(rows)} problems")
    return 0


# --------------------------------------------------------------------------- analysis

TIE = 0.005  # the stress suite's tie: 0.5 points
CATASTROPHE = 0.10  # a loss of more than 10 points against MV


def kept_ratio(kept: list[list[int]], how: str) -> float:
    """The share of clear majorities a fit keeps: ``"all"`` (counted), ``"min"`` (the lowest per-class
    share among classes with >= 1 clear row) or ``"top"`` (the class with the most clear rows)."""
    k = np.array(kept, dtype=float)
    has = k[:, 0] > 0
    if not has.any():
        return float("nan")
    if how == "all":
        return float(k[:, 1].sum() / k[:, 0].sum())
    if how == "min":
        return float((k[has, 1] / k[has, 0]).min())
    c = int(k[:, 0].argmax())
    return float(k[c, 1] / k[c, 0])


def features(p: dict[str, Any], part: str) -> dict[str, float]:
    """Gold-free features of an accepted reading (``part``: "abstain" or "coverage")."""
    d, r = p["def_shape"], p[f"no_{part}_shape"]
    sd, sr, sm = (np.array(x) for x in (d["shares"], r["shares"], p["mv_shares"]))
    f = {
        "agree_refused": p[f"no_{part}_agree"],
        "agree_mv": p.get("def_agree_mv", float("nan")),
        "kept_all": kept_ratio(d["kept"], "all"),
        "kept_min": kept_ratio(d["kept"], "min"),
        "kept_top": kept_ratio(d["kept"], "top"),
        "kept_min_minus_ref": kept_ratio(d["kept"], "min") - kept_ratio(r["kept"], "min"),
        "kept_top_minus_ref": kept_ratio(d["kept"], "top") - kept_ratio(r["kept"], "top"),
        "tv_refused": 0.5 * float(np.abs(sd - sr).sum()),
        "tv_mv": 0.5 * float(np.abs(sd - sm).sum()),
        "top_flip_mv": float(sd.argmax() != sm.argmax()),
        "top_flip_ref": float(sd.argmax() != sr.argmax()),
        "k": p["k"],
        "voted": p["voted"],
    }
    a = p.get("abstain") or {}
    if part == "abstain" and a.get("accepted"):
        f["lead/se"] = a["lead"] / a["lead_se"]
        f["z"] = a["z"] if a["z"] is not None else float("nan")
        f["ds"] = float(a["family"] == "ds_abstain")
        f["estimated"] = float(a["balance"] == "estimated")
        f["overrule"] = a.get("overrule", float("nan"))
    return f


def outcome(probs: list[dict[str, Any]], fires: Any, part: str, fallback: str = "refused") -> np.ndarray:
    """Accuracy minus MV's per problem where ``fires(features)`` refuses the reading ``part``."""
    out = []
    for p in probs:
        acc = p["default"]
        if f"no_{part}" in p and fires(features(p, part)):
            acc = p[f"no_{part}"] if fallback == "refused" else p["mv"]
        out.append(acc - p["mv"])
    return np.array(out)


def summary(d: np.ndarray, mean_acc: float) -> str:
    """One line: mean accuracy, W/T/L against MV, share >= MV - 0.5 points, worst, losses > 10 points."""
    w, lo = int((d > TIE).sum()), int((d < -TIE).sum())
    return (
        f"mean {100 * mean_acc:.2f}, W/T/L {w}/{len(d) - w - lo}/{lo}, "
        f">= MV-0.5 {100 * np.mean(d >= -TIE):.1f} %, worst {100 * d.min():+.1f}, "
        f"< MV-10: {int((d < -CATASTROPHE).sum())}"
    )


def kept_clear_rule(t: float) -> Any:
    """The rule of ``abstain_check.KEPT_CLEAR = t``: refuse the reading where it keeps the majority on
    at most a share ``t`` of the clear rows (test (d)'s own share, recorded by the probe)."""

    def fires(p: dict[str, Any]) -> bool:
        kc = (p.get("abstain") or {}).get("kept_clear")
        return kc is not None and kc <= t

    return fires


def _diffs(probs: list[dict[str, Any]], fires: Any) -> np.ndarray:
    return np.array(
        [(p["no_abstain"] if "no_abstain" in p and fires(p) else p["default"]) - p["mv"] for p in probs]
    )


def analyse(paths: list[str], grid: np.ndarray, fixed: float) -> None:
    """Print each suite under the default and under ``KEPT_CLEAR = fixed``, then the bar chosen
    leave one suite out (fewest losses > 10 points, then share >= MV - 0.5, then mean, among bars
    that lower no training suite's mean by more than 0.1 point) and its score on the held-out suite."""
    suites = {
        json.loads(Path(q).read_text())["base_seed"]: json.loads(Path(q).read_text())["problems"]
        for q in paths
    }
    for seed, probs in suites.items():
        mv = np.array([p["mv"] for p in probs])
        for name, fires in (
            ("default", kept_clear_rule(-1.0)),
            (f"KEPT_CLEAR={fixed:g}", kept_clear_rule(fixed)),
        ):
            d = _diffs(probs, fires)
            print(f"{seed} {name:16s} {summary(d, float((mv + d).mean()))}")

    def objective(train: list[int], t: float) -> tuple[float, ...] | None:
        cat = share = mean = 0.0
        for s in train:
            d, d0 = _diffs(suites[s], kept_clear_rule(t)), _diffs(suites[s], kept_clear_rule(-1.0))
            if d.mean() - d0.mean() < -0.001:
                return None
            cat, share, mean = cat - (d < -CATASTROPHE).sum(), share + np.mean(d >= -TIE), mean + d.mean()
        return (cat, share, mean)

    for test in suites:
        train = [s for s in suites if s != test]
        scored = [(o, t) for t in grid if (o := objective(train, float(t))) is not None]
        o, t = max(scored, key=lambda x: x[0])
        d, d0 = _diffs(suites[test], kept_clear_rule(t)), _diffs(suites[test], kept_clear_rule(-1.0))
        mv = np.array([p["mv"] for p in suites[test]])
        print(
            f"held out {test}: bar {t:.3f} chosen on {train}; {summary(d, float((mv + d).mean()))} "
            f"(mean change {100 * (d.mean() - d0.mean()):+.3f} points)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
