"""Applying LFs at scale: worker processes, Dask partitions, vectorised LFs, the output cache."""

from __future__ import annotations

import numpy as np
import pytest

from tripletws.labeling import (
    DaskLFApplier,
    LFApplier,
    PandasLFApplier,
    keyword_lf,
    labeling_function,
    preprocessor,
    regex_lf,
    threshold_lf,
    vectorized_lf,
)
from tripletws.labeling.fingerprint import fingerprint

pd = pytest.importorskip("pandas")

WORDS = ["alpha", "beta", "gamma", "delta", "refund", "win", "free", "meeting"]
SPAM_WORDS = ("free", "win")


def make_frame(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    text = [" ".join(rng.choice(WORDS, size=rng.integers(1, 6))) for _ in range(n)]
    return pd.DataFrame({"text": text, "score": rng.normal(size=n)})


@labeling_function()
def lf_spam(x):
    return 1 if any(w in x.text.split() for w in SPAM_WORDS) else -1


@labeling_function()
def lf_meeting(x):
    return 0 if "meeting" in x["text"] else -1


@labeling_function()
def lf_long(x):
    return 0 if len(x.text) > 25 else -1


ROW_LFS = [lf_spam, lf_meeting, lf_long]


def expected(df):
    words = df["text"].str.split()
    return np.stack(
        [
            np.where(words.map(lambda ws: any(w in ws for w in SPAM_WORDS)), 1, -1),
            np.where(df["text"].str.contains("meeting"), 0, -1),
            np.where(df["text"].str.len() > 25, 0, -1),
        ],
        axis=1,
    )


@pytest.mark.parametrize("rows", ["series", "records"])
def test_pandas_applier_serial_and_parallel_agree_with_direct_computation(rows):
    df = make_frame(3_000)
    want = expected(df)
    serial = PandasLFApplier(ROW_LFS, rows=rows).apply(df, progress=False)
    np.testing.assert_array_equal(serial, want)
    parallel = PandasLFApplier(ROW_LFS, n_jobs=2, rows=rows).apply(df, progress=False)
    np.testing.assert_array_equal(parallel, want)
    assert parallel.dtype == np.int16


def test_parallel_errors_name_the_lf_and_global_row():
    df = make_frame(400)

    @labeling_function()
    def bad_late(x):
        return "x" if x.name == 350 else -1

    with pytest.raises(ValueError, match="'bad_late' returned 'x' on row 350"):
        PandasLFApplier([bad_late], n_jobs=2).apply(df, progress=False)


def test_progress_bar_is_shown_by_default_and_silenced(capsys):
    df = make_frame(500)
    PandasLFApplier(ROW_LFS).apply(df)
    assert "applying 3 LF(s) row by row" in capsys.readouterr().err
    PandasLFApplier(ROW_LFS).apply(df, progress=False)
    assert capsys.readouterr().err == ""


def test_vectorised_constructors_match_python():
    df = make_frame(2_000, seed=1)
    df.loc[3, "score"] = np.nan
    lfs = [
        keyword_lf(["FREE", "win"], label=1, name="kw"),
        keyword_lf("eta", label=0, name="part", whole_word=False),
        regex_lf(r"^alpha\b", label=0, name="starts_alpha", ignore_case=False),
        threshold_lf("score", 1.0, label=1),
        threshold_lf("score", -1.0, label=0, above=False),
    ]
    L = PandasLFApplier(lfs).apply(df, progress=False)
    text = df["text"]
    np.testing.assert_array_equal(L[:, 0], expected(df)[:, 0])
    np.testing.assert_array_equal(L[:, 1], np.where(text.str.contains("beta"), 0, -1))
    np.testing.assert_array_equal(L[:, 2], np.where(text.str.startswith("alpha"), 0, -1))
    np.testing.assert_array_equal(L[:, 3], np.where(df["score"] > 1.0, 1, -1))
    np.testing.assert_array_equal(L[:, 4], np.where(df["score"] < -1.0, 0, -1))
    assert L[3, 3] == -1 and L[3, 4] == -1  # missing values abstain


def test_vectorised_lf_output_is_checked():
    df = make_frame(10)

    @vectorized_lf()
    def floats(d):
        return np.zeros(len(d))

    @vectorized_lf()
    def short(d):
        return np.zeros(3, dtype=int)

    with pytest.raises(ValueError, match="'floats' returned dtype float64"):
        PandasLFApplier([floats]).apply(df, progress=False)
    with pytest.raises(ValueError, match=r"'short' returned shape \(3,\); expected \(10,\)"):
        PandasLFApplier([short]).apply(df, progress=False)
    with pytest.raises(ValueError, match="column 'body' not in the data"):
        PandasLFApplier([keyword_lf("x", 1, column="body")]).apply(df, progress=False)
    with pytest.raises(ValueError, match="need a DataFrame"):
        LFApplier([keyword_lf("x", 1)]).apply([{"text": "x"}], progress=False)
    with pytest.raises(ValueError, match="label must be a class index"):
        keyword_lf("x", label=-1)


def test_preprocessor_memoises_across_lfs():
    calls = []

    @preprocessor(memoize=True)
    def words(x):
        calls.append(1)
        return {"words": set(x["text"].split())}

    @labeling_function(pre=[words])
    def has_free(x):
        return 1 if "free" in x["words"] else -1

    @labeling_function(pre=[words])
    def has_meeting(x):
        return 0 if "meeting" in x["words"] else -1

    df = make_frame(300)
    L = PandasLFApplier([has_free, has_meeting]).apply(df, progress=False)
    assert len(calls) == df.drop_duplicates().shape[0]  # once per distinct row, not once per LF
    assert words.hits == 2 * len(df) - len(calls)
    np.testing.assert_array_equal(L[:, 1], expected(df)[:, 1])


def test_cache_reapplies_only_the_edited_lf(tmp_path):
    df = make_frame(1_000)
    applier = PandasLFApplier([*ROW_LFS, keyword_lf("refund", 1, name="kw")], cache_dir=tmp_path)
    first = applier.apply(df, progress=False)
    assert applier.last_applied_ == ["lf_spam", "lf_meeting", "lf_long", "kw"]
    again = applier.apply(df, progress=False)
    assert applier.last_applied_ == [] and applier.cache.hits == 4
    np.testing.assert_array_equal(again, first)

    @labeling_function(name="lf_long")
    def lf_long(x):  # edited: another threshold
        return 0 if len(x.text) > 30 else -1

    edited = PandasLFApplier([lf_spam, lf_meeting, lf_long, applier._lfs[3]], cache_dir=tmp_path)
    out = edited.apply(df, progress=False)
    assert edited.last_applied_ == ["lf_long"]
    np.testing.assert_array_equal(out[:, 2], np.where(df["text"].str.len() > 30, 0, -1))
    np.testing.assert_array_equal(out[:, [0, 1, 3]], first[:, [0, 1, 3]])
    # other data: nothing is reused
    other = PandasLFApplier(ROW_LFS, cache_dir=tmp_path)
    other.apply(make_frame(1_000, seed=9), progress=False)
    assert len(other.last_applied_) == 3


def test_cache_ignores_a_damaged_file(tmp_path):
    df = make_frame(200)
    PandasLFApplier([lf_meeting], cache_dir=tmp_path).apply(df, progress=False)
    (path,) = list(tmp_path.rglob("*.npy"))
    path.write_bytes(b"not a numpy file")
    applier = PandasLFApplier([lf_meeting], cache_dir=tmp_path)
    np.testing.assert_array_equal(applier.apply(df, progress=False)[:, 0], expected(df)[:, 1])
    assert applier.last_applied_ == ["lf_meeting"]
    assert not list(tmp_path.rglob("*.tmp"))


def test_fingerprint_follows_code_closures_and_globals():
    def make(limit):
        def f(x):
            return 0 if len(x) > limit else -1

        return f

    assert fingerprint(make(3)) == fingerprint(make(3))
    assert fingerprint(make(3)) != fingerprint(make(4))
    before = fingerprint(lf_spam)
    global SPAM_WORDS
    saved = SPAM_WORDS
    try:
        SPAM_WORDS = ("free", "win", "prize")
        assert fingerprint(lf_spam) != before
    finally:
        SPAM_WORDS = saved
    assert fingerprint(lf_spam) == before


def _damage(path, how: str) -> None:
    if how == "empty":  # truncated to nothing
        path.write_bytes(b"")
    elif how == "npz":  # an archive under the column's name
        with open(path, "wb") as fh:
            np.savez(fh, a=np.zeros(3))
    else:  # the last vote's high byte set to 0x80 (little-endian int16): a vote below -32000
        data = bytearray(path.read_bytes())
        data[-1] = 0x80
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["empty", "npz", "flipped-values"])
def test_cache_ignores_empty_archive_and_impossible_votes(tmp_path, damage):
    df = make_frame(200)
    PandasLFApplier([lf_meeting], cache_dir=tmp_path).apply(df, progress=False)
    (path,) = list(tmp_path.rglob("*.npy"))
    _damage(path, damage)
    applier = PandasLFApplier([lf_meeting], cache_dir=tmp_path)
    np.testing.assert_array_equal(applier.apply(df, progress=False)[:, 0], expected(df)[:, 1])
    assert applier.last_applied_ == ["lf_meeting"]


def test_fingerprint_follows_project_modules_and_classes(tmp_path, monkeypatch):
    """An LF that calls helpers.is_pos or scorer.score: editing the helper or the method changes the
    LF's fingerprint (a stale cache otherwise)."""
    import importlib
    import sys

    source = (
        "def is_pos(t):\n    return 'love' in t\n\n"
        "class Scorer:\n    def score(self, t):\n        return len(t) > 3\n"
    )
    (tmp_path / "lf_helpers_fp.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    helpers = importlib.import_module("lf_helpers_fp")
    scorer = helpers.Scorer()

    def by_module(x):
        return 1 if helpers.is_pos(x) else -1

    def by_method(x):
        return 1 if scorer.score(x) else -1

    before = fingerprint(by_module), fingerprint(by_method)
    assert before == (fingerprint(by_module), fingerprint(by_method))  # stable
    (tmp_path / "lf_helpers_fp.py").write_text(source.replace("'love'", "'great'").replace("> 3", ">= 3"))
    importlib.invalidate_caches()
    helpers = importlib.reload(helpers)
    scorer = helpers.Scorer()
    after = fingerprint(by_module), fingerprint(by_method)
    assert after[0] != before[0] and after[1] != before[1]
    sys.modules.pop("lf_helpers_fp", None)


def test_cache_keys_hold_every_value_and_unhashable_cells(tmp_path):
    """Points whose repr elides values (long Series) get different keys when a hidden value differs;
    DataFrame cells pandas cannot hash (token lists, arrays) are keyed by their bytes."""

    @labeling_function()
    def middle(x):
        return 1 if x[100] > 0 else 0

    first = [pd.Series(np.zeros(200)) for _ in range(3)]
    second = [s.copy() for s in first]
    second[0][100] = 7
    applier = LFApplier([middle], cache_dir=tmp_path)
    applier.apply(first, progress=False)
    assert applier.apply(second, progress=False)[:, 0].tolist() == [1, 0, 0]
    assert applier.last_applied_ == ["middle"]

    @labeling_function()
    def n_tokens(x):
        return 1 if len(x.tokens) > 1 else 0

    frame = pd.DataFrame({"tokens": [["a", "b"], ["c"]], "emb": [np.zeros(3), np.ones(3)]})
    tokens = PandasLFApplier([n_tokens], cache_dir=tmp_path)
    assert tokens.apply(frame, progress=False)[:, 0].tolist() == [1, 0]
    assert tokens.apply(frame, progress=False)[:, 0].tolist() == [1, 0] and tokens.last_applied_ == []
    frame.loc[1, "tokens"] = ["c", "d"]
    assert tokens.apply(frame, progress=False)[:, 0].tolist() == [1, 1]


def test_dask_applier_matches_pandas(tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    df = make_frame(2_000)
    lfs = [*ROW_LFS, keyword_lf(["free", "win"], 1, name="kw")]
    want = PandasLFApplier(lfs).apply(df, progress=False)
    ddf = dd.from_pandas(df, npartitions=4)
    applier = DaskLFApplier(lfs, cache_dir=tmp_path)
    np.testing.assert_array_equal(applier.apply(ddf, progress=False, scheduler="threads"), want)
    np.testing.assert_array_equal(applier.apply(ddf, progress=False, scheduler="threads"), want)
    assert applier.last_applied_ == []


# -- stale cache hits and keyword edges found by a fuzz (session 18) -----------------------


def test_fingerprint_reads_every_object_an_lf_reads():
    """Temporaries built while hashing (an object's state dict) used to be freed and their address
    reused by the next one, which was then hashed as a repeat: the second config went unread."""
    import types

    cfg_a = types.SimpleNamespace(min_len=0)
    cfg_b = types.SimpleNamespace(word="refund")

    def lf(x):
        return 1 if len(x) >= cfg_a.min_len and cfg_b.word in x else -1

    before = fingerprint(lf)
    cfg_b.word = "great"
    assert fingerprint(lf) != before
    items = [types.SimpleNamespace(v=1), types.SimpleNamespace(v=2)]
    held = fingerprint(items)
    items[1].v = 3
    assert fingerprint(items) != held


def test_fingerprint_follows_submodules_and_partial_arguments(tmp_path, monkeypatch):
    import functools
    import importlib
    import sys

    pkg = tmp_path / "lf_pkg_fp"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from . import rules\n")
    (pkg / "rules.py").write_text("WORDS = ('free',)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    lf_pkg = importlib.import_module("lf_pkg_fp")

    def dotted(x):
        return 1 if any(w in x for w in lf_pkg.rules.WORDS) else -1

    def circular(x):  # a module that reaches itself through an attribute is followed once
        return 1 if x in lf_pkg.rules.me.rules.WORDS else -1

    (pkg / "rules.py").write_text("import sys\n\nme = sys.modules['lf_pkg_fp']\nWORDS = ('free',)\n")
    importlib.reload(lf_pkg.rules)
    assert fingerprint(circular) == fingerprint(circular)
    before = fingerprint(dotted)
    (pkg / "rules.py").write_text("WORDS = ('free', 'win')\n")
    importlib.invalidate_caches()
    importlib.reload(lf_pkg.rules)
    assert fingerprint(dotted) != before
    sys.modules.pop("lf_pkg_fp.rules", None)
    sys.modules.pop("lf_pkg_fp", None)

    def above(x, limit):
        return 1 if x > limit else -1

    assert fingerprint(functools.partial(above, limit=2)) != fingerprint(functools.partial(above, limit=4))
    assert fingerprint(functools.partial(above, 2)) != fingerprint(functools.partial(above, 4))


def test_fingerprint_follows_code_of_an_interactive_session(monkeypatch):
    """In a REPL, Jupyter or ``python -c`` the ``__main__`` module has no file: its LFs used to be
    taken for library code and hashed by name only, so an edited LF hit the cache."""
    import sys
    import types

    session = types.ModuleType("__main__")  # no __file__, as in Jupyter
    monkeypatch.setitem(sys.modules, "__main__", session)
    fingerprints = []
    for body in ("1 if 'a' in x else -1", "1 if 'b' in x else -1"):
        exec(f"def lf_kw(x):\n    return {body}\n", session.__dict__)
        assert session.lf_kw.__module__ == "__main__"
        fingerprints.append(fingerprint(session.lf_kw))
    assert fingerprints[0] != fingerprints[1]


def test_cache_keys_tell_cell_types_categories_and_column_labels_apart():
    from tripletws.labeling.cache import data_key

    def key(**columns):
        return data_key(pd.DataFrame(columns), "series")

    pairs = [
        (["5", 4, "n/a"], [5, 4, "n/a"]),
        ([None, "x"], [np.nan, "x"]),
        ([pd.NA, "x"], [None, "x"]),
        ([True, "x"], ["True", "x"]),
        ([b"a", "x"], ["a", "x"]),
    ]
    for a, b in pairs:
        assert key(c=pd.Series(a, dtype=object)) != key(c=pd.Series(b, dtype=object)), (a, b)
    low_high = pd.Categorical(["low", "high"], categories=["low", "high"], ordered=True)
    high_low = pd.Categorical(["low", "high"], categories=["high", "low"], ordered=True)
    assert key(c=low_high) != key(c=high_low)
    assert data_key(pd.DataFrame({1: [1]}), "series") != data_key(pd.DataFrame({"1": [1]}), "series")


@pytest.mark.parametrize("dtype", [object, "string"])
def test_keyword_lf_with_punctuation_at_its_edges(dtype):
    """``\\b`` beside a non-word character needs a word character on its other side: "c++", "$5" and
    ":)" never matched with whole_word=True (the default)."""
    text = ["I write c++ daily", "pay $5 now", "great :)", "c++", "party", "art"]
    df = pd.DataFrame({"text": pd.Series(text, dtype=dtype)})
    assert keyword_lf(["c++"], 1).apply_frame(df).tolist() == [1, -1, -1, 1, -1, -1]
    assert keyword_lf(["$5"], 1).apply_frame(df).tolist() == [-1, 1, -1, -1, -1, -1]
    assert keyword_lf([":)", "art"], 1).apply_frame(df).tolist() == [-1, -1, 1, -1, -1, 1]  # not "party"
