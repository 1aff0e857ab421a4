"""Online learning: partial_fit, forgetting, windows, checkpoints."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from conftest import signed_record

from tripletws import LabelModel, LabelStats, MajorityLabelVoter, compute_stats, to_sparse
from tripletws.datasets import make_synthetic

STAT_FIELDS = ("class_counts", "covote", "agree")


def assert_same_stats(a: LabelStats, b: LabelStats) -> None:
    assert a.n_rows == b.n_rows
    for name in STAT_FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def assert_same_model(a: LabelModel, b: LabelModel) -> None:
    """Bit-for-bit equal fitted state."""
    assert_same_stats(a.stats_, b.stats_)
    np.testing.assert_array_equal(a.params_.cond_probs, b.params_.cond_probs)
    np.testing.assert_array_equal(a.params_.class_balance, b.params_.class_balance)
    np.testing.assert_array_equal(a.accuracies_, b.accuracies_)
    if hasattr(a.estimate_, "b"):  # symmetric model
        np.testing.assert_array_equal(a.estimate_.b, b.estimate_.b)
    assert a.n_batches_ == b.n_batches_


def batches(L: np.ndarray, sizes) -> list[np.ndarray]:
    return np.split(L, np.cumsum(sizes)[:-1])


# -- LabelStats subtraction -------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3])
def test_stats_subtraction_is_exact(k):
    d = make_synthetic(3_000, 6, k, random_state=1)
    a, b = compute_stats(d.L[:1_000], k, joint=True), compute_stats(d.L[1_000:], k, joint=True)
    diff = (a + b) - b
    assert_same_stats(diff, a)
    np.testing.assert_array_equal(diff.joint, a.joint)


def test_stats_subtraction_of_rows_not_included_raises():
    d = make_synthetic(2_000, 5, 2, random_state=2)
    small, big = compute_stats(d.L[:10], 2), compute_stats(d.L, 2)
    with pytest.raises(ValueError, match="not part of these statistics"):
        small - big
    with pytest.raises(ValueError, match="different shapes"):
        big - compute_stats(d.L[:, :4], 2)


# -- a stream equals one fit ------------------------------------------------------------


@pytest.mark.parametrize(("k", "sparse"), [(2, False), (3, False), (2, True)])
def test_stream_matches_one_fit(k, sparse):
    d = make_synthetic(20_000, 8, k, random_state=3)
    model = LabelModel(k, model="class_conditional")
    sizes = [1, 7, 992, 3_000, 6_000, 10_000]  # uneven, starting with a single row
    for part in batches(d.L, sizes):
        model.partial_fit(to_sparse(part, k) if sparse else part)
    ref = LabelModel(k, model="class_conditional").fit(d.L)
    assert_same_stats(model.stats_, ref.stats_)
    np.testing.assert_allclose(model.params_.cond_probs, ref.params_.cond_probs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(model.accuracies_, ref.accuracies_, rtol=1e-12, atol=0)
    np.testing.assert_allclose(model.predict_proba(d.L), ref.predict_proba(d.L), rtol=1e-9, atol=1e-12)
    assert model.n_batches_ == len(sizes)


def test_fit_starts_a_stream_that_partial_fit_continues():
    d = make_synthetic(6_000, 6, 2, random_state=4)
    model = LabelModel(model="class_conditional").fit(d.L[:2_000])
    assert model.n_batches_ == 1
    model.partial_fit(d.L[2_000:4_000]).partial_fit(d.L[4_000:])
    assert model.n_batches_ == 3
    ref = LabelModel(model="class_conditional").fit(d.L)
    assert_same_stats(model.stats_, ref.stats_)
    np.testing.assert_allclose(model.accuracies_, ref.accuracies_, rtol=1e-12, atol=0)


def test_fit_resets_the_stream():
    d = make_synthetic(4_000, 6, 2, random_state=5)
    model = LabelModel(window=3, model="class_conditional")
    for part in batches(d.L[:3_000], [1_000] * 3):
        model.partial_fit(part)
    model.fit(d.L[3_000:])
    assert model.n_batches_ == 1
    assert_same_stats(model.stats_, compute_stats(d.L[3_000:], 2))
    assert model._stream.batches is None  # the fitted rows become one batch at the next push


# -- warm-up: too few rows -------------------------------------------------------------


@pytest.mark.parametrize("model_name", ["symmetric", "class_conditional"])
def test_first_tiny_batches_give_majority_vote_like_labels_without_warnings(model_name):
    d = make_synthetic(200, 7, 2, accuracies=0.8, coverage=0.7, random_state=6)
    model = LabelModel(model=model_name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.partial_fit(d.L[:1])
        probs = model.predict_proba(d.L)
    if model_name == "symmetric":
        assert not model.estimate_.estimated.any()  # one row: no pair moment is significant
    else:  # one row carries no usable second moments: the symmetric solution is used
        assert model.estimate_.method == "symmetric fallback" and model.fallback_
    # every voting LF gets the same default accuracy and the prior is uniform, so the
    # label model's decision is the majority vote wherever the vote is not tied
    mv = MajorityLabelVoter().predict_proba(d.L)
    decided = np.abs(mv[:, 1] - 0.5) > 0
    voted_lfs = model.stats_.vote_counts > 0
    rows = decided & ((d.L[:, ~voted_lfs] < 0).all(axis=1))  # rows where only LFs with votes vote
    assert rows.sum() > 20
    np.testing.assert_array_equal(probs[rows].argmax(1), mv[rows].argmax(1))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_partial_fit_input_errors():
    d = make_synthetic(100, 5, 3, random_state=7)
    model = LabelModel(3, model="class_conditional").partial_fit(d.L[:50])
    with pytest.raises(ValueError, match=r"L_batch has 4 LFs .* the stream has 5"):
        model.partial_fit(d.L[50:, :4])
    with pytest.raises(ValueError, match="no rows"):
        model.partial_fit(d.L[:0])
    with pytest.raises(ValueError, match=r"value 3 in column"):
        model.partial_fit(np.full((2, 5), 3))
    with pytest.raises(ValueError, match="at least 3"):
        LabelModel(3, model="class_conditional").partial_fit(d.L[:, :2])
    assert model.n_batches_ == 1  # failed calls leave the stream unchanged


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"forget": 0.0}, "forget must lie in"),
        ({"forget": 1.5}, "forget must lie in"),
        ({"forget": "0.9"}, "forget must be None or a number"),
        ({"window": 0}, "window must be None or a positive integer"),
        ({"window": 2.5}, "window must be None or a positive integer"),
        ({"forget": 0.9, "window": 3}, "cannot be combined"),
    ],
)
def test_bad_stream_options(kwargs, match):
    d = make_synthetic(100, 5, 2, random_state=8)
    with pytest.raises(ValueError, match=match):
        LabelModel(**kwargs, model="class_conditional").partial_fit(d.L)


# -- priors --------------------------------------------------------------------------


def test_given_prior_is_kept_for_later_batches():
    d = make_synthetic(3_000, 6, 2, class_balance=[0.3, 0.7], random_state=9)
    model = LabelModel(model="class_conditional").partial_fit(d.L[:1_000], class_balance=[0.3, 0.7])
    model.partial_fit(d.L[1_000:2_000])
    np.testing.assert_allclose(model.class_balance_, [0.3, 0.7])
    assert model.class_balance_source_ == "given"
    model.partial_fit(d.L[2_000:], Y_dev=[0, 1, 1, 1])
    np.testing.assert_allclose(model.class_balance_, [0.25, 0.75])
    assert model.class_balance_source_ == "Y_dev"
    # a prior given to fit carries over too
    model = (
        LabelModel(model="class_conditional")
        .fit(d.L[:1_000], class_balance=[0.4, 0.6])
        .partial_fit(d.L[1_000:])
    )
    np.testing.assert_allclose(model.class_balance_, [0.4, 0.6])
    # without one, the constructor's setting applies to every solve
    model = (
        LabelModel(class_balance="uniform", model="class_conditional")
        .partial_fit(d.L[:1_000])
        .partial_fit(d.L[1_000:])
    )
    np.testing.assert_allclose(model.class_balance_, [0.5, 0.5])


# -- windows and forgetting -------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 4])
def test_window_keeps_exactly_the_last_batches(k):
    d = make_synthetic(12_000, 7, k, random_state=10)
    parts = batches(d.L, [500, 1_500, 1_000, 2_000, 3_000, 4_000])
    model = LabelModel(k, window=3, model="class_conditional")
    for t, part in enumerate(parts):
        model.partial_fit(part)
        kept = np.concatenate(parts[max(0, t - 2) : t + 1])
        assert_same_stats(model.stats_, compute_stats(kept, k))
    ref = LabelModel(k, model="class_conditional").fit(np.concatenate(parts[-3:]))
    np.testing.assert_allclose(model.accuracies_, ref.accuracies_, rtol=1e-12, atol=0)
    assert len(model._stream.batches) == 3


def test_window_switched_on_mid_stream_treats_history_as_one_batch():
    d = make_synthetic(4_000, 5, 2, random_state=11)
    model = LabelModel(model="class_conditional").fit(d.L[:2_000])
    model.set_params(window=2)
    model.partial_fit(d.L[2_000:3_000])
    assert_same_stats(model.stats_, compute_stats(d.L[:3_000], 2))
    model.partial_fit(d.L[3_000:])  # the fitted rows leave the window
    assert_same_stats(model.stats_, compute_stats(d.L[2_000:], 2))
    model.set_params(window=1)
    model.partial_fit(d.L[:100])
    assert_same_stats(model.stats_, compute_stats(d.L[:100], 2))


def test_forgetting_weights_batches_geometrically():
    d = make_synthetic(6_000, 6, 3, random_state=12)
    parts = batches(d.L, [1_000, 2_000, 3_000])
    f = 0.5
    model = LabelModel(3, forget=f, model="class_conditional")
    for part in parts:
        model.partial_fit(part)
    s = [compute_stats(p, 3) for p in parts]
    expected = s[0].scaled(f * f) + s[1].scaled(f) + s[2]
    for name in ("n_rows", *STAT_FIELDS):
        np.testing.assert_allclose(getattr(model.stats_, name), getattr(expected, name), rtol=1e-14)
    # forget=1 is no forgetting, exactly
    model = LabelModel(3, forget=1.0, model="class_conditional")
    for part in parts:
        model.partial_fit(part)
    assert_same_stats(model.stats_, compute_stats(d.L, 3))


def _triplet_se(alpha: np.ndarray, coverage: float, n_eff: float, i: int) -> float:
    """Delta-method standard error of LF i's accuracy from its best triplet (binary case).

    b = 2 alpha - 1, |b_i| = sqrt(M_ij M_ih / M_jh), M_ij = b_i b_j estimated from the
    n_eff coverage_i coverage_j co-votes with variance (1 - M_ij^2) / N_ij.
    """
    b = 2 * alpha - 1
    j, h = [x for x in np.argsort(-b) if x != i][:2]
    n_pair = n_eff * coverage**2
    rel = sum((1 - (b[p] * b[q]) ** 2) / n_pair / (b[p] * b[q]) ** 2 for p, q in ((i, j), (i, h), (j, h)))
    return 0.5 * (0.5 * b[i] * np.sqrt(rel))  # alpha = (1 + b) / 2


@pytest.mark.parametrize("mode", ["forget", "window"])
def test_aging_tracks_a_drifting_lf(mode):
    """LF 0 drops from 0.9 to 0.6 accuracy halfway through the stream."""
    m, cov, bs, T = 5, 0.8, 2_000, 30
    before = np.array([0.9, 0.8, 0.8, 0.75, 0.7])
    after = before.copy()
    after[0] = 0.6
    a = make_synthetic(T * bs, m, 2, accuracies=before, coverage=cov, random_state=13)
    b = make_synthetic(T * bs, m, 2, accuracies=after, coverage=cov, random_state=14)
    f, w = 0.8, 9
    aged = (
        LabelModel(forget=f, model="class_conditional")
        if mode == "forget"
        else LabelModel(window=w, model="class_conditional")
    )
    plain = LabelModel(model="class_conditional")
    for part in batches(np.concatenate([a.L, b.L]), [bs] * (2 * T)):
        aged.partial_fit(part)
        plain.partial_fit(part)
    # effective sample size of the aged statistics: (sum w)^2 / sum w^2 batches
    weights = f ** np.arange(T) if mode == "forget" else np.ones(w)
    n_eff = bs * weights.sum() ** 2 / (weights**2).sum()
    tol = 4.0 * _triplet_se(after, cov, n_eff, 0)  # 4 standard errors
    assert abs(aged.accuracies_[0] - 0.6) < tol, (aged.accuracies_[0], tol)
    # without aging the estimate sits between the two regimes, far outside that band
    assert abs(plain.accuracies_[0] - 0.6) > 3 * tol
    # the LFs that did not change stay put
    for i in range(1, m):
        assert abs(aged.accuracies_[i] - after[i]) < 4.0 * _triplet_se(after, cov, n_eff, i)


# -- checkpoints -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"forget": 0.9}, {"window": 4}, {"cardinality": 3, "class_balance": "estimate"}],
    ids=["plain", "forget", "window", "k3-estimated-prior"],
)
def test_checkpoint_mid_stream_resumes_exactly(tmp_path, kwargs):
    k = kwargs.get("cardinality", 2)
    d = make_synthetic(16_000, 8, k, random_state=15)
    parts = batches(d.L, [250, 750, 1_000] + [2_000] * 7)
    prior_kw = {"class_balance": None} if k == 3 else {"class_balance": [0.45, 0.55]}

    straight = LabelModel(**kwargs, model="class_conditional")
    for t, part in enumerate(parts):
        straight.partial_fit(part, **(prior_kw if t == 1 else {}))

    first = LabelModel(**kwargs, model="class_conditional")
    for t, part in enumerate(parts[:5]):
        first.partial_fit(part, **(prior_kw if t == 1 else {}))
    path = tmp_path / "stream.json"
    first.save(path)
    resumed = LabelModel.load(path)
    assert_same_model(resumed, first)
    for part in parts[5:]:
        resumed.partial_fit(part)

    assert_same_model(resumed, straight)
    assert resumed.class_balance_source_ == straight.class_balance_source_
    if "window" in kwargs:
        assert len(resumed._stream.batches) == kwargs["window"]
        for x, y in zip(resumed._stream.batches, straight._stream.batches, strict=True):
            assert_same_stats(x.stats, y.stats)
            np.testing.assert_array_equal(x.rows.rows, y.rows.rows)
            np.testing.assert_array_equal(x.rows.counts, y.rows.counts)
    np.testing.assert_array_equal(resumed.predict_proba(d.L), straight.predict_proba(d.L))


def _resign(record: dict) -> None:
    """Recompute the checksum of an edited model record (in place)."""
    record["sha256"] = signed_record(record)["sha256"]


def test_checkpoint_with_bad_stream_state_is_rejected(tmp_path):
    from tripletws.io import model_from_dict, model_to_dict

    d = make_synthetic(2_000, 5, 2, random_state=16)
    model = LabelModel(window=2, model="class_conditional").partial_fit(d.L[:1_000]).partial_fit(d.L[1_000:])
    record = model_to_dict(model)
    record["state"]["stream"]["batches"][0]["covote"] = [[1.0]]
    _resign(record)
    with pytest.raises(ValueError, match="covote"):
        model_from_dict(record)


def test_clone_keeps_stream_options():
    sklearn_base = pytest.importorskip("sklearn.base")
    model = LabelModel(forget=0.95, model="class_conditional")
    assert sklearn_base.clone(model).get_params()["forget"] == 0.95


# -- command line ----------------------------------------------------------------------


def _cli(*args) -> tuple[int, str, str]:
    import contextlib
    import io

    from tripletws.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in args])
    return rc, out.getvalue(), err.getvalue()


def test_cli_update_streams_batches_into_a_model_file(tmp_path):
    d = make_synthetic(6_000, 6, 2, random_state=17)
    parts = batches(d.L, [2_000, 2_000, 2_000])
    for i, part in enumerate(parts):
        np.save(tmp_path / f"b{i}.npy", part)
    model_file = tmp_path / "model.json"
    assert _cli("fit", tmp_path / "b0.npy", "--model", "class_conditional", "-o", model_file)[0] == 0
    rc, out, _ = _cli("update", model_file, tmp_path / "b1.npy")
    assert rc == 0 and "batch 2 of the stream (running statistics: 4000 rows)" in out
    assert _cli("update", model_file, tmp_path / "b2.npy", "-o", tmp_path / "m3.json")[0] == 0
    streamed = LabelModel.load(tmp_path / "m3.json")
    ref = LabelModel(model="class_conditional").fit(d.L)
    assert_same_stats(streamed.stats_, ref.stats_)
    np.testing.assert_allclose(streamed.accuracies_, ref.accuracies_, rtol=1e-12, atol=0)
    # a window set on the command line is stored with the model and applies from then on
    assert _cli("update", model_file, tmp_path / "b2.npy", "--window", "1")[0] == 0
    windowed = LabelModel.load(model_file)
    assert windowed.window == 1
    assert_same_stats(windowed.stats_, compute_stats(parts[2], 2))
    rc, _, err = _cli("update", model_file, tmp_path / "b2.npy", "--class-balance", "estimate")
    assert rc == 2 and "k probabilities" in err


def test_model_file_without_stream_state_loads_as_one_batch(tmp_path):
    from tripletws.io import model_from_dict, model_to_dict

    d = make_synthetic(3_000, 5, 2, random_state=18)
    record = model_to_dict(LabelModel(model="class_conditional").fit(d.L[:2_000]))
    del record["state"]["stream"]  # as written before online learning existed
    _resign(record)
    model = model_from_dict(record)
    assert model.n_batches_ == 1
    model.partial_fit(d.L[2_000:])
    assert_same_stats(model.stats_, compute_stats(d.L, 2))


def test_stream_keeps_declared_dependencies():
    d = make_synthetic(9_000, 7, 2, random_state=19)
    L = d.L.copy()
    L[:, 6] = L[:, 0]  # LF 6 copies LF 0
    deps = [(0, 6)]
    streamed = LabelModel(model="class_conditional").fit(L[:3_000], dependencies=deps)
    streamed.partial_fit(L[3_000:6_000]).partial_fit(L[6_000:])
    ref = LabelModel(model="class_conditional").fit(L, dependencies=deps)
    assert streamed.dependencies_.tolist() == [[0, 6]]
    np.testing.assert_allclose(streamed.accuracies_, ref.accuracies_, rtol=1e-12, atol=0)
    np.testing.assert_allclose(streamed.predict_proba(L), ref.predict_proba(L), rtol=1e-9, atol=1e-12)
    # constructor dependencies apply from the first batch of a stream
    fresh = (
        LabelModel(dependencies=deps, model="class_conditional").partial_fit(L[:4_500]).partial_fit(L[4_500:])
    )
    np.testing.assert_allclose(fresh.accuracies_, ref.accuracies_, rtol=1e-12, atol=0)


def test_cli_update_continues_a_sequence_model(tmp_path):
    from tripletws.datasets import make_synthetic_sequences
    from tripletws.sequence import SequenceLabelModel

    d = make_synthetic_sequences(40, 20, m=5, k=2, persistence=0.9, random_state=20)
    half = d.sequence_ids < 20
    for name, rows in (("a", half), ("b", ~half)):
        np.save(tmp_path / f"L_{name}.npy", d.L[rows])
        np.save(tmp_path / f"ids_{name}.npy", d.sequence_ids[rows])
    model_file = tmp_path / "chain.json"
    rc, _, err = _cli("fit", tmp_path / "L_a.npy", "--sequence-ids", tmp_path / "ids_a.npy", "-o", model_file)
    assert rc == 0, err
    rc, out, err = _cli("update", model_file, tmp_path / "L_b.npy", "--sequence-ids", tmp_path / "ids_b.npy")
    assert rc == 0, err
    assert "running statistics: 800 rows" in out
    streamed = SequenceLabelModel.load(model_file)
    ref = SequenceLabelModel().fit(d.L, sequence_ids=d.sequence_ids)
    np.testing.assert_allclose(streamed.accuracies_, ref.accuracies_, rtol=1e-12, atol=0)
    assert streamed.persistence_ == pytest.approx(ref.persistence_, rel=1e-12)
    rc, _, err = _cli("update", model_file, tmp_path / "L_b.npy", "--window", "3")
    assert rc == 2 and "LabelModel files" in err


# -- spaced solves (refit_growth) --------------------------------------------------------------


def _quiet_fit(L: np.ndarray, **kwargs) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(**kwargs).fit(L)


def _due(solved: float, pending: float, growth: float) -> bool:
    return solved <= 0 or pending >= (growth - 1.0) * solved


def test_default_stream_solves_at_growing_sizes_and_refit_catches_up():
    # the annotator model (default, refit_growth "auto" = 1.25): a batch is solved when the rows added
    # since the last solve reach a quarter of the rows solved on; in between the parameters stay
    d = make_synthetic(6_000, 8, 2, coverage=0.4, random_state=41)
    model = LabelModel()
    solved, pending, solves = 0.0, 0.0, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t, part in enumerate(np.split(d.L, 12)):
            before = model.__dict__.get("solution_")
            model.partial_fit(part)
            pending += len(part)
            if _due(solved, pending, 1.25):
                solved, pending = solved + pending, 0.0
                solves.append(t)
            assert model.pending_rows_ == pending
            if pending:  # not due: the very same solution as before the batch
                assert model.solution_ is before
    assert solves == [0, 1, 2, 3, 4, 6, 8, 11]  # 500 rows per batch: sizes 500 .. 2500, 3500, 4500, 6000
    # each solve is the fit of the rows seen so far (float rounding of the merged counts)
    model = LabelModel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part in np.split(d.L[:5_500], 11):
            model.partial_fit(part)
    assert model.pending_rows_ == 1_000
    prefix = _quiet_fit(d.L[:4_500])
    np.testing.assert_allclose(model.params_.cond_probs, prefix.params_.cond_probs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(model.predict_proba(d.L), prefix.predict_proba(d.L), rtol=0, atol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.refit()
    whole = _quiet_fit(d.L[:5_500])
    assert model.pending_rows_ == 0 and model.stats_.n_rows == 5_500
    np.testing.assert_allclose(model.params_.cond_probs, whole.params_.cond_probs, rtol=0, atol=1e-9)
    before = model.solution_
    assert model.refit() is model and model.pending_rows_ == 0  # nothing pending: solved again all the same
    assert model.solution_ is not before
    np.testing.assert_allclose(model.params_.cond_probs, before.params.cond_probs, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, every",
    [
        ({"refit_growth": "always"}, True),
        ({"refit_growth": 1}, True),
        ({"model": "symmetric"}, True),
        ({"model": "class_conditional"}, True),
        ({"refit_growth": 3.0}, False),
    ],
)
def test_refit_growth_always_and_closed_form_models_solve_every_batch(kwargs, every):
    d = make_synthetic(3_000, 6, 2, random_state=42)
    model = LabelModel(**kwargs)
    pendings = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part in np.split(d.L, 6):
            model.partial_fit(part)
            pendings.append(model.pending_rows_)
    if every:
        assert pendings == [0.0] * 6
    else:  # growth 3: solves at 500 and 1500 rows (1000 added = 2 x 500), the next due at 4500
        assert pendings == [0.0, 500.0, 0.0, 500.0, 1_000.0, 1_500.0]


def test_windowed_and_forgetting_streams_solve_every_share_of_their_memory():
    d = make_synthetic(8_000, 6, 2, random_state=43)
    parts = np.split(d.L, 40)  # 200 rows per batch
    # the window holds 1600 rows: a solve once a third of them (1 - 1/1.5) is new, 600 rows
    model = LabelModel(window=8, refit_growth=1.5)
    pend = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for part in parts:
            model.partial_fit(part)
            pend.append(model.pending_rows_)
    tail = pend[-16:]
    assert 0.0 in tail and max(tail) <= 400.0  # every 3 batches once the window is full
    assert np.diff(np.flatnonzero(np.array(tail) == 0)).tolist() == [3, 3, 3, 3]
    # forgetting: the pending weight decays as the summary's; a solve once it is a third of it
    model = LabelModel(forget=0.9, refit_growth=1.5)
    solves = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t, part in enumerate(parts):
            model.partial_fit(part)
            share = model.pending_rows_ / model.stats_.n_rows
            assert share < 1.0 / 3.0 + 1e-12
            solves += [t] if model.pending_rows_ == 0 else []
    # a memory of about 10 batches: 1 - 0.9**j >= 1/3 after j = 4 batches
    assert np.diff(solves[-5:]).tolist() == [4, 4, 4, 4]


def test_a_window_that_drops_the_rows_solved_on_solves_again():
    # solved on 10,000 rows, then batches of 100 with a window of 2: once the window holds only rows
    # added since, they are its whole weight and a solve is due (the audit's case: 22 batches without)
    d = make_synthetic(12_000, 8, 2, random_state=49)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(window=2)
        model.partial_fit(d.L[:5_000]).partial_fit(d.L[5_000:10_000])
        model.partial_fit(d.L[10_000:10_100])
        assert model.pending_rows_ == 100 and model.solved_rows_ == 10_000  # 100 of 5,100: not due
        model.partial_fit(d.L[10_100:10_200])
    assert model.pending_rows_ == 0 and model.solved_rows_ == 200 == model.stats_.n_rows
    fresh = _quiet_fit(d.L[10_000:10_200])
    np.testing.assert_allclose(model.params_.cond_probs, fresh.params_.cond_probs, rtol=0, atol=1e-9)


def test_a_given_prior_makes_the_batch_solve():
    d = make_synthetic(3_000, 6, 2, random_state=44)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel().fit(d.L[:2_500])
        model.partial_fit(d.L[2_500:2_700])
        assert model.pending_rows_ == 200
        model.partial_fit(d.L[2_700:], class_balance=[0.4, 0.6])
    assert model.pending_rows_ == 0 and model.class_balance_source_ == "given"
    np.testing.assert_allclose(model.class_balance_, [0.4, 0.6])


def test_checkpoint_keeps_the_pending_rows_and_the_schedule(tmp_path):
    d = make_synthetic(4_000, 6, 2, random_state=45)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        straight = LabelModel().fit(d.L[:2_000]).partial_fit(d.L[2_000:2_300])
        path = tmp_path / "m.json"
        straight.save(path)
        resumed = LabelModel.load(path)
        assert resumed.pending_rows_ == straight.pending_rows_ == 300
        np.testing.assert_array_equal(resumed.params_.cond_probs, straight.params_.cond_probs)
        for model in (straight, resumed):
            model.partial_fit(d.L[2_300:2_500])  # 500 pending on 2000: a solve
    assert resumed.pending_rows_ == straight.pending_rows_ == 0
    np.testing.assert_allclose(resumed.params_.cond_probs, straight.params_.cond_probs, rtol=0, atol=1e-12)


def test_checkpoint_written_before_spaced_solves_is_due_at_its_next_batch(tmp_path):
    from tripletws.io import model_from_dict, model_to_dict

    d = make_synthetic(3_000, 6, 2, random_state=46)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = model_to_dict(LabelModel().fit(d.L[:2_500]))
    for key in ("solved_rows", "pending_rows"):
        del record["state"]["stream"][key]
    del record["params"]["refit_growth"]
    _resign(record)
    model = model_from_dict(record)
    assert model.pending_rows_ == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(d.L[2_500:2_600])  # a solve: the file does not say what it was solved on
    assert model.pending_rows_ == 0 and model.stats_.n_rows == 2_600
    record = model_to_dict(model)
    record["state"]["stream"]["pending_rows"] = -1.0
    _resign(record)
    with pytest.raises(ValueError, match="pending_rows"):
        model_from_dict(record)


@pytest.mark.parametrize("value", [0.5, 0, -2, "never", True, float("inf"), float("nan"), None])
def test_refit_growth_is_checked(value):
    d = make_synthetic(500, 5, 2, random_state=47)
    with pytest.raises(ValueError, match="refit_growth"):
        LabelModel(refit_growth=value).fit(d.L)


def test_refit_needs_a_fitted_model():
    from tripletws.base import NotFittedError

    with pytest.raises(NotFittedError):
        LabelModel().refit()


def test_cli_update_solves_every_batch_and_inspect_shows_pending_rows(tmp_path):
    d = make_synthetic(3_000, 6, 2, random_state=48)
    np.save(tmp_path / "b0.npy", d.L[:2_500])
    np.save(tmp_path / "b1.npy", d.L[2_500:2_700])
    model_file = tmp_path / "model.json"
    assert _cli("fit", tmp_path / "b0.npy", "-o", model_file)[0] == 0
    # 200 rows on 2500 are not due by the default's refit_growth; a command solves them anyway
    assert _cli("update", model_file, tmp_path / "b1.npy")[0] == 0
    updated = LabelModel.load(model_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = LabelModel().fit(d.L[:2_700])
    assert updated.pending_rows_ == 0
    np.testing.assert_allclose(updated.params_.cond_probs, whole.params_.cond_probs, rtol=0, atol=1e-9)
    # a stream saved from Python with rows waiting: inspect says so (text and JSON)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        waiting = LabelModel().fit(d.L[:2_500]).partial_fit(d.L[2_500:2_700])
    waiting.save(tmp_path / "waiting.json")
    rc, out, _ = _cli("inspect", tmp_path / "waiting.json")
    assert rc == 0 and "200 of them added since the last solve, made on 2500 rows, wait" in out
    rc, out, _ = _cli("inspect", tmp_path / "waiting.json", "--json")
    assert rc == 0 and json.loads(out)["pending_rows"] == 200 and json.loads(out)["solved_rows"] == 2500
    rc, out, _ = _cli("inspect", model_file)
    assert rc == 0 and "added since the last solve" not in out


def test_bootstrap_intervals_need_the_pending_rows_solved():
    d = make_synthetic(3_000, 6, 2, random_state=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel().fit(d.L[:2_500]).partial_fit(d.L[2_500:2_700])
        with pytest.raises(ValueError, match=r"200 rows of the model's stream wait for a solve.*refit\(\)"):
            model.confidence_intervals(d.L[:2_700], n_boot=4, n_chunks=10, random_state=0)
        ci = model.refit().confidence_intervals(d.L[:2_700], n_boot=4, n_chunks=10, random_state=0)
    assert ci.accuracy.shape == (6,)


@pytest.mark.parametrize(
    "edit, pattern",
    [
        (lambda st: st["stream"].update(pending_rows=5_000.0), r"stream.pending_rows \(5000\) exceeds"),
        (lambda st: st["stream"].update(n_batches=0), r"stream.n_batches is 0"),
        (
            lambda st: st["stream"]["batches"].pop(0),
            r"stream.batches hold 500 rows but the running summary 750",
        ),
    ],
)
def test_checkpoint_stream_state_must_agree_with_its_summary(edit, pattern):
    from tripletws.io import model_from_dict, model_to_dict

    d = make_synthetic(2_000, 5, 2, random_state=51)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(window=3, refit_growth=3)
        for part in np.split(d.L[:1_250], 5):
            model.partial_fit(part)
    record = model_to_dict(model)
    assert model.stats_.n_rows == 750
    edit(record["state"])
    _resign(record)
    with pytest.raises(ValueError, match=pattern):
        model_from_dict(record)


def test_dev_choice_and_solve_are_one_step_under_threads(monkeypatch):
    # the dev rows' choice ran after the model's lock was released: a slow choice could pair a solve
    # with another thread's rows; now one thread's solve and choice finish before the next starts
    import threading
    import time

    from tripletws.models import annotator as annotator_module

    d = make_synthetic(5_000, 6, 2, random_state=52)
    dev = {"L_dev": d.L[4_500:4_700], "Y_dev": d.y[4_500:4_700]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(refit_growth="always").fit(d.L[:500], **dev)
        whole = LabelModel().fit(d.L[:4_000], **dev)
    slow = annotator_module.Annotator.choose_with_dev

    def choose_slowly(self, solution, rows, *args, **kwargs):
        if rows.n_rows < 2_000:  # the first thread's choice (on 1,000 rows) ends after the second's
            time.sleep(0.5)
        return slow(self, solution, rows, *args, **kwargs)

    monkeypatch.setattr(annotator_module.Annotator, "choose_with_dev", choose_slowly)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = threading.Thread(target=model.partial_fit, args=(d.L[500:1_000],))
        other.start()
        time.sleep(0.05)
        model.partial_fit(d.L[1_000:4_000])
        other.join()
    assert model.stats_.n_rows == 4_000 and model.pending_rows_ == 0
    np.testing.assert_allclose(model.predict_proba(d.L), whole.predict_proba(d.L), rtol=0, atol=1e-9)


def test_a_window_past_a_batch_over_the_row_cap_keeps_every_row_of_the_later_batches():
    """The departed batch's sampling level stayed in the running rows: after a 200,000-row batch left
    a window of one, a 400-row batch kept 26 of its 400 distinct rows."""
    big = make_synthetic(200_000, 12, 2, random_state=0).L
    small = make_synthetic(400, 12, 2, random_state=1).L
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        windowed = LabelModel(2, window=1).fit(big)
        windowed.partial_fit(small)
        windowed.refit()
        fresh = LabelModel(2).fit(small)
    assert windowed.rows_.level == fresh.rows_.level == 0
    assert len(windowed.rows_.counts) == len(fresh.rows_.counts)
    np.testing.assert_array_equal(windowed.predict_proba(small), fresh.predict_proba(small))


def test_a_stream_refuses_a_model_changed_by_set_params():
    L = make_synthetic(600, 5, 2, random_state=0).L
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L[:300])
    model.set_params(model="class_conditional")
    with pytest.raises(ValueError, match="fitted with model='annotator' and set_params has since set"):
        model.partial_fit(L[300:])


def test_a_window_over_the_row_cap_by_its_own_rows_is_not_merged_again(monkeypatch):
    """Where the window's rows pass the row cap by themselves (every batch under it), the running rows'
    sampling level is the merge's own, and re-merging the batches the window holds gives it back: each
    call re-merged them all (65 ms a call at 100 batches of 1 000 rows, `benchmarks/online.py`). Only a
    departed batch's own higher level calls for it (the test above)."""
    from tripletws.rows import RowSummary

    batches = [make_synthetic(300, 12, 2, random_state=s).L for s in range(5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2, window=3, em_max_rows=400, refit_growth=1e6)
        for L in batches[:4]:
            model.partial_fit(L)
        assert model._stream.batches[-1].rows.level == 0 and model.rows_.level > 0
        adds = []
        original = RowSummary.__add__

        def counted(self, other):
            adds.append(1)
            return original(self, other)

        monkeypatch.setattr(RowSummary, "__add__", counted)
        model.partial_fit(batches[4])
    assert len(adds) == 1  # the batch added to the running rows, and no re-merge of the window's
