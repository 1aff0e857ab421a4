"""The family choice's standard error with the fold fits' noise (issue 7): a study against the default.

The default (``LabelModel()``) keeps the simplest of mv / one_coin / mace whose cross-fitted held-out
log-likelihood is within ``LEAD_SE`` = 2 standard errors of the best, the standard error being that of
the paired per-row differences ("rows"). This study swaps in the standard errors of
:func:`tripletws.estimators.family_choice.lead_with_fits`, which count the noise of the folds' fits too:

* ``fits``: the rows' variance plus the spread of the per-fold leads beyond what their rows explain,
  corrected for the folds' shared training rows (Nadeau and Bengio 2003, ``1/J + n_test/n_train``);
* ``nb``: Nadeau and Bengio's corrected resampled variance of the per-fold leads as is;
* ``fits-3``, ``nb-3``: the same over 3 deals of the rows into folds (scores averaged over them).

Every variant is the full default pipeline with ``LEAD_NOISE`` / ``LEAD_DEALS`` set; each stress
problem (benchmarks/stress_problems.py) and each of the 15 shared sets with gold is fitted once per
variant in this process (one job), and scored as benchmarks/stress.py and benchmarks/quality_lodo.py
score them. Reports per variant: stress mean accuracy, W/T/L against MV (tie = 0.5 points), the share at
or above MV - 0.5 points, the worst difference, per-family figures, the problems whose choice moves, the
shared sets' mean and worst against MV, and a leave-one-family-out choice of the variant.

    PYTHONPATH=src python benchmarks/foldnoise_study.py                     # ~15 min, one core
    PYTHONPATH=src python benchmarks/foldnoise_study.py --variants rows fits --families sparse

Writes benchmarks/results/foldnoise.{json,md} (``--out`` changes the path).
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
from scoring import mv_scores, tie_scores  # noqa: E402
from stress_problems import FAMILIES, all_problems, draw  # noqa: E402

import tripletws.estimators.family_choice as family_choice  # noqa: E402
from tripletws import LabelModel  # noqa: E402
from tripletws.atomic import atomic_write_text  # noqa: E402

RESULTS = HERE / "results"
TIE = 0.005
VARIANTS = {
    "rows": ("rows", 1),
    "fits": ("fits", 1),
    "nb": ("nb", 1),
    "fits-3": ("fits", 3),
    "nb-3": ("nb", 3),
    "rows-3": ("rows", 3),
    "fits-5": ("fits", 5),
}


def fit_variant(variant: str, k: int, L: np.ndarray, L_test: np.ndarray) -> dict[str, Any]:
    """The default LabelModel with the variant's standard error; test posteriors and the choice."""
    noise, deals = VARIANTS[variant]
    old = family_choice.LEAD_NOISE, family_choice.LEAD_DEALS
    family_choice.LEAD_NOISE, family_choice.LEAD_DEALS = noise, deals
    rec: dict[str, Any] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.process_time()
            lm = LabelModel(cardinality=k).fit(L)
            rec["cpu_s"] = time.process_time() - t0
            rec["P"] = lm.predict_proba(L_test)
        sel = getattr(lm, "selection_", None)
        if sel is not None:
            rec["chosen"], rec["best"] = sel.chosen, sel.best
            lead, se = sel.leads.get("mv", (float("nan"), float("nan")))
            rec["lead_mv"], rec["se_mv"] = float(lead), float(se)
    except Exception as exc:  # a crash is a finding
        rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        family_choice.LEAD_NOISE, family_choice.LEAD_DEALS = old
    return rec


def score(rec: dict[str, Any], y: np.ndarray, k: int) -> dict[str, Any]:
    P = rec.pop("P", None)
    if P is not None:
        rec["acc"], rec["f1"] = tie_scores(P, y, k)
    return rec


def run_stress(variants: list[str], families: list[str] | None, progress: bool) -> list[dict]:
    out = []
    problems = [p for p in all_problems() if families is None or p.family in families]
    for i, problem in enumerate(problems):
        k = int(problem.params["k"])
        L, _, L_test, y_test = draw(problem)
        acc, f1 = tie_scores(mv_scores(L_test, k), y_test, k)
        row = {"name": problem.name, "family": problem.family, "n": int(L.shape[0]), "m": int(L.shape[1])}
        row["mv"] = {"acc": acc, "f1": f1}
        for v in variants:
            row[v] = score(fit_variant(v, k, L, L_test), y_test, k)
        out.append(row)
        if progress and (i + 1) % 26 == 0:
            print(f"{i + 1}/{len(problems)} {time.strftime('%H:%M:%S')}", file=sys.stderr, flush=True)
    return out


def run_shared(variants: list[str]) -> list[dict]:
    from quality_lodo import shared_sets

    out = []
    for name, k, L_fit, L_eval, y_eval, _ in shared_sets():
        acc, f1 = tie_scores(mv_scores(L_eval, k), y_eval, k)
        row = {"name": name, "n": int(L_fit.shape[0]), "m": int(L_fit.shape[1]), "mv": {"acc": acc, "f1": f1}}
        for v in variants:
            row[v] = score(fit_variant(v, k, L_fit, L_eval), y_eval, k)
        out.append(row)
    return out


TARGETS = (
    "sparse-08",
    "sparse-22",
    "mixed-12",
    "shared_feature-16",
    "subpop-16",
    "subpop-19",
    "subpop-20",
    "mixed-03",
    "mixed-05",
)
CALIBRATION = ((150, 30, "mace"), (1_500, 5, "one_coin"))  # (n, m, richer family) against mv


def run_calibration(draws: int = 40) -> list[dict]:
    """Spread of the lead over independent equal-accuracy data sets against the mean standard error.

    ``make_synthetic`` data with equal accuracies (0.7, coverage 0.5, k = 2): MV's model is true, so
    the richer family's lead is noise. A standard error that measures the noise of one data set's
    lead should make ``sd(lead) / mean(se)`` about 1 over independent draws.
    """
    from tripletws.datasets import make_synthetic
    from tripletws.estimators.family_choice import lead_with_fits
    from tripletws.estimators.heldout import deal_counts, heldout_row_scores
    from tripletws.matrix import check_label_matrix
    from tripletws.rows import RowSummary

    out = []
    for n, m, rich in CALIBRATION:
        got: dict[str, list[tuple[float, float]]] = {}
        for seed in range(draws):
            d = make_synthetic(n, m, 2, accuracies=0.7, coverage=0.5, random_state=500 + seed)
            u = RowSummary.from_matrix(check_label_matrix(d.L, 2), 10**7)
            deals = [
                heldout_row_scores(u, ("mv", rich), n_folds=3, folds=deal_counts(u.rows, u.counts, 2, 3, s))
                for s in range(5)
            ]
            for noise in ("rows", "fits", "nb"):
                for r in (1, 5):
                    got.setdefault(f"{noise}-{r}", []).append(lead_with_fits(deals[:r], rich, "mv", noise))
        for name, v in got.items():
            a = np.array(v)
            out.append(
                {
                    "n": n,
                    "m": m,
                    "richer": rich,
                    "variant": name,
                    "ratio": float(np.std(a[:, 0], ddof=1) / np.mean(a[:, 1])),
                    "mean_lead": float(a[:, 0].mean()),
                    "above_2se": float(np.mean(a[:, 0] > 2 * a[:, 1])),
                }
            )
    return out


def _acc(row: dict, v: str) -> float:
    return float(row[v].get("acc", 0.0))  # a crash scores 0


def stress_summary(rows: list[dict], v: str) -> dict[str, Any]:
    d = np.array([_acc(r, v) - r["mv"]["acc"] for r in rows])
    return {
        "mean": float(np.mean([_acc(r, v) for r in rows])),
        "mv_mean": float(np.mean([r["mv"]["acc"] for r in rows])),
        "wins": int((d > TIE).sum()),
        "ties": int((np.abs(d) <= TIE).sum()),
        "losses": int((d < -TIE).sum()),
        "share": float(np.mean(d >= -TIE)),
        "worst": float(d.min()) if len(d) else float("nan"),
        "worst_name": rows[int(np.argmin(d))]["name"] if len(d) else "",
        "chosen": {f: sum(r[v].get("chosen") == f for r in rows) for f in ("mv", "one_coin", "mace")},
        "cpu_s": float(sum(r[v].get("cpu_s", 0.0) for r in rows)),
    }


def lofo(rows: list[dict], variants: list[str]) -> dict[str, Any]:
    """Leave one family out: the variant with the highest share at or above MV - 0.5 (then mean) on the
    other families, applied to the held-out one."""
    picks, kept = {}, []
    for fam in sorted({r["family"] for r in rows}):
        train = [r for r in rows if r["family"] != fam]
        best = max(
            variants, key=lambda v: (stress_summary(train, v)["share"], stress_summary(train, v)["mean"])
        )
        picks[fam] = best
        kept += [{**r, "lofo": r[best]} for r in rows if r["family"] == fam]
    return {"picks": picks, "summary": stress_summary(kept, "lofo")}


def shared_summary(rows: list[dict], v: str) -> dict[str, Any]:
    da = np.array([_acc(r, v) - r["mv"]["acc"] for r in rows])
    df = np.array([float(r[v].get("f1", 0.0)) - r["mv"]["f1"] for r in rows])
    return {
        "mean": float(np.mean([_acc(r, v) for r in rows])),
        "worst_acc": float(da.min()),
        "worst_acc_name": rows[int(np.argmin(da))]["name"],
        "worst_f1": float(df.min()),
        "worst_f1_name": rows[int(np.argmin(df))]["name"],
        "cpu_s": float(sum(r[v].get("cpu_s", 0.0) for r in rows)),
    }


def markdown(res: dict) -> str:
    vs = res["variants"]
    lines = [
        "# Family choice: standard error with the fold fits' noise (issue 7)",
        "",
        f"`PYTHONPATH=src python benchmarks/foldnoise_study.py {' '.join(res['argv'])}` at {res['revision']};"
        " one process, accuracy expected under uniform tie-breaking; W/T/L against MV (tie: 0.5 points);"
        " CPU seconds summed over the fits (process time, shared 2-core machine).",
        "",
    ]
    if res["stress"]:
        lines += [
            f"## Stress suite ({len(res['stress'])} problems)",
            "",
            "| variant | mean acc (MV) | W / T / L | >= MV - 0.5 pt | worst | chosen mv / one_coin / mace"
            " | fit CPU s |",
            "|---|---|---|---|---|---|---|",
        ]
        for v in vs:
            s = res["stress_summary"][v]
            c = s["chosen"]
            lines.append(
                f"| {v} | {s['mean']:.4f} ({s['mv_mean']:.4f}) | {s['wins']} / {s['ties']} / {s['losses']} |"
                f" {100 * s['share']:.1f} % | {100 * s['worst']:+.1f} ({s['worst_name']}) |"
                f" {c['mv']} / {c['one_coin']} / {c['mace']} | {s['cpu_s']:.1f} |"
            )
        fams = sorted({r["family"] for r in res["stress"]})
        lines += [
            "",
            "Per family: at or above MV - 0.5 points (of the family's problems), mean difference to MV"
            " in points.",
            "",
        ]
        lines += ["| family | " + " | ".join(vs) + " |", "|---|" + "---|" * len(vs)]
        for fam in fams:
            rows = [r for r in res["stress"] if r["family"] == fam]
            cells = []
            for v in vs:
                s = stress_summary(rows, v)
                cells.append(f"{round(s['share'] * len(rows))} ({100 * (s['mean'] - s['mv_mean']):+.1f})")
            lines.append(f"| {fam} | " + " | ".join(cells) + " |")
        base = vs[0]
        lines += [
            "",
            f"Problems whose chosen family differs from `{base}`'s (accuracy - MV in points; lead of the best"
            " family over mv in standard errors):",
            "",
        ]
        lines += ["| problem | n | m | " + " | ".join(vs) + " |", "|---|---|---|" + "---|" * len(vs)]
        for r in res["stress"]:
            if all(r[v].get("chosen") == r[base].get("chosen") for v in vs):
                continue
            cells = []
            for v in vs:
                x = r[v]
                z = x.get("lead_mv", float("nan")) / x["se_mv"] if x.get("se_mv") else float("nan")
                cells.append(f"{x.get('chosen', '-')} {100 * (_acc(r, v) - r['mv']['acc']):+.1f} ({z:.1f})")
            lines.append(f"| {r['name']} | {r['n']} | {r['m']} | " + " | ".join(cells) + " |")
        targets = [r for r in res["stress"] if r["name"] in TARGETS]
        if targets:
            lines += [
                "",
                "The family choice's losses at small n (issue 7): the best family's lead over mv per row,"
                " its standard error and their ratio, then accuracy - MV in points.",
                "",
                "| problem | n | m | " + " | ".join(vs) + " |",
                "|---|---|---|" + "---|" * len(vs),
            ]
            for r in targets:
                cells = []
                for v in vs:
                    x = r[v]
                    lead, se = x.get("lead_mv", float("nan")), x.get("se_mv", float("nan"))
                    cells.append(
                        f"{x.get('chosen', '-')} {lead:.3f} / {se:.3f} = {lead / se:.1f};"
                        f" {100 * (_acc(r, v) - r['mv']['acc']):+.1f}"
                    )
                lines.append(f"| {r['name']} | {r['n']} | {r['m']} | " + " | ".join(cells) + " |")
        if "lofo" in res:
            lo = res["lofo"]
            s = lo["summary"]
            lines += [
                "",
                f"Leave one family out (variant with the highest share, then mean, on the other families): "
                f"mean {s['mean']:.4f}, {100 * s['share']:.1f} % at or above MV - 0.5, {s['losses']} losses;"
                " picks " + ", ".join(f"{f} {p}" for f, p in lo["picks"].items()) + ".",
            ]
    if res.get("calibration"):
        lines += [
            "",
            "## Calibration: equal-accuracy data (MV's model true), 40 independent draws",
            "",
            "`sd(lead) / mean(se)` of the richer family's lead over mv (1 = the standard error measures the"
            ' spread of the lead over data sets; "-5": 5 deals averaged), mean lead in nats per row, share'
            " of draws with the lead above 2 standard errors.",
            "",
            "| n | m | richer | variant | sd / se | mean lead | > 2 se |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in res["calibration"]:
            lines.append(
                f"| {c['n']} | {c['m']} | {c['richer']} | {c['variant']} | {c['ratio']:.2f} |"
                f" {c['mean_lead']:+.4f} | {c['above_2se']:.2f} |"
            )
    if res["shared"]:
        lines += [
            "",
            f"## Shared sets ({len(res['shared'])} with gold)",
            "",
            "| variant | mean acc | worst acc - MV | worst F1 - MV | fit CPU s |",
            "|---|---|---|---|---|",
        ]
        for v in vs:
            s = res["shared_summary"][v]
            lines.append(
                f"| {v} | {s['mean']:.4f} | {100 * s['worst_acc']:+.1f} ({s['worst_acc_name']}) |"
                f" {100 * s['worst_f1']:+.1f} ({s['worst_f1_name']}) | {s['cpu_s']:.2f} |"
            )
        lines += ["", "| set | n | m | MV | " + " | ".join(vs) + " |", "|---|---|---|---|" + "---|" * len(vs)]
        for r in res["shared"]:
            cells = [f"{r[v].get('chosen', '-')} {_acc(r, v):.3f}" for v in vs]
            lines.append(
                f"| {r['name']} | {r['n']} | {r['m']} | {r['mv']['acc']:.3f} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--families", nargs="*", choices=list(FAMILIES), default=None)
    ap.add_argument("--no-stress", action="store_true")
    ap.add_argument("--no-shared", action="store_true")
    ap.add_argument("--no-calibration", action="store_true")
    ap.add_argument("--out", default=str(RESULTS / "foldnoise.json"))
    ap.add_argument("--render", action="store_true", help="only re-render the markdown of --out")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.render:
        res = json.loads(out.read_text())
    else:
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=1)
        except ImportError:
            pass
        vs = args.variants
        res = {
            "argv": list(argv if argv is not None else sys.argv[1:]),
            "revision": revision(),
            "variants": vs,
        }
        res["stress"] = [] if args.no_stress else run_stress(vs, args.families, True)
        res["shared"] = [] if args.no_shared else run_shared(vs)
        res["calibration"] = [] if args.no_calibration else run_calibration()
        if res["stress"]:
            res["stress_summary"] = {v: stress_summary(res["stress"], v) for v in vs}
            res["lofo"] = lofo(res["stress"], vs)
        if res["shared"]:
            res["shared_summary"] = {v: shared_summary(res["shared"], v) for v in vs}
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, json.dumps(res, indent=1))
    atomic_write_text(out.with_suffix(".md"), markdown(res))
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
