"""The nearest-neighbour engine behind :mod:`infokit.continuous`, on either backend.

``tree(points, backend)`` is a KD-tree (C++ ``_core.KNNTree`` or its cKDTree twin);
``counter(points, backend)`` answers the self radius counts of one marginal, through the sorted
1-D fast path when the marginal has one column. Points are float64 C-contiguous (n, d) arrays.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from . import _backend
from ._reference import knn as _ref
from ._threads import get_num_threads


class Counter(Protocol):
    def count_self(self, radius: np.ndarray, strict: bool, n_threads: int = 1) -> np.ndarray: ...


def _module(backend: str) -> Any:
    return _backend.compiled("_core") if backend == "cpp" else _ref


def tree(points: np.ndarray, backend: str) -> Any:
    """A KD-tree over the rows of ``points``."""
    return _module(backend).KNNTree(points)


class _TreeCounter:
    """Max-norm self counts through a KD-tree (marginals with several columns)."""

    def __init__(self, points: np.ndarray, backend: str) -> None:
        self._tree = tree(points, backend)

    def count_self(self, radius: np.ndarray, strict: bool, n_threads: int = 1) -> np.ndarray:
        out: np.ndarray = self._tree.count_self(radius, strict, "chebyshev", n_threads)
        return out


def counter(points: np.ndarray, backend: str) -> Counter:
    """Self radius counts in the max-norm: #{j != i : ||p_j - p_i|| < r_i} (or <=)."""
    if points.shape[1] == 1:
        sorted_counter: Counter = _module(backend).SortedCounter(np.ascontiguousarray(points[:, 0]))
        return sorted_counter
    return _TreeCounter(points, backend)


def knn_self(
    points: np.ndarray, k: int, metric: str, backend: str
) -> tuple[np.ndarray, np.ndarray]:
    """(dist, index), each (n, k): the k nearest other rows of every row, ascending."""
    # No search structure is kept: the engine picks a grid (d = 2, 3) or a KD-tree.
    dist, index = _module(backend).knn_self_points(points, k, metric, get_num_threads())
    return dist, index


def knn_distances(points: np.ndarray, k: int, metric: str, backend: str) -> np.ndarray:
    """(n, k): distances from every row to its k nearest other rows, ascending."""
    dist: np.ndarray = _module(backend).knn_self_points(
        points, k, metric, get_num_threads(), False
    )[0]
    return dist


def kth_distance(points: np.ndarray, k: int, metric: str, backend: str) -> np.ndarray:
    """Distance from every row to its k-th nearest other row."""
    return np.ascontiguousarray(knn_distances(points, k, metric, backend)[:, -1])


def count_self(points: np.ndarray, radius: np.ndarray, strict: bool, backend: str) -> np.ndarray:
    """Max-norm self counts of ``points`` within ``radius`` (one radius per row)."""
    return counter(points, backend).count_self(radius, strict, get_num_threads())
