"""Sums by group over integer codes, the one primitive every estimator here is built on."""

from __future__ import annotations

import numpy as np


def group_sums(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` (one row per unit; a vector or a matrix) over the groups in ``codes``.

    Units whose code is negative (missing category) are left out. Returns an array of
    shape ``(n_groups,)`` or ``(n_groups, values.shape[1])``.
    """
    keep = codes >= 0
    if not keep.all():
        codes, values = codes[keep], values[keep]
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n_groups)
    sums = np.empty((n_groups, values.shape[1]))
    for column in range(values.shape[1]):
        sums[:, column] = np.bincount(codes, weights=values[:, column], minlength=n_groups)
    return sums


def group_counts(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Number of units in each group (negative codes left out)."""
    return np.bincount(codes[codes >= 0], minlength=n_groups)


def spread(group_values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each unit's value of its group: ``group_values[codes]``.

    A matrix comes back column-major, like the linearised variables it is combined with;
    ``np.take`` along the columns is about twice as fast as fancy indexing on 10^6 units.
    """
    if group_values.ndim == 1:
        return np.take(group_values, codes)
    return np.take(group_values.T, codes, axis=1).T
