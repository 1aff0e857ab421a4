"""The user-facing docs' snippets, run as written: README's quickstart and command-line workflow,
docs/online.md's update workflow, docs/dependencies_and_sequences.md's sequence commands and
docs/workflow.md's applier snippet, on small synthetic data (and the tennis data where present).

Each test checks what the text around the snippet promises (shapes, column names, messages,
file formats), so a change of the API or of the CLI that leaves a doc behind fails here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import DATA_DIR, run_cli

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.datasets import make_synthetic, make_synthetic_sequences


@pytest.fixture(scope="module")
def synth():
    return make_synthetic(3000, 6, 2, random_state=7)


def test_readme_quickstart(tmp_path, synth):
    L_train, L_test, Y_test = synth.L[:2000], synth.L[2000:], synth.y[2000:]
    model = LabelModel(cardinality=2).fit(L_train)
    assert isinstance(model, LabelModel)  # fit returns self
    probs = model.predict_proba(L_test)
    assert probs.shape == (1000, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    preds = model.predict(L_test, tie_break_policy="random")
    assert preds.shape == (1000,) and set(np.unique(preds)) <= {0, 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows without a vote are scored with a warning
        scores = model.score(L_test, Y_test, metrics=["accuracy", "f1", "brier"])
    assert set(scores) == {"accuracy", "f1", "brier"}
    assert scores["accuracy"] > 0.7
    assert model.accuracies_.shape == (6,)
    assert model.class_balance_.shape == (2,)
    assert model.coverage_.shape == (6,)
    path = tmp_path / "model.json"
    model.save(str(path))
    loaded = LabelModel.load(str(path))
    np.testing.assert_array_equal(loaded.predict_proba(L_test), probs)
    filled = LabelModel()
    filled.load(str(path))  # on an instance, load fills it (as Snorkel's does)
    np.testing.assert_array_equal(filled.accuracies_, model.accuracies_)
    # "Snorkel's SGD options such as n_epochs, lr are accepted and ignored with a warning"
    with pytest.warns(UserWarning, match="n_epochs"):
        LabelModel(cardinality=2).fit(L_train, n_epochs=10, lr=0.1)
    mv = MajorityLabelVoter(cardinality=2)
    assert mv.predict_proba(L_test).shape == (1000, 2)


def test_readme_unfitted_model_error_is_value_and_attribute_error(synth):
    with pytest.raises(ValueError) as info:
        LabelModel().predict_proba(synth.L)
    assert isinstance(info.value, AttributeError)


def test_readme_command_line_workflow(tmp_path, synth):
    L = synth.L
    np.save(tmp_path / "L_train.npy", L[:2000].astype(np.int8))
    np.savetxt(tmp_path / "L_test.csv", L[2000:2500], fmt="%d", delimiter=",")
    np.savez(tmp_path / "test.npz", L=L[2000:2500], y=synth.y[2000:2500])
    np.save(tmp_path / "L_batch.npy", L[2500:])

    def ok(*args):
        res = run_cli(*args, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        return res.stdout

    assert "wrote model.json" in ok("fit", "L_train.npy", "-o", "model.json")
    ok("predict", "model.json", "L_test.csv", "-o", "probs.npy")
    probs = np.load(tmp_path / "probs.npy")
    assert probs.shape == (500, 2)
    ok("predict", "model.json", "L_test.csv", "--hard", "-o", "labels.csv")
    lines = (tmp_path / "labels.csv").read_text().splitlines()
    assert lines[0] == "label" and len(lines) == 501
    out = ok("evaluate", "model.json", "test.npz")
    assert "label model" in out and "majority vote" in out and "accuracy" in out
    out = ok("inspect", "model.json")
    assert "class balance" in out and "coverage" in out and "accuracy" in out
    assert "batch 2 of the stream" in ok("update", "model.json", "L_batch.npy")
    out = ok("dependencies", "model.json", "L_train.npy")
    assert "pair" in out and "z" in out

    # "Bad input gets a one-line error and exit code 2"
    np.save(tmp_path / "bad.npy", np.array([[0, 1, -2], [1, 1, 0], [0, 0, 1]]))
    res = run_cli("fit", "bad.npy", "-o", "bad.json", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "-2" in res.stderr


def test_online_md_update_equals_one_fit(tmp_path, synth):
    """docs/online.md: fit on the first batch plus update with the others gives one fit's model."""
    L = synth.L
    for i in range(3):
        np.save(tmp_path / f"batch{i}.npy", L[i * 1000 : (i + 1) * 1000])
    np.save(tmp_path / "all.npy", L)
    for args in (
        ("fit", "batch0.npy", "-o", "model.json"),
        ("update", "model.json", "batch1.npy"),
        ("update", "model.json", "batch2.npy", "-o", "model-2.json", "--class-balance", "0.3,0.7"),
        ("fit", "all.npy", "-o", "one.json", "--class-balance", "0.3,0.7"),
    ):
        res = run_cli(*args, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
    streamed = LabelModel.load(str(tmp_path / "model-2.json"))
    one = LabelModel.load(str(tmp_path / "one.json"))
    np.testing.assert_allclose(streamed.class_balance_, [0.3, 0.7])
    np.testing.assert_allclose(streamed.predict_proba(L), one.predict_proba(L), atol=1e-8)


def test_sequences_md_command_line(tmp_path):
    s = make_synthetic_sequences(40, 40, 6, 2, persistence=0.9, random_state=0)
    cut = int(np.searchsorted(s.sequence_ids, 30))
    np.savez(tmp_path / "frames_train.npz", L=s.L[:cut], seq=s.sequence_ids[:cut])
    np.savez(tmp_path / "frames_valid.npz", L=s.L[cut:], seq=s.sequence_ids[cut:], y=s.y[cut:])
    res = run_cli(
        "fit", "frames_train.npz", "--sequence-ids", "frames_train.npz", "-o", "chain.json", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "sequence label model (persistence" in res.stdout
    res = run_cli(
        "evaluate", "chain.json", "frames_valid.npz", "--sequence-ids", "frames_valid.npz", cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "label model" in res.stdout
    res = run_cli("inspect", "chain.json", cwd=tmp_path)
    assert res.returncode == 0 and "persistence rho=" in res.stdout


def test_sequences_md_tennis_window(tmp_path):
    """docs/dependencies_and_sequences.md: `fit tennis/train.npz --window 3`; rho 0.861 in the table."""
    train = DATA_DIR / "tennis_flyingsquid" / "train.npz"
    if not train.is_file():
        pytest.skip(f"shared dataset 'tennis_flyingsquid' not found under {DATA_DIR} (set TRIPLETWS_DATA)")
    res = run_cli("fit", train, "--window", "3", "-o", "chain3.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    from tripletws import SequenceLabelModel

    chain = SequenceLabelModel.load(str(tmp_path / "chain3.json"))
    assert chain.persistence_ == pytest.approx(0.861, abs=0.0005)


def test_dependencies_md_declared_copy(synth):
    from tripletws.datasets import add_dependent_lf

    d = add_dependent_lf(synth, 0, share=1.0, random_state=1)
    with pytest.warns(UserWarning, match="symmetric model"):
        model = LabelModel(cardinality=2).fit(d.L, dependencies=[(0, 6), (3, 4)])
    np.testing.assert_array_equal(model.dependencies_, [[0, 6], [3, 4]])
    assert model.coupling_.shape == (2,)
    assert model.coupling_[0] == pytest.approx(1.0, abs=0.01)  # "about 1 for a copy"
    with pytest.raises(ValueError, match="to itself"):
        LabelModel(model="symmetric").fit(d.L, dependencies=[(1, 1)])


def test_workflow_md_appliers():
    pd = pytest.importorskip("pandas")
    from tripletws.labeling import (
        ABSTAIN,
        PandasLFApplier,
        keyword_lf,
        labeling_function,
        preprocessor,
        regex_lf,
        threshold_lf,
    )

    @preprocessor(memoize=True)
    def tokens(x):
        return {"words": x["text"].split()}

    @labeling_function(pre=[tokens])
    def lf_not_good(x):
        return 0 if "not good" in " ".join(x["words"]) else ABSTAIN

    lfs = [
        lf_not_good,
        keyword_lf(["refund", "broken"], label=0),
        regex_lf(r"\b5 stars?\b", label=1),
        threshold_lf("stars", 3.5, label=1),
    ]
    df = pd.DataFrame(
        {
            "text": ["not good at all", "want a refund", "5 stars", "party time", "broken, 5 stars"],
            "stars": [1.0, 2.0, 5.0, 3.0, 4.0],
        }
    )
    expected = np.array([[0, -1, -1, -1], [-1, 0, -1, -1], [-1, -1, 1, 1], [-1, -1, -1, -1], [-1, 0, 1, 1]])
    L = PandasLFApplier(lfs).apply(df, progress=False)
    np.testing.assert_array_equal(L, expected)
    np.testing.assert_array_equal(PandasLFApplier(lfs, rows="records").apply(df, progress=False), expected)
    L2, meta = PandasLFApplier(lfs).apply(df, fault_tolerant=True, return_meta=True, progress=False)
    np.testing.assert_array_equal(L2, expected)
    assert meta.faults == {}


def test_files_md_one_column_blank_line_is_refused(tmp_path):
    """docs/files.md: a blank line between two rows of a one-column CSV is refused with its line."""
    from tripletws.files import read_labels

    (tmp_path / "y.csv").write_text("y\n1\n\n0\n")
    with pytest.raises(ValueError, match="line 3 is blank"):
        read_labels(tmp_path / "y.csv")
    (tmp_path / "y_end.csv").write_text("1\n0\n\n")
    np.testing.assert_array_equal(read_labels(tmp_path / "y_end.csv"), [1, 0])
