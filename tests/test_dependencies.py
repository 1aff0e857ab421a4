"""Declared LF dependencies: validation, estimation without the pair, joint inference, diagnostic."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from tripletws import LabelModel, LabelModelParams
from tripletws.datasets import add_dependent_lf, make_synthetic
from tripletws.dependencies import check_dependencies, components, lfs_without_triplet, spanning_forest
from tripletws.diagnostics import dependency_candidates

ACC = [0.75, 0.7, 0.8, 0.65, 0.7, 0.75]
COV = 0.6
N = 60_000


def accuracy_tolerance(acc, coverage: float, n: int, k: int, c: float = 4.0) -> float:
    """c standard errors of an accuracy from one triplet (delta method), for the best-determined LF.

    ``b = (k alpha - 1) / (k - 1)``; a pair's moment ``M = b_i b_j`` from ``N = n cov^2``
    co-votes has ``sd(M) = k / (k - 1) sqrt(A (1 - A) / N)``, ``A = (1 + (k - 1) M) / k``;
    ``|b_i| = sqrt(M_ij M_il / M_jl)`` gives ``sd(b_i) / b_i = 1/2 sqrt(sum (sd(M) / M)^2)``,
    and ``sd(alpha) = (k - 1) / k sd(b)``.  The median LF's two strongest partners are used
    (the triplet mean does at least as well as its best triplet in these settings).
    """
    b = np.sort((k * np.asarray(acc) - 1) / (k - 1))[::-1]
    bi, bj, bl = float(np.median(b)), b[0], b[1]
    N_co = n * coverage**2

    def rel(M: float) -> float:
        A = (1 + (k - 1) * M) / k
        return k / (k - 1) * math.sqrt(A * (1 - A) / N_co) / M

    rel_b = 0.5 * math.sqrt(rel(bi * bj) ** 2 + rel(bi * bl) ** 2 + rel(bj * bl) ** 2)
    return c * (k - 1) / k * bi * rel_b


def mcnemar_slack(pred_a: np.ndarray, pred_b: np.ndarray, c: float = 3.0) -> float:
    """c standard errors of a paired accuracy difference: sqrt(discordant fraction / n)."""
    return c * math.sqrt(np.mean(pred_a != pred_b) / len(pred_a))


def _fit(k, L, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(k).fit(L, **kw)


# -- validation ---------------------------------------------------------------


def test_check_dependencies_normalises_and_validates():
    assert check_dependencies(None, 5).shape == (0, 2)
    assert check_dependencies([(3, 1), [0, 4]], 5).tolist() == [[1, 3], [0, 4]]
    assert check_dependencies(np.array([[0, 1]]), 3).tolist() == [[0, 1]]
    with pytest.raises(ValueError, match=r"out of range 0\.\.4"):
        check_dependencies([(0, 5)], 5)
    with pytest.raises(ValueError, match="out of range"):
        check_dependencies([(-1, 2)], 5)
    with pytest.raises(ValueError, match="itself"):
        check_dependencies([(2, 2)], 5)
    with pytest.raises(ValueError, match="declared twice"):
        check_dependencies([(0, 1), (1, 0)], 5)
    with pytest.raises(ValueError, match="must be integers"):
        check_dependencies([(0.5, 1)], 5)
    with pytest.raises(ValueError, match="not a pair"):
        check_dependencies([(0, 1, 2)], 5)


def test_graph_leaving_an_lf_without_triplet_names_it():
    d = make_synthetic(n=2000, m=4, accuracies=0.8, random_state=0)
    with pytest.raises(ValueError, match=r"LF\(s\) 0 without a triplet"):
        LabelModel().fit(d.L, dependencies=[(0, 1), (0, 2), (0, 3)])
    d3 = make_synthetic(n=2000, m=3, accuracies=0.8, random_state=0)
    with pytest.raises(ValueError, match=r"LF\(s\) 0, 1, 2 without"):
        LabelModel().fit(d3.L, dependencies=[(0, 1)])
    # LF 4 is untouched by the edges but every pair among the others is dependent
    edges = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    assert 4 in lfs_without_triplet(check_dependencies(edges, 5), 5)


def test_graph_helpers():
    edges = check_dependencies([(0, 1), (1, 2), (0, 2), (4, 5)], 6)
    comps = components(edges, 6)
    assert [c.tolist() for c in comps] == [[0, 1, 2], [4, 5]]
    keep = spanning_forest(edges, 6, np.array([3.0, 2.0, 1.0, 1.0]))
    assert keep.tolist() == [True, True, False, True]


def test_fit_argument_overrides_constructor():
    d = make_synthetic(n=5000, m=6, accuracies=ACC, coverage=COV, random_state=1)
    model = LabelModel(dependencies=[(0, 1)])
    model.fit(d.L)
    assert model.dependencies_.tolist() == [[0, 1]]
    model.fit(d.L, dependencies=[])
    assert model.dependencies_.shape == (0, 2)
    assert not model.params_.has_dependencies


@pytest.mark.parametrize("model", ["annotator", "class_conditional"])
def test_models_handing_dependencies_to_the_symmetric_one_name_the_pairs(model):
    d = make_synthetic(n=3000, m=6, accuracies=ACC, coverage=COV, random_state=2)
    with pytest.warns(UserWarning, match=r"LF pairs \(0, 1\), \(2, 4\)\) are modelled by the symmetric"):
        fitted = LabelModel(model=model).fit(d.L, dependencies=[(0, 1), (2, 4)])
    assert any(f"instead of the {model} model" in note for note in fitted.notes_)
    assert fitted.params_.has_dependencies


# -- estimation and inference ---------------------------------------------------


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("share", [1.0, 0.8])
def test_declared_dependency_keeps_accuracies_and_labels(k, share):
    base_data = make_synthetic(n=N, m=6, k=k, accuracies=ACC, coverage=COV, random_state=10 + k)
    data = add_dependent_lf(base_data, 0, share=share, accuracy=0.7, random_state=20 + k)
    y = data.y
    tol = accuracy_tolerance(data.accuracies, COV, N, k)
    naive = _fit(k, data.L)
    declared = _fit(k, data.L, dependencies=[(0, 6)])
    base = _fit(k, base_data.L)

    err_declared = np.abs(declared.accuracies_ - data.accuracies)
    err_naive = np.abs(naive.accuracies_ - data.accuracies)
    assert err_declared.max() <= tol, (err_declared, tol)
    # the test has power: without the edge the dependent pair inflates its accuracies
    assert err_naive.max() > tol, (err_naive, tol)

    pred_dec = declared.predict(data.L, tie_break_policy="random")
    pred_base = base.predict(base_data.L, tie_break_policy="random")
    acc_dec, acc_base = np.mean(pred_dec == y), np.mean(pred_base == y)
    assert acc_dec >= acc_base - mcnemar_slack(pred_dec, pred_base), (acc_dec, acc_base)
    assert declared.coupling_[0] == pytest.approx(share, abs=0.05 if share < 1 else 1e-3)


def test_exact_duplicate_gives_the_posterior_without_it():
    k = 2
    d = make_synthetic(n=N, m=6, k=k, accuracies=ACC, coverage=COV, random_state=3)
    dup = np.hstack([d.L, d.L[:, [2]]])
    base = _fit(k, d.L)
    declared = _fit(k, dup, dependencies=[(2, 6)])
    # the duplicate adds no information: posteriors agree up to estimation noise in alpha
    diff = np.abs(declared.predict_proba(dup) - base.predict_proba(d.L)).max()
    assert diff < 0.05, diff


def test_clique_of_three_copies_and_cycle_warning():
    d = make_synthetic(n=N, m=6, accuracies=ACC, coverage=COV, random_state=4)
    L = np.hstack([d.L, d.L[:, [1, 1]]])  # LFs 6 and 7 copy LF 1
    truth = np.append(d.accuracies, [d.accuracies[1]] * 2)
    tol = accuracy_tolerance(truth, COV, N, 2)
    with pytest.warns(UserWarning, match="close cycles"):
        model = LabelModel().fit(L, dependencies=[(1, 6), (1, 7), (6, 7)])
    assert len(model.params_.edges) == 2  # a spanning tree of the triangle
    assert np.abs(model.accuracies_ - truth).max() <= tol
    base = _fit(2, d.L)
    p_dep = model.predict(L, tie_break_policy="random")
    p_base = base.predict(d.L, tie_break_policy="random")
    assert np.mean(p_dep == d.y) >= np.mean(p_base == d.y) - mcnemar_slack(p_dep, p_base)


def test_dependencies_work_with_sparse_input_and_round_trip(tmp_path):
    from tripletws import to_sparse

    d = add_dependent_lf(
        make_synthetic(n=4000, m=5, k=3, accuracies=0.75, coverage=COV, random_state=5),
        1,
        share=0.7,
        random_state=6,
    )
    model = _fit(3, d.L, dependencies=[(1, 5)])
    dense = model.predict_proba(d.L)
    np.testing.assert_allclose(model.predict_proba(to_sparse(d.L, 3)), dense, atol=1e-12)
    np.testing.assert_allclose(model.predict_proba(d.L.astype(np.int64)), dense, atol=1e-12)
    path = tmp_path / "dep.json"
    model.save(path)
    loaded = LabelModel.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(d.L), dense)
    assert loaded.dependencies_.tolist() == [[1, 5]]
    np.testing.assert_array_equal(loaded.coupling_, model.coupling_)


def test_params_record_validates_pair_tables():
    d = make_synthetic(n=3000, m=5, accuracies=0.75, random_state=7)
    model = _fit(2, d.L, dependencies=[(0, 1)])
    rec = model.params_.to_dict()
    again = LabelModelParams.from_dict(rec)
    np.testing.assert_array_equal(again.pair_tables, model.params_.pair_tables)
    bad = dict(rec, pair_tables=(np.asarray(rec["pair_tables"]) * 0.5).tolist())
    with pytest.raises(ValueError, match="sum to 1"):
        LabelModelParams.from_dict(bad)
    bad = dict(rec, edges=[[0, 7]])
    with pytest.raises(ValueError, match="out of range"):
        LabelModelParams.from_dict(bad)
    # the independent path keeps its record unchanged
    assert set(_fit(2, d.L).params_.to_dict()) == {"class_balance", "cond_probs"}


def test_pair_table_margins_match_single_lf_tables():
    d = add_dependent_lf(make_synthetic(n=5000, m=6, k=4, random_state=8), 2, share=0.6, random_state=9)
    model = _fit(4, d.L, dependencies=[(2, 6), (0, 1)])
    t = model.params_.pair_tables
    cp = model.params_.cond_probs
    for e, (i, j) in enumerate(model.params_.edges):
        np.testing.assert_allclose(t[e].sum(axis=1), cp[i], atol=1e-9)
        np.testing.assert_allclose(t[e].sum(axis=0), cp[j], atol=1e-9)
        assert (t[e][1:, 1:] > 0).all()  # co-vote patterns stay possible (log-safe)


# -- diagnostic -----------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3])
def test_diagnostic_finds_the_planted_pair(k):
    data = add_dependent_lf(
        make_synthetic(n=20_000, m=8, k=k, accuracies=0.72, coverage=COV, random_state=30 + k),
        3,
        share=0.6,
        random_state=40 + k,
    )
    naive = _fit(k, data.L)
    table = dependency_candidates(data.L, naive, as_frame=False)
    assert (table[0]["lf_i"], table[0]["lf_j"]) == (3, 8)
    assert table[0]["suspect"]
    assert [r["z"] for r in table] == sorted((r["z"] for r in table), reverse=True)
    # once declared, the pair is not listed, and nothing else is suspect
    declared = _fit(k, data.L, dependencies=[(3, 8)])
    rows = dependency_candidates(None, declared, as_frame=False)
    assert all((r["lf_i"], r["lf_j"]) != (3, 8) for r in rows)
    assert not any(r["suspect"] for r in rows)
    listed = dependency_candidates(None, declared, include_declared=True, as_frame=False)
    assert any(r["declared"] for r in listed)


def test_diagnostic_on_independent_lfs_flags_nothing_and_returns_frame():
    pd = pytest.importorskip("pandas")
    d = make_synthetic(n=20_000, m=10, coverage=COV, random_state=50)
    model = _fit(2, d.L)
    df = dependency_candidates(d.L, model, alpha=0.01)
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 45
    assert not df["suspect"].any()
    assert list(df.columns)[:3] == ["lf_i", "lf_j", "n_covotes"]
    assert len(dependency_candidates(d.L, model, top=5)) == 5


@pytest.mark.parametrize("bad", ["a", -1, 2.5, True])
def test_dependency_candidates_checks_min_covotes(bad):
    data = make_synthetic(500, 5, 2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, model="symmetric").fit(data.L)
    with pytest.raises(ValueError, match="min_covotes must be an integer >= 0"):
        dependency_candidates(data.L, model, min_covotes=bad)
