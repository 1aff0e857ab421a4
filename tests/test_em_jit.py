"""The compiled EM (numba) against the numpy EM: same fits to rounding, same choices.

Both paths run the same updates; only the order of some sums differs (BLAS products and
pairwise sums against sequential loops), so results differ by rounding: a few units in the
last place per operation, over at most 50 EM steps of a contracting map.  The bound 1e-10
(absolute, on probabilities and log-likelihoods of order 1-100) leaves several orders of
magnitude above that and far below any difference a changed update would make (a skipped
step moves the parameters by about the tolerance EM_TOL = 1e-6 or more).
"""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.estimators import annotator as A
from tripletws.estimators import annotator_design as AD
from tripletws.estimators import em_jit
from tripletws.estimators import family_choice as FC
from tripletws.estimators import heldout as H
from tripletws.rows import RowSummary

pytest.importorskip("numba")

TOL = 1e-10


def _rows(k: int, m: int, n: int, coverage: float, seed: int) -> RowSummary:
    """Distinct rows and counts of a synthetic label matrix (LF accuracies 0.55-0.9)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=np.arange(1, k + 1) / (k * (k + 1) / 2))
    acc = rng.uniform(0.55, 0.9, size=m)
    wrong = (y[:, None] + rng.integers(1, k, size=(n, m))) % k
    L = np.where(rng.random((n, m)) < acc, y[:, None], wrong)
    L = np.where(rng.random((n, m)) < coverage, L, -1).astype(np.int8)
    rows, counts = np.unique(L, axis=0, return_counts=True)
    return RowSummary(k, rows, counts.astype(np.float64), float(n), 100_000)


def _both(monkeypatch: pytest.MonkeyPatch, fn, *args, **kwargs):
    """``fn`` with the compiled EM, then with numpy."""
    assert em_jit.lean_kernel() is not None
    compiled = fn(*args, **kwargs)
    monkeypatch.setenv(em_jit.JIT_ENV, "0")
    assert em_jit.lean_kernel() is None
    plain = fn(*args, **kwargs)
    monkeypatch.delenv(em_jit.JIT_ENV)
    return compiled, plain


def _batch(unique: RowSummary, class_balance, max_steps: int):
    """One batch as the held-out choice runs it: 3 families x (all rows + 3 folds)."""
    folds = H.deal_counts(unique.rows, unique.counts, unique.cardinality, 3, seed=0)
    members = np.vstack([unique.counts[None], unique.counts[None] - folds])
    fams = [f for f in FC.CANDIDATES for _ in range(len(members))]
    D = AD._Design(unique.rows, unique.cardinality, abstain=False)
    start = AD.majority_soft_labels(unique.rows, unique.cardinality).T[:, None, :]
    return A._em(
        D,
        fams,
        np.tile(members, (len(FC.CANDIDATES), 1)),
        start,
        max_steps=max_steps,
        tol=A.EM_TOL,
        class_balance=class_balance,
    )


@pytest.mark.parametrize("k", [2, 3, 4, 5])
@pytest.mark.parametrize("coverage", [0.9, 0.15])
@pytest.mark.parametrize("given", [False, True])
def test_batch_equal(monkeypatch: pytest.MonkeyPatch, k: int, coverage: float, given: bool) -> None:
    unique = _rows(k, 12, 600, coverage, seed=10 * k + int(coverage * 10))
    cb = np.linspace(1.0, 2.0, k) / np.linspace(1.0, 2.0, k).sum() if given else None
    for max_steps in (50, 4):
        jit, ref = _both(monkeypatch, _batch, unique, cb, max_steps)
        np.testing.assert_array_equal(jit.n_steps, ref.n_steps)
        np.testing.assert_array_equal(jit.converged, ref.converged)
        if max_steps == 50:  # members stop on their own, at different steps
            assert len(np.unique(ref.n_steps)) > 1
        else:
            assert (ref.n_steps == 4).any() and not ref.converged.all()
        np.testing.assert_allclose(jit.log_likelihood, ref.log_likelihood, rtol=0, atol=TOL)
        np.testing.assert_allclose(jit.log_norm, ref.log_norm, rtol=0, atol=TOL)
        np.testing.assert_allclose(jit.soft_labels, ref.soft_labels, rtol=0, atol=TOL)
        for a, b in zip(jit.params, ref.params, strict=True):
            np.testing.assert_allclose(a.class_balance, b.class_balance, rtol=0, atol=TOL)
            np.testing.assert_allclose(a.cond_probs, b.cond_probs, rtol=0, atol=TOL)


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_selection_equal(monkeypatch: pytest.MonkeyPatch, k: int) -> None:
    for coverage, seed in ((0.8, 1), (0.2, 2)):
        unique = _rows(k, 8, 400, coverage, seed)
        jit, ref = _both(monkeypatch, FC.select_family, unique, random_state=0)
        assert jit.chosen == ref.chosen and jit.best == ref.best
        for fam in FC.CANDIDATES:
            assert abs(jit.heldout_loglik[fam] - ref.heldout_loglik[fam]) < TOL
            np.testing.assert_allclose(
                jit.fits[fam].params.cond_probs, ref.fits[fam].params.cond_probs, atol=TOL
            )
            assert jit.fits[fam].n_steps == ref.fits[fam].n_steps


def test_single_fit_and_rows_without_votes(monkeypatch: pytest.MonkeyPatch) -> None:
    unique = _rows(3, 6, 300, 0.3, seed=5)
    assert (unique.rows < 0).all(axis=1).any()  # a row with no vote at all
    for fam in FC.CANDIDATES:
        jit, ref = _both(monkeypatch, A.fit_annotator, unique, fam)
        assert jit.n_steps == ref.n_steps and jit.converged == ref.converged
        assert abs(jit.log_likelihood - ref.log_likelihood) < TOL
        np.testing.assert_allclose(jit.params.cond_probs, ref.params.cond_probs, rtol=0, atol=TOL)
        np.testing.assert_allclose(jit.params.class_balance, ref.params.class_balance, rtol=0, atol=TOL)


def test_switch_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("0", "false", "OFF", " no "):
        monkeypatch.setenv(em_jit.JIT_ENV, value)
        assert not em_jit.jit_enabled()
    monkeypatch.setenv(em_jit.JIT_ENV, "1")
    assert em_jit.jit_enabled()


@pytest.mark.parametrize("R,m,k", [(200, 10, 2), (1000, 50, 3), (50, 300, 9)])
def test_fold_keys_equal(monkeypatch: pytest.MonkeyPatch, R: int, m: int, k: int) -> None:
    """The compiled row keys of the fold deal are the numpy keys, bit for bit (integer arithmetic)."""
    rng = np.random.default_rng(R + m)
    rows = rng.integers(-1, k, size=(R, m)).astype(np.int8)
    rows[rng.random((R, m)) < 0.5] = -1
    rows[: R // 10] = -1  # rows without a vote
    counts = rng.integers(0, 5, size=R).astype(np.float64) + rng.choice([0.0, 0.25, 0.5], size=R)
    for seed in (0, 7, 2**40):
        jit, ref = _both(monkeypatch, H.row_fold_keys, rows, counts, k, seed)
        assert jit.dtype == ref.dtype == np.uint64
        np.testing.assert_array_equal(jit, ref)


def test_default_off_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's default (off) yields to TRIPLETWS_JIT and ends with its block."""
    monkeypatch.delenv(em_jit.JIT_ENV, raising=False)
    with em_jit.jit_default(False):
        assert not em_jit.jit_enabled()
        monkeypatch.setenv(em_jit.JIT_ENV, "1")
        assert em_jit.jit_enabled()
        monkeypatch.delenv(em_jit.JIT_ENV)
    assert em_jit.jit_enabled()


def test_cli_fit_does_not_load_numba(tmp_path) -> None:
    """A `tripletws fit` process (one fit) keeps to numpy's EM: numba's load would cost more."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    L = _rows(2, 6, 300, 0.6, seed=3).rows
    np.save(tmp_path / "L.npy", np.repeat(L, 3, axis=0))
    code = (
        "import sys; from tripletws.cli import main\n"
        f"rc = main(['fit', {str(tmp_path / 'L.npy')!r}, '-o', {str(tmp_path / 'm.json')!r}])\n"
        "print(rc, 'numba' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != em_jit.JIT_ENV}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "src")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["0", "False"], out.stdout + out.stderr


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("coverage", [0.9, 0.15])
@pytest.mark.parametrize("variant", [(True, False), (False, False), (True, True)])
def test_batch_equal_mace_eb(
    monkeypatch: pytest.MonkeyPatch, k: int, coverage: float, variant: tuple[bool, bool]
) -> None:
    """MACE's empirical-Bayes prior (``MACE_EB``, with ``MACE_EB_VAR`` / ``MACE_EB_FIXED``): the two
    paths agree, and it changes the fit."""
    unique = _rows(k, 12, 600, coverage, seed=7 * k + int(coverage * 10))
    off = _batch(unique, None, 50)
    monkeypatch.setattr(A, "MACE_EB", True)
    monkeypatch.setattr(A, "MACE_EB_VAR", variant[0])
    monkeypatch.setattr(A, "MACE_EB_FIXED", variant[1])
    jit, ref = _both(monkeypatch, _batch, unique, None, 50)
    np.testing.assert_array_equal(jit.n_steps, ref.n_steps)
    np.testing.assert_allclose(jit.log_likelihood, ref.log_likelihood, rtol=0, atol=TOL)
    np.testing.assert_allclose(jit.soft_labels, ref.soft_labels, rtol=0, atol=TOL)
    for a, b in zip(jit.params, ref.params, strict=True):
        np.testing.assert_allclose(a.cond_probs, b.cond_probs, rtol=0, atol=TOL)
    # the MACE members (the last third of the batch) move; mv and one_coin do not
    third = len(ref.params) // 3
    assert np.abs(off.log_likelihood[2 * third :] - ref.log_likelihood[2 * third :]).max() > 1e-8
    np.testing.assert_allclose(
        off.log_likelihood[: 2 * third], ref.log_likelihood[: 2 * third], rtol=0, atol=TOL
    )


def test_size_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled up to JIT_MAX_ROWS distinct rows, numpy beyond, compiled again from
    JIT_LARGE_CELLS rows times classes where numba is loaded already (a large fit alone does not
    load it) or TRIPLETWS_JIT asks for it."""
    import sys

    monkeypatch.delenv(em_jit.JIT_ENV, raising=False)
    assert "numba" in sys.modules  # loaded by importorskip
    assert A._compiled_size(em_jit.JIT_MAX_ROWS, 2)
    assert not A._compiled_size(em_jit.JIT_MAX_ROWS + 1, 2)
    assert not A._compiled_size(20_000, 2)  # the annotator model's cap, two classes: numpy
    assert A._compiled_size(20_000, 3)
    assert A._compiled_size(em_jit.JIT_LARGE_CELLS // 4, 4)
    assert not A._compiled_size(em_jit.JIT_LARGE_CELLS // 4 - 1, 4)
    assert A.fits_alone_exactly(20_000, 4, FC.CANDIDATES)
    assert not A.fits_alone_exactly(20_000, 2, FC.CANDIDATES)
    monkeypatch.delitem(sys.modules, "numba")  # as in a process that never imported it
    assert A._compiled_size(em_jit.JIT_MAX_ROWS, 2)
    assert not A._compiled_size(20_000, 4)
    assert not A.fits_alone_exactly(20_000, 4, FC.CANDIDATES)
    monkeypatch.setenv(em_jit.JIT_ENV, "1")
    assert A._compiled_size(20_000, 4)
    monkeypatch.setenv(em_jit.JIT_ENV, "0")
    assert not A._compiled_size(20_000, 4)  # switched off, numba not loaded


@pytest.mark.parametrize("informative", [False, True])
def test_large_batches_run_compiled_with_numpys_fits(
    monkeypatch: pytest.MonkeyPatch, informative: bool
) -> None:
    """Past JIT_MAX_ROWS, a batch of JIT_LARGE_CELLS rows times classes runs in the compiled kernel
    (the sizes scaled down here), with the numpy path's fits to rounding."""
    unique = _rows(3, 30, 900, 0.2, seed=7)
    R = len(unique.counts)
    monkeypatch.setattr(A, "JIT_MAX_ROWS", R // 2)
    monkeypatch.setattr(A, "JIT_LARGE_CELLS", R * 3)
    called = []
    name = "_em_informative_compiled" if informative else "_em_compiled"
    real = getattr(A, name)

    def spy(*args, **kwargs):
        called.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(A, name, spy)
    fams = ["mace_abstain", "ds_abstain"] if informative else list(FC.CANDIDATES)
    D = AD._Design(unique.rows, 3, abstain=informative)
    start = AD.majority_soft_labels(unique.rows, 3).T[:, None, :]
    counts = np.tile(unique.counts, (len(fams), 1))

    def run():
        return A._em(D, fams, counts, start, max_steps=50, tol=A.EM_TOL, class_balance=None)

    jit, ref = _both(monkeypatch, run)
    assert called == [True]
    np.testing.assert_allclose(jit.log_likelihood, ref.log_likelihood, rtol=0, atol=TOL)
    np.testing.assert_allclose(jit.soft_labels, ref.soft_labels, rtol=0, atol=TOL)
    for a, b in zip(jit.params, ref.params, strict=True):
        np.testing.assert_allclose(a.cond_probs, b.cond_probs, rtol=0, atol=TOL)
    monkeypatch.setattr(A, "JIT_LARGE_CELLS", R * 3 + 1)  # one cell short: numpy
    run()
    assert called == [True]
