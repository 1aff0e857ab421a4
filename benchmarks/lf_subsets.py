"""Real LFs in new combinations: the default against majority vote on random subsets of the shared sets' LFs.

The stress suite's problems come from our own generators; the shared sets are 15 fixed LF sets. A
new user's LF set is neither: a handful of real LFs, with the dependencies, one-class votes and
coverage patterns that real LFs have, in a combination no choice of ours has seen. This suite draws
such combinations from the shared sets: for every set with gold, random subsets of its LFs (3, 5 and
8 LFs, fewer than the set has) or of its annotators (a quarter and half of a crowd), each fitted
without gold on the fit split and scored on the evaluation split against majority vote over the same
columns. Only LFs that vote on the fit split are drawn.

Accuracy is the expectation under a uniform tie-break among equal top scores (a model that ties
majority vote scores majority vote's accuracy); F1 is of class 1 for k = 2, macro for k > 2, the
mean over 20 seeded tie-breaks (``benchmarks/scoring.py``). A subset's draw is seeded by the set's
name, the size and the draw's number, so a run is reproducible and a new ``--seed`` gives new subsets
where there are more than ``--draws`` to choose from: where a set has at most that many subsets of a
size (spouse_rdp's 4 of 3 LFs, tennis_flyingsquid's 20 of 3 and 6 of 5), every seed draws all of them
(seeds 0 and 1 share 61 of their 690 subsets).

The draws of one set share its rows and many of its LFs, so they are not independent problems: the
summary gives each set's figures and the mean over sets (each set weighted equally), beside the pooled
share. It is a development check of how the default generalizes to LF sets it has not seen; it
chooses nothing. Each record of the default also holds its accuracy and majority vote's on the
evaluation rows with a vote and on those without (``by_rows``), the same on each kind of row
(``by_kind``: without a vote, tied votes, a clear majority; ``benchmarks/row_kinds.py``), and the
fit's gold-free decisions (``decisions``: the family choice, the coverage and abstain checks, the
shrinkage), so that a rule can be screened on the records without refitting.

    PYTHONPATH=src python benchmarks/lf_subsets.py --draws 20 --out benchmarks/results/lf_subsets.json
    PYTHONPATH=src python benchmarks/lf_subsets.py --set tripletws.models.annotator:NAMED_VOTES=false \
        --out /tmp/off.json        # a study switch off, to compare subset by subset with a plain run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH / "peers"))
sys.path.insert(0, str(BENCH))

from common import machine_info  # noqa: E402
from scoring import mv_scores, split_by_kind, tie_scores  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402

TIE = 0.005  # |difference| <= 0.5 points is a tie, as in benchmarks/stress.py
LF_SIZES = (3, 5, 8)
CROWD_SHARES = (0.25, 0.5)
METHODS = {"default": {}, "symmetric": {"model": "symmetric"}}


def shared_sets() -> list[dict[str, Any]]:
    """Every shared set with gold on its evaluation split (``quality_lodo.shared_sets``, the judge's
    splits): fit and evaluation matrices, gold, k, and whether it is a crowd set (one split ``all``)."""
    from quality_lodo import shared_sets as splits

    keys = ("name", "k", "L_fit", "L_eval", "y", "crowd")
    return [dict(zip(keys, entry, strict=True)) for entry in splits()]


def sizes(ds: dict[str, Any], voting: int, lf_sizes: tuple[int, ...] = LF_SIZES) -> list[int]:
    """The subset sizes drawn from a set with ``voting`` LFs that vote on the fit split (``lf_sizes``
    for an LF set, fewer than it has)."""
    if ds["crowd"]:
        return sorted({max(3, round(s * voting)) for s in CROWD_SHARES if max(3, round(s * voting)) < voting})
    return [s for s in lf_sizes if s < voting]


def subset_seed(name: str, size: int, draw: int, seed: int) -> int:
    """A seed for one subset, stable across runs and platforms (not Python's salted ``hash``)."""
    text = f"{seed}:{name}:{size}:{draw}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


Task = tuple[dict[str, Any], list[int], int, int, dict[str, dict[str, Any]]]


def subset_record(
    ds: dict[str, Any], cols: list[int], size: int, draw: int, L_eval: np.ndarray
) -> tuple[dict[str, Any], np.ndarray]:
    """A subset's record before any method is fitted (its set, classes, size, draw, LFs, majority
    vote's scores on the evaluation rows ``L_eval`` of those LFs, the share of those rows without a
    vote), and majority vote's (n, k) vote counts there."""
    k, y = ds["k"], ds["y"]
    rec: dict[str, Any] = {
        "set": ds["name"],
        "k": k,
        "crowd": ds["crowd"],
        "size": size,
        "draw": draw,
        "lfs": cols,
    }
    mv = mv_scores(L_eval, k)
    acc, f1 = tie_scores(mv, y, k)
    rec["mv"] = {"acc": acc, "f1": f1}
    rec["unvoted_eval"] = float(np.mean((L_eval < 0).all(axis=1)))
    return rec, mv


def run_subset(task: Task) -> dict[str, Any]:
    """Fit every method on one subset of LFs and score it against majority vote. Never raises."""
    from tripletws import LabelModel

    ds, cols, size, draw, methods = task
    k, y = ds["k"], ds["y"]
    L_fit, L_eval = ds["L_fit"][:, cols], ds["L_eval"][:, cols]
    rec, mv = subset_record(ds, cols, size, draw, L_eval)
    for label, kw in methods.items():
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                t0 = time.process_time()
                model = LabelModel(k, **kw).fit(L_fit)
                fit_s = time.process_time() - t0
                P = model.predict_proba(L_eval)
            acc, f1 = tie_scores(P, y, k)
            out: dict[str, Any] = {"acc": acc, "f1": f1, "fit_cpu_s": fit_s}
            if label == "default":
                out["family"] = str(getattr(model, "family_", ""))
                out["notes"] = sorted({str(w.message)[:160] for w in caught})[:4]
                out["by_rows"] = rows_split(P, mv, L_eval, y, k)
                out["by_kind"] = split_by_kind(P, mv, y)
                out["decisions"] = decisions(model)
            rec[label] = out
        except Exception as exc:  # a crash is a finding: record it and go on
            rec[label] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return rec


def rows_split(P: np.ndarray, mv: np.ndarray, L_eval: np.ndarray, y: np.ndarray, k: int) -> dict[str, Any]:
    """Accuracy of ``P`` and of majority vote (its scores ``mv``) on the evaluation rows with a vote and
    on those without.

    The default's gains and losses on real LFs sit mostly on the rows without a vote (docs/studies.md,
    "Two harder proxies"), where majority vote is a coin: the split lets a rule be screened on where
    it acts without refitting.  Each accuracy is the expectation under a uniform tie-break; None where
    no row falls in the part.
    """
    unvoted = (L_eval < 0).all(axis=1)
    out: dict[str, Any] = {}
    for part, mask in (("voted", ~unvoted), ("unvoted", unvoted)):
        rows = int(mask.sum())
        out[part] = {
            "rows": rows,
            "acc": tie_scores(P[mask], y[mask], k)[0] if rows else None,
            "mv_acc": tie_scores(mv[mask], y[mask], k)[0] if rows else None,
        }
    return out


def decisions(model: Any) -> dict[str, Any]:
    """The default's gold-free decisions on one fit, as its fitted records give them (JSON-ready).

    ``selection``: the family choice's held-out scores and leads; ``one_class``: the coverage check;
    ``abstain``: the abstain check, with test (d)'s counts (``kept``: margin, rows kept, rows);
    ``shrinkage``: the share of the fit's departure from majority vote kept; ``unvoted``: the
    posterior of a row without a vote (what every such row is predicted).  None where the fit has no
    such record.
    """

    def record(name: str) -> dict[str, Any] | None:
        value = getattr(model, name, None)
        return value.to_dict() if hasattr(value, "to_dict") else None

    out: dict[str, Any] = {
        "selection": record("selection_"),
        "one_class": record("one_class_"),
        "abstain": record("abstain_"),
        "shrinkage": record("shrinkage_"),
        "unvoted": model.predict_proba(np.full((1, model.n_lfs_), -1))[0].tolist(),
    }
    kept = getattr(getattr(model, "abstain_", None), "kept", None)
    if out["abstain"] is not None and kept:
        out["abstain"]["kept"] = [[int(a), float(b), float(c)] for a, b, c in kept]
    return json.loads(json.dumps(out, default=float))


def tasks(
    sets: list[dict[str, Any]],
    draws: int,
    seed: int,
    methods: dict[str, dict[str, Any]] | None = None,
    lf_sizes: tuple[int, ...] = LF_SIZES,
) -> list[Task]:
    """One task per (set, size, draw): distinct subsets of the voting LFs, each sorted, with the methods
    to fit (``LabelModel`` settings by name; :data:`METHODS` where not given); ``lf_sizes``: the LF
    sets' subset sizes (a crowd's are its shares, :data:`CROWD_SHARES`)."""
    methods = dict(METHODS if methods is None else methods)
    out = []
    for ds in sets:
        voting = np.flatnonzero((ds["L_fit"] >= 0).any(axis=0))
        for size in sizes(ds, voting.size, lf_sizes):
            # distinct subsets only: a set of 4 LFs has 4 of size 3, not `draws`
            available = math.comb(voting.size, size)
            seen: set[tuple[int, ...]] = set()
            d = 0
            while len(seen) < min(draws, available):
                rng = np.random.default_rng(subset_seed(ds["name"], size, d, seed))
                cols = tuple(sorted(int(c) for c in rng.choice(voting, size=size, replace=False)))
                d += 1
                if cols not in seen:
                    seen.add(cols)
                    out.append((ds, list(cols), size, len(seen) - 1, methods))
    return out


def _diff(rec: dict[str, Any], method: str) -> float | None:
    r = rec.get(method, {})
    return None if "acc" not in r else r["acc"] - rec["mv"]["acc"]


def summarize(records: list[dict[str, Any]], methods: list[str]) -> dict[str, Any]:
    """Per set and size, per size, and over sets: mean points against MV, share at or above MV - 0.5."""

    def stats(recs: list[dict[str, Any]], method: str) -> dict[str, Any]:
        d = np.array([x for x in (_diff(r, method) for r in recs) if x is not None])
        errors = sum(1 for r in recs if "error" in r.get(method, {}))
        if d.size == 0:
            return {"n": 0, "errors": errors}
        f1 = np.array([r[method]["f1"] - r["mv"]["f1"] for r in recs if "f1" in r.get(method, {})])
        return {
            "n": int(d.size),
            "errors": errors,
            "mean": float(d.mean()),
            "f1_mean": float(f1.mean()),
            "share_ok": float(np.mean(d >= -TIE)),
            "wins": int(np.sum(d > TIE)),
            "losses": int(np.sum(d < -TIE)),
            "worst": float(d.min()),
        }

    out: dict[str, Any] = {"by_set_size": {}, "by_size": {}, "pooled": {}, "over_sets": {}}
    keys = sorted({(r["set"], r["size"]) for r in records})
    for method in methods:
        out["by_set_size"][method] = {
            f"{s}/{z}": stats([r for r in records if (r["set"], r["size"]) == (s, z)], method)
            for s, z in keys
        }
        lf_sizes = sorted({r["size"] for r in records if not r["crowd"]}) or list(LF_SIZES)
        groups = {f"LF sets, {z} LFs": (False, z) for z in lf_sizes}
        out["by_size"][method] = {
            g: stats([r for r in records if (r["crowd"], r["size"]) == key], method)
            for g, key in groups.items()
        }
        out["by_size"][method]["crowd sets"] = stats([r for r in records if r["crowd"]], method)
        out["pooled"][method] = stats(records, method)
        per_set = [
            stats([r for r in records if r["set"] == s], method) for s in sorted({r["set"] for r in records})
        ]
        per_set = [p for p in per_set if p["n"]]
        out["over_sets"][method] = {
            "sets": len(per_set),
            "mean": float(np.mean([p["mean"] for p in per_set])),
            "share_ok": float(np.mean([p["share_ok"] for p in per_set])),
            "sets_mean_below_mv": int(sum(p["mean"] < -TIE for p in per_set)),
        }
    return out


def over_sets(records: list[dict[str, Any]], values: Any) -> float | None:
    """The mean over sets (each set weighted equally) of each set's mean of ``values`` (one per
    record, in order); None without records."""
    if not records:
        return None
    sets = np.array([r["set"] for r in records])
    values = np.asarray(values, dtype=np.float64)
    return float(np.mean([values[sets == s].mean() for s in np.unique(sets)]))


def _pts(x: float | None, signed: bool = True) -> str:
    return "-" if x is None else (f"{100 * x:+.1f}" if signed else f"{100 * x:.1f} %")


def to_markdown(res: dict[str, Any]) -> str:
    meta, summ = res["meta"], res["summary"]
    lines = [
        "# Real LFs in new combinations: random subsets of the shared sets' LFs",
        "",
        f"- command: `{meta['command']}`",
        f"- code: {meta['code']}; {meta['when']}; {meta['machine']}",
        f"- subsets: {meta['subsets']} ({meta['draws']} draws per set and size, seed {meta['seed']}); "
        f"wall time {meta['wall_s']:.0f} s",
        "- accuracy: expectation under uniform tie-breaking among equal top scores; points against majority "
        "vote over the same LFs; a tie is within 0.5 points; `>= MV - 0.5`: share of subsets at or above "
        "majority vote - 0.5 points",
        "",
        "## Summary",
        "",
        "| method | group | subsets | mean acc - MV (points) | F1 - MV | W / L vs MV | >= MV - 0.5 | worst |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method in meta["methods"]:
        groups = {**summ["by_size"][method], "all subsets (pooled)": summ["pooled"][method]}
        for g, s in groups.items():
            if not s.get("n"):
                continue
            lines.append(
                f"| {method} | {g} | {s['n']} | {_pts(s['mean'])} | {_pts(s['f1_mean'])} | "
                f"{s['wins']} / {s['losses']} | {_pts(s['share_ok'], False)} | {_pts(s['worst'])} |"
            )
    lines += [
        "",
        "Over sets (each set's mean and share, then their mean; the draws of one set are not independent):",
        "",
        "| method | sets | mean acc - MV | >= MV - 0.5 | sets whose mean is below MV - 0.5 |",
        "|---|---|---|---|---|",
    ]
    for method in meta["methods"]:
        o = summ["over_sets"][method]
        lines.append(
            f"| {method} | {o['sets']} | {_pts(o['mean'])} | {_pts(o['share_ok'], False)} | "
            f"{o['sets_mean_below_mv']} |"
        )
    lines += [
        "",
        "## Per set and size (the default)",
        "",
        "| set / size | subsets | mean acc - MV | F1 - MV | W / L | >= MV - 0.5 | worst |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, s in summ["by_set_size"]["default"].items():
        if s.get("n"):
            lines.append(
                f"| {key} | {s['n']} | {_pts(s['mean'])} | {_pts(s['f1_mean'])} | "
                f"{s['wins']} / {s['losses']} | {_pts(s['share_ok'], False)} | {_pts(s['worst'])} |"
            )
    worst = sorted(
        (r for r in res["records"] if _diff(r, "default") is not None), key=lambda r: _diff(r, "default")
    )[:15]
    lines += [
        "",
        "## Worst subsets for the default",
        "",
        "| set | LFs | acc | MV | diff | F1 | MV F1 | unvoted | family | first note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in worst:
        d = r["default"]
        note = (d.get("notes") or [""])[0].replace("|", "/")[:90]
        lines.append(
            f"| {r['set']} | {' '.join(map(str, r['lfs']))} | {d['acc']:.3f} | {r['mv']['acc']:.3f} | "
            f"{_pts(_diff(r, 'default'))} | {d['f1']:.3f} | {r['mv']['f1']:.3f} | {r['unvoted_eval']:.2f} | "
            f"{d.get('family', '')} | {note} |"
        )
    errors = [
        (r["set"], r["lfs"], m, r[m]["error"])
        for r in res["records"]
        for m in meta["methods"]
        if "error" in r[m]
    ]
    lines += ["", "## Errors", ""]
    lines += [f"- {s} {lfs} {m}: {e}" for s, lfs, m, e in errors] or ["none"]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--draws", type=int, default=20, help="subsets per set and size (default 20)")
    ap.add_argument("--seed", type=int, default=0, help="a new seed draws new subsets (default 0)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--sets", nargs="*", help="only these shared sets")
    ap.add_argument(
        "--lf-sizes",
        type=int,
        nargs="+",
        default=list(LF_SIZES),
        help=f"LFs per subset of an LF set (default {' '.join(map(str, LF_SIZES))}; a set draws the sizes "
        "below its number of voting LFs)",
    )
    ap.add_argument(
        "--model-kw",
        nargs="*",
        default=None,
        help="more LabelModel settings as JSON, each a method named by its settings "
        '(\'{"one_class": "shared"}\')',
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="MODULE:NAME=VALUE",
        help="a library constant set before the fits, in every worker (a study switch: "
        "'tripletws.models.annotator:NAMED_VOTES=false'); repeatable",
    )
    ap.add_argument(
        "--out", default=str(BENCH / "results" / "lf_subsets.json"), help="results JSON (.md beside)"
    )
    return ap.parse_args(argv)


def apply_settings(settings: list[str]) -> None:
    """Set each ``MODULE:NAME=VALUE`` (benchmarks/stress_probe.py's ``set:`` probe) in this process."""
    from stress_probe import set_constant

    for spec in settings:
        set_constant(spec)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    methods = dict(METHODS)
    for text in args.model_kw or ():
        kw = json.loads(text)
        name = ",".join(f"{key}={kw[key]}" for key in sorted(kw)) or "default"
        if name in methods or kw in methods.values():
            raise SystemExit(
                f"--model-kw {text}: {name!r} is already among the methods ({', '.join(methods)})"
            )
        methods[name] = kw
    every = shared_sets()
    unknown = sorted(set(args.sets or ()) - {s["name"] for s in every})
    if unknown:
        known = ", ".join(s["name"] for s in every)
        raise SystemExit(f"--sets: {', '.join(unknown)} not among the shared sets with gold ({known})")
    sets = [s for s in every if not args.sets or s["name"] in args.sets]
    if min(args.lf_sizes) < 3:
        raise SystemExit(f"--lf-sizes: a label model needs 3 LFs or more, got {args.lf_sizes}")
    todo = tasks(sets, args.draws, args.seed, methods, tuple(args.lf_sizes))
    t0 = time.perf_counter()
    # (the settings applied in each worker, whatever the start method)
    records = run_pool(run_subset, todo, args.jobs, apply_settings, (args.set,))
    res = {
        "meta": {
            **run_meta("lf_subsets.py", argv),
            "draws": args.draws,
            "seed": args.seed,
            "lf_sizes": list(args.lf_sizes),
            "subsets": len(records),
            "settings": list(args.set),
            "methods": list(methods),
            "method_kwargs": methods,
            "wall_s": time.perf_counter() - t0,
        },
        "records": records,
    }
    res["summary"] = summarize(records, list(methods))
    print(write_results(res, Path(args.out), to_markdown(res)))
    return 0


def run_pool(
    fn: Any, todo: list[Any], jobs: int, initializer: Any = None, initargs: tuple[Any, ...] = ()
) -> list[Any]:
    """``fn`` over ``todo`` in order, in ``jobs`` worker processes (``initializer(*initargs)`` run in
    each) or in this process (run here first), with one BLAS thread per fit (workers inherit it, and
    it is given back after)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        if jobs > 1:
            with ProcessPoolExecutor(jobs, initializer=initializer, initargs=initargs) as ex:
                return list(ex.map(fn, todo, chunksize=4))
        if initializer is not None:
            initializer(*initargs)
        return [fn(t) for t in todo]


def run_meta(script: str, argv: list[str] | None) -> dict[str, Any]:
    """The head of a results file's ``meta``: the command (``python benchmarks/<script> ...``), the code's
    revision (``-dirty`` with local changes to the library), when and on what machine."""
    from provenance import revision

    return {
        "command": f"python benchmarks/{script} " + " ".join(sys.argv[1:] if argv is None else argv),
        "code": f"tripletws @ {revision()}",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine_info(),
    }


def write_results(res: dict[str, Any], out: Path, markdown: str) -> str:
    """The results as JSON at ``out`` and ``markdown`` beside it (``.md``), each written atomically;
    returns the markdown."""
    atomic_write_text(out, json.dumps(res, indent=1, default=float))
    atomic_write_text(out.with_suffix(".md"), markdown)
    return markdown


if __name__ == "__main__":
    raise SystemExit(main())
