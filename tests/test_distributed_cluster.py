"""dask.distributed: the predict graph carries the small parameter object, and a LocalCluster run works."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic

da = pytest.importorskip("dask.array")
cloudpickle = pytest.importorskip("cloudpickle")


def _fitted(m: int, k: int, seed: int = 0):
    d = make_synthetic(20_000, m, k, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return d, LabelModel(k).fit(d.L)


def test_predict_graph_ships_the_parameters_not_the_model():
    d, lm = _fitted(60, 4)
    X = da.from_array(d.L, chunks=(5_000, -1))
    P = lm.predict_proba(X)
    ours = len(cloudpickle.dumps(dict(P.__dask_graph__()))) - len(cloudpickle.dumps(dict(X.__dask_graph__())))
    params = len(cloudpickle.dumps(lm.params_))
    model = len(cloudpickle.dumps(lm))
    assert model > 20 * params  # the statistics (an (m, k, m, k) table) dominate the model
    assert ours < 4 * params, f"the predict layer pickles to {ours} bytes; the parameters alone to {params}"


def test_fit_and_predict_on_a_local_cluster():
    distributed = pytest.importorskip("dask.distributed")
    d, ref = _fitted(12, 3, seed=1)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        warnings.catch_warnings(record=True) as seen,
    ):
        warnings.simplefilter("always")
        X = da.from_array(d.L, chunks=(4_000, -1))
        lm = LabelModel(3).fit(X)
        probs = lm.predict_proba(X).compute()
    assert not [w for w in seen if "large graph" in str(w.message).lower()]
    np.testing.assert_allclose(lm.accuracies_, ref.accuracies_, atol=1e-9)
    np.testing.assert_allclose(probs, ref.predict_proba(d.L), atol=1e-6)
