"""Label-model quality on the real label matrices in shared/data, ours against the peers.

Protocol (per dataset of index.json whose eval split has gold):
  * crowd sets (single split `all`): fit and evaluate on `all` (transductive);
  * others: fit on `train` without its gold, evaluate on `eval_split`;
  * crowd-kit DS cannot score unseen rows: it is fit on train + eval rows stacked (as WRENCH
    does for its transductive models) and scored on the eval rows;
  * "Snorkel valid prior" passes class_balance = gold label frequencies of the `valid` split,
    only where a valid split with gold exists and is not the evaluation split;
  * predictions: argmax with a fixed per-row hash tie-break (common.argmax_hash_tiebreak).

Writes benchmarks/results/quality.md and quality.json. Run with the peers' venv:
    benchmarks/peers/.venv/bin/python benchmarks/peers/run_quality.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import traceback

import numpy as np
from common import (
    CrowdKit,
    CrowdKitDS,
    FitTimeout,
    FlyingSquid,
    HyperLM,
    NotApplicable,
    NumpyMV,
    Ours,
    OursMV,
    SnorkelLM,
    add_runner_args,
    hard_limit,
    load_index,
    load_split,
    machine_info,
    metrics,
    our_models,
    ours_revision,
    run_main,
    time_call,
    warm_up,
)

FIT_BUDGET_S = 120.0  # skip a fit whose estimated cost is above this ...
HARD_LIMIT_S = 300.0  # ... and abort one that still overruns this (SIGALRM backstop)

LABELS = {
    "mv_numpy": "MV (numpy)",
    "ours_mv": "MV (ours)",
    "snorkel": "Snorkel",
    "snorkel_valid_prior": "Snorkel valid prior",
    "flyingsquid": "FlyingSquid",
    "crowdkit_ds": "DS crowd-kit",
    "crowdkit_mace": "MACE crowd-kit",
    "crowdkit_zbs": "ZBS crowd-kit",
    "crowdkit_wawa": "Wawa crowd-kit",
    "hyperlm": "HyperLM",
    "hyperlm_raw": "HyperLM raw",
}


def build_methods() -> list:
    methods = [
        NumpyMV(),
        OursMV(),
        SnorkelLM("snorkel"),
        SnorkelLM("snorkel_valid_prior", use_prior=True),
        FlyingSquid(),
        CrowdKitDS(),
        CrowdKit("crowdkit_mace", "MACE"),
        CrowdKit("crowdkit_zbs", "ZeroBasedSkill"),
        CrowdKit("crowdkit_wawa", "Wawa"),
        HyperLM(),
        HyperLM(raw=True),
    ]
    methods += [Ours(name, kw) for name, kw in our_models()]
    return methods


def estimated_fit_s(method, n: int, m: int, k: int) -> float:
    """Rough fit cost from the figures measured on this machine (PEERS.md and our own runs):
    Snorkel ~ 100 epochs x (m k)^2 at ~2.5e-8 s plus the dense one-hot; crowd-kit DS ~ 100
    pandas EM iterations over the answers; FlyingSquid ~ its m^3 triplet loop in Python."""
    nnz = n * m  # upper bound on answers
    if isinstance(method, SnorkelLM):
        return 100 * (m * k) ** 2 * 2.5e-8 + nnz * k * 5e-8  # weather_sentiment: 14 s
    if isinstance(method, CrowdKitDS):
        return 100 * nnz * k * 1e-7
    if isinstance(method, CrowdKit) and method.aggregator == "MACE":
        return 10 * 50 * nnz * k * 2e-8  # 10 restarts x 50 variational iterations
    if isinstance(method, CrowdKit):
        return 100 * nnz * 1e-7
    if isinstance(method, FlyingSquid):
        return m**3 * 1.5e-6 + nnz * 1e-7  # sentiment_popularity (m = 143): 4.4 s
    return 0.0


def class_balance_from_valid(info: dict, name: str) -> np.ndarray | None:
    valid = info["splits"].get("valid")
    if not valid or not valid.get("n_gold") or info["eval_split"] == "valid":
        return None
    _, y = load_split(name, "valid")
    y = y[y >= 0].astype(np.int64)
    return np.bincount(y, minlength=info["k"]) / len(y)


def valid_prior_for(method, cb: np.ndarray | None) -> np.ndarray | None:
    """The valid split's class balance for the methods reported with it (``use_prior``: Snorkel's
    "valid prior" column) and None for every other: our columns and the other peers are gold-free
    (``common.Ours`` passes a balance it is given to the fit since session 54)."""
    return cb if getattr(method, "use_prior", False) else None


def run_one(method, L_fit, L_eval, y_eval, k, cb) -> dict:
    n, m = L_fit.shape
    cb = valid_prior_for(method, cb)
    if method.binary_only and k != 2:
        return {"status": "n/a", "note": "binary only"}
    est = estimated_fit_s(method, n + (len(L_eval) if method.transductive else 0), m, k)
    if est > FIT_BUDGET_S:
        return {"status": "timeout", "note": f"estimated fit {est:.0f} s > {FIT_BUDGET_S:.0f} s"}
    fit_L = L_fit
    if method.transductive and L_fit is not L_eval:
        fit_L = np.vstack([L_fit, L_eval])
    stage = "fit"
    try:
        with hard_limit(HARD_LIMIT_S):
            _, fit_s = time_call(method.fit, fit_L, k, class_balance=cb)
            stage = "predict"
            P, pred_s = time_call(method.predict_proba, L_eval)
    except NotApplicable as exc:
        return {"status": "n/a", "note": str(exc)}
    except FitTimeout as exc:
        return {"status": "timeout", "note": f"{stage}: {exc}"}
    except Exception as exc:
        ours_unfinished = method.family == "ours" and (
            isinstance(exc, (NotImplementedError, ImportError))
            or (stage == "fit" and isinstance(exc, (ValueError, TypeError)))
        )
        msg = f"{type(exc).__name__} in {stage}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
        if not ours_unfinished:
            traceback.print_exc(limit=3)
        return {"status": "n/a" if ours_unfinished else "err", "note": msg}
    P = np.asarray(P, dtype=np.float64)
    if P.shape != (len(L_eval), k):
        return {"status": "err", "note": f"predict_proba shape {P.shape} != {(len(L_eval), k)}"}
    bad = ~np.isfinite(P).all(axis=1)
    note = ""
    if bad.any():
        # Non-finite posteriors (e.g. FlyingSquid's raw-product underflow): score those rows as
        # uniform and say so.
        P[bad] = 1.0 / k
        note = f"{int(bad.sum())} rows with non-finite proba scored as uniform"
    res = {"status": "ok", "fit_s": fit_s, "predict_s": pred_s, **metrics(P, y_eval, k)}
    if note:
        res["note"] = note
    return res


def run(datasets: list[str] | None, only_methods: list[str] | None) -> dict:
    index = load_index()
    methods = build_methods()
    if only_methods:
        methods = [mm for mm in methods if mm.name in only_methods]
    out = {
        "meta": {
            "date": dt.date.today().isoformat(),
            "machine": machine_info(),
            "ours": ours_revision(),
            "protocol": __doc__.split("Writes")[0].strip(),
            "fit_budget_s": FIT_BUDGET_S,
            "methods": [mm.name for mm in methods],
        },
        "datasets": {},
    }
    warm_up(methods, k=2)
    warm_up([mm for mm in methods if not mm.binary_only], k=3)
    for name, info in index.items():
        ev = info.get("eval_split")
        if not ev or not info["splits"][ev].get("n_gold"):
            continue
        if datasets and name not in datasets:
            continue
        k = info["k"]
        L_eval, y_eval = load_split(name, ev)
        if ev == "all":
            fit_split, L_fit = "all", L_eval
        else:
            fit_split = "train"
            L_fit, _ = load_split(name, "train")  # gold never used
        cb = class_balance_from_valid(info, name)
        row = {
            "k": k,
            "m": int(L_fit.shape[1]),
            "fit_split": fit_split,
            "eval_split": ev,
            "n_fit": int(L_fit.shape[0]),
            "n_eval": int((y_eval >= 0).sum()),
            "valid_prior": None if cb is None else cb.tolist(),
            "results": {},
        }
        for method in methods:
            res = run_one(method, L_fit, L_eval, y_eval, k, cb)
            row["results"][method.name] = res
            show = {kk: round(v, 4) for kk, v in res.items() if isinstance(v, float)}
            print(f"{name:<22} {method.name:<24} {res['status']:<7} {show} {res.get('note', '')}")
            sys.stdout.flush()
        out["datasets"][name] = row
    return out


# --------------------------------------------------------------------------- markdown


def _fmt(v: float, metric: str) -> str:
    if metric.endswith("_s"):
        if v < 1e-3:
            return "<0.001"
        return f"{v:.2g}" if v < 10 else f"{v:.0f}"
    return f"{v:.3f}"


METRIC_LABEL = {
    "acc": "acc",
    "f1": "F1 (class 1)",
    "macro_f1": "macro-F1",
    "brier": "Brier",
    "fit_s": "fit s",
    "predict_s": "predict s",
}


def to_markdown(res: dict) -> str:
    meta = res["meta"]
    names = meta["methods"]
    label = {n: LABELS.get(n, n.replace("_", " ")) for n in names}
    lines = [
        "# Label-model quality: tripletws vs peers",
        "",
        f"Generated by `benchmarks/peers/run_quality.py` on {meta['date']}; machine: "
        f"{meta['machine']} (shared, so timings are indicative); {meta.get('threads', '')}. "
        f"Code: {meta['ours']}.",
        "",
        "Protocol: crowd sets (split `all`) fit and evaluate on all rows; the others fit on "
        "`train` (gold unused) and evaluate on the eval split of `index.json`. crowd-kit "
        "(DS, MACE, ZBS = ZeroBasedSkill, Wawa; default arguments, abstains dropped) and HyperLM "
        "are transductive (fit on train + eval rows, scored on the eval rows). HyperLM = PyPI "
        "`hyperlm` 0.0.5 `HyperLabelModel(device='cpu').infer(L, return_probs=True)` with "
        "all-abstain rows moved first (it drops trailing ones) and scored uniform; *HyperLM raw* "
        "keeps its own output on those rows. Snorkel = `LabelModel(k).fit(L, seed=0)` "
        "(uniform prior); *Snorkel valid prior* = `class_balance` from the valid split's gold "
        "(only where valid has gold and is not the eval split). FlyingSquid = "
        "`LabelModel(m).fit(solve_method='triplet_mean')`, binary only. Predictions = argmax "
        "with a fixed per-row-hash tie-break (tolerance 1e-5), the same for all methods. "
        "Metrics on gold rows: acc; F1 of class 1 (k = 2) or macro-F1 (k > 2); Brier = mean "
        "of sum_c (p_c - onehot_c)^2; fit and predict wall time in seconds. Best per row in "
        "**bold** (highest acc/F1, lowest Brier/time). `n/a`: not applicable or not "
        "implemented; `err`: crashed (see notes); `timeout`: estimated fit above "
        f"{meta['fit_budget_s']:.0f} s, skipped.",
        "",
    ]
    header = "| dataset | k | m | n fit → eval | metric | " + " | ".join(label[n] for n in names)
    lines += [header + " |", "|---|---|---|---|---|" + "---|" * len(names)]
    notes: dict[tuple[str, str, str], list[str]] = {}  # (method, status, note) -> datasets
    for dname, row in res["datasets"].items():
        k = row["k"]
        mets = ["acc", "f1" if k == 2 else "macro_f1", "brier", "fit_s", "predict_s"]
        for i, met in enumerate(mets):
            vals = {}
            cells = {}
            for n in names:
                r = row["results"][n]
                if r["status"] == "ok":
                    vals[n] = r[met]
                    cells[n] = _fmt(r[met], met)
                else:
                    cells[n] = r["status"]
            if vals:
                higher = met in ("acc", "f1", "macro_f1")
                best = max(vals.values()) if higher else min(vals.values())
                for n, v in vals.items():
                    if _fmt(v, met) == _fmt(best, met):
                        cells[n] = f"**{cells[n]}**"
            if i == 0:
                split = (
                    f"all ({row['n_eval']})"
                    if row["fit_split"] == "all"
                    else f"train ({row['n_fit']}) → {row['eval_split']} ({row['n_eval']})"
                )
                lead = f"| {dname} | {k} | {row['m']} | {split} "
            else:
                lead = "| | | | "
            lines.append(lead + f"| {METRIC_LABEL[met]} | " + " | ".join(cells[n] for n in names) + " |")
        for n in names:
            r = row["results"][n]
            if r.get("note"):
                notes.setdefault((label[n], r["status"], r["note"]), []).append(dname)
    # mean accuracy and F1 rows (F1 of class 1 for binary sets, macro-F1 otherwise)
    dsets = res["datasets"]
    for met, title, subset in [
        ("acc", "all", list(dsets)),
        ("acc", "binary", [d for d in dsets if dsets[d]["k"] == 2]),
        ("f1", "all", list(dsets)),
        ("f1", "binary", [d for d in dsets if dsets[d]["k"] == 2]),
    ]:
        vals, cells = {}, {}
        for n in names:
            got = [
                dsets[d]["results"][n].get("f1", dsets[d]["results"][n].get("macro_f1"))
                if met == "f1"
                else dsets[d]["results"][n]["acc"]
                for d in subset
                if dsets[d]["results"][n]["status"] == "ok"
            ]
            if len(got) == len(subset) and subset:
                vals[n] = float(np.mean(got))
                cells[n] = f"{vals[n]:.3f}"
            elif got:
                cells[n] = f"({np.mean(got):.3f} on {len(got)})"
            else:
                cells[n] = "-"
        if vals:
            best = max(vals.values())
            for n, v in vals.items():
                if f"{v:.3f}" == f"{best:.3f}":
                    cells[n] = f"**{cells[n]}**"
        label_met = "acc" if met == "acc" else "F1 / macro-F1"
        lines.append(
            f"| **mean {label_met}, {title} ({len(subset)} sets)** | | | | {label_met} | "
            + " | ".join(cells[n] for n in names)
            + " |"
        )
    lines += [
        "",
        "Mean rows: only methods with a result on every set of the group are comparable "
        "(bold among those); a partial mean is shown in parentheses with its count.",
        "",
    ]
    if notes:
        lines += ["Notes (n/a, err, timeout, and warnings):", ""]
        n_sets = len(res["datasets"])
        for (meth, status, note), where in notes.items():
            on = f"all {n_sets} sets" if len(where) == n_sets else ", ".join(where)
            lines.append(f"- {meth}: `{status}` on {on}: {note}")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="*", help="subset of dataset names")
    add_runner_args(ap)
    args = ap.parse_args()
    return run_main(args, "quality", to_markdown, lambda: run(args.datasets, args.methods))


if __name__ == "__main__":
    sys.exit(main())
