"""``coverage_check.RARE_AGAINST`` (a study switch, off): the coverage reading refused where its fit has a
one-class LF of a class it makes rarer fire more often on another class (docs/studies.md, session 63;
docs/architecture.md, "Study switches")."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tripletws.estimators.coverage_check as coverage_check
from tripletws import LabelModel
from tripletws.estimators.coverage_check import against_rarer
from tripletws.estimators.one_class import CoverageRates

#: (class voted, firing rate on class 0, on class 1) of five one-class LFs on classes 88 / 12: two LFs of
#: class 1 that fire on 60-70 % of its rows, one of class 1 that fires on 30 % of class 0 and 5 % of
#: class 1 (worse than chance), and two of class 0.
RATES = ((1, 0.02, 0.7), (1, 0.03, 0.6), (1, 0.30, 0.05), (0, 0.5, 0.05), (0, 0.4, 0.1))


def _draw(n: int = 6000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.12).astype(int)
    L = np.full((n, len(RATES)), -1)
    for j, (c, on0, on1) in enumerate(RATES):
        L[rng.random(n) < np.where(y == 1, on1, on0), j] = c
    return L


def _rates() -> CoverageRates:
    # LFs 0 and 1 vote class 1, LF 4 class 0; LF 1 fires more often off its class
    return CoverageRates(
        lfs=np.array([0, 1, 4]),
        classes=np.array([1, 1, 0]),
        on_class=np.array([0.60, 0.05, 0.40]),
        off_class=np.array([0.02, 0.30, 0.10]),
    )


def test_the_default_is_off() -> None:
    assert coverage_check.RARE_AGAINST == "off"


def test_any_names_the_rarer_classes_lfs_read_against_it() -> None:
    rates, coverage, se = _rates(), np.array([0.1, 0.3, 0.0, 0.0, 0.4]), np.full(3, 0.01)
    assert against_rarer(rates, np.array([0.8, 0.2]), coverage, se, "any").tolist() == [1]
    # class 1 the commoner: its LF read against it is not a rarer class's; class 0's LF is oriented
    assert against_rarer(rates, np.array([0.3, 0.7]), coverage, se, "any").size == 0
    # a uniform balance makes no class rarer
    assert against_rarer(rates, np.array([0.5, 0.5]), coverage, se, "any").size == 0


def test_share_asks_half_of_a_rarer_classs_votes_from_oriented_lfs() -> None:
    rates, se = _rates(), np.full(3, 0.01)
    balance = np.array([0.8, 0.2])
    # LF 1 (not oriented) casts 0.3 of class 1's 0.4 votes: under half oriented, refused by LF 1
    assert against_rarer(rates, balance, np.array([0.1, 0.3, 0.0, 0.0, 0.4]), se, "share").tolist() == [1]
    # LF 0 casts most of them: kept
    assert against_rarer(rates, balance, np.array([0.3, 0.1, 0.0, 0.0, 0.4]), se, "share").size == 0
    with pytest.raises(ValueError, match="unknown RARE_AGAINST 'some'"):
        against_rarer(rates, balance, np.zeros(5), se, "some")


def _fit(L: np.ndarray) -> LabelModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(2).fit(L)


def test_the_switch_refuses_a_reading_with_a_rare_classs_lf_against_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    L = _draw()
    kept = _fit(L)
    assert kept.one_class_.accepted and kept.fit_class_balance_[1] < 0.2  # class 1 estimated rarer
    monkeypatch.setattr(coverage_check, "RARE_AGAINST", "any")  # read at call time
    refused = _fit(L)
    assert not refused.one_class_.accepted
    assert "one-class LF(s) 2 of a class it makes rarer" in refused.one_class_.reason
    assert refused.family_ != kept.family_


def test_cofire_keeps_an_lf_that_fires_with_the_other_classs_lfs() -> None:
    from tripletws.rows import RowSummary

    # LFs 0 and 1 vote class 1, LF 2 class 0; LF 1 fires with LF 2 (the other class) and never with LF 0
    rows = np.array([[1, -1, -1], [1, -1, -1], [-1, 1, 0], [-1, 1, 0], [-1, -1, 0], [1, -1, -1]])
    unique = RowSummary(2, rows, np.array([5.0, 5.0, 4.0, 4.0, 10.0, 2.0]), 30.0, 100)
    rates = CoverageRates(
        lfs=np.array([0, 1, 2]),
        classes=np.array([1, 1, 0]),
        on_class=np.array([0.6, 0.05, 0.5]),
        off_class=np.array([0.02, 0.30, 0.1]),
    )
    sides = coverage_check.cofiring_sides(unique, rates)
    assert sides[1][0] == 0.0 and sides[1][1] > 1.0  # with its own class's LF never, with the other's often
    assert np.isnan(sides[2][0])  # no other LF of class 0
    args = (rates, np.array([0.8, 0.2]), np.full(3, 0.1), np.full(3, 0.01))
    assert against_rarer(*args, "any").tolist() == [1]
    assert against_rarer(*args, "cofire", unique).size == 0  # its firing sides with the other class
    with pytest.raises(ValueError, match="needs the rows"):
        against_rarer(*args, "cofire")
