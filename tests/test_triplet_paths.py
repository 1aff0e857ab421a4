"""The vectorised triplet candidates equal a triplet-by-triplet loop (both code paths)."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.datasets import make_synthetic
from tripletws.estimators import symmetric as sym
from tripletws.estimators.pairwise import pair_moments
from tripletws.stats import compute_stats


def loop_estimates(
    pm, partners: list[list[int]], solver: str, implied: np.ndarray | None = None
) -> np.ndarray:
    """|b_i| from an explicit loop over the pairs (j, h) of each LF's partners, the variances evaluated
    at the moments ``|implied_i implied_j|`` (at the observed ones where None), floored at their
    standard errors."""
    M, se = np.abs(pm.M), pm.se
    at = M if implied is None else np.abs(np.outer(implied, implied))
    out = np.zeros(len(partners))
    for i, P in enumerate(partners):
        vals, wts = [], []
        for a in range(len(P)):
            for b in range(a + 1, len(P)):
                j, h = P[a], P[b]
                if not (np.isfinite(se[i, j]) and np.isfinite(se[i, h]) and np.isfinite(se[j, h])):
                    continue
                x, y, z = M[i, j], M[i, h], M[j, h]
                if z < max(sym.MIN_DENOM, sym.DENOM_Z * se[j, h]):
                    continue
                xt, yt, zt = max(at[i, j], se[i, j]), max(at[i, h], se[i, h]), max(at[j, h], se[j, h])
                u_j, u_l, q = se[i, j] ** 2 / xt, se[i, h] ** 2 / yt, se[j, h] ** 2 / zt**3
                zv = z if implied is None else zt
                var = max(0.25 * ((u_j * yt + u_l * xt) / zv + q * xt * yt), 1e-12)
                vals.append(min(np.sqrt(x * y / z), 1.0))
                wts.append(1.0 / var)
        if not vals:
            continue
        v, w = np.array(vals), np.array(wts)
        if solver == "triplet":
            out[i] = v[np.argmax(w)]
        elif solver == "triplet_median":
            order = np.argsort(v, kind="stable")
            cw = np.cumsum(w[order])
            out[i] = v[order][np.searchsorted(cw, cw[-1] / 2)]
        else:
            out[i] = np.sum(w * v) / np.sum(w)
    return out


@pytest.mark.parametrize("solver", ["triplet", "triplet_mean", "triplet_median"])
@pytest.mark.parametrize("max_partners", [None, 4])
def test_vectorised_candidates_match_loop(solver, max_partners):
    m = 8
    d = make_synthetic(3000, m, coverage=0.3, random_state=42)
    L = d.L.copy()
    L[:1500, 5] = -1  # LFs 5 and 6 never vote together: unobserved pair
    L[1500:, 6] = -1
    pm = pair_moments(compute_stats(L, 2))
    P = m - 1 if max_partners is None else max_partners
    if P == m - 1:
        partners = [[j for j in range(m) if j != i] for i in range(m)]
    else:
        idx, ok = sym._partners(pm, P)
        partners = [[int(j) for j, o in zip(idx[i], ok[i], strict=True) if o] for i in range(m)]
    got, count = sym._triplet_magnitudes(pm, solver, max_partners=P)
    # two passes: the weighted mean at the observed moments, then the solver at the moments it implies
    ref = loop_estimates(pm, partners, solver, loop_estimates(pm, partners, "triplet_mean"))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    assert (count > 0).all()
