"""``summary_posteriors``: the posteriors of several models on a summary's distinct rows in one product."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.estimators.annotator_design import summary_posteriors
from tripletws.inference import LOGIT_DTYPE, posterior
from tripletws.matrix import LabelMatrix, check_label_matrix
from tripletws.params import LabelModelParams
from tripletws.rows import RowSummary


def _random_model(m: int, k: int, rng: np.random.Generator) -> LabelModelParams:
    """Tables whose abstentions depend on the class (every outcome matters), and a prior."""
    T = rng.dirichlet(np.ones(k + 1), size=(m, k)).transpose(0, 2, 1)  # (m, k + 1, k), columns sum to 1
    return LabelModelParams(rng.dirichlet(np.ones(k) * 3), T)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_each_model_gets_the_posterior_of_inference(k):
    rng = np.random.default_rng(k)
    L = rng.integers(-1, k, size=(400, 7))
    L[:20] = -1  # rows without a vote
    rows = RowSummary.from_matrix(check_label_matrix(L, k), 10**7)
    models = [_random_model(7, k, rng) for _ in range(3)]
    P = summary_posteriors(rows, models)
    assert P.shape == (k, 3, len(rows.counts))
    lm = LabelMatrix(rows.rows, k)
    # inference's binary products run in LOGIT_DTYPE (float32: posteriors within about 2.4e-7); these are
    # float64 sums of at most 8 log-probabilities
    tol = 1e-6 if k == 2 and LOGIT_DTYPE == np.float32 else 1e-12
    for b, model in enumerate(models):
        np.testing.assert_allclose(P[:, b].T, posterior(lm, model), atol=tol, rtol=0)
    np.testing.assert_allclose(P.sum(axis=0), 1.0, atol=1e-12)


def test_a_model_with_dependencies_is_refused():
    rng = np.random.default_rng(0)
    L = rng.integers(-1, 2, size=(50, 3))
    rows = RowSummary.from_matrix(check_label_matrix(L, 2), 10**7)
    plain = _random_model(3, 2, rng)
    pair = np.full((1, 3, 3, 2), 1.0 / 9.0)
    dependent = LabelModelParams(plain.class_balance, plain.cond_probs, np.array([[0, 1]]), pair)
    with pytest.raises(ValueError, match="without dependencies"):
        summary_posteriors(rows, [plain, dependent])
