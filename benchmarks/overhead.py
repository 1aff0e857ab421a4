"""Small data: where a fit's time goes on the shared real label matrices.

For each dataset of ``../shared/data/index.json`` (override with ``TRIPLETWS_DATA``)
whose eval split has gold, times ``LabelModel(cardinality=k, **options).fit(L_train)``
and ``predict_proba(L_eval)`` as the peer benchmark does (``benchmarks/peers``), and
the stages of the fit separately:

* ``validate``: :func:`~tripletws.matrix.check_label_matrix` (shape, dtype, values);
* ``summary``: :func:`~tripletws.summary.summarize` of the validated matrix with the
  model's needs (the one pass over the rows: statistics, and distinct rows when the
  model asks for them).

``em`` = the time a fit spends in the annotator model's EM (its held-out family choice and
fits: :func:`tripletws.estimators.annotator._em`, compiled or numpy), and ``rest`` = fit -
(validate + summary + em): the solve's set-up and checks (fold deal, design, selection,
notes), settings checks, warnings.  Medians over ``--repeats`` runs in this process (after
one untimed warm-up fit), one BLAS thread (the library's own setting).  The fixed per-fit
overhead is stated as the fit time of a tiny matrix (30 rows, 3 LFs that agree: no data to
speak of, EM done in a few steps).

``--clock cpu`` times with ``time.process_time`` (CPU seconds of the process, all
threads) instead of the wall clock: on a machine shared with other jobs a process
gets a fraction of a core, which inflates wall times of millisecond fits several-fold
and at random; the CPU time of a single-threaded run is what its wall time would
be on an idle core.  Snorkel's worker uses the same clock.

With ``--snorkel-python PY`` (a Python with snorkel 0.10 and torch, e.g.
``benchmarks/peers/.venv/bin/python``), Snorkel's ``LabelModel`` is timed on the
same data right after ours, dataset by dataset (so load drifts hit both alike),
as ``benchmarks/peers`` runs it: ``fit(L, seed=0)`` (100 epochs) + ``predict_proba``,
one torch / BLAS thread, in a subprocess, after one untimed 1-epoch warm-up fit (until
session 8 there was none: where the first, cold fit took over 2 s the loop stopped after it and
reported that cold time); the table gets the ratio and its
geometric mean.  ``--peers FILE`` instead takes Snorkel's times from a results JSON
of ``benchmarks/peers/run_quality.py`` (another run: indicative only).

Usage::

    python benchmarks/overhead.py                         # default model
    python benchmarks/overhead.py --model symmetric --name overhead_symmetric
    python benchmarks/overhead.py --peers benchmarks/results/quality.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from provenance import load_average, revision

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "src"))
DATA = Path(os.environ.get("TRIPLETWS_DATA", REPO.parent / "shared" / "data"))
STAGES = ("validate", "summary")
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return float(statistics.median(times))


def _splits(info: dict) -> tuple[str, str] | None:
    ev = info.get("eval_split")
    splits = info.get("splits", {})
    if ev is None or ev not in splits or not splits[ev].get("n_gold"):
        return None
    return ("train" if "train" in splits and ev != "all" else ev), ev


SNORKEL_WORKER = """
import json, os, statistics, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np, torch
torch.set_num_threads(1)
from snorkel.labeling.model import LabelModel
fit_path, eval_path, k, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
clock = time.process_time if sys.argv[5] == "cpu" else time.perf_counter
L = np.load(fit_path)["L"].astype(np.int64)
L_eval = np.load(eval_path)["L"].astype(np.int64)
# one untimed warm-up fit, as ours gets: torch's first call in a process pays seconds of lazy set-up
LabelModel(cardinality=k, verbose=False).fit(L, seed=0, progress_bar=False, n_epochs=1)
times = []
for _ in range(repeats):
    t0 = clock()
    model = LabelModel(cardinality=k, verbose=False)
    model.fit(L, seed=0, progress_bar=False)
    model.predict_proba(L_eval)
    times.append(clock() - t0)
    if times[-1] > 2.0:
        break
print(json.dumps({"fit_predict_s": statistics.median(times), "repeats": len(times)}))
"""


def snorkel_time(python: str, name: str, info: dict, repeats: int) -> float:
    """Median fit + predict seconds of Snorkel's LabelModel on one dataset (subprocess)."""
    fit_split, eval_split = _splits(info)
    env = dict(os.environ)
    env.update(dict.fromkeys(("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"), "1"))
    cmd = [
        python,
        "-c",
        SNORKEL_WORKER,
        str(DATA / name / f"{fit_split}.npz"),
        str(DATA / name / f"{eval_split}.npz"),
        str(int(info["k"])),
        str(repeats),
        "cpu" if clock is time.process_time else "wall",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"Snorkel worker failed on {name}:\n{res.stderr[-2000:]}")
    return float(json.loads(res.stdout.strip().splitlines()[-1])["fit_predict_s"])


def measure(name: str, info: dict, options: dict, repeats: int) -> dict:
    from functools import partial

    from tripletws import LabelModel
    from tripletws.matrix import check_label_matrix
    from tripletws.settings import check_settings
    from tripletws.summary import summarize

    fit_split, eval_split = _splits(info)
    L = np.load(DATA / name / f"{fit_split}.npz")["L"]
    L_eval = np.load(DATA / name / f"{eval_split}.npz")["L"]
    k = int(info["k"])
    model = LabelModel(cardinality=k, **options)
    model.fit(L)  # warm-up (imports, BLAS, work buffers)
    budget = max(
        3,
        min(
            repeats,
            int(2.0 / max(_median_time(lambda: LabelModel(cardinality=k, **options).fit(L), 1), 1e-4)),
        ),
    )
    row: dict = {"dataset": name, "k": k, "m": int(L.shape[1]), "n_fit": int(L.shape[0]), "repeats": budget}
    row["fit_s"] = _median_time(lambda: LabelModel(cardinality=k, **options).fit(L), budget)
    fitted = LabelModel(cardinality=k, **options).fit(L)
    row["predict_s"] = _median_time(lambda: fitted.predict_proba(L_eval), budget)
    row["validate_s"] = _median_time(lambda: check_label_matrix(L, k, min_lfs=3), budget)
    settings = check_settings(model.get_params())
    needs = partial(settings.solver.needs, settings.options)
    lm = check_label_matrix(L, k, min_lfs=3)
    row["summary_s"] = _median_time(lambda: summarize(lm, k, needs), budget)
    row["em_s"] = _em_time(lambda: LabelModel(cardinality=k, **options).fit(L), budget)
    row["rest_s"] = row["fit_s"] - sum(row[f"{s}_s"] for s in (*STAGES, "em"))
    return row


def _em_time(fit, repeats: int) -> float:
    """Median time per fit spent in the annotator model's EM (0 for models without it)."""
    from tripletws.estimators import annotator, heldout

    inner = annotator._em
    spent = [0.0]

    def timed(*args, **kwargs):
        t0 = clock()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[0] += clock() - t0

    # the EM's callers: the fits of the engine and the held-out scores (each reads its own name)
    annotator._em = heldout._em = timed
    try:
        times = []
        for _ in range(repeats):
            spent[0] = 0.0
            fit()
            times.append(spent[0])
    finally:
        annotator._em = heldout._em = inner
    return float(statistics.median(times))


def fixed_overhead(options: dict, repeats: int) -> float:
    """Median fit time of a 30-row, 3-LF binary matrix of agreeing votes (EM converges at once):
    what a fit costs whatever the data."""
    from tripletws import LabelModel

    L = np.repeat(np.array([[0, 0, 0], [1, 1, 1], [0, -1, 0]], dtype=np.int8), 10, axis=0)
    LabelModel(cardinality=2, **options).fit(L)
    return _median_time(lambda: LabelModel(cardinality=2, **options).fit(L), max(repeats, 50))


def _fmt_ms(x: float) -> str:
    ms = x * 1e3
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def render(result: dict) -> str:
    rows = result["rows"]
    peers = result.get("peers")
    out = [
        f"# Small data: fit + predict time and where a fit's time goes ({result['model']})",
        "",
        f"- date: {result['date']}; tripletws revision: {result['revision']}",
        f"- command: `{result['command']}`",
        f"- load average at start / end: {result['load_start']} / {result['load_end']} (2-CPU machine)",
        "",
        f"Times in ms ({'CPU time of the process' if result.get('clock') == 'cpu' else 'wall clock'}), "
        "medians in one process after a warm-up fit; fit on the train split (all rows for",
        "crowd sets), predict on the eval split.  Stages: validate = check_label_matrix, summary =",
        "summarize (statistics pass, distinct rows if the model needs them), em = the annotator",
        "model's EM (held-out family choice and fits), rest = fit minus these (the solve's set-up and",
        "checks, settings, warnings).",
        "",
    ]
    head = "| dataset | k | m | n | fit | predict | validate | summary | em | rest |"
    sep = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if peers:
        head += " Snorkel fit + predict | ratio |"
        sep += "---:|---:|"
    out += [head, sep]
    ratios = []
    for r in rows:
        line = (
            f"| {r['dataset']} | {r['k']} | {r['m']} | {r['n_fit']} | {_fmt_ms(r['fit_s'])} | "
            f"{_fmt_ms(r['predict_s'])} | "
            + " | ".join(_fmt_ms(r.get(f"{s}_s", 0.0)) for s in (*STAGES, "em", "rest"))
            + " |"
        )
        if peers:
            sn = peers["times"].get(r["dataset"])
            if sn is None:
                line += " - | - |"
            else:
                ratio = sn / (r["fit_s"] + r["predict_s"])
                ratios.append(ratio)
                line += f" {_fmt_ms(sn)} | {ratio:.1f} |"
        out.append(line)
    data_side = [r["validate_s"] + r["summary_s"] for r in rows]
    out += [
        "",
        f"- validation + one pass over the rows: median {_fmt_ms(statistics.median(data_side))} ms "
        f"(range {_fmt_ms(min(data_side))}-{_fmt_ms(max(data_side))} ms); the rest is the solve",
    ]
    if "fixed_s" in result:
        out.append(
            "- fixed per-fit overhead (fit of a 30-row, 3-LF matrix of agreeing votes): "
            f"{_fmt_ms(result['fixed_s'])} ms; compiled EM: {result.get('jit', '?')}"
        )
    if ratios:
        gm = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        out.append(
            f"- geometric-mean speed-up of fit + predict over Snorkel `LabelModel` across {len(ratios)} "
            f"sets: **{gm:.1f}x** (Snorkel times from {peers['source']})"
        )
    return "\n".join(out) + "\n"


def _jit_state() -> str:
    from tripletws.estimators import em_jit

    return "on (numba)" if em_jit.jit_enabled() else "off (numpy EM)"


def _peer_times(path: Path) -> dict:
    record = json.loads(path.read_text())
    times = {}
    for name, d in record["datasets"].items():
        sn = d["results"].get("snorkel", {})
        if sn.get("status") == "ok":
            times[name] = sn["fit_s"] + sn["predict_s"]
    meta = record.get("meta", {})
    when = f"{meta.get('date', '?')}, {meta.get('ours', '?')}"
    return {"times": times, "source": f"{path.name} ({when}; another run: indicative only)"}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="LabelModel(model=...) (default: the library default)")
    p.add_argument(
        "--model-kw", default="{}", help='more LabelModel options as JSON, e.g. \'{"one_class": "shared"}\''
    )
    p.add_argument("--datasets", nargs="+", default=None, help="subset of the shared datasets")
    p.add_argument("--repeats", type=int, default=15, help="runs per timing (fewer for slow fits)")
    p.add_argument("--peers", type=Path, default=None, help="run_quality.py JSON with Snorkel's times")
    p.add_argument("--snorkel-python", default=None, help="Python with snorkel 0.10: time it in this run")
    p.add_argument("--snorkel-repeats", type=int, default=3, help="Snorkel runs per dataset (fewer if slow)")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="wall or CPU time (see above)")
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--name", default="overhead")
    args = p.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    warnings.simplefilter("ignore")
    from tripletws import LabelModel

    options = {"model": args.model} if args.model else {}
    options.update(json.loads(args.model_kw))
    index = json.loads((DATA / "index.json").read_text())
    load_start = load_average()
    rows = []
    for name, info in index.items():
        if (args.datasets and name not in args.datasets) or _splits(info) is None:
            continue
        row = measure(name, info, options, args.repeats)
        if args.snorkel_python:
            row["snorkel_s"] = snorkel_time(args.snorkel_python, name, info, args.snorkel_repeats)
        rows.append(row)
        print(
            f"{name:22s} fit {_fmt_ms(row['fit_s']):>7s} ms  predict {_fmt_ms(row['predict_s']):>6s} ms  "
            + "  ".join(f"{s} {_fmt_ms(row[s + '_s'])}" for s in (*STAGES, "em", "rest")),
            flush=True,
        )
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": (args.model or f"default ({LabelModel().model})")
        + "".join(f", {key}={value!r}" for key, value in json.loads(args.model_kw).items()),
        "revision": revision("benchmarks/overhead.py"),
        "command": "python benchmarks/overhead.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
        "load_start": load_start,
        "load_end": load_average(),
        "clock": args.clock,
        "rows": rows,
        "fixed_s": fixed_overhead(options, args.repeats),
        "jit": _jit_state(),
    }
    if args.snorkel_python:
        result["peers"] = {
            "times": {r["dataset"]: r["snorkel_s"] for r in rows},
            "source": "this run (interleaved with ours, dataset by dataset)",
        }
    elif args.peers:
        result["peers"] = _peer_times(args.peers)
    args.out.mkdir(parents=True, exist_ok=True)
    from tripletws.atomic import atomic_write_text  # after sys.path points at src

    atomic_write_text(args.out / f"{args.name}.json", json.dumps(result, indent=1) + "\n")
    md = render(result)
    atomic_write_text(args.out / f"{args.name}.md", md)
    print()
    print(md)


if __name__ == "__main__":
    main()
