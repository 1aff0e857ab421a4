"""The symmetric label model: each LF is right with probability alpha_i when it votes (triplet method).

Solved by :func:`tripletws.estimators.symmetric.estimate_symmetric` (Fu et al., 2020);
declared dependencies are left out of the triplets and modelled jointly at inference
by pair tables (:mod:`tripletws.estimators.pair_tables`).
"""

from __future__ import annotations

import numpy as np

from ..arrays import decode_array, encode_array
from ..dependencies import dependency_mask, spanning_forest
from ..estimators.class_balance import class_balance_from_symmetric
from ..estimators.pair_tables import estimate_pair_tables
from ..estimators.symmetric import SymmetricEstimate, estimate_symmetric
from ..params import LabelModelParams
from ..rows import RowSummary
from ..stats import LabelStats
from ..validate import check_mapping
from .base import Fit, Options, Prior, Solver, register
from .notes import lf_list, symmetric_lfs


def symmetric_prior(prior: Prior, stats: LabelStats, b: np.ndarray) -> tuple[np.ndarray, str]:
    """The prediction prior of the symmetric model: fixed, uniform (``"auto"``), or estimated."""
    if prior.value is not None:
        return prior.value, prior.source
    k = stats.cardinality
    if prior.source in ("uniform", "auto"):
        return np.full(k, 1.0 / k), "uniform"
    return class_balance_from_symmetric(stats, b), "estimated"


def with_pair_tables(
    params: LabelModelParams, stats: LabelStats, accuracies: np.ndarray, edges: np.ndarray
) -> tuple[LabelModelParams, np.ndarray, list[str]]:
    """Attach the dependency tables (a spanning forest of the declared graph); coupling and notes."""
    pt = estimate_pair_tables(stats, accuracies, edges)
    # an edge of an LF that never votes has no co-votes to estimate it, and its table gives every vote
    # of that LF probability 0: it would take the partner's votes' weight away with it at inference
    silent = np.asarray(stats.vote_counts) == 0
    live = ~(silent[edges[:, 0]] | silent[edges[:, 1]])
    keep = np.zeros(len(edges), dtype=bool)
    keep[live] = spanning_forest(edges[live], stats.n_lfs, np.abs(pt.coupling[live]))
    notes = []
    if not live.all():
        unvoted = ", ".join(f"({i}, {j})" for i, j in edges[~live].tolist())
        ends = np.unique(edges[~live])
        notes.append(
            f"dependencies {unvoted} involve LF(s) {lf_list(ends[silent[ends]])} that never vote: "
            "nothing estimates their coupling, so inference leaves these edges out (each LF's votes are "
            "weighed on their own; they are still excluded from the triplets)"
        )
    if not keep[live].all():
        dropped = ", ".join(f"({i}, {j})" for i, j in edges[live & ~keep].tolist())
        notes.append(
            f"dependencies {dropped} close cycles in the dependency graph; inference models each "
            "group of dependent LFs by a spanning tree of its strongest couplings and leaves "
            "these edges out (they are still excluded from the triplets)"
        )
    joint = LabelModelParams(params.class_balance, params.cond_probs, edges[keep], pt.tables[keep])
    return joint, pt.coupling, notes


@register
class Symmetric(Solver):
    name = "symmetric"
    summary = "each LF right with one probability whatever the class (triplet method)"
    auto_prior = "uniform"

    def solve(self, stats: LabelStats, prior: Prior, rows: RowSummary | None, options: Options) -> Fit:
        edges = options.dependencies
        exclude = dependency_mask(edges, stats.n_lfs) if len(edges) else None
        est = estimate_symmetric(stats, options.solver, exclude=exclude, eps=options.eps, signs=options.signs)
        notes = symmetric_lfs(stats, est)
        p, source = symmetric_prior(prior, stats, est.b)
        params = LabelModelParams.symmetric(est.accuracies, stats.coverage, p)
        coupling = np.zeros(0)
        if len(edges):
            params, coupling, more = with_pair_tables(params, stats, est.accuracies, edges)
            notes += more
        return Fit(self.name, params, p, source, est, edges, coupling, {}, tuple(notes))

    def estimate_to_dict(self, estimate: SymmetricEstimate) -> dict:
        return {
            "b": encode_array(estimate.b),
            "estimated": encode_array(estimate.estimated),
            "n_candidates": encode_array(estimate.n_candidates.astype(np.int64)),
            "below_chance": encode_array(estimate.below_chance),
            **({} if estimate.own_share is None else {"own_share": encode_array(estimate.own_share)}),
        }

    def estimate_from_dict(self, d: object, params: LabelModelParams) -> SymmetricEstimate:
        d = check_mapping(d, "estimate", ("b", "estimated", "n_candidates"), ("below_chance", "own_share"))
        m = (params.n_lfs,)
        b = decode_array(d["b"], "estimate.b", shape=m)
        if (np.abs(b) > 1).any():
            raise ValueError("estimate.b must lie in [-1, 1]")
        n_cand = decode_array(d["n_candidates"], "estimate.n_candidates", kind="i", shape=m)
        if (n_cand < 0).any():
            raise ValueError("estimate.n_candidates must be non-negative")
        estimated = decode_array(d["estimated"], "estimate.estimated", kind="b", shape=m)
        below = d.get("below_chance")
        below = (
            np.zeros(m, bool)
            if below is None
            else decode_array(below, "estimate.below_chance", kind="b", shape=m)
        )
        own = d.get("own_share")
        if own is not None:
            own = decode_array(own, "estimate.own_share", shape=m)
            if not ((own >= 0) & (own <= 1)).all():  # (NaN fails too)
                raise ValueError("estimate.own_share must lie in [0, 1]")
        return SymmetricEstimate(b, params.accuracies, estimated, n_cand, below, own)
