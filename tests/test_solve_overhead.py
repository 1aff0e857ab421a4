"""Paths of the default's solve that list or sum less than before, checked against the direct sums.

Each compares whole-number sums or booleans (exact in any order), or values gathered from the same
array, so equality is exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.estimators.abstain_check import _unseen_rows
from tripletws.estimators.annotator_design import _Design
from tripletws.estimators.heldout import deal_counts
from tripletws.estimators.votes import row_votes, summary_votes
from tripletws.rows import RowSummary, unique_rows


def _summary(rng: np.random.Generator, n: int, m: int, k: int, abstain: float) -> RowSummary:
    L = rng.integers(0, k, (n, m))
    L[rng.random((n, m)) < abstain] = -1
    rows, inverse = unique_rows(L, k)
    counts = np.bincount(inverse, minlength=len(rows)).astype(np.float64)
    return RowSummary(k, rows, counts, float(n), 10**6)


def _unseen_rows_per_fold(unique: RowSummary, train: np.ndarray) -> np.ndarray:
    """The definition, fold by fold and row by row: an outcome of the row no counted row gives."""
    out = np.zeros(train.shape, dtype=bool)
    for f in range(len(train)):
        counted = unique.rows[train[f] > 0]
        for r, row in enumerate(unique.rows):
            out[f, r] = any(not np.any(counted[:, j] == row[j]) for j in range(len(row)))
    return out


@pytest.mark.parametrize("k,abstain", [(2, 0.0), (2, 0.5), (3, 0.3), (4, 0.8)])
def test_unseen_rows_match_the_definition(k, abstain):
    rng = np.random.default_rng(10 + k)
    unique = _summary(rng, 60, 5, k, abstain)
    folds = deal_counts(unique.rows, unique.counts, k, 3, 0)
    train = unique.counts[None, :] - folds
    got = _unseen_rows(unique, train, summary_votes(unique))
    assert got.dtype == bool and got.shape == train.shape
    np.testing.assert_array_equal(got, _unseen_rows_per_fold(unique, train))


@pytest.mark.parametrize("dense_cells", [20_000, 0])
@pytest.mark.parametrize("abstain", [True, False])
@pytest.mark.parametrize("k,share", [(2, 0.0), (2, 0.5), (3, 0.3), (4, 0.8)])
def test_unseen_rows_by_design_products_match_the_definition(monkeypatch, k, share, abstain, dense_cells):
    """The products of a design whose entries are the votes (lean, or vote-only; dense or CSR)."""
    import tripletws.estimators.annotator_design as design_module

    monkeypatch.setattr(design_module, "DENSE_CELLS", dense_cells)
    rng = np.random.default_rng(20 + k)
    unique = _summary(rng, 80, 6, k, share)
    folds = deal_counts(unique.rows, unique.counts, k, 3, 0)
    train = unique.counts[None, :] - folds
    train[1, rng.random(len(unique.counts)) < 0.5] = 0.0  # fewer counted rows: more unseen outcomes
    D = _Design(unique.rows, k, abstain=abstain, votes=summary_votes(unique))
    D.X  # noqa: B018 (the matrix built, as the EM leaves it)
    got = _unseen_rows(unique, train, summary_votes(unique), D)
    assert got.dtype == bool and got.shape == train.shape
    np.testing.assert_array_equal(got, _unseen_rows_per_fold(unique, train))
    np.testing.assert_array_equal(got, _unseen_rows(unique, train, summary_votes(unique)))


@pytest.mark.parametrize("lean", [True, False])
def test_observed_used_are_the_observed_counts_at_the_used_columns(lean):
    rng = np.random.default_rng(3)
    unique = _summary(rng, 80, 6, 3, 0.4)
    D = _Design(unique.rows, 3, abstain=True, votes=row_votes(unique.rows), lean=lean)
    counts = np.vstack([unique.counts, rng.integers(0, 3, len(unique.counts)).astype(np.float64)])
    full = D.observed(counts).reshape(2, -1)[:, D.used]
    np.testing.assert_array_equal(D.observed_used(counts).T, full)


def test_summary_votes_are_listed_once_and_read_only():
    unique = _summary(np.random.default_rng(4), 40, 4, 2, 0.5)
    votes = summary_votes(unique)
    assert summary_votes(unique) is votes
    for got, want in zip(votes, row_votes(unique.rows), strict=True):
        np.testing.assert_array_equal(got, want)
        assert not got.flags.writeable


def test_design_lazy_columns_and_cached_row_pointers():
    unique = _summary(np.random.default_rng(5), 50, 4, 3, 0.3)
    D = _Design(unique.rows, 3, abstain=False)
    np.testing.assert_array_equal(D.columns, np.arange(D.U))
    np.testing.assert_array_equal(D.says[:, :, 0], D.vote[:, None] == np.arange(3))
    assert D.indptr is D.indptr and D.indptr.dtype == np.int64
    np.testing.assert_array_equal(np.diff(D.indptr), (unique.rows >= 0).sum(axis=1))


def test_sparse_design_entry_sums_equal_the_csr_product():
    # fractional weights: the sums' order matters to the last bit, and both add a column's
    # entries in row order
    rng = np.random.default_rng(6)
    unique = _summary(rng, 3000, 40, 3, 0.9)
    D = _Design(unique.rows, 3, abstain=True, votes=row_votes(unique.rows))
    assert not D.dense
    w = rng.random((5, D.R)) * rng.integers(0, 4, (5, D.R))
    sums = D._entry_sums(w).copy()
    assert "_matrices" not in vars(D)  # no matrix built for them
    np.testing.assert_array_equal(sums, np.asarray(D.XT @ w.T))


def _components_by_search(edges: np.ndarray, m: int) -> list[np.ndarray]:
    """Components of two or more LFs by breadth-first search, in the order of their smallest LF."""
    neighbours: list[set[int]] = [set() for _ in range(m)]
    for i, j in edges.tolist():
        neighbours[i].add(j)
        neighbours[j].add(i)
    seen, out = set(), []
    for start in range(m):
        if start in seen:
            continue
        group, frontier = {start}, [start]
        while frontier:
            frontier = [b for a in frontier for b in neighbours[a] if b not in group]
            group.update(frontier)
        seen |= group
        if len(group) > 1:
            out.append(np.array(sorted(group), dtype=np.int64))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_components_match_a_graph_search(seed):
    from tripletws.dependencies import components

    rng = np.random.default_rng(seed)
    m = 30
    edges = rng.integers(0, m, (rng.integers(0, 25), 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    got, want = components(edges, m), _components_by_search(edges, m)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.int64
        np.testing.assert_array_equal(g, w)
    assert components(np.zeros((0, 2), dtype=np.int64), m) == []


@pytest.mark.parametrize("k,abstain", [(2, 0.5), (3, 0.3), (7, 0.6)])
def test_fold_keys_by_table_equal_the_keys_by_sorted_groups(monkeypatch, k, abstain):
    """Wrapping sums of the (row, class) groups added into a table, or over the votes sorted by group."""
    import tripletws.estimators.heldout as heldout

    rng = np.random.default_rng(30 + k)
    unique = _summary(rng, 3000, 9, k, abstain)
    monkeypatch.setattr(heldout, "fold_keys_kernel", lambda: None)  # the numpy keys, numba loaded or not
    by_table = heldout.row_fold_keys(unique.rows, unique.counts, k, 3)
    monkeypatch.setattr(heldout, "GROUP_TABLE_MAX", 0)
    np.testing.assert_array_equal(by_table, heldout.row_fold_keys(unique.rows, unique.counts, k, 3))


def test_shared_designs_hand_out_fresh_copies_of_a_large_summarys_design(monkeypatch):
    """Within a solve's scope a large summary's design is built once; each later step gets a copy that
    shares its arrays and makes its row blocks again (as a new design would), with the same products."""
    import tripletws.estimators.annotator_design as design_module
    from tripletws.parallel import solve_threads

    monkeypatch.setattr(design_module, "PARALLEL_NNZ", 10)  # row blocks on two threads, at this size
    rng = np.random.default_rng(5)
    unique = _summary(rng, 3000, 8, 2, 0.4)
    assert design_module._large(unique)
    built = []
    real = design_module._Design.__init__
    monkeypatch.setattr(
        design_module._Design, "__init__", lambda self, *a, **kw: built.append(1) or real(self, *a, **kw)
    )
    outside = [design_module.summary_design(unique, 2, abstain=False) for _ in range(2)]
    assert len(built) == 2 and outside[0] is not outside[1]  # no scope: one build per call
    w = rng.random((4, unique.n_unique))
    with solve_threads(2):
        with design_module.shared_designs():
            first = design_module.summary_design(unique, 2, abstain=False)
            blocks = first._blocks  # made under two threads (where the host has them)
            with design_module.shared_designs():  # nested: the outer scope's
                second = design_module.summary_design(unique, 2, abstain=False)
            assert len(built) == 3 and second is not first and second.X is first.X
            assert "_blocks" not in vars(second)
            np.testing.assert_array_equal(
                second._counts(w.reshape(2, 2, -1)), first._counts(w.reshape(2, 2, -1))
            )
            assert [b[:2] for b in second._blocks] == [b[:2] for b in blocks]
        assert design_module._SHARED.designs is None
        third = design_module.summary_design(unique, 2, abstain=False)
    assert len(built) == 4 and third is not first
