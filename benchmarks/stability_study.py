"""Are the default's bad readings unstable fits?  A diagnostic of issue 7's "stability under a bootstrap".

For every stress problem (benchmarks/stress_problems.py, the development draw or ``--base-seed``) the
default ``LabelModel()`` is fitted on the train rows under a probe of its decision steps (as
benchmarks/worst_losses.py does) and scored on the test rows (expected accuracy under uniform
tie-breaking, benchmarks/scoring.py, as benchmarks/stress.py scores); majority vote (MV) likewise.
The probe records what the default predicted from: the vote-only family chosen, whether the balance
check estimated the balance, and whether the coverage reading (one-class LFs) or the abstain reading
(abstentions informative) was accepted, with its family and balance.  Where a reading was accepted the
default is fitted again with it refused (``fallback``: the accuracy a guard that refuses it would give).

Instability of a configuration (family, class balance: fixed or estimated) on the rows the default
chose on (copies counted once, ``plain``): the distinct rows' counts are dealt at random into two
disjoint halves, twice (``SPLITS`` x 2 = 4 half fits, seeded), each half fitted by
:func:`tripletws.estimators.annotator.fit_annotator` (started from majority vote, as every fit of the
default), and the count-weighted share of training rows on which two half fits' argmax labels differ is
averaged over the 6 pairs: ``raw`` as is, ``perm`` after the best one-to-one relabelling of the
classes between the two fits (Hungarian matching of their confusion table).  ``full``: the mean
disagreement of the half fits with the fit on all the rows.  ``change``: the disagreement of the
reading's fit on all rows with the vote-only fit's (how many training labels the reading moves).
This is measured for the reading used (``reading``), for the vote-only configuration the default
would have used without it (``vote``) and for each vote-only candidate under the uniform prior
(``fam_mv``, ``fam_one_coin``, ``fam_mace``; the family choice's alternatives).

    PYTHONPATH=src python benchmarks/stability_study.py --out benchmarks/results/stability_dev.jsonl
    PYTHONPATH=src python benchmarks/stability_study.py --base-seed 20270601 \
        --out benchmarks/results/stability_seed20270601.jsonl
    PYTHONPATH=src python benchmarks/stability_study.py --report benchmarks/results/stability_dev.jsonl \
        benchmarks/results/stability_seed20270601.jsonl benchmarks/results/stability_seed20280101.jsonl \
        --md benchmarks/results/stability.md
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))

from common import limit_threads  # noqa: E402
from patched_steps import patched  # noqa: E402
from scoring import TIE_TOL, mv_scores, tie_scores  # noqa: E402
from stress_problems import BASE_SEED, all_problems, draw  # noqa: E402

from tripletws.atomic import atomic_write_text  # noqa: E402

#: Independent deals of the rows into two disjoint halves (each gives two half fits).
SPLITS = 2
#: Seed of the deals (offset by the problem's seed).
SPLIT_SEED = 7919
TIE = 0.005  # the stress suite's tie: 0.5 points


class Probe:
    """Patches of the default's decision steps in ``tripletws.models.annotator``: records what they
    decided and the rows they read, and can refuse an accepted reading."""

    def __init__(self) -> None:
        self.rec: dict[str, Any] = {}
        self.refuse: str | None = None

    @contextlib.contextmanager
    def installed(self) -> Iterator[Probe]:
        import tripletws.models.annotator as mod

        orig = {
            name: getattr(mod, name)
            for name in (
                "select_counting_once",
                "select_family",
                "balance_check",
                "coverage_check",
                "abstain_check",
            )
        }

        def select_counting_once(*a: Any, **kw: Any) -> Any:
            sel, copies, plain, folds = orig["select_counting_once"](*a, **kw)
            self.rec.update(selection=sel, plain=plain, given=a[2], copies=copies is not None)
            return sel, copies, plain, folds

        def select_family(*a: Any, **kw: Any) -> Any:
            sel = orig["select_family"](*a, **kw)
            self.rec.update(selection=sel, plain=a[0], given=kw.get("class_balance"), copies=False)
            return sel

        def balance_check(*a: Any, **kw: Any) -> Any:
            res = orig["balance_check"](*a, **kw)
            self.rec["balance"] = res
            return res

        def coverage_check(*a: Any, **kw: Any) -> Any:
            res = orig["coverage_check"](*a, **kw)
            self.rec["coverage"] = res
            self.rec["coverage_prior"] = a[1]
            if res.accepted and self.refuse == "coverage":
                res = replace(res, accepted=False)
            return res

        def abstain_check(*a: Any, **kw: Any) -> Any:
            res = orig["abstain_check"](*a, **kw)
            self.rec["abstain"] = res
            self.rec["abstain_prior"] = a[2]
            if res.accepted and self.refuse == "abstain":
                res = replace(res, accepted=False)
            return res

        steps = {
            "select_counting_once": select_counting_once,
            "select_family": select_family,
            "balance_check": balance_check,
            "coverage_check": coverage_check,
            "abstain_check": abstain_check,
        }
        with patched(mod, steps):
            yield self


def fit_default(probe: Probe, k: int, L: np.ndarray, L_test: np.ndarray, y_test: np.ndarray) -> float:
    """Test accuracy of ``LabelModel(cardinality=k)`` fitted on ``L`` under ``probe``."""
    from tripletws import LabelModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with probe.installed():
            lm = LabelModel(cardinality=k).fit(L)
        P = lm.predict_proba(L_test)
    return tie_scores(P, y_test, k)[0]


def top_sets(scores: np.ndarray) -> np.ndarray:
    """(R, k) bool: each row's tied top classes (scores within :data:`scoring.TIE_TOL` of the max).

    Majority vote's tied rows would otherwise take whichever class the rounding of the sums
    favours, and differ between fits for no reason in the data."""
    return scores >= scores.max(axis=1, keepdims=True) - TIE_TOL


def _jaccard_miss(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    """Count-weighted share of rows whose labels differ when ties are broken by one shared random
    order of the classes per row: ``1 - |A & B| / |A | B|`` per row."""
    inter = (a & b).sum(axis=1)
    union = (a | b).sum(axis=1)
    return float(w @ (1.0 - inter / np.maximum(union, 1))) / float(w.sum())


def disagreement(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Count-weighted share of rows whose labels differ (ties broken alike, :func:`_jaccard_miss`):
    as is, and after the best one-to-one relabelling of ``b``'s classes (Hungarian matching of the
    two fits' co-occurrence table, tied rows spread evenly over their classes).

    ``a``, ``b``: (R, k) bool top classes (:func:`top_sets`); ``w``: (R,) counts."""
    if float(w.sum()) <= 0:
        return float("nan"), float("nan")
    raw = _jaccard_miss(a, b, w)
    sa = a / a.sum(axis=1, keepdims=True)
    sb = b / b.sum(axis=1, keepdims=True)
    table = (sa * w[:, None]).T @ sb  # (k, k)
    ri, ci = linear_sum_assignment(-table)
    relabelled = np.zeros_like(b)
    relabelled[:, ri] = b[:, ci]
    return raw, min(raw, _jaccard_miss(a, relabelled, w))


def labels(
    unique: Any, family: str, balance: np.ndarray | None, counts: np.ndarray, designs: dict
) -> np.ndarray:
    """Top classes (R, k) on ``unique``'s rows of ``family`` fitted on the rows with ``counts``."""
    from tripletws.estimators.annotator import ABSTAIN_INFORMATIVE, fit_annotator

    informative = family in ABSTAIN_INFORMATIVE
    sub = replace(unique, counts=np.asarray(counts, dtype=np.float64))
    fit = fit_annotator(sub, family, class_balance=balance)
    return top_sets(designs[informative].log_scores(fit.params))


def instability(
    unique: Any, family: str, balance: np.ndarray | None, halves: list[np.ndarray], designs: dict
) -> dict[str, Any]:
    """Half fits' disagreement (raw and relabelled, among themselves and with the fit on all rows)."""
    w = unique.counts.astype(np.float64)
    full = labels(unique, family, balance, w, designs)
    parts = [labels(unique, family, balance, h, designs) for h in halves]
    pairs = np.array([disagreement(parts[i], parts[j], w) for i, j in combinations(range(len(parts)), 2)])
    to_full = np.array([disagreement(p, full, w) for p in parts])
    return {
        "family": family,
        "balance": "estimated" if balance is None else "fixed",
        "raw": float(pairs[:, 0].mean()),
        "perm": float(pairs[:, 1].mean()),
        "raw_max": float(pairs[:, 0].max()),
        "full_raw": float(to_full[:, 0].mean()),
        "full_perm": float(to_full[:, 1].mean()),
        "_labels": full,
    }


def run_problem(problem: Any) -> dict[str, Any]:
    """The default's reading on one problem, its accuracy and the instability of its fits."""
    from tripletws.estimators.annotator_design import _Design
    from tripletws.estimators.heldout import split_counts

    k = int(problem.params["k"])
    L, _, L_test, y_test = draw(problem)
    cpu0 = time.process_time()
    out: dict[str, Any] = {"name": problem.name, "family": problem.family, "n": int(L.shape[0]), "k": k}
    out["mv"] = tie_scores(mv_scores(L_test, k), y_test, k)[0]
    probe = Probe()
    out["default"] = fit_default(probe, k, L, L_test, y_test)
    rec = probe.rec
    sel = rec.get("selection")
    if sel is None or "plain" not in rec:  # a fallback model (no rows): nothing to measure
        out["reading"] = "none"
        return out
    plain = rec["plain"]
    uniform = np.full(k, 1.0 / k)
    bal = rec.get("balance")
    cov = rec.get("coverage")
    ab = rec.get("abstain")
    out["chosen"] = sel.chosen
    out["balance_accepted"] = bool(bal is not None and bal.accepted)
    out["copies"] = bool(rec.get("copies"))
    vote_balance = None if out["balance_accepted"] else rec.get("given")

    def balance_of(name: str, given: np.ndarray | None) -> np.ndarray | None:
        return uniform if name == "uniform" else None if name == "estimated" else given

    if cov is not None and cov.accepted:
        out["reading"] = "coverage"
        reading = (cov.fit.family, balance_of(cov.balance, rec.get("coverage_prior")))
        out["reading_balance"] = cov.balance or "given"
    elif ab is not None and ab.accepted:
        out["reading"] = "abstain"
        reading = (ab.family, balance_of(ab.balance, rec.get("abstain_prior")))
        out["reading_balance"] = ab.balance
        out["abstain_lead_z"] = float(ab.lead / ab.lead_se) if ab.lead_se > 0 else None
    else:
        out["reading"] = "vote"
        reading = None
    if reading is not None:
        probe2 = Probe()
        probe2.refuse = out["reading"]
        out["fallback"] = fit_default(probe2, k, L, L_test, y_test)
    else:
        out["fallback"] = out["default"]
    designs = {
        False: _Design(plain.rows, k, abstain=False),
        True: _Design(plain.rows, k, abstain=True),
    }
    rng = np.random.default_rng(SPLIT_SEED + problem.seed)
    halves = [h for _ in range(SPLITS) for h in split_counts(plain.counts, 2, rng)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vote = instability(plain, sel.chosen, vote_balance, halves, designs)
        out["vote"] = vote
        for fam in ("mv", "one_coin", "mace"):
            if fam == sel.chosen and vote["balance"] == "fixed":
                out[f"fam_{fam}"] = vote
            else:
                out[f"fam_{fam}"] = instability(plain, fam, uniform, halves, designs)
        w = plain.counts.astype(np.float64)
        out["vote_change_mv"] = disagreement(vote["_labels"], out["fam_mv"]["_labels"], w)[0]
        if reading is not None:
            r = instability(plain, reading[0], reading[1], halves, designs)
            out["change_mv"] = disagreement(r["_labels"], out["fam_mv"]["_labels"], w)[0]
            out["reading_fit"] = r
            out["change"], out["change_perm"] = disagreement(r["_labels"], vote["_labels"], w)
            if out["reading"] == "abstain":
                pred = top_sets(designs[True].log_scores(ab.fit.params))
                out["refit_same"] = disagreement(pred, r["_labels"], w)[0]
    out["cpu_s"] = time.process_time() - cpu0
    for key, v in list(out.items()):
        if isinstance(v, dict):
            out[key] = {a: b for a, b in v.items() if not a.startswith("_")}
    return out


# --------------------------------------------------------------------------------------------------
# report


def auc(pos: list[float], neg: list[float]) -> float:
    """P(a loser's value > a winner's value) + half the ties (the ROC area of the value as a loser
    score: 1 = every loser more unstable than every winner, 0.5 = no separation)."""
    if not pos or not neg:
        return float("nan")
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(np.mean((p > n) + 0.5 * (p == n)))


def load(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def measures(r: dict) -> dict[str, float]:
    """Gold-free scores of an accepted reading: larger = more suspicious."""
    fit, vote = r["reading_fit"], r["vote"]
    eps = 1e-12
    return {
        "raw": fit["raw"],
        "perm": fit["perm"],
        "full_raw": fit["full_raw"],
        "raw - vote raw": fit["raw"] - vote["raw"],
        "perm - vote perm": fit["perm"] - vote["perm"],
        "raw / change": fit["raw"] / max(r.get("change", 0.0), eps),
        "raw / change from MV": fit["raw"] / max(r.get("change_mv", 0.0), eps),
    }


def best_bar(values: np.ndarray, gains: np.ndarray) -> float:
    """The bar ``c`` (refuse where value > c) that maximises the summed gain of refusing; ties to the
    highest bar (the fewest refusals); ``inf`` refuses nothing."""
    best, best_sum = float("inf"), 0.0
    for c in np.unique(values)[::-1]:
        total = float(gains[values > c].sum())
        if total > best_sum + 1e-12:
            best, best_sum = float(c), total
    return best


def one_bar_lines(groups: dict[str, list[dict]], value: Any, gain: Any, mv_gap: Any) -> list[str]:
    """One bar on ``value`` chosen leave-one-family-out within each suite, and chosen on the first
    suite (all families) and applied to the others: the summed accuracy moved on held-out problems."""
    out = [
        "| suite | LOFO: refused | moved (points) | losses vs MV before -> after | "
        "bar from the first suite | refused | moved (points) | losses before -> after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    first = None
    for name, recs in groups.items():
        if not recs:
            continue
        v = np.array([value(r) for r in recs])
        g = np.array([gain(r) for r in recs])
        gap = np.array([mv_gap(r) for r in recs])
        fams = np.array([r["family"] for r in recs])
        refused = np.zeros(len(recs), dtype=bool)
        for f in np.unique(fams):
            held = fams == f
            c = best_bar(v[~held], g[~held])
            refused |= held & (v > c)
        after = gap + np.where(refused, g, 0.0)
        if first is None:
            first = best_bar(v, g)
        ref2 = v > first
        after2 = gap + np.where(ref2, g, 0.0)
        out.append(
            f"| {name} | {int(refused.sum())} | {100 * float(g[refused].sum()):+.1f} | "
            f"{int((gap < -TIE).sum())} -> {int((after < -TIE).sum())} | {first:.3f} | {int(ref2.sum())} | "
            f"{100 * float(g[ref2].sum()):+.1f} | {int((gap < -TIE).sum())} -> {int((after2 < -TIE).sum())} |"
        )
    return out


def summary(paths: list[str]) -> list[str]:
    """Pooled view: one bar on the half fits' disagreement, chosen leave-one-family-out, per stage."""
    suites = {Path(p).stem: load(p) for p in paths}
    lines = ["## One bar on the instability (one constant, leave-one-family-out), per stage", ""]
    lines += [
        "Refuse where the measure exceeds a bar; the bar maximises the summed accuracy gained by refusing "
        "on the other families of the suite (LOFO), or on the first suite's problems (all families) and is "
        "then applied to the other suites unchanged. Refusing a reading gives the default with it refused "
        "(`fallback`); refusing a per-LF family gives majority vote.",
        "",
    ]
    stages = {
        "abstain reading, raw": ("abstain", lambda r: r["reading_fit"]["raw"]),
        "abstain reading, raw / change": (
            "abstain",
            lambda r: r["reading_fit"]["raw"] / max(r.get("change", 0.0), 1e-12),
        ),
        "abstain reading, raw - vote raw": ("abstain", lambda r: r["reading_fit"]["raw"] - r["vote"]["raw"]),
        "coverage reading, raw": ("coverage", lambda r: r["reading_fit"]["raw"]),
        "family choice, raw": ("family", lambda r: r["vote"]["raw"]),
        "family choice, raw / change from MV": (
            "family",
            lambda r: r["vote"]["raw"] / max(r.get("vote_change_mv", 0.0), 1e-12),
        ),
    }
    for title, (stage, value) in stages.items():
        if stage == "family":
            groups = {
                n: [r for r in rs if r.get("reading") == "vote" and r.get("chosen") in ("one_coin", "mace")]
                for n, rs in suites.items()
            }

            def gain(r: dict) -> float:
                return r["mv"] - r["default"]
        else:
            groups = {n: [r for r in rs if r.get("reading") == stage] for n, rs in suites.items()}

            def gain(r: dict) -> float:
                return r["fallback"] - r["default"]

        lines += [f"### {title}", ""]
        lines += one_bar_lines(groups, value, gain, lambda r: r["default"] - r["mv"])
        lines.append("")
    return lines


def render(paths: list[str]) -> str:
    lines = ["# Stability of the default's readings under half fits (issue 7, diagnostic)", ""]
    lines += [
        "benchmarks/stability_study.py: for each stress problem the default's reading (coverage, abstain or "
        "vote-only), its test accuracy and MV's, the accuracy with the reading refused (`fallback`), and the "
        f"disagreement of {2 * SPLITS} half fits (two seeded deals into disjoint halves) on the training "
        "rows' "
        "argmax labels: `raw`, `perm` (best relabelling), for the reading's configuration and for the "
        "vote-only configuration the default would have used (`vote`). `change`: share of training rows "
        "whose label the reading moves from the vote-only fit's. Win/loss: default vs MV beyond 0.5 points; "
        "gain/harm: default vs fallback beyond 0.5 points. AUC: P(a loss's measure > a win's), ties half.",
        "",
    ]
    for path in paths:
        recs = load(path)
        name = Path(path).stem
        lines += [f"## {name} ({len(recs)} problems)", ""]
        for part in ("abstain", "coverage"):
            acc = [r for r in recs if r.get("reading") == part]
            if not acc:
                continue
            d = [r["default"] - r["mv"] for r in acc]
            g = [r["default"] - r["fallback"] for r in acc]
            lines.append(
                f"### {part} reading accepted on {len(acc)} problems: vs MV "
                f"{sum(x > TIE for x in d)} W / {sum(x < -TIE for x in d)} L; vs fallback "
                f"{sum(x > TIE for x in g)} gain / {sum(x < -TIE for x in g)} harm "
                f"(sum {100 * sum(g):+.1f} points)"
            )
            lines.append("")
            lines.append("| measure | AUC loss vs MV (L vs W) | AUC harm vs gain (vs fallback) |")
            lines.append("|---|---|---|")
            keys = list(measures(acc[0]))
            for key in keys:
                ml = [measures(r)[key] for r in acc if r["default"] - r["mv"] < -TIE]
                mw = [measures(r)[key] for r in acc if r["default"] - r["mv"] > TIE]
                hl = [measures(r)[key] for r in acc if r["default"] - r["fallback"] < -TIE]
                hw = [measures(r)[key] for r in acc if r["default"] - r["fallback"] > TIE]
                lines.append(
                    f"| {key} | {auc(ml, mw):.3f} ({len(ml)} vs {len(mw)}) | "
                    f"{auc(hl, hw):.3f} ({len(hl)} vs {len(hw)}) |"
                )
            lines.append("")
            # rules without constants
            lines.append(
                "| rule (refuse the reading where ...) | refused | sum of accuracy moved (points) "
                "| losses vs MV left | worst vs MV |"
            )
            lines.append("|---|---|---|---|---|")
            rules = {
                "never (the default)": lambda r: False,
                "reading raw > vote raw": lambda r: r["reading_fit"]["raw"] > r["vote"]["raw"],
                "reading perm > vote perm": lambda r: r["reading_fit"]["perm"] > r["vote"]["perm"],
                "reading raw >= change": lambda r: r["reading_fit"]["raw"] >= r.get("change", 0.0),
                "reading raw >= change from MV": lambda r: r["reading_fit"]["raw"] >= r.get("change_mv", 0.0),
                "reading perm >= change_perm": lambda r: (
                    r["reading_fit"]["perm"] >= r.get("change_perm", 0.0)
                ),
            }
            for rname, rule in rules.items():
                refused = [r for r in acc if rule(r)]
                moved = sum(r["fallback"] - r["default"] for r in refused)
                final = [(r["fallback"] if rule(r) else r["default"]) - r["mv"] for r in acc]
                lines.append(
                    f"| {rname} | {len(refused)} | {100 * moved:+.1f} | {sum(x < -TIE for x in final)} | "
                    f"{100 * min(final):+.1f} |"
                )
            lines.append("")
            order = sorted(acc, key=lambda r: r["default"] - r["mv"])
            lines.append(
                "| problem | family/balance | vs MV | vs fallback | change | change from MV | raw | perm "
                "| full | vote raw |"
            )
            lines.append("|---|---|---|---|---|---|---|---|---|---|")
            shown = order[:20] + [r for r in order[-20:][::-1] if r not in order[:20]]
            for r in shown:
                f, v = r["reading_fit"], r["vote"]
                lines.append(
                    f"| {r['name']} | {f['family']}/{r.get('reading_balance', '')} | "
                    f"{100 * (r['default'] - r['mv']):+.1f} | {100 * (r['default'] - r['fallback']):+.1f} | "
                    f"{r['change']:.3f} | {r.get('change_mv', float('nan')):.3f} | {f['raw']:.3f} | "
                    f"{f['perm']:.3f} | {f['full_raw']:.3f} | {v['raw']:.3f} |"
                )
            lines.append("")
        # the family choice: vote-only problems where a per-LF family was chosen
        fam = [r for r in recs if r.get("reading") == "vote" and r.get("chosen") in ("one_coin", "mace")]
        if fam:
            d = [r["default"] - r["mv"] for r in fam]
            lines.append(
                f"### family choice: {len(fam)} problems predicted from one_coin/mace (no reading): "
                f"{sum(x > TIE for x in d)} W / {sum(x < -TIE for x in d)} L vs MV"
            )
            lines.append("")
            lines.append("| measure | AUC loss vs win |")
            lines.append("|---|---|")

            def fam_measures(r: dict) -> dict[str, float]:
                v, eps = r["vote"], 1e-12
                return {
                    "chosen raw": v["raw"],
                    "chosen perm": v["perm"],
                    "chosen full_raw": v["full_raw"],
                    "chosen raw - mv raw": v["raw"] - r["fam_mv"]["raw"],
                    "chosen raw / change from MV": v["raw"] / max(r.get("vote_change_mv", 0.0), eps),
                }

            for key in fam_measures(fam[0]):
                ml = [fam_measures(r)[key] for r in fam if r["default"] - r["mv"] < -TIE]
                mw = [fam_measures(r)[key] for r in fam if r["default"] - r["mv"] > TIE]
                lines.append(f"| {key} | {auc(ml, mw):.3f} ({len(ml)} vs {len(mw)}) |")
            lines.append("")
            rules = {
                "chosen raw > mv raw": lambda r: r["vote"]["raw"] > r["fam_mv"]["raw"],
                "chosen raw >= change from MV": lambda r: r["vote"]["raw"] >= r.get("vote_change_mv", 0.0),
                "chosen full_raw >= change from MV": lambda r: (
                    r["vote"]["full_raw"] >= r.get("vote_change_mv", 0.0)
                ),
            }
            lines.append(
                "| rule (use mv where ...) | refused | sum moved to MV (points) | losses vs MV left "
                "| worst vs MV |"
            )
            lines.append("|---|---|---|---|---|")
            for rname, rule in rules.items():
                refused = [r for r in fam if rule(r)]
                moved = sum(r["mv"] - r["default"] for r in refused)
                final = [0.0 if rule(r) else r["default"] - r["mv"] for r in fam]
                lines.append(
                    f"| {rname} | {len(refused)} | {100 * moved:+.1f} | {sum(x < -TIE for x in final)} | "
                    f"{100 * min(final):+.1f} |"
                )
            lines.append("")
            order = sorted(fam, key=lambda r: r["default"] - r["mv"])
            lines.append("| problem | chosen | vs MV | change from MV | raw | perm | full | mv raw |")
            lines.append("|---|---|---|---|---|---|---|---|")
            for r in order[:20] + [r for r in order[-10:][::-1] if r not in order[:20]]:
                v, m = r["vote"], r["fam_mv"]
                lines.append(
                    f"| {r['name']} | {r['chosen']}{'+est' if r['balance_accepted'] else ''} | "
                    f"{100 * (r['default'] - r['mv']):+.1f} | {r.get('vote_change_mv', float('nan')):.3f} | "
                    f"{v['raw']:.3f} | {v['perm']:.3f} | {v['full_raw']:.3f} | {m['raw']:.3f} |"
                )
            lines.append("")
    lines += summary(paths)
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-seed", type=int, default=BASE_SEED)
    ap.add_argument("--out", help="JSON lines, one per problem (appended as they finish)")
    ap.add_argument("--families", nargs="*", help="only these problem families")
    ap.add_argument("--limit", type=int, help="first N problems only (smoke)")
    ap.add_argument("--report", nargs="*", help="render these JSONL files instead of running")
    ap.add_argument("--md", help="with --report: write the markdown here")
    args = ap.parse_args()
    if args.report:
        text = render(args.report)
        if args.md:
            atomic_write_text(Path(args.md), text)
        print(text)
        return
    limit_threads(1)
    probs = all_problems(args.base_seed)
    if args.families:
        probs = [p for p in probs if p.family in args.families]
    if args.limit:
        probs = probs[: args.limit]
    done: set[str] = set()
    if args.out and Path(args.out).exists():
        done = {r["name"] for r in load(args.out)}
    for p in probs:
        if p.name in done:
            continue
        rec = run_problem(p)
        line = json.dumps(rec)
        if args.out:
            with open(args.out, "a") as fh:
                fh.write(line + "\n")
        fit = rec.get("reading_fit", rec.get("vote", {}))
        print(
            f"{rec['name']}: {rec.get('reading')} {100 * (rec['default'] - rec['mv']):+.1f} vs MV, "
            f"raw {fit.get('raw', float('nan')):.3f} vote {rec.get('vote', {}).get('raw', float('nan')):.3f} "
            f"cpu {rec.get('cpu_s', 0):.1f}s",
            flush=True,
        )


if __name__ == "__main__":
    main()
