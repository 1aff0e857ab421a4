"""Speed and memory of LabelModel.fit / predict_proba against the float32 Gram roofline.

Grid: synthetic binary label matrices (``tripletws.datasets.make_synthetic``,
accuracies U[0.6, 0.9], coverage 0.5) with n in {1e5, 1e6, 1e7} rows and
m in {10, 50, 100} LFs.  Matrices are written once as int8 ``.npy`` files under
``benchmarks/.scratch/speed/``; cells with n >= 1e7 are read from
``np.load(path, mmap_mode="r")`` (out of core; the file sits in the OS page
cache), smaller ones are loaded into memory.

Every measurement runs in a fresh subprocess:

* ``fit``: ``LabelModel(cardinality=2).fit(L)`` wall time, then ``predict_proba(L)``
  wall time, then the process's peak resident memory (``VmHWM`` of
  ``/proc/self/status``, i.e. ``ru_maxrss``).  An untimed fit + predict on the
  first 65536 rows runs first, so that one-time costs (imports, BLAS thread
  start-up, first touch of the work buffers) are not timed -- as the roofline
  gets an untimed warm-up product.
* ``roofline``: one float32 Gram product ``F.T @ F`` on a float32 copy of the
  same matrix (for n > 1e6, the sum over 1e6-row blocks, each block converted
  outside the timer) -- the time of the single BLAS pass a one-pass method
  cannot beat.  ``fit / roofline`` is the ratio the targets refer to.

Medians over ``--repeats`` runs (default 5, and 3 for n >= 1e7).  Also measured
(``--no-extra`` skips): the multiclass path (k = 5, n = 1e6, m = 50) and the
sparse path (CSR, n = 1e6, m = 100, 5 % of cells voting).

Usage::

    python benchmarks/speed.py                 # full grid (about 10 minutes on 2 cores)
    python benchmarks/speed.py --quick         # n <= 1e6
    python benchmarks/speed.py --sizes 1e6 --lfs 50 --repeats 9

Writes ``benchmarks/results/speed.md`` and ``speed.json`` (``--out``, ``--name`` to change).
On a shared machine, ``--blas-threads 1`` gives steadier figures (see the notes in
the results file).

Threads and contention:

* ``--jobs 1 auto`` measures every cell once per ``LabelModel(n_jobs=...)`` setting
  (``auto`` = the library default, ``n_jobs=None``), in the same run.
* ``--contention`` measures every cell twice per repeat: idle, then with a
  background process spinning on one core (a ``while`` loop) for the whole
  measurement (fit, predict and the Gram roofline alike), and reports both side
  by side with their ratio.  The roofline is numpy's own ``F.T @ F`` with the BLAS
  threads the environment gives it, i.e. what a user's numpy code sees.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
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
SCRATCH = HERE / ".scratch" / "speed"
RESULTS = HERE / "results"
SEED = 0
MEMMAP_FROM = 10_000_000  # n at and above which L is read from an int8 memmap
ROOFLINE_BLOCK = 1_000_000  # rows per float32 block of the chunked roofline
WARMUP_ROWS = 1 << 16  # rows of the untimed warm-up fit (more than one default chunk)

TARGETS = (
    # (n, m, key, limit, label)
    (1_000_000, 50, "fit_s", 0.5, "fit <= 0.5 s"),
    (1_000_000, 50, "predict_s", 0.1, "predict <= 0.1 s"),
    (10_000_000, 100, "fit_s", 10.0, "fit <= 10 s (int8 memmap)"),
    (10_000_000, 100, "predict_s", 2.0, "predict <= 2 s (int8 memmap)"),
    (10_000_000, 100, "peak_rss_mb", 1500.0, "peak RSS <= 1.5 GB (1 GB int8 memmap)"),
)
MAX_ROOFLINE_RATIO = 3.0


# ----------------------------------------------------------------------------
# Worker side (runs in a fresh subprocess)
# ----------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (1e6 bytes)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru / 1e6 if sys.platform == "darwin" else ru * 1024 / 1e6


def _load(path: str, mmap: bool):
    if path.endswith(".npz"):
        import scipy.sparse as sp

        return sp.load_npz(path)
    return np.load(path, mmap_mode="r" if mmap else None)


def _worker_fit(spec: dict) -> dict:
    from tripletws import LabelModel

    k = spec["k"]
    options = {"model": spec["model"]} if spec.get("model") else {}
    if spec.get("jobs") is not None:
        options["n_jobs"] = spec["jobs"]
    L = _load(spec["path"], spec["mmap"])
    rss_loaded = _peak_rss_mb()
    # Warm-up on the first rows (imports, BLAS threads, first touch of the work
    # buffers), as the roofline gets a warm-up product.
    warm = L[:WARMUP_ROWS]
    LabelModel(cardinality=k, **options).fit(warm).predict_proba(warm)
    del warm
    t0 = time.perf_counter()
    model = LabelModel(cardinality=k, **options).fit(L)
    t1 = time.perf_counter()
    probs = model.predict_proba(L)
    t2 = time.perf_counter()
    peak = _peak_rss_mb()
    return {
        "fit_s": t1 - t0,
        "predict_s": t2 - t1,
        "peak_rss_mb": peak,
        "rss_after_load_mb": rss_loaded,
        "check": float(probs[:, 1].mean()),
    }


def _worker_roofline(spec: dict) -> dict:
    L = _load(spec["path"], spec["mmap"])
    n = L.shape[0]
    if n <= ROOFLINE_BLOCK:
        F = np.asarray(L, dtype=np.float32)
        F.T @ F  # warm-up (BLAS threads)
        t0 = time.perf_counter()
        F.T @ F
        return {"roofline_s": time.perf_counter() - t0}
    total = 0.0
    F = np.empty((ROOFLINE_BLOCK, L.shape[1]), dtype=np.float32)
    F.T @ F
    for start in range(0, n, ROOFLINE_BLOCK):
        block = F[: min(ROOFLINE_BLOCK, n - start)]
        np.copyto(block, L[start : start + len(block)])
        t0 = time.perf_counter()
        block.T @ block
        total += time.perf_counter() - t0
    return {"roofline_s": total}


def worker_main(spec_json: str) -> None:
    warnings.simplefilter("ignore")
    spec = json.loads(spec_json)
    out = _worker_fit(spec) if spec["task"] == "fit" else _worker_roofline(spec)
    print(json.dumps(out))


# ----------------------------------------------------------------------------
# Driver side
# ----------------------------------------------------------------------------


BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class Spinner:
    """A background process spinning on one core while the ``with`` block runs (none if ``on`` is false)."""

    def __init__(self, on: bool = True) -> None:
        self.on = on
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Spinner:
        if self.on:
            # spins until killed, or until this driver dies (then its parent changes)
            spin = "import os\nparent = os.getppid()\nwhile os.getppid() == parent: pass"
            self.proc = subprocess.Popen([sys.executable, "-c", spin])
            time.sleep(0.2)  # let it get scheduled
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def _run_worker(spec: dict, blas_threads: int | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    if blas_threads is not None:
        env.update(dict.fromkeys(BLAS_THREAD_VARS, str(blas_threads)))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"worker failed ({spec}):\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _dense_file(n: int, m: int, k: int, scratch: Path = SCRATCH) -> Path:
    """Write (once) the synthetic int8 matrix of this cell; returns its path."""
    from tripletws.datasets import make_synthetic

    path = scratch / f"L_n{n}_m{m}_k{k}_seed{SEED}.npy"
    if not path.exists():
        scratch.mkdir(parents=True, exist_ok=True)
        L = make_synthetic(n, m, k, random_state=SEED).L
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, L)
        tmp.replace(path)
    return path


def _sparse_file(n: int, m: int, density: float, scratch: Path = SCRATCH) -> Path:
    import scipy.sparse as sp

    from tripletws.datasets import make_synthetic
    from tripletws.matrix import to_sparse

    path = scratch / f"S_n{n}_m{m}_d{density}_seed{SEED}.npz"
    if not path.exists():
        scratch.mkdir(parents=True, exist_ok=True)
        L = make_synthetic(n, m, 2, coverage=density, random_state=SEED).L
        tmp = path.with_suffix(".tmp.npz")
        sp.save_npz(tmp, to_sparse(L, 2))
        tmp.replace(path)
    return path


def _median(runs: list[dict], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def measure(
    label: str,
    path: Path,
    n: int,
    m: int,
    k: int,
    mmap: bool,
    repeats: int,
    roofline: bool,
    blas_threads: int | None = None,
    model: str | None = None,
    jobs: int | None = None,
    contention: bool = False,
) -> dict:
    spec = {"path": str(path), "mmap": mmap, "k": k, "model": model, "jobs": jobs}
    fit_runs, roof_runs, busy_fit, busy_roof = [], [], [], []
    for _ in range(repeats):  # interleaved, so that load drifts hit both alike
        fit_runs.append(_run_worker({**spec, "task": "fit"}, blas_threads))
        if roofline:
            roof_runs.append(_run_worker({**spec, "task": "roofline"}, blas_threads))
        if contention:
            with Spinner():
                busy_fit.append(_run_worker({**spec, "task": "fit"}, blas_threads))
                if roofline:
                    busy_roof.append(_run_worker({**spec, "task": "roofline"}, blas_threads))
    row = {
        "case": label,
        "n": n,
        "m": m,
        "k": k,
        "jobs": "auto" if jobs is None else jobs,
        "input": "int8 memmap" if mmap else ("sparse CSR" if str(path).endswith(".npz") else "int8 array"),
        "data_mb": path.stat().st_size / 1e6,
        "repeats": repeats,
        "fit_s": _median(fit_runs, "fit_s"),
        "predict_s": _median(fit_runs, "predict_s"),
        "peak_rss_mb": _median(fit_runs, "peak_rss_mb"),
        "rss_after_load_mb": _median(fit_runs, "rss_after_load_mb"),
        "runs": fit_runs,
    }
    if roofline:
        row["roofline_s"] = _median(roof_runs, "roofline_s")
        row["fit_over_roofline"] = row["fit_s"] / row["roofline_s"]
        row["roofline_runs"] = [r["roofline_s"] for r in roof_runs]
    if contention:
        row["busy"] = {
            "fit_s": _median(busy_fit, "fit_s"),
            "predict_s": _median(busy_fit, "predict_s"),
            "peak_rss_mb": _median(busy_fit, "peak_rss_mb"),
            "runs": busy_fit,
        }
        if roofline:
            row["busy"]["roofline_s"] = _median(busy_roof, "roofline_s")
            row["busy"]["roofline_runs"] = [r["roofline_s"] for r in busy_roof]
    return row


def _default_model() -> str:
    from tripletws import LabelModel

    return str(LabelModel().model)


def _blas_info() -> str:
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older numpy: no dict mode
        return "unknown"


def machine_info(blas_threads: int | None = None) -> dict:
    import scipy

    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "blas": _blas_info(),
        "blas_threads_env": (
            dict.fromkeys(BLAS_THREAD_VARS, str(blas_threads))
            if blas_threads is not None
            else {v: os.environ[v] for v in BLAS_THREAD_VARS if v in os.environ}
        ),
    }


def _fmt(x: float, digits: int = 3) -> str:
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}g}" if x < 1 else f"{x:.2f}"


def _target_lines(rows: list[dict]) -> list[str]:
    lines = []
    for n, m, key, limit, text in TARGETS:
        hit = [r for r in rows if r["case"] == "grid" and r["n"] == n and r["m"] == m]
        if not hit:
            continue
        v = hit[0][key]
        ok = "met" if v <= limit else "MISSED"
        lines.append(f"- n={n:.0e}, m={m}: {text}: {_fmt(v)} -> **{ok}** ({v / limit:.0%} of the limit)")
    grid = [r for r in rows if r["case"] == "grid" and "fit_over_roofline" in r]
    if grid:
        worst = max(grid, key=lambda r: r["fit_over_roofline"])
        bad = [r for r in grid if r["fit_over_roofline"] > MAX_ROOFLINE_RATIO]
        status = "met" if not bad else f"MISSED in {len(bad)} of {len(grid)} cells"
        lines.append(
            f"- fit within {MAX_ROOFLINE_RATIO:g}x of the Gram roofline in every cell: **{status}** "
            f"(worst {worst['fit_over_roofline']:.2f}x at n={worst['n']:.0e}, m={worst['m']})"
        )
    return lines


def render_markdown(result: dict) -> str:
    info = result["machine"]
    rows = result["rows"]
    out = [
        "# tripletws speed benchmark",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['cpus']} CPUs ({info['processor']}), {info['platform']}",
        f"- python {info['python']}, numpy {info['numpy']} ({info['blas']}), scipy {info['scipy']}"
        + "".join(f", {k}={v}" for k, v in info["blas_threads_env"].items()),
        f"- tripletws revision: {result['revision']}; model: {result.get('model', 'default')}",
        f"- command: `{result['command']}`",
        f"- load average at start / end: {result['load_start']} / {result['load_end']}",
        "",
        "`LabelModel(cardinality=2).fit` / `predict_proba` on binary synthetic label matrices",
        f"(int8, coverage 0.5, `make_synthetic(..., random_state={result.get('seed', 0)})`).  Times are",
        "wall-clock medians of fresh",
        "processes; `roofline` = one float32 Gram `F.T @ F` of the same matrix; peak RSS = the process's",
        "high-water mark (imports, data, fit and predict; the memmap case maps the file read-only).",
        "",
        "| n | m | n_jobs | input | data MB | fit s | predict s | peak RSS MB | roofline s "
        "| fit / roofline |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["case"] != "grid":
            continue
        out.append(
            f"| {r['n']:.0e} | {r['m']} | {r.get('jobs', 'auto')} | {r['input']} | {r['data_mb']:.0f} | "
            f"{_fmt(r['fit_s'])} | "
            f"{_fmt(r['predict_s'])} | {r['peak_rss_mb']:.0f} | {_fmt(r['roofline_s'])} | "
            f"{r['fit_over_roofline']:.2f} |"
        )
    busy = [r for r in rows if "busy" in r]
    if busy:
        out += [
            "",
            "Idle vs one core busy (a `while True: pass` process during the whole measurement;",
            "medians of the same number of runs, idle and busy interleaved):",
            "",
            "| case | n | m | n_jobs | fit idle s | fit busy s | busy / idle | predict idle s "
            "| predict busy s | numpy Gram idle s | Gram busy s | Gram busy / idle |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in busy:
            b = r["busy"]
            gram = (
                f"{_fmt(r['roofline_s'])} | {_fmt(b['roofline_s'])} | {b['roofline_s'] / r['roofline_s']:.2f}"
                if "roofline_s" in b
                else "- | - | -"
            )
            out.append(
                f"| {r['case']} | {r['n']:.0e} | {r['m']} | {r.get('jobs', 'auto')} | {_fmt(r['fit_s'])} | "
                f"{_fmt(b['fit_s'])} | {b['fit_s'] / r['fit_s']:.2f} | {_fmt(r['predict_s'])} | "
                f"{_fmt(b['predict_s'])} | {gram} |"
            )
    extra = [r for r in rows if r["case"] != "grid"]
    if extra:
        out += [
            "",
            "Other paths (same protocol, no roofline):",
            "",
            "| case | n | m | k | n_jobs | input | fit s | predict s | peak RSS MB |",
            "|---|---:|---:|---:|---:|---|---:|---:|---:|",
        ]
        for r in extra:
            out.append(
                f"| {r['case']} | {r['n']:.0e} | {r['m']} | {r['k']} | {r.get('jobs', 'auto')} | "
                f"{r['input']} | {_fmt(r['fit_s'])} | "
                f"{_fmt(r['predict_s'])} | {r['peak_rss_mb']:.0f} |"
            )
    targets = _target_lines(rows)
    if targets:
        out += ["", "Targets (2-core machine):", "", *targets]
    threads = info["blas_threads_env"].get("OPENBLAS_NUM_THREADS", "default (one per CPU)")
    out += [
        "",
        "Notes:",
        "",
        f"- BLAS threads in the environment: {threads}.  tripletws runs BLAS on one thread inside",
        "  fit and predict whatever the environment says (and spreads row chunks over n_jobs",
        "  threads), so this setting only changes the roofline: numpy's Gram with multithreaded",
        "  OpenBLAS stalls whenever another process holds a CPU (every call waits for its helper",
        "  thread); `--blas-threads 1` measures it without that effect.",
        "- Untimed warm-ups: a fit + predict on the first 65536 rows, and one Gram product.",
        "- The memmap cells read a file that sits in the OS page cache (written just before);",
        "  pages are released behind the reader, so peak RSS stays far below the file size.",
    ]
    return "\n".join(out) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=float, nargs="+", default=[1e5, 1e6, 1e7], help="row counts n")
    p.add_argument("--lfs", type=int, nargs="+", default=[10, 50, 100], help="LF counts m")
    p.add_argument("--quick", action="store_true", help="only n <= 1e6")
    p.add_argument("--repeats", type=int, default=None, help="runs per cell (default 5; 3 for n >= 1e7)")
    p.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="set OPENBLAS/OMP/MKL_NUM_THREADS in the measuring processes (default: inherit)",
    )
    p.add_argument(
        "--model", default=None, help="LabelModel(model=...) to measure (default: the library default)"
    )
    p.add_argument("--no-extra", action="store_true", help="skip the multiclass and sparse cases")
    p.add_argument(
        "--jobs",
        nargs="+",
        default=["auto"],
        help="LabelModel(n_jobs=...) settings to measure, each in every cell: integers or 'auto' (default)",
    )
    p.add_argument(
        "--contention",
        action="store_true",
        help="also measure every cell with a background process spinning on one core",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    p.add_argument("--name", default="speed", help="results file stem: NAME.md and NAME.json")
    p.add_argument(
        "--memmap-from", type=float, default=MEMMAP_FROM, help="read L from an int8 memmap for n >= this"
    )
    p.add_argument("--scratch", type=Path, default=SCRATCH, help="folder for the generated matrices")
    p.add_argument(
        "--seed",
        type=int,
        default=SEED,
        help="random_state of make_synthetic for every generated matrix (default 0, the recorded figures')",
    )
    p.add_argument("--keep-data", action="store_true", help="keep the n >= 1e7 scratch files")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    global SEED
    args = parse_args(argv)
    if args.worker:
        worker_main(args.worker)
        return
    SEED = args.seed  # the scratch files' names carry it
    sys.path.insert(0, str(REPO / "src"))
    sizes = sorted(int(s) for s in args.sizes if not (args.quick and s > 1e6))
    lfs = sorted(args.lfs)
    try:
        jobs_list = [None if j == "auto" else int(j) for j in args.jobs]
    except ValueError:
        raise SystemExit(f"--jobs takes integers or 'auto', got {args.jobs}") from None
    load_start = load_average()
    rows = []
    big_files = []
    for n in sizes:
        for m in lfs:
            path = _dense_file(n, m, 2, args.scratch)
            mmap = n >= args.memmap_from
            if mmap:
                big_files.append(path)
            reps = args.repeats or (3 if n >= 10_000_000 else 5)
            for jobs in jobs_list:
                row = measure(
                    "grid",
                    path,
                    n,
                    m,
                    2,
                    mmap,
                    reps,
                    True,
                    blas_threads=args.blas_threads,
                    model=args.model,
                    jobs=jobs,
                    contention=args.contention,
                )
                rows.append(row)
                busy = (
                    f"  | busy: fit {row['busy']['fit_s']:.3f} s  roofline {row['busy']['roofline_s']:.3f} s"
                    if args.contention
                    else ""
                )
                print(
                    f"n={n:.0e} m={m:3d} jobs={row['jobs']}: fit {row['fit_s']:.3f} s  "
                    f"predict {row['predict_s']:.3f} s  peak RSS {row['peak_rss_mb']:.0f} MB  "
                    f"roofline {row['roofline_s']:.3f} s  ratio {row['fit_over_roofline']:.2f}{busy}",
                    flush=True,
                )
    if not args.no_extra:
        reps = args.repeats or 5
        cases = [
            ("multiclass k=5", _dense_file(1_000_000, 50, 5, args.scratch), 1_000_000, 50, 5),
            ("sparse 5 %", _sparse_file(1_000_000, 100, 0.05, args.scratch), 1_000_000, 100, 2),
        ]
        for label, path, n, m, k in cases:
            for jobs in jobs_list:
                row = measure(
                    label,
                    path,
                    n,
                    m,
                    k,
                    False,
                    reps,
                    False,
                    blas_threads=args.blas_threads,
                    model=args.model,
                    jobs=jobs,
                    contention=args.contention,
                )
                rows.append(row)
                print(
                    f"{label} jobs={row['jobs']}: fit {row['fit_s']:.3f} s  predict {row['predict_s']:.3f} s",
                    flush=True,
                )
    result = {
        "machine": machine_info(args.blas_threads),
        "model": args.model or f"default ({_default_model()})",
        "revision": revision("benchmarks/speed.py"),
        "command": "python benchmarks/speed.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
        "load_start": load_start,
        "load_end": load_average(),
        "seed": SEED,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    from tripletws.atomic import atomic_write_text  # after sys.path points at src

    atomic_write_text(args.out / f"{args.name}.json", json.dumps(result, indent=1) + "\n")
    md = render_markdown(result)
    atomic_write_text(args.out / f"{args.name}.md", md)
    print()
    print(md)
    if not args.keep_data:
        for f in big_files:
            f.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
