"""One self-contained HTML report of a fitted label model (works offline: no scripts, no links).

Sections (each a ``<section id=...>``): ``summary`` (with the fitted family, the dev choice and
the fit's notes), ``lf-accuracy`` (learned
accuracies with bootstrap intervals), ``lf-coverage``, ``overlap-conflict``
(pairwise heatmaps), ``class-balance``, ``confidence`` (histogram of the largest
posterior probability), ``dependencies`` (:func:`tripletws.diagnostics.dependency_candidates`),
``lf-table``, ``overrules`` (where the model overrules the LFs' strict majority and which LFs drive
it, :mod:`tripletws.overrules`), and with gold labels ``scores``, ``calibration`` and ``confusion``.
Plots are matplotlib SVG drawn inline (``pip install "tripletws[report]"``).  For a very wide
matrix (a crowd of workers) the charts draw the :data:`MAX_PLOTTED_LFS` LFs with the most votes,
and where the report's own bootstrap would take longer than :data:`BOOT_BUDGET_S` it draws none
unless ``n_boot`` is given (intervals the model keeps are shown); the report says both.
"""

from __future__ import annotations

import html
import io
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import lf_summary_arrays, matrix_summary_arrays
from .baselines import MajorityLabelVoter, accuracy_by_margin
from .lf_names import check_fitted_names
from .matrix import check_label_matrix, check_labels, check_same_rows, hint_flyingsquid_labels, voted_rows
from .predictions import probs_to_preds
from .validate import check_int

#: Section ids in page order (the gold-only ones last).
SECTIONS = (
    "summary",
    "lf-accuracy",
    "lf-coverage",
    "overlap-conflict",
    "class-balance",
    "confidence",
    "dependencies",
    "lf-table",
    "overrules",
)
GOLD_SECTIONS = ("scores", "calibration", "confusion")

#: The bar charts and heatmaps draw at most this many LFs (those with the most votes); the LF table
#: lists all.  A crowd of 2 000 workers drew 2 000 tick labels per axis: 285 s and an 11 MB page.
MAX_PLOTTED_LFS = 50
#: Seconds the report's own bootstrap may be projected to take (``n_boot`` not given): past it the
#: report shows point estimates and says how to draw the intervals.  Every replicate refits the
#: model: about 1 s for 10 000 tasks x 2 000 workers (5 answers a task), where the default 200 took
#: 223 s of a 231 s report; an LF set of tens of LFs refits in milliseconds.  The projection times two
#: replicates (a probe with its own seed: the intervals drawn are those of the report's
#: ``random_state``) and counts the bootstrap's fixed costs per replicate, so it errs high:
#: weather_sentiment (745 workers) is projected at 55 s and draws its 200 replicates in about 13 s.
#: Fewer replicates were not the answer: with 20 the percentile endpoints fall short (median 95%
#: width 0.29 against 0.36 with 200 on that crowd), intervals that look precise and are not.
BOOT_BUDGET_S = 120.0

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;
color:#1d2330;background:#fff}
h1{font-size:1.6em;margin-bottom:4px}h2{font-size:1.2em;border-bottom:2px solid #dde3ee;padding-bottom:4px}
section{margin:22px 0}table{border-collapse:collapse;font-size:.88em}
td,th{border:1px solid #d5dbe6;padding:3px 8px;text-align:right}th{background:#eef2f8}
td.l,th.l{text-align:left}.note{color:#5a6478;font-size:.9em}.fig svg{max-width:100%;height:auto}
.kv td{text-align:left}
"""


def _model_line(model: Any) -> str:
    """The model and, where a closed form was solved, its method (as ``tripletws inspect``)."""
    method = getattr(model.estimate_, "method", None)
    if method is None and (model.model != "annotator" or getattr(model, "fallback_", "")):
        method = model.solver
    return model.model if method is None else f"{model.model} ({method})"


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError('the report draws with matplotlib: pip install "tripletws[report]"') from exc
    return plt


def _svg(fig: Any) -> str:
    plt = _plt()
    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": "tripletws", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _fmt(x: float, digits: int = 3) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _table(header: list[str], rows: list[list[Any]], left: int = 1) -> str:
    head = "".join(
        f'<th class="{"l" if i < left else ""}">{html.escape(h)}</th>' for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"l" if i < left else ""}">{html.escape(str(v))}</td>' for i, v in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(sid: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f'<section id="{sid}"><h2>{html.escape(title)}</h2>{note_html}{body}</section>'


def _barh(
    names: list[str],
    values: np.ndarray,
    lo: np.ndarray | None,
    hi: np.ndarray | None,
    xlabel: str,
    extra: np.ndarray | None = None,
    extra_label: str = "",
    xlim: tuple[float, float] = (0, 1),
) -> str:
    plt = _plt()
    m = len(names)
    fig, ax = plt.subplots(figsize=(7.5, 0.8 + 0.28 * m))
    y = np.arange(m)
    err = None
    if lo is not None and hi is not None and not (np.isnan(lo).all() and np.isnan(hi).all()):
        err = np.nan_to_num(
            np.vstack([np.maximum(values - lo, 0), np.maximum(hi - values, 0)])
        )  # NaN: no bar
    ax.barh(y, values, xerr=err, color="#4c78a8", ecolor="#1d2330", capsize=3, label="learned")
    if extra is not None:
        ax.plot(extra, y, "D", color="#e45756", label=extra_label, markersize=5)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.set_yticks(y, names, fontsize=8, parse_math=False)  # LF names as written ("price_$5_or_$10")
    ax.invert_yaxis()
    ax.set_xlim(*xlim)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def _plotted_lfs(coverage: np.ndarray) -> np.ndarray:
    """The LFs the charts draw: all, or the :data:`MAX_PLOTTED_LFS` with the most votes, in LF order.

    Parameters
    ----------
    coverage : ndarray, shape (m,)
        Fraction of rows each LF votes on (NaN where there are no rows).

    Returns
    -------
    ndarray of int, shape (min(m, MAX_PLOTTED_LFS),)
        Increasing LF indices (ties in coverage go to the lower index).
    """
    m = len(coverage)
    if m <= MAX_PLOTTED_LFS:
        return np.arange(m)
    order = np.argsort(-np.nan_to_num(coverage, nan=0.0), kind="stable")
    return np.sort(order[:MAX_PLOTTED_LFS])


def _heatmaps(names: list[str], overlap: np.ndarray, conflict: np.ndarray) -> str:
    plt = _plt()
    m = len(names)
    size = min(5.5, 1.5 + 0.25 * m)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 2.5, size), layout="constrained")
    for ax, mat, title, cmap in (
        (axes[0], overlap, "overlap", "Blues"),
        (axes[1], conflict, "conflict", "Reds"),
    ):
        shown = mat.copy()
        np.fill_diagonal(shown, np.nan)
        im = ax.imshow(shown, cmap=cmap, vmin=0)
        ax.set_title(f"pairwise {title} (fraction of rows)", fontsize=9)
        ticks = np.arange(m)
        labels = names if m <= 30 else [str(i) for i in ticks]
        ax.set_xticks(ticks, labels, rotation=90, fontsize=7, parse_math=False)
        ax.set_yticks(ticks, labels, fontsize=7, parse_math=False)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return _svg(fig)


def _histogram(conf: np.ndarray, k: int) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.hist(conf, bins=np.linspace(1.0 / k, 1.0, 21), color="#72b7b2", edgecolor="#1d2330")
    ax.set_xlabel("largest posterior probability P(Y = ŷ | votes)")
    ax.set_ylabel("rows")
    return _svg(fig)


def _calibration(conf: np.ndarray, correct: np.ndarray) -> tuple[str, list[list[Any]]]:
    plt = _plt()
    # ten bins from the lowest confidence (at most 0.5; a top class has at least 1 / k) to 1, the last
    # closed (confidence 1 is in it); until session 40 `min(initial=0.0)` always started them at 0
    edges = np.linspace(min(float(conf.min()), 0.5) if conf.size else 0.0, 1.0, 11)
    idx = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, len(edges) - 2)
    rows, xs, ys = [], [], []
    for b in range(len(edges) - 1):
        sel = idx == b
        if sel.any():
            xs.append(conf[sel].mean())
            ys.append(correct[sel].mean())
            close = "]" if b == len(edges) - 2 else ")"
            rows.append(
                [f"[{edges[b]:.2f}, {edges[b + 1]:.2f}{close}", int(sel.sum()), _fmt(xs[-1]), _fmt(ys[-1])]
            )
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="#888", label="perfect")
    ax.plot(xs, ys, "o-", color="#4c78a8", label="label model")
    ax.set_xlabel("mean confidence")
    ax.set_ylabel("accuracy on gold")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return _svg(fig), rows


def _confusion(cm: np.ndarray) -> str:
    plt = _plt()
    k = cm.shape[0]
    fig, ax = plt.subplots(figsize=(1.5 + 0.6 * k, 1.2 + 0.6 * k))
    ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(int(cm[i, j])),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if cm[i, j] > cm.max() / 2 else "black",
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    return _svg(fig)


def _class_balance(ci: Any, k: int) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.5 + 0.7 * k, 2.8))
    p = ci.class_balance
    err = np.vstack([np.maximum(p - ci.class_balance_low, 0), np.maximum(ci.class_balance_high - p, 0)])
    err = None if np.isnan(err).all() else err  # no intervals: no whiskers
    ax.bar(np.arange(k), p, yerr=err, color="#f58518", ecolor="#1d2330", capsize=4)
    ax.set_xticks(np.arange(k), [f"Y={c}" for c in range(k)])
    ax.set_ylim(0, 1)
    ax.set_ylabel("P(Y)")
    return _svg(fig)


def _choices(model: Any) -> list[list[str]]:
    """Summary rows of what the fit chose and had to say (:meth:`tripletws.models.base.Fit.choices`)."""
    solution = getattr(model, "solution_", None)
    if solution is None:
        return []
    from .models.base import dev_choice_line, family_row, overrule_line, selection_line, shrinkage_line

    choices = solution.choices()
    family = family_row(choices)
    rows = [list(family)] if family is not None else []
    if "selection" in choices:
        rows.append(["family choice", selection_line(choices["selection"])])
    if "overrule_rate" in choices:
        rows.append(["majority overruled", overrule_line(choices["overrule_rate"])])
    if "shrinkage" in choices:
        rows.append(["shrinkage", shrinkage_line(choices["shrinkage"])])
    if "dev_choice" in choices:
        rows.append(["dev choice", dev_choice_line(choices["dev_choice"], digits=3)])
    return rows + [["note", str(note)] for note in choices["notes"]]


def _overrule_section(model: Any, lm: Any, y: np.ndarray | None, names: list[str], probs: np.ndarray) -> str:
    """Where the model overrules the LFs' strict majority, and the LFs whose terms drive it
    (:mod:`tripletws.overrules`), with the gold rows' verdict where there is gold."""
    from .overrules import overrule_drivers

    title = "Overruled majorities"
    try:
        d = overrule_drivers(model, lm.data, probs=probs)
    except ValueError as exc:  # e.g. a mixture of families: no single set of terms
        return _section("overrules", title, "", f"Not shown: {exc}.")
    share = len(d.rows) / d.n_majority if d.n_majority else 0.0
    note = (
        f"The model names another class than the LFs' strict majority on {len(d.rows)} of the "
        f"{d.n_majority} rows that have one ({share:.1%}). On each, the driver is the LF whose term "
        "favours the model's class over the majority's most (model.explain; tripletws explain shows a "
        "row's terms): a vote the model trusts over the majority, or, where it reads abstentions as "
        "evidence, an abstention."
    )
    if len(d.rows) > len(d.examined):
        note += f" Drivers counted on the first {len(d.examined)} overruled rows."
    if y is not None and len(d.rows):
        gold = y[d.rows] >= 0
        if gold.any():
            right = float(np.mean((d.named == y[d.rows])[gold]))
            mv_right = float(np.mean((d.majority == y[d.rows])[gold]))
            note += (
                f" On the {int(gold.sum())} of them with gold the model is right on {right:.1%} and "
                f"majority vote on {mv_right:.1%}."
            )
    rows = [
        [names[lf] if lf >= 0 else "class balance", by, n, _fmt(push)] for lf, by, n, push in d.counts()[:15]
    ]
    body = _table(["driver", "by its", "rows", "mean push (nats)"], rows) if rows else ""
    return _section("overrules", title, body, note)


def _check_options(title: Any, n_boot: Any, random_state: Any, lf_names: Any) -> None:
    """Refuse bad report options before any work, also those that a model holding ``intervals_``
    leaves unused (they were silently ignored there, and an error on the next model)."""
    from .intervals import MAX_BOOT
    from .settings import check_random_state

    if not isinstance(title, str):
        raise ValueError(f"title must be a string, got {title!r}")
    if n_boot is not None:
        check_int(n_boot, "n_boot", 2, MAX_BOOT)
    check_random_state(random_state)
    if isinstance(lf_names, (str, bytes)):  # one string is not m names ("abcd" read as a, b, c, d)
        raise ValueError(f"lf_names must be a list of names, one per LF, got the string {lf_names!r}")


def _projected_bootstrap_s(model: Any, lm: Any, n_boot: int) -> tuple[float, Any]:
    """Seconds ``n_boot`` bootstrap replicates of ``model`` on ``lm`` would take, from a probe of two
    (its own seed; the chunk summaries' pass counted in, so the projection errs high), and the chunk
    summaries the probe read (for the bootstrap proper: the rows are read once).  The probe's own
    warnings are not shown: the bootstrap proper gives the same ones where it runs, and where it does
    not, no intervals are shown for them to qualify."""
    from .intervals import bootstrap_intervals, chunk_summaries

    start = time.perf_counter()
    summaries = chunk_summaries(model, lm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bootstrap_intervals(model, lm, n_boot=2, random_state=0, summaries=summaries)
    return (time.perf_counter() - start) / 2 * n_boot, summaries


def build_report(
    model: Any,
    L: Any,
    Y: Any = None,
    lf_names: list[str] | None = None,
    title: str = "Label model report",
    n_boot: int | None = None,
    random_state: Any = 0,
) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    model : fitted LabelModel
    L : label matrix, shape (n, m)
        Usually the training matrix: where the model holds no ``intervals_``, the
        intervals resample its rows (see :meth:`LabelModel.confidence_intervals`), and
        other rows (a dev or test matrix), or a model the bootstrap cannot resample as it stands
        (:class:`~tripletws.intervals.NoIntervalsError`), give a report without intervals that
        says why.
    Y : array of shape (n,), optional
        Gold labels (-1 = unknown; all -1 is no gold): adds scores, a calibration curve and a
        confusion matrix.
    lf_names : list of m str, optional
    title : str
    n_boot : int, optional
        Bootstrap replicates when the model holds no ``intervals_``.  Default: 200
        (:data:`~tripletws.intervals.DEFAULT_BOOT`), or none where two replicates project them
        past :data:`BOOT_BUDGET_S` (each refits the model; the report says so and shows point
        estimates).
    random_state : int or numpy Generator, optional

    Raises
    ------
    ValueError
        Naming the bad option (``title`` not a string, ``n_boot`` outside [2, MAX_BOOT], a bad
        ``random_state``, ``lf_names`` one string), also where a model holding ``intervals_``
        would not use it.
    """
    from .diagnostics import cofiring_candidates, dependency_candidates
    from .intervals import DEFAULT_BOOT, NoIntervalsError, bootstrap_intervals, level_text, point_estimates
    from .stats import compute_stats

    # a LabelModel (any model with learned accuracies and intervals); checked by what its class offers
    # (an unfitted model's params_ raises), so that this module does not import the model that offers
    # the report (no import cycle)
    if not all(hasattr(type(model), name) for name in ("confidence_intervals", "params_", "_check_fitted")):
        raise ValueError(f"the report needs a fitted LabelModel, got {type(model).__name__}")
    model._check_fitted()
    _check_options(title, n_boot, random_state, lf_names)
    _plt()  # the drawing extra, checked before the work (a bootstrap can take seconds)
    k = int(model.cardinality)
    check_fitted_names(model, L)  # the columns in the fit's order
    lm = check_label_matrix(L, k, min_lfs=3)
    m = lm.m
    if m != model.n_lfs_:
        raise ValueError(f"L has {m} LFs (columns) but the model was fitted on {model.n_lfs_}")
    if lf_names is None:  # the names of the columns the model was fitted on, where it kept them
        lf_names = getattr(model, "lf_names_", None)
    names = [f"LF {i}" for i in range(m)] if lf_names is None else [str(s) for s in lf_names]
    if len(names) != m:
        raise ValueError(f"lf_names has {len(names)} names for {m} LFs")
    if any(not name.strip() for name in names) or len(set(names)) != len(names):
        raise ValueError("lf_names must be distinct and not empty")
    y = None if Y is None else check_labels(Y, lm.n, k, name="Y")
    if y is not None:
        check_same_rows(L, Y)
        hint_flyingsquid_labels(y, k, "Y", stacklevel=3)
    if y is not None and not (y >= 0).any():  # all -1: no gold, as LFAnalysis reads it
        y = None
    ci = getattr(model, "intervals_", None)
    no_intervals = None  # why the report shows none
    summaries = None  # the probe's chunk summaries, for the bootstrap proper
    if ci is None and n_boot is None:
        try:
            projected, summaries = _projected_bootstrap_s(model, lm, DEFAULT_BOOT)
        except NoIntervalsError:
            projected = 0.0  # the bootstrap below says why it cannot draw them
        if projected > BOOT_BUDGET_S:
            no_intervals = (
                f"not drawn: {DEFAULT_BOOT} bootstrap replicates would take about {projected:.0f} s here "
                f"(each refits the model), over the report's {BOOT_BUDGET_S:.0f} s; report(..., "
                f"n_boot={DEFAULT_BOOT}) (command line: tripletws report --n-boot {DEFAULT_BOOT}) draws "
                f"them, and the model's own, from model.confidence_intervals(L) or tripletws fit "
                f"--intervals {DEFAULT_BOOT}, are shown"
            )
            ci = point_estimates(model)
    if ci is None:
        n_boot = DEFAULT_BOOT if n_boot is None else n_boot
        try:
            ci = bootstrap_intervals(model, lm, n_boot=n_boot, random_state=random_state, summaries=summaries)
        except NoIntervalsError as none:  # e.g. intervals from these rows would be of another fit
            no_intervals = f"{none.why}; {none.remedy} before the report adds them"
            ci = point_estimates(model)
    per_lf = lf_summary_arrays(lm, y, k)
    whole = matrix_summary_arrays(lm, k, lfs=_plotted_lfs(per_lf["coverage"]))  # the pairs the heatmaps draw
    probs = model.predict_proba(lm)
    conf = probs.max(axis=1)
    parts: list[str] = []

    from .models.base import balance_text, prediction_prior_text

    kv = [
        ["rows x LFs", f"{lm.n} x {m}"],
        ["classes k", k],
        ["model", _model_line(model)],
        [
            "class balance",
            balance_text(model.fit_class_balance_, digits=3, eq=" = ")
            + f" ({model.class_balance_source_})"
            + prediction_prior_text(model.fit_class_balance_, model.class_balance_, digits=3),
        ],
        ["rows with a vote", f"{whole['coverage']:.1%}"],
        ["rows with two or more votes", f"{whole['overlap']:.1%}"],
        ["rows with conflicting votes", f"{whole['conflict']:.1%}"],
        [
            "intervals",
            f"{level_text(ci.level)} bootstrap, {ci.n_boot} replicates over {ci.n_chunks} row chunks"
            if no_intervals is None
            else f"none: {no_intervals}",
        ],
        *_choices(model),
    ]
    parts.append(
        _section(
            "summary",
            "Summary",
            '<table class="kv">'
            + "".join(
                f"<tr><th class='l'>{html.escape(a)}</th><td>{html.escape(str(b))}</td></tr>" for a, b in kv
            )
            + "</table>",
        )
    )
    emp = per_lf.get("emp_acc")
    drawn = _plotted_lfs(per_lf["coverage"])
    drawn_names = [names[i] for i in drawn]
    drawn_note = (
        ""
        if len(drawn) == m
        else f" The {len(drawn)} LFs with the most votes of {m} are drawn (in LF order); the LF summary "
        "table lists all."
    )
    acc_svg = _barh(
        drawn_names,
        ci.accuracy[drawn],
        ci.accuracy_low[drawn],
        ci.accuracy_high[drawn],
        "P(LF right | LF votes)",
        None if emp is None else emp[drawn],
        "empirical (gold)",
    )
    parts.append(
        _section(
            "lf-accuracy",
            "LF accuracy",
            f'<div class="fig">{acc_svg}</div>',
            "Bars: learned accuracy"
            + (f"; whiskers: {level_text(ci.level)} bootstrap interval" if no_intervals is None else "")
            + ("; diamonds: accuracy on the gold rows." if emp is not None else ".")
            + drawn_note,
        )
    )
    cov_max = min(1.0, float(max(per_lf["coverage"].max(initial=0.0) * 1.1, 0.05)))
    cov_svg = _barh(
        drawn_names, per_lf["coverage"][drawn], None, None, "fraction of rows voted on", xlim=(0, cov_max)
    )
    parts.append(
        _section("lf-coverage", "LF coverage", f'<div class="fig">{cov_svg}</div>', drawn_note.strip())
    )
    heat_names = drawn_names if len(drawn) == m else [str(i) for i in drawn]  # indices: the table's rows
    heat_svg = _heatmaps(heat_names, whole["pair_overlap"], whole["pair_conflict"])  # of the drawn LFs
    parts.append(
        _section(
            "overlap-conflict",
            "Overlaps and conflicts",
            f'<div class="fig">{heat_svg}</div>',
            "Fraction of rows on which two LFs both vote (left) and vote different classes (right)."
            + drawn_note.replace("(in LF order)", "(in LF order, by their index)"),
        )
    )
    parts.append(
        _section(
            "class-balance",
            "Class balance",
            f'<div class="fig">{_class_balance(ci, k)}</div>',
            f"Fitted P(Y) ({model.class_balance_source_})"
            + (f" with its {level_text(ci.level)} interval." if no_intervals is None else "."),
        )
    )
    parts.append(
        _section(
            "confidence",
            "Posterior confidence",
            f'<div class="fig">{_histogram(conf, k)}</div>',
            f"Median {np.median(conf):.3f}; {np.mean(conf >= 0.9):.1%} of rows at 0.9 or above.",
        )
    )
    stats = compute_stats(lm, k)  # one pass for both pair tests
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        deps = dependency_candidates(stats, model, top=10, as_frame=False)
    dep_rows = [
        [
            f"{names[d['lf_i']]} – {names[d['lf_j']]}",
            int(d["n_covotes"]),
            _fmt(d["agreement"]),
            _fmt(d["expected"]),
            _fmt(d["z"], 1),
            "yes" if d["suspect"] else "no",
        ]
        for d in deps
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cofire = cofiring_candidates(stats, model, top=10, as_frame=False)
    cofire_html = ""
    if cofire:  # one-class LFs naming different classes: their agreement is fixed, their co-firing is not
        cofire_rows = [
            [
                f"{names[d['lf_i']]} – {names[d['lf_j']]}",
                f"{d['class_i']} – {d['class_j']}",
                _fmt(d["cofiring"]),
                _fmt(d["expected"]),
                _fmt(d["z"], 1),
                "yes" if d["suspect"] else "no",
            ]
            for d in cofire
        ]
        cofire_html = (
            "<p>LFs that each vote one class only, naming different classes, by how often both fire "
            "(share of rows) against two independent coins: conditionally independent LFs that fire "
            "more on their own class fire together at most that often, so a suspect pair shares a "
            "feature, or one of the two fires on the other's class.</p>"
            + _table(["LF pair", "classes", "both fire", "expected", "z", "suspect"], cofire_rows)
        )
    parts.append(
        _section(
            "dependencies",
            "Dependency candidates",
            (
                _table(["LF pair", "co-votes", "agreement", "expected", "z", "suspect"], dep_rows)
                if dep_rows
                else "<p>No pair had enough co-votes to test.</p>"
            )
            + cofire_html,
            "Pairs agreeing more than conditionally independent LFs would (most excess first); "
            "declare suspects with dependencies=[(i, j)].",
        )
    )
    header = ["LF", "polarity", "coverage", "overlaps", "conflicts", "learned acc.", "low", "high"]
    rows = []
    for i in range(m):
        row = [
            names[i],
            str(per_lf["polarity"][i]),
            _fmt(per_lf["coverage"][i]),
            _fmt(per_lf["overlaps"][i]),
            _fmt(per_lf["conflicts"][i]),
            _fmt(ci.accuracy[i]),
            _fmt(ci.accuracy_low[i]),
            _fmt(ci.accuracy_high[i]),
        ]
        if y is not None:
            row += [int(per_lf["correct"][i]), int(per_lf["incorrect"][i]), _fmt(per_lf["emp_acc"][i])]
        rows.append(row)
    if y is not None:
        header += ["correct", "incorrect", "emp. acc."]
    parts.append(_section("lf-table", "LF summary", _table(header, rows)))
    parts.append(_overrule_section(model, lm, y, names, probs))

    if y is not None:
        gold = y >= 0
        voted = voted_rows(lm)
        # ties (rows without a vote under a uniform prior, equal top classes) broken as evaluate's
        # default does, by a fixed hash of the row (argmax sent every tied row to class 0)
        pred = probs_to_preds(probs, "random")
        mv_pred = probs_to_preds(MajorityLabelVoter(k).predict_proba(lm), "random")
        score_rows = []
        for label, sel in (("all gold rows", gold), ("gold rows with a vote", gold & voted)):
            n_sel = int(sel.sum())
            accs = [float(np.mean(p[sel] == y[sel])) if n_sel else float("nan") for p in (pred, mv_pred)]
            score_rows.append([label, n_sel, *(_fmt(a) for a in accs)])
        for kind, rec in accuracy_by_margin(lm, y, {"model": pred, "mv": mv_pred}, k).items():
            score_rows.append([f"majority margin: {kind}", rec["rows"], _fmt(rec["model"]), _fmt(rec["mv"])])
        parts.append(
            _section(
                "scores",
                "Scores on gold",
                _table(["rows", "count", "accuracy", "majority vote"], score_rows),
                f"{int((gold & ~voted).sum())} gold rows had no vote; their prediction rests on the class "
                "balance and, for a model that reads abstentions as evidence, on which LFs abstained "
                "(Snorkel scores the voted rows only). Rows whose top "
                "classes tie get one of them by a fixed hash of the row, as tripletws evaluate does. "
                "The majority margin is majority vote's votes for its top class minus those for the "
                "next: a label model departs from majority vote on rows without a vote, on ties, and "
                "where it overrules a majority.",
            )
        )
        svg, cal_rows = _calibration(conf[gold], (pred[gold] == y[gold]).astype(np.float64))
        parts.append(
            _section(
                "calibration",
                "Calibration",
                f'<div class="fig">{svg}</div>'
                + _table(["confidence bin", "rows", "mean conf.", "accuracy"], cal_rows),
                "Accuracy on gold against the model's confidence, by confidence bin.",
            )
        )
        cm = np.bincount(y[gold] * k + pred[gold], minlength=k * k).reshape(k, k)
        parts.append(
            _section(
                "confusion",
                "Confusion matrix",
                f'<div class="fig">{_confusion(cm)}</div>',
                "Rows: gold class; columns: predicted class (argmax of the posterior, ties as above).",
            )
        )

    from . import __version__

    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='note'>tripletws {__version__}</p>"
        + "".join(parts)
        + "</body></html>\n"
    )


def write_report(model: Any, L: Any, path: str | os.PathLike[str], Y: Any = None, **kwargs: Any) -> Path:
    """Write :func:`build_report` to ``path`` atomically (temp file, fsync, os.replace).

    Returns
    -------
    Path of the written file.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        Before the report is built: ``path``'s folder does not exist, or ``path`` is a folder.
    """
    from .atomic import atomic_write_text, target_path

    target = Path(path)
    real = target_path(target)  # checked before the work (a bootstrap can take minutes), as the write would
    if not real.parent.is_dir():
        raise FileNotFoundError(2, "no such folder", str(real.parent))
    if real.is_dir():
        raise IsADirectoryError(21, "is a directory, not a file", str(real))
    text = build_report(model, L, Y, **kwargs)
    atomic_write_text(target, text)
    return target
