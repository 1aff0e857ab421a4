"""Declared dependencies between labeling functions: validation and graph helpers.

A dependency is an undirected edge ``(i, j)`` between two LFs whose votes are
correlated beyond what the class explains (two LFs built on the same keyword
list, a copy of an LF, two models trained on the same data).  The triplet
estimator must not use the pair's agreement (it measures the dependence, not
the accuracies), and inference must not count the pair as two independent
witnesses.

The graph is small (m nodes), so plain union-find and Kruskal's algorithm do;
no graph library is needed.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def _lf_index(value: Any, m: int, edge: Any, names: Sequence[str] | None = None) -> int:
    if isinstance(value, str):  # an LF's name: the column of a DataFrame L named so
        if names is None:
            raise ValueError(
                f"dependency {edge!r}: LF {value!r} is given by name, but L names no columns (a DataFrame "
                "with distinct string column names does): give LF indices 0..m-1"
            )
        if value not in names:
            shown = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "")
            raise ValueError(f"dependency {edge!r}: no LF is named {value!r} (L's LFs: {shown})"[:400])
        return list(names).index(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"dependency {edge!r}: LF indices must be integers, got {value!r}")
    i = int(value)
    if not 0 <= i < m:
        raise ValueError(f"dependency {edge!r}: LF index {i} is out of range 0..{m - 1}")
    return i


def check_dependencies(
    dependencies: Iterable[Any] | None, m: int, names: Sequence[str] | None = None
) -> np.ndarray:
    """Validate declared LF dependencies.

    Parameters
    ----------
    dependencies : iterable of pairs (i, j), array of shape (E, 2), or None
        Undirected edges between LF indices ``0..m-1`` (or LF names, where ``names`` is given).
    m : int
        Number of LFs.
    names : sequence of str, optional
        The LFs' names (the columns of a DataFrame ``L``): an LF given by a string is the column of
        that name.

    Returns
    -------
    ndarray of int64, shape (E, 2)
        The edges with ``i < j``, in the order given.

    Raises
    ------
    ValueError
        An index out of range or not an integer, a name that no LF has (or a name where the LFs
        have none), a self-loop, or an edge given twice (in either direction).
    """
    if dependencies is None:
        return np.zeros((0, 2), dtype=np.int64)
    if isinstance(dependencies, np.ndarray):
        if dependencies.size == 0:
            return np.zeros((0, 2), dtype=np.int64)
        if dependencies.ndim != 2 or dependencies.shape[1] != 2:
            raise ValueError(f"dependencies must have shape (E, 2), got {dependencies.shape}")
        items: list[Any] = [tuple(row) for row in dependencies.tolist()]
    elif isinstance(dependencies, (str, bytes)) or not isinstance(dependencies, Iterable):
        raise ValueError(f"dependencies must be a list of LF index pairs (i, j), got {dependencies!r}"[:200])
    else:
        items = list(dependencies)
    edges = []
    seen: dict[tuple[int, int], Any] = {}
    for edge in items:
        if isinstance(edge, (str, bytes)) or not hasattr(edge, "__len__") or len(edge) != 2:
            raise ValueError(f"dependency {edge!r} is not a pair of LF indices (i, j)")
        i, j = (_lf_index(v, m, edge, names) for v in edge)
        if i == j:
            raise ValueError(f"dependency {edge!r} links LF {i} to itself")
        key = (min(i, j), max(i, j))
        if key in seen:
            raise ValueError(f"dependency {edge!r} is declared twice (also as {seen[key]!r})")
        seen[key] = edge
        edges.append(key)
    return np.asarray(edges, dtype=np.int64).reshape(-1, 2)


def dependency_mask(edges: np.ndarray, m: int) -> np.ndarray:
    """Symmetric boolean adjacency matrix (m, m) of the edges."""
    mask = np.zeros((m, m), dtype=bool)
    if len(edges):
        mask[edges[:, 0], edges[:, 1]] = True
        mask[edges[:, 1], edges[:, 0]] = True
    return mask


def lfs_without_triplet(edges: np.ndarray, m: int) -> np.ndarray:
    """LFs left without a triplet of mutually non-dependent LFs.

    LF i needs two other LFs j, l such that none of (i, j), (i, l), (j, l) is a
    declared dependency.  Only the graph is checked here (the data may still leave
    an LF without usable co-votes; the estimator warns about that).

    Returns
    -------
    ndarray of int, the LF indices without a triplet (sorted)
    """
    if m < 3:
        return np.arange(m)
    if len(edges) == 0:
        return np.zeros(0, dtype=np.int64)
    allowed = ~dependency_mask(edges, m)
    np.fill_diagonal(allowed, False)
    bad = []
    touched = np.unique(edges)
    for i in touched:
        nb = np.flatnonzero(allowed[i])
        if not allowed[np.ix_(nb, nb)].any():
            bad.append(int(i))
    # An LF with no declared edge has every other LF as a partner: it lacks a
    # triplet only if all the others are pairwise dependent.
    if len(edges) >= (m - 1) * (m - 2) // 2:
        bad.extend(int(i) for i in np.setdiff1d(np.arange(m), touched))
    return np.asarray(sorted(bad), dtype=np.int64)


def components(edges: np.ndarray, m: int) -> list[np.ndarray]:
    """Connected components with at least two LFs (union-find), each sorted, in the order of their
    smallest LF (int64 arrays).

    On Python ints (a list, not an array: an element of an array costs a boxed scalar each time it
    is read); each union hangs the larger root under the smaller, so a component's root is its
    smallest LF.
    """
    parent = list(range(m))

    def find(a: int) -> int:
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    for i, j in np.asarray(edges, dtype=np.int64).reshape(-1, 2).tolist():
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for a in range(m):
        groups.setdefault(find(a), []).append(a)
    return [np.array(g, dtype=np.int64) for _, g in sorted(groups.items()) if len(g) > 1]


def spanning_forest(edges: np.ndarray, m: int, weights: np.ndarray) -> np.ndarray:
    """Kruskal's maximum-weight spanning forest.

    Parameters
    ----------
    edges : ndarray (E, 2)
    m : int
    weights : ndarray (E,)
        Larger = kept first.

    Returns
    -------
    ndarray of bool, shape (E,)
        True for the edges in the forest; the others close a cycle.
    """
    parent = np.arange(m)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    keep = np.zeros(len(edges), dtype=bool)
    for e in np.argsort(-np.asarray(weights), kind="stable"):
        ri, rj = find(int(edges[e, 0])), find(int(edges[e, 1]))
        if ri != rj:
            parent[ri] = rj
            keep[e] = True
    return keep
