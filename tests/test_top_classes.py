"""Each row's top classes within a tolerance (tripletws.top_classes)."""

from __future__ import annotations

import numpy as np

from tripletws.top_classes import top_classes


def test_top_classes_within_the_tolerance_only():
    S = np.array([[0.5, 0.5 - 1e-10, 0.0], [0.2, 0.3, 0.5], [-3.0, -3.0, -3.5]])
    np.testing.assert_array_equal(
        top_classes(S, 1e-9), [[True, True, False], [False, False, True], [True, True, False]]
    )
    np.testing.assert_array_equal(top_classes(S, 0.0)[0], [True, False, False])  # exact ties only
    np.testing.assert_array_equal(top_classes(S, 0.25)[1], [False, True, True])
    assert top_classes(np.zeros((0, 3)), 1e-9).shape == (0, 3)
