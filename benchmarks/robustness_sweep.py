"""Randomized robustness sweep of the default label model (seeded; issues 7 and 10).

Draws random label matrices of many kinds (n 1..3000, m 3..40, k 2..10, coverage 0.01..1,
one-class LFs, duplicated columns and rows, all-abstain rows, an LF that votes on one row only,
rows where every LF votes, extreme imbalance, adversarial LFs), fits ``LabelModel(k)`` with
``combine="none"`` and ``"stack"`` and checks, per case:

* no exception but a ``ValueError`` for documented invalid input;
* posteriors on L and on new rows finite, non-negative, rows summing to 1 within 1e-9;
* ``n_jobs=1`` and ``n_jobs=2`` posteriors within 1e-10; a fit on chunks of a third of the rows
  within :func:`jit_tolerance` and :func:`predict_tolerance`;
* save / load round trip within 1e-12; dask predict (when installed) within 1e-12;
* every warning a ``UserWarning`` whose message names LFs or values (holds a digit);
* ``accuracies_``, ``class_balance_`` and the held-out scores of ``selection_`` finite;
* on a subset, the numpy EM (``TRIPLETWS_JIT=0``) against the compiled one: where both choose
  the same family, posteriors within :func:`jit_tolerance` (rounding only, at the same EM steps).

Usage::

    python benchmarks/robustness_sweep.py --cases 2000 --seed 0 [--jit-every 5] [--dask-every 10]

Prints one line per failure and a summary of how many cases of which kind ran clean.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

KINDS = (
    "random",
    "one_class",
    "dup_cols",
    "dup_rows",
    "all_abstain_rows",
    "lonely_lf",
    "full_rows",
    "imbalance",
    "adversarial",
    "mixed",
)


def draw_case(
    rng: np.random.Generator, kind: str, n_range: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """A label matrix of the given kind: ``(L, L_new, k)`` with ``L_new`` new rows to predict on.

    n is log-uniform in 1..3000 (uniform for one case in five), or uniform in ``n_range``.
    """
    k = int(rng.integers(2, 11))
    if n_range is not None:
        n = int(rng.integers(n_range[0], n_range[1] + 1))
    elif rng.random() < 0.8:
        n = int(np.exp(rng.uniform(0, np.log(3000))))
    else:
        n = int(rng.integers(1, 3001))
    m = int(rng.integers(3, 41))
    kinds = set(rng.choice(KINDS[1:], size=3, replace=False)) if kind == "mixed" else {kind}
    if "imbalance" in kinds:
        prior = np.full(k, 1e-3 / max(k - 1, 1))
        prior[rng.integers(k)] = 1.0 - 1e-3
    else:
        prior = rng.dirichlet(np.full(k, rng.uniform(0.3, 5.0)))
    prior = prior / prior.sum()
    n_tot = n + 50
    y = rng.choice(k, size=n_tot, p=prior)
    cov = np.exp(rng.uniform(np.log(0.01), 0.0, size=m))
    acc = rng.uniform(1.0 / k, 0.98, size=m)
    if "full_rows" in kinds:
        cov[:] = 1.0
    correct = rng.random((n_tot, m)) < acc
    wrong = (y[:, None] + rng.integers(1, k, size=(n_tot, m))) % k
    L = np.where(correct, y[:, None], wrong)
    if "adversarial" in kinds:
        bad = rng.choice(m, size=int(rng.integers(1, max(2, m // 3) + 1)), replace=False)
        L[:, bad] = wrong[:, bad]
    L = np.where(rng.random((n_tot, m)) < cov, L, -1)
    if "one_class" in kinds:
        oc = rng.choice(m, size=int(rng.integers(1, m + 1)), replace=False)
        for j in oc:
            c = int(rng.integers(k))
            L[:, j] = np.where(L[:, j] == c, c, -1)
    if "dup_cols" in kinds:
        src = rng.integers(m, size=int(rng.integers(1, m + 1)))
        dst = rng.choice(m, size=len(src), replace=False)
        L[:, dst] = L[:, src]
    if "all_abstain_rows" in kinds:
        L[rng.random(n_tot) < rng.uniform(0.1, 0.99)] = -1
    if "lonely_lf" in kinds:
        j = int(rng.integers(m))
        L[:, j] = -1
        L[int(rng.integers(n)), j] = int(rng.integers(k))
    if "full_rows" in kinds and rng.random() < 0.5:
        L[L < 0] = rng.integers(k, size=int((L < 0).sum()))
    if "dup_rows" in kinds:
        base = L[rng.integers(n_tot, size=int(rng.integers(1, 6)))]
        L = base[rng.integers(len(base), size=n_tot)]
    return L[:n].astype(np.int64), L[n:].astype(np.int64), k


#: Every INVALID_EVERY-th case keeps only 1 or 2 of its LFs (the documented ValueError).
INVALID_EVERY = 97
EXPECTED_ERRORS = ("at least 3", "never vote", "no votes", "every LF abstains", "at least")


def _posteriors_ok(P: np.ndarray, n: int, k: int) -> str | None:
    if P.shape != (n, k):
        return f"shape {P.shape} != {(n, k)}"
    if not np.all(np.isfinite(P)):
        return "non-finite posterior"
    if np.any(P < 0):
        return f"negative posterior {P.min()}"
    err = float(np.max(np.abs(P.sum(axis=1) - 1.0))) if n else 0.0
    if err > 1e-9:
        return f"rows sum to 1 only within {err:.3g}"
    return None


JIT_DIFFS: list[float] = []  # compiled vs numpy, max abs posterior difference per compared case


def jit_tolerance(a, b, n_rows: int) -> float:
    """How far the compiled and the numpy EM's posteriors may differ (same family chosen).

    Same number of final EM steps: the two run the same updates with sums in other orders.  A
    step's sums over at most ``n_rows`` distinct rows carry a relative error of at most
    ``n_rows eps`` (recursive summation, Higham 2002, 4.2); near its fixed point EM contracts, so
    over at most 50 steps the tables' relative (log) error stays below ``50 n_rows eps``; a row's
    log-odds add m such logs and the posterior moves by at most half of that (softmax slope):
    ``0.5 m 50 n_rows eps`` (3.3e-10 at m = 40, n = 3000).  A different number of steps (the
    stop, a gain below EM_TOL = 1e-6, decided differently by rounding) allows one EM step's move:
    a step gaining < 1e-6 per row moves the tables by O(sqrt(1e-6)) = 1e-3 at an O(1) Fisher
    information per row; a factor 10 for slow linear convergence gives 1e-2.
    """
    m = a.params_.n_lfs
    if getattr(a.estimate_, "n_steps", None) == getattr(b.estimate_, "n_steps", None):
        return max(1e-12, 0.5 * m * 50 * max(n_rows, 1) * np.finfo(float).eps)
    return 1e-2


#: How far the compiled and the numpy fits may differ on the rows whose ties a second fit breaks
#: (:mod:`tripletws.ties`): that fit's own EM is not recorded with its number of steps, so the
#: allowance of :func:`jit_tolerance` for a stop decided differently by rounding applies.
TIE_FIT_TOLERANCE = 1e-2


def tie_break_rows(lm, L: np.ndarray, k: int) -> np.ndarray:
    """Whether the model's second fit breaks each row's tie (no second fit: none), shape (n,)."""
    from tripletws.inference import posterior
    from tripletws.matrix import LabelMatrix
    from tripletws.ties import tied_classes

    n = len(L)
    mask = np.zeros(n, dtype=bool)
    if n == 0 or getattr(getattr(lm, "estimate_", None), "tie_break", None) is None:
        return mask
    if lm.params_.has_dependencies:
        return mask
    lm_rows = LabelMatrix(np.asarray(L), k)
    rows, _ = tied_classes(posterior(lm_rows, lm.params_), lm_rows, lm.params_)
    mask[rows] = True
    return mask


def _check_fit(lm, L, L_new, k, label, failures):
    for name, X in (("L", L), ("new", L_new)):
        P = lm.predict_proba(X)
        bad = _posteriors_ok(P, len(X), k)
        if bad:
            failures.append(f"{label}: predict_proba({name}): {bad}")
    for attr in ("accuracies_", "class_balance_"):
        v = np.asarray(getattr(lm, attr), dtype=float)
        if not np.all(np.isfinite(v)):
            failures.append(f"{label}: {attr} not finite: {v}")
    sel = getattr(lm, "selection_", None)
    if sel is not None:
        scores = np.array(list((getattr(sel, "heldout_loglik", None) or {}).values()), dtype=float)
        # nan everywhere is documented (no row could be held out); a mix is not
        if scores.size and not np.all(np.isfinite(scores)) and not np.all(np.isnan(scores)):
            failures.append(f"{label}: selection_.heldout_loglik = {sel.heldout_loglik}")
        w = getattr(sel, "weights", None)
        if w is not None and not np.all(
            np.isfinite(np.asarray(list(w.values()) if isinstance(w, dict) else w))
        ):
            failures.append(f"{label}: selection_.weights not finite: {w}")


def _check_warnings(rec, label, failures):
    """Every warning a UserWarning (not a RuntimeWarning etc.) whose message names LFs or values."""
    for w in rec:
        if w.category is not UserWarning:
            failures.append(f"{label}: {w.category.__name__}: {w.message} ({w.filename}:{w.lineno})")
        elif not any(ch.isdigit() for ch in str(w.message)):
            failures.append(f"{label}: warning names no LF/value: {str(w.message)[:160]}")


def predict_tolerance(lm) -> float:
    """How far two batchings of the same rows may differ (dask blocks vs numpy chunks).

    k > 2 (and sparse input) computes in float64: the same products row by row, 1e-12.  k = 2
    forms the log-odds ``z = b + S w_sign + V w_vote`` in float32 (``inference.LOGIT_DTYPE``);
    BLAS may sum a row's m terms in another order for another batch size, each order within
    ``m u sum|w|`` of the exact sum (u = 2^-24, Higham's bound for recursive summation), and the
    sum of the two products and the float64 cast round once more, so two differ by at most
    ``2 (m + 2) u (sum|w_sign| + sum|w_vote|)``; the posterior ``sigmoid(z)`` has slope at most 1/4.
    """
    if lm.cardinality != 2 or lm.params_.has_dependencies:
        return 1e-12
    mixture = getattr(getattr(lm, "estimate_", None), "mixture", None)
    tol = 1e-12
    for params in mixture.components if mixture is not None else (lm.params_,):
        _, D = params.log_odds_tables()
        e = D[:, :, 1] - D[:, :, 0]
        w = np.abs((e[:, 1] - e[:, 0]) / 2).sum() + np.abs((e[:, 1] + e[:, 0]) / 2).sum()
        tol = max(tol, 0.5 * (params.n_lfs + 2) * 2.0**-24 * float(w))
    return tol


def _fit(k, L, **kw):
    from tripletws import LabelModel

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        lm = LabelModel(cardinality=k, **kw).fit(L)
    return lm, rec


def run_case(rng, kind, idx, do_jit, do_dask, tmpdir, n_range=None):
    failures: list[str] = []
    L, L_new, k = draw_case(rng, kind, n_range)
    invalid = idx % INVALID_EVERY == INVALID_EVERY - 1
    if invalid:  # fewer than 3 LFs: the documented ValueError must come
        L, L_new = L[:, : 1 + idx % 2], L_new[:, : 1 + idx % 2]
    n, m = L.shape
    label = f"case {idx} [{kind} n={n} m={m} k={k}]"
    try:
        lm1, rec = _fit(k, L, n_jobs=1)
        if invalid:
            return ("fit", [f"{label}: fitted with fewer than 3 LFs"], L, k)
    except ValueError as exc:
        msg = str(exc)
        return (
            "value_error",
            [] if any(s in msg for s in EXPECTED_ERRORS) else [f"{label}: ValueError {msg}"],
            L,
            k,
        )
    except Exception as exc:
        return ("crash", [f"{label}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"], L, k)
    _check_warnings(rec, label, failures)
    try:
        _check_fit(lm1, L, L_new, k, label + " none", failures)
        P1 = lm1.predict_proba(L)
        lm2, _ = _fit(k, L, n_jobs=2)
        d = float(np.max(np.abs(lm2.predict_proba(L) - P1))) if n else 0.0
        if d > 1e-10:
            failures.append(f"{label}: n_jobs 1 vs 2 differ by {d:.3g}")
        # the statistics in chunks of a third of the rows (a chunk may hold no vote): the same
        # integer counts, so the same fit (EM's sums over the distinct rows may run in another
        # order); predictions in chunks too, so k = 2 within the float32 bound of another batching
        size = max(1, n // 3)
        lm4, _ = _fit(k, L, n_jobs=1, chunk_size=size)
        d = float(np.max(np.abs(lm4.predict_proba(L) - P1))) if n else 0.0
        if d > max(jit_tolerance(lm1, lm4, n), predict_tolerance(lm1)):
            failures.append(f"{label}: chunk_size {size} differs by {d:.3g}")
        path = Path(tmpdir) / "m.json"
        lm1.save(path)
        from tripletws import LabelModel

        lm3 = LabelModel.load(path)
        d = float(np.max(np.abs(lm3.predict_proba(L_new) - lm1.predict_proba(L_new))))
        if d > 1e-12:
            failures.append(f"{label}: save/load differs by {d:.3g}")
        ls, rec_s = _fit(k, L, n_jobs=1, combine="stack")
        _check_warnings(rec_s, label + " stack", failures)
        _check_fit(ls, L, L_new, k, label + " stack", failures)
        ls2, _ = _fit(k, L, n_jobs=2, combine="stack")
        d = float(np.max(np.abs(ls2.predict_proba(L) - ls.predict_proba(L)))) if n else 0.0
        if d > 1e-10:
            failures.append(f"{label}: stack n_jobs 1 vs 2 differ by {d:.3g}")
        ls.save(path)
        ls3 = LabelModel.load(path)
        d = float(np.max(np.abs(ls3.predict_proba(L_new) - ls.predict_proba(L_new))))
        if d > 1e-12:
            failures.append(f"{label}: stack save/load differs by {d:.3g}")
        if do_dask and n:
            import dask.array as da

            for name, model in (("none", lm1), ("stack", ls)):
                Pd = np.asarray(model.predict_proba(da.from_array(L, chunks=(max(1, n // 3), m))))
                d = float(np.max(np.abs(Pd - model.predict_proba(L))))
                if d > predict_tolerance(model):
                    failures.append(f"{label}: dask predict ({name}) differs by {d:.3g}")
        if do_jit:
            os.environ["TRIPLETWS_JIT"] = "0"
            try:
                lmn, _ = _fit(k, L, n_jobs=1)
            finally:
                del os.environ["TRIPLETWS_JIT"]
            _check_fit(lmn, L, L_new, k, label + " numpy", failures)
            same = getattr(lmn, "selection_", None) and getattr(lm1, "selection_", None)
            if same and lmn.selection_.chosen == lm1.selection_.chosen:
                diff = np.abs(lmn.predict_proba(L) - P1).max(axis=1) if n else np.zeros(0)
                tied = tie_break_rows(lm1, L, k) | tie_break_rows(lmn, L, k)
                d = float(diff[~tied].max()) if (~tied).any() else 0.0
                JIT_DIFFS.append(d)
                if d > jit_tolerance(lm1, lmn, n):
                    failures.append(f"{label}: compiled vs numpy differ by {d:.3g} ({lm1.selection_.chosen})")
                d_tied = float(diff[tied].max()) if tied.any() else 0.0
                if d_tied > TIE_FIT_TOLERANCE:
                    failures.append(f"{label}: compiled vs numpy differ by {d_tied:.3g} on tied rows")
    except ValueError as exc:
        failures.append(f"{label}: ValueError after fit: {exc}\n{traceback.format_exc()}")
    except Exception as exc:
        failures.append(f"{label}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    return ("fit", failures, L, k)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="first case index (cases are seeded by index)")
    ap.add_argument("--jit-every", type=int, default=5, help="numpy-EM comparison on every N-th case")
    ap.add_argument("--dask-every", type=int, default=10, help="dask predict on every N-th case (0: never)")
    ap.add_argument("--save-failures", type=Path, default=None, help="folder for failing matrices (.npy)")
    ap.add_argument("--n-range", type=int, nargs=2, default=None, help="draw n uniformly in LO HI")
    ap.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    args = ap.parse_args(argv)
    try:
        import dask.array  # noqa: F401

        have_dask = True
    except ImportError:
        have_dask = False
    clean: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for idx in range(args.start, args.start + args.cases):
            if args.time_budget and time.time() - t0 > args.time_budget:
                break
            rng = np.random.default_rng([args.seed, idx])
            kind = KINDS[idx % len(KINDS)]
            do_jit = args.jit_every > 0 and idx % args.jit_every == 0
            do_dask = have_dask and args.dask_every > 0 and idx % args.dask_every == 0
            outcome, fails, L, k = run_case(rng, kind, idx, do_jit, do_dask, tmp, args.n_range)
            if fails:
                failed[kind] += 1
                for f in fails:
                    print("FAIL", f, flush=True)
                if args.save_failures:
                    args.save_failures.mkdir(parents=True, exist_ok=True)
                    np.save(args.save_failures / f"case{idx}_k{k}.npy", L)
            elif outcome == "value_error":
                refused[kind] += 1
            else:
                clean[kind] += 1
    if JIT_DIFFS:
        q = np.quantile(JIT_DIFFS, [0.5, 0.9, 0.99, 1.0])
        print(
            f"compiled vs numpy EM, {len(JIT_DIFFS)} cases with the same family: max abs posterior "
            f"difference median {q[0]:.2g}, 90% {q[1]:.2g}, 99% {q[2]:.2g}, max {q[3]:.2g}"
        )
    total = sum(clean.values()) + sum(refused.values()) + sum(failed.values())
    print(f"{total} cases in {time.time() - t0:.0f} s (wall)")
    for kind in KINDS:
        print(
            f"  {kind:18s} clean {clean[kind]:5d}  documented ValueError {refused[kind]:4d}"
            f"  failed {failed[kind]:4d}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
