"""Quick quality table: majority vote vs configurations of our LabelModel on the shared data.

Same protocol, tie-break and metrics as ``benchmarks/peers/run_quality.py`` (imported from
``benchmarks/peers/common.py``), but only our package, so it runs in the project's own env in
a few seconds::

    PYTHONPATH=src python benchmarks/quality_ours.py                      # the preset configs
    PYTHONPATH=src python benchmarks/quality_ours.py --config '{"model": "class_conditional"}'
    PYTHONPATH=src python benchmarks/quality_ours.py --datasets sms youtube --markdown

Protocol: crowd sets (single split ``all``) fit and evaluate on all rows; the others fit on
``train`` without its gold and evaluate on the dataset's ``eval_split``.  Predictions are the
argmax with a fixed per-row-hash tie-break (tolerance 1e-5).  Per dataset: accuracy, then F1
of class 1 (k = 2) or macro-F1 (k > 2).  The summary rows give the mean accuracy, the largest
shortfall against MV, and the F1 of the imbalanced binary sets against MV's.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from common import load_index, load_split, metrics

from tripletws.atomic import atomic_write_text

IMBALANCED = ("sms", "sms_spear", "spouse_rdp", "cdr_metal")

PRESETS: dict[str, dict] = {
    "symmetric": {"model": "symmetric"},
    "cc": {"model": "class_conditional", "class_balance": "estimate"},
    "cc uniform": {"model": "class_conditional", "class_balance": "uniform"},
    "cc+em": {"model": "class_conditional", "class_balance": "estimate", "em_steps": 100},
    "cc+em uniform": {"model": "class_conditional", "class_balance": "uniform", "em_steps": 100},
    "default": {},
}


def mv_proba(L: np.ndarray, k: int) -> np.ndarray:
    counts = np.stack([(L == c).sum(axis=1) for c in range(k)], axis=1)
    top = counts == counts.max(axis=1, keepdims=True)
    return top / top.sum(axis=1, keepdims=True)


def datasets(names: list[str] | None) -> list[tuple[str, int, np.ndarray, np.ndarray, np.ndarray]]:
    out = []
    for name, info in load_index().items():
        ev = info.get("eval_split")
        if not ev or (names and name not in names):
            continue
        L_eval, y_eval = load_split(name, ev)
        if not (y_eval >= 0).any():
            continue
        L_fit = L_eval if ev == "all" else load_split(name, "train")[0]
        out.append((name, int(info["k"]), L_fit, L_eval, y_eval))
    return out


def evaluate(configs: dict[str, dict], names: list[str] | None) -> dict:
    from tripletws import LabelModel

    results: dict = {}
    for name, k, L_fit, L_eval, y_eval in datasets(names):
        row = {"k": k, "MV": metrics(mv_proba(L_eval, k), y_eval, k)}
        for label, kwargs in configs.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = LabelModel(cardinality=k, **kwargs).fit(L_fit)
                row[label] = metrics(model.predict_proba(L_eval), y_eval, k)
        results[name] = row
    return results


def render(results: dict, labels: list[str], markdown: bool) -> str:
    cols = ["MV", *labels]
    sep = " | " if markdown else "  "
    width = max(12, *(len(c) for c in cols))
    lines = []
    head = ["dataset".ljust(20), *(c.rjust(width) for c in cols)]
    lines.append(sep.join(head))
    if markdown:
        lines[-1] = "| " + lines[-1] + " |"
        lines.append("|" + "|".join("---" for _ in head) + "|")
    for name, row in results.items():
        f1 = "f1" if row["k"] == 2 else "macro_f1"
        cells = [f"{name} (k={row['k']})".ljust(20)]
        for c in cols:
            cells.append(f"{row[c]['acc']:.3f} / {row[c][f1]:.3f}".rjust(width))
        lines.append(("| " if markdown else "") + sep.join(cells) + (" |" if markdown else ""))
    names = list(results)

    def summary(title: str, values: list[str]) -> None:
        cells = [title.ljust(20), *(v.rjust(width) for v in values)]
        lines.append(("| " if markdown else "") + sep.join(cells) + (" |" if markdown else ""))

    summary("mean acc", [f"{np.mean([results[n][c]['acc'] for n in names]):.3f}" for c in cols])
    worst = []
    for c in cols:
        gaps = [(results[n][c]["acc"] - results[n]["MV"]["acc"], n) for n in names]
        g, n = min(gaps)
        worst.append(f"{g:+.3f} {n}")
    summary("worst vs MV (acc)", worst)
    imb = [n for n in IMBALANCED if n in results]
    if imb:
        short = []
        for c in cols:
            misses = [n for n in imb if results[n][c]["f1"] < results[n]["MV"]["f1"] - 1e-12]
            short.append(f"{len(imb) - len(misses)}/{len(imb)} F1>=MV")
        summary("imbalanced F1", short)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--config", action="append", default=[], help="NAME=JSON dict of LabelModel kwargs (repeatable)"
    )
    ap.add_argument("--presets", nargs="*", default=None, help=f"subset of {list(PRESETS)}")
    ap.add_argument("--datasets", nargs="*", default=None)
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    args = ap.parse_args()
    configs = {p: PRESETS[p] for p in (args.presets if args.presets is not None else PRESETS)}
    for text in args.config:
        name, _, body = text.partition("=")
        configs[name] = json.loads(body)
    results = evaluate(configs, args.datasets)
    print("cells: accuracy / F1 of class 1 (k = 2) or macro-F1 (k > 2)")
    print(render(results, list(configs), args.markdown))
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
