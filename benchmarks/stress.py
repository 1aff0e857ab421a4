"""Stress suite: our label models against majority vote on 312 seeded synthetic problems.

Each problem (benchmarks/stress_problems.py) draws a train matrix and a separate test matrix from
the same generator. Every method is fitted on the train rows without gold and scored on the test
rows' gold:

* accuracy: its expectation under uniform tie-breaking among equal top probabilities
  (|p - max| <= 1e-9), so a model that ties majority vote scores what majority vote scores;
* F1: of class 1 for k = 2 (the rare class of imbalanced binary problems), macro over the k
  classes for k > 2, averaged over 20 seeded tie-breaks.

Methods: majority vote (MV), the candidate configurations given with ``--model-kw`` (default:
``{}``, the library default) and our single models (``--models``, default every name in
``tripletws.models.registered()``), all ``LabelModel(cardinality=k, **kw)``. Reports win / tie / loss
(tie = within 0.5 points) against MV and against the best single model on each problem, the share
of problems at or above MV - 0.5 points, means per family and the slowest fits. A method that
raises is recorded with its error (a crash is a finding) and counts as a loss. Each method's record
also holds its accuracy and majority vote's on each kind of test row (``by_kind``: rows without a
vote, rows whose votes tie, rows with a clear majority; ``scoring.split_by_kind``), which
``benchmarks/row_kinds.py`` reads to say on which rows a run gains and loses.

    PYTHONPATH=src python benchmarks/stress.py --quick                     # 60 problems, < 2 min
    PYTHONPATH=src python benchmarks/stress.py --jobs 2                    # 312 problems
    PYTHONPATH=src python benchmarks/stress.py --model-kw '{}' '{"model": "symmetric", "solver": "rank_one"}'
    PYTHONPATH=src python benchmarks/stress.py --model-kw '{}' '{"class_balance": "gold"}'

``"class_balance": "gold"`` in a keyword set stands for the problem's true class balance (its
generator's, :func:`true_balance`), passed as ``class_balance=``: a user who knows the balance (the
path where the fit keeps a given prior exactly).

Writes benchmarks/results/stress.{md,json} (``--out`` changes the path; ``--quick`` writes
stress_quick.*). ``--render JSON`` only rewrites the markdown of a results file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from provenance import revision  # noqa: E402
from scoring import mv_scores, split_by_kind, tie_scores  # noqa: E402
from stress_problems import (  # noqa: E402
    BASE_SEED,
    EXTRA_FAMILIES,
    FAMILIES,
    Problem,
    all_problems,
    build_world,
    draw,
    imbalance_all,
    quick_problems,
    requested_extras,
)

RESULTS = HERE / "results"
TIE = 0.005  # |difference| <= 0.5 points is a tie
FIT_LIMIT_S = 300  # a fit + predict that runs longer is aborted and recorded as an error


# --------------------------------------------------------------------------- scoring


# --------------------------------------------------------------------------- methods


def canonical(kw: dict) -> str:
    return json.dumps(kw, sort_keys=True, separators=(",", ":"))


def method_name(kw: dict) -> str:
    if not kw:
        return "default"
    if set(kw) == {"model"}:
        return str(kw["model"])
    return ",".join(f"{k}={v}" for k, v in sorted(kw.items()))


def resolved_key(kw: dict) -> str:
    """Canonical form of the full LabelModel settings, so that ``{}`` and
    ``{"model": "class_conditional"}`` (the same configuration today) are fitted once."""
    try:
        from tripletws import LabelModel

        params = LabelModel(**kw).get_params()
        params.pop("cardinality", None)
        return canonical({k: repr(v) for k, v in params.items()})
    except Exception:  # an invalid configuration: it will be recorded as an error per problem
        return canonical(kw)


def build_methods(
    model_kws: list[dict], singles: list[str]
) -> tuple[dict[str, dict], dict[str, str], list[str], list[str]]:
    """Our methods: ``({name: kwargs}, {name: name of the identical configuration fitted instead},
    candidate names, single-model names)``."""
    methods: dict[str, dict] = {}
    aliases: dict[str, str] = {}
    seen: dict[str, str] = {}

    def add(kw: dict) -> str:
        name = method_name(kw)
        if name in methods:
            return name
        methods[name] = kw
        key = resolved_key(kw)
        if key in seen:
            aliases[name] = seen[key]
        else:
            seen[key] = name
        return name

    candidates = [add(kw) for kw in model_kws]
    single_names = [add({"model": s}) for s in singles]
    return methods, aliases, candidates, single_names


class FitTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise FitTimeout(f"fit + predict exceeded {FIT_LIMIT_S} s")


#: The ``class_balance`` value of a keyword set that stands for the problem's true class balance.
GOLD_BALANCE = "gold"


def true_balance(problem: Problem) -> np.ndarray:
    """The class balance of ``problem``'s generator: its row types' class balances by their shares."""
    world = build_world(problem)
    return world.type_probs @ world.type_class_balance


def run_ours(
    kw: dict, k: int, L: np.ndarray, L_test: np.ndarray, balance: np.ndarray | None = None
) -> dict[str, Any]:
    from tripletws import LabelModel

    rec: dict[str, Any] = {}
    if kw.get("class_balance") == GOLD_BALANCE:
        if balance is None:
            raise ValueError("class_balance='gold' needs the problem's true class balance")
        kw = dict(kw, class_balance=balance)
    use_alarm = hasattr(signal, "SIGALRM")
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(FIT_LIMIT_S)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            lm = LabelModel(cardinality=k, **kw).fit(L)
            rec["fit_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            P = lm.predict_proba(L_test)
            rec["predict_s"] = time.perf_counter() - t0
        msgs = sorted({str(w.message).split(":")[0][:80] for w in caught})
        if msgs:
            rec["warnings"] = msgs
        fallback = getattr(lm, "fallback_", "")
        if fallback:
            rec["fallback"] = str(fallback)[:80]
        family = str(getattr(lm, "family_", "") or "")
        if family:  # the reading the predictions come from (the annotator model's family)
            rec["family"] = family
        acc = np.asarray(getattr(lm, "accuracies_", []), dtype=np.float64)
        if acc.size > 1 and np.ptp(acc) < 1e-9:
            rec["flat_accuracies"] = True
        rec["P"] = P
    except Exception as exc:  # a crash is a finding: record it and go on
        rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
        rec["traceback"] = traceback.format_exc(limit=3)[-800:]
    finally:
        if use_alarm:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    return rec


def run_problem(args: tuple[Problem, dict[str, dict], dict[str, str], int | None]) -> dict[str, Any]:
    """Draw one problem, fit and score MV and every method (aliases copy the result of the identical
    configuration). Never raises."""
    problem, methods, aliases, max_n = args
    cpu0 = time.process_time()
    k = int(problem.params["k"])
    out: dict[str, Any] = {
        "name": problem.name,
        "family": problem.family,
        "seed": problem.seed,
        "params": problem.params,
        "k": k,
        "m": int(problem.params["m"]),
    }
    try:
        t0 = time.perf_counter()
        L, _, L_test, y_test = draw(problem, max_n)
        out["draw_s"] = time.perf_counter() - t0
    except Exception as exc:
        out["error"] = f"generator: {type(exc).__name__}: {exc}"[:300]
        return out
    out["n"], out["n_test"] = int(L.shape[0]), int(L_test.shape[0])
    out["coverage"] = float(np.mean(L >= 0))
    out["unvoted_test"] = float(np.mean(~(L_test >= 0).any(axis=1)))
    mv = mv_scores(L_test, k)
    acc, f1 = tie_scores(mv, y_test, k)
    res = {"mv": {"acc": acc, "f1": f1}}
    for name, kw in methods.items():
        if name in aliases:
            continue
        balance = true_balance(problem) if kw.get("class_balance") == GOLD_BALANCE else None
        rec = run_ours(kw, k, L, L_test, balance)
        P = rec.pop("P", None)
        if P is not None:
            try:
                rec["acc"], rec["f1"] = tie_scores(P, y_test, k)
                rec["by_kind"] = split_by_kind(P, mv, y_test)
            except Exception as exc:
                rec["error"] = f"scoring: {type(exc).__name__}: {exc}"[:300]
        res[name] = rec
    for name, same in aliases.items():
        res[name] = dict(res[same], same_as=same)
    out["results"] = res
    out["cpu_s"] = time.process_time() - cpu0
    return out


def _init_worker() -> None:
    try:
        from threadpoolctl import threadpool_limits

        _init_worker.limiter = threadpool_limits(limits=1)  # type: ignore[attr-defined]
    except ImportError:
        pass


# --------------------------------------------------------------------------- summary


def _acc(prob: dict, name: str) -> float | None:
    r = prob.get("results", {}).get(name, {})
    return r.get("acc")


def summarize(res: dict) -> dict:
    """Aggregates of a results dict (methods, candidates, singles, problems)."""
    probs = [p for p in res["problems"] if "results" in p]
    names = ["mv", *res["meta"]["methods"]]
    singles = res["meta"]["singles"]
    mv = np.array([p["results"]["mv"]["acc"] for p in probs])
    mv_f1 = np.array([p["results"]["mv"]["f1"] for p in probs])
    summary: dict[str, Any] = {"n_problems": len(res["problems"]), "n_scored": len(probs), "methods": {}}
    best_single = np.array(
        [max((_acc(p, s) for s in singles if _acc(p, s) is not None), default=np.nan) for p in probs]
    )
    for name in names:
        a = np.array([np.nan if _acc(p, name) is None else _acc(p, name) for p in probs])
        f = np.array([p["results"][name].get("f1", np.nan) for p in probs])
        ok = np.isfinite(a)
        d = np.where(ok, a - mv, -np.inf)
        row = {
            "mean_acc": float(np.mean(a[ok])) if ok.any() else None,
            "mean_f1": float(np.mean(f[ok])) if ok.any() else None,
            "mean_delta_mv": float(np.mean(a[ok] - mv[ok])) if ok.any() else None,
            "mean_delta_f1_mv": float(np.mean(f[ok] - mv_f1[ok])) if ok.any() else None,
            "win_mv": int(np.sum(d > TIE)),
            "tie_mv": int(np.sum(np.abs(d) <= TIE)),
            "loss_mv": int(np.sum(d < -TIE)),
            "share_at_least_mv": float(np.mean(d >= -TIE)),
            "worst_delta_mv": float(np.min(d[ok])) if ok.any() else None,
            "errors": int(np.sum(~ok)),
            "fit_s": float(sum(p["results"][name].get("fit_s", 0.0) for p in probs if name != "mv")),
        }
        if name != "mv":
            both = ok & np.isfinite(best_single)
            db = np.where(both, a - best_single, -np.inf)
            row.update(
                win_best_single=int(np.sum(db > TIE)),
                tie_best_single=int(np.sum(np.abs(db) <= TIE)),
                loss_best_single=int(np.sum(db < -TIE)),
                mean_delta_best_single=float(np.mean(a[both] - best_single[both])) if both.any() else None,
            )
        summary["methods"][name] = row
    fam: dict[str, dict] = {}
    for family in FAMILIES:
        fp = [p for p in probs if p["family"] == family]
        if not fp:
            continue
        fam[family] = {"n": len(fp)}
        for name in names:
            a = [_acc(p, name) for p in fp]
            a = [v for v in a if v is not None]
            fam[family][name] = float(np.mean(a)) if a else None
    summary["families"] = fam
    summary["below_mv"] = {
        family: {
            name: sum(1 for p in probs if p["family"] == family and _below_mv(p, name)) for name in names[1:]
        }
        for family in fam
    }
    cands = res["meta"]["candidates"]
    summary["against_first"] = {c: against(probs, cands[0], c) for c in cands[1:]}
    return summary


def _below_mv(prob: dict, name: str) -> bool:
    """The method is more than TIE below majority vote on the problem (a crash counts as below)."""
    a = _acc(prob, name)
    return a is None or a - prob["results"]["mv"]["acc"] < -TIE


def against(probs: list[dict], base: str, other: str) -> dict:
    """Per-problem comparison of two candidates: per family, how often ``other`` is better or worse
    than ``base`` by more than TIE, and the problems where one is below MV - TIE and the other not.

    Returns
    -------
    dict
        ``families``: family -> {n, better, worse, mean_diff, newly_below, newly_above};
        ``crossings``: list of {name, family, base, other, mv} (accuracies) for the problems whose
        "below MV - TIE" status differs, worst change first.
    """
    fam: dict[str, dict] = {}
    crossings = []
    for p in probs:
        a, b = _acc(p, base), _acc(p, other)
        row = fam.setdefault(
            p["family"], {"n": 0, "better": 0, "worse": 0, "diffs": [], "newly_below": 0, "newly_above": 0}
        )
        row["n"] += 1
        if a is not None and b is not None:
            row["better"] += int(b - a > TIE)
            row["worse"] += int(b - a < -TIE)
            row["diffs"].append(b - a)
        was, now = _below_mv(p, base), _below_mv(p, other)
        if was != now:
            row["newly_below" if now else "newly_above"] += 1
            crossings.append(
                {
                    "name": p["name"],
                    "family": p["family"],
                    "base": a,
                    "other": b,
                    "mv": p["results"]["mv"]["acc"],
                }
            )
    for row in fam.values():
        d = row.pop("diffs")
        row["mean_diff"] = float(np.mean(d)) if d else None
    crossings.sort(key=lambda c: (c["other"] if c["other"] is not None else -1.0) - (c["base"] or 0.0))
    return {"families": fam, "crossings": crossings}


def _fmt(v: Any, nd: int = 3, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:+.{nd}f}" if signed else f"{v:.{nd}f}"


def to_markdown(res: dict) -> str:
    meta, s = res["meta"], summarize(res)
    names = ["mv", *meta["methods"]]
    out = [
        "# Stress suite: label models against majority vote on synthetic problems",
        "",
        f"- command: `{meta['command']}`",
        f"- code: {meta['code']}; {meta['date']}; {meta['machine']}; jobs {meta['jobs']}, 1 BLAS thread each",
        f"- problems: {s['n_scored']} scored of {s['n_problems']} ({meta['suite']}); "
        f"wall time {meta['wall_s']:.0f} s, CPU time of the problems {meta.get('cpu_s', float('nan')):.0f} s",
        f"- candidates (`--model-kw`): {', '.join(meta['candidates'])}; "
        f"single models: {', '.join(meta['singles'])}"
        + "".join(
            f"; `{a}` is the same configuration as `{b}` (fitted once)"
            for a, b in meta.get("aliases", {}).items()
        ),
        "- method settings: "
        + "; ".join(f"`{n}` = `{json.dumps(kw)}`" for n, kw in meta["method_kwargs"].items()),
        "- accuracy: expectation under uniform tie-breaking among equal top probabilities; F1: class 1 "
        "for k = 2, macro for k > 2, mean of 20 seeded tie-breaks; tie = within 0.5 points; "
        "a crash counts as a loss",
        "",
        "## Summary",
        "",
        "| method | mean acc | mean F1 | acc - MV | F1 - MV | W / T / L vs MV | >= MV - 0.5 pt | worst vs MV "
        "| W / T / L vs best single | vs best single | errors | fit s (sum) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        r = s["methods"][name]
        wtl = f"{r['win_mv']} / {r['tie_mv']} / {r['loss_mv']}" if name != "mv" else "-"
        wtl_b = (
            f"{r['win_best_single']} / {r['tie_best_single']} / {r['loss_best_single']}"
            if name != "mv"
            else "-"
        )
        out.append(
            f"| {name} | {_fmt(r['mean_acc'])} | {_fmt(r['mean_f1'])} | "
            f"{_fmt(r['mean_delta_mv'], signed=True) if name != 'mv' else '-'} | "
            f"{_fmt(r['mean_delta_f1_mv'], signed=True) if name != 'mv' else '-'} | {wtl} | "
            f"{_fmt(100 * r['share_at_least_mv'], 1) + ' %' if name != 'mv' else '-'} | "
            f"{_fmt(r['worst_delta_mv'], signed=True) if name != 'mv' else '-'} | {wtl_b} | "
            f"{_fmt(r.get('mean_delta_best_single'), signed=True)} | {r['errors']} | {_fmt(r['fit_s'], 1)} |"
        )
    out += [
        "",
        "`vs best single`: against the best of the single models on each problem (an oracle choice).",
        "",
        "## Mean accuracy per family",
        "",
        "| family | problems | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for family, row in s["families"].items():
        best = max((row[n] for n in names if row[n] is not None), default=None)
        cells = [
            (
                f"**{_fmt(row[n])}**"
                if row[n] is not None and best is not None and row[n] >= best - 1e-12
                else _fmt(row[n])
            )
            for n in names
        ]
        out.append(f"| {family} | {row['n']} | " + " | ".join(cells) + " |")
    out += [
        "",
        "## Problems more than 0.5 points below MV, per family",
        "",
        "| family | problems | " + " | ".join(names[1:]) + " |",
        "|---|---|" + "---|" * (len(names) - 1),
    ]
    for family, row in s["below_mv"].items():
        out.append(
            f"| {family} | {s['families'][family]['n']} | "
            + " | ".join(str(row[n]) for n in names[1:])
            + " |"
        )
    out.append(
        "| **all** | "
        + str(s["n_scored"])
        + " | "
        + " | ".join(str(sum(r[n] for r in s["below_mv"].values())) for n in names[1:])
        + " |"
    )
    for other, cmp in s["against_first"].items():
        base = meta["candidates"][0]
        out += [
            "",
            f"## `{other}` against `{base}`, per family",
            "",
            f"better / worse: `{other}` above / below `{base}` by more than 0.5 points; newly below / above: "
            "problems that fall below MV - 0.5 points / rise to or above it.",
            "",
            "| family | problems | better | worse | mean diff | newly below | newly above |",
            "|---|---|---|---|---|---|---|",
        ]
        for family, row in cmp["families"].items():
            out.append(
                f"| {family} | {row['n']} | {row['better']} | {row['worse']} | "
                f"{_fmt(row['mean_diff'], signed=True)} | {row['newly_below']} | {row['newly_above']} |"
            )
        out += ["", "| problem | MV | " + base + " | " + other + " | change |", "|---|---|---|---|---|"]
        for c in cmp["crossings"]:
            change = None if c["other"] is None or c["base"] is None else c["other"] - c["base"]
            out.append(
                f"| {c['name']} | {_fmt(c['mv'])} | {_fmt(c['base'])} | {_fmt(c['other'])} | "
                f"{_fmt(change, signed=True)} |"
            )
    probs = [p for p in res["problems"] if "results" in p]
    for cand in meta["candidates"]:
        rows = []
        for p in probs:
            a = _acc(p, cand)
            d = -np.inf if a is None else a - p["results"]["mv"]["acc"]
            rows.append((d, p))
        rows.sort(key=lambda x: x[0])
        out += [
            "",
            f"## Worst problems for `{cand}` against MV",
            "",
            "| problem | n | m | k | coverage | acc | MV | diff | F1 | MV F1 | note |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for d, p in rows[:12]:
            r = p["results"][cand]
            note = r.get("error") or r.get("fallback") or ("; ".join(r.get("warnings", [])) or "")
            note = (note[:90] + "...") if len(note) > 90 else note
            out.append(
                f"| {p['name']} | {p['n']} | {p['m']} | {p['k']} | {p['coverage']:.3f} | "
                f"{_fmt(r.get('acc'))} | "
                f"{_fmt(p['results']['mv']['acc'])} | {_fmt(d, signed=True)} | {_fmt(r.get('f1'))} | "
                f"{_fmt(p['results']['mv']['f1'])} | {note.replace('|', '/')} |"
            )
    fits = [
        (p["results"][n]["fit_s"], p, n)
        for p in probs
        for n in meta["methods"]
        if "fit_s" in p["results"][n] and "same_as" not in p["results"][n]
    ]
    fits.sort(key=lambda x: -x[0])
    out += [
        "",
        "## Slowest fits",
        "",
        "| problem | method | n | m | k | fit s | predict s |",
        "|---|---|---|---|---|---|---|",
    ]
    for t, p, n in fits[:12]:
        out.append(
            f"| {p['name']} | {n} | {p['n']} | {p['m']} | {p['k']} | {t:.2f} | "
            f"{p['results'][n].get('predict_s', 0.0):.2f} |"
        )
    errs = [
        (p["name"], n, p["results"][n]["error"])
        for p in probs
        for n in meta["methods"]
        if "error" in p["results"][n]
    ]
    errs += [(p["name"], "generator", p["error"]) for p in res["problems"] if "error" in p]
    out += ["", "## Errors", ""]
    out += [f"- {name} / {meth}: `{err}`" for name, meth, err in errs] or ["none"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def output_paths(out: str | None, quick: bool) -> tuple[Path, Path]:
    if out is None:
        base = RESULTS / ("stress_quick" if quick else "stress")
    else:
        o = Path(out)
        base = o / ("stress_quick" if quick else "stress") if o.is_dir() else o.with_suffix("")
    return base.with_suffix(".json"), base.with_suffix(".md")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the fixed 60-problem subset")
    ap.add_argument(
        "--model-kw",
        nargs="+",
        default=["{}"],
        metavar="JSON",
        help="candidate LabelModel keyword sets (default: '{}', the library default)",
    )
    ap.add_argument(
        "--models",
        nargs="*",
        default=None,
        help="single models to compare with (default: tripletws.models.registered())",
    )
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (one BLAS thread each)")
    ap.add_argument("--out", help="results path (.json; the .md goes beside it) or folder")
    ap.add_argument("--problems", nargs="*", help="only these problem names")
    ap.add_argument(
        "--families",
        nargs="*",
        choices=(*FAMILIES, *EXTRA_FAMILIES),
        help="only these families (opt-in families such as cross_feature are drawn only when named)",
    )
    ap.add_argument("--max-n", type=int, help="cap train and test rows (smoke tests)")
    ap.add_argument(
        "--imbalance-all",
        action="store_true",
        help="give every problem whose family leaves its classes balanced a class ratio of 2 to 20 "
        "(stress_problems.imbalance_all; the other knobs and draws unchanged)",
    )
    ap.add_argument("--render", metavar="JSON", help="only re-render the markdown of a results json")
    ap.add_argument(
        "--base-seed",
        type=int,
        default=BASE_SEED,
        help=f"seed of the suite (default {BASE_SEED}, the usual one); another draws fresh problems from the "
        "same generators, written to stress_seed<SEED>.* unless --out is given",
    )
    ap.add_argument(
        "--fold-salt",
        type=int,
        default=0,
        help="study of the deal's noise: every deal of rows into folds (the family choice's and the "
        "checks') drawn with its seed xor a hash of this salt (0, the default: the library's own deals)",
    )
    return ap.parse_args(argv)


#: The library's own row keys, kept at the first ``set_fold_salt`` (the patch replaces them).
_LIBRARY_KEYS: list = []


def set_fold_salt(salt: int) -> None:
    """Deal the rows into other folds than the library does (the seed of every row key xor a hash of
    ``salt``; 0: the library's own deals): how much of a result is the one deal's luck.  Forked
    workers inherit the patch; ``benchmarks/deal_bagging_study.py`` switches it per deal."""
    import tripletws.estimators.heldout as heldout

    if not _LIBRARY_KEYS:
        _LIBRARY_KEYS.append(heldout.row_fold_keys)
    keys = _LIBRARY_KEYS[0]
    if not salt:
        heldout.row_fold_keys = keys
        return

    def salted(rows, counts, k, seed=0, votes=None):
        return keys(rows, counts, k, (int(seed) ^ (salt * 0x9E3779B1)) & 0xFFFFFFFFFFFFFFFF, votes)

    heldout.row_fold_keys = salted


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        res = json.loads(Path(args.render).read_text())
        write_atomic(Path(args.render).with_suffix(".md"), to_markdown(res))
        return 0
    model_kws = []
    for text in args.model_kw:
        kw = json.loads(text)
        if not isinstance(kw, dict):
            raise SystemExit(f"--model-kw {text!r} is not a JSON object")
        model_kws.append(kw)
    if args.models is None:
        from tripletws.models import registered

        singles = list(registered())
    else:
        singles = args.models
    methods, aliases, candidates, single_names = build_methods(model_kws, singles)
    if args.fold_salt:
        set_fold_salt(args.fold_salt)
    seed = args.base_seed
    problems = quick_problems(seed) if args.quick else all_problems(seed, requested_extras(args.families))
    if args.problems:
        wanted = set(args.problems)
        every = all_problems(seed, EXTRA_FAMILIES)
        unknown = wanted - {p.name for p in every}
        if unknown:
            raise SystemExit(f"unknown problems: {', '.join(sorted(unknown))}")
        problems = [p for p in every if p.name in wanted]
    if args.families:
        problems = [p for p in problems if p.family in args.families]
    if args.imbalance_all:
        problems = imbalance_all(problems)
    t0 = time.perf_counter()
    tasks = [(p, methods, aliases, args.max_n) for p in problems]
    rows: list[dict] = []
    if args.jobs > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(args.jobs, initializer=_init_worker) as pool:
            for i, row in enumerate(pool.imap(run_problem, tasks)):
                rows.append(row)
                _progress(i, len(tasks), row)
    else:
        _init_worker()
        for i, task in enumerate(tasks):
            rows.append(run_problem(task))
            _progress(i, len(tasks), rows[-1])
    wall = time.perf_counter() - t0
    res = {
        "meta": {
            "command": "python benchmarks/stress.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "code": f"tripletws @ {revision()}",
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}",
            "jobs": args.jobs,
            "suite": ("quick subset" if args.quick else "full suite")
            + ("" if seed == BASE_SEED else f", fresh draw: base seed {seed}")
            + (", every problem's classes imbalanced (--imbalance-all)" if args.imbalance_all else ""),
            "base_seed": seed,
            "imbalance_all": bool(args.imbalance_all),
            "wall_s": wall,
            "cpu_s": float(sum(r.get("cpu_s", 0.0) for r in rows)),
            "methods": list(methods),
            "method_kwargs": methods,
            "aliases": aliases,
            "candidates": candidates,
            "singles": single_names,
        },
        "problems": rows,
    }
    res["summary"] = summarize(res)
    out = args.out
    if out is None and (seed != BASE_SEED or args.imbalance_all):
        # the variant never overwrites the balanced suite's files, whatever the seed
        tag = "_imbalanced" if args.imbalance_all else ""
        out = str(RESULTS / (f"stress{'_quick' if args.quick else ''}_seed{seed}{tag}.json"))
    json_path, md_path = output_paths(out, args.quick)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(json_path, json.dumps(res, indent=1, default=float))
    write_atomic(md_path, to_markdown(res))
    print(f"wrote {md_path} and {json_path} ({wall:.0f} s)")
    for name in candidates:
        r = res["summary"]["methods"][name]
        print(
            f"{name}: mean acc {r['mean_acc']:.4f} (MV {res['summary']['methods']['mv']['mean_acc']:.4f}); "
            f"W/T/L vs MV {r['win_mv']}/{r['tie_mv']}/{r['loss_mv']}; "
            f">= MV-0.5pt {100 * r['share_at_least_mv']:.1f} %"
        )
    return 0


def _progress(i: int, total: int, row: dict) -> None:
    accs = " ".join(
        f"{n}={v['acc']:.3f}" if "acc" in v else f"{n}=ERR" for n, v in row.get("results", {}).items()
    )
    msg = row.get("error", accs)
    print(
        f"[{i + 1}/{total}] {row['name']} m={row['m']} k={row['k']} n={row.get('n', '?')} {msg}", flush=True
    )


if __name__ == "__main__":
    sys.exit(main())
