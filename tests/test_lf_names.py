"""LF names: kept from named input at fit, saved with the model, checked against named input later."""

from __future__ import annotations

import importlib.util
import json
import warnings

import numpy as np
import pytest
from conftest import signed_record
from test_cli import run_main

from tripletws import LabelModel
from tripletws.datasets import make_synthetic

pd = pytest.importorskip("pandas")

NAMES = ["kw_spam", "regex_url", "len_short", "caps", "emoji"]


@pytest.fixture(scope="module")
def data():
    return make_synthetic(2000, 5, 2, coverage=0.6, random_state=3)


def fitted(L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel().fit(L)


def test_names_kept_and_checked(data, tmp_path):
    frame = pd.DataFrame(data.L, columns=NAMES)
    model = fitted(frame)
    assert model.lf_names_ == tuple(NAMES)
    # the same columns: the predictions of the unnamed matrix
    np.testing.assert_allclose(model.predict_proba(frame), model.predict_proba(data.L), rtol=0, atol=0)
    # two columns swapped: an error naming them, not predictions from the wrong LFs
    swapped = frame[["kw_spam", "len_short", "regex_url", "caps", "emoji"]]
    with pytest.raises(ValueError, match=r"another order: column 1 is 'len_short', expected 'regex_url'"):
        model.predict_proba(swapped)
    renamed = frame.rename(columns={"caps": "CAPS"})
    with pytest.raises(ValueError, match=r"not fitted with: \['CAPS'\].*\['caps'\] are missing"):
        model.predict(renamed)
    with pytest.raises(ValueError, match="another order"):
        model.partial_fit(swapped)
    with pytest.raises(ValueError, match="L_dev names the model's LFs in another order"):
        LabelModel().fit(frame, L_dev=swapped.iloc[:50], Y_dev=data.y[:50])
    # unnamed input is matched by position, as always
    model.predict_proba(data.L[:10])
    # the names travel with the model file
    path = tmp_path / "m.json"
    model.save(path)
    loaded = LabelModel.load(path)
    assert loaded.lf_names_ == tuple(NAMES)
    with pytest.raises(ValueError, match="another order"):
        loaded.predict_proba(swapped)
    # an unnamed fit has none
    assert fitted(data.L).lf_names_ is None


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a", "b"], "2 names for 5 LFs"),
        (["a", "a", "b", "c", "d"], "repeats a name"),
        ("abcde", "list of strings"),
    ],
)
def test_model_file_names_are_validated(data, tmp_path, names, message):
    path = tmp_path / "m.json"
    fitted(pd.DataFrame(data.L, columns=NAMES)).save(path)
    record = json.loads(path.read_text())
    record["state"]["lf_names"] = names
    path.write_text(json.dumps(signed_record(record)))  # a consistent file, bad field
    with pytest.raises(ValueError, match=message):
        LabelModel.load(path)


def test_cli_checks_parquet_and_csv_names(data, tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(data.L, columns=NAMES)
    frame.to_parquet(tmp_path / "L.parquet")
    frame[["kw_spam", "len_short", "regex_url", "caps", "emoji"]].to_parquet(tmp_path / "swapped.parquet")
    frame.to_csv(tmp_path / "same.csv", index=False)
    other = ["emoji", "regex_url", "len_short", "caps", "kw_spam"]
    frame[other].to_csv(tmp_path / "swapped.csv", index=False)
    m = tmp_path / "m.json"
    assert run_main("fit", tmp_path / "L.parquet", "-o", m).returncode == 0
    assert LabelModel.load(m).lf_names_ == tuple(NAMES)
    assert run_main("predict", m, tmp_path / "same.csv", "-o", tmp_path / "p.npy").returncode == 0
    for bad in ("swapped.parquet", "swapped.csv"):
        out = run_main("predict", m, tmp_path / bad, "-o", tmp_path / "p.npy")
        assert out.returncode == 2 and "another order" in out.stderr and bad in out.stderr
    np.save(tmp_path / "L.npy", data.L)  # unnamed: by position
    assert run_main("predict", m, tmp_path / "L.npy", "-o", tmp_path / "p.npy").returncode == 0


def test_value_errors_name_the_column(data, tmp_path):
    """A bad vote in named input is reported with the column's name beside its position."""
    bad = data.L.copy()
    bad[9, 3] = 7
    frame = pd.DataFrame(bad, columns=NAMES)
    with pytest.raises(ValueError, match=r"value 7 in column 3 \('caps'\) \(row 9\)"):
        LabelModel(2).fit(frame)
    model = fitted(pd.DataFrame(data.L, columns=NAMES))
    with pytest.raises(ValueError, match=r"value 7 in column 3 \('caps'\) \(row 9\)"):
        model.predict_proba(frame)
    frame.to_csv(tmp_path / "bad.csv", index=False)
    out = run_main("fit", tmp_path / "bad.csv", "-o", tmp_path / "m.json", "-k", "2")
    assert out.returncode == 2
    assert "bad.csv: label matrix has value 7 in column 3 ('caps') (row 9)" in out.stderr


def test_lf_analysis_names_rows_by_the_frame_columns(data):
    from tripletws import LFAnalysis

    table = LFAnalysis(pd.DataFrame(data.L, columns=NAMES)).lf_summary()
    assert table.index.tolist() == NAMES


def test_sequence_models_keep_and_check_names(tmp_path):
    from tripletws import SequenceLabelModel
    from tripletws.datasets import make_synthetic_sequences

    s = make_synthetic_sequences(20, 50, 5, 2, random_state=0)
    frame = pd.DataFrame(s.L, columns=NAMES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SequenceLabelModel(2).fit(frame, s.sequence_ids)
        assert model.lf_names_ == tuple(NAMES)
        swapped = frame[["regex_url", "kw_spam", "len_short", "caps", "emoji"]]
        with pytest.raises(ValueError, match="another order"):
            model.predict_proba(swapped, s.sequence_ids)
        with pytest.raises(ValueError, match="another order"):
            model.partial_fit(swapped)
        model.partial_fit(frame.iloc[:100])  # the names stay after a re-solve
        assert model.lf_names_ == tuple(NAMES)
        path = tmp_path / "seq.json"
        model.save(path)
        assert SequenceLabelModel.load(path).lf_names_ == tuple(NAMES)
        frame.to_csv(tmp_path / "L.csv", index=False)
        swapped.to_csv(tmp_path / "swapped.csv", index=False)
        assert run_main("fit", tmp_path / "L.csv", "--sequence", "-o", tmp_path / "s.json").returncode == 0
        out = run_main("predict", tmp_path / "s.json", tmp_path / "swapped.csv", "-o", tmp_path / "p.npy")
    assert out.returncode == 2 and "another order" in out.stderr


def test_every_method_that_reads_l_beside_a_fitted_model_checks_its_names(data):
    """score, the intervals, dependency_candidates, lf_summary(model=) and the report took swapped
    columns silently (scores and intervals of the wrong LFs)."""
    from tripletws import LFAnalysis, dependency_candidates

    frame, y = pd.DataFrame(data.L, columns=NAMES), data.y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(frame)
    names = list(frame.columns)
    swapped = frame[[names[1], names[0], *names[2:]]]
    calls = {
        "score": lambda: model.score(swapped, y),
        "confidence_intervals": lambda: model.confidence_intervals(swapped, n_boot=5),
        "dependency_candidates": lambda: dependency_candidates(swapped, model),
        "lf_summary": lambda: LFAnalysis(swapped).lf_summary(Y=y, model=model),
    }
    if importlib.util.find_spec("matplotlib") is not None:
        calls["report"] = lambda: model.report(swapped, Y=y, n_boot=5)
    for call in calls.values():
        with pytest.raises(ValueError, match="in another order"):
            call()


def test_number_and_multiindex_labels_name_the_columns(data):
    """Column labels other than text name the LFs too (as text): swapped columns of a DataFrame
    labelled by numbers or by a MultiIndex are an error, not predictions from the wrong LFs."""
    numbered = pd.DataFrame(data.L, columns=[10, 20, 30, 40, 50])
    model = fitted(numbered)
    assert model.lf_names_ == ("10", "20", "30", "40", "50")
    with pytest.raises(ValueError, match="another order: column 0 is '20', expected '10'"):
        model.predict_proba(numbered[[20, 10, 30, 40, 50]])
    columns = pd.MultiIndex.from_tuples([("kw", "a"), ("kw", "b"), ("re", "a"), ("re", 1), ("x", 2)])
    multi = pd.DataFrame(data.L, columns=columns)
    model = fitted(multi)
    assert model.lf_names_ == ("kw/a", "kw/b", "re/a", "re/1", "x/2")
    with pytest.raises(ValueError, match="another order"):
        model.predict_proba(multi[[("kw", "b"), ("kw", "a"), ("re", "a"), ("re", 1), ("x", 2)]])
    # labels that collide as text, or that are not whole numbers, leave the columns unnamed
    assert fitted(pd.DataFrame(data.L, columns=[1, "1", 2, 3, 4])).lf_names_ is None
    assert fitted(pd.DataFrame(data.L, columns=[0.5, 1.5, 2.5, 3.5, 4.5])).lf_names_ is None


def test_default_columns_reordered_are_refused(data):
    """A DataFrame with the default labels 0..m-1 is unnamed (matched by position); the same columns
    in another order are refused, whether the model was fitted on such a frame or on an array."""
    frame = pd.DataFrame(data.L)
    for model in (fitted(frame), fitted(data.L)):
        assert model.lf_names_ is None
        np.testing.assert_allclose(model.predict_proba(frame), model.predict_proba(data.L), rtol=0, atol=0)
        with pytest.raises(ValueError, match=r"labelled 0..4 in another order \(column 0 is labelled 2"):
            model.predict_proba(frame[[2, 0, 1, 3, 4]])
        # the same columns as an array are matched by position, as the message offers
        model.predict_proba(frame[[2, 0, 1, 3, 4]].to_numpy())


def test_a_stream_started_unnamed_takes_the_first_names_it_is_given(data):
    """An unnamed first batch matches LFs by position; the first named batch then names them, and
    the names hold from there on (a later batch in another order is refused)."""
    frame = pd.DataFrame(data.L, columns=NAMES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel().partial_fit(data.L[:500])
        assert model.lf_names_ is None
        model.partial_fit(frame.iloc[500:1000])
        assert model.lf_names_ == tuple(NAMES)
        with pytest.raises(ValueError, match="another order"):
            model.partial_fit(frame.iloc[1000:1500][NAMES[::-1]])
        model.partial_fit(data.L[1500:])  # unnamed batches stay matched by position
    assert model.lf_names_ == tuple(NAMES)
