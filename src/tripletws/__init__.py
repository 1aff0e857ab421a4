"""tripletws: fast closed-form label models for weak supervision.

Data flows one way::

    L --matrix--> LabelMatrix --stats--> LabelStats --estimators--> LabelModelParams --inference--> P(Y|L)

Quick start::

    from tripletws import LabelModel
    probs = LabelModel(cardinality=2).fit(L_train).predict_proba(L_test)
"""

from .analysis import LFAnalysis
from .baselines import MajorityLabelVoter
from .diagnostics import cofiring_candidates, dependency_candidates
from .matrix import (
    ABSTAIN,
    check_label_matrix,
    from_flyingsquid,
    from_metal,
    from_sparse,
    to_flyingsquid,
    to_metal,
    to_sparse,
)
from .model import LabelModel
from .params import LabelModelParams
from .predictions import preds_to_probs, probs_to_preds
from .sequence import SequenceLabelModel
from .stats import LabelStats, compute_stats, merge_stats

__version__ = "0.1.0"

__all__ = [
    "ABSTAIN",
    "LFAnalysis",
    "LabelModel",
    "LabelModelParams",
    "LabelStats",
    "MajorityLabelVoter",
    "SequenceLabelModel",
    "__version__",
    "check_label_matrix",
    "cofiring_candidates",
    "compute_stats",
    "dependency_candidates",
    "from_flyingsquid",
    "from_metal",
    "from_sparse",
    "merge_stats",
    "preds_to_probs",
    "probs_to_preds",
    "to_flyingsquid",
    "to_metal",
    "to_sparse",
]
