"""Annotator models fitted by EM over the distinct rows of L, and their held-out likelihood.

Every model here is a generative model of a whole row of L: a class ``Y ~ p`` and,
given ``Y``, each LF's outcome independently from its table
``T[i, a, y] = P(lambda_i = a - 1 | Y = y)`` (``a = 0`` abstain).  The families
differ in how the table is parameterised (nested, fewest parameters first):

``"mv"``
    Majority vote as a model: one accuracy shared by all LFs, errors spread
    uniformly, a uniform prior, abstain independent of the class.  Its posterior
    ranks the classes exactly as the vote counts do.
``"one_coin"``
    The symmetric model: a per-LF accuracy, errors spread uniformly.
``"mace"`` / ``"mace_abstain"``
    The annotator model of MACE (Hovy et al., 2013): an LF either knows the
    class (probability ``theta_i``) and votes it, or draws its outcome from its
    own distribution ``xi_i``: ``P(a | y) = theta_i 1[a = y] + (1 - theta_i) xi_i(a)``.
    ``k + 1`` parameters per LF; an LF that votes one class only is the case
    ``xi_i`` concentrated on that class.
``"mace_coverage"``
    ``"mace"`` for LFs that vote several classes; for an LF that votes one class
    only, two vote rates, on its class and off it (class-dependent coverage,
    :mod:`tripletws.estimators.one_class`).
``"ds"`` / ``"ds_abstain"``
    A full table per LF (Dawid & Skene, 1979).

Abstain, both readings.  ``"mace"``, ``"ds"`` (and ``"mv"``, ``"one_coin"``)
read abstain as *not assigned*: an LF votes with a probability ``c_i`` that does
not depend on the class (crowd annotators), and the model describes the votes
only.  ``"mace_abstain"`` and ``"ds_abstain"`` read abstain as an *outcome* like a
vote: an LF that votes "spam" far more often on spam than on ham is telling
something when it abstains; ``"mace_coverage"`` reads it so for one-class LFs
only.  Both readings define a probability for the whole row (abstentions
included), so their likelihoods compare on the same events.

Fitting is EM over the distinct rows weighted by their counts, started from the
majority vote's soft labels (an M-step first), so the latent class starts as
the LFs' consensus rather than any other structure the tables could explain.
The M-steps are MAP updates under weak Dirichlet priors (one pseudo-row,
spread in proportion to the LF's own outcome frequencies) so that no table
entry an LF ever uses becomes zero.  Several fits run as one batch (the candidate families
side by side, then all their folds): one pair of design products per step for the whole
batch, each member stopping on its own rule exactly as if it were fitted alone.

:func:`heldout_loglik` scores a family by cross-fitting: the counts of the
distinct rows are split at random into folds (a row seen 30 times lands in
several folds), each fold is scored by a fit on the others (started, like the
fit on all rows, from majority vote, so no held-out row shapes it), and the mean
log-likelihood per row is returned.  :func:`select_family` keeps the simplest
family whose score is within :data:`LEAD_SE` standard errors of the best one
(the one-standard-error rule of cross-validation, with the standard error of
the paired per-row differences): a richer family must describe held-out rows
better by more than the noise of the rows that measured it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from typing import Any

import numpy as np

from ..parallel import map_parts, solve_jobs
from ..params import LabelModelParams
from ..rows import RowSummary
from .class_balance import MIN_CLASS_PROB
from .em_jit import (
    INFORMATIVE_CODES,
    JIT_MAX_ROWS,
    design_kernels,
    fold_keys_kernel,
    informative_kernel,
    lean_kernel,
    run_lean,
)
from .one_class import COVERAGE_FAMILIES, CoverageTables
from .votes import row_votes, summary_votes

#: The families, fewest parameters first.
FAMILIES = ("mv", "one_coin", "mace", "shared_coverage", "mace_coverage", "mace_abstain", "ds", "ds_abstain")

#: Families whose abstentions are informative (an outcome of the table) for some LFs.
ABSTAIN_INFORMATIVE = frozenset({"shared_coverage", "mace_coverage", "mace_abstain", "ds_abstain"})

_TINY = 1e-300
_FLOOR = 1e-6
#: EM stops when the mean log-likelihood per row improves by less than this.
EM_TOL = 1e-6

#: ``"mace"`` (vote-only) with an empirical-Bayes prior on the LFs' ``theta``: at each M-step
#: ``theta_i ~ Beta(s mu, s (1 - mu))`` with ``mu`` and ``s`` estimated from all LFs' expected
#: counts (beta-binomial method of moments, :func:`eb_strength`), then
#: ``theta_i = (knows_i + s mu) / (n_i + s)``.  Off: the uniform prior, ``(knows_i + 1) / (n_i + 2)``.
#: Read at each fit (numpy path and compiled kernel alike).
MACE_EB = False
#: The range ``s`` is clipped to (2: no stronger than the uniform prior's pseudo-counts at least).
MACE_EB_S = (2.0, 1e4)
#: With ``MACE_EB``: the spread of the LFs' rates is measured on the complete-data counts, adding
#: each LF's posterior variance of its "knows" count (``sum_v p_v (1 - p_v)`` over its votes) to the
#: spread of the expected counts.  Without it, the expected counts' spread is below binomial noise
#: (an expectation varies less than the count it predicts) and ``s`` runs to its upper bound.
MACE_EB_VAR = True
#: With ``MACE_EB``: estimate ``mu`` and ``s`` once, at the first M-step (from majority vote's soft
#: labels), and keep them for the whole fit (else re-estimated at every M-step).
MACE_EB_FIXED = False
#: ``"mace"`` (vote-only) with a two-component empirical-Bayes prior on ``theta`` (a study, off):
#: ``theta_i ~ pi Beta(s0 mu0, s0 (1 - mu0)) + (1 - pi) Beta(s1 mu1, s1 (1 - mu1))`` with
#: ``mu0 <= mu1`` (spammers / experts), fitted at each M-step to the LFs' complete-data counts
#: (:func:`mix_prior`), then ``theta_i`` its posterior mean under the mixture.  Numpy path only:
#: batches holding ``"mace"`` skip the compiled kernel while it is on.  Wins over ``MACE_EB``.
MACE_MIX = False
#: With ``MACE_MIX``: the prior fitted once, at the first M-step (from majority vote's soft labels),
#: and kept (each LF's component posterior still follows its counts).
MACE_MIX_FIXED = False
#: With ``MACE_MIX``: LFs that vote one class only are left out of the prior's estimate (their
#: ``theta`` is not identified by the votes alone); they still get the mixture's posterior mean.
MACE_MIX_SKIP_ONE_CLASS = False


@dataclass(frozen=True)
class AnnotatorFit:
    """Outcome of :func:`fit_annotator`.

    Attributes
    ----------
    family : str
    params : LabelModelParams
        Class balance (k,) and table (m, k + 1, k) of the fitted model.
    log_likelihood : float
        Mean log-likelihood per row of the rows it was fitted on.
    n_steps : int
    converged : bool
    """

    family: str
    params: LabelModelParams
    log_likelihood: float
    n_steps: int
    converged: bool


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
#: A batch of EM fits whose design entries times members reach this many is dealt over the solve's
#: threads, whole members to each (:func:`_em_split`), when it runs in a compiled kernel (members one
#: after the other: nothing is lost by dealing them) or on a design too small for row blocks (numpy:
#: each part's products then serve fewer members, ~0.7 of the whole batch's time per half, measured
#: at 1e6 x 50 and x 100); a large sparse design's numpy batch runs by row blocks instead
#: (:meth:`_Design.e_step_blocks`).  A batch this size takes
#: ~15 ms (1e6 x 50 synthetic: 2.8e6 for the family choice's 12 fits, ~80 ms of CPU), the hand-off
#: and a first start of the pool ~0.5 ms.  The largest batch of the 15 shared sets (sentiment_popularity's
#: choice, 1.2e5) stays whole: dealt, it cost 0.7 ms of a 16 ms fit (two threads, a busy machine).
SPLIT_ENTRIES = 500_000
#: Sparse designs with at least this many entries multiply in the compiled kernels of
#: :mod:`tripletws.estimators._design_kernel` where numba is loaded (the same values as scipy's products,
#: bit for bit, without ``X.T`` or transposed copies); smaller ones (every shared set's) keep scipy's
#: products, where a kernel's call would cost about what it saves.
KERNEL_NNZ = 50_000
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

        return sparse.csr_matrix((np.ones(len(r)), (r, pos)), shape=(R, U))

    @cached_property
    def _matrices(self) -> tuple[Any, Any]:
        X = self._csr
        return (X, X.T) if self.dense else (X, X.T.tocsr())

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
        return [(a, b, X[a:b], None if lean else X[a:b].T.tocsr()) for a, b in pairwise(bounds)]

    @property
    def X(self) -> Any:
        """The design (R, U): dense when at most :data:`DENSE_CELLS` cells, else CSR."""
        return self._csr

    @property
    def XT(self) -> Any:
        """Its transpose (U, R), CSR when sparse."""
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

    def counts(self, weights: np.ndarray, seen: np.ndarray | None = None) -> np.ndarray:
        """Expected counts of the used columns ``N[u, y, b] = sum_r X[r, u] weights[y, b, r]``, (U, k, B).

        ``weights`` has shape (k, B, R).  A lean design's abstain columns get the weight of all rows
        less the LF's votes (clipped at 0), and exactly 0 where no row of positive weight abstains
        on the LF (as the one-hot sum gives): ``seen`` (n_abstain_cols, B) says where one does
        (:meth:`abstaining` of the counts behind the weights; computed from them when omitted).
        """
        N = self._counts(weights)
        if self.lean and len(self.abstain_cols):
            if seen is None:
                seen = self.abstaining(np.add.reduce(weights, axis=0))
            self._abstentions(N, np.add.reduce(weights, axis=2), seen)
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

        What :func:`_em` computes from the scores (their log-sum-exp over the classes, the soft
        labels, the members' log-likelihood sums) and, at the next step, from the weights
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

    def _entry_sums(self, weights: np.ndarray) -> np.ndarray:
        """``sum_r X[r, u] weights[b, r]``, shape (U, B), for ``weights`` (B, R).

        A sparse design sums its entries with ``np.bincount`` (up to :data:`ENTRY_SUM_MAX` entries
        times members) instead of building the CSR matrix: the compiled EM needs no matrix, and
        the CSR product adds each column's entries one by one in row order, as the entries are
        listed here, so the values are the same.  A dense design (or a larger batch, or one with the
        compiled products of :mod:`._design_kernel`, the same sums again) uses the product.
        """
        B = weights.shape[0]
        if (
            self.dense
            or "_csr" in vars(self)
            or len(self.pos) * B > ENTRY_SUM_MAX
            or self._kernels is not None
        ):
            return self._xt(weights)
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
        here), so the same values, without scipy's set-up (about 0.3 ms a design).
        """
        logt = np.log(np.maximum(params.cond_probs, _TINY))
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


def _clip(x: np.ndarray) -> np.ndarray:
    """``x`` clipped to [_FLOOR, 1 - _FLOOR] in place (two ufuncs: np.clip's wrapper costs more)."""
    np.maximum(x, _FLOOR, out=x)
    return np.minimum(x, 1.0 - _FLOOR, out=x)


def eb_strength(
    knows: np.ndarray, n: np.ndarray, s_min: float, s_max: float, var: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Empirical-Bayes Beta prior of per-LF rates: mean ``mu`` and strength ``s`` per member.

    Beta-binomial method of moments (Kleinman 1973, "Proportions with extraneous variance",
    Biometrics 29): with ``N = sum n_i``, ``mu = sum knows_i / N`` and
    ``S = sum (knows_i - mu n_i)^2 / n_i`` over the ``M`` LFs with ``n_i > 0``,
    ``E[S] = mu (1 - mu) [(M - 1) (1 - rho) + rho (N - sum n_i^2 / N)]`` where
    ``rho = 1 / (s + 1)`` is the intra-LF correlation; solved for ``rho``, then
    ``s = 1 / rho - 1`` clipped to ``[s_min, s_max]`` (``s_min`` where ``rho`` is not identified).

    Parameters
    ----------
    knows, n : (m, B)
        Expected counts of "knows" and votes per LF (members on the last axis).
    s_min, s_max : float
    var : (m, B), optional
        Posterior variance of each "knows" count, added to ``(knows_i - mu n_i)^2`` in ``S``
        (the complete-data spread, :data:`MACE_EB_VAR`).

    Returns
    -------
    mu, s : (B,)
    """
    N = np.add.reduce(n, axis=0)
    has = n > 0
    M = np.add.reduce(has, axis=0).astype(np.float64)
    safe_N = np.maximum(N, _TINY)
    mu = np.minimum(np.maximum(np.add.reduce(knows, axis=0) / safe_N, _FLOOR), 1.0 - _FLOOR)
    dev = (knows - mu * n) ** 2
    if var is not None:
        dev = dev + var
    dev = np.where(has, dev / np.where(has, n, 1.0), 0.0)
    S = np.add.reduce(dev, axis=0)
    Q = np.add.reduce(n * n, axis=0) / safe_N
    den = N - Q - (M - 1.0)
    num = S / (mu * (1.0 - mu)) - (M - 1.0)
    ok = den > 0
    rho = np.where(ok, num / np.where(ok, den, 1.0), 1.0)
    s = np.where(rho <= 1.0 / (s_max + 1.0), s_max, 1.0 / np.maximum(rho, _TINY) - 1.0)
    s = np.minimum(np.maximum(s, s_min), s_max)
    return mu, s


def _weighted_moments(
    knows: np.ndarray, n: np.ndarray, var: np.ndarray, w: np.ndarray, s_min: float, s_max: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`eb_strength` with a weight ``w_i`` in [0, 1] per LF (one mixture component's share).

    ``S = sum w_i ((knows_i - mu n_i)^2 + var_i) / n_i`` with ``mu = sum w_i knows_i / N``,
    ``N = sum w_i n_i``; under the beta-binomial model
    ``E[S] / (mu (1 - mu)) = (W - A) + rho (N - W - B + A)`` with ``W = sum w_i``,
    ``A = sum w_i^2 n_i / N``, ``B = sum w_i^2 n_i^2 / N`` (with ``w = 1``: Kleinman's moment
    equation of :func:`eb_strength`), solved for ``rho = 1 / (s + 1)``.

    Parameters
    ----------
    knows, n, var, w : (m, B)
    s_min, s_max : float

    Returns
    -------
    mu, s : (B,)
    """
    has = n > 0
    w = np.where(has, w, 0.0)
    wn = w * n
    N = np.add.reduce(wn, axis=0)
    safe_N = np.maximum(N, _TINY)
    mu = np.minimum(np.maximum(np.add.reduce(w * knows, axis=0) / safe_N, _FLOOR), 1.0 - _FLOOR)
    dev = np.where(has, ((knows - mu * n) ** 2 + var) / np.where(has, n, 1.0), 0.0)
    S = np.add.reduce(w * dev, axis=0)
    W = np.add.reduce(w, axis=0)
    A_ = np.add.reduce(w * wn, axis=0) / safe_N
    B_ = np.add.reduce(wn * wn, axis=0) / safe_N
    den = N - W - B_ + A_
    num = S / (mu * (1.0 - mu)) - (W - A_)
    ok = den > 1e-9 * np.maximum(N, 1.0)
    rho = np.where(ok, num / np.where(ok, den, 1.0), 1.0)
    s = np.where(rho <= 1.0 / (s_max + 1.0), s_max, 1.0 / np.maximum(rho, _TINY) - 1.0)
    return mu, np.minimum(np.maximum(s, s_min), s_max)


def _mix_log_lik(knows: np.ndarray, n: np.ndarray, mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Beta-binomial log-likelihood of each LF's count under each component, less the binomial
    coefficient (common to the components), shape (2, m, B); ``mu``, ``s`` (2, B)."""
    from scipy.special import betaln

    a = (s * mu)[:, None, :]
    b = (s * (1.0 - mu))[:, None, :]
    miss = np.maximum(n - knows, 0.0)
    return betaln(knows + a, miss + b) - betaln(a, b)


def mix_prior(
    knows: np.ndarray,
    n: np.ndarray,
    var: np.ndarray,
    s_min: float,
    s_max: float,
    use: np.ndarray | None = None,
    start: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    iters: int = 30,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A two-component Beta mixture prior of per-LF rates (spammers / experts), fitted by EM.

    ``theta_i ~ pi Beta(s0 mu0, s0 (1 - mu0)) + (1 - pi) Beta(s1 mu1, s1 (1 - mu1))``: the E-step
    gives each LF's component posterior from the beta-binomial likelihood of its count
    (McLachlan & Peel 2000, *Finite Mixture Models*, ch. 2-3, EM for mixtures); the M-step sets
    ``pi`` to the mean posterior and each component's ``mu`` and ``s`` by the beta-binomial method
    of moments weighted by the posteriors (:func:`_weighted_moments`).  The components are kept
    ordered, ``mu0 <= mu1`` (swapped when the moments cross).

    Parameters
    ----------
    knows, n, var : (m, B)
        Expected "knows" counts, votes, and the counts' posterior variance per LF.
    s_min, s_max : float
        Range of each component's strength.
    use : (m, B) bool, optional
        LFs that estimate the prior (default: all with votes).
    start : (pi, mu, s), optional
        Hyperparameters to start from, shapes (B,), (2, B), (2, B); else the LFs are split at
        the pooled rate (below: component 0).
    iters : int
        EM iterations over the LFs (0: ``start`` kept as it is).

    Returns
    -------
    pi : (B,)
        Weight of component 0.
    mu, s : (2, B)
    """
    has = n > 0
    use = has if use is None else (use & has)
    if start is None:
        tot = np.maximum(np.add.reduce(np.where(use, n, 0.0), axis=0), _TINY)
        pooled = np.add.reduce(np.where(use, knows, 0.0), axis=0) / tot
        rate = knows / np.where(has, n, 1.0)
        r0 = (rate < pooled).astype(np.float64)
        pi = None
    else:
        pi, mu, s = start
    for it in range(iters):
        if pi is not None:  # E-step over the LFs: each one's component posterior
            r0 = _mix_resp(knows, n, pi, mu, s)
        w0 = np.where(use, r0, 0.0)
        w1 = np.where(use, 1.0 - r0, 0.0)
        mu0, s0 = _weighted_moments(knows, n, var, w0, s_min, s_max)
        mu1, s1 = _weighted_moments(knows, n, var, w1, s_min, s_max)
        M = np.maximum(np.add.reduce(use, axis=0), 1)
        pi_new = np.add.reduce(w0, axis=0) / M
        swap = mu0 > mu1
        mu = np.where(swap, [mu1, mu0], [mu0, mu1])
        s = np.where(swap, [s1, s0], [s0, s1])
        pi_new = np.where(swap, 1.0 - pi_new, pi_new)
        if pi is not None and np.max(np.abs(pi_new - pi), initial=0.0) < 1e-6 and it > 0:
            pi = pi_new
            break
        pi = pi_new
    assert pi is not None
    return pi, mu, s


def _mix_resp(knows: np.ndarray, n: np.ndarray, pi: np.ndarray, mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Each LF's posterior probability of component 0 under the mixture prior, (m, B)."""
    ll = _mix_log_lik(knows, n, mu, s)
    with np.errstate(divide="ignore"):
        l0 = np.log(np.maximum(pi, 0.0)) + ll[0]
        l1 = np.log(np.maximum(1.0 - pi, 0.0)) + ll[1]
    top = np.maximum(l0, l1)
    e0, e1 = np.exp(l0 - top), np.exp(l1 - top)
    return e0 / (e0 + e1)


def mix_theta(knows: np.ndarray, n: np.ndarray, pi: np.ndarray, mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Posterior mean of each LF's rate under the mixture prior of :func:`mix_prior`, (m, B)."""
    r0 = _mix_resp(knows, n, pi, mu, s)
    t0 = (knows + s[0] * mu[0]) / (n + s[0])
    t1 = (knows + s[1] * mu[1]) / (n + s[1])
    return r0 * t0 + (1.0 - r0) * t1


def _logsumexp(s: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Log-normaliser and normalised exponentials over ``axis`` (the classes)."""
    top = np.maximum.reduce(s, axis=axis, keepdims=True)
    e = s - top
    np.exp(e, out=e)
    z = np.add.reduce(e, axis=axis, keepdims=True)
    e /= z
    return np.squeeze(np.log(z) + top, axis=axis), e


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
    counts = np.bincount(r * k + a, minlength=len(rows) * k).reshape(len(rows), k).astype(np.float64)
    top = counts >= counts.max(axis=1, keepdims=True)
    return top / top.sum(axis=1, keepdims=True)


#: Families fitted on class-major state (LF-wise parameters, vote-only reading): the default's candidates.
_LEAN = frozenset({"mv", "one_coin", "mace"})


class _Tables:
    """The M-steps of one family for a batch of B fits.

    Built from the observed outcome counts ``obs`` (B, m, width) and the rows per member
    ``total`` (B,).  :meth:`step` maps the expected counts of the design's used columns
    ``N`` (U, k, B) to the tables the E-step reads at those columns (U, k, B):
    P(vote a | y, votes) in the vote-only reading, P(outcome a | y) when abstentions are
    informative.  The state (accuracies, MACE's ``theta`` and ``xi``) lives here, with the
    members on the last axis for the candidates of the default (:data:`_LEAN`) and on the
    first for the others; :meth:`keep` drops finished members and :meth:`table` gives a
    member's whole table.
    """

    def __init__(self, family: str, obs: np.ndarray, total: np.ndarray, D: _Design) -> None:
        k = D.k
        self.family, self.k, self.D = family, k, D
        self.informative = family in ABSTAIN_INFORMATIVE
        self.lean = family in _LEAN
        # a lean design's informative M-steps run at its used columns (U, k, B), not whole tables
        self.at_used = D.lean and family in ("mace_abstain", "ds_abstain")
        self.total = total
        B, m, _ = obs.shape
        self.first = True
        if self.lean:  # class-major state, members last
            self.obs = np.ascontiguousarray(obs.transpose(2, 1, 0))  # (k, m, B) votes
            self.n_i = self.obs.sum(axis=0)  # (m, B) votes per LF
            # the M-steps' constant terms
            self.denom = self.n_i + 2.0
            self.pooled_denom = self.n_i.sum(axis=0, keepdims=True) + 2.0
            self.xi_prior = (self.obs + 1e-3) / (np.maximum(self.n_i, 0.0) + 1e-3 * k)
            self.theta = np.full((m, B), 0.5)
            self.xi = (self.obs + 1e-3) / (self.obs + 1e-3).sum(axis=0)
            self.acc = np.zeros((m, B))
            self.eb: tuple[np.ndarray, np.ndarray] | None = None  # MACE_EB_FIXED's (mu, s)
            self.mix: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # MACE_MIX's (pi, mu, s)
            self.mix_fixed = False
            self.multi = (self.obs > 0).sum(axis=0) > 1  # (m, B) LFs that vote several classes
            return
        self.obs = obs
        if family in COVERAGE_FAMILIES:  # MACE over the votes, two rates for one-class LFs; members first
            self.coverage = CoverageTables(family, obs, total)
            self.last = np.zeros((B, m, obs.shape[2], k))
            return
        if self.informative:
            self.n_i = np.broadcast_to(total[:, None], (B, m))
            # kappa: the outcome an LF gives when it knows the class is y (a vote it ever gives, else abstain)
            self.kappa = kappa = np.where(obs[:, :, 1:] > 0, np.arange(k) + 1, 0)  # (B, m, k)
            self.K = (np.arange(k + 1)[:, None] == kappa[:, :, None, :]).astype(np.float64)
            if self.at_used:
                width = k + 1
                self.obs_u = np.ascontiguousarray(obs.reshape(B, m * width)[:, D.used].T)  # (U, B)
                position = np.full(m * width, D.U)  # U: an unused column (a zero row appended to N)
                position[D.used] = D.columns
                self.kcol = position[np.arange(m)[None, :, None] * width + kappa]  # (B, m, k)
                self.lf0 = np.flatnonzero(D.lf == 0)  # LF 0's columns: they partition the rows
        else:
            self.n_i = obs.sum(axis=2)  # votes per LF
        self.theta = np.full((B, m), 0.5)
        self.xi = (obs + 1e-3) / (obs + 1e-3).sum(axis=2, keepdims=True)
        self.last = np.zeros((0 if self.at_used else B, m, obs.shape[2], k))

    def keep(self, keep: np.ndarray) -> None:
        self.total = self.total[keep]
        if self.lean:
            self.obs, self.n_i = self.obs[..., keep], self.n_i[..., keep]
            self.denom, self.pooled_denom = self.denom[..., keep], self.pooled_denom[..., keep]
            self.xi_prior = self.xi_prior[..., keep]
            self.theta, self.xi, self.acc = self.theta[..., keep], self.xi[..., keep], self.acc[..., keep]
            if self.eb is not None:
                self.eb = (self.eb[0][keep], self.eb[1][keep])
            if self.mix is not None:
                self.mix = (self.mix[0][keep], self.mix[1][:, keep], self.mix[2][:, keep])
            self.multi = self.multi[:, keep]
            return
        if self.family in COVERAGE_FAMILIES:
            self.coverage.keep(keep)
        for name in ("obs", "n_i", "theta", "xi", "K", "kappa", "kcol", "last"):
            if hasattr(self, name) and not (name == "last" and self.at_used):
                setattr(self, name, getattr(self, name)[keep])
        if self.at_used:
            self.obs_u = self.obs_u[:, keep]
            if hasattr(self, "last_u"):
                self.last_u = self.last_u[:, :, keep]

    def _right(self, N: np.ndarray) -> np.ndarray:
        """Expected votes for the class voted, ``N[i, y, y]``, class-major (k, m, B) (vote-only reading)."""
        D = self.D
        B = N.shape[2]
        right = np.zeros((D.k * D.m, B))
        right[D.class_major] = N[D.columns, D.vote]
        return right.reshape(D.k, D.m, B)

    def step(self, N: np.ndarray) -> np.ndarray:
        fam, D = self.family, self.D
        if fam in ("mv", "one_coin"):
            right = np.add.reduce(self._right(N), axis=0)  # (m, B) expected right votes
            if fam == "mv":  # one accuracy per member, (1, B)
                acc = (np.add.reduce(right, axis=0, keepdims=True) + 1.0) / self.pooled_denom
            else:
                acc = (right + 1.0) / self.denom
            self.acc = acc = _clip(acc)
            a = (acc if fam == "mv" else acc[D.lf])[:, None, :]
            return np.where(D.says, a, (1.0 - a) / (self.k - 1))
        if fam == "mace":
            right = self._right(N)
            right2 = self._right(self.N2) if _mace_var() else None
            for _ in range(3 if self.first else 1):
                self._mace_lean(right, right2)
            self.first = False
            self.mix_fixed = self.mix is not None
            theta = self.theta[D.lf][:, None, :]
            xi = self.xi.reshape(D.k * D.m, -1)[D.class_major][:, None, :]
            return (1.0 - theta) * xi + theta * D.says
        if self.at_used:
            return self._step_used(N)
        # the others on member-major whole tables (B, m, width, k)
        full = D.full(N)
        if fam == "mace_abstain":
            right = (full * self.K).sum(axis=2)  # (B, m, k): expected outcomes "as if it knew"
            for _ in range(3 if self.first else 1):
                self._mace(right)
            self.first = False
            theta = self.theta[..., None, None]
            table = ((1.0 - self.theta)[..., None] * self.xi)[..., None] + theta * self.K
        elif fam in COVERAGE_FAMILIES:
            table = self.coverage.step(full)
        elif fam == "ds_abstain":
            f = self.obs / self.total[:, None, None]
            Ny = full[:, 0].sum(axis=1)  # (B, k) expected rows per class
            table = (full + f[..., None]) / (Ny + 1.0)[:, None, None, :]
        elif fam == "ds":
            f = self.obs / np.maximum(self.n_i, _TINY)[..., None]
            Vy = full.sum(axis=2)  # (B, m, k) expected votes per class
            table = (full + f[..., None]) / (Vy + 1.0)[:, :, None, :]
        else:
            raise ValueError(f"unknown family {fam!r}")
        self.last = table
        # outcomes an LF never gives have probability 0 under "ds": clamped, as log 0 is -inf
        return D.gather(np.maximum(table, _TINY))

    def _step_used(self, N: np.ndarray) -> np.ndarray:
        """:meth:`step` of ``"mace_abstain"`` and ``"ds_abstain"`` at a lean design's used columns.

        The same updates as on whole tables, entry by entry (an unused column is an outcome no row
        gives: its expected count is 0 and the E-step never reads its table).
        """
        D, k = self.D, self.k
        U, _, B = N.shape
        if self.family == "ds_abstain":
            f = self.obs_u / self.total[None, :]  # (U, B)
            Ny = np.add.reduce(N[self.lf0], axis=0)  # (k, B) expected rows per class
            table = (N + f[:, None, :]) / (Ny + 1.0)[None]
            self.last_u = table
            return np.maximum(table, _TINY)
        padded = np.empty((U + 1, k, B))
        padded[:U] = N
        padded[U] = 0.0
        # expected outcomes "as if it knew": N at the outcome kappa each class has, (B, m, k)
        right = padded[self.kcol, np.arange(k), np.arange(B)[:, None, None]]
        for _ in range(3 if self.first else 1):
            self._mace(right)
        self.first = False
        # (1 - theta) xi(a) + theta 1[a = kappa(y)] at the used columns (lf, a), (U, k, B)
        lf, a = D.lf, D.outcome
        rest = ((1.0 - self.theta)[..., None] * self.xi)[:, lf, a].T  # (U, B)
        theta = self.theta[:, lf].T  # (U, B)
        hit = self.kappa[:, lf, :] == a[None, :, None]  # (B, U, k)
        table = rest[:, None, :] + theta[:, None, :] * hit.transpose(1, 2, 0)
        return np.maximum(table, _TINY)

    def _mace_lean(self, right: np.ndarray, right2: np.ndarray | None = None) -> None:
        """One MACE M-step (vote-only, class-major) from the expected right votes ``right`` (k, m, B).

        ``right2`` (k, m, B): the sums of ``count * q^2`` of the same columns (``MACE_EB_VAR``).
        """
        theta, xi, obs = self.theta, self.xi, self.obs
        # share of the votes for the class given by "knowing" it
        share = theta / np.maximum(theta + (1.0 - theta) * xi, _TINY)
        knows = right * share
        tots = np.add.reduce(knows, axis=0)
        if MACE_MIX:
            var = np.zeros_like(tots)
            if right2 is not None:  # as MACE_EB's: a vote's P(knows | row) is p = q share
                var = tots - np.add.reduce(right2 * share * share, axis=0)
            if self.mix is None or not (MACE_MIX_FIXED and self.mix_fixed):
                use = self.multi if MACE_MIX_SKIP_ONE_CLASS else None
                self.mix = mix_prior(tots, self.n_i, var, *MACE_EB_S, use=use, start=self.mix)
            theta = _clip(mix_theta(tots, self.n_i, *self.mix))
        elif MACE_EB:
            # a vote's P(knows | row) is p = q share: the count's variance is sum p (1 - p)
            var = None if right2 is None else tots - np.add.reduce(right2 * share * share, axis=0)
            if MACE_EB_FIXED and self.eb is not None:
                mu, s = self.eb
            else:
                mu, s = eb_strength(tots, self.n_i, *MACE_EB_S, var=var)
                self.eb = (mu, s)
            theta = _clip((tots + s * mu) / (self.n_i + s))
        else:
            theta = _clip((tots + 1.0) / self.denom)
        rest = np.maximum(obs - knows, 0.0)
        rest += self.xi_prior
        self.theta, self.xi = theta, rest / np.add.reduce(rest, axis=0)

    def _mace(self, right: np.ndarray) -> None:
        """One MACE M-step (member-major) from the expected outcomes "as if it knew" per class (B, m, k)."""
        theta, xi, obs, n_i = self.theta[..., None], self.xi, self.obs, self.n_i
        kappa = self.kappa
        xk = np.take_along_axis(xi, kappa, axis=2)  # xi at kappa, (B, m, k)
        knows = right * (theta / np.maximum(theta + (1.0 - theta) * xk, _TINY))
        theta = np.clip((knows.sum(axis=2) + 1.0) / (n_i + 2.0), _FLOOR, 1.0 - _FLOOR)
        # what "knowing" explains of each outcome: a class's own vote, or abstain, which several
        # classes (those the LF never votes) may share; summed in class order as the one-hot sum does
        known = np.zeros(obs.shape)
        voted = kappa > 0
        known[:, :, 1:] = np.where(voted, knows, 0.0)
        known[:, :, 0] = np.where(voted, 0.0, knows).sum(axis=2)
        rest = obs - known
        width = obs.shape[2]
        rest = np.maximum(rest, 0.0) + (obs + 1e-3) / (np.maximum(n_i, 0.0) + 1e-3 * width)[..., None]
        self.theta, self.xi = theta, rest / rest.sum(axis=2, keepdims=True)

    def table(self, j: int) -> np.ndarray:
        """Member j's table over all outcomes the E-step reads, (m, width, k)."""
        k = self.k
        if self.family in ("mv", "one_coin"):
            acc = np.broadcast_to(self.acc[:, j], (self.D.m,))
            V = np.empty((len(acc), k, k))
            V[:] = ((1.0 - acc) / (k - 1))[:, None, None]
            V[:, np.arange(k), np.arange(k)] = acc[:, None]
            return V
        if self.family == "mace":
            theta = self.theta[:, j]
            return ((1.0 - theta)[:, None] * self.xi[:, :, j].T)[:, :, None] + theta[:, None, None] * np.eye(
                k
            )
        if self.at_used:
            if self.family == "ds_abstain":
                return self.D.full(self.last_u[:, :, j : j + 1])[0]
            return ((1.0 - self.theta[j])[:, None] * self.xi[j])[..., None] + self.theta[j][
                :, None, None
            ] * self.K[j]
        return self.last[j]


def _full_table(table: np.ndarray, cov: np.ndarray, informative: bool) -> np.ndarray:
    """One member's table P(outcome a | y), shape (m, k + 1, k), abstain first.

    ``table`` is what :meth:`_Tables.table` gives for the member; ``cov`` (m,) its LFs' coverage
    (used in the vote-only reading only).
    """
    if informative:
        return table
    m, k = table.shape[0], table.shape[2]
    T = np.empty((m, k + 1, k))
    T[:, 0, :] = (1.0 - cov)[:, None]
    T[:, 1:, :] = cov[:, None, None] * table
    return T


@dataclass
class _BatchFit:
    """Per-member outcome of :func:`_em` (indexed like the input counts)."""

    params: list[LabelModelParams]
    log_likelihood: np.ndarray
    n_steps: np.ndarray
    converged: np.ndarray
    log_norm: np.ndarray  # (B, R): log p(row) under each member's final model
    soft_labels: np.ndarray  # (k, B, R): P(y | row) under each member's final model

    @classmethod
    def empty(cls, B: int, R: int, k: int) -> _BatchFit:
        """Room for B members' outcomes over R distinct rows and k classes, filled as members finish."""
        return cls(
            [None] * B,
            np.zeros(B),
            np.zeros(B, dtype=np.int64),
            np.zeros(B, bool),
            np.zeros((B, R)),
            np.empty((k, B, R)),
        )


def _groups(families: list[str]) -> list[tuple[str, slice]]:
    """Runs of equal families in ``families``: (family, slice of its members)."""
    out, start = [], 0
    for b in range(1, len(families) + 1):
        if b == len(families) or families[b] != families[start]:
            out.append((families[start], slice(start, b)))
            start = b
    return out


# Over 60 lines: one EM loop for a batch of fits, with the E and M steps sharing its running arrays.
def _em(
    D: _Design,
    families: list[str],
    counts: np.ndarray,
    q: np.ndarray,
    *,
    max_steps: int,
    tol: float,
    class_balance: np.ndarray | None,
    params: bool | np.ndarray = True,
    estimate_prior: np.ndarray | None = None,
) -> _BatchFit:
    """EM for B fits on the same distinct rows, each with its own family, counts and start.

    ``families`` (B,) names each member's family (equal families next to each other, all
    reading abstentions the way ``D`` encodes them), ``counts`` (B, R) are the members' row
    counts and ``q`` (k, B or 1, R) their starting soft labels.  The E-step of all members
    is one pair of design products; each family's M-step runs on its members at once.  Each
    member stops on its own (its log-likelihood per row improves by less than ``tol``, or
    ``max_steps``), exactly as if it were fitted alone.  ``params=False`` (or False for
    some members, a (B,) bool array) skips building the members' :class:`LabelModelParams`
    (held-out scoring needs their likelihoods only).  ``estimate_prior`` (B,) bool, with
    ``class_balance=None``: which members estimate their prior, the others keeping the uniform
    one (a batch of both readings of the prior ``"auto"``; each member as if fitted alone).

    Batches of the default's candidates (:data:`_LEAN`, vote-only reading) run in the compiled
    kernel when numba is available (:mod:`tripletws.estimators.em_jit`), with the same results
    to rounding.
    """
    B, R = counts.shape
    k = D.k
    informative = D.abstain
    kinds = set(families)  # a batch holds many members of a few families
    if any((f in ABSTAIN_INFORMATIVE) != informative for f in kinds):
        raise ValueError("every member of a batch must read abstentions as the design does")
    want = np.broadcast_to(np.asarray(params, dtype=bool), (B,))
    jobs = min(solve_jobs(), B)
    # on several threads: a compiled batch (members one after the other, without the GIL), or a numpy
    # batch on a design too small for row blocks, is dealt by members; a large sparse numpy batch
    # runs its steps by row blocks instead (all members together: each design product serves them all)
    if (
        jobs > 1
        and len(D.pos) * B >= SPLIT_ENTRIES
        and (_runs_compiled(D, families, R) or D.dense or len(D.pos) < PARALLEL_NNZ)
    ):
        return _em_split(D, families, counts, q, jobs, max_steps, tol, class_balance, want, estimate_prior)
    p0 = np.full(k, 1.0 / k) if class_balance is None else np.asarray(class_balance, dtype=np.float64)
    # "mv" always has a uniform prior; the others estimate theirs unless one is given
    free = np.array([class_balance is None and f != "mv" for f in families])
    if estimate_prior is not None:
        if class_balance is not None:
            raise ValueError("estimate_prior needs class_balance=None (the others keep a uniform prior)")
        free &= np.asarray(estimate_prior, dtype=bool)
    if not informative and R <= JIT_MAX_ROWS and _LEAN.issuperset(kinds) and not _mix_numpy(kinds):
        kernel = lean_kernel()
        if kernel is not None:
            return _em_compiled(kernel, D, families, counts, q, free, p0, want, max_steps, tol)
    if informative and D.lean and R <= JIT_MAX_ROWS and kinds <= INFORMATIVE_CODES.keys():
        kernel = informative_kernel()
        if kernel is not None:
            return _em_informative_compiled(kernel, D, families, counts, q, free, p0, want, max_steps, tol)
    total = counts.sum(axis=1)
    any_free = bool(free.any())
    p = np.repeat(p0[:, None], B, axis=1)  # (k, B)
    logp = np.log(p)
    # a lean design's abstentions: where a counted row abstains (exact zeros elsewhere)
    seen = D.abstaining(counts) if D.lean and len(D.abstain_cols) else None
    obs = D.observed(counts, seen)
    groups = [(_Tables(f, obs[sl], total[sl], D), sl) for f, sl in _groups(families)]
    if not informative:  # P(abstain | y) = 1 - coverage, fixed by the observed votes
        cov = np.clip(obs.sum(axis=2) / total[:, None], _FLOOR, 1.0 - _FLOOR)  # (B, m)
        log_odds = (np.log(cov) - np.log1p(-cov)).T[D.lf][:, None, :]  # (U, 1, B) at the used columns
        log_abstain = np.log1p(-cov).sum(axis=1)
    else:
        cov = np.zeros((B, 0))
    out = _BatchFit.empty(B, R, k)
    members = np.arange(B)
    c = counts
    prev = np.full(B, -np.inf)
    steps = 0
    # a large sparse design on several threads: each step's E-step and the next step's counts by row
    # blocks, one part per thread (Design.e_step_blocks); else the same steps on the whole arrays
    blocks = not D.dense and bool(D._blocks)
    N = w_sum = None
    eb_var = _mace_var() and "mace" in kinds and not informative
    while True:
        if N is None:
            W = q * c
            N = D.counts(W, seen)
            w_sum = W.sum(axis=2) if any_free else None
        if eb_var:  # MACE's complete-data spread: sum count * q^2 at the used columns
            N2 = D.counts(q * q * c, seen)
            for tab, sl in groups:
                tab.N2 = N2[:, :, sl]
        if len(groups) == 1:
            logt = np.log(groups[0][0].step(N))
        else:
            logt = np.empty(N.shape)
            for tab, sl in groups:
                logt[:, :, sl] = tab.step(N[:, :, sl])
            np.log(logt, out=logt)
        if any_free:
            assert w_sum is not None
            pf = np.maximum(w_sum / total, MIN_CLASS_PROB)
            pf /= pf.sum(axis=0)
            p[:, free] = pf[:, free]
            logp = np.log(p)
        const = logp
        if not informative:
            logt += log_odds
            const = logp + log_abstain
        if blocks:
            q, lse, ll, N, w_sum = D.e_step_blocks(logt, const, c, seen)
            ll /= total
        else:
            q, lse, ll = posterior_in_place(D.scores(logt, const), c, total)
            N = w_sum = None
        steps += 1
        conv = ll - prev < tol
        done = conv if steps < max_steps else np.ones(len(ll), dtype=bool)
        if not done.any():
            prev = ll
            continue
        for tab, sl in groups:
            for j in range(sl.start, sl.stop):
                if not done[j]:
                    continue
                b = members[j]
                if want[b]:
                    T = _full_table(tab.table(j - sl.start), cov[j], informative)
                    out.params[b] = LabelModelParams(p[:, j].copy(), T)
                out.log_likelihood[b], out.n_steps[b], out.converged[b] = ll[j], steps, conv[j]
                out.log_norm[b] = lse[j]
                out.soft_labels[:, b] = q[:, j]
        if done.all():
            return out
        keep = ~done
        kept_groups, start = [], 0
        for tab, sl in groups:
            mine = keep[sl]
            if mine.any():
                tab.keep(mine)
                n = int(mine.sum())
                kept_groups.append((tab, slice(start, start + n)))
                start += n
        groups = kept_groups
        members, c, q, total, free = members[keep], c[keep], q[:, keep], total[keep], free[keep]
        any_free = bool(free.any())
        p, logp, cov = p[:, keep], logp[:, keep], cov[keep]
        if seen is not None:
            seen = seen[:, keep]
        if not informative:
            log_odds, log_abstain = log_odds[:, :, keep], log_abstain[keep]
        if N is not None:  # the next step's counts, already made by the row blocks
            N = np.ascontiguousarray(N[:, :, keep])
            w_sum = None if w_sum is None else w_sum[:, keep]
        prev = ll[keep]


def _mace_var() -> bool:
    """Whether MACE's M-step needs the complete-data spread (the sums of ``count * q^2``)."""
    return MACE_MIX or (MACE_EB and MACE_EB_VAR)


def _mix_numpy(kinds: set[str]) -> bool:
    """Whether a batch must run on the numpy path: ``MACE_MIX`` is not in the compiled kernel."""
    return MACE_MIX and "mace" in kinds


def _runs_compiled(D: _Design, families: list[str], R: int) -> bool:
    """Whether :func:`_em` fits this batch in a compiled kernel (its dispatch's conditions)."""
    if R > JIT_MAX_ROWS:
        return False
    if not D.abstain:
        return _LEAN.issuperset(families) and not _mix_numpy(set(families)) and lean_kernel() is not None
    return D.lean and set(families) <= INFORMATIVE_CODES.keys() and informative_kernel() is not None


def fits_alone_exactly(R: int, families: tuple[str, ...] | list[str]) -> bool:
    """Whether a vote-only batch of these families on ``R`` distinct rows runs in the compiled
    kernel, which fits its members one after the other: a member's fit is then the fit made
    alone, float for float (numpy's batched steps agree with a lone fit to rounding only).  The
    conditions of :func:`_runs_compiled` for a vote-only design."""
    kinds = set(families)
    compiled = _LEAN.issuperset(kinds) and not _mix_numpy(kinds)
    return R <= JIT_MAX_ROWS and compiled and lean_kernel() is not None


def _em_split(
    D: _Design,
    families: list[str],
    counts: np.ndarray,
    q: np.ndarray,
    jobs: int,
    max_steps: int,
    tol: float,
    class_balance: np.ndarray | None,
    want: np.ndarray,
    estimate_prior: np.ndarray | None,
) -> _BatchFit:
    """:func:`_em` of a batch dealt over ``jobs`` threads of the solve, member ``b`` to part ``b % jobs``.

    Each member is fitted as if alone, so every part is an :func:`_em` batch of its own (the dealt
    members keep their order: equal families stay next to each other) and the merged outcome is the
    whole batch's, to rounding.  Inside a part the products are not split again
    (:func:`tripletws.parallel.map_parts`).
    """
    B, R = counts.shape
    if not D.dense:
        D.X  # noqa: B018 (the shared sparse matrices, built once here rather than raced for by the parts)
    deal = [np.arange(j, B, jobs) for j in range(jobs)]

    def part(j: int) -> _BatchFit:
        idx = deal[j]
        return _em(
            D,
            [families[b] for b in idx],
            counts[idx],
            q if q.shape[1] == 1 else q[:, idx],
            max_steps=max_steps,
            tol=tol,
            class_balance=class_balance,
            params=want[idx],
            estimate_prior=None if estimate_prior is None else np.asarray(estimate_prior, dtype=bool)[idx],
        )

    out = _BatchFit.empty(B, R, D.k)
    for idx, fit in zip(deal, map_parts(part, jobs), strict=True):
        for j, b in enumerate(idx):
            out.params[b] = fit.params[j]
        out.log_likelihood[idx], out.n_steps[idx], out.converged[idx] = (
            fit.log_likelihood,
            fit.n_steps,
            fit.converged,
        )
        out.log_norm[idx] = fit.log_norm
        out.soft_labels[:, idx] = fit.soft_labels
    return out


def _em_compiled(
    kernel: Any,
    D: _Design,
    families: list[str],
    counts: np.ndarray,
    q: np.ndarray,
    free: np.ndarray,
    p0: np.ndarray,
    want: np.ndarray,
    max_steps: int,
    tol: float,
) -> _BatchFit:
    """:func:`_em` of a batch of :data:`_LEAN` members (vote-only design) in the compiled kernel."""
    r = run_lean(
        kernel,
        D.indptr,
        D.pos,
        D.lf,
        D.vote,
        D.m,
        D.k,
        families,
        counts,
        q,
        free,
        p0,
        max_steps=max_steps,
        tol=tol,
        floor=_FLOOR,
        tiny=_TINY,
        min_class_prob=MIN_CLASS_PROB,
        want=want,
        eb_s=MACE_EB_S if MACE_EB else None,
        eb_var=MACE_EB_VAR,
        eb_fixed=MACE_EB_FIXED,
    )
    fitted: list[Any] = [None] * len(families)
    for b in np.flatnonzero(want):
        fitted[b] = LabelModelParams(r["p"][b].copy(), r["tables"][r["slot"][b]])
    return _BatchFit(fitted, r["ll"], r["steps"], r["conv"], r["log_norm"], r["soft"])


def _em_informative_compiled(
    kernel: Any,
    D: _Design,
    families: list[str],
    counts: np.ndarray,
    q: np.ndarray,
    free: np.ndarray,
    p0: np.ndarray,
    want: np.ndarray,
    max_steps: int,
    tol: float,
) -> _BatchFit:
    """:func:`_em` of a batch of ``"mace_abstain"`` / ``"ds_abstain"`` members (lean design) in the
    compiled kernel (:mod:`tripletws.estimators._abstain_kernel`)."""
    B, R = counts.shape
    m, k = D.m, D.k
    i64, f64 = np.int64, np.float64
    counts = np.ascontiguousarray(counts, dtype=f64)
    seen = D.abstaining(counts) if len(D.abstain_cols) else np.zeros((0, B), bool)
    obs_u = np.ascontiguousarray(D.observed_used(counts, seen).T)  # (B, U): the observed counts' used columns
    seen_u = np.ones((B, D.U))
    seen_u[:, D.abstain_cols] = seen.T
    slot = np.where(want, np.cumsum(want) - 1, -1).astype(i64)
    tables = np.empty((int(want.sum()), m, k + 1, k))
    out = _BatchFit.empty(B, R, k)
    p_out = np.empty((B, k))
    kernel(
        np.ascontiguousarray(D.indptr, dtype=i64),
        np.ascontiguousarray(D.pos, dtype=i64),
        np.ascontiguousarray(D.lf, dtype=i64),
        np.ascontiguousarray(D.outcome, dtype=i64),
        int(m),
        int(k),
        np.array([INFORMATIVE_CODES[f] for f in families], dtype=i64),
        counts,
        np.ascontiguousarray(q, dtype=f64),
        np.ascontiguousarray(free, dtype=np.bool_),
        np.ascontiguousarray(p0, dtype=f64),
        obs_u,
        seen_u,
        int(max_steps),
        float(tol),
        _FLOOR,
        _TINY,
        float(MIN_CLASS_PROB),
        slot,
        tables,
        p_out,
        out.log_likelihood,
        out.n_steps,
        out.converged,
        out.log_norm,
        out.soft_labels,
    )
    for b in np.flatnonzero(want):
        out.params[b] = LabelModelParams(p_out[b].copy(), tables[slot[b]])
    return out


def fit_annotator(
    unique: RowSummary,
    family: str,
    *,
    max_steps: int = 50,
    tol: float = EM_TOL,
    class_balance: np.ndarray | None = None,
    init: LabelModelParams | None = None,
    design: Any = None,
) -> AnnotatorFit:
    """Fit one family by EM over the distinct rows, started from majority vote.

    Parameters
    ----------
    unique : RowSummary
        Distinct rows (R, m) and their counts (R,).
    family : str
        One of :data:`FAMILIES`.
    max_steps : int
        EM steps at most (each O(R m k)).
    tol : float
        Stop when the mean log-likelihood per row improves by less than this.
    class_balance : ndarray of shape (k,), optional
        A fixed prior P(Y) (else estimated; ``"mv"`` always uses a uniform one).
    init : LabelModelParams, optional
        Start from this model's soft labels instead of majority vote's (a warm start).
    design : optional
        Internal: a prebuilt one-hot design of ``unique.rows`` (abstain encoded
        exactly when the family reads abstentions as informative).

    Returns
    -------
    AnnotatorFit
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    k = unique.cardinality
    votes = summary_votes(unique) if design is None or init is None else None
    if design is None:
        design = _Design(unique.rows, k, abstain=family in ABSTAIN_INFORMATIVE, votes=votes)
    D = design
    c = unique.counts.astype(np.float64)
    if float(c.sum()) <= 0:
        raise ValueError("no rows to fit")
    q = majority_soft_labels(unique.rows, k, votes) if init is None else _logsumexp(D.log_scores(init))[1]
    fit = _em(
        D, [family], c[None], q.T[:, None, :], max_steps=max_steps, tol=tol, class_balance=class_balance
    )
    return AnnotatorFit(
        family, fit.params[0], float(fit.log_likelihood[0]), int(fit.n_steps[0]), bool(fit.converged[0])
    )


def row_loglik(rows: np.ndarray, counts: np.ndarray, params: LabelModelParams) -> float:
    """Total log-likelihood of counted rows under a model (abstentions included).

    Parameters
    ----------
    rows : ndarray of int, shape (R, m)
    counts : ndarray, shape (R,)
    params : LabelModelParams
    """
    D = _Design(rows, params.cardinality, abstain=True)
    lse, _ = _logsumexp(D.log_scores(params))
    return float(counts @ lse)


def split_counts(counts: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Deal each row's count at random over folds (multinomial), shape (n_folds, R)."""
    out = np.zeros((n_folds, len(counts)))
    left = counts.astype(np.int64)
    for f in range(n_folds - 1):
        take = rng.binomial(left, 1.0 / (n_folds - f))
        out[f] = take
        left = left - take
    out[-1] = left
    return out


_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, elementwise on uint64 (wrapping arithmetic)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def row_fold_keys(
    rows: np.ndarray, counts: np.ndarray, k: int, seed: int = 0, votes: tuple[np.ndarray, ...] | None = None
) -> np.ndarray:
    """A 64-bit key per distinct row that does not depend on the order of the rows or of the columns.

    Each column gets a fingerprint from its count-weighted outcome histogram (it moves with
    the column when the columns are permuted); a row's key is the wrapping sum over its
    columns of ``mix(fingerprint, outcome)``, a sum being blind to the order of its terms.
    Columns with equal histograms are interchangeable in the key, which only merges the
    keys of rows that differ by swapping such columns' outcomes.

    Parameters
    ----------
    rows : ndarray of int, shape (R, m)
    counts : ndarray, shape (R,)
    k : int
    seed : int
    votes : tuple of arrays, optional
        :func:`row_votes` of ``rows``, when already at hand.

    Returns
    -------
    ndarray of uint64, shape (R,)
    """
    R, m = rows.shape
    whole = np.floor(np.asarray(counts, dtype=np.float64))  # integer sums are exact in any order
    r, i, a = row_votes(rows) if votes is None else votes
    outcome = a + 1  # 1..k: the votes (abstentions: outcome 0)
    hist = np.zeros((m, k + 1))
    hist[:, 1:] = np.bincount(i * k + outcome - 1, weights=whole[r], minlength=m * k).reshape(m, k)
    hist[:, 0] = whole.sum() - hist[:, 1:].sum(axis=1)
    # compiled only where the compiled EM runs too: a large fit does not load numba for keys alone
    # (its import and kernel load, ~0.3 s and ~100 MB once per process, exceed what they save there)
    compiled = fold_keys_kernel() if 0 < R <= JIT_MAX_ROWS else None
    if compiled is not None:
        return compiled(r, i, a, R, np.ascontiguousarray(hist).view(np.uint64), np.uint64(seed))
    fp = _mix(np.full(m, seed, dtype=np.uint64) ^ _GOLDEN)
    for a in range(k + 1):
        fp = _mix(fp ^ hist[:, a].view(np.uint64))
    if R == 0:
        return np.zeros(0, dtype=np.uint64)
    # sum over all columns of mix(fp_j + outcome * golden): the abstentions' terms summed once,
    # then each vote swaps its column's abstention term for its own
    abstain = _mix(fp)
    delta = _mix(fp[i] + outcome.astype(np.uint64) * _GOLDEN) - abstain[i]
    per_row = np.zeros(R, dtype=np.uint64)
    if len(r):
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        per_row[r[starts]] = np.add.reduceat(delta, starts)
    return _mix(per_row + abstain.sum(dtype=np.uint64))


def deal_counts(
    rows: np.ndarray,
    counts: np.ndarray,
    k: int,
    n_folds: int,
    seed: int = 0,
    votes: tuple[np.ndarray, ...] | None = None,
) -> np.ndarray:
    """Deal each distinct row's count at random over folds, independently of row and column order.

    The multinomial deal of :func:`split_counts` (a row seen 30 times lands in several
    folds), made in the order of the rows' content keys (:func:`row_fold_keys`) with a
    generator seeded by ``seed``, so the deal does not depend on the order of the rows or
    of the columns of L.  Fractional counts (exponential forgetting) are truncated.

    Returns
    -------
    ndarray, shape (n_folds, R)
    """
    keys = row_fold_keys(rows, counts, k, seed, votes)
    order = np.argsort(keys, kind="stable")
    out = np.empty((n_folds, len(keys)))
    out[:, order] = split_counts(
        np.floor(np.asarray(counts, dtype=np.float64))[order], n_folds, np.random.default_rng(seed)
    )
    return out


@dataclass(frozen=True)
class HeldOutScores:
    """Cross-fitted log-likelihood of every held-out row, per family (:func:`heldout_row_scores`).

    Attributes
    ----------
    folds : ndarray, shape (n_folds, R)
        How many copies of each distinct row fold ``f`` holds out (a fold with nothing to fit
        on is zero: it is not scored).
    row_loglik : dict
        family -> ndarray (n_folds, R): log-likelihood of distinct row ``r`` under the fit on
        every fold but ``f``.

    Neither is written once the scores are made: each family's mean is computed once and kept.
    """

    folds: np.ndarray
    row_loglik: dict[str, np.ndarray]
    _means: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)

    @cached_property
    def n_scored(self) -> float:
        """Rows scored (held out once each); summed once (the folds are not written after)."""
        return float(self.folds.sum())

    def mean(self, family: str) -> float:
        """Mean held-out log-likelihood per row of ``family`` (nan when no fold was scored)."""
        kept = self._means.get(family)
        if kept is not None:
            return kept
        n = self.n_scored
        if n <= 0:
            return float("nan")
        ll = self.row_loglik[family]
        # fold by fold, in order (the same dot products and sum as indexing each fold)
        value = sum(float(w @ x) for w, x in zip(self.folds, ll, strict=True)) / n
        self._means[family] = value
        return value

    def lead(self, richer: str, simpler: str) -> tuple[float, float]:
        """Mean per-row lead of ``richer`` over ``simpler`` and its standard error.

        Each held-out row gives a paired difference of log-likelihoods (both families scored
        on the same row by fits on the same other folds); the standard error is that of the
        mean of these differences over the scored rows, ``sd / sqrt(n)``.

        Returns
        -------
        (float, float)
            Lead in nats per row and its standard error (nan, nan when fewer than 2 rows were scored).
        """
        n = self.n_scored
        if n < 2:
            return float("nan"), float("nan")
        d = self.row_loglik[richer] - self.row_loglik[simpler]
        w = self.folds
        mean = float((w * d).sum()) / n
        var = float((w * (d - mean) ** 2).sum()) / (n - 1.0)
        return mean, float(np.sqrt(max(var, 0.0) / n))

    def fold_leads(self, richer: str, simpler: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per fold: the mean lead of ``richer`` over ``simpler`` on the fold's held-out rows.

        Returns
        -------
        (ndarray, ndarray, ndarray), each of shape (F,)
            For the F folds holding at least 2 scored rows: the fold's mean per-row lead, its
            number of rows and the sample variance (ddof 1) of its per-row leads.
        """
        d = self.row_loglik[richer] - self.row_loglik[simpler]
        w = self.folds
        n = w.sum(axis=1)
        keep = n >= 2
        w, d, n = w[keep], d[keep], n[keep]
        mean = (w * d).sum(axis=1) / n
        var = (w * (d - mean[:, None]) ** 2).sum(axis=1) / (n - 1.0)
        return mean, n, var


def _fold_counts(
    unique: RowSummary, n_folds: int, random_state: Any, votes: tuple[np.ndarray, ...] | None = None
) -> np.ndarray:
    if isinstance(random_state, np.random.Generator):
        return split_counts(unique.counts, n_folds, random_state)
    seed = 0 if random_state is None else int(random_state)
    return deal_counts(unique.rows, unique.counts, unique.cardinality, n_folds, seed, votes)


def heldout_row_scores(
    unique: RowSummary,
    families: tuple[str, ...] = FAMILIES,
    *,
    n_folds: int = 5,
    max_steps: int = 50,
    fold_steps: int = 10,
    class_balance: np.ndarray | None = None,
    random_state: Any = None,
    fits: dict[str, AnnotatorFit] | None = None,
    warm_start: bool = False,
    folds: np.ndarray | None = None,
    fitted: dict[str, AnnotatorFit] | None = None,
    design: _Design | None = None,
) -> HeldOutScores:
    """Cross-fitted log-likelihood of each held-out row under each family.

    The counts of the distinct rows are dealt into ``n_folds`` folds; each family is fitted on
    all rows, then on every fold's complement, and the fold's rows are scored by that fit.
    Parameters as in :func:`heldout_loglik`; ``folds`` (n_folds, R), when given, is the deal
    already made (``deal_counts`` of these rows with ``n_folds`` and ``random_state``: a caller
    that needs the same folds for another check deals them once).  ``fitted`` maps families
    to their fits on all rows when already made (:func:`fit_annotator` of ``unique`` with
    ``class_balance`` and ``max_steps``: the fit a member of the batch gives, each member being
    fitted as if alone); those go into ``fits`` instead of being fitted again (not with
    ``warm_start``, whose folds' fits start from the batch's fits on all rows).  ``design``: the
    vote-only :class:`_Design` of ``unique`` when already built (``_Design(unique.rows, k,
    abstain=False, votes=summary_votes(unique))``).

    Returns
    -------
    HeldOutScores
    """
    votes = summary_votes(unique)  # one pass over the rows for the deal, the design and the start
    if folds is None:
        folds = _fold_counts(unique, n_folds, random_state, votes)
    for fam in families:
        if fam not in FAMILIES:
            raise ValueError(f"unknown family {fam!r}; choose one of {', '.join(FAMILIES)}")
    k = unique.cardinality
    c = unique.counts.astype(np.float64)
    if float(c.sum()) <= 0:
        raise ValueError("no rows to fit")
    R = len(c)
    train = c[None, :] - folds
    # a fold holding every row (a handful of rows) leaves nothing to fit on: not scored
    usable = np.flatnonzero(train.sum(axis=1) > 0)
    U = len(usable)
    scored = np.zeros_like(folds)
    scored[usable] = folds[usable]
    out: dict[str, np.ndarray] = {}
    reuse = dict(fitted or {}) if fits is not None and not warm_start else {}
    for informative in (False, True):
        group = [f for f in families if (f in ABSTAIN_INFORMATIVE) == informative]
        if not group:
            continue
        if design is not None and not informative:
            D = design
        else:
            D = _Design(unique.rows, k, abstain=informative, votes=votes)
        start = majority_soft_labels(unique.rows, k, votes).T[:, None, :]
        cold = not warm_start and U > 0
        # cold: every family's fit on all rows and on each fold's complement in one batch, all started
        # from majority vote (no held-out row shapes the fit that scores it); warm: the fits on all
        # rows first, then the folds' fits started from them.  Cold without ``fits``, the fits on all
        # rows score nothing: not made (each member of a batch is fitted as if alone)
        lead = 0 if cold and fits is None else 1
        # per family: its fit on all rows first (unless not wanted, or made already), then its folds'
        at: dict[str, tuple[int, int]] = {}  # family -> (its first member, 1 if it has a lead member)
        names: list[str] = []
        parts: list[np.ndarray] = []
        for fam in group:
            own = int(lead and fam not in reuse)
            at[fam] = (len(names), own)
            n_own = own + (U if cold else 0)
            names += [fam] * n_own
            parts += [c[None]] * own + ([train[usable]] if cold else [])
        whole = np.zeros(len(names), dtype=bool)
        for j, own in at.values():
            whole[j] = own == 1 and fits is not None  # the folds' fits need their likelihoods only
        full = (
            _em(
                D,
                names,
                np.vstack(parts),
                start,
                max_steps=max_steps,
                tol=EM_TOL,
                class_balance=class_balance,
                params=whole,
            )
            if names
            else None
        )
        for fam in group:
            j, own = at[fam]
            if fits is not None:
                if own:
                    assert full is not None
                    fits[fam] = AnnotatorFit(
                        fam,
                        full.params[j],
                        float(full.log_likelihood[j]),
                        int(full.n_steps[j]),
                        bool(full.converged[j]),
                    )
                else:
                    fits[fam] = reuse[fam]
            out[fam] = np.zeros((n_folds, R))
            if cold:
                assert full is not None
                out[fam][usable] = full.log_norm[j + own : j + own + U]
        if warm_start and U > 0:
            batch = _em(
                D,
                [f for f in group for _ in range(U)],
                np.tile(train[usable], (len(group), 1)),
                np.repeat(full.soft_labels, U, axis=1),
                max_steps=fold_steps,
                tol=EM_TOL,
                class_balance=class_balance,
                params=False,
            )
            for g, fam in enumerate(group):
                out[fam][usable] = batch.log_norm[g * U : (g + 1) * U]
    return HeldOutScores(scored, out)


def heldout_loglik(
    unique: RowSummary,
    families: tuple[str, ...] = FAMILIES,
    *,
    n_folds: int = 5,
    max_steps: int = 50,
    fold_steps: int = 10,
    class_balance: np.ndarray | None = None,
    random_state: Any = None,
    fits: dict[str, AnnotatorFit] | None = None,
    warm_start: bool = False,
) -> dict[str, float]:
    """Cross-fitted mean log-likelihood per row of each family.

    Parameters
    ----------
    unique : RowSummary
    families : tuple of str
    n_folds : int
    max_steps : int
        EM steps of the fit on all rows.
    fold_steps : int
        EM steps of each fold's fit when ``warm_start``.
    class_balance : ndarray of shape (k,), optional
        A fixed prior P(Y) for every fit (see :func:`fit_annotator`).
    random_state : int or numpy Generator, optional
        Seed of the split of the counts into folds: an int (or None, read as 0) deals each
        distinct row by a seeded key of its content (:func:`deal_counts`), so the scores do
        not depend on the order of the rows or of the columns; a Generator deals at random
        (:func:`split_counts`).
    fits : dict, optional
        Filled with each family's fit on all rows.
    warm_start : bool
        Start each fold's fit from the fit on all rows (``fold_steps`` EM steps: cheaper, but
        the start has seen the held-out rows, which favours the richer families) instead of
        from majority vote with ``max_steps`` steps, as the fit on all rows (default: a clean
        cross-fit).

    Returns
    -------
    dict
        family -> mean held-out log-likelihood per row (higher is better).
    """
    scores = heldout_row_scores(
        unique,
        families,
        n_folds=n_folds,
        max_steps=max_steps,
        fold_steps=fold_steps,
        class_balance=class_balance,
        random_state=random_state,
        fits=fits,
        warm_start=warm_start,
    )
    return {fam: scores.mean(fam) for fam in families}


#: Held-out log-likelihood per row below which one family's lead over a simpler one is a tie.
TIE_TOL = 1e-6

#: Standard errors by which the best-scoring family must lead a simpler one to be preferred to it
#: (the one-standard-error rule of cross-validation with a conventional two, not a tuned constant).
LEAD_SE = 2.0

#: Candidates of the gold-free choice (vote-only reading; see :func:`select_family`).
CANDIDATES = ("mv", "one_coin", "mace")

#: How the standard error of a held-out lead is estimated (:func:`lead_with_fits`): "rows" (the
#: paired per-row differences alone), "fits" (plus the fold fits' noise, read from the spread of
#: the per-fold leads beyond the rows' own noise) or "nb" (Nadeau and Bengio's corrected
#: resampled variance of the per-fold leads).
LEAD_NOISE = "rows"

#: Deals of the rows into folds whose leads are averaged (1: one deal, the scores of
#: :func:`heldout_row_scores`; more cost one cross-fit each).
LEAD_DEALS = 1

LEAD_NOISES = ("rows", "fits", "nb")


def lead_with_fits(
    deals: tuple[HeldOutScores, ...] | list[HeldOutScores], richer: str, simpler: str, noise: str = "fits"
) -> tuple[float, float]:
    """Lead of ``richer`` over ``simpler`` averaged over deals, with a standard error that counts the fits.

    The per-row standard error of :meth:`HeldOutScores.lead` treats the fits that scored the
    held-out rows as fixed; but each fold's fit is itself an estimate from a sample, and the
    folds' fits share part of their training rows.  Cross-validated comparisons correct for
    this with the variance of the per-fold (per-split) estimates inflated for that overlap:
    the corrected resampled variance of Nadeau and Bengio (2003, *Machine Learning* 52,
    "Inference for the generalization error"), ``(1/J + n_test / n_train) S^2`` over ``J``
    folds with sample variance ``S^2`` of their leads (Bouckaert and Frank, PAKDD 2004, for
    repeated k-fold cross-validation); ``n_test / n_train`` stands for the correlation
    ``rho / (1 - rho)`` between folds that share training rows.

    ``noise="nb"`` is that variance as is.  ``noise="fits"`` splits it into its two parts:
    the rows' noise (the paired per-row variance over ``n``, exact for disjoint test folds)
    plus the folds' spread beyond what their rows explain, ``max(0, S^2 - mean_j v_j / n_j)``,
    times the same correction, so it equals the per-row standard error where the folds agree
    as well as their rows allow.  ``noise="rows"`` is the per-row standard error alone.

    Neither is the default (:data:`LEAD_NOISE` is "rows"): on the stress suite they move no
    loss of the family choice, whose folds agree (docs/models.md, "What did not work").

    Parameters
    ----------
    deals : sequence of HeldOutScores
        The same rows dealt into folds one or more times (each deal holds every row out once).
    richer, simpler : str
    noise : {"rows", "fits", "nb"}

    Returns
    -------
    (float, float)
        The mean lead in nats per row (averaged over the deals) and its standard error (nan,
        nan when fewer than 2 rows were scored).
    """
    if noise not in LEAD_NOISES:
        raise ValueError(f"unknown noise {noise!r}; choose one of {', '.join(LEAD_NOISES)}")
    first = deals[0]
    mean, se = first.lead(richer, simpler)
    if len(deals) > 1:
        n = first.n_scored
        w = np.stack([dl.folds for dl in deals])  # (deals, folds, R)
        d = np.stack([dl.row_loglik[richer] - dl.row_loglik[simpler] for dl in deals])
        total = float(w.sum())
        if total < 2 or n < 2:
            return float("nan"), float("nan")
        mean = float((w * d).sum()) / total
        per_row = w.sum(axis=(0, 1))
        seen = per_row > 0
        # each distinct row's copies averaged over every deal: one paired difference per row
        e = (w * d).sum(axis=(0, 1))[seen] / per_row[seen]
        c = per_row[seen] * (n / total)  # counts of the rows (each deal holds every row out once)
        var = float((c * (e - mean) ** 2).sum()) / (n - 1.0)
        se = float(np.sqrt(max(var, 0.0) / n))
    if noise == "rows" or not np.isfinite(mean):
        return mean, se
    leads, n_j, v_j = (
        np.concatenate(x) for x in zip(*(dl.fold_leads(richer, simpler) for dl in deals), strict=True)
    )
    J = len(leads)
    if J < 2:
        return mean, se
    n_all = first.n_scored
    share = float(np.mean(n_j)) / max(n_all - float(np.mean(n_j)), 1.0)  # n_test / n_train
    s2 = float(np.var(leads, ddof=1))
    if noise == "nb":
        return mean, float(np.sqrt((1.0 / J + share) * s2))
    excess = max(0.0, s2 - float(np.mean(v_j / n_j)))
    return mean, float(np.sqrt(se**2 + (1.0 / J + share) * excess))


def _json_float(x: float) -> float | None:
    """A JSON-safe float: None for nan/inf (a score of no held-out row)."""
    x = float(x)
    return x if np.isfinite(x) else None


def _read_float(x: Any) -> float:
    """The inverse of :func:`_json_float`: None reads as nan."""
    return float("nan") if x is None else float(x)


@dataclass(frozen=True)
class Selection:
    """Outcome of :func:`select_family`.

    Attributes
    ----------
    chosen : str
        The simplest family whose held-out log-likelihood is within ``n_se`` standard errors
        of the best one's.
    heldout_loglik : dict
        family -> mean held-out log-likelihood per row (nan when no row could be held out, e.g.
        one distinct row; saved as JSON null).
    n_folds : int
    n_rows : int
        Rows the choice was made on (after any subsample).
    fit : AnnotatorFit or None
        The chosen family's fit on all the rows (not persisted).
    fits : dict
        Every candidate's fit on all the rows (not persisted).
    best : str
        The family with the highest held-out log-likelihood ("" in records written before
        the standard-error rule).
    leads : dict
        family -> ``(lead, standard error)``: how far the best family's held-out log-likelihood
        per row is above this family's, and the standard error of that paired difference.
    n_se : float
        The rule's number of standard errors (0: the plain highest score).
    scores : HeldOutScores or None
        The candidates' held-out scores per row (not persisted; None with a single candidate):
        a later check on the same rows and folds reuses them.
    noise : str
        How the standard errors of ``leads`` were estimated (:func:`lead_with_fits`; "rows" in
        records written before it was recorded).
    n_deals : int
        Deals of the rows into folds whose scores were averaged.
    weights : dict
        family -> mixture weight when the candidates are combined (``LabelModel(combine=...)``,
        :func:`combine_weights`); empty when one is chosen.
    """

    chosen: str
    heldout_loglik: dict[str, float]
    n_folds: int
    n_rows: int
    fit: AnnotatorFit | None = field(default=None, compare=False, repr=False)
    fits: dict[str, AnnotatorFit] = field(default_factory=dict, compare=False, repr=False)
    best: str = ""
    leads: dict[str, tuple[float, float]] = field(default_factory=dict)
    n_se: float = 0.0
    scores: HeldOutScores | None = field(default=None, compare=False, repr=False)
    noise: str = "rows"
    n_deals: int = 1
    weights: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "chosen": self.chosen,
            # nan where no row could be held out (e.g. one distinct row): JSON null
            "heldout_loglik": {f: _json_float(v) for f, v in self.heldout_loglik.items()},
            "n_folds": self.n_folds,
            "n_rows": self.n_rows,
            "best": self.best,
            "leads": {f: [_json_float(a), _json_float(b)] for f, (a, b) in self.leads.items()},
            "n_se": float(self.n_se),
            "noise": self.noise,
            "n_deals": int(self.n_deals),
        }
        if self.weights:
            out["weights"] = {f: float(v) for f, v in self.weights.items()}
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Selection:
        try:
            chosen = str(d["chosen"])
            scores = {str(f): _read_float(v) for f, v in dict(d["heldout_loglik"]).items()}
            n_folds, n_rows = int(d["n_folds"]), int(d["n_rows"])
            best = str(d.get("best", ""))
            leads = {}
            for f, v in dict(d.get("leads", {})).items():
                lead, se = (_read_float(x) for x in v)
                leads[str(f)] = (lead, se)
            n_se = float(d.get("n_se", 0.0))
            noise = str(d.get("noise", "rows"))
            n_deals = int(d.get("n_deals", 1))
            weights = {str(f): float(v) for f, v in dict(d.get("weights", {})).items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid selection record: {exc}") from exc
        named = {chosen, *scores, *leads, *weights, *([best] if best else [])}
        if any(f not in FAMILIES for f in named):
            raise ValueError(f"selection record names an unknown family: {chosen!r}, {sorted(named)}")
        if noise not in LEAD_NOISES:
            raise ValueError(f"selection record names an unknown noise: {noise!r}")
        return cls(
            chosen,
            scores,
            n_folds,
            n_rows,
            best=best,
            leads=leads,
            n_se=n_se,
            noise=noise,
            n_deals=n_deals,
            weights=weights,
        )


def choose_within_se(
    scores: HeldOutScores,
    candidates: tuple[str, ...],
    n_se: float = LEAD_SE,
    *,
    noise: str = "rows",
    extra: tuple[HeldOutScores, ...] = (),
) -> tuple[str, str, dict[str, tuple[float, float]]]:
    """The simplest candidate whose held-out score is within ``n_se`` standard errors of the best.

    The one-standard-error rule of cross-validation (Breiman et al., 1984; Hastie, Tibshirani
    and Friedman, *The Elements of Statistical Learning*, 7.10), with the standard error of
    the *paired* per-row difference to the best family (:meth:`HeldOutScores.lead`): a richer
    family is chosen only when its better description of held-out rows is larger than the
    noise of the rows that measured it.  Leads within :data:`TIE_TOL` are ties.

    Parameters
    ----------
    scores : HeldOutScores
    candidates : tuple of str
        Fewest parameters first.
    n_se : float
        0 gives the plain highest score (ties to the simpler family).
    noise : {"rows", "fits", "nb"}
        The standard error of the leads (:func:`lead_with_fits`; "rows": :meth:`HeldOutScores.lead`).
    extra : tuple of HeldOutScores
        Further deals of the same rows into folds: the scores and leads are averaged over
        ``scores`` and these.

    Returns
    -------
    (chosen, best, leads)
        ``leads[f] = (lead of best over f, standard error)``.
    """
    deals = (scores, *extra)
    if extra:
        means = {f: float(np.mean([dl.mean(f) for dl in deals])) for f in candidates}
    else:  # the mean of one value is that value
        means = {f: scores.mean(f) for f in candidates}
    best = candidates[0]
    for fam in candidates[1:]:
        # nan (no fold could be scored) never wins; ties go to the simpler family
        if means[fam] > means[best] + TIE_TOL:
            best = fam
    if noise == "rows" and not extra:
        leads = {f: scores.lead(best, f) if f != best else (0.0, 0.0) for f in candidates}
    else:
        leads = {f: lead_with_fits(deals, best, f, noise) if f != best else (0.0, 0.0) for f in candidates}
    for fam in candidates:
        lead, se = leads[fam]
        if fam == best or (
            np.isfinite(lead) and lead <= max(TIE_TOL, n_se * (se if np.isfinite(se) else 0.0))
        ):
            return fam, best, leads
    return best, best, leads


def select_family(
    unique: RowSummary,
    candidates: tuple[str, ...] = CANDIDATES,
    *,
    n_folds: int = 3,
    max_steps: int = 50,
    class_balance: np.ndarray | None = None,
    random_state: Any = None,
    n_se: float | None = None,
    warm_start: bool = False,
    folds: np.ndarray | None = None,
    noise: str | None = None,
    n_deals: int | None = None,
    fitted: dict[str, AnnotatorFit] | None = None,
    design: _Design | None = None,
) -> Selection:
    """Choose the simplest family that predicts held-out rows as well as the best (no tuned constant).

    Every candidate is scored by its cross-fitted log-likelihood of held-out rows
    (:func:`heldout_row_scores`); the chosen family is the simplest one whose score is within
    ``n_se`` standard errors of the best score (:func:`choose_within_se`).

    Parameters
    ----------
    unique : RowSummary
    candidates : tuple of str
        Families to compare, fewest parameters first.
    n_folds : int
    max_steps : int
    class_balance : ndarray of shape (k,), optional
        Fixed prior for every fit.
    random_state : int or numpy Generator, optional
    n_se : float, optional
        Standard errors of the rule (None: :data:`LEAD_SE`, read at call time; 0: the highest
        score wins).
    warm_start : bool
        Start the folds' fits from the fit on all rows (see :func:`heldout_loglik`; about half
        the cost, but the start has seen the held-out rows).
    folds : ndarray, shape (n_folds, R), optional
        The deal of the rows into folds when already made (:func:`heldout_row_scores`).
    fitted : dict, optional
        Candidates' fits on all rows when already made (:func:`fit_annotator` of ``unique``
        with ``class_balance`` and ``max_steps``): used instead of fitting them again
        (:func:`heldout_row_scores`).
    design : optional
        Internal: the vote-only design of ``unique`` when already built (:func:`heldout_row_scores`).
    noise : {"rows", "fits", "nb"}, optional
        The standard error of the leads (None: :data:`LEAD_NOISE`; :func:`lead_with_fits`).
    n_deals : int, optional
        Deals of the rows into folds, scores and leads averaged over them (None:
        :data:`LEAD_DEALS`); deal ``d > 0`` is seeded ``random_state + d`` (or drawn from
        the Generator).  Each costs the folds' fits once more.

    Returns
    -------
    Selection
    """
    n_se = LEAD_SE if n_se is None else float(n_se)
    noise = LEAD_NOISE if noise is None else str(noise)
    n_deals = LEAD_DEALS if n_deals is None else max(1, int(n_deals))
    if noise not in LEAD_NOISES:
        raise ValueError(f"unknown noise {noise!r}; choose one of {', '.join(LEAD_NOISES)}")
    n = int(unique.counts.sum())
    if len(candidates) == 1:
        fit = (fitted or {}).get(candidates[0]) or fit_annotator(
            unique, candidates[0], max_steps=max_steps, class_balance=class_balance
        )
        return Selection(candidates[0], {}, 0, n, fit, {candidates[0]: fit}, best=candidates[0], n_se=n_se)
    fits: dict[str, AnnotatorFit] = {}
    scores = heldout_row_scores(
        unique,
        candidates,
        n_folds=n_folds,
        max_steps=max_steps,
        class_balance=class_balance,
        random_state=random_state,
        fits=fits,
        warm_start=warm_start,
        folds=folds,
        fitted=fitted,
        design=design,
    )
    extra = []
    if n_deals > 1:
        votes = summary_votes(unique)
        base = (
            None
            if isinstance(random_state, np.random.Generator)
            else (0 if random_state is None else int(random_state))
        )
        for d in range(1, n_deals):
            deal = (
                split_counts(unique.counts, n_folds, random_state)
                if base is None
                else deal_counts(unique.rows, unique.counts, unique.cardinality, n_folds, base + d, votes)
            )
            extra.append(
                heldout_row_scores(
                    unique,
                    candidates,
                    n_folds=n_folds,
                    max_steps=max_steps,
                    class_balance=class_balance,
                    warm_start=warm_start,
                    folds=deal,
                )
            )
    chosen, best, leads = choose_within_se(scores, candidates, n_se, noise=noise, extra=tuple(extra))
    if extra:
        means = {f: float(np.mean([dl.mean(f) for dl in (scores, *extra)])) for f in candidates}
    else:  # one deal: its means (the mean of one value is that value)
        means = {f: scores.mean(f) for f in candidates}
    return Selection(
        chosen,
        means,
        n_folds,
        n,
        fits[chosen],
        fits,
        best=best,
        leads=leads,
        n_se=float(n_se),
        scores=scores,
        noise=noise,
        n_deals=n_deals,
    )
