"""A few gold labels on the stress suite: ``fit(L, L_dev=..., Y_dev=...)`` with and without relabelling.

For every stress problem (benchmarks/stress_problems.py, ``--base-seed`` picks the draw) the first
``n_dev`` rows of the test draw are the dev rows (gold known), the rest are scored.  Per dev size:

* ``mv``: majority vote on the scored rows;
* ``no_gold``: ``LabelModel(k).fit(L)`` (the gold-free default);
* ``dev``: ``fit(L, L_dev, Y_dev)`` as the library does it now (:mod:`tripletws.dev_choice`);
* ``dev_plain``: the dev choice before session 9 (``choose_with_dev(..., relabelling=False,
  lead_se=None)``: the best dev accuracy, no relabelled candidates);
* ``dev_relabel``: with relabelled candidates (cross-fitted, kept beyond ``RELABEL_SE``), best dev
  accuracy otherwise (``lead_se=None``);
* ``dev_se``: with relabelled candidates, and the gold-free fit kept unless another candidate leads it
  by more than 2 standard errors of the paired per-row dev accuracy (``lead_se=2``);
* ``dev_se1``: the same with 1 standard error (Breiman's one-standard-error rule);
* ``dev_loo``: with relabelled candidates, and the gold-free fit kept unless choosing the best candidate
  on the other dev rows scores each left-out dev row better on average (``lead_se="loo"``);
* ``dev_shared``: the library's dev choice with ``LabelModel(one_class="shared")`` (the conservative
  setting's gold-free fit as the first candidate).

``--variants`` runs a subset (``dev`` and ``dev_plain`` always run: the others are compared with them;
``--variants`` with no names runs those two only).

Accuracy is expected under a uniform tie-break (benchmarks/scoring.py).  The summary gives means,
the share of problems at or above each baseline - 0.5 points, wins / ties / losses of ``dev`` against
``dev_plain``, and the worst problem.

    PYTHONPATH=src python benchmarks/stress_dev.py --jobs 2                    # dev suite, 50 and 200 rows
    PYTHONPATH=src python benchmarks/stress_dev.py --base-seed 20320101 --jobs 2 --out PATH.json

Writes ``benchmarks/results/stress_dev.{json,md}`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from provenance import load_average, revision  # noqa: E402
from scoring import mv_scores, tie_scores  # noqa: E402
from stress import _init_worker  # noqa: E402  (one BLAS thread per worker, as the stress suite)
from stress_problems import BASE_SEED, Problem, all_problems, draw, requested_extras  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402

RESULTS = HERE / "results"
TIE = 0.005  # the stress suite's tie: 0.5 points
SIZES = (50, 200)


#: Variants of the dev choice: name -> ``choose_with_dev`` keywords (``dev``: the library's defaults).
VARIANTS: dict[str, dict[str, Any]] = {
    "dev": {},
    "dev_plain": {"relabelling": False, "lead_se": None},
    "dev_relabel": {"relabelling": True, "lead_se": None},
    "dev_se": {"relabelling": True, "lead_se": 2.0},
    "dev_se1": {"relabelling": True, "lead_se": 1.0},
    "dev_loo": {"relabelling": True, "lead_se": "loo"},
    # the library's dev choice on the conservative setting's fit (abstentions read as "not assigned"
    # by the gold-free fit; the dev choice's candidates still read them): ``model`` holds LabelModel
    # settings, not choose_with_dev keywords
    "dev_shared": {"model": {"one_class": "shared"}},
}


def _fit_dev(k: int, L: np.ndarray, L_dev: np.ndarray, y_dev: np.ndarray, options: dict[str, Any]) -> Any:
    import tripletws.dev_choice as dc
    from tripletws import LabelModel

    original = dc.choose_with_dev
    options = dict(options)
    model_kw = options.pop("model", {})

    def choose(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **{**kwargs, **options})

    dc.choose_with_dev = choose
    try:
        return LabelModel(cardinality=k, **model_kw).fit(L, L_dev=L_dev, Y_dev=y_dev)
    finally:
        dc.choose_with_dev = original


def run_problem(args: tuple[Problem, tuple[int, ...], int | None]) -> dict[str, Any]:
    """Draw one problem and score every method at every dev size. Never raises."""
    from tripletws import LabelModel

    problem, sizes, max_n = args
    k = int(problem.params["k"])
    out: dict[str, Any] = {"name": problem.name, "family": problem.family, "k": k}
    out["m"] = int(problem.params["m"])
    cpu0 = time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            L, _, L_test, y_test = draw(problem, max_n)
            out["n"] = int(L.shape[0])
            P_free = LabelModel(cardinality=k).fit(L).predict_proba(L_test)
            for size in sizes:
                if size * 2 > len(y_test):
                    continue
                dev, rest = slice(0, size), slice(size, None)
                row = {
                    "mv": tie_scores(mv_scores(L_test[rest], k), y_test[rest], k)[0],
                    "no_gold": tie_scores(P_free[rest], y_test[rest], k)[0],
                }
                for name, options in VARIANTS.items():
                    model = _fit_dev(k, L, L_test[dev], y_test[dev], options)
                    row[name] = tie_scores(model.predict_proba(L_test[rest]), y_test[rest], k)[0]
                    row[f"{name}_chosen"] = model.dev_choice_["chosen"]
                out[str(size)] = row
    except Exception as exc:  # a crash is a finding
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
    out["cpu_s"] = time.process_time() - cpu0
    return out


def _against(acc: dict[str, np.ndarray], names: list[str], a: str, b: str) -> dict[str, Any]:
    """Wins / ties / losses (0.5 points), summed points, worst and best problem of ``a`` against ``b``."""
    d = acc[a] - acc[b]
    return {
        "wins": int((d > TIE).sum()),
        "ties": int((np.abs(d) <= TIE).sum()),
        "losses": int((d < -TIE).sum()),
        "summed_points": float(100 * d.sum()),
        "worst": [names[int(np.argmin(d))], float(100 * d.min())],
        "best": [names[int(np.argmax(d))], float(100 * d.max())],
    }


def summarize(problems: list[dict], sizes: tuple[int, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size in sizes:
        rows = [p[str(size)] for p in problems if str(size) in p]
        if not rows:
            continue
        acc = {name: np.array([r[name] for r in rows]) for name in ("mv", "no_gold", *VARIANTS)}
        names = [p["name"] for p in problems if str(size) in p]

        out[str(size)] = {
            "problems": len(rows),
            "mean": {name: float(v.mean()) for name, v in acc.items()},
            "share_at_or_above_mv": {
                name: float(np.mean(v >= acc["mv"] - TIE)) for name, v in acc.items() if name != "mv"
            },
            "share_at_or_above_no_gold": {
                name: float(np.mean(acc[name] >= acc["no_gold"] - TIE)) for name in VARIANTS
            },
            "against_dev_plain": {
                name: _against(acc, names, name, "dev_plain") for name in VARIANTS if name != "dev_plain"
            },
            "against_no_gold": {name: _against(acc, names, name, "no_gold") for name in VARIANTS},
            "relabelled_chosen": {
                name: int(sum("+relabel" in r[f"{name}_chosen"] for r in rows)) for name in VARIANTS
            },
        }
    return out


def to_markdown(res: dict) -> str:
    lines = [
        "# A few gold labels on the stress suite: the dev choice with and without relabelling",
        "",
        f"- command: `{res['command']}`",
        f"- revision: {res['revision']}; date: {res['date']}; base seed: {res['base_seed']}; "
        f"load average at start / end: {res['load'][0]} / {res['load'][1]}",
        "- dev rows: the first n_dev rows of each problem's test draw (gold known); scored on the rest",
        "- `dev`: `fit(L, L_dev, Y_dev)` now (relabelled candidates, cross-fitted); `dev_plain`: without "
        "them; `no_gold`: `fit(L)`; accuracy expected under a uniform tie-break",
        "",
        "Per dev size: mean accuracy; share of problems at or above MV - 0.5 points and at or above the "
        "gold-free fit - 0.5 points; wins / ties / losses (0.5 points), summed points and worst problem "
        "against `dev_plain` and against `no_gold`; problems whose choice is a relabelled candidate.",
        "",
        "| dev rows | variant | mean | >= MV - 0.5 | >= no gold - 0.5 | vs dev_plain: w / t / l, sum, worst "
        "| vs no gold: w / t / l, sum, worst | relabelled |",
        "|---:|---|---:|---:|---:|---|---|---:|",
    ]
    for size, s in res["summary"].items():
        m, sh = s["mean"], s["share_at_or_above_mv"]
        lines.append(f"| {size} | MV | {m['mv']:.4f} | | | | | |")
        lines.append(f"| {size} | no gold | {m['no_gold']:.4f} | {100 * sh['no_gold']:.1f} % | | | | |")
        for name in VARIANTS:
            cells = []
            for key in ("against_dev_plain", "against_no_gold"):
                v = s[key].get(name)
                cells.append(
                    f"{v['wins']} / {v['ties']} / {v['losses']}, {v['summed_points']:+.1f}, "
                    f"{v['worst'][0]} {v['worst'][1]:+.1f}"
                    if v
                    else ""
                )
            lines.append(
                f"| {size} | {name} | {m[name]:.4f} | {100 * sh[name]:.1f} % | "
                f"{100 * s['share_at_or_above_no_gold'][name]:.1f} % | {cells[0]} | {cells[1]} | "
                f"{s['relabelled_chosen'][name]} |"
            )
    lines += ["", "Where `dev` and `dev_plain` differ by over 0.5 points (dev - dev_plain):", ""]
    for size in res["summary"]:
        diffs = [
            (p["name"], 100 * (p[size]["dev"] - p[size]["dev_plain"]), p[size]["dev_chosen"])
            for p in res["problems"]
            if size in p and abs(p[size]["dev"] - p[size]["dev_plain"]) > TIE
        ]
        diffs.sort(key=lambda t: t[1])
        text = ", ".join(f"{n} {d:+.1f} ({c})" for n, d, c in diffs) or "none"
        lines.append(f"- {size} rows: {text}")
    errors = [p for p in res["problems"] if "error" in p]
    if errors:
        lines += ["", "Errors: " + "; ".join(f"{p['name']}: {p['error']}" for p in errors)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base-seed", type=int, default=BASE_SEED)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument(
        "--families", nargs="*", help="only these families (opt-in ones such as keyword when named)"
    )
    ap.add_argument("--problems", nargs="*", help="only these problems (names)")
    ap.add_argument("--max-n", type=int, default=None, help="cap both draws' rows (smoke tests)")
    ap.add_argument("--variants", nargs="*", choices=list(VARIANTS), help="a subset of the variants")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--out", default=str(RESULTS / "stress_dev.json"))
    args = ap.parse_args(argv)
    sizes = tuple(args.sizes)
    if args.variants is not None:  # `--variants` with no names: dev and dev_plain only
        for name in [v for v in VARIANTS if v not in {*args.variants, "dev", "dev_plain"}]:
            del VARIANTS[name]  # before the workers fork: they read the same table
    problems = [
        p
        for p in all_problems(args.base_seed, requested_extras(args.families))
        if (not args.families or p.family in args.families) and (not args.problems or p.name in args.problems)
    ]
    load0 = load_average()
    if args.jobs > 1:
        with mp.get_context("fork" if os.name == "posix" else "spawn").Pool(args.jobs, _init_worker) as pool:
            rows = pool.map(run_problem, [(p, sizes, args.max_n) for p in problems], chunksize=1)
    else:
        _init_worker()
        rows = [run_problem((p, sizes, args.max_n)) for p in problems]
    res = {
        "command": "python benchmarks/stress_dev.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "revision": revision(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "base_seed": args.base_seed,
        "load": [load0, load_average()],
        "summary": summarize(rows, sizes),
        "problems": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(res, separators=(",", ":")))
    atomic_write_text(out.with_suffix(".md"), to_markdown(res))
    print(to_markdown(res).split("\n\nWhere")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
