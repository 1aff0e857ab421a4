"""Writing, applying and analysing labeling functions (the names Snorkel users know).

>>> @labeling_function()
... def lf_has_link(x):
...     return 1 if "http" in x.text else ABSTAIN
>>> L = PandasLFApplier([lf_has_link, keyword_lf(["refund"], label=1)]).apply(df)  # doctest: +SKIP
>>> LFAnalysis(L, lfs).lf_summary(Y=y_dev, model=label_model)                      # doctest: +SKIP
"""

from __future__ import annotations

from ..analysis import LFAnalysis
from ..matrix import ABSTAIN
from .appliers import (
    ApplierMetadata,
    DaskLFApplier,
    LFApplier,
    LFWorkerError,
    PandasLFApplier,
    filter_unlabeled_dataframe,
)
from .cache import LFCache
from .functions import LabelingFunction, Preprocessor, labeling_function, preprocessor
from .vectorized import VectorizedLF, keyword_lf, regex_lf, threshold_lf, vectorized_lf

__all__ = [
    "ABSTAIN",
    "ApplierMetadata",
    "DaskLFApplier",
    "LFAnalysis",
    "LFApplier",
    "LFCache",
    "LFWorkerError",
    "LabelingFunction",
    "PandasLFApplier",
    "Preprocessor",
    "VectorizedLF",
    "filter_unlabeled_dataframe",
    "keyword_lf",
    "labeling_function",
    "preprocessor",
    "regex_lf",
    "threshold_lf",
    "vectorized_lf",
]
