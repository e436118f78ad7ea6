"""Numpy/scipy twin of the nearest-neighbour engine (csrc/include/infokit/knn, infokit._core).

Same classes, methods and results as ``_core.KNNTree`` and ``_core.SortedCounter``, built on
:class:`scipy.spatial.cKDTree`. Strict counts (dist < r) use ``query_ball_point`` at the largest
double below r, which for doubles is the same set of points.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

_P = {"chebyshev": np.inf, "euclidean": 2.0}


def _p_of(metric: str) -> float:
    if metric not in _P:
        raise ValueError(f"metric must be 'chebyshev' or 'euclidean', got '{metric}'")
    return _P[metric]


def _rows(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, 1) if a.ndim == 1 else a


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


class KNNTree:
    """KD-tree over the rows of a float64 (n, d) array (a 1-D array is one column)."""

    def __init__(self, points: np.ndarray) -> None:
        self._points = np.array(_rows(points), dtype=np.float64)
        if self._points.shape[1] == 0:
            raise ValueError("points must have at least one column")
        self._tree = cKDTree(self._points, leafsize=16)

    @property
    def n(self) -> int:
        return int(self._points.shape[0])

    @property
    def d(self) -> int:
        return int(self._points.shape[1])

    def knn_self(
        self, k: int, metric: str = "chebyshev", n_threads: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """(dist, index), each (n, k): the k nearest OTHER points of every point, ascending."""
        _check_k(k)
        p = _p_of(metric)
        n = self.n
        kk = min(k + 1, n)
        dist, idx = self._tree.query(self._points, k=kk, p=p, workers=n_threads)
        dist, idx = dist.reshape(n, kk), idx.reshape(n, kk)
        # Drop each point's own index; when duplicates hide it, drop the last neighbour instead
        # (the k-th distance is the same either way).
        own = idx == np.arange(n)[:, None]
        drop = np.where(own.any(axis=1), own.argmax(axis=1), kk - 1)
        keep = np.ones((n, kk), dtype=bool)
        keep[np.arange(n), drop] = False
        out_d = np.full((n, k), np.inf)
        out_i = np.full((n, k), -1, dtype=np.int64)
        out_d[:, : kk - 1] = dist[keep].reshape(n, kk - 1)
        out_i[:, : kk - 1] = idx[keep].reshape(n, kk - 1)
        return out_d, out_i

    def knn(
        self, queries: np.ndarray, k: int, metric: str = "chebyshev", n_threads: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """(dist, index), each (m, k): the k nearest tree points of each query row."""
        _check_k(k)
        p = _p_of(metric)
        q = _rows(queries)
        if q.shape[1] != self.d:
            raise ValueError(f"queries must have {self.d} columns, got {q.shape[1]}")
        m = q.shape[0]
        kk = min(k, self.n)
        dist, idx = self._tree.query(q, k=kk, p=p, workers=n_threads)
        out_d = np.full((m, k), np.inf)
        out_i = np.full((m, k), -1, dtype=np.int64)
        out_d[:, :kk] = dist.reshape(m, kk)
        out_i[:, :kk] = idx.reshape(m, kk)
        return out_d, out_i

    def count_self(
        self, radius: np.ndarray, strict: bool, metric: str = "chebyshev", n_threads: int = 1
    ) -> np.ndarray:
        """int64 (n,): OTHER points within radius[i] of point i (strict: dist < r)."""
        p = _p_of(metric)
        self_in = (radius > 0) if strict else (radius >= 0)
        return self._count(self._points, radius, strict, p, n_threads) - self_in

    def count(
        self,
        queries: np.ndarray,
        radius: np.ndarray,
        strict: bool,
        metric: str = "chebyshev",
        n_threads: int = 1,
    ) -> np.ndarray:
        """int64 (m,): tree points within radius[i] of query row i (strict: dist < r)."""
        p = _p_of(metric)
        q = _rows(queries)
        if q.shape[1] != self.d:
            raise ValueError(f"queries must have {self.d} columns, got {q.shape[1]}")
        return self._count(q, radius, strict, p, n_threads)

    def _count(
        self, q: np.ndarray, radius: np.ndarray, strict: bool, p: float, n_threads: int
    ) -> np.ndarray:
        if radius.shape != (q.shape[0],):
            raise ValueError(f"radius must be 1-D with one value per query ({q.shape[0]})")
        r = np.nextafter(radius, -np.inf) if strict else radius.copy()
        valid = r >= 0  # a strict radius of 0 holds no point (not even the query itself)
        out = np.zeros(q.shape[0], dtype=np.int64)
        if valid.any():
            got = self._tree.query_ball_point(
                q[valid], r[valid], p=p, return_length=True, workers=n_threads
            )
            out[valid] = got
        return out


class SortedCounter:
    """Radius counts within a 1-D sample (the engine's sorted fast path)."""

    def __init__(self, x: np.ndarray) -> None:
        if x.ndim != 1:
            raise ValueError("x must be 1-D")
        self._tree = KNNTree(x)

    @property
    def n(self) -> int:
        return self._tree.n

    def count_self(self, radius: np.ndarray, strict: bool, n_threads: int = 1) -> np.ndarray:
        """int64 (n,): #{j != i : |x_j - x_i| < radius[i]} (strict) or <= radius[i]."""
        return self._tree.count_self(radius, strict, "chebyshev", n_threads)


def knn_self_points(
    points: np.ndarray,
    k: int,
    metric: str = "chebyshev",
    n_threads: int = 1,
    with_index: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(dist, index), each (n, k): the k nearest OTHER rows of every row, ascending; index is
    None without ``with_index``."""
    dist, index = KNNTree(points).knn_self(k, metric, n_threads)
    return dist, index if with_index else None
