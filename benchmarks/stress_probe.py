"""The stress suite with one exploration probe applied to the library: a study's switch without a switch.

Some studies change a rule deep in the default that has no option (the posterior's arithmetic, the
balance check's test, a module constant).  This script applies one such change in this process and
then runs ``benchmarks/stress.py`` with the remaining arguments; its worker processes are forked, so
they inherit the change.  Compare its results with a run of ``stress.py`` on the same draw (the
default) problem by problem.  The probes (docs/studies.md, session 31):

``weight_cap:C``
    Every vote's and every abstention's log-probability ratio between classes capped at ``C`` nats
    in the posterior (the tables of :meth:`tripletws.params.LabelModelParams.log_odds_tables`, each
    LF's outcome shifted to 0 at its most likely class and floored at ``-C``): no single LF moves a
    row's log-odds by more than ``C``.
``vote_cap:C``
    The same for the votes only (abstentions as fitted).
``balance_heldout:or`` / ``balance_heldout:only``
    The balance check (:func:`tripletws.estimators.balance_check.balance_check`) also accepts
    (``or``), or accepts only (``only``, the crowd rule kept), where the chosen family with an
    estimated prior leads the uniform prior's held-out log-likelihood by more than 2 standard errors
    of the paired per-row difference, on the family choice's folds, and predicts every class that
    the clear rows name.
``unvoted_balance:K``
    With more than ``K`` classes, the default's test rows without a vote get the fit's class balance
    (``fit_class_balance_``) as their posterior, where the fit's tables give them a class from the
    LFs' abstentions (session 52: the bet on those rows, measured on real-LF subsets by
    ``benchmarks/unvoted_bets.py``).
``set:MODULE:NAME=VALUE``
    A module constant set (``set:tripletws.estimators.copies:COPY_SHARE=0.3``).

Several probes before the first option apply together.

    PYTHONPATH=src python benchmarks/stress_probe.py weight_cap:3 --jobs 2 --models --base-seed 20261201 \\
        --out /tmp/probe.json
"""

from __future__ import annotations

import importlib
import json
import runpy
import sys
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent


def weight_cap(cap: float, abstentions: bool) -> None:
    """Cap each LF outcome's log-ratio between classes in the posterior at ``cap`` nats."""
    import tripletws.params as params

    tiny = params._TINY

    def log_odds_tables(self: Any) -> tuple[np.ndarray, np.ndarray]:
        logp = np.log(np.maximum(self.cond_probs, tiny))  # (m, k + 1, k)
        abstain = logp[:, 0, :] - logp[:, 0, :].max(axis=1, keepdims=True)
        if abstentions:
            np.maximum(abstain, -cap, out=abstain)
        base = np.log(self.class_balance) + abstain.sum(axis=0)
        D = logp[:, 1:, :] - logp[:, :1, :]
        D -= D.max(axis=2, keepdims=True)
        np.maximum(D, -cap, out=D)
        return base, D

    params.LabelModelParams.log_odds_tables = log_odds_tables


def balance_heldout(rule: str) -> None:
    """The balance check with a held-out likelihood test (``rule``: "or" or "only")."""
    import tripletws.estimators.balance_check as bc
    import tripletws.models.annotator as annotator
    from tripletws.estimators.heldout import HeldOutScores, heldout_row_scores

    if rule not in ("or", "only"):
        raise SystemExit(f"balance_heldout takes 'or' or 'only', not {rule!r}")
    original = bc.balance_check

    def check(rows: Any, selection: Any, *, n_se: float = bc.BALANCE_SE, crowd: bool = False) -> Any:
        out = original(rows, selection, n_se=n_se, crowd=crowd)
        if out.fit is None or selection.scores is None or (rule == "or" and out.accepted):
            return out
        if rule == "only" and out.accepted and out.reason.startswith("crowd-like"):
            return out
        chosen, scores = selection.chosen, selection.scores
        estimated = heldout_row_scores(
            rows, (chosen,), n_folds=scores.folds.shape[0], class_balance=None, folds=scores.folds
        )
        paired = HeldOutScores(
            scores.folds, {"u": scores.row_loglik[chosen], "e": estimated.row_loglik[chosen]}
        )
        lead, se = paired.lead("e", "u")
        clear, majority = bc.clear_rows(rows)
        design = bc.summary_design(rows, rows.cardinality, abstain=False)
        predicted = design.log_scores(out.fit.params).argmax(axis=1)
        seen = clear & (rows.counts > 0)
        silenced = np.setdiff1d(np.unique(majority[seen]), np.unique(predicted[seen]))
        ok = bool(lead > n_se * se) and not silenced.size
        reason = f"held-out lead {lead:.4f} +- {se:.4f}; silenced {silenced.tolist()}"
        if ok or rule == "only":
            return bc.BalanceCheck(ok, out.fit, out.gained, out.lost, reason)
        return out

    annotator.balance_check = check


def unvoted_balance(k_above: int) -> None:
    """With more than ``k_above`` classes, the rows without a vote predicted as the fit's class balance."""
    from tripletws.model import LabelModel

    original = LabelModel.predict_proba

    def predict_proba(self: Any, L: Any) -> np.ndarray:
        P = original(self, L)
        if P.shape[1] > k_above:
            unvoted = (np.asarray(L) < 0).all(axis=1)
            P[unvoted] = np.asarray(self.fit_class_balance_, dtype=P.dtype)
        return P

    LabelModel.predict_proba = predict_proba


def set_constant(spec: str) -> None:
    """``MODULE:NAME=VALUE``: the module's constant set (its type kept; a switch that is None by default
    takes the value as JSON: a number, ``null``, a string in quotes)."""
    where, value = spec.split("=", 1)
    module_name, name = where.split(":")
    module = importlib.import_module(module_name)
    old = getattr(module, name)
    if old is None:
        new = json.loads(value)
    elif isinstance(old, bool):
        new = value.lower() in ("1", "true")
    elif isinstance(old, tuple):  # a JSON list (["given", "uniform"])
        new = tuple(json.loads(value))
    else:
        new = type(old)(value)
    setattr(module, name, new)


def apply_probe(text: str) -> None:
    """Apply one probe (``weight_cap:C``, ``vote_cap:C``, ``balance_heldout:MODE``, ``unvoted_balance:K``,
    ``set:...``)."""
    probe, _, arg = text.partition(":")
    if probe == "weight_cap":
        weight_cap(float(arg), abstentions=True)
    elif probe == "vote_cap":
        weight_cap(float(arg), abstentions=False)
    elif probe == "balance_heldout":
        balance_heldout(arg)
    elif probe == "unvoted_balance":
        unvoted_balance(int(arg))
    elif probe == "set":
        set_constant(arg)
    else:
        raise SystemExit(f"unknown probe {probe!r}; see --help")


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return
    probes = []
    while len(sys.argv) > 1 + len(probes) and not sys.argv[1 + len(probes)].startswith("-"):
        probes.append(sys.argv[1 + len(probes)])
    for one in probes:  # several probes apply together (e.g. two module constants)
        apply_probe(one)
    sys.argv = [str(BENCH / "stress.py"), *sys.argv[1 + len(probes) :]]
    sys.path.insert(0, str(BENCH))
    runpy.run_path(str(BENCH / "stress.py"), run_name="__main__")


if __name__ == "__main__":
    main()
