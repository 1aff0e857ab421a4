"""Empirical-Bayes priors of the LFs' MACE rates ``theta``: the pure functions of two studies.

The MACE M-step of :mod:`tripletws.estimators.annotator` can put a prior on each LF's ``theta``
estimated from all LFs' expected counts: one Beta by the beta-binomial method of moments
(:func:`eb_strength`, switched on by ``annotator.MACE_EB``) or a two-component Beta mixture of
spammers and experts (:func:`mix_prior` and :func:`mix_theta`, ``annotator.MACE_MIX``); both are
off by default.  These functions map expected counts (m, B) to hyperparameters and rates, and
read no switch: the switches belong to the EM that reads them.  In the data flow they sit
beside the design (:mod:`tripletws.estimators.annotator_design`), below the EM that calls them.
"""

from __future__ import annotations

import numpy as np

from .annotator_design import _FLOOR, _TINY


def eb_strength(
    knows: np.ndarray, n: np.ndarray, s_min: float, s_max: float, var: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Empirical-Bayes Beta prior of per-LF rates: mean ``mu`` and strength ``s`` per member.

    Beta-binomial method of moments (Kleinman 1973, "Proportions with extraneous variance",
    Biometrics 29): with ``N = sum n_i``, ``mu = sum knows_i / N`` and
    ``S = sum (knows_i - mu n_i)^2 / n_i`` over the ``M`` LFs with ``n_i > 0``,
    ``E[S] = mu (1 - mu) [(M - 1) (1 - rho) + rho (N - sum n_i^2 / N)]`` where
    ``rho = 1 / (s + 1)`` is the intra-LF correlation; solved for ``rho``, then
    ``s = 1 / rho - 1`` clipped to ``[s_min, s_max]`` (``s_min`` where ``rho`` is not identified).

    Parameters
    ----------
    knows, n : (m, B)
        Expected counts of "knows" and votes per LF (members on the last axis).
    s_min, s_max : float
    var : (m, B), optional
        Posterior variance of each "knows" count, added to ``(knows_i - mu n_i)^2`` in ``S``
        (the complete-data spread, :data:`tripletws.estimators.annotator.MACE_EB_VAR`).

    Returns
    -------
    mu, s : (B,)
    """
    N = np.add.reduce(n, axis=0)
    has = n > 0
    M = np.add.reduce(has, axis=0).astype(np.float64)
    safe_N = np.maximum(N, _TINY)
    mu = np.minimum(np.maximum(np.add.reduce(knows, axis=0) / safe_N, _FLOOR), 1.0 - _FLOOR)
    dev = (knows - mu * n) ** 2
    if var is not None:
        dev = dev + var
    dev = np.where(has, dev / np.where(has, n, 1.0), 0.0)
    S = np.add.reduce(dev, axis=0)
    Q = np.add.reduce(n * n, axis=0) / safe_N
    den = N - Q - (M - 1.0)
    num = S / (mu * (1.0 - mu)) - (M - 1.0)
    ok = den > 0
    rho = np.where(ok, num / np.where(ok, den, 1.0), 1.0)
    s = np.where(rho <= 1.0 / (s_max + 1.0), s_max, 1.0 / np.maximum(rho, _TINY) - 1.0)
    s = np.minimum(np.maximum(s, s_min), s_max)
    return mu, s


def _weighted_moments(
    knows: np.ndarray, n: np.ndarray, var: np.ndarray, w: np.ndarray, s_min: float, s_max: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`eb_strength` with a weight ``w_i`` in [0, 1] per LF (one mixture component's share).

    ``S = sum w_i ((knows_i - mu n_i)^2 + var_i) / n_i`` with ``mu = sum w_i knows_i / N``,
    ``N = sum w_i n_i``; under the beta-binomial model
    ``E[S] / (mu (1 - mu)) = (W - A) + rho (N - W - B + A)`` with ``W = sum w_i``,
    ``A = sum w_i^2 n_i / N``, ``B = sum w_i^2 n_i^2 / N`` (with ``w = 1``: Kleinman's moment
    equation of :func:`eb_strength`), solved for ``rho = 1 / (s + 1)``.

    Parameters
    ----------
    knows, n, var, w : (m, B)
    s_min, s_max : float

    Returns
    -------
    mu, s : (B,)
    """
    has = n > 0
    w = np.where(has, w, 0.0)
    wn = w * n
    N = np.add.reduce(wn, axis=0)
    safe_N = np.maximum(N, _TINY)
    mu = np.minimum(np.maximum(np.add.reduce(w * knows, axis=0) / safe_N, _FLOOR), 1.0 - _FLOOR)
    dev = np.where(has, ((knows - mu * n) ** 2 + var) / np.where(has, n, 1.0), 0.0)
    S = np.add.reduce(w * dev, axis=0)
    W = np.add.reduce(w, axis=0)
    A_ = np.add.reduce(w * wn, axis=0) / safe_N
    B_ = np.add.reduce(wn * wn, axis=0) / safe_N
    den = N - W - B_ + A_
    num = S / (mu * (1.0 - mu)) - (W - A_)
    ok = den > 1e-9 * np.maximum(N, 1.0)
    rho = np.where(ok, num / np.where(ok, den, 1.0), 1.0)
    s = np.where(rho <= 1.0 / (s_max + 1.0), s_max, 1.0 / np.maximum(rho, _TINY) - 1.0)
    return mu, np.minimum(np.maximum(s, s_min), s_max)


def _mix_log_lik(knows: np.ndarray, n: np.ndarray, mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Beta-binomial log-likelihood of each LF's count under each component, less the binomial
    coefficient (common to the components), shape (2, m, B); ``mu``, ``s`` (2, B)."""
    from scipy.special import betaln

    a = (s * mu)[:, None, :]
    b = (s * (1.0 - mu))[:, None, :]
    miss = np.maximum(n - knows, 0.0)
    return betaln(knows + a, miss + b) - betaln(a, b)


def mix_prior(
    knows: np.ndarray,
    n: np.ndarray,
    var: np.ndarray,
    s_min: float,
    s_max: float,
    use: np.ndarray | None = None,
    start: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    iters: int = 30,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A two-component Beta mixture prior of per-LF rates (spammers / experts), fitted by EM.

    ``theta_i ~ pi Beta(s0 mu0, s0 (1 - mu0)) + (1 - pi) Beta(s1 mu1, s1 (1 - mu1))``: the E-step
    gives each LF's component posterior from the beta-binomial likelihood of its count
    (McLachlan & Peel 2000, *Finite Mixture Models*, ch. 2-3, EM for mixtures); the M-step sets
    ``pi`` to the mean posterior and each component's ``mu`` and ``s`` by the beta-binomial method
    of moments weighted by the posteriors (:func:`_weighted_moments`).  The components are kept
    ordered, ``mu0 <= mu1`` (swapped when the moments cross).

    Parameters
    ----------
    knows, n, var : (m, B)
        Expected "knows" counts, votes, and the counts' posterior variance per LF.
    s_min, s_max : float
        Range of each component's strength.
    use : (m, B) bool, optional
        LFs that estimate the prior (default: all with votes).
    start : (pi, mu, s), optional
        Hyperparameters to start from, shapes (B,), (2, B), (2, B); else the LFs are split at
        the pooled rate (below: component 0).
    iters : int
        EM iterations over the LFs (0: ``start`` kept as it is).

    Returns
    -------
    pi : (B,)
        Weight of component 0.
    mu, s : (2, B)
    """
    has = n > 0
    use = has if use is None else (use & has)
    if start is None:
        tot = np.maximum(np.add.reduce(np.where(use, n, 0.0), axis=0), _TINY)
        pooled = np.add.reduce(np.where(use, knows, 0.0), axis=0) / tot
        rate = knows / np.where(has, n, 1.0)
        r0 = (rate < pooled).astype(np.float64)
        pi = None
    else:
        pi, mu, s = start
    for it in range(iters):
        if pi is not None:  # E-step over the LFs: each one's component posterior
            r0 = _mix_resp(knows, n, pi, mu, s)
        w0 = np.where(use, r0, 0.0)
        w1 = np.where(use, 1.0 - r0, 0.0)
        mu0, s0 = _weighted_moments(knows, n, var, w0, s_min, s_max)
        mu1, s1 = _weighted_moments(knows, n, var, w1, s_min, s_max)
        M = np.maximum(np.add.reduce(use, axis=0), 1)
        pi_new = np.add.reduce(w0, axis=0) / M
        swap = mu0 > mu1
        mu = np.where(swap, [mu1, mu0], [mu0, mu1])
        s = np.where(swap, [s1, s0], [s0, s1])
        pi_new = np.where(swap, 1.0 - pi_new, pi_new)
        if pi is not None and np.max(np.abs(pi_new - pi), initial=0.0) < 1e-6 and it > 0:
            pi = pi_new
            break
        pi = pi_new
    assert pi is not None
    return pi, mu, s


def _mix_resp(knows: np.ndarray, n: np.ndarray, pi: np.ndarray, mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Each LF's posterior probability of component 0 under the mixture prior, (m, B)."""
    ll = _mix_log_lik(knows, n, mu, s)
    with np.errstate(divide="ignore"):
        l0 = np.log(np.maximum(pi, 0.0)) + ll[0]
        l1 = np.log(np.maximum(1.0 - pi, 0.0)) + ll[1]
    top = np.maximum(l0, l1)
    e0, e1 = np.exp(l0 - top), np.exp(l1 - top)
    return e0 / (e0 + e1)


def mix_theta(knows: np.ndarray, n: np.ndarray, pi: np.ndarray, mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Posterior mean of each LF's rate under the mixture prior of :func:`mix_prior`, (m, B)."""
    r0 = _mix_resp(knows, n, pi, mu, s)
    t0 = (knows + s[0] * mu[0]) / (n + s[0])
    t1 = (knows + s[1] * mu[1]) / (n + s[1])
    return r0 * t0 + (1.0 - r0) * t1
