"""Compiled EM of the default's candidate families (numba; imported only when numba is present).

One jitted loop fits a batch of members of :func:`tripletws.estimators.annotator._em` in the
families ``"mv"``, ``"one_coin"`` and ``"mace"`` (vote-only reading), member after member,
over the sparse vote list of the distinct rows.  The arithmetic is that of the numpy path
(same updates, same clipping, same stopping rule); only the order of some sums differs, so
results agree to rounding (about 1e-13 here, checked against 1e-10 by the tests).  Members of
two to four classes run E-steps with a row's scores and posteriors in local variables
(:func:`_e_step2`, :func:`_e_step3`, :func:`_e_step4`: the operations of :func:`_e_step` in its
order, 10-20 % faster on the shared sets; :func:`_e_step2` sums two rows' scores at a time);
:func:`_e_step` adds the scores of three classes per pass
over a row's votes (two before: trec's informative fits 1.05x faster, the same sums).  A
``"mace"`` member's theta/xi update runs in passes
over the LFs (each LF's operations in their order: the same values; the passes vectorise), and
the columns no counted row gives take their logs once, after the loop.  Compiled with
``error_model="numpy"`` (a division by zero gives inf/nan instead of raising; no check in the
divisions, which can then vectorise).

This module imports numba at import time; :mod:`tripletws.estimators.em_jit` imports it
lazily and only when numba is importable and not switched off.
"""

from __future__ import annotations

import numba
import numpy as np

MV, ONE_COIN, MACE = 0, 1, 2


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _e_step(
    rows: np.ndarray,
    indptr: np.ndarray,
    col: np.ndarray,
    lt: np.ndarray,
    const: np.ndarray,
    q: np.ndarray,
    lse: np.ndarray,
    c: np.ndarray,
    wsum: np.ndarray,
    zs: np.ndarray,
) -> float:
    """E-step on the listed ``rows``: posteriors into ``q`` (k, R).

    A row's score for class y is ``const[y]`` plus the sum of ``lt[y, u]`` over its votes' used
    columns u; its log-normaliser is ``log(zs[r]) + lse[r]`` (the top score goes to ``lse``, the
    normaliser of the exponentials to ``zs``: :func:`_finish_lse` takes the logs, for the final
    model only).  Adds ``c[r] q[:, r]`` into ``wsum`` and returns ``sum_r c[r] log p(row r)``:
    the logs of the normalisers of rows counted a few whole times (most rows) come from one log
    of their product (the same value to rounding, without a log per row and step).
    """
    k = q.shape[0]
    # three classes per pass over a row's votes: three independent chains of additions (then a pair
    # or one class for the rest)
    y0 = 0
    while y0 + 3 <= k:
        for r in rows:
            t0 = 0.0
            t1 = 0.0
            t2 = 0.0
            for e in range(indptr[r], indptr[r + 1]):
                u = col[e]
                t0 += lt[y0, u]
                t1 += lt[y0 + 1, u]
                t2 += lt[y0 + 2, u]
            q[y0, r] = t0 + const[y0]
            q[y0 + 1, r] = t1 + const[y0 + 1]
            q[y0 + 2, r] = t2 + const[y0 + 2]
        y0 += 3
    if k - y0 == 2:
        for r in rows:
            t0 = 0.0
            t1 = 0.0
            for e in range(indptr[r], indptr[r + 1]):
                u = col[e]
                t0 += lt[y0, u]
                t1 += lt[y0 + 1, u]
            q[y0, r] = t0 + const[y0]
            q[y0 + 1, r] = t1 + const[y0 + 1]
    elif k - y0 == 1:
        for r in rows:
            t0 = 0.0
            for e in range(indptr[r], indptr[r + 1]):
                t0 += lt[y0, col[e]]
            q[y0, r] = t0 + const[y0]
    ll = 0.0
    prod = 1.0  # product of z ** c over rows with a whole count 1..16 (z <= k <= 1000: no overflow)
    few = k <= 1000
    for r in rows:
        top = q[0, r]
        for y in range(1, k):
            top = max(top, q[y, r])
        z = 0.0
        for y in range(k):
            # exp(0) = 1 and exp(below -746) = 0 exactly: no call (libm's underflow path is slow)
            d = q[y, r] - top
            ex = 1.0 if d == 0.0 else (0.0 if d < -746.0 else np.exp(d))
            q[y, r] = ex
            z += ex
        cr = c[r]
        for y in range(k):
            qy = q[y, r] / z
            q[y, r] = qy
            wsum[y] += qy * cr
        lse[r] = top
        zs[r] = z
        ll += cr * top
        if few and 1.0 <= cr <= 16.0 and cr == np.floor(cr):
            for _ in range(int(cr)):
                prod *= z
            if prod > 1e200:
                ll += np.log(prod)
                prod = 1.0
        else:
            ll += cr * np.log(z)
    return ll + np.log(prod)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _e_step2(
    rows: np.ndarray,
    indptr: np.ndarray,
    col: np.ndarray,
    lt: np.ndarray,
    const: np.ndarray,
    q: np.ndarray,
    lse: np.ndarray,
    c: np.ndarray,
    wsum: np.ndarray,
    zs: np.ndarray,
) -> float:
    """:func:`_e_step` for two classes, a row's scores, exponentials and posteriors in local
    variables (the same operations in the same order: the same values, with fewer loads and stores).

    The scores are summed two rows at a time (four chains of additions instead of two, each row's in
    its order: the same sums), then stored and read back by the row's pass: 1.05x on
    sentiment_popularity's fits (20 votes a row).
    """
    # the scores two rows at a time (four independent chains of additions, each row's in its order),
    # into q; then row by row as before
    n = len(rows)
    for j in range(0, n - 1, 2):
        ra = rows[j]
        rb = rows[j + 1]
        ea = indptr[ra]
        la = indptr[ra + 1] - ea
        eb = indptr[rb]
        lb = indptr[rb + 1] - eb
        a0 = 0.0
        a1 = 0.0
        b0 = 0.0
        b1 = 0.0
        both = min(la, lb)
        for t in range(both):
            u = col[ea + t]
            v = col[eb + t]
            a0 += lt[0, u]
            a1 += lt[1, u]
            b0 += lt[0, v]
            b1 += lt[1, v]
        for t in range(both, la):
            u = col[ea + t]
            a0 += lt[0, u]
            a1 += lt[1, u]
        for t in range(both, lb):
            v = col[eb + t]
            b0 += lt[0, v]
            b1 += lt[1, v]
        q[0, ra] = a0 + const[0]
        q[1, ra] = a1 + const[1]
        q[0, rb] = b0 + const[0]
        q[1, rb] = b1 + const[1]
    if n % 2 == 1:
        r = rows[n - 1]
        t0 = 0.0
        t1 = 0.0
        for e in range(indptr[r], indptr[r + 1]):
            u = col[e]
            t0 += lt[0, u]
            t1 += lt[1, u]
        q[0, r] = t0 + const[0]
        q[1, r] = t1 + const[1]
    ll = 0.0
    prod = 1.0
    w0 = 0.0
    w1 = 0.0
    for r in rows:
        s0 = q[0, r]
        s1 = q[1, r]
        top = max(s0, s1)
        d0 = s0 - top
        d1 = s1 - top
        e0 = 1.0 if d0 == 0.0 else (0.0 if d0 < -746.0 else np.exp(d0))
        e1 = 1.0 if d1 == 0.0 else (0.0 if d1 < -746.0 else np.exp(d1))
        z = e0 + e1
        cr = c[r]
        q0 = e0 / z
        q1 = e1 / z
        q[0, r] = q0
        q[1, r] = q1
        w0 += q0 * cr
        w1 += q1 * cr
        lse[r] = top
        zs[r] = z
        ll += cr * top
        if 1.0 <= cr <= 16.0 and cr == np.floor(cr):
            for _ in range(int(cr)):
                prod *= z
            if prod > 1e200:
                ll += np.log(prod)
                prod = 1.0
        else:
            ll += cr * np.log(z)
    wsum[0] += w0
    wsum[1] += w1
    return ll + np.log(prod)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _e_step3(
    rows: np.ndarray,
    indptr: np.ndarray,
    col: np.ndarray,
    lt: np.ndarray,
    const: np.ndarray,
    q: np.ndarray,
    lse: np.ndarray,
    c: np.ndarray,
    wsum: np.ndarray,
    zs: np.ndarray,
) -> float:
    """:func:`_e_step` for three classes in local variables (as :func:`_e_step2`: the same values)."""
    ll = 0.0
    prod = 1.0
    w0 = 0.0
    w1 = 0.0
    w2 = 0.0
    for r in rows:
        t0 = 0.0
        t1 = 0.0
        t2 = 0.0
        for e in range(indptr[r], indptr[r + 1]):
            u = col[e]
            t0 += lt[0, u]
            t1 += lt[1, u]
            t2 += lt[2, u]
        s0 = t0 + const[0]
        s1 = t1 + const[1]
        s2 = t2 + const[2]
        top = max(max(s0, s1), s2)
        d = s0 - top
        e0 = 1.0 if d == 0.0 else (0.0 if d < -746.0 else np.exp(d))
        d = s1 - top
        e1 = 1.0 if d == 0.0 else (0.0 if d < -746.0 else np.exp(d))
        d = s2 - top
        e2 = 1.0 if d == 0.0 else (0.0 if d < -746.0 else np.exp(d))
        z = e0 + e1
        z += e2
        cr = c[r]
        x = e0 / z
        q[0, r] = x
        w0 += x * cr
        x = e1 / z
        q[1, r] = x
        w1 += x * cr
        x = e2 / z
        q[2, r] = x
        w2 += x * cr
        lse[r] = top
        zs[r] = z
        ll += cr * top
        if 1.0 <= cr <= 16.0 and cr == np.floor(cr):
            for _ in range(int(cr)):
                prod *= z
            if prod > 1e200:
                ll += np.log(prod)
                prod = 1.0
        else:
            ll += cr * np.log(z)
    wsum[0] += w0
    wsum[1] += w1
    wsum[2] += w2
    return ll + np.log(prod)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _e_step4(
    rows: np.ndarray,
    indptr: np.ndarray,
    col: np.ndarray,
    lt: np.ndarray,
    const: np.ndarray,
    q: np.ndarray,
    lse: np.ndarray,
    c: np.ndarray,
    wsum: np.ndarray,
    zs: np.ndarray,
) -> float:
    """:func:`_e_step` for four classes in local variables (as :func:`_e_step2`: the same values)."""
    ll = 0.0
    prod = 1.0
    w0 = 0.0
    w1 = 0.0
    w2 = 0.0
    w3 = 0.0
    for r in rows:
        t0 = 0.0
        t1 = 0.0
        t2 = 0.0
        t3 = 0.0
        for e in range(indptr[r], indptr[r + 1]):
            u = col[e]
            t0 += lt[0, u]
            t1 += lt[1, u]
            t2 += lt[2, u]
            t3 += lt[3, u]
        s0 = t0 + const[0]
        s1 = t1 + const[1]
        s2 = t2 + const[2]
        s3 = t3 + const[3]
        top = max(max(max(s0, s1), s2), s3)
        d = s0 - top
        e0 = 1.0 if d == 0.0 else (0.0 if d < -746.0 else np.exp(d))
        d = s1 - top
        e1 = 1.0 if d == 0.0 else (0.0 if d < -746.0 else np.exp(d))
        d = s2 - top
        e2 = 1.0 if d == 0.0 else (0.0 if d < -746.0 else np.exp(d))
        d = s3 - top
        e3 = 1.0 if d == 0.0 else (0.0 if d < -746.0 else np.exp(d))
        z = e0 + e1
        z += e2
        z += e3
        cr = c[r]
        x = e0 / z
        q[0, r] = x
        w0 += x * cr
        x = e1 / z
        q[1, r] = x
        w1 += x * cr
        x = e2 / z
        q[2, r] = x
        w2 += x * cr
        x = e3 / z
        q[3, r] = x
        w3 += x * cr
        lse[r] = top
        zs[r] = z
        ll += cr * top
        if 1.0 <= cr <= 16.0 and cr == np.floor(cr):
            for _ in range(int(cr)):
                prod *= z
            if prod > 1e200:
                ll += np.log(prod)
                prod = 1.0
        else:
            ll += cr * np.log(z)
    wsum[0] += w0
    wsum[1] += w1
    wsum[2] += w2
    wsum[3] += w3
    return ll + np.log(prod)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def free_prior(wsum: np.ndarray, total: float, min_class_prob: float, n: int, p: np.ndarray) -> None:
    """The M-step of a free prior over the first ``n`` classes, into ``p``: the expected rows per
    class ``wsum`` over ``total``, floored at ``min_class_prob``, renormalised."""
    z = 0.0
    for y in range(n):
        p[y] = max(wsum[y] / total, min_class_prob)
        z += p[y]
    for y in range(n):
        p[y] /= z


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _finish_lse(lse: np.ndarray, zs: np.ndarray) -> None:
    """``lse[r] = log(zs[r]) + lse[r]``: the rows' log-normalisers under the final model."""
    for r in range(lse.shape[0]):
        lse[r] = np.log(zs[r]) + lse[r]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def eb_prior(
    tots: np.ndarray, var: np.ndarray, n_i: np.ndarray, m: int, s_min: float, s_max: float, floor: float
) -> tuple[float, float]:
    """The numpy path's ``eb_strength`` for one member: ``(mu, s)`` from (m,) expected counts
    ``tots`` and their posterior variances ``var`` (zeros: the expected counts' spread only)."""
    N = 0.0
    K = 0.0
    Q = 0.0
    M = 0.0
    for i in range(m):
        N += n_i[i]
        K += tots[i]
        Q += n_i[i] * n_i[i]
        if n_i[i] > 0:
            M += 1.0
    safe_N = max(N, 1e-300)
    mu = min(max(K / safe_N, floor), 1.0 - floor)
    S = 0.0
    for i in range(m):
        if n_i[i] > 0:
            d = tots[i] - mu * n_i[i]
            S += (d * d + var[i]) / n_i[i]
    den = N - Q / safe_N - (M - 1.0)
    rho = 1.0
    if den > 0:
        rho = (S / (mu * (1.0 - mu)) - (M - 1.0)) / den
    if rho <= 1.0 / (s_max + 1.0):
        s = s_max
    else:
        s = 1.0 / max(rho, 1e-300) - 1.0
    return mu, min(max(s, s_min), s_max)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def lean_em(
    indptr: np.ndarray,
    col: np.ndarray,
    col_lf: np.ndarray,
    col_vote: np.ndarray,
    m: int,
    k: int,
    fam: np.ndarray,
    counts: np.ndarray,
    q0: np.ndarray,
    free: np.ndarray,
    p0: np.ndarray,
    max_steps: int,
    tol: float,
    floor: float,
    tiny: float,
    min_class_prob: float,
    eb_s_min: float,
    eb_s_max: float,
    eb_var: bool,
    eb_fixed: bool,
    slot: np.ndarray,
    tables: np.ndarray,
    p_out: np.ndarray,
    acc_out: np.ndarray,
    theta_out: np.ndarray,
    xi_out: np.ndarray,
    cov_out: np.ndarray,
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
        Used column (an (LF, vote) pair) of each vote, in 0..U-1.
    col_lf, col_vote : int64 (U,)
        LF and voted class of each used column.
    m, k : int
    fam : int64 (B,)
        ``MV``, ``ONE_COIN`` or ``MACE`` per member.
    counts : float64 (B, R)
    q0 : float64 (k, 1 or B, R)
        Starting soft labels.
    free : bool (B,)
        Whether the member estimates its prior (else it keeps ``p0``).
    p0 : float64 (k,)
    max_steps, tol, floor, tiny, min_class_prob
        As in the numpy path (``EM_TOL``, ``_FLOOR``, ``_TINY``, ``MIN_CLASS_PROB``).
    eb_s_min, eb_s_max : float
        ``MACE_EB_S`` when ``MACE_EB`` is on (theta's empirical-Bayes prior, :func:`eb_prior`);
        ``eb_s_max <= 0``: off, the uniform prior.
    eb_var : bool
        ``MACE_EB_VAR``: the spread on the complete-data counts (sums of ``count * q^2`` per column).
    eb_fixed : bool
        ``MACE_EB_FIXED``: ``mu`` and ``s`` from the first M-step, kept for the member's fit.
    slot : int64 (B,)
        Where member ``b``'s whole table goes in ``tables`` (-1: not wanted).
    tables : (n_wanted, m, k + 1, k)
        ``P(outcome a | y)``, abstain first: ``1 - c_i`` and ``c_i P(vote a - 1 | y, votes)``,
        the numpy path's ``_full_table`` of ``_Tables.table`` (the same operations).
    p_out : (B, k); acc_out, theta_out, cov_out : (B, m); xi_out : (B, k, m)
        Final prior, accuracies (mv, one_coin), MACE's theta and xi, coverage.
    ll_out : (B,); steps_out : int64 (B,); conv_out : bool (B,)
    log_norm : (B, R)
        log p(row) under the final model.
    soft : (k, B, R)
        P(y | row) under the final model.
    """
    R = indptr.shape[0] - 1
    U = col_lf.shape[0]
    B = counts.shape[0]
    nnz = col.shape[0]
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
    active = np.empty(R, dtype=np.int64)
    bptr = np.empty(U + 1, dtype=np.int64)
    brow = np.empty(nnz, dtype=np.int64)
    spare = np.empty(k)
    zs = np.empty(R)
    obs = np.zeros((k, m))
    n_i = np.empty(m)
    log_odds = np.empty(m)
    right = np.zeros((k, m))
    right2 = np.zeros((k, m))  # sum count * q^2 per used column (MACE_EB_VAR)
    kvar = np.zeros(m)
    kn = np.empty((k, m))  # MACE: the expected count of rows where the LF knows the class
    tots = np.empty(m)
    theta = np.empty(m)
    xi = np.empty((k, m))
    xi_prior = np.empty((k, m))
    acc = np.zeros(m)
    lf_on = np.empty(m)
    lf_off = np.empty(m)
    lt = np.empty((k, U))  # log-table of the used columns per class (+ coverage log-odds)
    wsum = np.empty(k)
    q = np.empty((k, R))
    lse = np.empty(R)
    p = np.empty(k)
    const = np.empty(k)
    for b in range(B):
        f = fam[b]
        c = counts[b]
        total = 0.0
        for r in range(R):
            total += c[r]
        # rows with a count first (the E-step's), then those without; the column lists of the former
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
        obs[:] = 0.0
        nb = 0
        for u in range(U):
            bptr[u] = nb
            t = 0.0
            for j in range(colptr[u], colptr[u + 1]):
                r = crow[j]
                if c[r] != 0.0:
                    brow[nb] = r
                    nb += 1
                    t += c[r]
            obs[col_vote[u], col_lf[u]] = t
        bptr[U] = nb
        log_abstain = 0.0
        pooled = 2.0
        for i in range(m):
            n = 0.0
            for a in range(k):
                n += obs[a, i]
            n_i[i] = n
            pooled += n
            cv = min(max(n / total, floor), 1.0 - floor)
            cov_out[b, i] = cv
            log_odds[i] = np.log(cv) - np.log1p(-cv)
            log_abstain += np.log1p(-cv)
        if f == MACE:
            for i in range(m):
                theta[i] = 0.5
                tot = 0.0
                for a in range(k):
                    tot += obs[a, i] + 1e-3
                for a in range(k):
                    xi[a, i] = (obs[a, i] + 1e-3) / tot
                    xi_prior[a, i] = (obs[a, i] + 1e-3) / (max(n_i[i], 0.0) + 1e-3 * k)
        src = 0 if shared_start else b
        for y in range(k):
            p[y] = p0[y]
            w = 0.0
            for r in range(R):
                qy = q0[y, src, r]
                q[y, r] = qy
                w += qy * c[r]
            wsum[y] = w
        right[:] = 0.0
        eb_set = False
        mu = 0.5
        s_eb = 2.0
        prev = -np.inf
        steps = 0
        first = True
        conv = False
        ll = 0.0
        while True:
            # expected votes for the class voted under q: one sum per used column
            # (two running sums, even and odd entries: halves the chain of dependent additions)
            for u in range(U):
                a = col_vote[u]
                t0 = 0.0
                t1 = 0.0
                lo, hi = bptr[u], bptr[u + 1]
                for j in range(lo, hi - 1, 2):
                    r0 = brow[j]
                    r1 = brow[j + 1]
                    t0 += q[a, r0] * c[r0]
                    t1 += q[a, r1] * c[r1]
                if (hi - lo) % 2 == 1:
                    r0 = brow[hi - 1]
                    t0 += q[a, r0] * c[r0]
                right[a, col_lf[u]] = t0 + t1
            if eb_var and f == MACE:
                for u in range(U):
                    a = col_vote[u]
                    t2 = 0.0
                    for j in range(bptr[u], bptr[u + 1]):
                        r0 = brow[j]
                        t2 += q[a, r0] * q[a, r0] * c[r0]
                    right2[a, col_lf[u]] = t2
            if free[b]:
                free_prior(wsum, total, min_class_prob, k, p)
            for y in range(k):
                const[y] = np.log(p[y]) + log_abstain
            # M-step: log P(vote a | y, votes) + coverage log-odds at each used column
            if f == MV or f == ONE_COIN:
                if f == MV:
                    tot = 0.0
                    for i in range(m):
                        for a in range(k):
                            tot += right[a, i]
                    shared = min(max((tot + 1.0) / pooled, floor), 1.0 - floor)
                    for i in range(m):
                        acc[i] = shared
                else:
                    for i in range(m):
                        tot = 0.0
                        for a in range(k):
                            tot += right[a, i]
                        acc[i] = min(max((tot + 1.0) / (n_i[i] + 2.0), floor), 1.0 - floor)
                for i in range(m):
                    lf_on[i] = np.log(acc[i]) + log_odds[i]
                    lf_off[i] = np.log((1.0 - acc[i]) / (k - 1)) + log_odds[i]
                for u in range(U):
                    i = col_lf[u]
                    for y in range(k):
                        lt[y, u] = lf_off[i]
                    lt[col_vote[u], u] = lf_on[i]
            else:
                for _ in range(3 if first else 1):
                    # LF by LF (each LF's arithmetic in the same order as one loop per LF, so the
                    # same values), in passes whose inner loops run over the LFs and vectorise
                    for i in range(m):
                        tots[i] = 0.0
                    for a in range(k):
                        kn_a = kn[a]
                        right_a = right[a]
                        xi_a = xi[a]
                        for i in range(m):
                            th = theta[i]
                            kn_a[i] = right_a[i] * (th / max(th + (1.0 - th) * xi_a[i], tiny))
                        for i in range(m):
                            tots[i] += kn_a[i]
                    if eb_s_max > 0:
                        for i in range(m):
                            kvar[i] = 0.0
                        if eb_var:
                            # a vote's P(knows | row) is p = q share: the count's variance sum p (1 - p)
                            for a in range(k):
                                for i in range(m):
                                    th = theta[i]
                                    sh = th / max(th + (1.0 - th) * xi[a, i], tiny)
                                    kvar[i] += kn[a, i] - right2[a, i] * sh * sh
                        if not (eb_fixed and eb_set):
                            mu, s_eb = eb_prior(tots, kvar, n_i, m, eb_s_min, eb_s_max, floor)
                            eb_set = True
                        for i in range(m):
                            theta[i] = min(max((tots[i] + s_eb * mu) / (n_i[i] + s_eb), floor), 1.0 - floor)
                    else:
                        for i in range(m):
                            theta[i] = min(max((tots[i] + 1.0) / (n_i[i] + 2.0), floor), 1.0 - floor)
                    for i in range(m):
                        tots[i] = 0.0
                    for a in range(k):
                        kn_a = kn[a]
                        obs_a = obs[a]
                        prior_a = xi_prior[a]
                        xi_a = xi[a]
                        for i in range(m):
                            rest = max(obs_a[i] - kn_a[i], 0.0) + prior_a[i]
                            xi_a[i] = rest
                            tots[i] += rest
                    for a in range(k):
                        xi_a = xi[a]
                        for i in range(m):
                            xi_a[i] /= tots[i]
                for u in range(U):
                    if bptr[u + 1] == bptr[u]:  # no counted row gives the vote: after the loop
                        continue
                    i = col_lf[u]
                    a = col_vote[u]
                    th = theta[i]
                    x = (1.0 - th) * xi[a, i]
                    lx = np.log(x) + log_odds[i]
                    for y in range(k):
                        lt[y, u] = lx
                    lt[a, u] = np.log(x + th) + log_odds[i]
            first = False
            # E-step on the rows the member counts (a row of count 0, held out, weighs nothing in
            # the M-step and the likelihood: its posterior is needed for the final model only)
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
            if f == MACE:
                # the logs of the columns no counted row gives (the loop's E-steps never read them),
                # from the final parameters: the values the last step would have taken
                for u in range(U):
                    if bptr[u + 1] == bptr[u]:
                        i = col_lf[u]
                        a = col_vote[u]
                        th = theta[i]
                        x = (1.0 - th) * xi[a, i]
                        lx = np.log(x) + log_odds[i]
                        for y in range(k):
                            lt[y, u] = lx
                        lt[a, u] = np.log(x + th) + log_odds[i]
            _e_step(active[n_active:], indptr, col, lt, const, q, lse, c, spare, zs)
        _finish_lse(lse, zs)
        for y in range(k):
            p_out[b, y] = p[y]
            for r in range(R):
                soft[y, b, r] = q[y, r]
        for i in range(m):
            acc_out[b, i] = acc[i]
            theta_out[b, i] = theta[i]
            for a in range(k):
                xi_out[b, a, i] = xi[a, i]
        for r in range(R):
            log_norm[b, r] = lse[r]
        j = slot[b]
        if j >= 0:
            for i in range(m):
                cv = cov_out[b, i]
                for y in range(k):
                    tables[j, i, 0, y] = 1.0 - cv
                for a in range(k):
                    if f == MACE:
                        x = (1.0 - theta[i]) * xi[a, i]
                        for y in range(k):
                            tables[j, i, a + 1, y] = cv * (x + (theta[i] if a == y else 0.0))
                    else:
                        for y in range(k):
                            v = acc[i] if a == y else (1.0 - acc[i]) / (k - 1)
                            tables[j, i, a + 1, y] = cv * v
        ll_out[b] = ll
        steps_out[b] = steps
        conv_out[b] = conv


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _mix(x: np.uint64) -> np.uint64:
    """splitmix64's finaliser (wrapping uint64 arithmetic), as ``heldout._mix``."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _fingerprints(
    r: np.ndarray, i: np.ndarray, a: np.ndarray, whole: np.ndarray, m: int, k: int, seed: np.uint64
) -> tuple[np.ndarray, np.ndarray]:
    """The columns' and the classes' fingerprints of ``heldout._fingerprints``, bit for bit (the
    counts are whole numbers, whose float64 sums are exact in any order)."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    hist = np.zeros((m, k))
    for e in range(r.shape[0]):
        hist[i[e], a[e]] += whole[r[e]]
    total = 0.0
    for row in range(whole.shape[0]):
        total += whole[row]
    hist_bits = hist.view(np.uint64)
    ordered = np.empty(k)
    ordered_bits = ordered.view(np.uint64)
    abstained = np.empty(1)
    abstained_bits = abstained.view(np.uint64)
    fp = np.empty(m, dtype=np.uint64)
    cf = np.zeros(k, dtype=np.uint64)
    for j in range(m):
        voted = 0.0
        for c in range(k):
            voted += hist[j, c]
            ordered[c] = hist[j, c]
        abstained[0] = total - voted
        ordered.sort()
        x = _mix(_mix(seed ^ golden) ^ abstained_bits[0])
        for c in range(k):
            x = _mix(x ^ ordered_bits[c])
        fp[j] = x
        for c in range(k):
            cf[c] += _mix(x ^ hist_bits[j, c])
    for c in range(k):
        cf[c] = _mix(cf[c] + golden)
    return fp, cf


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _grouped_sums(
    r: np.ndarray, i: np.ndarray, a: np.ndarray, R: int, fp: np.ndarray, cf: np.ndarray
) -> np.ndarray:
    """``heldout._grouped_sums``: per row, the wrapping sum over the classes it names of
    ``mix(sum of its votes' mix(fp[column] + cf[class]) + golden)`` (votes in row order)."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    k = cf.shape[0]
    per_row = np.zeros(R, dtype=np.uint64)
    grouped = np.zeros(k, dtype=np.uint64)
    seen = np.zeros(k, dtype=np.bool_)
    named = np.empty(k, dtype=np.int64)
    e = 0
    nnz = r.shape[0]
    for row in range(R):
        n_named = 0
        while e < nnz and r[e] == row:
            c = a[e]
            if not seen[c]:
                seen[c] = True
                named[n_named] = c
                n_named += 1
            grouped[c] += _mix(fp[i[e]] + cf[c])
            e += 1
        total = np.uint64(0)
        for t in range(n_named):
            c = named[t]
            total += _mix(grouped[c] + golden)
            grouped[c] = np.uint64(0)
            seen[c] = False
        per_row[row] = total
    return per_row


@numba.njit(cache=True, nogil=True, error_model="numpy")
def fold_keys(
    r: np.ndarray, i: np.ndarray, a: np.ndarray, whole: np.ndarray, R: int, m: int, k: int, seed: np.uint64
) -> np.ndarray:
    """The keys of :func:`tripletws.estimators.heldout.row_fold_keys`.

    ``r``, ``i``, ``a`` (nnz,) are the votes (row, LF, class) in row order, ``whole`` (R,) the
    rows' counts (whole numbers).  Integer arithmetic throughout, after the exact sums of the
    counts: the same keys as the numpy path, bit for bit (wrapping sums do not depend on the
    order of their terms).
    """
    golden = np.uint64(0x9E3779B97F4A7C15)
    fp, cf = _fingerprints(r, i, a, whole, m, k, seed)
    per_row = _grouped_sums(r, i, a, R, fp, cf)
    whole_bits = whole.view(np.uint64)
    by_column = np.zeros(m, dtype=np.uint64)
    by_class = np.zeros(k, dtype=np.uint64)
    for e in range(r.shape[0]):
        t = _mix(per_row[r[e]] ^ whole_bits[r[e]])
        by_column[i[e]] += t
        by_class[a[e]] += t
    for j in range(m):
        fp[j] = _mix(fp[j] ^ by_column[j])
    for c in range(k):
        cf[c] = _mix(cf[c] ^ by_class[c])
    per_row = _grouped_sums(r, i, a, R, fp, cf)
    base = _mix(seed ^ golden)
    keys = np.empty(R, dtype=np.uint64)
    for row in range(R):
        keys[row] = _mix(per_row[row] + base)
    return keys
