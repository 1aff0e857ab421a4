"""Which part of the default loses to majority vote on the stress suite, and by how much.

For every stress problem (benchmarks/stress_problems.py) the default ``LabelModel`` is fitted on the
train rows and scored on the test rows' gold (benchmarks/scoring.py, as benchmarks/stress.py does);
then each part of the default that acted on the fit is switched off on its own and the fit redone:

* ``family=F``: the held-out family choice (mv / one_coin / mace) replaced by each other candidate F
  (the selection's scores are kept; only the chosen fit changes);
* ``no_balance``: the estimated class balance (estimators/balance_check.py) refused;
* ``no_coverage``: the one-class coverage reading (estimators/coverage_check.py) refused (the
  abstain check then runs, as in the default when the coverage check fails);
* ``no_abstain``: the informative-abstention reading (estimators/abstain_check.py) refused;
* ``no_copies``: ``copies="keep"`` (LF copies not counted once).

A part's effect is the default's accuracy minus the ablation's (positive: the part gains).  Gold-free
features of each fit are recorded beside it (the family choice's leads and standard errors, the
abstain check's lead, z and balance, the fitted class prior against the clear-majority rows' class
shares) so that rules can be tried on the whole suite.

    PYTHONPATH=src python benchmarks/worst_losses.py                      # all 312 problems
    PYTHONPATH=src python benchmarks/worst_losses.py --families mixed sparse
    PYTHONPATH=src python benchmarks/worst_losses.py --render benchmarks/results/worst_losses.json
    python benchmarks/worst_losses.py --attribute benchmarks/results/worst_losses_seed*.json

``--attribute`` prints, for each results file, the losses against MV and the part whose switch-off
alone brings each back to MV - 0.5 points or above (:func:`blame`).

Writes benchmarks/results/worst_losses.{json,md} (``--out`` changes the path).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from patched_steps import patched  # noqa: E402
from provenance import revision  # noqa: E402
from scoring import mv_scores, tie_scores  # noqa: E402
from stress_problems import FAMILIES, all_problems, draw, imbalance_all  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402

RESULTS = HERE / "results"
TIE = 0.005  # the stress suite's tie: 0.5 points


class Probe:
    """Patches of the default's decision steps in ``tripletws.models.annotator``: records what each
    step decided and can refuse it or force the family."""

    def __init__(self) -> None:
        self.record: dict[str, Any] = {}
        self.force_family: str | None = None
        self.refuse: set[str] = set()

    @contextlib.contextmanager
    def installed(self) -> Iterator[Probe]:
        import tripletws.models.annotator as mod

        orig = {
            "select_family": mod.select_family,
            "select_counting_once": mod.select_counting_once,
            "balance_check": mod.balance_check,
            "coverage_check": mod.coverage_check,
            "abstain_check": mod.abstain_check,
        }

        def select_family(*a: Any, **kw: Any) -> Any:
            return observe(orig["select_family"](*a, **kw))

        def select_counting_once(*a: Any, **kw: Any) -> Any:
            # the default (copies="once"): the choice made on the rows with copies counted once
            sel, copies, plain, folds = orig["select_counting_once"](*a, **kw)
            return observe(sel), copies, plain, folds

        def observe(sel: Any) -> Any:
            self.record["selection"] = sel.to_dict()
            if sel.scores is not None and sel.chosen != "mv":
                self.record["lead_shape"] = lead_shape(sel.scores, sel.chosen, "mv")
            f = self.force_family
            if f is not None and f != sel.chosen and f in sel.fits:
                sel = replace(sel, chosen=f, fit=sel.fits[f])
            return sel

        def balance_check(*a: Any, **kw: Any) -> Any:
            res = orig["balance_check"](*a, **kw)
            self.record["balance"] = {"accepted": bool(res.accepted), "gained": res.gained, "lost": res.lost}
            if res.accepted and "balance" in self.refuse:
                res = replace(res, accepted=False)
            return res

        def coverage_check(*a: Any, **kw: Any) -> Any:
            res = orig["coverage_check"](*a, **kw)
            self.record["coverage"] = {"accepted": bool(res.accepted)}
            if res.accepted and "coverage" in self.refuse:
                res = replace(res, accepted=False)
            return res

        def abstain_check(*a: Any, **kw: Any) -> Any:
            res = orig["abstain_check"](*a, **kw)
            self.record["abstain"] = res.to_dict()
            if res.accepted:
                self.record["abstain"].update(abstain_shape(a[0], res.fit.params))
            if res.accepted and "abstain" in self.refuse:
                res = replace(res, accepted=False)
            return res

        steps = {
            "select_family": select_family,
            "select_counting_once": select_counting_once,
            "balance_check": balance_check,
            "coverage_check": coverage_check,
            "abstain_check": abstain_check,
        }
        with patched(mod, steps):
            yield self


def abstain_shape(unique: Any, params: Any) -> dict[str, float]:
    """Where the accepted abstain reading's predictions on the train rows go.

    ``kept_clear``: share of the clear rows (majority ahead by >= 2 votes) on which it predicts the
    majority (the check's test (d) asks for more than half); ``overrule``: share of the rows with
    an untied majority on which it predicts another class; ``unvoted``: share of rows without a
    vote (where only the abstain reading predicts a class).
    """
    from tripletws.estimators.annotator_design import _Design
    from tripletws.estimators.balance_check import clear_rows

    k = unique.cardinality
    w = unique.counts.astype(np.float64)
    pred = _Design(unique.rows, k, abstain=True).log_scores(params).argmax(axis=1)
    clear, majority = clear_rows(unique)
    seen = clear & (w > 0)
    votes = np.stack([(unique.rows == c).sum(axis=1) for c in range(k)], axis=1)
    top = np.sort(votes, axis=1)
    untied = (top[:, -1] > top[:, -2]) & (w > 0)
    voted = (unique.rows >= 0).any(axis=1)
    return {
        "kept_clear": float(w[seen & (pred == majority)].sum() / w[seen].sum())
        if seen.any()
        else float("nan"),
        "overrule": float(w[untied & (pred != votes.argmax(axis=1))].sum() / max(w[untied].sum(), 1.0)),
        "unvoted": float(w[~voted].sum() / w.sum()),
    }


def lead_shape(scores: Any, richer: str, simpler: str) -> dict[str, float]:
    """How the held-out lead of ``richer`` over ``simpler`` is spread over rows and folds.

    ``top1``: share of the summed lead carried by the 1 % of held-out rows with the largest
    differences; ``trim_t``: the lead with those rows' differences set to the median, over its
    standard error; ``min_fold_t``: the smallest per-fold lead over the fold's standard error;
    ``win``: share of held-out rows that ``richer`` scores higher.
    """
    d = scores.row_loglik[richer] - scores.row_loglik[simpler]
    w = scores.folds.astype(np.float64)
    keep = w > 0
    dv, wv = d[keep], w[keep]
    order = np.argsort(-dv)
    cum = np.cumsum(wv[order])
    n = float(wv.sum())
    top = order[cum <= max(0.01 * n, wv[order][0])]
    total = float(wv @ dv)
    top1 = float(wv[top] @ dv[top]) / total if total > 0 else float("nan")
    med = float(np.median(np.repeat(dv, np.minimum(wv, 50).astype(int)))) if dv.size else 0.0
    dt = dv.copy()
    dt[top] = med

    def t_of(x: np.ndarray, ww: np.ndarray) -> float:
        nn = float(ww.sum())
        if nn < 2:
            return float("nan")
        mean = float(ww @ x) / nn
        var = float(ww @ (x - mean) ** 2) / (nn - 1.0)
        return mean / np.sqrt(var / nn) if var > 0 else float("inf")

    folds = [t_of(d[f][w[f] > 0], w[f][w[f] > 0]) for f in range(len(w))]
    return {
        "top1": top1,
        "trim_t": t_of(dt, wv),
        "min_fold_t": float(np.nanmin(folds)) if folds else float("nan"),
        "win": float(wv[dv > 0].sum()) / n if n > 0 else float("nan"),
    }


def fit_score(
    probe: Probe, k: int, L: np.ndarray, L_test: np.ndarray, y_test: np.ndarray, **kw: Any
) -> tuple[float, float, Any]:
    """Fit ``LabelModel(cardinality=k, **kw)`` under the probe; (accuracy, F1, model)."""
    from tripletws import LabelModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = LabelModel(cardinality=k, **kw).fit(L)
        P = lm.predict_proba(L_test)
    acc, f1 = tie_scores(P, y_test, k)
    return acc, f1, lm


def clear_shares(L: np.ndarray, k: int) -> np.ndarray:
    """Class shares of the rows whose majority wins by >= 2 votes (uniform when there are none)."""
    votes = mv_scores(L, k)
    top2 = np.sort(votes, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] >= 2
    if not clear.any():
        return np.full(k, 1.0 / k)
    return np.bincount(votes[clear].argmax(axis=1), minlength=k) / clear.sum()


def run_problem(problem: Any) -> dict[str, Any]:
    """The default and its ablations on one problem."""
    k = int(problem.params["k"])
    L, _, L_test, y_test = draw(problem)
    mv_acc, mv_f1 = tie_scores(mv_scores(L_test, k), y_test, k)
    probe = Probe()
    out: dict[str, Any] = {
        "name": problem.name,
        "family": problem.family,
        "n": int(L.shape[0]),
        "m": int(L.shape[1]),
        "k": k,
        "coverage": float(np.mean(L >= 0)),
        "mv": mv_acc,
        "mv_f1": mv_f1,
    }
    cpu0 = time.process_time()
    with probe.installed():
        acc, f1, lm = fit_score(probe, k, L, L_test, y_test)
        rec = dict(probe.record)
        out.update(default=acc, default_f1=f1, record=rec)
        out["copies"] = lm.estimate_.copies is not None if hasattr(lm.estimate_, "copies") else False
        out["fit_prior"] = np.asarray(lm.class_balance_, dtype=float).tolist()
        out["clear_shares"] = clear_shares(L, k).tolist()
        out["mv_shares"] = (np.bincount(mv_scores(L, k).argmax(axis=1), minlength=k) / len(L)).tolist()
        abl: dict[str, float] = {}
        chosen = rec.get("selection", {}).get("chosen")
        for fam in ("mv", "one_coin", "mace"):
            if chosen is not None and fam != chosen:
                probe.force_family = fam
                abl[f"family={fam}"] = fit_score(probe, k, L, L_test, y_test)[0]
        probe.force_family = None
        for part in ("balance", "coverage", "abstain"):
            if rec.get(part, {}).get("accepted"):
                probe.refuse = {part}
                abl[f"no_{part}"] = fit_score(probe, k, L, L_test, y_test)[0]
        probe.refuse = set()
        if out["copies"]:
            abl["no_copies"] = fit_score(probe, k, L, L_test, y_test, copies="keep")[0]
    out["ablations"] = abl
    out["cpu_s"] = time.process_time() - cpu0
    return out


# --------------------------------------------------------------------------- rules


def _abstain_features(p: dict[str, Any]) -> dict[str, float]:
    """Gold-free features of a fit where the abstain reading acted (its record, the data's shape)."""
    a = p["record"]["abstain"]
    fp, cs = np.array(p["fit_prior"]), np.array(p["clear_shares"])
    return {
        "lead/se": a["lead"] / a["lead_se"],
        "background z": a["z"] if a["z"] is not None else float("nan"),
        "n": p["n"],
        "m": p["m"],
        "k": p["k"],
        "m/k": p["m"] / p["k"],
        "coverage": p["coverage"],
        "votes per row": p["m"] * p["coverage"],
        "TV(prior, clear shares)": 0.5 * float(np.abs(fp - cs).sum()),
        "estimated balance": float(a["balance"] == "estimated"),
        "ds_abstain": float(a["family"] == "ds_abstain"),
        "clear rows kept": a.get("kept_clear", float("nan")),
        "majority overruled": a.get("overrule", float("nan")),
        "rows without votes": a.get("unvoted", float("nan")),
    }


def _family_features(p: dict[str, Any]) -> dict[str, float]:
    lead, se = p["record"]["selection"]["leads"].get("mv", [0.0, 1.0])
    f = {
        "lead/se": lead / max(se, 1e-12),
        "n": p["n"],
        "m": p["m"],
        "k": p["k"],
        "n/m": p["n"] / p["m"],
        "coverage": p["coverage"],
        "votes per LF": p["n"] * p["coverage"],
    }
    for key, v in p["record"].get("lead_shape", {}).items():
        f[f"lead {key}"] = v
    return f


def _simple(p: dict[str, Any]) -> dict[str, float]:
    return {"n": p["n"], "m": p["m"], "k": p["k"], "coverage": p["coverage"]}


#: (part, ablation key, features, where the part decided the fit)
STUDIES = (
    ("abstain reading", "no_abstain", _abstain_features, lambda p: "no_abstain" in p["ablations"]),
    (
        "family choice (-> mv)",
        "family=mv",
        _family_features,
        lambda p: (
            "family=mv" in p["ablations"]
            and "no_abstain" not in p["ablations"]
            and "no_coverage" not in p["ablations"]
        ),
    ),
    ("coverage reading", "no_coverage", _simple, lambda p: "no_coverage" in p["ablations"]),
    ("copies counted once", "no_copies", _simple, lambda p: "no_copies" in p["ablations"]),
)


def rule_study(probs: list[dict[str, Any]]) -> list[str]:
    """Threshold rules "switch the part off where feature <= t (or >= t)", one feature at a time.

    A rule's score: problems it brings to MV - 0.5 points or above minus those it takes below,
    then the summed accuracy change; rules that lower the summed accuracy are not eligible (a rule
    that removes losses by giving up larger gains is not a rule).  Chosen on all families
    (in-sample) and leave-one-family-out (chosen on 11 families, applied to the 12th).
    """
    lines = [
        "| part | acted | in-sample rule | in-sample: to >= MV-0.5 / below / acc sum | "
        "leave-one-family-out: to >= MV-0.5 / below / acc sum |",
        "|---|---|---|---|---|",
    ]
    for title, key, featfn, cond in STUDIES:
        P = [p for p in probs if cond(p)]
        if not P:
            continue
        F = [featfn(p) for p in P]

        def ev(rule: Any, idx: list[int], P: list = P, F: list = F, key: str = key) -> tuple[int, int, float]:
            g = lo = 0
            d = 0.0
            for i in idx:
                if rule(F[i]):
                    alt = P[i]["ablations"][key]
                    ok0 = P[i]["default"] - P[i]["mv"] >= -TIE
                    ok1 = alt - P[i]["mv"] >= -TIE
                    g += ok1 and not ok0
                    lo += ok0 and not ok1
                    d += alt - P[i]["default"]
            return g, lo, d

        rules: list[tuple[str, Any]] = [("never", lambda f: False)]
        for nm in F[0]:
            for v in sorted({f[nm] for f in F if np.isfinite(f[nm])}):
                rules.append((f"{nm} <= {v:.4g}", lambda f, nm=nm, v=v: f[nm] <= v))
                rules.append((f"{nm} >= {v:.4g}", lambda f, nm=nm, v=v: f[nm] >= v))

        def best(
            idx: list[int], rules: list = rules, ev: Any = ev
        ) -> tuple[tuple[int, int, float], str, Any]:
            scored = [(ev(rule, idx), name, rule) for name, rule in rules]
            scored = [s for s in scored if s[0][2] >= 0]
            scored.sort(key=lambda s: (-(s[0][0] - s[0][1]), -s[0][2]))
            return scored[0]

        every = list(range(len(P)))
        (g, lo, d), name, _ = best(every)
        G = Lo = 0
        D = 0.0
        for fam in sorted({p["family"] for p in P}):
            train = [i for i in every if P[i]["family"] != fam]
            test = [i for i in every if P[i]["family"] == fam]
            _, _, rule = best(train)
            a, b, c = ev(rule, test)
            G, Lo, D = G + a, Lo + b, D + c
        lines.append(
            f"| {title} | {len(P)} | {name} | {g} / {lo} / {100 * d:+.1f} pts | "
            f"{G} / {Lo} / {100 * D:+.1f} pts |"
        )
    return lines


def _fmt(v: float) -> str:
    return f"{100 * v:+.1f}"


def to_markdown(res: dict[str, Any]) -> str:
    probs = res["problems"]
    lines = [
        "# Which part of the default loses to majority vote (stress suite)",
        "",
        f"- command: `{res['command']}`",
        f"- code: tripletws @ {res['revision']}; {res['date']}",
        "- per problem: the default's accuracy minus MV's (points), then for each part of the default "
        "that acted on the fit, the default's accuracy minus the fit with that part switched off "
        "(points; negative = the part lost); `family=F`: the held-out choice replaced by F",
        "",
        "## Losses (default more than 0.5 points below MV)",
        "",
        "| problem | n | m | k | cov | default - MV | chosen | lead (SE) of best over mv | "
        "abstain | balance | part effects (default - ablation) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in sorted(probs, key=lambda p: p["default"] - p["mv"]):
        if p["default"] - p["mv"] >= -TIE:
            continue
        sel = p["record"].get("selection", {})
        lead = sel.get("leads", {}).get("mv", [float("nan"), float("nan")])
        ab = p["record"].get("abstain", {})
        ab_s = "-" if not ab else ("read " + ab.get("family", "") if ab.get("accepted") else "no")
        bal = p["record"].get("balance", {})
        bal_s = "-" if not bal else ("est." if bal.get("accepted") else "no")
        effects = ", ".join(f"{a} {_fmt(p['default'] - v)}" for a, v in p["ablations"].items())
        lines.append(
            f"| {p['name']} | {p['n']} | {p['m']} | {p['k']} | {p['coverage']:.3f} | "
            f"{_fmt(p['default'] - p['mv'])} | {sel.get('chosen', '-')} (best {sel.get('best', '-')}) | "
            f"{lead[0]:.4f} ({lead[1]:.4f}) | {ab_s} | {bal_s} | {effects} |"
        )
    lines += [
        "",
        "## Each part across the suite",
        "",
        "Problems where the part acted; gains / losses beyond 0.5 points of the default against the "
        "fit without the part; sum of the effect in points.",
        "",
        "| part | acted | gains | losses | sum (points) |",
        "|---|---|---|---|---|",
    ]
    parts = sorted({a for p in probs for a in p["ablations"]})
    for a in parts:
        d = np.array([p["default"] - p["ablations"][a] for p in probs if a in p["ablations"]])
        lines.append(
            f"| {a} | {d.size} | {int((d > TIE).sum())} | {int((d < -TIE).sum())} | {100 * d.sum():+.1f} |"
        )
    lines += [
        "",
        "## One-feature rules that switch a part off",
        "",
        "Where a part acted: switch it off where one gold-free feature is at or below (above) a "
        "threshold. Counts: problems the rule brings to MV - 0.5 points or above / takes below; "
        "acc sum: summed accuracy change (points). Rules that lower the summed accuracy in their "
        "training families are not eligible.",
        "",
        *rule_study(probs),
    ]
    return "\n".join(lines) + "\n"


def blame(problem: dict[str, Any]) -> str:
    """The part whose switch-off alone brings a loss to MV - 0.5 points or above (the largest such
    effect; ``family`` for any other family of the choice), or ``none``."""
    ok = [(v, a) for a, v in problem["ablations"].items() if v >= problem["mv"] - TIE]
    if not ok:
        return "none"
    part = max(ok)[1]
    return "family" if part.startswith("family=") else part


def attribution(paths: list[str]) -> str:
    """Markdown: per results file, the losses against MV and the part :func:`blame` names for each,
    then the stress families of the losses the family choice alone explains."""
    parts = ("family", "no_abstain", "no_coverage", "no_balance", "no_copies", "none")
    lines = [
        "| draw | problems | below MV - 0.5 | " + " | ".join(parts) + " |",
        "|---|---|---|" + "---|" * len(parts),
    ]
    families: Counter[str] = Counter()
    for path in paths:
        res = json.loads(Path(path).read_text())
        losses = [p for p in res["problems"] if p["default"] < p["mv"] - TIE]
        named = Counter(blame(p) for p in losses)
        families.update(p["family"] for p in losses if blame(p) == "family")
        lines.append(
            f"| {Path(path).stem} | {len(res['problems'])} | {len(losses)} | "
            + " | ".join(str(named[a]) for a in parts)
            + " |"
        )
    lines += [
        "",
        "Losses the family choice alone explains, by stress family: "
        + ", ".join(f"{f} {c}" for f, c in families.most_common()),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--families", nargs="*", choices=FAMILIES)
    ap.add_argument("--problems", nargs="*")
    ap.add_argument("--base-seed", type=int, default=None, help="the suite of this seed (default: dev)")
    ap.add_argument(
        "--imbalance-all", action="store_true", help="every class imbalanced (stress.py's variant)"
    )
    ap.add_argument("--out", default=str(RESULTS / "worst_losses.json"))
    ap.add_argument("--render", help="only re-render the markdown of a results json")
    ap.add_argument("--attribute", nargs="+", help="results jsons: which part each loss against MV is due to")
    args = ap.parse_args(argv)
    if args.attribute:
        print(attribution(args.attribute), end="")
        return 0
    out = Path(args.out)
    if args.render:
        res = json.loads(Path(args.render).read_text())
        atomic_write_text(Path(args.render).with_suffix(".md"), to_markdown(res))
        return 0
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:
        pass
    suite = all_problems() if args.base_seed is None else all_problems(args.base_seed)
    if args.imbalance_all:
        suite = imbalance_all(suite)
    problems = [
        p
        for p in suite
        if (not args.families or p.family in args.families) and (not args.problems or p.name in args.problems)
    ]
    rows = []
    for i, p in enumerate(problems):
        r = run_problem(p)
        rows.append(r)
        print(
            f"[{i + 1}/{len(problems)}] {p.name}: default - MV {_fmt(r['default'] - r['mv'])}; "
            + ", ".join(f"{a} {_fmt(r['default'] - v)}" for a, v in r["ablations"].items()),
            flush=True,
        )
    res = {
        "command": "python benchmarks/worst_losses.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "revision": revision(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "problems": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(res, separators=(",", ":")))
    atomic_write_text(out.with_suffix(".md"), to_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
