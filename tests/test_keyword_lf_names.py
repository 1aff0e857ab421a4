"""``keyword_lf``'s default name names every keyword and the label, so that keyword LFs that share a
first keyword no longer collide in an applier."""

from __future__ import annotations

import re

import pytest

from tripletws.labeling import PandasLFApplier, keyword_lf, labeling_function

pd = pytest.importorskip("pandas")

_HASHED = re.compile(r"_[0-9a-f]{8}$")
#: The longest default name: 48 readable characters, "_" and 8 hex digits.
_LONGEST = 57


def test_keyword_lfs_sharing_a_first_keyword_apply_together():
    lfs = [keyword_lf(["refund", "broken"], label=0), keyword_lf(["refund", "money"], label=0)]
    lfs += [keyword_lf(["refund"], label=0), keyword_lf(["refund"], label=1)]
    assert [lf.name for lf in lfs] == [
        "keyword_refund_broken_0",
        "keyword_refund_money_0",
        "keyword_refund_0",
        "keyword_refund_1",
    ]
    df = pd.DataFrame({"text": ["refund now", "broken screen", "money back", "fine"]})
    L = PandasLFApplier(lfs).apply(df, progress=False)
    assert L.tolist() == [[0, 0, 0, 1], [0, -1, -1, -1], [-1, 0, -1, -1], [-1, -1, -1, -1]]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((["money back"], 1, {}), (["money", "back"], 1, {})),  # cleaned alike: the hash tells them apart
        ((["c++"], 1, {}), (["c"], 1, {})),
        ((["a_b"], 1, {}), (["a", "b"], 1, {})),
        ((["refund"], 1, {"column": "title"}), (["refund"], 1, {"column": "body"})),
        ((["refund"], 1, {"column": "title"}), (["title", "refund"], 1, {})),
        ((["refund"], 1, {"ignore_case": False}), (["refund"], 1, {})),
        ((["refund"], 1, {"whole_word": False}), (["refund"], 1, {})),
        (([f"word{i}" for i in range(30)], 1, {}), ([f"word{i}" for i in range(31)], 1, {})),
        ((["x" * 100], 0, {}), (["x" * 100], 1, {})),
    ],
)
def test_default_names_differ_for_different_lfs(a, b):
    name_a = keyword_lf(a[0], a[1], **a[2]).name
    name_b = keyword_lf(b[0], b[1], **b[2]).name
    assert name_a != name_b
    for name in (name_a, name_b):
        assert name.startswith("keyword_") and name.isidentifier()
        assert len(name) <= _LONGEST


def test_default_name_is_readable_stable_and_capped():
    assert keyword_lf("refund", 1).name == "keyword_refund_1"  # a plain keyword list: no hash
    assert keyword_lf(["café", "naïve"], 2).name == "keyword_café_naïve_2"
    spaced = keyword_lf(["money back"], 1).name
    assert spaced.startswith("keyword_money_back_1_") and _HASHED.search(spaced)
    assert keyword_lf(["money back"], 1).name == spaced  # the same arguments, the same name
    assert keyword_lf(["refund"], 1, column="title").name.startswith("keyword_title_refund_1_")
    long = keyword_lf([f"word{i}" for i in range(30)], 7).name
    assert long.startswith("keyword_word0_word1_") and re.search(r"_7_[0-9a-f]{8}$", long)  # label kept
    assert len(long) == _LONGEST
    assert keyword_lf(["refund"], 1, name="keyword_refund").name == "keyword_refund"  # Snorkel's name


def test_duplicate_names_are_a_clear_error():
    @labeling_function(name="keyword_refund_1")
    def lf(x):
        return 1

    lfs = [keyword_lf(["refund"], 1), keyword_lf(["broken"], 0), lf]
    with pytest.raises(ValueError, match=r"'keyword_refund_1' \(LFs 0, 2\).*give each LF its own name"):
        PandasLFApplier(lfs)
