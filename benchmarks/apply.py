"""Applying labeling functions: rows/s of our appliers against Snorkel 0.10's, and the LF cache's gain.

Data: generated text rows (8 to 20 words from a 400-word vocabulary, numpy seed 0)
and 20 keyword LFs (each votes its class when one of its 3 keywords occurs as a
substring, else abstains), the same rows and LFs for every applier.

Ours: PandasLFApplier (rows as Series, as Snorkel; rows as records), the same with
n_jobs=2 worker processes, DaskLFApplier (4 partitions, process scheduler), and
the vectorised keyword LFs (``keyword_lf``).  Snorkel (separate venv,
benchmarks/peers/setup_env.sh or any venv with snorkel==0.10.0): PandasLFApplier,
DaskLFApplier (4 partitions, process scheduler).  Cache: a cold apply with
``cache_dir`` then, after one LF is edited, the re-apply (only that LF runs)
against applying all LFs again.

Run:  PYTHONPATH=src python benchmarks/apply.py [--rows 200000] [--repeats 3] [--snorkel-python PY]
Writes benchmarks/results/apply.{md,json}.  Every figure is the median of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tripletws.atomic import atomic_write_text

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
N_LFS = 20


def make_rows(n: int, seed: int = 0):
    """A DataFrame with one column ``text`` of n generated sentences."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = np.array(["".join(rng.choice(letters, size=rng.integers(3, 9))) for _ in range(400)])
    lengths = rng.integers(8, 21, size=n)
    words = vocab[rng.integers(0, len(vocab), size=int(lengths.sum()))]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    text = [" ".join(words[bounds[i] : bounds[i + 1]]) for i in range(n)]
    return pd.DataFrame({"text": text}), vocab


def keyword_sets(vocab: np.ndarray) -> list[tuple[list[str], int]]:
    """20 (keywords, class) pairs: 3 distinct vocabulary words each, classes alternating."""
    return [([str(w) for w in vocab[3 * j : 3 * j + 3]], j % 2) for j in range(N_LFS)]


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def row_lf_factory(make_lf):
    """Row-wise keyword LFs built with ``make_lf(name, f)`` (ours or Snorkel's decorator)."""

    def build(keywords: list[str], label: int, name: str):
        def f(x, keywords=tuple(keywords), label=label):
            text = x.text
            if not isinstance(text, str):  # dask's meta inference calls LFs on placeholder rows
                return -1
            for w in keywords:
                if w in text:
                    return label
            return -1

        return make_lf(name, f)

    return build


# -- Snorkel, run inside its own venv ------------------------------------------------


def run_snorkel(rows: int, repeats: int) -> dict:
    import dask.dataframe as dd
    from snorkel.labeling import LabelingFunction, PandasLFApplier
    from snorkel.labeling.apply.dask import DaskLFApplier

    df, vocab = make_rows(rows)
    build = row_lf_factory(lambda name, f: LabelingFunction(name, f))
    lfs = [build(kw, label, f"lf{j}") for j, (kw, label) in enumerate(keyword_sets(vocab))]
    out = {}
    t, L = median_time(lambda: PandasLFApplier(lfs).apply(df, progress_bar=False), repeats)
    out["snorkel PandasLFApplier"] = {"seconds": t, "checksum": int(np.asarray(L).sum())}
    ddf = dd.from_pandas(df, npartitions=4)
    t, L = median_time(lambda: DaskLFApplier(lfs).apply(ddf, scheduler="processes"), repeats)
    out["snorkel DaskLFApplier (4 partitions, processes)"] = {
        "seconds": t,
        "checksum": int(np.asarray(L).sum()),
    }
    return out


# -- ours -----------------------------------------------------------------------------


def run_ours(rows: int, repeats: int) -> tuple[dict, dict]:
    import dask.dataframe as dd

    from tripletws.labeling import DaskLFApplier, LabelingFunction, PandasLFApplier, keyword_lf

    df, vocab = make_rows(rows)
    sets = keyword_sets(vocab)
    build = row_lf_factory(lambda name, f: LabelingFunction(name, f))
    row_lfs = [build(kw, label, f"lf{j}") for j, (kw, label) in enumerate(sets)]
    vec_lfs = [
        keyword_lf(kw, label, name=f"lf{j}", ignore_case=False, whole_word=False)
        for j, (kw, label) in enumerate(sets)
    ]
    out: dict[str, dict] = {}

    def record(name, fn):
        t, L = median_time(fn, repeats)
        out[name] = {"seconds": t, "checksum": int(np.asarray(L).sum())}
        print(f"{name}: {rows / t:,.0f} rows/s", flush=True)
        return L

    ref = record(
        "ours PandasLFApplier (rows as Series)", lambda: PandasLFApplier(row_lfs).apply(df, progress=False)
    )
    record(
        "ours PandasLFApplier (rows as records)",
        lambda: PandasLFApplier(row_lfs, rows="records").apply(df, progress=False),
    )
    record(
        "ours PandasLFApplier n_jobs=2 (Series)",
        lambda: PandasLFApplier(row_lfs, n_jobs=2).apply(df, progress=False),
    )
    record(
        "ours PandasLFApplier n_jobs=2 (records)",
        lambda: PandasLFApplier(row_lfs, n_jobs=2, rows="records").apply(df, progress=False),
    )
    ddf = dd.from_pandas(df, npartitions=4)
    record(
        "ours DaskLFApplier (4 partitions, processes)",
        lambda: DaskLFApplier(row_lfs).apply(ddf, progress=False, scheduler="processes"),
    )
    vec = record(
        "ours vectorised keyword_lf (pandas)", lambda: PandasLFApplier(vec_lfs).apply(df, progress=False)
    )
    if not np.array_equal(ref, vec):
        raise AssertionError("vectorised and row-wise keyword LFs disagree")

    # the cache: edit one LF, re-apply
    cache = {}
    with tempfile.TemporaryDirectory() as tmp:
        cold = []
        warm = []
        for r in range(repeats):
            cache_dir = Path(tmp) / f"c{r}"
            t0 = time.perf_counter()
            PandasLFApplier(row_lfs, cache_dir=cache_dir).apply(df, progress=False)
            cold.append(time.perf_counter() - t0)
            edited_kw, edited_label = sets[0][0] + [str(vocab[-1])], sets[0][1]
            edited = [build(edited_kw, edited_label, "lf0"), *row_lfs[1:]]
            applier = PandasLFApplier(edited, cache_dir=cache_dir)
            t0 = time.perf_counter()
            applier.apply(df, progress=False)
            warm.append(time.perf_counter() - t0)
            if applier.last_applied_ != ["lf0"]:
                raise AssertionError(f"cache re-applied {applier.last_applied_}")
        cache = {
            "all 20 LFs, cache cold (apply + write)": statistics.median(cold),
            "all 20 LFs again, no cache": out["ours PandasLFApplier (rows as Series)"]["seconds"],
            "one LF edited, cache warm (re-applies 1 LF)": statistics.median(warm),
        }
    return out, cache


def reuse_ours(rows: int) -> tuple[dict, dict]:
    """Our figures from an earlier run; the reference checksum is recomputed (vectorised LFs)."""
    from tripletws.labeling import PandasLFApplier, keyword_lf

    old = json.loads((RESULTS / "apply.json").read_text())
    if old["rows"] != rows:
        raise SystemExit(f"results/apply.json has rows={old['rows']}, not {rows}")
    df, vocab = make_rows(rows)
    lfs = [
        keyword_lf(kw, label, name=f"lf{j}", ignore_case=False, whole_word=False)
        for j, (kw, label) in enumerate(keyword_sets(vocab))
    ]
    checksum = int(PandasLFApplier(lfs).apply(df, progress=False).sum())
    ours = {
        name: {"seconds": r["seconds"], "checksum": checksum}
        for name, r in old["appliers"].items()
        if name.startswith("ours")
    }
    return ours, old["cache_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--snorkel-python", default=None, help="python of a venv with snorkel==0.10.0")
    parser.add_argument(
        "--reuse-ours",
        action="store_true",
        help="keep our figures from results/apply.json (same --rows) and run the peer only",
    )
    parser.add_argument("--peer", choices=["snorkel"], default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer == "snorkel":
        print(json.dumps(run_snorkel(args.rows, args.repeats)))
        return
    if args.reuse_ours:
        ours, cache = reuse_ours(args.rows)
    else:
        ours, cache = run_ours(args.rows, args.repeats)
    peers: dict = {}
    snorkel_py = args.snorkel_python or str(HERE / "peers" / ".venv" / "bin" / "python")
    snorkel_note = ""
    if Path(snorkel_py).exists():
        res = subprocess.run(
            [
                snorkel_py,
                __file__,
                "--peer",
                "snorkel",
                "--rows",
                str(args.rows),
                "--repeats",
                str(args.repeats),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": ""},
        )
        if res.returncode == 0:
            peers = json.loads(res.stdout.strip().splitlines()[-1])
            ver = subprocess.run(
                [snorkel_py, "-c", "import snorkel; print(snorkel.__version__)"],
                capture_output=True,
                text=True,
            ).stdout.strip()
            snorkel_note = f"snorkel {ver}"
        else:
            snorkel_note = f"snorkel run failed: {res.stderr.strip().splitlines()[-1:]}"
    else:
        snorkel_note = f"no snorkel venv at {snorkel_py} (benchmarks/peers/setup_env.sh builds one)"
    ref_sum = ours["ours PandasLFApplier (rows as Series)"]["checksum"]
    for name, r in peers.items():
        if r["checksum"] != ref_sum:
            raise AssertionError(f"{name} produced a different label matrix")
    rows_all = {**ours, **peers}
    base = peers.get("snorkel PandasLFApplier", {}).get("seconds")
    record = {
        "benchmark": "apply",
        "rows": args.rows,
        "lfs": N_LFS,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "peer": snorkel_note,
        "command": f"PYTHONPATH=src python benchmarks/apply.py --rows {args.rows} --repeats {args.repeats}",
        "appliers": {
            name: {"seconds": r["seconds"], "rows_per_s": args.rows / r["seconds"]}
            for name, r in rows_all.items()
        },
        "cache_seconds": cache,
    }
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(RESULTS / "apply.json", json.dumps(record, indent=2) + "\n")
    lines = [
        f"# Applying {N_LFS} keyword LFs to {args.rows:,} generated text rows",
        "",
        f"`{record['command']}` (median of {args.repeats} runs; {os.cpu_count()} CPUs shared with other "
        f"jobs; "
        f"{snorkel_note}).  Every applier produced the same label matrix.",
        "",
        "| applier | rows/s | seconds | vs Snorkel PandasLFApplier |",
        "|---|---|---|---|",
    ]
    for name, r in rows_all.items():
        rel = f"{base / r['seconds']:.2f}x" if base else "–"
        lines.append(f"| {name} | {args.rows / r['seconds']:,.0f} | {r['seconds']:.2f} | {rel} |")
    lines += ["", "## LF output cache (row-wise LFs, rows as Series)", "", "| run | seconds |", "|---|---|"]
    lines += [f"| {name} | {t:.2f} |" for name, t in cache.items()]
    gain = cache["all 20 LFs again, no cache"] / cache["one LF edited, cache warm (re-applies 1 LF)"]
    lines += ["", f"Editing one LF and re-applying is {gain:.1f}x faster with the cache."]
    atomic_write_text(RESULTS / "apply.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
