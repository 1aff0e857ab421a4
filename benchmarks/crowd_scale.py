"""Crowd answers in long form: ``tripletws.crowd.aggregate_proba`` against crowd-kit on the same table.

Both sides take the same pandas DataFrame of answers (columns task, worker, label) and return a
task x label probability table; the time covers the whole call (reading the table, the fit, the
probabilities). Methods: ours (the default ``LabelModel`` and ``MajorityLabelVoter``) and, when
crowd-kit is importable, its ``MajorityVote``, ``DawidSkene`` (``n_iter=100``), ``OneCoinDawidSkene``
and ``MACE`` (default arguments). Accuracy is the expectation under a uniform tie-break among
equal top probabilities (|p - max| <= 1e-9), so two methods that tie score the same.

Problems:

* the six crowd sets of the shared data (bluebird, wsd, face, adult_content, weather_sentiment,
  sentiment_popularity: every answer of the ``all`` split as one row, labels as their codes), from
  ``$TRIPLETWS_DATA`` or ``../shared/data`` (skipped when absent);
* synthetic crowds (``--sizes``: tasks x workers, ``--per-task`` answers per task, k classes):
  each worker right with a probability drawn uniformly from 0.3..0.95 and otherwise a uniform wrong
  label, each task answered by distinct workers drawn uniformly.

Each (problem, method) is timed ``--repeats`` times (median, one BLAS thread); a method that took
over ``--budget`` seconds on a synthetic size is skipped on the larger ones (marked "skipped").

    python benchmarks/crowd_scale.py [--repeats 3] [--sizes 2000x100 20000x500 100000x2000]

Needs pandas; crowd-kit from the peers' env (``benchmarks/peers/setup_env.sh``) or
``pip install --no-deps crowd-kit==1.4.2 attrs nltk scikit-learn``. Writes
benchmarks/results/crowd_scale.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))

from common import DATA, RESULTS, limit_threads, machine_info  # noqa: E402

CROWD_SETS = ("bluebird", "wsd", "face", "adult_content", "weather_sentiment", "sentiment_popularity")
TIE = 1e-9


def long_form(L: np.ndarray) -> Any:
    """Every vote of ``L`` as one answer row (task = row, worker = column, label = the vote)."""
    import pandas as pd

    r, c = np.nonzero(L >= 0)
    return pd.DataFrame({"task": r, "worker": c, "label": L[r, c].astype(np.int64)})


def synthetic(n_tasks: int, n_workers: int, per_task: int, k: int, seed: int) -> tuple[Any, np.ndarray]:
    """A synthetic crowd: the answers (long form) and each task's true label (by task id)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n_tasks)
    skill = rng.uniform(0.3, 0.95, n_workers)
    task = np.repeat(np.arange(n_tasks), per_task)
    worker = np.concatenate([rng.choice(n_workers, per_task, replace=False) for _ in range(n_tasks)])
    right = rng.random(task.size) < skill[worker]
    label = np.where(right, y[task], (y[task] + rng.integers(1, k, task.size)) % k)
    return pd.DataFrame({"task": task, "worker": worker, "label": label}), y


def expected_accuracy(P: np.ndarray, y: np.ndarray) -> float:
    """Accuracy expected under a uniform tie-break among the top probabilities."""
    top = P.max(axis=1, keepdims=True)
    tied = np.abs(P - top) <= TIE
    return float((tied[np.arange(len(y)), y] / tied.sum(axis=1)).mean())


def methods(k: int) -> dict[str, Callable[[Any], Any]]:
    """name -> f(answers) returning a task x label probability DataFrame."""
    from tripletws import LabelModel, MajorityLabelVoter
    from tripletws.crowd import aggregate_proba

    out: dict[str, Callable[[Any], Any]] = {
        "ours_default": lambda df: aggregate_proba(df, classes=list(range(k))),
        "ours_mv": lambda df: aggregate_proba(df, MajorityLabelVoter(), classes=list(range(k))),
        # every distinct row up to 200 000 (the default fits a hash sample past 20 000)
        "ours_rows200k": lambda df: aggregate_proba(
            df, LabelModel(em_max_rows=200_000), classes=list(range(k))
        ),
    }
    try:
        from crowdkit import aggregation as ck
    except ImportError:
        return out
    out["ck_mv"] = lambda df: ck.MajorityVote().fit_predict_proba(df)
    out["ck_ds"] = lambda df: ck.DawidSkene(n_iter=100).fit_predict_proba(df)
    out["ck_onecoin_ds"] = lambda df: ck.OneCoinDawidSkene(n_iter=100).fit_predict_proba(df)
    out["ck_mace"] = lambda df: ck.MACE().fit_predict_proba(df)
    return out


def probabilities(table: Any, n_tasks: int, k: int) -> np.ndarray:
    """A task x label table -> (n_tasks, k) array in task-id order (missing columns: 0)."""
    P = np.zeros((n_tasks, k))
    cols = [int(c) for c in table.columns]
    P[np.asarray(table.index, dtype=np.int64)[:, None], np.asarray(cols)[None, :]] = table.to_numpy(
        dtype=np.float64
    )
    return P


def run_problem(
    name: str, df: Any, y: np.ndarray, k: int, repeats: int, skip: set[str], budget: float | None
) -> dict[str, Any]:
    """Every method on one problem: median seconds and expected accuracy (or the error)."""
    row: dict[str, Any] = {
        "problem": name,
        "answers": len(df),
        "tasks": int(df["task"].nunique()),
        "workers": int(df["worker"].nunique()),
        "k": k,
        "results": {},
    }
    voted = np.unique(df["task"].to_numpy())
    for method, f in methods(k).items():
        if method in skip:
            row["results"][method] = {"skipped": True}
            continue
        times, P = [], None
        try:
            for _ in range(repeats):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    table = f(df)
                    times.append(time.perf_counter() - t0)
                P = probabilities(table, len(y), k)
                if budget is not None and times[-1] > budget:
                    break  # one slow run is enough to time it
        except Exception as exc:  # a crash is a finding: recorded
            row["results"][method] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
            continue
        s = statistics.median(times)
        row["results"][method] = {"s": s, "runs": len(times), "acc": expected_accuracy(P[voted], y[voted])}
        if budget is not None and s > budget:
            skip.add(method)
    return row


def to_markdown(res: dict) -> str:
    names = list(dict.fromkeys(m for row in res["rows"] for m in row["results"]))
    out = [
        "# Crowd answers in long form: tripletws against crowd-kit",
        "",
        f"{res['machine']}; one BLAS thread; crowd-kit {res['crowdkit']}; pandas {res['pandas']}.",
        f"`{res['command']}`. Median of {res['repeats']} runs of the whole call (answers table in, task x "
        "label probabilities out); accuracy expected under a uniform tie-break.",
        "",
        "| problem | answers | tasks | workers | k | " + " | ".join(names) + " |",
        "|---|---:|---:|---:|---:|" + "---|" * len(names),
    ]
    for row in res["rows"]:
        cells = []
        for m in names:
            r = row["results"].get(m, {})
            if "error" in r:
                cells.append("error")
            elif r.get("skipped"):
                cells.append("skipped")
            elif r:
                cells.append(f"{r['acc']:.3f} / {r['s']:.3g} s")
            else:
                cells.append("-")
        out.append(
            f"| {row['problem']} | {row['answers']} | {row['tasks']} | {row['workers']} | {row['k']} | "
            + " | ".join(cells)
            + " |"
        )
    out += ["", "Cells: expected accuracy / median seconds.", ""]
    if "ck_ds" in names:
        ratios = [
            row["results"]["ck_ds"]["s"] / row["results"]["ours_default"]["s"]
            for row in res["rows"]
            if "s" in row["results"].get("ck_ds", {}) and "s" in row["results"].get("ours_default", {})
        ]
        if ratios:
            out.append(
                "crowd-kit DawidSkene's time / ours (default model), per problem: median "
                f"{statistics.median(ratios):.1f}x, range {min(ratios):.1f}x-{max(ratios):.1f}x."
            )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", nargs="*", default=["2000x100", "20000x500", "100000x2000"])
    ap.add_argument("--per-task", type=int, default=5)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument(
        "--budget", type=float, default=120.0, help="seconds after which a method skips larger sizes"
    )
    ap.add_argument("--no-shared", action="store_true", help="synthetic crowds only")
    ap.add_argument("--out", default=str(RESULTS / "crowd_scale.json"))
    args = ap.parse_args(argv)
    import pandas as pd

    limit_threads(1)
    try:
        import crowdkit

        ck_version = getattr(crowdkit, "__version__", "installed")
    except ImportError:
        ck_version = "not installed (ours only)"
    rows = []
    if not args.no_shared:
        for name in CROWD_SETS:
            path = DATA / name / "all.npz"
            if not path.exists():
                continue
            z = np.load(path)
            L, y = z["L"], z["y"]
            k = int(max(L.max(), y.max()) + 1)
            rows.append(run_problem(name, long_form(L), y, k, args.repeats, set(), None))
            print(json.dumps({m: r.get("acc", r) for m, r in rows[-1]["results"].items()}), name, flush=True)
    skip: set[str] = set()
    for i, size in enumerate(args.sizes):
        n_tasks, n_workers = (int(v) for v in size.lower().split("x"))
        df, y = synthetic(n_tasks, n_workers, args.per_task, args.k, seed=20261203 + i)
        row = run_problem(f"synthetic {size}", df, y, args.k, args.repeats, skip, args.budget)
        rows.append(row)
        print(json.dumps({m: r.get("s", r) for m, r in row["results"].items()}), size, flush=True)
    res = {
        "machine": machine_info(),
        "crowdkit": ck_version,
        "pandas": pd.__version__,
        "repeats": args.repeats,
        "command": "python benchmarks/crowd_scale.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "rows": rows,
    }
    out = Path(args.out)
    from tripletws.atomic import atomic_write_text

    atomic_write_text(out, json.dumps(res, indent=1) + "\n")
    atomic_write_text(out.with_suffix(".md"), to_markdown(res))
    print(to_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
