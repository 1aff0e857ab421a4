"""Closed-form label persistence between consecutive frames.

Transition family: from frame t to t + 1 the label stays with probability ``rho``,
otherwise it is redrawn from the class balance ``p``:

    T = rho I + (1 - rho) 1 p^T,     stationary distribution p.

For k = 2 this covers every stationary two-state chain (rho < 0 alternates);
for uniform p it is "stay with probability rho, else uniform".

With ``s = P(Y_{t+1} = Y_t) = rho + (1 - rho) sum_c p_c^2`` and
``tau = (k s - 1) / (k - 1)`` (``E[Y_t Y_{t+1}]`` in the +-1 coding for k = 2),
cross-frame LF moments satisfy ``M^x_ij = b_i b_j tau`` (see
:mod:`tripletws.crossframe`), so tau is a weighted least-squares ratio over LF
pairs, with weights from the binomial variance of each pair's agreement rate:

    tau = sum_ij w_ij M^x_ij b_i b_j / sum_ij w_ij (b_i b_j)^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..crossframe import CrossFrameStats

#: rho is kept at most this close to 1 so that every transition stays possible.
MAX_PERSISTENCE = 1.0 - 1e-6
#: Least probability of staying in the rarest class, as a share of its prior: rho is kept this far
#: above the value where that transition becomes impossible (:func:`persistence_bounds`).
MIN_STAY = 1e-6


@dataclass(frozen=True)
class TransitionEstimate:
    """Estimated persistence of labels between consecutive frames.

    Attributes
    ----------
    persistence : float
        rho of ``T = rho I + (1 - rho) 1 p^T`` (clipped into its valid range).
    tau : float
        ``(k P(Y_{t+1} = Y_t) - 1) / (k - 1)`` implied by rho and p.
    tau_raw : float
        The unclipped least-squares estimate (nan when not estimable).
    n_pairs : float
        Consecutive frame pairs in the statistics.
    tau_se : float
        Standard error of ``tau_raw`` from the sampling noise of the cross-frame moments, the
        accuracies taken as known (so a lower bound); nan when not estimated.
    note : str
        What the estimate had to say: a raw tau outside its valid range, and what was done
        (empty when nothing).
    """

    persistence: float
    tau: float
    tau_raw: float
    n_pairs: float
    tau_se: float = float("nan")
    note: str = ""


def persistence_bounds(class_balance: np.ndarray) -> tuple[float, float]:
    """Valid range of rho: every transition possible, and rho < 1.

    At ``rho = -p_min / (1 - p_min)`` staying in the rarest class has probability exactly 0, which
    ``rho I + (1 - rho) 1 p^T`` only approximates to rounding (about 1e-17, which emissions of
    e^40 and more then overrule); the lower bound keeps that probability at :data:`MIN_STAY`
    times ``p_min``.
    """
    pmin = float(np.min(class_balance))
    return -pmin * (1.0 - MIN_STAY) / (1.0 - pmin), MAX_PERSISTENCE


def lowest_persistence(class_balance: np.ndarray) -> float:
    """The value of rho at which a transition becomes impossible (model files saved before
    :data:`MIN_STAY` may hold it; they load with rho raised to :func:`persistence_bounds`)."""
    pmin = float(np.min(class_balance))
    return -pmin / (1.0 - pmin)


def tau_to_persistence(tau: float, class_balance: np.ndarray) -> float:
    """rho from tau for the given class balance (unclipped)."""
    k = len(class_balance)
    q = float(np.sum(class_balance**2))
    same = (1.0 + (k - 1) * tau) / k
    return (same - q) / (1.0 - q)


def persistence_to_tau(rho: float, class_balance: np.ndarray) -> float:
    k = len(class_balance)
    q = float(np.sum(class_balance**2))
    same = rho + (1.0 - rho) * q
    return (k * same - 1.0) / (k - 1.0)


def transition_matrix(persistence: float, class_balance: np.ndarray) -> np.ndarray:
    """``T[a, b] = P(Y_{t+1} = b | Y_t = a)``, shape (k, k)."""
    p = np.asarray(class_balance, dtype=np.float64)
    return persistence * np.eye(len(p)) + (1.0 - persistence) * np.broadcast_to(p, (len(p), len(p)))


def estimate_persistence(
    cross: CrossFrameStats,
    b: np.ndarray,
    class_balance: np.ndarray,
    *,
    usable: np.ndarray | None = None,
    same_lf: bool = False,
) -> TransitionEstimate:
    """Persistence rho from cross-frame moments, in closed form.

    Parameters
    ----------
    cross : CrossFrameStats
    b : ndarray, shape (m,)
        Scaled accuracies ``(k alpha - 1) / (k - 1)`` of the frame model.
    class_balance : ndarray, shape (k,)
    usable : ndarray of bool, shape (m, m), optional
        LF pairs that may be used (e.g. not both unipolar).
    same_lf : bool
        Also use an LF's agreement with itself on the next frame.  Off by default:
        real LFs often repeat their own errors on neighbouring frames (an error
        persistence the model does not describe), which would inflate rho.

    Returns
    -------
    TransitionEstimate
        rho = 0 (independent frames) with ``tau_raw = nan`` when no pair is usable; rho clipped
        into :func:`persistence_bounds`, and ``note`` saying so, where the raw tau lies outside its
        valid range.
    """
    k = cross.cardinality
    p = np.asarray(class_balance, dtype=np.float64)
    m = cross.n_lfs
    N = cross.covote
    ok = N > 0
    if usable is not None:
        ok &= usable
    if not same_lf:
        ok &= ~np.eye(m, dtype=bool)
    bb = np.outer(b, b)
    ok &= np.abs(bb) > 0
    if not ok.any():
        return TransitionEstimate(0.0, persistence_to_tau(0.0, p), float("nan"), float(cross.n_pairs))
    rate = np.divide(cross.agree, N, out=np.zeros_like(N), where=ok)
    Mx = (k * rate - 1.0) / (k - 1.0)
    smooth = (cross.agree + 1.0) / (N + 2.0)
    var = (k / (k - 1.0)) ** 2 * smooth * (1.0 - smooth) / np.where(ok, N, 1.0)
    w = np.where(ok, 1.0 / var, 0.0)
    info = float(np.sum(w * bb * bb))
    tau_raw = float(np.sum(w * Mx * bb) / info)
    tau_se = float(1.0 / np.sqrt(info))
    rho, note = _valid_persistence(tau_raw, tau_se, p)
    return TransitionEstimate(rho, persistence_to_tau(rho, p), tau_raw, float(cross.n_pairs), tau_se, note)


def _valid_persistence(tau_raw: float, tau_se: float, p: np.ndarray) -> tuple[float, str]:
    """rho of a raw tau, clipped into :func:`persistence_bounds`, and a note where the raw tau lies
    outside its valid range ``[tau(lowest rho), 1]``.

    The clip stays: a raw tau above 1, even far above its standard error (which leaves out the
    noise of the accuracies), is common on frames whose labels do persist strongly (rho 0.98-0.99
    on synthetic chains), where falling back to rho = 0 would lose most of the chain's gain; on
    frames with moderate persistence and few rows, the same raw tau makes the clipped chain worse
    than the per-frame model.  The note says so, so that the user can fix ``persistence=``.
    """
    lo, hi = persistence_bounds(p)
    tau_lo = persistence_to_tau(lowest_persistence(p), p)
    rho = float(np.clip(tau_to_persistence(tau_raw, p), lo, hi))
    if tau_lo <= tau_raw <= 1.0:  # valid (kept a hair inside the range: every transition possible)
        return rho, ""
    what = "upper" if tau_raw > 1.0 else "lower"
    means = "the label hardly ever changes" if what == "upper" else "the label almost always changes"
    return rho, (
        f"the persistence estimate tau_raw = {tau_raw:.4g} (standard error {tau_se:.2g} from the cross-frame "
        f"moments alone) lies outside its valid range [{tau_lo:.4g}, 1]: persistence set to its {what} "
        f"bound {rho:.6g} ({means} within a sequence). Far outside, the chain misdescribes these frames "
        "(LF errors that persist across frames, accuracies poorly estimated on few frames): if the labels "
        "do change within sequences, fix persistence= (persistence=0 gives the per-frame model)"
    )
