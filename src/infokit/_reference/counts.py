"""numpy twins of csrc/include/infokit/discrete/count.hpp (same signatures as infokit._core)."""

from __future__ import annotations

import numpy as np


def histogram(x: np.ndarray, n_threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    values, counts = np.unique(x, return_counts=True)
    return values, counts.astype(np.int64)


def factorize(x: np.ndarray, n_threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values, codes, counts = np.unique(x, return_inverse=True, return_counts=True)
    return codes.reshape(-1).astype(np.int64), values, counts.astype(np.int64)


def combine(
    a: np.ndarray, b: np.ndarray, ka: int, kb: int, n_threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    keys = a.astype(np.uint64) * np.uint64(kb) + b.astype(np.uint64)
    _, codes, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return codes.reshape(-1).astype(np.int64), counts.astype(np.int64)


def joint_counts(
    x: np.ndarray, y: np.ndarray, n_threads: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, _, cx = factorize(x)
    b, _, cy = factorize(y)
    _, joint = combine(a, b, len(cx), len(cy))
    return joint, cx, cy
