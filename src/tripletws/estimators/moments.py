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


#: Above this size the leading eigenpairs come from Lanczos iterations instead of a full eigh.
DENSE_EIGH_MAX = 600


def _top_eigvecs(S: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest (algebraic) ``r`` eigenpairs of a symmetric matrix, in decreasing order."""
    if S.shape[0] <= DENSE_EIGH_MAX or r >= S.shape[0] // 4:
        w, V = np.linalg.eigh(S)
        return w[::-1][:r], V[:, ::-1][:, :r]
    from scipy.sparse.linalg import eigsh

    v0 = np.ones(S.shape[0])  # fixed start: deterministic
    w, V = eigsh(S, k=r, which="LA", v0=v0)
    order = np.argsort(-w)
    return w[order], V[:, order]


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


def offdiagonal_factor(
    cov: np.ndarray, rank: int, max_iter: int = 500, tol: float = 1e-7
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
    w, V = _top_eigvecs(S, rank)
    G = (V * np.sqrt(np.maximum(w, 0.0))).reshape(m, k, rank)
    scale = max(float(np.abs(S).max()), 1e-300)
    ridge = 1e-12 * scale
    it = 0
    while it < max_iter:
        it += 1
        H = (S @ G.reshape(m * k, rank)).reshape(m, k, rank)  # sum_{j != i} cov_ij G_j
        gram_i = np.einsum("iar,ias->irs", G, G)
        gram = gram_i.sum(axis=0)[None] - gram_i + ridge * np.eye(rank)[None]
        G_new = np.linalg.solve(gram, H.transpose(0, 2, 1)).transpose(0, 2, 1)
        G_new = 0.5 * (G + G_new)
        step = float(np.abs(G_new - G).max())
        G = G_new
        if step <= tol * max(float(np.abs(G).max()), 1e-300):
            break
    return G, it, w


def project_to_simplex_rows(X: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Euclidean projection of each row (last axis) onto ``{x >= floor, sum x = 1}``."""
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[-1]
    flat = X.reshape(-1, d) - floor
    target = 1.0 - d * floor
    s = -np.sort(-flat, axis=1)
    css = np.cumsum(s, axis=1) - target
    ks = np.arange(1, d + 1)
    cond = s - css / ks > 0
    rho = d - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = css[np.arange(len(flat)), rho] / (rho + 1.0)
    out = np.maximum(flat - theta[:, None], 0.0) + floor
    return out.reshape(X.shape)


def whiten_views(T: np.ndarray, W: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """Contract the view tensor with the pseudo-inverses of the view factors.

    ``T`` (k+1, k+1, k+1) is ``sum_y p_y (W_1 u_y) (x) (W_2 u_y) (x) (W_3 u_y)``
    for (k+1, k) factors ``W_g``; the result (k, k, k) is ``sum_y p_y u_y^(x)3``.

    Returns
    -------
    T_white : ndarray, shape (k, k, k), symmetrised over its three modes
    cond : float
        Largest condition number of the ``W_g`` (inf when one is rank deficient).
    """
    pinvs = []
    cond = 0.0
    for Wg in W:
        s = np.linalg.svd(Wg, compute_uv=False)
        cond = max(cond, float(s[0] / s[-1]) if s[-1] > 0 else np.inf)
        pinvs.append(np.linalg.pinv(Wg))
    Tw = np.tensordot(pinvs[0], T, axes=(1, 0))  # (k, k+1, k+1)
    Tw = np.tensordot(Tw, pinvs[1], axes=(1, 1))  # (k, k+1, k)
    Tw = np.tensordot(Tw, pinvs[2], axes=(1, 1))  # (k, k, k)
    Tw = (
        Tw
        + Tw.transpose(0, 2, 1)
        + Tw.transpose(1, 0, 2)
        + Tw.transpose(1, 2, 0)
        + Tw.transpose(2, 0, 1)
        + Tw.transpose(2, 1, 0)
    ) / 6.0
    return Tw, cond


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
