"""A toy label model in one file: each LF's accuracy is its mean agreement with the other LFs.

It exists to show (tests/test_registry.py) that a label model is one module plus one
registration: nothing else in the package changes.
"""

from __future__ import annotations

import numpy as np

from tripletws.models import Fit, Options, Prior, Solver, register
from tripletws.params import LabelModelParams


@register
class AgreementModel(Solver):
    name = "toy_agreement"
    summary = "LF accuracy = its mean agreement with the other LFs when both vote"

    def solve(self, stats, prior: Prior, rows, options: Options) -> Fit:
        k, m = stats.cardinality, stats.n_lfs
        off = ~np.eye(m, dtype=bool)
        agree = (stats.agree * off).sum(axis=1)
        covote = (stats.covote * off).sum(axis=1)
        accuracy = np.where(covote > 0, agree / np.maximum(covote, 1), 1.0 / k)
        accuracy = np.clip(accuracy, 1.0 / k + options.eps, 1 - options.eps)
        p = prior.value if prior.value is not None else np.full(k, 1.0 / k)
        source = prior.source if prior.value is not None else "uniform"
        params = LabelModelParams.symmetric(accuracy, stats.coverage, p)
        return Fit(self.name, params, p, source, diagnostics={"mean_accuracy": float(accuracy.mean())})
