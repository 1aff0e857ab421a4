"""Command line: ``tripletws fit | update | predict | evaluate | inspect | dependencies | report | demo``.

Every command reads label matrices with :mod:`tripletws.files` and works through the
public Python API.  Bad input (a missing file, a bad value, a damaged model file)
ends with one line ``tripletws: error: <message>`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import numpy as np

from . import __version__
from .base import BaseLabeler
from .baselines import MajorityLabelVoter
from .estimators import SIGNS, SOLVERS, SymmetricEstimate
from .estimators.class_balance import STRATEGIES
from .estimators.class_conditional import ClassConditionalEstimate
from .files import read_labels, read_matrix, write_array, write_csv
from .matrix import check_label_matrix, check_labels, voted_rows
from .metrics import METRICS
from .model import LabelModel
from .models import registered
from .predictions import TIE_BREAK_POLICIES
from .sequence import SequenceLabelModel

PROG = "tripletws"
EXIT_USAGE = 2


class CLIError(Exception):
    """Bad input detected by the command line itself."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``tripletws: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        _fail(message + hint)


def _report_error(message: str) -> int:
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"{PROG}: error: {one_line}\n")
    return EXIT_USAGE


def _fail(message: str) -> NoReturn:
    raise SystemExit(_report_error(message))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(f"{PROG}: warning: {' '.join(str(message).split())}\n")


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------


@contextmanager
def _about_matrix(path: str) -> Iterator[None]:
    """Prefix the file name to value errors found while reading the label matrix lazily."""
    try:
        yield
    except ValueError as exc:
        text = str(exc)
        if text.startswith(("label matrix", "sparse label matrix", "L ", "L_train ")):
            raise ValueError(f"{path}: {text}") from exc
        raise


def _load_labeler(path: str) -> BaseLabeler:
    from .io import load_model

    model = load_model(path)
    unfitted_chain = isinstance(model, SequenceLabelModel) and not hasattr(model, "frame_model_")
    if unfitted_chain or (isinstance(model, LabelModel) and not hasattr(model, "params_")):
        raise CLIError(f"{path}: the model in this file was saved before fitting; fit it first")
    return model


def _parse_class_balance(text: str | None) -> tuple[Any, Any]:
    """``--class-balance`` -> (constructor value, fit value)."""
    if text is None:
        return "auto", None
    if text in STRATEGIES:
        return text, None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise CLIError(
            f"--class-balance must be {' or '.join(STRATEGIES)} or comma-separated probabilities "
            f"such as 0.3,0.7; got {text!r}"
        ) from None
    return "auto", np.asarray(values)


def _parse_dependencies(text: str | None) -> list[tuple[int, int]] | None:
    """``--dependencies 0-6,3-4`` -> [(0, 6), (3, 4)] (range checks happen in fit)."""
    if text is None:
        return None
    edges = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.replace(":", "-").split("-")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise CLIError(f"--dependencies takes pairs of LF indices such as 0-6,3-4; got {item!r}")
        edges.append((int(parts[0]), int(parts[1])))
    return edges


def _read_sequence_ids(args: argparse.Namespace, n: int) -> np.ndarray | None:
    """``--sequence-ids FILE`` (array ``--sequence-key`` of an .npz, default ``seq``) or None."""
    path = getattr(args, "sequence_ids", None)
    if path is None:
        return None
    ids = read_labels(path, args.sequence_key)
    if ids.shape[0] != n:
        raise CLIError(f"{path}: {ids.shape[0]} sequence ids for a label matrix of {n} rows")
    return ids


def _infer_cardinality(path: str, L: np.ndarray, y: np.ndarray | None) -> int:
    with _about_matrix(path):
        k = check_label_matrix(L, None, name="L").cardinality
    if y is not None and y.size:
        k = max(k, int(np.max(y)) + 1)
    return k


def _fmt(value: float, digits: int = 4) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Aligned text table: first column left-aligned, the others right-aligned."""
    cells = [list(header), *[list(r) for r in rows]]
    widths = [max(len(row[j]) for row in cells) for j in range(len(header))]
    lines = []
    for row in cells:
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return None if math.isnan(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


# ----------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------


def cmd_fit(args: argparse.Namespace) -> int:
    L = read_matrix(args.L_FILE, args.key, args.header)
    y_dev = None if args.y_dev is None else read_labels(args.y_dev, args.y_key)
    k = args.cardinality if args.cardinality is not None else _infer_cardinality(args.L_FILE, L, y_dev)
    prior_setting, prior = _parse_class_balance(args.class_balance)
    dependencies = _parse_dependencies(args.dependencies)
    sequence = args.sequence or args.sequence_ids is not None or args.window is not None
    sequence = sequence or args.persistence is not None
    model: LabelModel | SequenceLabelModel
    if sequence:
        if args.model not in (None, "symmetric"):
            raise CLIError(f"--model {args.model} has no sequence version; sequences use the symmetric model")
        model = SequenceLabelModel(
            cardinality=k,
            window=args.window,
            persistence=args.persistence,
            solver=args.solver,
            signs=args.signs,
            dependencies=dependencies,
            class_balance=prior_setting,
            chunk_size=args.chunk_size,
            random_state=args.seed,
        )
    else:
        model = LabelModel(
            cardinality=k,
            model=args.model or "annotator",
            solver=args.solver,
            signs=args.signs,
            dependencies=dependencies,
            class_balance=prior_setting,
            chunk_size=args.chunk_size,
            random_state=args.seed,
        )
    if y_dev is not None:
        y_dev = check_labels(y_dev, None, k, name="Y_dev")
    t0 = time.perf_counter()
    with _about_matrix(args.L_FILE):
        if sequence:
            ids = _read_sequence_ids(args, L.shape[0])
            model.fit(L, ids, Y_dev=y_dev, class_balance=prior)
        else:
            model.fit(L, Y_dev=y_dev, class_balance=prior)
            if args.intervals:
                model.confidence_intervals(L, n_boot=args.intervals, random_state=args.seed)
    elapsed = time.perf_counter() - t0
    model.save(args.output)
    n, m = L.shape
    inferred = (
        "" if args.cardinality is not None else " (inferred; set --cardinality if a class never appears)"
    )
    what = f"{args.model} label model ({args.solver})"
    if isinstance(model, SequenceLabelModel):
        what = f"sequence label model (persistence {model.persistence_:.4f})"
    print(f"fitted {what} on {n} rows x {m} LFs, k={k}{inferred}, in {elapsed:.3f} s; wrote {args.output}")
    return 0


def cmd_update(args: argparse.Namespace) -> int:
    """Online learning: add a batch to a saved model's running statistics and re-solve."""
    model = _load_labeler(args.MODEL)
    if not isinstance(model, (LabelModel, SequenceLabelModel)):
        raise CLIError(f"{args.MODEL}: a {type(model).__name__} does not learn; only label models update")
    chain = isinstance(model, SequenceLabelModel)
    if chain and (args.forget is not None or args.window is not None):
        raise CLIError("--forget/--window (batches) apply to LabelModel files, not to sequence models")
    if args.forget is not None:
        model.set_params(forget=args.forget, window=None)
    elif args.window is not None:
        model.set_params(window=args.window, forget=None)
    k = int(model.cardinality)
    L = read_matrix(args.L_FILE, args.key, args.header)
    if args.class_balance in STRATEGIES:
        raise CLIError("update takes --class-balance as k probabilities (the model keeps its own setting)")
    _, prior = _parse_class_balance(args.class_balance)
    y_dev = (
        None
        if args.y_dev is None
        else check_labels(read_labels(args.y_dev, args.y_key), None, k, name="Y_dev")
    )
    extra = _sequence_kwargs(model, args, L.shape[0])
    t0 = time.perf_counter()
    with _about_matrix(args.L_FILE):
        model.partial_fit(L, Y_dev=y_dev, class_balance=prior, **extra)
    elapsed = time.perf_counter() - t0
    output = args.output or args.MODEL
    model.save(output)
    where = "" if chain else f" as batch {model.n_batches_} of the stream"
    print(
        f"added {L.shape[0]} rows{where} (running statistics: {model.stats_.n_rows:g} rows) "
        f"in {elapsed * 1e3:.1f} ms; wrote {output}"
    )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    model = _load_labeler(args.MODEL)
    if args.seed is not None:
        model.random_state = args.seed
    L = read_matrix(args.L_FILE, args.key, args.header)
    seq_kw = _sequence_kwargs(model, args, L.shape[0])
    with _about_matrix(args.L_FILE):
        if args.hard:
            out = model.predict(L, tie_break_policy=args.tie_break, **seq_kw)
        else:
            out = model.predict_proba(L, **seq_kw)
    if args.hard:
        columns = ["label"]
    else:
        columns = [f"p{c}" for c in range(out.shape[1])]
    if args.output == "-":
        write_csv(sys.stdout, out, columns)
    else:
        write_array(args.output, out, columns=columns, key="labels" if args.hard else "probs")
        what = "hard labels" if args.hard else "probabilities"
        print(f"wrote {what} of {out.shape[0]} rows to {args.output}", file=sys.stderr)
    return 0


def _sequence_kwargs(model: BaseLabeler, args: argparse.Namespace, n: int) -> dict[str, Any]:
    """``sequence_ids`` for a sequence model; an error if ids are given to another model."""
    ids = _read_sequence_ids(args, n)
    if isinstance(model, SequenceLabelModel):
        return {"sequence_ids": ids}
    if ids is not None:
        raise CLIError("--sequence-ids applies to sequence models only (fit with --sequence)")
    return {}


def _default_metrics(k: int) -> list[str]:
    return ["accuracy", "f1" if k == 2 else "f1_macro", "coverage", "brier"]


def cmd_evaluate(args: argparse.Namespace) -> int:
    model = _load_labeler(args.MODEL)
    k = int(model.cardinality)
    L = read_matrix(args.L_FILE, args.key, args.header)
    if args.Y_FILE is not None:
        y = read_labels(args.Y_FILE, args.y_key)
    elif args.L_FILE.lower().endswith(".npz"):
        y = read_labels(args.L_FILE, args.y_key)
    else:
        raise CLIError("no gold labels: give Y_FILE, or an .npz L_FILE that holds an array 'y'")
    with _about_matrix(args.L_FILE):
        lm = check_label_matrix(L, k, scan=True)
    y = check_labels(y, lm.n, k, name="Y")
    n_gold = int((y >= 0).sum())
    if n_gold == 0:
        raise CLIError("the gold labels are all -1 (unknown); nothing to evaluate")
    metrics = args.metrics.split(",") if args.metrics else _default_metrics(k)
    metrics = [s.strip() for s in metrics if s.strip()]
    labelers = {"label model": model, "majority vote": MajorityLabelVoter(k, random_state=args.seed)}
    if args.seed is not None:
        model.random_state = args.seed
    seq_kw = _sequence_kwargs(model, args, lm.n)
    n_silent = int(((y >= 0) & ~voted_rows(lm)).sum())
    results, voted = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the no-vote count is printed below
        for name, lab in labelers.items():
            kw = seq_kw if lab is model else {}
            results[name] = lab.score(lm, y, metrics=metrics, tie_break_policy=args.tie_break, **kw)
            voted[name] = lab.score(
                lm, y, metrics=metrics, tie_break_policy=args.tie_break, voted_only=True, **kw
            )
    if args.json:
        record = {
            "n_rows": lm.n,
            "n_gold": n_gold,
            "n_gold_no_vote": n_silent,
            "cardinality": k,
            "tie_break": args.tie_break,
            "label_model": results["label model"],
            "majority_vote": results["majority vote"],
            "label_model_voted_rows": voted["label model"],
            "majority_vote_voted_rows": voted["majority vote"],
        }
        print(json.dumps(_json_safe(record), indent=2))
        return 0
    print(f"{n_gold} gold rows (of {lm.n}), k={k}, tie-break: {args.tie_break}")
    print(
        f"{n_silent} gold rows ({n_silent / n_gold:.1%}) had no LF vote: 'all rows' predicts them from "
        "the class balance, 'voted rows' leaves them out (as Snorkel does)"
    )
    header = ["metric"] + [f"{lab} ({which})" for lab in labelers for which in ("all rows", "voted rows")]
    rows = [
        [name] + [_fmt(res[lab][name]) for lab in labelers for res in (results, voted)] for name in metrics
    ]
    print(_table(header, rows))
    if args.tie_break == "abstain":
        print("label metrics use the rows where the labeler did not abstain (see coverage)")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    model = _load_labeler(args.MODEL)
    params = model.get_params()
    chain: SequenceLabelModel | None = None
    if isinstance(model, SequenceLabelModel):
        chain, model = model, model.frame_model_
    if not isinstance(model, LabelModel):
        if args.json:
            print(json.dumps(_json_safe({"class": type(model).__name__, "settings": params}), indent=2))
        else:
            print(f"{type(model).__name__} (no learned parameters)")
            print("settings: " + ", ".join(f"{k}={v!r}" for k, v in params.items()))
        return 0
    acc, cov = model.accuracies_, model.coverage_
    est = getattr(model, "estimate_", None)
    closed_form = est if isinstance(est, ClassConditionalEstimate) else None
    est = est if isinstance(est, SymmetricEstimate) else None
    edges = getattr(model, "dependencies_", np.zeros((0, 2), dtype=int))
    coupling = getattr(model, "coupling_", np.zeros(0))
    prior = model.class_balance_
    source = getattr(model, "class_balance_source_", "?")
    if args.json:
        record = {
            "class": type(model).__name__,
            "settings": params,
            "n_rows": model.stats_.n_rows,
            "n_lfs": model.n_lfs_,
            "class_balance": prior,
            "class_balance_source": source,
            "accuracies": acc,
            "coverage": cov,
        }
        if est is not None:
            record["estimated"] = est.estimated
            record["n_triplets"] = est.n_candidates
            record["below_chance"] = est.below_chance
        if closed_form is not None:
            record.update(_class_conditional_record(model, closed_form))
        record["dependencies"] = edges
        record["coupling"] = coupling
        if getattr(model, "intervals_", None) is not None:
            record["intervals"] = model.intervals_.to_dict()
        if chain is not None:
            record.update(
                {
                    "class": type(chain).__name__,
                    "settings": chain.get_params(),
                    "persistence": chain.persistence_,
                    "tau": chain.tau_,
                    "transition": chain.transition_,
                    "n_frame_pairs": chain.cross_stats_.n_pairs,
                }
            )
        print(json.dumps(_json_safe(record), indent=2))
        return 0
    if chain is not None:
        stay = ", ".join(
            f"P({c}->{c})={chain.transition_[c, c]:.4f}" for c in range(chain.transition_.shape[0])
        )
        print(
            f"SequenceLabelModel: window={chain.window}, persistence rho={chain.persistence_:.4f} "
            f"({stay}), from {chain.cross_stats_.n_pairs:g} consecutive frame pairs; per frame:"
        )
    print(
        f"{type(model).__name__}: model={model.model}, solver={model.solver}, signs={model.signs}, "
        f"k={model.cardinality}, fitted on {model.stats_.n_rows:g} rows x {model.n_lfs_} LFs"
    )
    if closed_form is not None:
        info = _class_conditional_record(model, closed_form)
        line = f"class-conditional fit: {info['method']}"
        if info["fallback"]:
            line += f"; fell back to the symmetric solution: {info['fallback']}"
        print(line)
    if len(edges):
        pairs = ", ".join(f"{i}-{j} (coupling {c:.3f})" for (i, j), c in zip(edges, coupling, strict=True))
        print(f"declared dependencies: {pairs}")
    print(f"class balance ({source}): " + ", ".join(f"P(Y={c})={p:.4f}" for c, p in enumerate(prior)))
    ci = getattr(model, "intervals_", None)
    if ci is not None:
        bands = ", ".join(
            f"P(Y={c}) in [{lo:.4f}, {hi:.4f}]"
            for c, (lo, hi) in enumerate(zip(ci.class_balance_low, ci.class_balance_high, strict=True))
        )
        print(
            f"{ci.level:.0%} bootstrap intervals ({ci.n_boot} replicates over {ci.n_chunks} row chunks): "
            + bands
        )
    header = ["LF", "coverage", "accuracy"] + (["acc. low", "acc. high"] if ci is not None else [])
    if est is not None:
        header += ["triplets", "note"]
    rows = []
    for i in range(len(acc)):
        row = [str(i), _fmt(cov[i]), _fmt(acc[i])]
        if ci is not None:
            row += [_fmt(ci.accuracy_low[i]), _fmt(ci.accuracy_high[i])]
        if est is not None:
            note = ""
            if cov[i] == 0:
                note = "never votes (neutral)"
            elif not est.estimated[i]:
                note = "no usable triplet (mean accuracy)"
            elif est.below_chance[i]:
                note = "at or below chance"
            row += [str(int(est.n_candidates[i])), note]
        rows.append(row)
    print(_table(header, rows))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the self-contained HTML report of a fitted model (see tripletws.report)."""
    from .report import write_report

    model = _load_labeler(args.MODEL)
    if not isinstance(model, LabelModel):
        raise CLIError(f"report needs a LabelModel file; {args.MODEL} holds a {type(model).__name__}")
    k = int(model.cardinality)
    L = read_matrix(args.L_FILE, args.key)
    with _about_matrix(args.L_FILE):
        lm = check_label_matrix(L, k, scan=True)
    y = None
    if args.gold is not None:
        y = check_labels(read_labels(args.gold, args.y_key), lm.n, k, name="Y")
    names = None
    if args.lf_names:
        names = [s.strip() for s in args.lf_names.split(",")]
    try:
        path = write_report(model, lm, args.output, y, lf_names=names, random_state=args.seed)
    except ImportError as exc:
        raise CLIError(str(exc)) from exc
    print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB; opens offline in any browser)")
    return 0


def _class_conditional_record(model: LabelModel, closed_form: ClassConditionalEstimate) -> dict[str, Any]:
    """Diagnostics of a class-conditional fit for ``inspect``."""
    return {
        "method": closed_form.method,
        "fallback": getattr(model, "fallback_", ""),
        "fit_class_balance": model.fit_class_balance_,
        "overrule_rate": getattr(model, "overrule_rate_", float("nan")),
        "em_steps_run": getattr(model, "em_steps_run_", 0),
        "signal_to_noise": closed_form.signal_to_noise,
        "conditional_probs": model.params_.cond_probs,
    }


def cmd_dependencies(args: argparse.Namespace) -> int:
    from .diagnostics import dependency_candidates

    model = _load_labeler(args.MODEL)
    if not hasattr(model, "accuracies_") or isinstance(model, MajorityLabelVoter):
        raise CLIError(f"{args.MODEL}: a fitted label model is needed (majority vote has no accuracies)")
    data = None
    if args.L_FILE is not None:
        data = read_matrix(args.L_FILE, args.key, args.header)
    with _about_matrix(args.L_FILE or args.MODEL):
        rows = dependency_candidates(
            data,
            model,
            alpha=args.alpha,
            min_covotes=args.min_covotes,
            include_declared=args.include_declared,
            top=args.top,
            as_frame=False,
        )
    if args.json:
        print(json.dumps(_json_safe(rows), indent=2))
        return 0
    source = args.L_FILE or "the statistics stored in the model"
    print(
        f"LF pairs by excess agreement over the fitted model ({source}); suspect: Bonferroni p < {args.alpha}"
    )
    header = ["pair", "co-votes", "agreement", "expected", "z", "p adjusted", "suspect"]
    table = [
        [
            f"{r['lf_i']}-{r['lf_j']}" + (" (declared)" if r["declared"] else ""),
            f"{r['n_covotes']:g}",
            _fmt(r["agreement"]),
            _fmt(r["expected"]),
            f"{r['z']:.2f}",
            f"{r['p_adjusted']:.2g}",
            "yes" if r["suspect"] else "",
        ]
        for r in rows
    ]
    print(_table(header, table))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .datasets import make_synthetic

    if args.n < 100 or args.m < 3 or args.k < 2:
        raise CLIError(
            f"demo needs --n >= 100, --m >= 3 and --k >= 2; got n={args.n}, m={args.m}, k={args.k}"
        )
    rng = np.random.default_rng(args.seed)
    accuracies = rng.uniform(0.55, 0.9, size=args.m) if args.k == 2 else rng.uniform(0.4, 0.85, size=args.m)
    coverage = rng.uniform(0.1, 0.9, size=args.m)
    data = make_synthetic(args.n, args.m, args.k, accuracies=accuracies, coverage=coverage, random_state=rng)
    t0 = time.perf_counter()
    model = LabelModel(cardinality=args.k).fit(data.L)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    probs = model.predict_proba(data.L)
    t_pred = time.perf_counter() - t0
    true_acc = data.accuracies
    print(
        f"synthetic label matrix: n={args.n} rows, m={args.m} LFs, k={args.k} classes (seed {args.seed}); "
        "the model sees only L, never y"
    )
    est_acc = model.accuracies_
    err = np.abs(est_acc - true_acc)
    rows = [
        [str(i), _fmt(data.coverage[i], 3), _fmt(true_acc[i], 3), _fmt(est_acc[i], 3), _fmt(err[i], 3)]
        for i in range(args.m)
    ]
    print(_table(["LF", "coverage", "true acc", "estimated", "abs error"], rows))
    print(f"mean absolute error of the estimated accuracies: {err.mean():.4f}")
    from .predictions import probs_to_preds

    pred_model = probs_to_preds(probs, "random")
    pred_mv = MajorityLabelVoter(args.k).predict(data.L, tie_break_policy="random")
    acc_model = float(np.mean(pred_model == data.y))
    acc_mv = float(np.mean(pred_mv == data.y))
    print(f"label accuracy: label model {acc_model:.4f}, majority vote {acc_mv:.4f} (ties broken at random)")
    print(f"time: fit {t_fit * 1e3:.1f} ms, predict_proba {t_pred * 1e3:.1f} ms")
    return 0


# ----------------------------------------------------------------------------
# Parser
# ----------------------------------------------------------------------------

EPILOG = """\
examples:
  tripletws demo                                       # synthetic data with known LF accuracies
  tripletws fit L_train.npy -o model.json              # -1 = abstain, classes 0..k-1
  tripletws fit train.npz --key L --y-dev dev_y.npy -o model.json
  tripletws update model.json L_batch.npy --window 100   # online: add a batch, re-solve
  tripletws predict model.json L_test.csv -o probs.npy
  tripletws predict model.json L_test.npy --hard --tie-break random -o labels.csv
  tripletws evaluate model.json test.npz               # gold from the archive's 'y' array
  tripletws inspect model.json
  tripletws dependencies model.json L_train.npy       # likely undeclared LF dependencies
  tripletws fit frames.npz --sequence --window 3 -o chain.json   # video frames in order

label matrices: .npy, .npz (array 'L', or --key), .csv (integers; a header row is detected,
or say --header / --no-header), .parquet (with pyarrow; a folder of .parquet files is one matrix).
Votes are -1 (abstain) or a class 0..k-1.
"""


def _add_sequence_args(p: Any) -> None:
    p.add_argument(
        "--sequence-ids",
        default=None,
        metavar="FILE",
        help="sequence id of every row (rows of a sequence contiguous, in frame order)",
    )
    p.add_argument(
        "--sequence-key",
        default="seq",
        metavar="NAME",
        help="array/column name of the ids in --sequence-ids (default: %(default)s)",
    )


def _add_matrix_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "L_FILE", help="label matrix (n rows x m LFs): .npy, .npz, .csv, .parquet or a folder of .parquet"
    )
    p.add_argument("--key", default=None, metavar="NAME", help="array name in an .npz archive (default: L)")
    _add_header_arg(p)


def _add_header_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="CSV: the first row is (--header) or is not (--no-header) a header (default: detected; "
        "a first row 0,1,...,m-1 is refused as ambiguous)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Fast closed-form label models for weak supervision (the triplet method).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "fit",
        help="fit a label model on a label matrix and save it as JSON",
        description="Fit a label model on L (no gold labels needed) and write the model file.",
        epilog="example:\n  tripletws fit L_train.npy -o model.json --class-balance 0.8,0.2",
        formatter_class=fmt,
    )
    _add_matrix_args(p)
    p.add_argument("-o", "--output", required=True, metavar="MODEL.json", help="model file to write (JSON)")
    p.add_argument(
        "--cardinality", "-k", type=int, default=None, metavar="K", help="number of classes (default: from L)"
    )
    p.add_argument(
        "--model",
        choices=registered(),
        default=None,
        help="label model (default: annotator; sequences: symmetric)",
    )
    p.add_argument("--solver", choices=SOLVERS, default="triplet_mean", help="solver (default: %(default)s)")
    p.add_argument("--signs", choices=SIGNS, default="all_positive", help="LF signs (default: %(default)s)")
    prior = p.add_mutually_exclusive_group()
    prior.add_argument(
        "--class-balance",
        default=None,
        metavar="auto|uniform|estimate|P0,P1,...",
        help="class prior: auto (default: estimate for class_conditional, uniform for symmetric), "
        "uniform, estimate (from L), or k probabilities",
    )
    prior.add_argument(
        "--y-dev", default=None, metavar="FILE", help="dev gold labels; the prior is their frequencies"
    )
    p.add_argument(
        "--y-key",
        default=None,
        metavar="NAME",
        help="array/column name of the labels in --y-dev (default: y)",
    )
    p.add_argument(
        "--chunk-size", type=int, default=None, metavar="ROWS", help="rows per chunk (bounds memory)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="S",
        help="random state stored with the model (true-random ties)",
    )
    p.add_argument(
        "--dependencies",
        default=None,
        metavar="I-J,...",
        help="dependent LF pairs, e.g. 0-6,3-4 (left out of the triplets, modelled jointly)",
    )
    p.add_argument(
        "--intervals",
        type=int,
        default=0,
        metavar="N_BOOT",
        help="also compute 95%% bootstrap intervals of the accuracies and class balance with N_BOOT "
        "replicates over 100 row chunks (shown by inspect and report; not for sequence models)",
    )
    seq = p.add_argument_group("sequences (rows are frames in order; any of these fits a sequence model)")
    seq.add_argument("--sequence", action="store_true", help="fit the chain model (one sequence unless ids)")
    _add_sequence_args(seq)
    seq.add_argument(
        "--window", type=int, default=None, metavar="V", help="cut sequences into windows of V frames"
    )
    seq.add_argument(
        "--persistence",
        type=float,
        default=None,
        metavar="RHO",
        help="fix the label persistence instead of estimating it",
    )
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser(
        "update",
        help="online learning: add a batch of rows to a saved model and re-solve",
        description="Add L_FILE's rows to the running statistics of a model file (partial_fit), re-solve "
        "in closed form and write the model back. Without --forget/--window, fit on a first batch "
        "followed by updates with the others equals one fit on all rows. Sequence models (fit with "
        "--sequence) take --sequence-ids; a batch whose first id equals the previous batch's last id "
        "continues that sequence.",
        epilog="example:\n  tripletws fit batch0.npy -o model.json\n"
        "  tripletws update model.json batch1.npy --forget 0.99",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit' or 'tripletws update'")
    _add_matrix_args(p)
    p.add_argument(
        "-o", "--output", default=None, metavar="MODEL.json", help="where to write (default: MODEL, in place)"
    )
    _add_sequence_args(p)
    aging = p.add_mutually_exclusive_group()
    aging.add_argument(
        "--forget",
        type=float,
        default=None,
        metavar="F",
        help="exponential forgetting factor in (0, 1] (LabelModel files)",
    )
    aging.add_argument("--window", type=int, default=None, metavar="W", help="keep only the last W batches")
    prior = p.add_mutually_exclusive_group()
    prior.add_argument(
        "--class-balance", default=None, metavar="P0,P1,...", help="class prior for this and later batches"
    )
    prior.add_argument("--y-dev", default=None, metavar="FILE", help="dev gold labels; prior = frequencies")
    p.add_argument("--y-key", default=None, metavar="NAME", help="array/column name in --y-dev (default: y)")
    p.set_defaults(func=cmd_update)

    p = sub.add_parser(
        "predict",
        help="write probabilities (n x k) or hard labels for a label matrix",
        description="Apply a fitted model to L and write P(Y | votes) or hard labels.",
        epilog="examples:\n  tripletws predict model.json L.npy -o probs.npy\n"
        "  tripletws predict model.json L.csv --hard -o - | head",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    _add_matrix_args(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="output .npy, .npz, .csv or .parquet; '-' = CSV on stdout",
    )
    p.add_argument("--hard", action="store_true", help="write hard labels (n,) instead of probabilities")
    p.add_argument(
        "--tie-break",
        choices=TIE_BREAK_POLICIES,
        default="abstain",
        help="for --hard (default: %(default)s -> -1)",
    )
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed for --tie-break true-random")
    _add_sequence_args(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "evaluate",
        help="score a model and majority vote against gold labels",
        description="Metrics of the label model and of majority vote, side by side.",
        epilog="examples:\n  tripletws evaluate model.json test.npz\n"
        "  tripletws evaluate model.json L_test.npy y_test.npy --metrics accuracy,f1,log_loss --json",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    _add_matrix_args(p)
    p.add_argument(
        "Y_FILE", nargs="?", default=None, help="gold labels (-1 = unknown); default: 'y' in an .npz L_FILE"
    )
    p.add_argument(
        "--y-key", default=None, metavar="NAME", help="array/column name of the labels (default: y)"
    )
    p.add_argument(
        "--metrics",
        default=None,
        metavar="LIST",
        help=f"comma-separated, from {', '.join(METRICS)} "
        "(default: accuracy, f1 or f1_macro, coverage, brier)",
    )
    p.add_argument(
        "--tie-break", choices=TIE_BREAK_POLICIES, default="abstain", help="(default: %(default)s)"
    )
    p.add_argument("--seed", type=int, default=None, metavar="S", help="seed for --tie-break true-random")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _add_sequence_args(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "inspect",
        help="show a model's parameters (per-LF accuracy and coverage, class balance)",
        description="Print the learned parameters and settings of a model file.",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser(
        "dependencies",
        help="list LF pairs that agree more than the fitted model explains (likely dependencies)",
        description="Compare each LF pair's agreement with the fitted model's prediction; large z = "
        "likely undeclared dependency (declare it with 'fit --dependencies').",
        epilog="example:\n  tripletws dependencies model.json L_train.npy --top 10",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    p.add_argument(
        "L_FILE", nargs="?", default=None, help="label matrix to test (default: the model's own statistics)"
    )
    p.add_argument("--key", default=None, metavar="NAME", help="array name in an .npz archive (default: L)")
    _add_header_arg(p)
    p.add_argument("--top", type=int, default=None, metavar="N", help="show the first N pairs")
    p.add_argument("--alpha", type=float, default=0.05, help="family-wise level (default: %(default)s)")
    p.add_argument("--min-covotes", type=int, default=10, metavar="N", help="(default: %(default)s)")
    p.add_argument("--include-declared", action="store_true", help="also list declared pairs")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_dependencies)

    p = sub.add_parser(
        "report",
        help="write one self-contained HTML report (plots of accuracies, coverage, conflicts, calibration)",
        description="Write an offline HTML report of a fitted model: LF accuracies with bootstrap "
        "intervals, coverage, overlap/conflict heatmaps, class balance, posterior confidence, "
        "dependency candidates, and with gold labels scores, calibration and a confusion matrix. "
        'Needs matplotlib (pip install "tripletws[report]").',
        epilog="example:\n  tripletws report model.json L_train.npy --gold y.npy -o report.html",
        formatter_class=fmt,
    )
    p.add_argument("MODEL", help="model file written by 'tripletws fit'")
    _add_matrix_args(p)
    p.add_argument("--gold", default=None, metavar="Y_FILE", help="gold labels (-1 = unknown)")
    p.add_argument(
        "--y-key", default=None, metavar="NAME", help="array/column name of the gold labels (default: y)"
    )
    p.add_argument("--lf-names", default=None, metavar="A,B,...", help="comma-separated LF names")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="bootstrap seed (default: %(default)s)")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.html", help="HTML file to write")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "demo",
        help="fit on synthetic data with known LF accuracies and compare",
        description="Draw a synthetic label matrix with known LF accuracies, fit the label model on it, "
        "and print estimated vs true accuracies and label accuracy vs majority vote.",
        formatter_class=fmt,
    )
    p.add_argument("--n", type=int, metavar="N", default=100_000, help="rows (default: %(default)s)")
    p.add_argument("--m", type=int, metavar="M", default=10, help="labeling functions (default: %(default)s)")
    p.add_argument("--k", type=int, metavar="K", default=2, help="classes (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: %(default)s)")
    p.set_defaults(func=cmd_demo)
    return parser


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tripletws`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return int(args.func(args))
        except BrokenPipeError:  # e.g. `tripletws predict ... -o - | head`
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
        except (CLIError, ValueError, OSError, KeyError, OverflowError) as exc:  # OverflowError: --n 1e20
            return _report_error(_describe(exc))
