"""Patch the default's decision steps for a block: the probes of the ablation studies share this.

``tripletws.models.annotator`` calls its steps (``select_family``, ``balance_check``, ...) through
its module globals, so replacing them there for the duration of a fit lets a study record what each
step decided, refuse an accepted reading or force a choice (benchmarks/worst_losses.py,
benchmarks/stability_study.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any


@contextlib.contextmanager
def patched(module: ModuleType, wrappers: dict[str, Callable[..., Any]]) -> Iterator[None]:
    """Replace ``module``'s attributes named in ``wrappers`` for the block; the originals come back
    after it, also when it raises."""
    originals = {name: getattr(module, name) for name in wrappers}
    for name, fn in wrappers.items():
        setattr(module, name, fn)
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(module, name, fn)
