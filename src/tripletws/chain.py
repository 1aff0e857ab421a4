"""Exact posteriors of a label chain by forward-backward, vectorised over blocks of frames.

Model: frames t = 0..n-1 of one or more sequences; the label of a sequence's
first frame is drawn from ``p``; from one frame to the next it stays with
probability ``rho`` and is otherwise redrawn from ``p`` (transition
``T = rho I + (1 - rho) 1 p^T``); each frame's votes depend on its own label only,
through the emission likelihood ``e_t(y) = P(votes_t | Y_t = y)``.

All sequences are handled as one stream of frames in which a sequence start is a
transition with ``rho = 0`` (the previous frame is forgotten).  The scaled forward
messages obey ``alpha_t ∝ G_t alpha_{t-1}`` with ``G_t = diag(e_t)(rho_t I +
(1 - rho_t) p 1^T)``, and the backward messages ``beta_t ∝ G_{t+1}^T beta_{t+1}``.
Applying ``G_t`` costs O(k) (the transition is identity plus rank one).

To avoid a Python loop over frames, the stream is cut into ``nb`` blocks of
``B ≈ sqrt(n)`` frames:

1. the k x k transfer matrix of every block (product of its ``G_t``), all blocks at
   once, B vectorised steps;
2. the message entering each block, ``nb`` small sequential steps;
3. the messages inside every block, all blocks at once, B vectorised steps.

Work is O(n k^2), Python steps O(sqrt(n)); messages are renormalised at every
step (the scaled forward-backward: no underflow, same posteriors as log space).
"""

from __future__ import annotations

import math

import numpy as np

#: Log-emissions are floored at this distance below each row's maximum.
LOG_FLOOR = -700.0


def _normalise(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    s = x.sum(axis=axes, keepdims=True)
    return x / np.where(s > 0, s, 1.0)


def _others(x: np.ndarray) -> np.ndarray:
    """``sum(x, axis=1) - x`` as a sum of the other entries (exclusive prefix plus suffix sums): no
    cancellation where one entry dominates the sum."""
    zero = np.zeros_like(x[:, :1])
    before = np.cumsum(np.concatenate([zero, x[:, :-1]], axis=1), axis=1)
    after = np.flip(np.cumsum(np.concatenate([zero, np.flip(x, axis=1)[:, :-1]], axis=1), axis=1), axis=1)
    return before + after


def _scan(E: np.ndarray, R: np.ndarray, p: np.ndarray, transpose: bool, block: int | None) -> np.ndarray:
    """Scaled messages x_t ∝ Op_t(x_{t-1}), x_{-1} = 1, for t = 0..n-1.

    Forward: ``Op_t(x) = e_t * (rho_t x + (1 - rho_t) p sum(x))``.
    Transposed: ``Op_t(x) = rho_t (e_t * x) + (1 - rho_t) (p . (e_t * x)) 1``.
    """
    n, k = E.shape
    B = max(1, block or math.ceil(math.sqrt(n)))
    nb = -(-n // B)
    pad = nb * B - n
    if pad:  # identity steps: e = 1, rho = 1
        E = np.vstack([E, np.ones((pad, k))])
        R = np.concatenate([R, np.ones(pad)])
    Eb = E.reshape(nb, B, k)
    Rb = R.reshape(nb, B)
    negative = bool((R < 0).any())

    def apply(x: np.ndarray, e: np.ndarray, r: np.ndarray) -> np.ndarray:
        # x: (nb, k) or (nb, k, k) with the operator acting on axis 1
        extra = (None,) * (x.ndim - 2)
        r_ = r[(slice(None), None, *extra)]
        e_ = e[(slice(None), slice(None), *extra)]
        p_ = p[(None, slice(None), *extra)]
        if negative:  # sums of non-negative terms only (see _others)
            stay = np.maximum(r_ + (1.0 - r_) * p_, 0.0)
            if not transpose:
                return e_ * (stay * x + (1.0 - r_) * p_ * _others(x))
            y = e_ * x
            return stay * y + (1.0 - r_) * _others(p_ * y)
        if not transpose:
            mix = x.sum(axis=1, keepdims=True) * p[(None, slice(None), *extra)]
            return e_ * (r_ * x + (1.0 - r_) * mix)
        y = e_ * x
        return r_ * y + (1.0 - r_) * np.einsum("c,bc...->b...", p, y)[:, None]

    # 1. block transfer matrices F_b (nb, k, k), acting on column vectors
    F = np.broadcast_to(np.eye(k), (nb, k, k)).copy()
    for j in range(B):
        F = _normalise(apply(F, Eb[:, j], Rb[:, j]), (1, 2))
    # 2. message entering each block
    x_in = np.empty((nb, k))
    x = np.ones(k)
    for b in range(nb):
        x_in[b] = x
        x = F[b] @ x
        x /= x.sum()
    # 3. messages inside the blocks
    out = np.empty((nb, B, k))
    x = x_in
    for j in range(B):
        x = _normalise(apply(x, Eb[:, j], Rb[:, j]), (1,))
        out[:, j] = x
    return out.reshape(nb * B, k)[:n]


def chain_posteriors(
    log_emissions: np.ndarray,
    starts: np.ndarray,
    persistence: float,
    class_balance: np.ndarray,
    *,
    block: int | None = None,
) -> np.ndarray:
    """Marginal posteriors ``P(Y_t | all votes of t's sequence)``.

    Parameters
    ----------
    log_emissions : ndarray, shape (n, k)
        ``log P(votes_t | Y_t = y)`` up to a per-row constant.
    starts : ndarray of bool, shape (n,)
        True where a frame opens a sequence (row 0 always does).
    persistence : float
        rho in ``[-min(p) / (1 - min(p)), 1)`` (else a ValueError; at 1 no label could change within
        a sequence, which the frames' floored evidence cannot represent exactly).
    class_balance : ndarray, shape (k,)
    block : int, optional
        Frames per block (default ``ceil(sqrt(n))``); any value gives the same result.

    Returns
    -------
    ndarray, shape (n, k), rows summing to 1
    """
    logE = np.asarray(log_emissions, dtype=np.float64)
    n, k = logE.shape
    p = np.asarray(class_balance, dtype=np.float64)
    if p.shape != (k,):
        raise ValueError(f"class_balance must have {k} entries, got shape {p.shape}")
    if starts.shape != (n,):
        raise ValueError(f"starts must have shape ({n},), got {starts.shape}")
    rho = float(persistence)
    least = -float(p.min()) / (1.0 - float(p.min())) if k > 1 and p.min() < 1 else 0.0
    if not np.isfinite(rho) or rho >= 1.0 or rho < least - 1e-12:
        # (at rho = 1 no label can change within a sequence, and the frames' evidence, each floored
        # at LOG_FLOOR below its best class, no longer sums exactly; the model caps rho below 1)
        raise ValueError(
            f"persistence must lie in [{least:.6g}, 1) for class_balance {p.tolist()}, got {rho!r}"
        )
    if n == 0:
        return np.zeros((0, k))
    shifted = logE - logE.max(axis=1, keepdims=True)
    E = np.exp(np.maximum(shifted, LOG_FLOOR))
    R = np.where(starts, 0.0, float(persistence))
    R[0] = 0.0
    fwd = _scan(E, R, p, transpose=False, block=block)
    # backward: beta_{n-1} = 1; beta_t = G_{t+1}^T beta_{t+1}, run on the reversed stream
    Er = np.vstack([np.ones((1, k)), E[:0:-1]])
    Rr = np.concatenate([[1.0], R[:0:-1]])
    bwd = _scan(Er, Rr, p, transpose=True, block=block)[::-1]
    post = fwd * bwd
    return _normalise(post, (1,))
