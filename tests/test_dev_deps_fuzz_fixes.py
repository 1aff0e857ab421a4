"""Fixes found by fuzzing the small labelled dev set (``fit(L, L_dev=, Y_dev=)``) and declared LF
dependencies (``fit(L, dependencies=)``, :func:`tripletws.diagnostics.dependency_candidates`).

Each test says what the old behaviour was.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import signed_record

from tripletws import LabelModel


def _votes(n: int, m: int = 5, k: int = 2, seed: int = 0, acc: float = 0.7, cov: float = 0.7):
    """(L, y): m independent LFs of accuracy ``acc`` voting on a share ``cov`` of n rows."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    L = np.full((n, m), -1)
    for j in range(m):
        votes = rng.random(n) < cov
        right = rng.random(n) < acc
        wrong = (y + rng.integers(1, k, n)) % k
        L[votes, j] = np.where(right, y, wrong)[votes]
    return L, y


def _imbalanced(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes, about 1100 rows of class 0 and 400 of class 1 (the estimated prior is not uniform)."""
    L, y = _votes(1500, seed=seed)
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:400]]
    return L[keep], y[keep]


def _quiet_fit(model: LabelModel, *args, **kwargs) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(*args, **kwargs)


# --------------------------------------------------------------------------------------------------
# the dev set
# --------------------------------------------------------------------------------------------------


def test_dev_choice_of_a_uniform_prior_family_says_uniform():
    """Old: a gold-free fit with an estimated prior replaced by a family fitted and predicting under the
    uniform prior (here 'one_coin') kept class_balance_source_ == 'estimated' beside class_balance_
    [0.5, 0.5]; the source now says 'uniform'."""
    L, y = _imbalanced(0)
    idx = np.random.default_rng(0).permutation(len(y))[:30]
    model = _quiet_fit(LabelModel(class_balance="estimate", dev_rule="any"), L, L_dev=L[idx], Y_dev=y[idx])
    chosen = model.dev_choice_["chosen"]
    assert chosen == "one_coin"
    np.testing.assert_allclose(model.class_balance_, [0.5, 0.5])
    assert model.class_balance_source_ == "uniform"
    gold_free = _quiet_fit(LabelModel(class_balance="estimate"), L)
    assert gold_free.class_balance_source_ == "estimated"


def test_dev_choice_source_of_each_kind_of_candidate():
    from tripletws.dev_choice import dev_choice_source

    assert dev_choice_source("gold_free", "estimated") == "estimated"
    assert dev_choice_source("gold_free+relabel", "estimated") == "estimated"
    assert dev_choice_source("mace+dev_prior", "estimated") == "Y_dev"
    assert dev_choice_source("mace+relabel+dev_prior", "uniform") == "Y_dev"
    assert dev_choice_source("mace", "estimated") == "uniform"
    assert dev_choice_source("mace+relabel", "estimated") == "uniform"
    assert dev_choice_source("mv", "given") == "given"


@pytest.fixture(scope="module")
def dev_file(tmp_path_factory) -> dict:
    """The record of a model whose dev rows chose a '+dev_prior' candidate."""
    import json

    L, _ = _votes(800, m=5, seed=1)
    Y_dev = np.zeros(40, dtype=np.int64)  # one class only: the dev prior is far from uniform
    model = _quiet_fit(LabelModel(dev_rule="any"), L, L_dev=L[:40], Y_dev=Y_dev)
    assert model.dev_choice_["chosen"].endswith("+dev_prior")
    path = tmp_path_factory.mktemp("dev") / "model.json"
    model.save(path)
    return json.loads(path.read_text())


def _edit(record: dict, change) -> dict:
    import copy

    record = copy.deepcopy(record)
    change(record["state"]["solution"])
    return signed_record(record)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        # old: n_dev 0 loaded ("on 0 gold rows"): a dev choice is made on at least one gold row
        (lambda s: s["estimate"]["dev_choice"].update(n_dev=0), "n_dev must be an integer >= 1"),
        # old: any string was a candidate, so a chosen name no fit makes loaded with its own score
        (
            lambda s: (
                s["estimate"]["dev_choice"].update(chosen="bogus"),
                s["estimate"]["dev_choice"]["dev_accuracy"].update(bogus=0.5),
            ),
            "must name a dev choice candidate",
        ),
        (
            lambda s: s["estimate"]["dev_choice"]["dev_accuracy"].update({"gold_free+dev_prior": 0.5}),
            "'gold_free\\+dev_prior'",
        ),
        # old: the record's chosen candidate and the diagnostic disagreed silently
        (lambda s: s["diagnostics"].update(dev_choice="mv"), "diagnostics.dev_choice is 'mv'"),
        (lambda s: s["estimate"].update(dev_choice=None), "estimate.dev_choice.chosen is None"),
        # old: a '+dev_prior' choice loaded with another prior source
        (lambda s: s.update(class_balance_source="uniform"), "class_balance_source is 'uniform'"),
    ],
)
def test_dev_choice_record_is_checked_against_the_fit(dev_file, tmp_path, change, match):
    import json

    from tripletws.io import load_model

    path = tmp_path / "edited.json"
    path.write_text(json.dumps(_edit(dev_file, change)))
    with pytest.raises(ValueError, match=match):
        load_model(path)


def test_dev_choice_record_round_trips(dev_file, tmp_path):
    import json

    from tripletws.io import load_model

    path = tmp_path / "same.json"
    path.write_text(json.dumps(dev_file))
    model = load_model(path)
    assert model.dev_choice_ == dev_file["state"]["solution"]["estimate"]["dev_choice"]
    assert model.class_balance_source_ == "Y_dev"


# --------------------------------------------------------------------------------------------------
# declared dependencies
# --------------------------------------------------------------------------------------------------


def test_dependency_on_an_lf_that_never_votes_keeps_its_partners_votes():
    """Old: an edge (0, 5) with LF 5 silent in L got a pair table giving every vote of LF 5
    probability 0; where LF 5 then voted, the pair's factor was the same for every class, so LF 0's
    vote on that row was ignored too (posteriors 0.25 away from the fit without the edge), silently.
    Now the edge is left out of inference with a note (still declared and out of the triplets)."""
    L, _ = _votes(1000, m=6, seed=2)
    train = L.copy()
    train[:, 5] = -1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(model="symmetric").fit(train, dependencies=[(0, 5), (1, 2)])
    plain = _quiet_fit(LabelModel(model="symmetric"), train, dependencies=[(1, 2)])
    assert model.dependencies_.tolist() == [[0, 5], [1, 2]]
    assert model.params_.edges.tolist() == [[1, 2]]
    np.testing.assert_allclose(model.predict_proba(L), plain.predict_proba(L), atol=1e-12)
    said = "dependencies (0, 5) involve LF(s) 5 that never vote"
    assert any(said in str(w.message) for w in caught)
    assert any(said in note for note in model.notes_)


def test_dependency_candidates_use_the_fitted_classes():
    """Old: after set_params(cardinality=3) on a model fitted with k=2, dependency_candidates counted
    the votes as 3 classes and tested every pair against k=3's expected agreement (expected 0.61
    instead of 0.64 for the copied pair), silently; now the fit's k is used, as predict_proba does."""
    from tripletws import dependency_candidates

    L, _ = _votes(1500, m=6, seed=2)
    L[:, 5] = L[:, 0]  # a copy
    model = _quiet_fit(LabelModel(), L)
    before = dependency_candidates(L, model, as_frame=False)
    model.set_params(cardinality=3)
    after = dependency_candidates(L, model, as_frame=False)
    assert after == before
    assert (before[0]["lf_i"], before[0]["lf_j"]) == (0, 5)


def test_dependencies_by_lf_name_of_a_named_dataframe(tmp_path):
    """Old: dependencies=[("a", "f")] with a DataFrame L whose columns are those names was refused
    ('LF indices must be integers, got 'a''), without saying that names need resolving; now a name is
    the column of that name (dependencies_ holds indices), and the constructor's names survive
    save -> load -> refit."""
    pd = pytest.importorskip("pandas")
    L, _ = _votes(1000, m=6, seed=2)
    df = pd.DataFrame(L, columns=list("abcdef"))
    by_name = _quiet_fit(LabelModel(model="symmetric"), df, dependencies=[("a", "f"), ("b", 2)])
    by_index = _quiet_fit(LabelModel(model="symmetric"), L, dependencies=[(0, 5), (1, 2)])
    assert by_name.dependencies_.tolist() == [[0, 5], [1, 2]]
    np.testing.assert_allclose(by_name.predict_proba(df), by_index.predict_proba(L))
    model = _quiet_fit(LabelModel(model="symmetric", dependencies=[("a", "f")]), df)
    model.save(tmp_path / "named.json")
    loaded = LabelModel.load(tmp_path / "named.json")
    assert loaded.get_params()["dependencies"] == [("a", "f")]  # the pairs as given (tuples)
    loaded.refit()
    assert loaded.dependencies_.tolist() == [[0, 5]]


@pytest.mark.parametrize(
    ("named", "edge", "match"),
    [
        (False, ("a", "b"), "LF 'a' is given by name, but L names no columns"),
        (True, ("a", "x"), "no LF is named 'x'"),
        (True, ("a", "a"), "links LF 0 to itself"),
        (True, ("a", 0), "declared twice|links LF 0 to itself"),
    ],
)
def test_dependencies_by_a_bad_name_are_refused(named, edge, match):
    pd = pytest.importorskip("pandas")
    L, _ = _votes(300, m=6, seed=2)
    data = pd.DataFrame(L, columns=list("abcdef")) if named else L
    with pytest.raises(ValueError, match=match):
        _quiet_fit(LabelModel(model="symmetric"), data, dependencies=[edge])


@pytest.mark.parametrize("model", ["annotator", "class_conditional"])
def test_a_model_without_dependencies_says_what_to_do(model):
    """Old: the warning said that the symmetric model was used instead, not how to choose either
    model; it now names model='symmetric' and dependencies=[]."""
    L, _ = _votes(600, m=6, seed=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LabelModel(model=model).fit(L, dependencies=[(0, 1)])
    said = [str(w.message) for w in caught if "symmetric model only" in str(w.message)]
    assert len(said) == 1
    assert "model='symmetric'" in said[0] and "dependencies=[]" in said[0] and model in said[0]


def test_dev_rows_unused_beside_dependencies_say_why_and_what_to_do():
    """Old: 'L_dev was not used: the symmetric model was solved instead of the annotator model': not
    why (the declared dependencies), nor that Y_dev went unused too, nor what to do."""
    L, y = _votes(800, m=6, seed=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LabelModel(dependencies=[(0, 1)]).fit(L[:700], L_dev=L[700:], Y_dev=y[700:])
    said = [str(w.message) for w in caught if "L_dev was not used" in str(w.message)]
    assert len(said) == 1
    assert "declared dependencies" in said[0] and "nor Y_dev" in said[0] and "without L_dev" in said[0]
    assert model.class_balance_source_ == "uniform"


def test_dev_labels_in_another_row_order_than_the_dev_votes_are_refused():
    """Old: a DataFrame L_dev and a Series Y_dev with the same index in another order were read by
    position, each gold label scoring another row, silently."""
    pd = pytest.importorskip("pandas")
    L, y = _votes(600, m=5, seed=3)
    L_dev = pd.DataFrame(L[:30], index=np.arange(100, 130))
    shuffled = pd.Series(y[:30], index=np.arange(100, 130))[::-1]
    with pytest.raises(ValueError, match=r"another order \(row 0: L_dev's index 100, Y_dev's 129\)"):
        _quiet_fit(LabelModel(), L[30:], L_dev=L_dev, Y_dev=shuffled)
    # other labels (a fresh Series beside df.iloc[rows]) are read by position, as before
    fresh = pd.Series(y[:30])
    assert _quiet_fit(LabelModel(), L[30:], L_dev=L_dev, Y_dev=fresh).dev_choice_["n_dev"] == 30
    aligned = shuffled.loc[L_dev.index]
    assert _quiet_fit(LabelModel(), L[30:], L_dev=L_dev, Y_dev=aligned).dev_choice_["n_dev"] == 30
