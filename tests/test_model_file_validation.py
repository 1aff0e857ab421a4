"""The model loader trusts nothing (issue 9.8): every field is checked, one ValueError names it."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import signed_record

from tripletws import LabelModel, MajorityLabelVoter, SequenceLabelModel
from tripletws.datasets import make_synthetic
from tripletws.io import load_model, model_to_dict

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def records() -> dict[str, dict]:
    d = make_synthetic(1500, 6, 3, coverage=0.6, random_state=41)
    stream = LabelModel(3, window=2)
    for part in np.split(d.L, 3):
        stream.partial_fit(part)
    seq = SequenceLabelModel(3).fit(d.L)
    return {
        "class_conditional": model_to_dict(stream),
        "symmetric": model_to_dict(LabelModel(3, model="symmetric", dependencies=[(0, 1)]).fit(d.L)),
        "majority": model_to_dict(MajorityLabelVoter(3)),
        "sequence": model_to_dict(seq),
    }


def _load(tmp_path: Path, record: dict | str):
    path = tmp_path / "m.json"
    path.write_text(record if isinstance(record, str) else json.dumps(signed_record(record)))
    return load_model(path)


MUTATIONS = [
    ("nesting", lambda r: "[" * 1000 + "]" * 1000, "nested deeper"),
    ("class_counts", lambda r: r["state"]["summary"]["stats"].__setitem__("class_counts", 0), "class_counts"),
    ("huge n_rows", lambda r: r["state"]["summary"]["stats"].__setitem__("n_rows", 10**400), "n_rows"),
    ("negative n_rows", lambda r: r["state"]["summary"]["stats"].__setitem__("n_rows", -5), "n_rows"),
    ("chunk_size", lambda r: r["params"].__setitem__("chunk_size", "abc"), "chunk_size"),
    ("eps", lambda r: r["params"].__setitem__("eps", "x"), "eps"),
    ("random_state", lambda r: r["params"].__setitem__("random_state", "x"), "random_state"),
    ("schema_version", lambda r: r.__setitem__("schema_version", True), "schema_version"),
    ("n_batches", lambda r: r["state"]["stream"].__setitem__("n_batches", -1), "n_batches"),
    ("level", lambda r: r["state"]["summary"]["rows"].__setitem__("level", 99), "rows.level"),
    (
        "source",
        lambda r: r["state"]["solution"].__setitem__("class_balance_source", 3),
        "class_balance_source",
    ),
    ("model", lambda r: r["state"]["solution"].__setitem__("model", "symmetric"), "solution.model"),
    ("self-loop", lambda r: r["params"].__setitem__("dependencies", [[0, 0]]), "links LF 0 to itself"),
    ("verbose", lambda r: r["params"].__setitem__("verbose", "yes"), "verbose"),
    ("device", lambda r: r["params"].__setitem__("device", 7), "device"),
]


@pytest.mark.parametrize(("name", "edit", "field"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_listed_mutations_raise_one_value_error_naming_the_field(records, tmp_path, name, edit, field):
    record = copy.deepcopy(records["class_conditional"])
    out = edit(record)
    with pytest.raises(ValueError, match=field):
        _load(tmp_path, out if isinstance(out, str) else record)


def test_agree_above_covote_is_inconsistent(records, tmp_path):
    from tripletws.arrays import decode_array, encode_array

    record = copy.deepcopy(records["class_conditional"])
    stats = record["state"]["summary"]["stats"]
    agree = decode_array(stats["agree"], "agree")
    agree[0, 1] = agree[1, 0] = decode_array(stats["covote"], "covote")[0, 1] + 1
    stats["agree"] = encode_array(agree)
    with pytest.raises(ValueError, match="agree exceeds"):
        _load(tmp_path, record)


def test_majority_voter_with_a_state_object(records, tmp_path):
    record = copy.deepcopy(records["majority"])
    record["state"] = {}
    with pytest.raises(ValueError, match="no fitted state"):
        _load(tmp_path, record)


def test_file_size_is_capped_before_parsing(records, tmp_path, monkeypatch):
    import tripletws.io as io

    path = tmp_path / "m.json"
    path.write_text(json.dumps(records["symmetric"]))
    monkeypatch.setattr(io, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed a file over the size cap"))
    with pytest.raises(ValueError, match="larger than a model file may be"):
        load_model(path)


def test_cli_reports_a_bad_file_in_one_line(records, tmp_path):
    record = copy.deepcopy(records["class_conditional"])
    record["params"]["eps"] = "x"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(signed_record(record)))
    cmd = [sys.executable, "-m", "tripletws", "inspect", str(path)]
    res = subprocess.run(cmd, capture_output=True, text=True, env={"PYTHONPATH": str(SRC)}, timeout=120)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "eps" in res.stderr


# -- hypothesis: arbitrary edits of valid files -----------------------------------------

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=8,
)


def _paths(obj, prefix=()):
    """Every path to a value inside a JSON record (the envelope's checksum left out)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if prefix == () and key == "sha256":
                continue
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj[:3]):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


@hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
@hypothesis.given(
    which=st.sampled_from(["class_conditional", "symmetric", "majority", "sequence"]),
    pick=st.integers(0, 10**6),
    value=JSON,
    delete=st.booleans(),
)
def test_mutated_files_raise_only_value_or_type_errors(records, tmp_path_factory, which, pick, value, delete):
    record = copy.deepcopy(records[which])
    paths = list(_paths(record))
    path = paths[pick % len(paths)]
    parent = record
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        model = _load(tmp_path_factory.mktemp("mut"), record)
    except (ValueError, TypeError):
        return
    if getattr(model, "cardinality", None) == 3 and hasattr(model, "predict_proba"):
        try:
            probs = model.predict_proba(make_synthetic(50, 6, 3, random_state=0).L)
        except (ValueError, TypeError, RuntimeError):  # e.g. an unfitted model, a different m
            return
        assert np.all(np.isfinite(probs)) and np.allclose(probs.sum(axis=1), 1.0)
