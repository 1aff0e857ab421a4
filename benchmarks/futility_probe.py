"""Would the first-fold stops of the gold-free checks change a decision? Both stops measured, none taken.

Two checks of the default stop at the first of their three folds where that fold already decides
by far (the bars are conventions, not tuned; docs/models.md):

* the abstain check's test (a) (``abstain_check.FUTILITY_SE``): every informative reading trails the
  vote-only family chosen on the first fold's held-out rows by more than the bar in standard errors;
* the background test (``coverage_check.BACKGROUND_FUTILITY_Z``), in the coverage check and in the
  abstain check's test (b): the background class gains more than the bar in standard errors there.

This probe sets both bars out of reach (the first fold is scored first but never stops a check),
fits the default on every problem of the stress suite's draws, and records per check the first
fold's figure (test (a): the best reading's lead over its standard error; the background test: its
z-score) beside the decision made on all the folds.  A bar changes no decision on these draws where
no check that passes its test has a first-fold figure beyond the bar.

    PYTHONPATH=src python benchmarks/futility_probe.py --base-seed S [S2 ...] --jobs 2 --out X.json
    PYTHONPATH=src python benchmarks/futility_probe.py --summarize X.json [--bars 3 4 5 7 10]

``--summarize`` prints and writes beside the JSON (``.md``) a table per test: the checks, those
that pass, the largest first-fold figure among them, and for each bar the stops and the wrong stops
(a check stopped that would pass).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from stress_problems import all_problems, draw  # noqa: E402

#: A bar no first fold reaches: the first fold is scored first and the check goes on, as without a stop.
OUT_OF_REACH = 1e300
BARS = (3.0, 4.0, 5.0, 7.0, 10.0)
#: Test (a) and the background test pass where the lead exceeds 2 standard errors and where z is at
#: most 1.96 (``family_choice.LEAD_SE``, ``coverage_check.BACKGROUND_Z``, read when the probe runs).
TESTS = ("a", "b", "coverage")

_RECORDS: list[dict[str, Any]] = []


def _patch() -> None:
    """Both bars out of reach, and recorders around the functions that read the first fold."""
    import tripletws.estimators.abstain_check as ac
    import tripletws.estimators.coverage_check as cc

    ac.FUTILITY_SE = OUT_OF_REACH
    cc.BACKGROUND_FUTILITY_Z = OUT_OF_REACH
    futile = ac._futile

    def first_fold_leads(held, chosen, keys, n_se):  # type: ignore[no-untyped-def]
        best = -np.inf
        for fam, name in keys:
            lead, se = held.lead(f"{fam}/{name}", chosen)
            if np.isfinite(lead) and np.isfinite(se) and se > 0:
                best = max(best, lead / se)
            elif np.isfinite(lead) and lead > 0:
                best = np.inf
        _RECORDS.append({"test": "a", "first": float(best)})
        return futile(held, chosen, keys, n_se)

    ac._futile = first_fold_leads
    for module, test in ((ac, "b"), (cc, "coverage")):
        gain = module._gain

        def recorded(folds, with_k, with_background, _gain=gain, _test=test):  # type: ignore[no-untyped-def]
            g, z = _gain(folds, with_k, with_background)
            last = _RECORDS[-1] if _RECORDS else None
            if last is not None and last["test"] == _test and "all" not in last:
                last["all"] = float(z)  # the second call: every fold
            else:
                _RECORDS.append({"test": _test, "first": float(z)})
            return g, z

        module._gain = recorded


def _run(problem: Any) -> list[dict[str, Any]]:
    """Fit the default on one problem's train rows; the checks' records, each with its decision."""
    from tripletws import LabelModel

    L, _, _, _ = draw(problem)
    _RECORDS.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(cardinality=problem.params["k"]).fit(L)
    est = model.estimate_
    out = []
    for rec in _RECORDS:
        rec = dict(rec, name=problem.name, family=problem.family)
        if rec["test"] == "a":
            ab = est.abstain
            # test (a) passed where the check went on to (b): a refusal by (a) names the lead
            rec["passes"] = bool(ab is not None and not ab.reason.startswith("no reading"))
        else:
            rec["passes"] = bool(rec.get("all", rec["first"]) <= _background_z())
        out.append(rec)
    return out


def _background_z() -> float:
    from tripletws.estimators.coverage_check import BACKGROUND_Z

    return float(BACKGROUND_Z)


def probe(seeds: list[int], jobs: int) -> dict[str, Any]:
    _patch()
    records: list[dict[str, Any]] = []
    for seed in seeds:
        problems = all_problems(seed)
        if jobs > 1:
            fork = multiprocessing.get_context("fork")  # the workers inherit the patch
            with ProcessPoolExecutor(jobs, mp_context=fork) as ex:
                parts = list(ex.map(_run, problems, chunksize=4))
        else:
            parts = [_run(p) for p in problems]
        records += [_rounded(dict(r, draw=seed)) for part in parts for r in part]
        print(f"draw {seed}: {sum(len(p) for p in parts)} checks", flush=True)
    return {"seeds": seeds, "records": records}


def _rounded(record: dict[str, Any]) -> dict[str, Any]:
    """A record with its figures to 4 decimals (the bars are whole numbers of standard errors)."""
    return {k: round(v, 4) if isinstance(v, float) and np.isfinite(v) else v for k, v in record.items()}


def summarize(records: list[dict[str, Any]], bars: tuple[float, ...] = BARS) -> list[dict[str, Any]]:
    """Per test: checks, passes, the largest first-fold figure of a pass, and per bar stops / wrong stops.

    Test (a) stops where the best reading's first-fold lead is below ``-bar`` standard errors; the
    background tests where the first fold's z exceeds ``bar``.
    """
    rows = []
    for test in TESTS:
        recs = [r for r in records if r["test"] == test]
        if not recs:
            continue
        first = np.array([r["first"] for r in recs], dtype=float)
        passes = np.array([r["passes"] for r in recs], dtype=bool)
        # how far toward a stop each first fold went: -lead/se for test (a), z for the background tests
        toward = -first if test == "a" else first
        row: dict[str, Any] = {
            "test": test,
            "checks": len(recs),
            "passes": int(passes.sum()),
            "max_toward_stop_of_a_pass": float(np.max(toward[passes])) if passes.any() else None,
            "bars": {},
        }
        for bar in bars:
            stop = toward > bar
            row["bars"][f"{bar:g}"] = {"stops": int(stop.sum()), "wrong": int((stop & passes).sum())}
        rows.append(row)
    return rows


NAMES = {"a": "abstain check, test (a)", "b": "abstain check, test (b)", "coverage": "coverage check"}


def to_markdown(rows: list[dict[str, Any]], seeds: list[int]) -> str:
    bars = list(rows[0]["bars"]) if rows else []
    lines = [
        "# First-fold stops of the gold-free checks: stops and wrong stops per bar",
        "",
        "`PYTHONPATH=src python benchmarks/futility_probe.py` on the stress draws "
        f"{', '.join(map(str, seeds))}; "
        "both stops out of reach, so every check runs on all its folds. Test (a): the first fold's best "
        "reading, lead over standard error (a stop where it is below -bar); background tests: the first "
        "fold's z (a stop above bar). A wrong stop is a check stopped that passes its test on all folds.",
        "",
        "| test | checks | pass | largest first-fold figure of a pass | "
        + " | ".join(f"bar {b}: stops / wrong" for b in bars)
        + " |",
        "|---|---:|---:|---:|" + "---:|" * len(bars),
    ]
    for r in rows:
        top = r["max_toward_stop_of_a_pass"]
        cells = " | ".join(f"{r['bars'][b]['stops']} / {r['bars'][b]['wrong']}" for b in bars)
        shown = "-" if top is None else f"{top:.2f}"
        lines.append(f"| {NAMES[r['test']]} | {r['checks']} | {r['passes']} | {shown} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-seed", type=int, nargs="+", default=None, help="stress draws to fit")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", help="results JSON (the probe) or, with --summarize, ignored")
    ap.add_argument("--summarize", metavar="JSON", help="summarize a probe's JSON (writes the .md beside it)")
    ap.add_argument("--bars", type=float, nargs="+", default=list(BARS))
    args = ap.parse_args(argv)
    if args.summarize:
        res = json.loads(Path(args.summarize).read_text())
        rows = summarize(res["records"], tuple(args.bars))
        text = to_markdown(rows, res["seeds"])
        print(text)
        from tripletws.atomic import atomic_write_text

        atomic_write_text(Path(args.summarize).with_suffix(".md"), text)
        return 0
    if not args.base_seed or not args.out:
        ap.error("--base-seed and --out are needed to probe (or --summarize JSON)")
    res = probe(args.base_seed, args.jobs)
    from tripletws.atomic import atomic_write_text

    atomic_write_text(Path(args.out), json.dumps(res) + "\n")
    print(to_markdown(summarize(res["records"], tuple(args.bars)), res["seeds"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
