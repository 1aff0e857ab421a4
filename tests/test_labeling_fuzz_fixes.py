"""Regression tests for bugs found by fuzzing the labeling layer (LFs, appliers, the LF cache)."""

from __future__ import annotations

import pandas as pd

from tripletws.labeling import ABSTAIN, PandasLFApplier, labeling_function

POSITIVE = {"good", "great"}
NEGATIVE = {"bad", "awful"}


def _opinion(x, words):
    """Votes 1 on opinionated rows holding one of ``words`` (reads both word lists)."""
    tokens = set(x.text.split())
    if not (tokens & POSITIVE or tokens & NEGATIVE):
        return ABSTAIN
    return 1 if tokens & words else ABSTAIN


def test_cache_tells_apart_which_object_a_resource_repeats(tmp_path):
    # the code reads POSITIVE and NEGATIVE; the resource is one of the two: each repeat was hashed
    # as the same "seen before" tag, so switching the resource returned the first one's votes
    df = pd.DataFrame({"text": ["good film", "bad film", "a film"]})
    lf_pos = labeling_function(name="lf", resources={"words": POSITIVE})(_opinion)
    lf_neg = labeling_function(name="lf", resources={"words": NEGATIVE})(_opinion)
    assert lf_pos.fingerprint() != lf_neg.fingerprint()
    PandasLFApplier([lf_pos], cache_dir=tmp_path).apply(df, progress=False)
    applier = PandasLFApplier([lf_neg], cache_dir=tmp_path)
    assert applier.apply(df, progress=False).ravel().tolist() == [-1, 1, -1]
    assert applier.last_applied_ == ["lf"]
