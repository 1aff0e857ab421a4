"""Peers on the stress suite's synthetic problems (benchmarks/stress_problems.py).

Same problems, draws and scores as benchmarks/stress.py (accuracy expected under uniform
tie-breaking, F1 of class 1 / macro averaged over 20 seeded tie-breaks): majority vote, our
default LabelModel, Snorkel 0.10 (uniform prior, ``fit(L, seed=0)``), crowd-kit DawidSkene, MACE
and ZeroBasedSkill, and HyperLM. Inductive methods fit on the train draw and score the test
draw; transductive ones (crowd-kit, HyperLM) fit on train + test stacked (without gold) and are
scored on the test rows. A fit whose estimated cost is above the budget is skipped
(``timeout``); a crash is recorded as ``err``.

    benchmarks/peers/.venv/bin/python benchmarks/peers/run_stress.py --max-n 5000   # quick subset
    benchmarks/peers/.venv/bin/python benchmarks/peers/run_stress.py --full
    benchmarks/peers/.venv/bin/python benchmarks/peers/run_stress.py --full --base-seed S --imbalance-all

Writes benchmarks/results/stress_peers.{md,json} (stress_peers_full.* with --full; ``_seedS`` for another
draw than the development suite's, ``_imbalanced`` with ``--imbalance-all``, both as stress.py's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np
from common import (
    CrowdKit,
    CrowdKitDS,
    FitTimeout,
    HyperLM,
    NotApplicable,
    Ours,
    SnorkelLM,
    hard_limit,
    limit_threads,
    machine_info,
    ours_revision,
    time_call,
    warm_up,
)

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

from stress import FAMILIES, TIE, mv_scores, tie_scores, write_atomic  # noqa: E402
from stress_problems import BASE_SEED, all_problems, draw, imbalance_all, quick_problems  # noqa: E402

FIT_BUDGET_S = 60.0
HARD_LIMIT_S = 180.0


def build_methods() -> list:
    return [
        Ours("ours_default", {}),
        SnorkelLM("snorkel"),
        CrowdKitDS(),
        CrowdKit("crowdkit_mace", "MACE"),
        CrowdKit("crowdkit_zbs", "ZeroBasedSkill"),
        HyperLM(),
    ]


def estimated_fit_s(method, n: int, m: int, k: int, nnz: int) -> float:
    """Rough cost from the figures measured on this machine (see run_quality.estimated_fit_s)."""
    if isinstance(method, SnorkelLM):
        return 100 * (m * k) ** 2 * 2.5e-8 + n * m * k * 5e-8
    if isinstance(method, CrowdKit) and method.aggregator == "MACE":
        return 10 * 50 * nnz * k * 2e-8
    if isinstance(method, CrowdKit):
        return 100 * nnz * k * 1e-7
    if isinstance(method, HyperLM):
        return nnz * k * 2e-6
    return 0.0


def run_one(method, L, L_test, y_test, k) -> dict:
    """One method fitted on ``L`` (with ``L_test`` stacked below for a transductive one, unless they
    are the same array: a set fitted and scored on its own rows) and scored on ``L_test``'s gold:
    ``{"status": "ok", "acc", "f1", "fit_s", "predict_s"}`` (``nonfinite_rows`` where some rows'
    probabilities were not finite: scored as a coin), else a status (``n/a``, ``timeout``, ``err``)
    and a note. Never raises."""
    if getattr(method, "binary_only", False) and k != 2:
        return {"status": "n/a", "note": "binary only"}
    fit_L = np.vstack([L, L_test]) if method.transductive and L is not L_test else L
    nnz = int(np.count_nonzero(fit_L >= 0))
    est = estimated_fit_s(method, fit_L.shape[0], fit_L.shape[1], k, nnz)
    if est > FIT_BUDGET_S:
        return {"status": "timeout", "note": f"estimated fit {est:.0f} s > {FIT_BUDGET_S:.0f} s"}
    try:
        with hard_limit(HARD_LIMIT_S), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, fit_s = time_call(method.fit, fit_L, k)
            P, pred_s = time_call(method.predict_proba, L_test)
    except NotApplicable as exc:
        return {"status": "n/a", "note": str(exc)}
    except FitTimeout as exc:
        return {"status": "timeout", "note": str(exc)}
    except Exception as exc:
        return {"status": "err", "note": f"{type(exc).__name__}: {str(exc)[:160]}"}
    P = np.array(P, dtype=np.float64)
    if P.shape != (len(L_test), k):
        return {"status": "err", "note": f"predict_proba shape {P.shape} != {(len(L_test), k)}"}
    bad = ~np.isfinite(P).all(axis=1)
    P[bad] = 1.0 / k  # e.g. FlyingSquid's underflow: scored as a coin, and counted
    acc, f1 = tie_scores(P, y_test, k)
    out = {"status": "ok", "acc": acc, "f1": f1, "fit_s": fit_s, "predict_s": pred_s}
    if bad.any():
        out["nonfinite_rows"] = int(bad.sum())
    return out


def run(
    full: bool,
    only: list[str] | None,
    families: list[str] | None,
    max_n: int | None,
    per_family: int | None,
    names: list[str] | None = None,
    base_seed: int = BASE_SEED,
    imbalanced: bool = False,
) -> dict:
    methods = build_methods()
    if only:
        methods = [mm for mm in methods if mm.name in only]
    problems = all_problems(base_seed) if full else quick_problems(base_seed)
    if families:
        problems = [p for p in problems if p.family in families]
    if per_family:
        problems = [p for p in problems if int(p.name.rsplit("-", 1)[1]) < per_family]
    if names is not None:
        problems = [p for p in problems if p.name in names]
    if imbalanced:
        problems = imbalance_all(problems)
    warm_up(methods, k=2)
    rows = []
    for i, problem in enumerate(problems):
        k = int(problem.params["k"])
        L, _, L_test, y_test = draw(problem, max_n)
        acc, f1 = tie_scores(mv_scores(L_test, k), y_test, k)
        res = {"mv": {"status": "ok", "acc": acc, "f1": f1}}
        for method in methods:
            res[method.name] = run_one(method, L, L_test, y_test, k)
        rows.append(
            {
                "name": problem.name,
                "family": problem.family,
                "n": int(L.shape[0]),
                "m": int(L.shape[1]),
                "k": k,
                "results": res,
            }
        )
        show = " ".join(
            f"{n}={r['acc']:.3f}" if r["status"] == "ok" else f"{n}={r['status']}" for n, r in res.items()
        )
        print(f"[{i + 1}/{len(problems)}] {problem.name} {show}", flush=True)
    return {
        "meta": {
            "date": dt.date.today().isoformat(),
            "machine": machine_info(),
            "ours": ours_revision(),
            "suite": ("full suite" if full else "quick subset")
            + ("" if base_seed == BASE_SEED else f", fresh draw: base seed {base_seed}")
            + (", every problem's classes imbalanced" if imbalanced else "")
            + (f", first {per_family} per family" if per_family else "")
            + (f", train and test rows capped at {max_n}" if max_n else ""),
            "base_seed": int(base_seed),
            "imbalance_all": bool(imbalanced),
            "fit_budget_s": FIT_BUDGET_S,
            "methods": ["mv", *[mm.name for mm in methods]],
        },
        "problems": rows,
    }


def to_markdown(res: dict) -> str:
    meta, probs = res["meta"], res["problems"]
    names = meta["methods"]
    out = [
        "# Peers on the stress suite",
        "",
        f"Generated by `benchmarks/peers/run_stress.py` on {meta['date']} ({meta['suite']}, "
        f"{len(probs)} problems); machine: {meta['machine']}; {meta.get('threads', '')}. "
        f"Code: {meta['ours']}.",
        "",
        "Problems, draws and scores as in `benchmarks/stress.py`: accuracy expected under uniform "
        "tie-breaking, F1 of class 1 (k = 2) or macro-F1 (k > 2) averaged over 20 seeded tie-breaks. "
        "crowd-kit and HyperLM are transductive (fit on train + test rows, without gold). "
        f"`timeout`: estimated fit above {meta['fit_budget_s']:.0f} s, skipped; `err`: crashed. "
        "Means are over the problems where every method has a result; W / T / L vs MV and the share "
        "at or above MV - 0.5 points count a missing result as a loss.",
        "",
        "| method | problems scored | mean acc | mean F1 | acc - MV | W / T / L vs MV | >= MV - 0.5 pt "
        "| worst vs MV | timeouts | errors | fit s (sum) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    complete = [p for p in probs if all(p["results"][n]["status"] == "ok" for n in names)]
    for n in names:
        rs = [p["results"][n] for p in probs]
        ok = [r["status"] == "ok" for r in rs]
        d = np.array(
            [
                r["acc"] - p["results"]["mv"]["acc"] if r["status"] == "ok" else -np.inf
                for r, p in zip(rs, probs, strict=True)
            ]
        )
        acc = np.mean([p["results"][n]["acc"] for p in complete]) if complete else float("nan")
        f1 = np.mean([p["results"][n]["f1"] for p in complete]) if complete else float("nan")
        mv = np.mean([p["results"]["mv"]["acc"] for p in complete]) if complete else float("nan")
        fin = d[np.isfinite(d)]
        out.append(
            f"| {n} | {sum(ok)} | {acc:.3f} | {f1:.3f} | "
            + ("-" if n == "mv" else f"{acc - mv:+.3f}")
            + " | "
            + (
                "-"
                if n == "mv"
                else f"{int(np.sum(d > TIE))} / {int(np.sum(np.abs(d) <= TIE))} / {int(np.sum(d < -TIE))}"
            )
            + " | "
            + ("-" if n == "mv" else f"{100 * np.mean(d >= -TIE):.1f} %")
            + " | "
            + ("-" if n == "mv" or not len(fin) else f"{fin.min():+.3f}")
            + f" | {sum(r['status'] == 'timeout' for r in rs)} | {sum(r['status'] == 'err' for r in rs)} | "
            f"{sum(r.get('fit_s', 0.0) for r in rs):.1f} |"
        )
    out += [
        "",
        f"Means over the {len(complete)} problems where every method has a result.",
        "",
        "## Mean accuracy per family (problems where every method has a result)",
        "",
        "| family | problems | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for family in FAMILIES:
        fp = [p for p in complete if p["family"] == family]
        if not fp:
            continue
        vals = [float(np.mean([p["results"][n]["acc"] for p in fp])) for n in names]
        best = max(vals)
        cells = [f"**{v:.3f}**" if v >= best - 1e-12 else f"{v:.3f}" for v in vals]
        out.append(f"| {family} | {len(fp)} | " + " | ".join(cells) + " |")
    notes = sorted(
        {(n, p["results"][n]["status"], p["results"][n].get("note", "")[:120]) for p in probs for n in names}
        - {(n, "ok", "") for n in names}
    )
    if notes:
        out += ["", "## Skipped and failed fits", ""]
        for n, status, note in notes:
            where = [
                p["name"]
                for p in probs
                if p["results"][n]["status"] == status and p["results"][n].get("note", "")[:120] == note
            ]
            out.append(f"- {n} `{status}` on {', '.join(where)}: {note}")
    return "\n".join(out) + "\n"


def merge_update(old: dict, new: dict) -> dict:
    """Replace the rerun methods' results of ``new`` in ``old``, problem by problem.

    The problems must be the same draws: majority vote's accuracy must agree on each to 1e-12 (else
    SystemExit); the header's ``ours`` line records the rerun.
    """
    by_name = {p["name"]: p for p in new["problems"]}
    if set(by_name) != {p["name"] for p in old["problems"]}:
        raise SystemExit("--update: the rerun's problems differ from the results being updated")
    rerun = [m for m in new["meta"]["methods"] if m != "mv"]
    for prob in old["problems"]:
        fresh = by_name[prob["name"]]
        if abs(fresh["results"]["mv"]["acc"] - prob["results"]["mv"]["acc"]) > 1e-12:
            raise SystemExit(
                f"--update: {prob['name']} is not the same draw (majority vote's accuracy differs)"[:200]
            )
        prob["results"].update({m: fresh["results"][m] for m in rerun})
    for m in rerun:
        if m not in old["meta"]["methods"]:
            old["meta"]["methods"].append(m)
    old["meta"]["ours"] += (
        f"; columns {', '.join(rerun)} rerun on {new['meta']['date']} at {new['meta']['ours']} on the same "
        "draws (majority vote identical on every problem)"
    )
    return old


def _draw_of(meta: dict) -> tuple[int, bool]:
    """The draw a results header names: its base seed and whether every class was imbalanced (results
    written before these fields were the development suite's balanced draw)."""
    return int(meta.get("base_seed", BASE_SEED)), bool(meta.get("imbalance_all", False))


def _row_cap(suite: str) -> int | None:
    """The cap on train and test rows in a results header's ``suite`` line (as :func:`run` writes it):
    it changes the draws; which problems were run is read from the results themselves."""
    cap = re.search(r"capped at (\d+)", suite)
    return int(cap.group(1)) if cap else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="all 312 problems instead of the quick 60")
    ap.add_argument("--methods", nargs="*", help="subset of method names")
    ap.add_argument("--families", nargs="*", choices=FAMILIES)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-n", type=int, help="cap train and test rows (crowd-kit MACE is slow)")
    ap.add_argument("--per-family", type=int, help="only the first N problems of each family")
    ap.add_argument(
        "--base-seed",
        type=int,
        default=BASE_SEED,
        help="the suite of this seed (stress.py's --base-seed; default: the development suite)",
    )
    ap.add_argument(
        "--imbalance-all", action="store_true", help="every class imbalanced (stress.py's variant)"
    )
    ap.add_argument("--out", default=str(BENCH / "results"), help="results folder")
    ap.add_argument("--render", metavar="JSON", help="only re-render the markdown from a results json")
    ap.add_argument(
        "--update",
        metavar="JSON",
        help="rerun only --methods on the problems of this results json (its suite, the same draws) and "
        "replace their results; writes the json and its markdown in place",
    )
    args = ap.parse_args()
    if args.render:
        res = json.loads(Path(args.render).read_text())
        write_atomic(Path(args.render).with_suffix(".md"), to_markdown(res))
        return 0
    threads = limit_threads(args.threads)
    if args.update:
        if not args.methods:
            raise SystemExit("--update needs --methods: the columns to rerun")
        path = Path(args.update)
        old = json.loads(path.read_text())
        names = [p["name"] for p in old["problems"]]  # a subset of the full suite's, by name
        seed, imbalanced = _draw_of(old["meta"])
        res = run(True, args.methods, None, _row_cap(old["meta"]["suite"]), None, names, seed, imbalanced)
        res = merge_update(old, res)
        write_atomic(path, json.dumps(res, indent=1))
        write_atomic(path.with_suffix(".md"), to_markdown(res))
        print(f"updated {path} and {path.with_suffix('.md')}")
        return 0
    res = run(
        args.full,
        args.methods,
        args.families,
        args.max_n,
        args.per_family,
        base_seed=args.base_seed,
        imbalanced=args.imbalance_all,
    )
    res["meta"]["threads"] = threads
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = ("stress_peers_full" if args.full else "stress_peers") + (
        "" if args.base_seed == BASE_SEED else f"_seed{args.base_seed}"
    )
    stem += "_imbalanced" if args.imbalance_all else ""
    write_atomic(out / f"{stem}.json", json.dumps(res, indent=1))
    write_atomic(out / f"{stem}.md", to_markdown(res))
    print(f"wrote {out / (stem + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
