"""Compiled EM of the families that read every abstention as an outcome (numba; imported lazily).

One jitted loop fits a batch of ``"mace_abstain"`` and ``"ds_abstain"`` members of
:func:`tripletws.estimators.annotator._em` on a lean design (the votes only, each row's
abstentions entering through one constant per class: ``_Design``'s ``lean`` encoding), member
after member.  The arithmetic is that of the numpy path at the design's used columns
(``_Tables._step_used``: same updates, same clipping, same stopping rule); only the order of
some sums differs, so results agree to rounding (the tests hold them to 1e-10).  The E-steps are
those of the vote-only kernel (:mod:`tripletws.estimators._em_kernel`: for more than four classes,
three classes' scores a pass over a row's votes, 1.05x on trec's fits; for two, two rows' scores
at a time).  For two to four classes
an LF's expected counts add up over its columns (consecutive: sorted by LF) in local variables and
go into its zeroed row once, the same sums in the same order without a store and a load per column
(3 % of the kernel's CPU on weather_sentiment's fits).  For more classes a column's sums run in one
pass over its rows for all classes (:func:`tripletws.estimators._design_kernel.sums_t`), from the
rows' weighted posteriors stored row-major (as for two to four), instead of one pass per class: the
same products added in the same order (saved models identical), and the default's fit 1.14x faster
on trec (k = 6) and 1.13x on semeval (k = 9) in ``benchmarks/fit_ab.py --rounds 11`` (session 14;
weather_sentiment, k = 3, whose path did not change, came out 1.08x in the same run, as did the
geometric mean over the 15 sets: the A/B's own bias on this host, so the gain is nearer 1.05x).

A ``"mace_abstain"`` member's theta/xi update runs in passes whose inner loops go over the LFs
(its arrays LF-last), each LF's operations in the order of one loop per LF, so the values are
the same and the passes' divisions, products and sums vectorise.  The vote columns that no
counted row gives take their logs once, after the loop (the loop's E-steps never read them),
from the final parameters, which are those of the last step.  Compiled with
``error_model="numpy"``: a float division by zero gives IEEE inf/nan instead of raising, which
removes the check that kept the divisions from vectorising; every division that did not raise
has the same value.

This module imports numba at import time; :mod:`tripletws.estimators.em_jit` imports it lazily
and only when numba is importable and not switched off.
"""

from __future__ import annotations

import numba
import numpy as np

from ._design_kernel import sums_t
from ._em_kernel import _e_step, _e_step2, _e_step3, _e_step4, _finish_lse, free_prior

MACE_ABSTAIN, DS_ABSTAIN = 0, 1


# Over 60 lines: one member's EM loop, its E and M steps sharing the running arrays (as lean_em).
@numba.njit(cache=True, nogil=True, error_model="numpy")
def informative_em(
    indptr: np.ndarray,
    col: np.ndarray,
    col_lf: np.ndarray,
    col_out: np.ndarray,
    m: int,
    k: int,
    fam: np.ndarray,
    counts: np.ndarray,
    q0: np.ndarray,
    free: np.ndarray,
    p0: np.ndarray,
    obs_u: np.ndarray,
    seen_u: np.ndarray,
    max_steps: int,
    tol: float,
    floor: float,
    tiny: float,
    min_class_prob: float,
    slot: np.ndarray,
    tables: np.ndarray,
    p_out: np.ndarray,
    ll_out: np.ndarray,
    steps_out: np.ndarray,
    conv_out: np.ndarray,
    log_norm: np.ndarray,
    soft: np.ndarray,
) -> None:
    """EM for each member ``b`` of a batch, results written into the ``*_out`` arrays.

    Parameters
    ----------
    indptr : int64 (R + 1,)
        Votes of distinct row ``r`` are entries ``indptr[r]:indptr[r + 1]`` of ``col``.
    col : int64 (nnz,)
        Used column (an (LF, outcome) pair) of each vote, in 0..U-1.
    col_lf, col_out : int64 (U,)
        LF and outcome (0: abstain, a: vote a - 1) of each used column, sorted by LF then outcome.
    m, k : int
    fam : int64 (B,)
        ``MACE_ABSTAIN`` or ``DS_ABSTAIN`` per member.
    counts : float64 (B, R)
    q0 : float64 (k, 1 or B, R)
        Starting soft labels.
    free : bool (B,)
        Whether the member estimates its prior (else it keeps ``p0``).
    p0 : float64 (k,)
    obs_u : float64 (B, U)
        Observed count of each used column's outcome in the member's rows.
    seen_u : float64 (B, U)
        1 where a counted row gives the column's outcome or the column is a vote, 0 at an abstain
        column no counted row gives (its expected count is then exactly 0).
    max_steps, tol, floor, tiny, min_class_prob
        As in the numpy path (``EM_TOL``, ``_FLOOR``, ``_TINY``, ``MIN_CLASS_PROB``).
    slot : int64 (B,)
        Where member ``b``'s whole table goes in ``tables`` (-1: not wanted).
    tables : (n_wanted, m, k + 1, k)
        ``P(outcome a | y)``, abstain first, as the numpy path's ``_Tables.table``.
    p_out : (B, k); ll_out : (B,); steps_out : int64 (B,); conv_out : bool (B,)
    log_norm : (B, R)
        log p(row) under the final model.
    soft : (k, B, R)
        P(y | row) under the final model.
    """
    R = indptr.shape[0] - 1
    U = col_lf.shape[0]
    B = counts.shape[0]
    nnz = col.shape[0]
    width = k + 1
    shared_start = q0.shape[1] == 1
    # the votes column by column too (CSC): colptr (U + 1,), the row of each entry
    colptr = np.zeros(U + 1, dtype=np.int64)
    for e in range(nnz):
        colptr[col[e] + 1] += 1
    for u in range(U):
        colptr[u + 1] += colptr[u]
    fill = colptr[:-1].copy()
    crow = np.empty(nnz, dtype=np.int64)
    for r in range(R):
        for e in range(indptr[r], indptr[r + 1]):
            u = col[e]
            crow[fill[u]] = r
            fill[u] += 1
    # position of each (LF, outcome) among the used columns (-1: unused); LF 0's columns
    position = np.full(m * width, -1, dtype=np.int64)
    for u in range(U):
        position[col_lf[u] * width + col_out[u]] = u
    active = np.empty(R, dtype=np.int64)
    bptr = np.empty(U + 1, dtype=np.int64)
    brow = np.empty(nnz, dtype=np.int64)
    spare = np.empty(k)
    zs = np.empty(R)
    obs = np.zeros((m, width))
    kappa = np.zeros((m, k), dtype=np.int64)
    kcol = np.empty((m, k), dtype=np.int64)
    reads = np.zeros(U, dtype=np.int64)  # a mace_abstain member's logs per column (see below)
    theta = np.empty(m)
    # a mace_abstain member's parameters and the update's terms, LF last (the update's passes)
    xt = np.empty((width, m))  # xi(a) of each LF
    xpt = np.empty((width, m))  # its prior counts
    obst = np.empty((width, m))  # the observed outcome counts
    kapt = np.empty((k, m), dtype=np.int64)  # kappa
    rt = np.empty((k, m))  # the count of the column an LF gives when it knows the class
    dn = np.empty((k, m))  # the denominator of theta's share
    kn = np.empty((k, m))  # the expected count of rows where the LF knows the class
    kt = np.empty((width, m))  # those, by the outcome they give
    tots = np.empty(m)
    N = np.zeros((U, k))
    per_lf = np.zeros((m, k))
    T = np.empty((U, k))  # a ds_abstain member's table at the used columns (before the floor)
    labs = np.zeros((m, k))  # per LF and class: log P(abstain | y) (0 for an LF that never abstains)
    lt = np.empty((k, U))  # per class: each used column's log-table less its LF's log P(abstain)
    Ny = np.empty(k)
    wsum = np.empty(k)
    q = np.empty((k, R))
    qc = np.empty((R, k))  # q[y, r] * c[r], row-major (the expected counts' terms)
    NT = np.empty((k, U))  # more than four classes: the columns' sums, class-major (sums_t's layout)
    lse = np.empty(R)
    p = np.empty(k)
    const = np.empty(k)
    for b in range(B):
        f = fam[b]
        c = counts[b]
        total = 0.0
        for r in range(R):
            total += c[r]
        n_active = 0
        for r in range(R):
            if c[r] != 0.0:
                active[n_active] = r
                n_active += 1
        j0 = n_active
        for r in range(R):
            if c[r] == 0.0:
                active[j0] = r
                j0 += 1
        nb = 0
        for u in range(U):
            bptr[u] = nb
            for j in range(colptr[u], colptr[u + 1]):
                r = crow[j]
                if c[r] != 0.0:
                    brow[nb] = r
                    nb += 1
        bptr[U] = nb
        obs[:] = 0.0
        for u in range(U):
            obs[col_lf[u], col_out[u]] = obs_u[b, u]
        if f == MACE_ABSTAIN:
            for i in range(m):
                theta[i] = 0.5
                tot = 0.0
                for a in range(width):
                    tot += obs[i, a] + 1e-3
                for a in range(width):
                    xt[a, i] = (obs[i, a] + 1e-3) / tot
                    xpt[a, i] = (obs[i, a] + 1e-3) / (max(total, 0.0) + 1e-3 * width)
                    obst[a, i] = obs[i, a]
                for y in range(k):
                    # the outcome an LF gives when it knows the class is y: its vote, else abstain
                    kappa[i, y] = y + 1 if obs[i, y + 1] > 0 else 0
                    kapt[y, i] = kappa[i, y]
                    kcol[i, y] = position[i * width + kappa[i, y]]
            # which of a column's two logs its classes read (1: x's, for a class whose kappa is not
            # the column's outcome; 2: x + theta's, for one whose kappa is): the other is not taken
            for u in range(U):
                i = col_lf[u]
                a = col_out[u]
                w = 0
                for y in range(k):
                    w |= 2 if kappa[i, y] == a else 1
                reads[u] = w
        src = 0 if shared_start else b
        for y in range(k):
            p[y] = p0[y]
            w = 0.0
            for r in range(R):
                qy = q0[y, src, r]
                q[y, r] = qy
                w += qy * c[r]
            wsum[y] = w
        prev = -np.inf
        steps = 0
        first = True
        conv = False
        ll = 0.0
        while True:
            # expected counts of the used columns: the votes' sums, then each abstain column as the
            # expected rows less the LF's expected votes (clipped at 0; 0 where no counted row abstains)
            # (each row's weighted posteriors first, row-major, then one pass over a column's rows for
            # all classes; every sum adds the same products in the same order as one pass per class)
            for jj in range(n_active):
                r = active[jj]
                cr = c[r]
                for y in range(k):
                    qc[r, y] = q[y, r] * cr
            per_lf[:] = 0.0
            # an LF's columns are consecutive (sorted by LF): its sums run in locals, added to its
            # zeroed row once (0 + s is s: the values of adding column by column into it)
            cur = -1
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            if k == 2:
                for u in range(U):
                    t0 = 0.0
                    t1 = 0.0
                    for j in range(bptr[u], bptr[u + 1]):
                        r = brow[j]
                        t0 += qc[r, 0]
                        t1 += qc[r, 1]
                    N[u, 0] = t0
                    N[u, 1] = t1
                    i = col_lf[u]
                    if i != cur:
                        if cur >= 0:
                            per_lf[cur, 0] += s0
                            per_lf[cur, 1] += s1
                        cur = i
                        s0 = 0.0
                        s1 = 0.0
                    s0 += t0
                    s1 += t1
                if cur >= 0:
                    per_lf[cur, 0] += s0
                    per_lf[cur, 1] += s1
            elif k == 3:
                for u in range(U):
                    t0 = 0.0
                    t1 = 0.0
                    t2 = 0.0
                    for j in range(bptr[u], bptr[u + 1]):
                        r = brow[j]
                        t0 += qc[r, 0]
                        t1 += qc[r, 1]
                        t2 += qc[r, 2]
                    N[u, 0] = t0
                    N[u, 1] = t1
                    N[u, 2] = t2
                    i = col_lf[u]
                    if i != cur:
                        if cur >= 0:
                            per_lf[cur, 0] += s0
                            per_lf[cur, 1] += s1
                            per_lf[cur, 2] += s2
                        cur = i
                        s0 = 0.0
                        s1 = 0.0
                        s2 = 0.0
                    s0 += t0
                    s1 += t1
                    s2 += t2
                if cur >= 0:
                    per_lf[cur, 0] += s0
                    per_lf[cur, 1] += s1
                    per_lf[cur, 2] += s2
            elif k == 4:
                for u in range(U):
                    t0 = 0.0
                    t1 = 0.0
                    t2 = 0.0
                    t3 = 0.0
                    for j in range(bptr[u], bptr[u + 1]):
                        r = brow[j]
                        t0 += qc[r, 0]
                        t1 += qc[r, 1]
                        t2 += qc[r, 2]
                        t3 += qc[r, 3]
                    N[u, 0] = t0
                    N[u, 1] = t1
                    N[u, 2] = t2
                    N[u, 3] = t3
                    i = col_lf[u]
                    if i != cur:
                        if cur >= 0:
                            per_lf[cur, 0] += s0
                            per_lf[cur, 1] += s1
                            per_lf[cur, 2] += s2
                            per_lf[cur, 3] += s3
                        cur = i
                        s0 = 0.0
                        s1 = 0.0
                        s2 = 0.0
                        s3 = 0.0
                    s0 += t0
                    s1 += t1
                    s2 += t2
                    s3 += t3
                if cur >= 0:
                    per_lf[cur, 0] += s0
                    per_lf[cur, 1] += s1
                    per_lf[cur, 2] += s2
                    per_lf[cur, 3] += s3
            else:
                # one pass over a column's rows for all classes (the design kernel's sums over a CSR
                # row's entries: the same products, added in the same order, as one pass per class)
                sums_t(bptr, brow, qc, NT)
                for u in range(U):
                    i = col_lf[u]
                    for y in range(k):
                        N[u, y] = NT[y, u]
                        per_lf[i, y] += NT[y, u]
            for u in range(U):
                if col_out[u] == 0:
                    i = col_lf[u]
                    for y in range(k):
                        N[u, y] = max(wsum[y] - per_lf[i, y], 0.0) * seen_u[b, u]
            if free[b]:
                free_prior(wsum, total, min_class_prob, k, p)
            if f == DS_ABSTAIN:
                for y in range(k):
                    Ny[y] = 0.0
                for u in range(U):
                    if col_lf[u] == 0:
                        for y in range(k):
                            Ny[y] += N[u, y]
                # the abstain columns first (their logs: the constant, and what each vote's gain is
                # over), then the votes' gains; an LF that never abstains keeps labs 0
                for y in range(k):
                    const[y] = np.log(p[y])
                for u in range(U):
                    if col_out[u] == 0:
                        i = col_lf[u]
                        fu = obs_u[b, u] / total
                        for y in range(k):
                            t = min((N[u, y] + fu) / (Ny[y] + 1.0), 1.0)  # (the numpy path's bound)
                            T[u, y] = t
                            la = np.log(max(t, tiny))
                            labs[i, y] = la
                            const[y] += la
                            lt[y, u] = 0.0
                for u in range(U):
                    if col_out[u] != 0:
                        i = col_lf[u]
                        fu = obs_u[b, u] / total
                        for y in range(k):
                            t = min((N[u, y] + fu) / (Ny[y] + 1.0), 1.0)  # (the numpy path's bound)
                            T[u, y] = t
                            if bptr[u + 1] > bptr[u]:  # (a column no counted row votes: after the loop)
                                lt[y, u] = np.log(max(t, tiny)) - labs[i, y]
            else:
                for _ in range(3 if first else 1):
                    # LF by LF as before (each LF's arithmetic in the same order, so the same values),
                    # in passes whose inner loops run over the LFs, so that their sums, products and
                    # divisions vectorise
                    for y in range(k):
                        for i in range(m):
                            th = theta[i]
                            kc = kcol[i, y]
                            rt[y, i] = N[kc, y] if kc >= 0 else 0.0
                            dn[y, i] = max(th + (1.0 - th) * xt[kappa[i, y], i], tiny)
                    for i in range(m):
                        tots[i] = 0.0
                    for y in range(k):
                        kn_y = kn[y]
                        rt_y = rt[y]
                        dn_y = dn[y]
                        for i in range(m):
                            kn_y[i] = rt_y[i] * (theta[i] / dn_y[i])
                        for i in range(m):
                            tots[i] += kn_y[i]
                    for i in range(m):
                        theta[i] = min(max((tots[i] + 1.0) / (total + 2.0), floor), 1.0 - floor)
                    known0 = kt[0]
                    for i in range(m):
                        known0[i] = 0.0
                    for y in range(k):
                        kn_y = kn[y]
                        kap_y = kapt[y]
                        known_y = kt[y + 1]
                        for i in range(m):
                            if kap_y[i] > 0:
                                known_y[i] = kn_y[i]
                            else:
                                known_y[i] = 0.0
                                known0[i] += kn_y[i]
                    for i in range(m):
                        tots[i] = 0.0
                    for a in range(width):
                        xt_a = xt[a]
                        obs_a = obst[a]
                        prior_a = xpt[a]
                        known_a = kt[a]
                        for i in range(m):
                            rest = max(obs_a[i] - known_a[i], 0.0) + prior_a[i]
                            xt_a[i] = rest
                            tots[i] += rest
                    for a in range(width):
                        xt_a = xt[a]
                        for i in range(m):
                            xt_a[i] /= tots[i]
                # a column's table has two values, x = (1 - theta) xi(a) and x + theta (on the classes
                # whose kappa is a): two logs, not k; the abstain columns first, as for ds_abstain
                for y in range(k):
                    const[y] = np.log(p[y])
                for u in range(U):
                    if col_out[u] == 0:
                        i = col_lf[u]
                        x = (1.0 - theta[i]) * xt[0, i]
                        lx = np.log(max(x, tiny)) if reads[u] & 1 else 0.0
                        lxt = np.log(max(x + theta[i], tiny)) if reads[u] & 2 else 0.0
                        for y in range(k):
                            la = lxt if kappa[i, y] == 0 else lx
                            labs[i, y] = la
                            const[y] += la
                            lt[y, u] = 0.0
                for u in range(U):
                    a = col_out[u]
                    if a != 0 and bptr[u + 1] > bptr[u]:
                        i = col_lf[u]
                        x = (1.0 - theta[i]) * xt[a, i]
                        lx = np.log(max(x, tiny)) if reads[u] & 1 else 0.0
                        lxt = np.log(max(x + theta[i], tiny)) if reads[u] & 2 else 0.0
                        for y in range(k):
                            lt[y, u] = (lxt if kappa[i, y] == a else lx) - labs[i, y]
            first = False
            wsum[:] = 0.0
            if k == 2:
                ll = _e_step2(active[:n_active], indptr, col, lt, const, q, lse, c, wsum, zs)
            elif k == 3:
                ll = _e_step3(active[:n_active], indptr, col, lt, const, q, lse, c, wsum, zs)
            elif k == 4:
                ll = _e_step4(active[:n_active], indptr, col, lt, const, q, lse, c, wsum, zs)
            else:
                ll = _e_step(active[:n_active], indptr, col, lt, const, q, lse, c, wsum, zs)
            ll /= total
            steps += 1
            conv = ll - prev < tol
            if conv or steps >= max_steps:
                break
            prev = ll
        if n_active < R:
            # the logs of the vote columns that no counted row gives (the loop's E-steps never read
            # them), from the final parameters: the values the last step would have taken
            for u in range(U):
                a = col_out[u]
                if a != 0 and bptr[u + 1] == bptr[u]:
                    i = col_lf[u]
                    if f == DS_ABSTAIN:
                        for y in range(k):
                            lt[y, u] = np.log(max(T[u, y], tiny)) - labs[i, y]
                    else:
                        x = (1.0 - theta[i]) * xt[a, i]
                        lx = np.log(max(x, tiny)) if reads[u] & 1 else 0.0
                        lxt = np.log(max(x + theta[i], tiny)) if reads[u] & 2 else 0.0
                        for y in range(k):
                            lt[y, u] = (lxt if kappa[i, y] == a else lx) - labs[i, y]
            _e_step(active[n_active:], indptr, col, lt, const, q, lse, c, spare, zs)
        _finish_lse(lse, zs)
        for y in range(k):
            p_out[b, y] = p[y]
            for r in range(R):
                soft[y, b, r] = q[y, r]
        for r in range(R):
            log_norm[b, r] = lse[r]
        j = slot[b]
        if j >= 0:
            if f == DS_ABSTAIN:
                tables[j] = 0.0
                for u in range(U):
                    for y in range(k):
                        tables[j, col_lf[u], col_out[u], y] = T[u, y]
            else:
                for i in range(m):
                    for a in range(width):
                        x = (1.0 - theta[i]) * xt[a, i]
                        for y in range(k):
                            tables[j, i, a, y] = x + theta[i] if kappa[i, y] == a else x
        ll_out[b] = ll
        steps_out[b] = steps
        conv_out[b] = conv
