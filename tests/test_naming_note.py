"""The abstain reading's naming note says how far its majority test stands above a coin."""

from __future__ import annotations

import math
import re
import warnings

import pytest
from test_dev_choice import _draw

from tripletws import LabelModel
from tripletws.estimators.abstain_check import AbstainCheck
from tripletws.models.annotator import COIN_CLAUSE, _kept_clause

KEPT = re.compile(
    r"keeps the majority on (\d+) of the (\d+) fitted rows whose majority wins by (\d) votes? or more, "
    r"([-\d.]+) standard errors above half"
)


def test_weakest_majority_is_the_margin_nearest_a_coin():
    check = AbstainCheck(True, "", family="ds_abstain", kept=((2, 60.0, 100.0), (1, 110.0, 200.0)))
    margin, kept, rows, z = check.weakest_majority()
    # (60 - 50) / 5 = 2.0 against (110 - 100) / (sqrt(200) / 2) = 1.41: the one-vote margin is weaker
    assert (margin, kept, rows) == (1, 110.0, 200.0)
    assert z == pytest.approx(10.0 / (math.sqrt(200.0) / 2.0))
    assert AbstainCheck(True, "").weakest_majority() is None  # test (d) did not run
    assert AbstainCheck(True, "", kept=((2, 0.0, 0.0),)).weakest_majority() is None  # no rows to count


def test_clause_says_coin_within_two_standard_errors_only():
    near = AbstainCheck(True, "", kept=((2, 55.0, 100.0),))  # z = 1.0
    far = AbstainCheck(True, "", kept=((2, 75.0, 100.0),))  # z = 5.0
    assert COIN_CLAUSE in _kept_clause(near)
    assert "55 of the 100" in _kept_clause(near)
    assert COIN_CLAUSE not in _kept_clause(far) and "5.0 standard errors above half" in _kept_clause(far)
    assert _kept_clause(AbstainCheck(True, "")) == ""


@pytest.mark.parametrize(("n", "coin"), [(1_000, True), (20_000, False)])
def test_fit_that_reads_abstentions_gives_its_majority_count(n, coin):
    # test_dev_choice's LFs: the gold-free fit reads every abstention (Dawid-Skene's full tables) and
    # names the classes by the LFs' majority; on 1 000 rows that majority is kept on about half of the
    # clear rows (a coin), on 20 000 on 60 % of them, far beyond the noise
    L, _ = _draw(n, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LabelModel(2).fit(L)
    notes = [note for note in model.notes_ if "does not name the classes" in note]
    assert len(notes) == 1
    found = KEPT.search(notes[0])
    assert found is not None, notes[0]
    kept, rows, z = int(found[1]), int(found[2]), float(found[4])
    assert 0 < kept <= rows
    assert z == pytest.approx((kept - rows / 2) / (math.sqrt(rows) / 2), abs=0.05)  # one decimal printed
    assert (COIN_CLAUSE in notes[0]) is coin
    assert (z <= 2.0) is coin
