"""Fit / predict wall time of the peers and ours on synthetic binary label matrices.

Grid: n in {1e4, 1e5, 1e6} x m in {5, 20, 50} (--quick: n in {1e4, 1e5}). Each LF votes with
probability 0.5 and, when it votes, is correct with its own accuracy ~ U(0.55, 0.9); balanced
binary Y; fixed seed per cell. Every method fits on L and predicts (predict_proba) on the same L.
Timing: median of 3 runs when one run (fit + predict) is under 10 s, else a single run.
FlyingSquid's predict_proba is a per-row Python loop: it is timed on the first 20,000 rows and
scaled linearly to n (marked '*'). Methods are warmed up (imports, first torch call) before any
timing.

Writes benchmarks/results/peers_speed.md and peers_speed.json. Run with the peers' venv:
    benchmarks/peers/.venv/bin/python benchmarks/peers/run_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time

import numpy as np
from common import (
    CrowdKitDS,
    FitTimeout,
    FlyingSquid,
    NumpyMV,
    Ours,
    OursMV,
    SnorkelLM,
    SnorkelMV,
    add_runner_args,
    argmax_hash_tiebreak,
    hard_limit,
    machine_info,
    our_models,
    ours_revision,
    run_main,
    synthetic_binary,
    warm_up,
)

NS_FULL = [10_000, 100_000, 1_000_000]
NS_QUICK = [10_000, 100_000]
MS = [5, 20, 50]
REPEAT_BELOW_S = 10.0  # one run under this -> median of 3
SLICE_ROWS = 20_000  # FlyingSquid predict is timed on this many rows and scaled to n
SKIP_ABOVE_S = 400.0  # skip a run whose extrapolated time (from the previous n) exceeds this
HARD_LIMIT_S = 600.0  # SIGALRM backstop for a single run

LABELS = {
    "snorkel": "Snorkel LabelModel",
    "flyingsquid": "FlyingSquid triplet_mean",
    "crowdkit_ds": "DS crowd-kit",
    "snorkel_mv": "MV (Snorkel)",
    "mv_numpy": "MV (numpy)",
    "ours_mv": "MV (ours)",
}
OURS_REF = "ours_default"  # ratio denominator; falls back to the first of ours that ran


def build_methods() -> list:
    methods = [SnorkelLM("snorkel"), FlyingSquid(), CrowdKitDS(), SnorkelMV(), NumpyMV(), OursMV()]
    return methods + [Ours(name, kw) for name, kw in our_models()]


def one_run(method, L: np.ndarray, y: np.ndarray) -> dict:
    n = L.shape[0]
    t0 = time.perf_counter()
    method.fit(L, 2)
    fit_s = time.perf_counter() - t0
    sliced = isinstance(method, FlyingSquid) and n > SLICE_ROWS
    Lp = L[:SLICE_ROWS] if sliced else L
    t0 = time.perf_counter()
    P = method.predict_proba(Lp)
    pred_s = time.perf_counter() - t0
    P = np.asarray(P, dtype=np.float64)
    acc = float(np.mean(argmax_hash_tiebreak(np.nan_to_num(P, nan=0.5)) == y[: len(Lp)]))
    return {
        "fit_s": fit_s,
        "predict_s": pred_s * (n / len(Lp)),
        "predict_extrapolated": sliced,
        "predict_rows_timed": len(Lp),
        "acc": acc,
        "measured_s": fit_s + pred_s,
    }


def measure(method, L, y) -> dict:
    runs = [one_run(method, L, y)]
    if runs[0]["measured_s"] < REPEAT_BELOW_S:
        runs += [one_run(method, L, y) for _ in range(2)]
    out = {
        "status": "ok",
        "runs": len(runs),
        "fit_s": statistics.median(r["fit_s"] for r in runs),
        "predict_s": statistics.median(r["predict_s"] for r in runs),
        "predict_extrapolated": runs[0]["predict_extrapolated"],
        "predict_rows_timed": runs[0]["predict_rows_timed"],
        "acc": runs[0]["acc"],
        "all_fit_s": [r["fit_s"] for r in runs],
        "all_predict_s": [r["predict_s"] for r in runs],
    }
    out["total_s"] = out["fit_s"] + out["predict_s"]
    return out


def run(ns: list[int], ms: list[int], only: list[str] | None) -> dict:
    methods = build_methods()
    if only:
        methods = [mm for mm in methods if mm.name in only]
    warm_up(methods)
    res = {
        "meta": {
            "date": dt.date.today().isoformat(),
            "machine": machine_info(),
            "ours": ours_revision(),
            "protocol": __doc__.split("Writes")[0].strip(),
            "methods": [mm.name for mm in methods],
            "ns": ns,
            "ms": ms,
        },
        "cells": [],
    }
    last_measured: dict[tuple[str, int], float] = {}  # (method, m) -> measured s at previous n
    prev_n: dict[int, int] = {}
    for n in ns:
        for m in ms:
            seed = 1000 * (len(str(n)) - 1) + m  # 1000 * log10(n) + m for the grid
            L, y = synthetic_binary(n, m, seed=seed)
            cell = {"n": n, "m": m, "seed": seed, "results": {}}
            for method in methods:
                key = (method.name, m)
                est = None
                if key in last_measured:
                    est = last_measured[key] * n / prev_n[m]
                if est is not None and est > SKIP_ABOVE_S:
                    r = {"status": "skipped", "note": f"estimated {est:.0f} s per run"}
                else:
                    try:
                        with hard_limit(HARD_LIMIT_S):
                            r = measure(method, L, y)
                    except FitTimeout as exc:
                        r = {"status": "timeout", "note": str(exc)}
                    except Exception as exc:  # a peer crash must not stop the grid
                        first = str(exc).splitlines()[0][:160] if str(exc) else ""
                        status = "n/a" if method.family == "ours" else "err"
                        r = {"status": status, "note": f"{type(exc).__name__}: {first}"}
                if r["status"] == "ok":
                    last_measured[key] = r["all_fit_s"][0] + r["all_predict_s"][0] * (
                        r["predict_rows_timed"] / n
                    )
                cell["results"][method.name] = r
                show = {
                    kk: round(v, 4)
                    for kk, v in r.items()
                    if kk in ("fit_s", "predict_s", "acc") and isinstance(v, float)
                }
                print(f"n={n:>8} m={m:>3} {method.name:<24} {r['status']:<7} {show}", flush=True)
            add_ratios(cell)
            res["cells"].append(cell)
            del L, y
        for m in ms:
            prev_n[m] = n
    return res


def add_ratios(cell: dict) -> None:
    rs = cell["results"]
    ref = OURS_REF if rs.get(OURS_REF, {}).get("status") == "ok" else None
    if ref is None:
        ref = next(
            (k for k, r in rs.items() if k.startswith("ours_") and k != "ours_mv" and r["status"] == "ok"),
            None,
        )
    cell["ratio_reference"] = ref
    if ref is None:
        return
    denom = rs[ref]["total_s"]
    for r in rs.values():
        if r["status"] == "ok" and denom > 0:
            r["ratio_vs_ours"] = r["total_s"] / denom


def _n(n: int) -> str:
    s = str(n)
    return f"1e{len(s) - 1}" if s.strip("0") == "1" else f"{n:,}"


def _t(v: float) -> str:
    if v < 1e-4:
        return "<1e-4"
    if v < 0.01:
        return f"{v:.4f}"
    if v < 10:
        return f"{v:.3g}"
    return f"{v:.0f}"


def to_markdown(res: dict) -> str:
    meta = res["meta"]
    names = meta["methods"]
    label = {n: LABELS.get(n, n.replace("_", " ")) for n in names}
    refs = {c["ratio_reference"] for c in res["cells"] if c.get("ratio_reference")}
    lines = [
        "# Fit / predict speed: tripletws vs peers (synthetic binary label matrices)",
        "",
        f"Generated by `benchmarks/peers/run_speed.py` on {meta['date']}; machine: "
        f"{meta['machine']} (shared, so timings are indicative); {meta.get('threads', '')}. "
        f"Code: {meta['ours']}.",
        "",
        "Each LF votes with probability 0.5, correct with accuracy ~ U(0.55, 0.9); fixed seed "
        "per cell; fit on L, then predict_proba on the same L. Median of 3 runs when one run "
        "is under 10 s, else 1 run. Peers at their defaults: Snorkel 0.10 `LabelModel` "
        "(100 epochs, seed 0), FlyingSquid `triplet_mean`, crowd-kit `DawidSkene` (default "
        "n_iter, abstains dropped; its fit already produces the posteriors, so its predict "
        "is only the read-out), Snorkel `MajorityLabelVoter` (pure-Python loop).",
        "",
        "Cell format: `fit s / predict s (×R)` where R = (fit + predict) / (fit + predict of "
        f"{', '.join(sorted(refs)) or 'ours'}), i.e. how many times slower than ours.",
        "",
        "| n | m | " + " | ".join(label[n] for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    notes: dict[tuple[str, str, str], list[str]] = {}  # (method, status, note) -> cells
    for c in res["cells"]:
        cells = []
        for n in names:
            r = c["results"][n]
            if r["status"] != "ok":
                cells.append(r["status"])
                if r.get("note"):
                    key = (label[n], r["status"], r["note"])
                    notes.setdefault(key, []).append(f"n={_n(c['n'])}, m={c['m']}")
                continue
            star = "*" if r["predict_extrapolated"] else ""
            s = f"{_t(r['fit_s'])} / {_t(r['predict_s'])}{star}"
            if "ratio_vs_ours" in r and n != c.get("ratio_reference"):
                s += f" (×{r['ratio_vs_ours']:.3g})"
            cells.append(s)
        lines.append(f"| {_n(c['n'])} | {c['m']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"\\* FlyingSquid's predict_proba loops over rows in Python: timed on the first "
        f"{SLICE_ROWS:,} rows and scaled linearly to n.",
        "",
        "Accuracy against the synthetic truth (sanity check that each fit is meaningful):",
        "",
        "| n | m | " + " | ".join(label[n] for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for c in res["cells"]:
        cells = [f"{c['results'][n]['acc']:.3f}" if c["results"][n]["status"] == "ok" else "-" for n in names]
        lines.append(f"| {_n(c['n'])} | {c['m']} | " + " | ".join(cells) + " |")
    lines.append("")
    if notes:
        lines += ["Notes:", ""]
        for (meth, status, note), where in notes.items():
            on = f"all {len(res['cells'])} cells" if len(where) == len(res["cells"]) else "; ".join(where)
            lines.append(f"- {meth}: `{status}` on {on}: {note}")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="n in {1e4, 1e5} only")
    ap.add_argument("--ns", type=int, nargs="*", help="override the n grid")
    ap.add_argument("--ms", type=int, nargs="*", help="override the m grid")
    add_runner_args(ap)
    args = ap.parse_args()
    ns = args.ns or (NS_QUICK if args.quick else NS_FULL)
    return run_main(args, "peers_speed", to_markdown, lambda: run(ns, args.ms or MS, args.methods))


if __name__ == "__main__":
    sys.exit(main())
