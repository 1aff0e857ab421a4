"""The one-hot design of the annotator EM: distinct rows encoded once, and the E-step's arithmetic on it.

The first step of the annotator models' data flow: distinct rows of L -> this design -> the EM
of :mod:`tripletws.estimators.annotator` -> held-out scores (:mod:`tripletws.estimators.heldout`)
-> the family choice (:mod:`tripletws.estimators.family_choice`).  :class:`_Design` encodes the
distinct rows over the (LF, outcome) columns they use, so that a batch of EM fits costs two
design products per step whatever m and k; :func:`posterior_in_place` and
:func:`softmax_in_place` normalise the joint log-scores over the classes, and
:func:`majority_soft_labels` is the start of every EM fit.  The size thresholds below
(:data:`DENSE_CELLS`, :data:`PARALLEL_NNZ`, :data:`KERNEL_NNZ`, :data:`ENTRY_SUM_MAX`) are read
where they are used, at call time, from this module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from itertools import pairwise
from typing import Any

import numpy as np

from ..parallel import map_parts, solve_jobs
from ..params import LabelModelParams
from ..rows import RowSummary
from .em_jit import JIT_MAX_ROWS, design_kernels
from .votes import class_counts, row_votes, summary_memo, summary_votes

#: Floor of a probability before its log (log 0 is -inf).
_TINY = 1e-300
#: Rates are clipped to [_FLOOR, 1 - _FLOOR] (the EM's M-steps and the theta priors).
_FLOOR = 1e-6

#: Designs of at most this many cells (distinct rows x used one-hot columns) are kept dense: one
#: BLAS product then costs less than a sparse product's fixed set-up (measured with 6 right-hand
#: columns: 150 x 20 cells, 3 us dense against 5 us CSR; 628 x 66, 20 us against 7 us);
#: larger ones are CSR matrices.
DENSE_CELLS = 20_000

#: Sparse designs with at least this many entries split their two products by row blocks over the
#: fit's threads (``n_jobs``; scipy's sparse products release the GIL).  Measured on 2 cores: a
#: 20 000 x 200 design with 2e6 entries and 36 right-hand columns, 31-32 ms on one thread, 17-18 ms
#: on two; a thread hand-off costs tens of microseconds, so products under ~0.2 ms stay whole.
PARALLEL_NNZ = 100_000

#: Sparse designs with at least this many entries multiply in the compiled kernels of
#: :mod:`tripletws.estimators._design_kernel` where numba is loaded (the same values as scipy's products,
#: bit for bit, without ``X.T`` or transposed copies); smaller ones (every shared set's) keep scipy's
#: products, where a kernel's call would cost about what it saves.
KERNEL_NNZ = 50_000

#: :func:`summary_design` keeps its designs for summaries of at most
#: :data:`~tripletws.estimators.em_jit.JIT_MAX_ROWS` distinct rows and fewer votes than this (below
#: :data:`KERNEL_NNZ` and :data:`PARALLEL_NNZ`: such a design's products do not depend on the
#: threads or on numba being loaded, so a kept design is the one a fresh build gives).
MEMO_MAX_VOTES = KERNEL_NNZ

#: A sparse design's observed counts of a batch are summed from its entries (no CSR matrix: about
#: 0.3 ms to build for a few thousand entries) up to this many entries times members.
ENTRY_SUM_MAX = 2_000_000


class _Design:
    """One-hot encoding ``X`` (R, U) of a set of distinct rows over the outcomes they use, built once.

    A column is an (LF, outcome) pair that some row gives; the U used columns are sorted by
    LF, then outcome.  A batch of B models' scores is one product with their log tables at
    those columns, and their expected outcome counts one product with their soft labels,
    so an EM step costs two products whatever m and k, and tables are only ever built at
    the U used entries.

    Batched arrays are class-major: tables (U, k, B), scores and soft labels (k, B, R), so
    that sums and maxima over the classes run over whole contiguous slices (a reduction
    over a short last axis costs numpy ten times more).

    With ``abstain=False`` only the votes are encoded (nnz = number of votes, so sparse
    crowd matrices stay cheap; outcomes 0..k-1 are the votes); the vote-only reading makes
    ``P(lambda_i abstains | y) = 1 - c_i`` independent of the class, so the abstentions
    enter the scores through the table of the votes divided by it,
    ``log(T[i, a, y] / (1 - c_i))``, and the constant ``sum_i log(1 - c_i)``.  With
    ``abstain=True`` every outcome has a column (0 = abstain, a = vote a - 1), and the entries
    of ``X`` are again the votes only (``lean``, the default): a row's log-probability is
    ``A_y + sum over the LFs that vote on it of (log T[i, a, y] - log T[i, abstain, y])`` with
    ``A_y = sum_i log T[i, abstain, y]`` one constant per class and model, and an LF's expected
    abstentions per class are the expected rows of the class less its expected votes for it;
    the same quantities as the one-hot encoding of every outcome (``lean=False``, R m entries),
    to rounding, at the cost of the votes.
    """

    def __init__(
        self,
        rows: np.ndarray,
        k: int,
        abstain: bool = True,
        votes: tuple[np.ndarray, ...] | None = None,
        lean: bool = True,
    ) -> None:
        R, m = rows.shape
        width = k + 1 if abstain else k
        self.R, self.m, self.k, self.abstain, self.width = R, m, k, abstain, width
        self.lean = lean = abstain and lean
        extra = np.zeros(0, dtype=np.int64)  # columns with no entry: the abstentions of a lean design
        if abstain and not lean:
            r, i = np.divmod(np.arange(R * m), m)
            col = i * width + rows.reshape(-1).astype(np.int64) + 1
        else:
            r, i, a = row_votes(rows) if votes is None else votes
            col = i * width + a + (1 if abstain else 0)
            if lean:  # an LF abstains on some row when it votes on fewer than all (one vote per row)
                extra = np.flatnonzero(np.bincount(i, minlength=m) < R).astype(np.int64) * width
        if m * width <= 4 * len(col) + 4096:  # np.unique's sort, by a table of the possible columns
            present = np.zeros(m * width, dtype=bool)
            present[col] = True
            present[extra] = True
            used = np.flatnonzero(present)
            pos = (np.cumsum(present) - 1)[col]
        elif lean:
            used = np.union1d(np.unique(col), extra)
            pos = np.searchsorted(used, col)
        else:
            used, pos = np.unique(col, return_inverse=True)
        U = len(used)
        self.U, self.used = U, used  # flat index i * width + a of each used column
        self.lf, self.outcome = np.divmod(used, width)
        self.vote = self.outcome - 1 if abstain else self.outcome  # -1: the abstain column
        if not abstain:  # index of each column in class-major (k, m) tables
            self.class_major = self.vote * m + self.lf
        if lean:
            # an LF's columns are contiguous, its abstain column (when used) first
            starts = np.ones(U, dtype=bool)
            np.not_equal(self.lf[1:], self.lf[:-1], out=starts[1:])
            self.lf_start = np.flatnonzero(starts)
            self.abstain_cols = np.flatnonzero(self.vote < 0)  # (n_a,) used columns
            self.abstain_seg = np.searchsorted(self.lf_start, self.abstain_cols)  # their LF's segment
            # each column's LF's abstain column (U: none, a zero row appended), itself for an abstain column
            at = np.full(m, U)
            at[self.lf[self.abstain_cols]] = self.abstain_cols
            self.base = at[self.lf]
        # the entries of X, row by row: the compiled EM reads them as they are, the numpy path
        # builds X from them on first use
        self._r, self.pos = r, pos.reshape(-1)
        self.dense = R * U <= DENSE_CELLS

    @cached_property
    def columns(self) -> np.ndarray:
        """The used columns' indices 0..U-1 (built on first use: the numpy path's tables read them)."""
        return np.arange(self.U)

    @cached_property
    def says(self) -> np.ndarray:
        """(U, k, 1) bool: the column is a vote for class y (built on first use, as :attr:`columns`)."""
        return (self.vote[:, None] == np.arange(self.k))[:, :, None]

    @cached_property
    def indptr(self) -> np.ndarray:
        """Row pointers (R + 1,) of the entries, sorted by row: row r has ``pos[indptr[r]:indptr[r + 1]]``
        (int64, built once: every compiled batch on the design reads them)."""
        per_row = np.bincount(self._r, minlength=self.R)
        return np.concatenate(([0], np.cumsum(per_row))).astype(np.int64, copy=False)

    @cached_property
    def _pos64(self) -> np.ndarray:
        """The entries' used columns as int64 (the compiled sums' type, built once)."""
        return np.ascontiguousarray(self.pos, dtype=np.int64)

    @cached_property
    def vote_entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The votes of the rows without the abstentions, row by row, as vote columns (built once).

        Returns
        -------
        (indptr, vcol, lf, vote) : int64 arrays (R + 1,), (nnz_votes,), (V,), (V,)
            Row r's votes are ``vcol[indptr[r]:indptr[r + 1]]``, each a vote column 0..V-1 (the used
            columns but the abstain ones, in their order); ``lf`` and ``vote`` name each vote column's
            LF and class.
        """
        i64 = np.int64
        is_vote = self.vote >= 0
        vote_index = np.cumsum(is_vote) - 1
        entry_pos = np.asarray(self.pos, dtype=i64)
        keep = is_vote[entry_pos]
        per_row = np.bincount(self._r[keep], minlength=self.R)
        indptr = np.concatenate(([0], np.cumsum(per_row))).astype(i64)
        return (
            indptr,
            np.ascontiguousarray(vote_index[entry_pos[keep]], dtype=i64),
            np.ascontiguousarray(self.lf[is_vote], dtype=i64),
            np.ascontiguousarray(self.vote[is_vote], dtype=i64),
        )

    @cached_property
    def _csr(self) -> Any:
        """``X``: a dense array when :attr:`dense`, else CSR (every entry 1, each column once a row)."""
        R, U, r, pos = self.R, self.U, self._r, self.pos
        if self.dense:
            X = np.zeros((R, U))
            X[r, pos] = 1.0
            return X
        from scipy import sparse

        # the entries are listed row by row, each row's columns increasing (the LFs' order): the CSR
        # arrays as they are, which scipy's (row, column) construction would sort and check to find
        return sparse.csr_matrix((np.ones(len(r)), pos, self.indptr), shape=(R, U))

    @cached_property
    def _matrices(self) -> tuple[Any, Any]:
        # a sparse X's transpose is a CSC view of its arrays: scipy's CSC product ``X.T @ M`` adds each
        # column's rows in increasing order from zero, the additions of ``X.T.tocsr() @ M``, without
        # building that copy (2.5 ms for the 1e6 x 50 fit's designs) and faster (its counts, 24 columns:
        # 7.4 -> 2.9-4.3 ms)
        X = self._csr
        return X, X.T

    @cached_property
    def _kernels(self) -> Any | None:
        """The compiled products (:mod:`._design_kernel`) for a sparse design of :data:`KERNEL_NNZ`
        entries or more where :func:`~tripletws.estimators.em_jit.design_kernels` gives them; None:
        scipy's products (the same values)."""
        if self.dense or len(self.pos) < KERNEL_NNZ:
            return None
        return design_kernels()

    @cached_property
    def _blocks(self) -> list[tuple[int, int, Any, Any]]:
        """Row blocks ``(start, stop, X[start:stop], X[start:stop].T)`` of a large sparse design, one per
        thread of the solve (:func:`tripletws.parallel.solve_jobs`); empty when the products stay whole.
        With the compiled products the transposes are not needed (None)."""
        jobs = solve_jobs()
        if self.dense or jobs <= 1 or len(self.pos) < PARALLEL_NNZ:
            return []
        X = self.X
        # blocks of about equal entries
        cuts = np.searchsorted(X.indptr, np.linspace(0, X.nnz, jobs + 1)[1:-1])
        bounds = [0, *sorted({int(c) for c in cuts if 0 < c < self.R}), self.R]
        lean = self._kernels is not None
        return [(a, b, X[a:b], None if lean else X[a:b].T) for a, b in pairwise(bounds)]

    def fresh(self) -> _Design:
        """A copy sharing this design's arrays and matrices, without what depends on where it is first
        used (:attr:`_blocks`: the solve's threads; :attr:`_kernels`: numba loaded): those are made
        again on first use, as a new design's would be."""
        copy = object.__new__(type(self))
        copy.__dict__.update({k: v for k, v in vars(self).items() if k not in ("_blocks", "_kernels")})
        return copy

    @property
    def X(self) -> Any:
        """The design (R, U): dense when at most :data:`DENSE_CELLS` cells, else CSR."""
        return self._csr

    @property
    def XT(self) -> Any:
        """Its transpose (U, R), a CSC view of ``X`` when sparse."""
        return self._matrices[1]

    def _product(self, X: Any, flat: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``(X @ flat).T`` for a block ``X`` of the sparse design's rows and ``flat`` (U, c): (c, rows),
        into ``out`` when given."""
        kern = self._kernels
        c = flat.shape[1]
        if out is None:
            out = np.empty((c, X.shape[0]))
        if kern is not None and (c in (2, 4, 6, 8) or c >= 12):  # (the kernel's fast cases: scipy's below)
            kern.sums_t(X.indptr, X.indices, np.ascontiguousarray(flat), out)
        else:
            out[...] = np.asarray(X @ flat).T
        return out

    def _transposed_product(self, X: Any, XT: Any, W: np.ndarray) -> np.ndarray:
        """``X.T @ W.T`` for a block ``X`` of the sparse design's rows (``XT``: its transpose, or None
        with the compiled products) and ``W`` (c, rows): (U, c)."""
        kern = self._kernels
        if kern is not None:
            out = np.empty((self.U, W.shape[0]))
            kern.scatter_counts(X.indptr, X.indices, W, out)
            return out
        return np.asarray(XT @ W.T)

    def _xt(self, M: np.ndarray) -> np.ndarray:
        """``X.T @ M.T`` for ``M`` (c, R): (U, c)."""
        if self.dense or self._kernels is None:
            return np.asarray(self.XT @ M.T)
        return self._transposed_product(self.X, None, M)

    def gains(self, log_tables: np.ndarray, const: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A lean design's log-tables as gains over abstaining, and the constant of the abstentions.

        Parameters
        ----------
        log_tables : ndarray, shape (U, k, B)
            Log-probabilities of the used columns' outcomes.
        const : ndarray, shape (k, B)

        Returns
        -------
        (gains, const) : ndarray (U, k, B), ndarray (k, B)
            ``log_tables`` less the log-probability of abstaining of each column's LF (0 at the
            abstain columns and for an LF that never abstains), and ``const`` plus the sum of those
            over the LFs: the encoded votes' gains summed over a row's entries, plus this constant,
            are the row's log-probability with every outcome counted.
        """
        U, k, B = log_tables.shape
        padded = np.empty((U + 1, k, B))
        padded[:U] = log_tables
        padded[U] = 0.0
        return log_tables - padded[self.base], const + np.add.reduce(log_tables[self.abstain_cols], axis=0)

    def scores(self, log_tables: np.ndarray, const: np.ndarray) -> np.ndarray:
        """``const[y, b] + sum_i log_tables[col(i, a_ri), y, b]``, shape (k, B, R).

        ``log_tables`` has shape (U, k, B) (the used columns), ``const`` (k, B).  A lean design sums
        the votes' :meth:`gains` instead.
        """
        if self.lean:
            log_tables, const = self.gains(log_tables, const)
        return self._sums(log_tables, const)

    def _sums(self, log_tables: np.ndarray, const: np.ndarray) -> np.ndarray:
        """``const[y, b] + sum over row r's entries e of log_tables[pos[e], y, b]``, shape (k, B, R)."""
        U, k, B = log_tables.shape
        flat = log_tables.reshape(U, k * B)
        if self.dense:
            s = flat.T @ self.XT
        elif self._blocks:  # row blocks on the solve's threads, each writing its own rows
            out = np.empty((k * B, self.R))

            def block(j: int) -> None:
                a, b, Xb, _ = self._blocks[j]
                self._product(Xb, flat, out[:, a:b])

            map_parts(block, len(self._blocks))
            s = out
        else:
            s = self._product(self.X, flat)
        s = s.reshape(k, B, self.R)
        s += const[:, :, None]
        return s

    def counts(
        self, weights: np.ndarray, seen: np.ndarray | None = None, sums: np.ndarray | None = None
    ) -> np.ndarray:
        """Expected counts of the used columns ``N[u, y, b] = sum_r X[r, u] weights[y, b, r]``, (U, k, B).

        ``weights`` has shape (k, B, R).  A lean design's abstain columns get the weight of all rows
        less the LF's votes (clipped at 0), and exactly 0 where no row of positive weight abstains
        on the LF (as the one-hot sum gives): ``seen`` (n_abstain_cols, B) says where one does
        (:meth:`abstaining` of the counts behind the weights; computed from them when omitted).
        ``sums``: ``np.add.reduce(weights, axis=2)`` when the caller has it (the EM's class sums).
        """
        N = self._counts(weights)
        if self.lean and len(self.abstain_cols):
            if seen is None:
                seen = self.abstaining(np.add.reduce(weights, axis=0))
            self._abstentions(N, np.add.reduce(weights, axis=2) if sums is None else sums, seen)
        return N

    def abstaining(self, counts: np.ndarray) -> np.ndarray:
        """Where a row of positive count abstains on an abstain column's LF, bool (n_abstain_cols, B).

        ``counts`` has shape (B, R).  Counts of rows, so exact whatever the order of the sums.
        """
        B = counts.shape[0]
        pos = (counts > 0).astype(np.float64)
        N = self._entry_sums(pos).reshape(self.U, 1, B)
        self._abstentions(N, np.add.reduce(pos, axis=1)[None, :], np.ones((len(self.abstain_cols), B), bool))
        return N[self.abstain_cols, 0] > 0.5

    def _abstentions(self, N: np.ndarray, total: np.ndarray, seen: np.ndarray) -> None:
        """Fill a lean design's abstain columns of ``N`` (U, k, B) in place: ``total`` (k, B) less the
        LF's votes, clipped at 0, 0 where not ``seen`` (n_abstain_cols, B)."""
        per_lf = np.add.reduceat(N, self.lf_start, axis=0)  # the abstain columns hold 0 here
        ab = total[None] - per_lf[self.abstain_seg]
        np.maximum(ab, 0.0, out=ab)
        ab *= seen[:, None, :]
        N[self.abstain_cols] = ab

    def _counts(self, weights: np.ndarray) -> np.ndarray:
        """``sum_r X[r, u] weights[y, b, r]`` over the design's entries, (U, k, B)."""
        k, B, R = weights.shape
        flat = weights.reshape(k * B, R)
        if self.dense:
            N = (flat @ self.X).T
        elif self._blocks:  # partial sums of the row blocks on the solve's threads, added in block order

            def block(j: int) -> np.ndarray:
                a, b, Xb, XbT = self._blocks[j]
                return self._transposed_product(Xb, XbT, flat[:, a:b])

            parts = map_parts(block, len(self._blocks))
            N = parts[0]
            for part in parts[1:]:
                N += part
        else:
            N = self._xt(flat)
        return np.asarray(N).reshape(self.U, k, B)

    def e_step_blocks(
        self, log_tables: np.ndarray, const: np.ndarray, c: np.ndarray, seen: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One E-step and the next step's expected counts, by row blocks on the solve's threads.

        What :func:`~tripletws.estimators.annotator._em` computes from the scores (their log-sum-exp over the
        classes, the soft labels, the members' log-likelihood sums) and, at the next step, from the weights
        ``W = q c`` (:meth:`counts` and their sums over the rows), each row block's share in one
        part (:attr:`_blocks`): one hand-off per step, and the element-wise work runs on every
        thread.  Each row's values are the ones of the whole arrays; the sums over the rows are
        added in block order (equal to the one-thread sums to float rounding).

        Parameters
        ----------
        log_tables : ndarray, shape (U, k, B)
        const : ndarray, shape (k, B)
            As for :meth:`scores`.
        c : ndarray, shape (B, R)
            The members' row counts.
        seen : ndarray of bool, shape (n_abstain_cols, B), optional
            As for :meth:`counts` (a lean design with abstain columns).

        Returns
        -------
        (q, lse, ll_sum, N, w_sum)
            Soft labels (k, B, R), log-normalisers (B, R), ``sum_r c[b, r] lse[b, r]`` (B,), the
            expected counts of ``W`` (U, k, B) and ``W``'s sums over the rows (k, B).
        """
        if self.lean:
            log_tables, const = self.gains(log_tables, const)
        U, k, B = log_tables.shape
        flat = log_tables.reshape(U, k * B)
        R = self.R
        q = np.empty((k, B, R))
        lse = np.empty((B, R))

        def block(j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            a, b, Xb, XbT = self._blocks[j]
            s = self._product(Xb, flat).reshape(k, B, b - a)
            s += const[:, :, None]
            qb, lb = softmax_in_place(s)
            q[:, :, a:b] = qb
            lse[:, a:b] = lb
            cb = c[:, a:b]
            W = qb * cb
            N = self._transposed_product(Xb, XbT, W.reshape(k * B, b - a))
            return N, np.add.reduce(W, axis=2), np.add.reduce(cb * lb, axis=1)

        parts = map_parts(block, len(self._blocks))
        N, w_sum, ll_sum = parts[0]
        for Nj, wj, lj in parts[1:]:
            N += Nj
            w_sum += wj
            ll_sum += lj
        N = N.reshape(U, k, B)
        if self.lean and len(self.abstain_cols):
            assert seen is not None
            self._abstentions(N, w_sum, seen)
        return q, lse, ll_sum, N, w_sum

    def full(self, N: np.ndarray) -> np.ndarray:
        """(U, k, B) values of the used columns as member-major tables (B, m, width, k), zero elsewhere."""
        out = np.zeros((self.m * self.width, self.k, N.shape[2]))
        out[self.used] = N
        return out.reshape(self.m, self.width, self.k, -1).transpose(3, 0, 1, 2)

    def gather(self, tables: np.ndarray) -> np.ndarray:
        """Member-major tables (B, m, width, k) read at the used columns, (U, k, B)."""
        B = tables.shape[0]
        return tables.transpose(1, 2, 3, 0).reshape(self.m * self.width, self.k, B)[self.used]

    def build_matrix(self) -> None:
        """Build the design's matrix now (a numpy EM multiplies by it at every step): the observed counts
        are then read from the same product (:meth:`_entry_sums`) instead of summed from the entries,
        which costs more on large batches (1e4 x 20 binary votes, 12 members: 4.2 ms against 0.4)."""
        self._csr  # noqa: B018  (a cached property: built once, kept)

    def _entry_sums(self, weights: np.ndarray) -> np.ndarray:
        """``sum_r X[r, u] weights[b, r]``, shape (U, B), for ``weights`` (B, R).

        A sparse design sums its entries with ``np.bincount`` (up to :data:`ENTRY_SUM_MAX` entries
        times members) instead of building the CSR matrix: the compiled EM needs no matrix, and
        the CSR product adds each column's entries one by one in row order, as the entries are
        listed here, so the values are the same.  A dense design (or a larger batch, one whose matrix
        is built (:meth:`build_matrix`), or one with the compiled products of :mod:`._design_kernel`,
        the same sums again) uses the product.  Where numba is at hand
        (:func:`~tripletws.estimators.em_jit.design_kernels`) the bincount's sums are the compiled
        ``scatter_counts``' (the same additions in the same order, without the (B, nnz) keys and
        gathers: 0.17 -> 0.03 ms a call on sentiment_popularity's 10 000 entries, eight calls a fit).
        """
        B = weights.shape[0]
        if (
            self.dense
            or "_csr" in vars(self)
            or len(self.pos) * B > ENTRY_SUM_MAX
            or self._kernels is not None
        ):
            return self._xt(weights)
        kern = design_kernels()
        if kern is not None:  # numba at hand: the same sums, in the same order, compiled
            out = np.empty((self.U, B))
            kern.scatter_counts(
                self.indptr, self._pos64, np.ascontiguousarray(weights, dtype=np.float64), out
            )
            return out
        key = np.arange(B)[:, None] * self.U + self.pos[None, :]
        sums = np.bincount(key.ravel(), weights=weights[:, self._r].ravel(), minlength=B * self.U)
        return sums.reshape(B, self.U).T

    def observed_used(self, counts: np.ndarray, seen: np.ndarray | None = None) -> np.ndarray:
        """:meth:`observed` at the used columns, shape (U, B) (the compiled kernels read these only).

        ``seen``: :meth:`abstaining` of ``counts`` when already at hand (a lean design).
        """
        flat = self._entry_sums(counts)  # (U, B)
        if self.lean and len(self.abstain_cols):
            seen = self.abstaining(counts) if seen is None else seen
            flat = flat.reshape(self.U, 1, -1)
            self._abstentions(flat, np.add.reduce(counts, axis=1)[None, :], seen)
            flat = flat[:, 0]
        return flat

    def observed(self, counts: np.ndarray, seen: np.ndarray | None = None) -> np.ndarray:
        """Outcome counts ``O[b, i, a] = sum_r counts[b, r] 1[a_ri = a]``, shape (B, m, width).

        ``seen``: :meth:`abstaining` of ``counts`` when already at hand (a lean design).
        """
        flat = self.observed_used(counts, seen)
        out = np.zeros((self.m * self.width, counts.shape[0]))
        out[self.used] = flat
        return out.reshape(self.m, self.width, -1).transpose(2, 0, 1)

    def log_scores(self, params: LabelModelParams) -> np.ndarray:
        """``log p_y + sum_i log T[i, a_ri, y]``, shape (R, k).

        A sparse design (one model: no product to share) sums each row's entries with
        ``np.bincount`` instead of building the CSR matrix: the same additions in the same order
        (a CSR product adds a row's entries one by one in column order, as the entries are listed
        here), so the same values, without scipy's set-up (about 0.3 ms a design); where numba is at
        hand, the compiled ``sums_t`` (the same additions in the same order again).
        """
        logt = params.log_tables()  # (a one-class LF's vote as inference reads it: tripletws.params)
        const = np.log(params.class_balance)
        if not self.abstain:
            log_abstain = logt[:, 0, 0]  # class-independent in the vote-only reading
            logt = logt[:, 1:, :] - log_abstain[:, None, None]
            const = const + log_abstain.sum()
        used = self.gather(logt[None])  # (U, k, 1)
        if self.lean:
            used, c = self.gains(used, const[:, None])
            const = c[:, 0]
        if self.dense or "_csr" in vars(self) or len(self.pos) >= PARALLEL_NNZ:
            return self._sums(used, const[:, None])[:, 0, :].T
        kern = design_kernels()
        if kern is not None:  # numba at hand: each row's entries added in the same order, compiled
            sums = np.empty((self.k, self.R))
            kern.sums_t(self.indptr, self._pos64, np.ascontiguousarray(used[:, :, 0]), sums)
            out = sums.T.copy()
        else:
            at = used[self.pos, :, 0]  # (nnz, k): each entry's log-table, row by row
            out = np.empty((self.R, self.k))
            for y in range(self.k):
                out[:, y] = np.bincount(self._r, weights=at[:, y], minlength=self.R)
        out += const
        return out


def posterior_in_place(
    s: np.ndarray, c: np.ndarray, total: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The E-step's posterior from the joint log-scores, by log-sum-exp over the classes, in place.

    Parameters
    ----------
    s : ndarray, shape (k, B, R)
        ``log p(y, row)`` of each member's rows; overwritten with the posterior.
    c : ndarray, shape (B, R)
        The rows' counts.
    total : float or ndarray, shape (B,)
        Counted rows per member.

    Returns
    -------
    q : ndarray, shape (k, B, R)
        ``P(y | row)`` (``s`` itself).
    lse : ndarray, shape (B, R)
        ``log p(row)``.
    ll : ndarray, shape (B,)
        Mean log-likelihood per counted row.
    """
    q, lse = softmax_in_place(s)
    return q, lse, np.add.reduce(c * lse, axis=1) / total


def softmax_in_place(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalise joint log-scores ``s`` (k, ...) over the classes (axis 0), in place, by log-sum-exp.

    Returns
    -------
    q : ndarray, shape of ``s``
        The posterior (``s`` itself).
    lse : ndarray, shape ``s.shape[1:]``
        The log-normalisers.
    """
    top = np.maximum.reduce(s, axis=0)
    s -= top
    q = np.exp(s, out=s)
    z = np.add.reduce(q, axis=0)
    q /= z
    lse = np.log(z)
    lse += top
    return q, lse


def _logsumexp(s: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Log-normaliser and normalised exponentials over ``axis`` (the classes)."""
    top = np.maximum.reduce(s, axis=axis, keepdims=True)
    e = s - top
    np.exp(e, out=e)
    z = np.add.reduce(e, axis=axis, keepdims=True)
    e /= z
    return np.squeeze(np.log(z) + top, axis=axis), e


def _large(unique: RowSummary) -> bool:
    """More than ``JIT_MAX_ROWS`` distinct rows or at least :data:`MEMO_MAX_VOTES` votes."""
    return len(unique.counts) > JIT_MAX_ROWS or len(summary_votes(unique)[0]) >= MEMO_MAX_VOTES


def _kept(
    unique: RowSummary, key: tuple[Any, ...], build: Callable[[], Any], keep: bool | None = None
) -> Any:
    """``build()``, kept in :func:`~tripletws.estimators.votes.summary_memo` under ``key`` where ``keep``
    (default: a small summary, at most ``JIT_MAX_ROWS`` distinct rows and fewer than
    :data:`MEMO_MAX_VOTES` votes; larger ones build it every call)."""
    if keep is None:
        keep = not _large(unique)
    if not keep:
        return build()
    memo = summary_memo(unique)
    value = memo.get(key)
    if value is None:
        value = memo[key] = build()
    return value


def summary_design(unique: RowSummary, k: int, abstain: bool) -> _Design:
    """``_Design(unique.rows, k, abstain=abstain, votes=summary_votes(unique))``, once per small summary.

    A solve's steps (the family choice, the balance and abstain checks) fit on the same rows with
    the same designs; a :class:`~tripletws.rows.RowSummary` is immutable, and a design is written
    only by its lazily built, deterministic attributes, so the steps share one (for summaries of
    at most ``JIT_MAX_ROWS`` rows and :data:`MEMO_MAX_VOTES` votes).  Larger ones build their own,
    but within :func:`shared_designs` (a solve) a step gets a :meth:`_Design.fresh` copy of the
    design an earlier step built.
    """

    def build() -> _Design:
        return _Design(unique.rows, k, abstain=abstain, votes=summary_votes(unique))

    kept = getattr(_SHARED, "designs", None)
    if kept is None or not _large(unique):
        return _kept(unique, ("design", k, abstain), build)
    key = (id(unique), k, abstain)
    entry = kept.get(key)
    if entry is not None and entry[0] is unique:
        return entry[1].fresh()
    design = build()
    kept[key] = (unique, design)  # (the summary held: its id stays its own while kept)
    return design


def summary_posteriors(unique: RowSummary, models: list[LabelModelParams]) -> np.ndarray:
    """Each model's posterior ``P(y | row)`` on the distinct rows, shape (k, B, R) for B models.

    Every outcome is counted (abstentions too, as :func:`tripletws.inference.posterior` counts them),
    in float64, all models in one product of the rows' design (:func:`summary_design`, abstentions as
    outcomes): the design's entries are the rows' votes and abstentions, not the (R, m) cells, and no
    pass over row chunks is set up (a held bootstrap's 8 refits on adult_content: 0.3 ms against 2.8).
    Models with dependencies are refused (their pair tables would be ignored).
    """
    if any(p.has_dependencies for p in models):
        raise ValueError("summary_posteriors reads models without dependencies only")
    k = unique.cardinality
    logt = np.log(np.maximum(np.stack([p.cond_probs for p in models]), _TINY))  # (B, m, k + 1, k)
    const = np.log(np.maximum(np.stack([p.class_balance for p in models]), _TINY)).T  # (k, B)
    D = summary_design(unique, k, abstain=True)
    S = D.scores(D.gather(logt), const)  # (k, B, R): log p(y, row) under each model
    return softmax_in_place(S)[0]


#: Per thread: the designs of large summaries kept while :func:`shared_designs` is open (else None).
_SHARED = threading.local()


@contextmanager
def shared_designs() -> Iterator[None]:
    """Within: :func:`summary_design` keeps the designs of large summaries too, and hands each later
    step a :meth:`_Design.fresh` copy (the encoding and the matrices built once; the row blocks and
    the compiled products made again where first used, as a fresh design's are).  Dropped on exit (a
    design of the 1e6 x 50 fit's 15 563 rows holds about 10 MB); nested scopes share the outer one."""
    if getattr(_SHARED, "designs", None) is not None:
        yield
        return
    _SHARED.designs = {}
    try:
        yield
    finally:
        _SHARED.designs = None


#: :func:`summary_majority` keeps its (R, k) start with the summary up to this many cells (whatever the
#: votes: it depends on nothing else), so that a large solve's steps deal with it once (3.4 ms each at
#: the 1e6 x 50 fit's 15 563 rows; 250 KB kept).
MAJORITY_MEMO_CELLS = 1 << 20


def summary_majority(unique: RowSummary, k: int) -> np.ndarray:
    """``majority_soft_labels(unique.rows, k, summary_votes(unique))``, a fresh (R, k) array each call,
    computed once per summary of up to :data:`MAJORITY_MEMO_CELLS` cells."""

    def build() -> np.ndarray:
        return majority_soft_labels(unique.rows, k, summary_votes(unique))

    return _kept(unique, ("majority", k), build, keep=len(unique.counts) * k <= MAJORITY_MEMO_CELLS).copy()


def majority_soft_labels(rows: np.ndarray, k: int, votes: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """Majority vote as soft labels: uniform over the most-voted classes (all classes when none voted).

    Parameters
    ----------
    rows : ndarray of int, shape (R, m)
    k : int
    votes : tuple of arrays, optional
        :func:`row_votes` of ``rows``, when already at hand.

    Returns
    -------
    ndarray, shape (R, k)
    """
    r, _, a = row_votes(rows) if votes is None else votes
    counts = class_counts(r, a, len(rows), k).astype(np.float64)
    top = counts >= counts.max(axis=1, keepdims=True)
    return top / top.sum(axis=1, keepdims=True)
