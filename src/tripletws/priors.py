"""The class balance a fit is asked to use, resolved once on entry to ``fit`` / ``partial_fit``.

Precedence: the ``class_balance`` argument of the call, then ``Y_dev`` (its class
frequencies), then the constructor's ``class_balance`` (an array, or a strategy
``"auto"``, ``"estimate"``, ``"uniform"`` that each label model interprets).
Nothing below :class:`~tripletws.model.LabelModel` sees the raw arguments.
"""

from __future__ import annotations

from typing import Any

from .estimators.class_balance import STRATEGIES, check_class_balance, class_balance_from_labels
from .matrix import check_labels, hint_flyingsquid_labels
from .models.base import Prior


def check_prior_setting(setting: Any, cardinality: int) -> None:
    """Validate a constructor ``class_balance``: a strategy name or k probabilities."""
    if setting is None:
        raise ValueError(
            f"class_balance=None: give {' or '.join(repr(s) for s in STRATEGIES)} or an array of "
            f"{cardinality} probabilities (the default is 'auto')"
        )
    if isinstance(setting, str):
        if setting not in STRATEGIES:
            raise ValueError(
                f"unknown class_balance {setting!r}; give "
                f"{' or '.join(repr(s) for s in STRATEGIES)} or an array of {cardinality} probabilities"
            )
        return
    check_class_balance(setting, cardinality)


def explicit_prior(class_balance: Any, Y_dev: Any, cardinality: int) -> Prior | None:
    """The prior fixed by a call's own arguments (``class_balance`` over ``Y_dev``), if any."""
    if isinstance(class_balance, str) and class_balance in STRATEGIES:
        raise ValueError(
            f"class_balance={class_balance!r} is a strategy, a setting of the model: "
            f"LabelModel(class_balance={class_balance!r}) or set_params(class_balance={class_balance!r}); "
            f"the class_balance of fit and partial_fit is a fixed prior, {cardinality} probabilities"
        )
    if class_balance is not None:
        return Prior(check_class_balance(class_balance, cardinality), "given")
    if Y_dev is not None:
        y = check_labels(Y_dev, None, cardinality, name="Y_dev")
        hint_flyingsquid_labels(y, cardinality, "Y_dev", stacklevel=5)
        return Prior(class_balance_from_labels(y, cardinality), "Y_dev")
    return None


def setting_prior(setting: Any, cardinality: int) -> Prior:
    """The prior of the constructor's ``class_balance``: a strategy, or a given array."""
    if isinstance(setting, str):
        return Prior(None, setting)
    return Prior(check_class_balance(setting, cardinality), "given")
