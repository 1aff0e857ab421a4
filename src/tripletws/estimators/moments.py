"""Moment algebra shared by the class-conditional estimators.

Notation: ``x_i`` is LF i's one-hot vote over the k classes (all zeros when it
abstains), ``C_i`` (k, k) its vote table ``C_i[a, y] = P(lambda_i = a | Y = y)``,
``p`` the class balance, ``D = diag(p)``, ``mu_i = E[x_i] = C_i p``.  For i != j
conditional independence gives

    Cov(x_i, x_j) = C_i (D - p p^T) C_j^T = G_i G_j^T,     G_i = C_i D^{1/2} R    (k, k - 1)

for a fixed (k, k - 1) matrix R with orthonormal columns orthogonal to sqrt(p).
So the off-diagonal blocks of the (mk, mk) covariance have rank k - 1 (rank one
for k = 2).  With ``v`` a unit vector orthogonal to G's columns,
``F_i = G_i + mu_i v^T = C_i D^{1/2} O`` for an orthogonal (k, k) matrix O: the
second moments fix the tables up to that rotation, which the third moments fix.
"""

from __future__ import annotations

import numpy as np

from ..stats import LabelStats


def vote_moments(stats: LabelStats) -> tuple[np.ndarray, np.ndarray]:
    """First moments and centered cross covariances of the one-hot votes.

    Returns
    -------
    mu : ndarray, shape (m, k)
        ``P(lambda_i = a)``.
    cov : ndarray, shape (m, k, m, k)
        ``Cov(x_i[a], x_j[b])``; the diagonal blocks (i = j) are set to 0 (they
        carry no information about the model).
    """
    if stats.joint is None:
        raise ValueError(
            "the class-conditional model needs the joint vote table: compute_stats(..., joint=True)"
        )
    n = max(stats.n_rows, 1e-300)
    mu = stats.class_counts / n
    cov = stats.joint / n - mu[:, :, None, None] * mu[None, None, :, :]
    m = mu.shape[0]
    idx = np.arange(m)
    cov[idx, :, idx, :] = 0.0
    return mu, cov


#: Above this size the leading eigenpairs come from Lanczos iterations instead of a full eigh,
#: when at most LANCZOS_MAX_PAIRS of them are wanted (more make Lanczos slower than eigh).
DENSE_EIGH_MAX = 600
LANCZOS_MAX_PAIRS = 32


def _top_eigvecs(S: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest (algebraic) ``r`` eigenpairs of a symmetric matrix, in decreasing order."""
    if S.shape[0] <= DENSE_EIGH_MAX or r > LANCZOS_MAX_PAIRS:
        w, V = np.linalg.eigh(S)
        return w[::-1][:r], V[:, ::-1][:, :r]
    from scipy.sparse.linalg import ArpackError, eigsh

    v0 = np.ones(S.shape[0])  # fixed start: deterministic
    try:
        w, V = eigsh(S, k=r, which="LA", v0=v0)
    except ArpackError:
        # the ones vector can lie in S's null space (LFs that vote on every row: each LF's one-hot
        # votes sum to 1, so S @ 1 = 0, exactly so for identical columns): ARPACK stops ("starting
        # vector is zero"); a seeded random start (deterministic too) has a component along every
        # eigenvector
        v0 = np.random.default_rng(0).standard_normal(S.shape[0])
        w, V = eigsh(S, k=r, which="LA", v0=v0)
    order = np.argsort(-w)
    return w[order], V[:, order]


def max_signal_rank(stats: LabelStats) -> int:
    """Most eigenvalues the zero-diagonal vote covariance can have above any positive level.

    With X the (n, m k) one-hot votes, the covariance is
    ``X'X / n - diag(counts / n) - mu mu' + blockdiag(mu_i mu_i')``; the first two terms are
    at most ``X'X / n`` (rank <= min(n, voted (LF, class) pairs)) and the rest has at most m
    positive eigenvalues, so (Weyl) at most ``min(n, pairs) + m`` eigenvalues are positive.
    O(m k): lets the fit give up on a k far beyond the data before any O((m k)^2) work.
    """
    pairs = int(np.count_nonzero(stats.class_counts))
    return int(min(stats.n_rows, pairs)) + stats.n_lfs


def noise_edge(stats: LabelStats) -> float:
    """Largest eigenvalue that pure sampling noise would give the zero-diagonal covariance.

    Each off-diagonal entry of the empirical (mk, mk) covariance has variance about
    ``P(i votes a, j votes b) / n``; a symmetric noise matrix with entries of
    variance s^2 has its spectrum inside ``+-2 s sqrt(mk)`` (the semicircle edge).
    Returns ``2 s sqrt(mk)`` with s^2 the mean entry variance.
    """
    m, k = stats.n_lfs, stats.cardinality
    n = max(stats.n_rows, 1e-300)
    total = stats.joint.sum() - np.einsum("iaia->", stats.joint)
    s2 = total / n / max(m * k * (m * k - k), 1) / n
    return float(2.0 * np.sqrt(s2 * m * k))


#: The alternating least squares of :func:`offdiagonal_factor` stop when no entry of G moves
#: by more than this, relative to G's largest entry.
ALS_TOL = 1e-7
#: Relative cutoff of the pseudo-inverse in the alternating least squares of :func:`offdiagonal_factor`.
PINV_RCOND = 1e-12


# Over 60 lines: early exits (noise bound, rank) and the alternating least squares share the
# same arrays; one algorithm.
def offdiagonal_factor(
    cov: np.ndarray, rank: int, max_iter: int = 500, tol: float = ALS_TOL, min_top: float | None = None
) -> tuple[np.ndarray, int, np.ndarray]:
    """Low-rank factor of the off-diagonal blocks of a block covariance.

    Minimises ``sum_{i != j} ||cov_ij - G_i G_j^T||_F^2`` by alternating least
    squares (all LFs updated together from the previous iterate, then averaged
    with it), started from the leading eigenvectors of ``cov`` with zeroed
    diagonal blocks.  O(m^2 k rank) per iteration.

    Parameters
    ----------
    cov : ndarray, shape (m, k, m, k)
        Diagonal blocks are ignored.
    rank : int
    min_top : float, optional
        The fit is only wanted when the ``rank``-th eigenvalue reaches this value:
        when it cannot (checked first in O((mk)^2) from the Frobenius norm,
        ``lambda_rank <= ||S||_F / sqrt(rank)``) or does not, G is returned as zeros
        without the eigendecomposition or the iterations, and ``top`` holds the bound
        or the eigenvalues.

    Returns
    -------
    G : ndarray, shape (m, k, rank)
    n_iter : int
    top : ndarray, shape (rank,)
        Leading eigenvalues of the zero-diagonal covariance (compare with :func:`noise_edge`).
    """
    m, k = cov.shape[:2]
    idx = np.arange(m)
    C = cov.copy()
    C[idx, :, idx, :] = 0.0
    S = C.reshape(m * k, m * k)
    S = (S + S.T) / 2
    if min_top is not None:
        bound = float(np.sqrt(np.vdot(S, S) / max(rank, 1)))
        if bound < min_top:
            return np.zeros((m, k, rank)), 0, np.full(rank, bound)
    w, V = _top_eigvecs(S, rank)
    scale = float(np.abs(S).max()) if S.size else 0.0
    if not scale > 1e-150 or (min_top is not None and not w[-1] >= min_top):
        # no covariance at all (e.g. a single row), or not enough signal: nothing to factor
        return np.zeros((m, k, rank)), 0, w
    G = (V * np.sqrt(np.maximum(w, 0.0))).reshape(m, k, rank)
    ridge = 1e-12 * scale
    it = 0
    while it < max_iter:
        it += 1
        H = (S @ G.reshape(m * k, rank)).reshape(m, k, rank)  # sum_{j != i} cov_ij G_j
        gram_i = np.einsum("iar,ias->irs", G, G)
        gram = gram_i.sum(axis=0)[None] - gram_i + ridge * np.eye(rank)[None]
        try:
            G_new = np.linalg.solve(gram, H.transpose(0, 2, 1)).transpose(0, 2, 1)
        except np.linalg.LinAlgError:
            # with few rows a direction can carry no signal at all (an exactly singular
            # Gram matrix): the pseudo-inverse keeps the fit going
            inv = np.linalg.pinv(gram, rcond=PINV_RCOND, hermitian=True)
            G_new = (inv @ H.transpose(0, 2, 1)).transpose(0, 2, 1)
        G_new = 0.5 * (G + G_new)
        step = float(np.abs(G_new - G).max())
        G = G_new
        if step <= tol * max(float(np.abs(G).max()), 1e-300):
            break
    return G, it, w


def project_to_simplex_rows(X: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Euclidean projection of each row (last axis) onto ``{x >= floor, sum x = 1}``.

    The projection does not change when a constant is added to a row, so each row is first shifted
    to its maximum 0: the threshold is then computed on values of the size of the result, not of the
    input (rows of size 1e15 and more, from a tiny given class balance, lost the target 1 to rounding
    and came back with entries above 1).
    """
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[-1]
    flat = X.reshape(-1, d)
    if flat.size:
        flat = flat - flat.max(axis=1, keepdims=True)
    target = 1.0 - d * floor
    s = -np.sort(-flat, axis=1)
    css = np.cumsum(s, axis=1) - target
    ks = np.arange(1, d + 1)
    cond = s - css / ks > 0
    rho = d - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = css[np.arange(len(flat)), rho] / (rho + 1.0)
    out = np.maximum(flat - theta[:, None], 0.0) + floor
    return out.reshape(X.shape)


def distinct_triple(T: np.ndarray) -> np.ndarray:
    """The pooled third moment restricted to triples of distinct LFs.

    With ``z = (s, 1)``, ``s = sum_i x_i`` the row's pooled one-hot votes, ``T`` =
    ``E[z (x) z (x) z]`` sums ``x_i (x) x_j (x) x_l`` over all LF triples, including
    those in which an LF meets itself.  Those terms carry no information (LF i's
    moments with itself are not products of its table) and, one-hot votes making
    ``sum_i x_i (x) x_i = diag(s)`` and ``sum_i x_i^(x)3 = diag3(s)``, they are slices
    of ``T`` itself, removed by inclusion-exclusion (the constant coordinate k is
    not an LF and may repeat).

    Parameters
    ----------
    T : ndarray, shape (k + 1, k + 1, k + 1)

    Returns
    -------
    ndarray, shape (k + 1, k + 1, k + 1)
        ``sum over distinct i, j, l`` of the LF terms (with the constant included).
    """
    k = T.shape[0] - 1
    idx = np.arange(k)
    pair = T[idx, :, k]  # pair[a, c] = E[s_a z_c]
    Td = T.copy()
    Td[idx, idx, :] -= pair  # i = j
    Td[idx, :, idx] -= pair  # i = l
    Td[:, idx, idx] -= pair.T  # j = l
    Td[idx, idx, idx] += 2.0 * T[idx, k, k]  # i = j = l, removed three times above
    return Td


#: Up to this many classes the (k^3, (k-1)^3) system of :func:`pooled_moment` is solved densely;
#: above, by LSQR with O(m k^4 + k^5) products.
DENSE_MOMENT_MAX_K = 10


# Over 60 lines: the algebra of removing an LF's terms with itself from the pooled third moment,
# term by term as derived; splitting it would scatter one derivation.
def pooled_moment(Td: np.ndarray, F: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, float]:
    """Whitened third moment ``M = sum_y p_y^{-1/2} o_y^(x)3`` from the distinct-LF pooled moment.

    Under the model, ``E[x_i | y] = F_i o_y / sqrt(p_y)``, so with ``W = [sum_i F_i ; v^T]``
    (the constant row last) and ``F'_i = [F_i ; 0]``, inclusion-exclusion over repeated
    LFs gives

        Td = M(W, W, W) - sum_i [M(F'_i, F'_i, W) + M(F'_i, W, F'_i) + M(W, F'_i, F'_i)]
             + 2 sum_i M(F'_i, F'_i, F'_i).

    Contracting every mode with ``P = W^+`` (``P W = I``, ``H_i = P F'_i``) leaves the
    linear system ``M - K(M) = Td(P, P, P)``, solved here by least squares for the
    entries of M that the second moments leave open (``M(., ., v) = I`` is known).
    Every quantity is a sum over LFs, so M does not depend on their order.

    Parameters
    ----------
    Td : ndarray, shape (k + 1, k + 1, k + 1)
        :func:`distinct_triple` of the pooled moment, divided by the rows.
    F : ndarray, shape (m, k, k)
        ``C_i D^{1/2} O`` from the second moments.
    v : ndarray, shape (k,)
        The unit vector with ``O v = sqrt(p)``.

    Returns
    -------
    M : ndarray, shape (k, k, k), symmetrised over its three modes
    cond : float
        Condition number of W (inf when it is rank deficient).
    """
    k = F.shape[1]
    W = np.vstack([F.sum(axis=0), v[None, :]])
    sv = np.linalg.svd(W, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else np.inf
    if not np.isfinite(cond):
        return np.zeros((k, k, k)), cond
    P = np.linalg.pinv(W)  # (k, k + 1)
    H = np.einsum("ra,iab->irb", P[:, :k], F)  # (m, k, k)
    B = np.einsum("ax,by,cz,xyz->abc", P, P, P, Td, optimize=True)
    Q2 = np.einsum("iax,iby->abxy", H, H)  # sum_i H_i (x) H_i

    def apply(vec: np.ndarray) -> np.ndarray:
        M = vec.reshape(k, k, k)
        out = M.copy()
        out -= np.einsum("abxy,xyc->abc", Q2, M)
        out -= np.einsum("acxz,xbz->abc", Q2, M)
        out -= np.einsum("bcyz,ayz->abc", Q2, M)
        t = np.einsum("iax,xyz->iayz", H, M)
        t = np.einsum("iby,iayz->iabz", H, t)
        out += 2.0 * np.einsum("icz,iabz->abc", H, t)
        return out.ravel()

    def apply_transpose(vec: np.ndarray) -> np.ndarray:
        R = vec.reshape(k, k, k)
        out = R.copy()
        out -= np.einsum("abxy,abc->xyc", Q2, R)
        out -= np.einsum("acxz,abc->xbz", Q2, R)
        out -= np.einsum("bcyz,abc->ayz", Q2, R)
        t = np.einsum("icz,abc->iabz", H, R)
        t = np.einsum("iby,iabz->iayz", H, t)
        out += 2.0 * np.einsum("iax,iayz->xyz", H, t)
        return out.ravel()

    # Entries with an index on v (the last coordinate) are known: M(., ., v) = I, because
    # v . o_y = sqrt(p_y) and O is orthogonal.  Only the (k-1)^3 others are solved for.
    last = k - 1
    known = np.zeros((k, k, k))
    eye = np.eye(k)
    known[:, :, last] = eye
    known[:, last, :] = eye
    known[last, :, :] = eye
    free = np.ones((k, k, k), dtype=bool)
    free[last, :, :] = free[:, last, :] = free[:, :, last] = False
    free_idx = np.flatnonzero(free.ravel())
    rhs = B.ravel() - apply(known.ravel())
    n = k**3
    if k <= DENSE_MOMENT_MAX_K:
        A = np.einsum("ax,by,cz->abcxyz", eye, eye, eye)
        A -= np.einsum("abxy,cz->abcxyz", Q2, eye)
        A -= np.einsum("acxz,by->abcxyz", Q2, eye)
        A -= np.einsum("bcyz,ax->abcxyz", Q2, eye)
        A += 2.0 * np.einsum("iax,iby,icz->abcxyz", H, H, H, optimize=True)
        sol, *_ = np.linalg.lstsq(A.reshape(n, n)[:, free_idx], rhs, rcond=None)
    else:
        from scipy.sparse.linalg import LinearOperator, lsqr

        def embed(u: np.ndarray) -> np.ndarray:
            full = np.zeros(n)
            full[free_idx] = u
            return full

        def apply_t(r: np.ndarray) -> np.ndarray:
            return apply_transpose(r)[free_idx]

        op = LinearOperator((n, len(free_idx)), matvec=lambda u: apply(embed(u)), rmatvec=apply_t)
        sol = lsqr(op, rhs, atol=1e-14, btol=1e-14, iter_lim=20 * len(free_idx))[0]
    M = known.copy()
    M.ravel()[free_idx] = sol
    M = (
        M
        + M.transpose(0, 2, 1)
        + M.transpose(1, 0, 2)
        + M.transpose(1, 2, 0)
        + M.transpose(2, 0, 1)
        + M.transpose(2, 1, 0)
    ) / 6.0
    return M, cond


def canonical_basis(G: np.ndarray) -> np.ndarray:
    """``G R`` for the orthogonal R that makes the factor's column basis canonical.

    The second-moment fit determines G (m, k, r) up to ``G -> G R``.  Columns are
    rotated onto the eigenvectors of ``sum_i G_i^T G_i`` (decreasing eigenvalue)
    and each sign is chosen so that the sum of the cubed entries is positive: both
    are sums over LFs, so permuting the LFs permutes G's rows and nothing else, and
    the later random contractions of the tensor decomposition see the same basis.
    """
    r = G.shape[2]
    if r == 0:
        return G
    gram = np.einsum("iar,ias->rs", G, G)
    _, U = np.linalg.eigh((gram + gram.T) / 2)
    out = np.einsum("iar,rs->ias", G, U[:, ::-1])
    sign = np.where((out**3).sum(axis=(0, 1)) < 0, -1.0, 1.0)
    return out * sign[None, None, :]


def orthogonal_tensor_eig(Tw: np.ndarray, v: np.ndarray, n_tries: int = 16) -> tuple[np.ndarray, float]:
    """Orthonormal components of ``Tw ~ sum_y w_y o_y (x) o_y (x) o_y`` (Jennrich).

    Contracts ``Tw`` with a direction ``eta``, so that ``Tw(eta)`` =
    ``sum_y w_y (o_y . eta) o_y o_y^T`` is a symmetric matrix whose eigenvectors
    are the ``o_y``.  ``eta`` is taken orthogonal to ``v`` (in the class-conditional
    model ``Tw(v) = I`` carries no information); for k > 2 several directions
    from a fixed-seed generator are tried and the one with the widest smallest
    eigenvalue gap (relative to the spread) is kept.

    Returns
    -------
    O : ndarray, shape (k, k)
        Rows ``o_y`` (orthonormal), in no particular order and sign.
    gap : float
        Relative smallest eigenvalue gap of the chosen contraction (0 = degenerate).
    """
    k = Tw.shape[0]
    v = v / np.linalg.norm(v)
    proj = np.eye(k) - np.outer(v, v)
    if k == 2:
        etas = [proj @ np.array([1.0, 0.0]) if abs(v[0]) < 0.9 else proj @ np.array([0.0, 1.0])]
    else:
        rng = np.random.default_rng(0)  # local and fixed: the fit is deterministic
        etas = [proj @ g for g in rng.standard_normal((n_tries, k))]
    best, best_gap = None, -1.0
    for eta in etas:
        nrm = np.linalg.norm(eta)
        if nrm == 0:
            continue
        M = np.einsum("ijl,l->ij", Tw, eta / nrm)
        w, V = np.linalg.eigh((M + M.T) / 2)
        spread = max(float(w[-1] - w[0]), 1e-300)
        gap = float(np.min(np.diff(w))) / spread
        if gap > best_gap:
            best, best_gap = V, gap
    return best.T, max(best_gap, 0.0)
