"""Where a warning should point: the first frame outside this package.

A fixed ``stacklevel`` points at the user's line only for the call path it was counted on; the
same warning reached through another public method (``fit`` with ``L_dev``, ``partial_fit``)
points inside the library.  :func:`outside_stacklevel` counts the frames instead.
"""

from __future__ import annotations

import os
import sys

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def outside_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised by the calling function point at the first
    frame outside the package (1: the calling function itself, where it is not in the package).

    Returns
    -------
    int
    """
    frame = sys._getframe(1)  # the function about to warn
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level
