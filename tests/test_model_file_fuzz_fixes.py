"""Model-file and estimator-API bugs found by fuzzing saved models: each test failed before its fix."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from tripletws import SequenceLabelModel
from tripletws.datasets import make_synthetic
from tripletws.io import _canonical, load_model


def _write_signed(record: dict[str, Any], path: Path) -> Path:
    """``record`` written to ``path`` with a checksum that matches its (edited) content."""
    body = {key: value for key, value in record.items() if key != "sha256"}
    body["sha256"] = hashlib.sha256(_canonical(body)).hexdigest()
    path.write_text(json.dumps(body))
    return path


@pytest.fixture(scope="module")
def data():
    return make_synthetic(900, 6, 3, coverage=0.6, random_state=7)


@pytest.fixture(scope="module")
def sequence_record(data, tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("seq") / "seq.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SequenceLabelModel(3).partial_fit(data.L[:450]).partial_fit(data.L[450:]).save(path)
    return json.loads(path.read_text())


# -- SequenceLabelModel: its constructor parameters are checked on load ------------------------------


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("window", "abc"),
        ("window", 0),
        ("chunk_size", "x"),
        ("chunk_size", 0),
        ("eps", "x"),
        ("solver", "nope"),
        ("signs", 3),
        ("class_balance", [0.5]),
        ("persistence", 5),
        ("same_lf_pairs", "yes"),
        ("verbose", "yes"),
    ],
)
def test_sequence_file_with_a_bad_parameter_is_refused_on_load(sequence_record, tmp_path, param, value):
    record = json.loads(json.dumps(sequence_record))
    record["params"][param] = value
    with pytest.raises(ValueError, match=param):
        load_model(_write_signed(record, tmp_path / "bad.json"))
