"""fit --intervals stores bootstrap intervals; inspect prints them."""

from __future__ import annotations

import json

import numpy as np
from test_cli import run_main

from tripletws import LabelModel
from tripletws.datasets import make_synthetic


def test_fit_with_intervals_and_inspect(tmp_path):
    d = make_synthetic(4_000, 5, 2, random_state=4)
    L, model = tmp_path / "L.npy", tmp_path / "m.json"
    np.save(L, d.L)
    res = run_main("fit", L, "-o", model, "--intervals", "60", "--seed", "1")
    assert res.returncode == 0, res.stderr
    fitted = LabelModel.load(model)
    ci = fitted.intervals_
    assert ci.n_boot == 60 and ci.level == 0.95
    assert np.all((ci.accuracy_low <= fitted.accuracies_) & (fitted.accuracies_ <= ci.accuracy_high))
    text = run_main("inspect", model).stdout
    assert "95% bootstrap intervals (60 replicates over 100 row chunks)" in text
    assert "acc. low" in text and "acc. high" in text
    record = json.loads(run_main("inspect", model, "--json").stdout)
    np.testing.assert_allclose(record["intervals"]["accuracy_low"], ci.accuracy_low)
    plain = tmp_path / "plain.json"
    assert run_main("fit", L, "-o", plain).returncode == 0
    assert "acc. low" not in run_main("inspect", plain).stdout
