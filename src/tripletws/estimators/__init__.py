"""Closed-form estimators: statistics in, parameters out (they never touch the rows)."""

from .class_balance import (
    check_class_balance,
    class_balance_from_labels,
    class_balance_from_symmetric,
)
from .symmetric import SIGNS, SOLVERS, SymmetricEstimate, estimate_symmetric

__all__ = [
    "SIGNS",
    "SOLVERS",
    "SymmetricEstimate",
    "check_class_balance",
    "class_balance_from_labels",
    "class_balance_from_symmetric",
    "estimate_symmetric",
]
