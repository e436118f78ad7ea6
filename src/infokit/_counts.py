"""Counting, the one primitive under every discrete estimator: routes to the C++ kernel
(infokit._core) or its numpy twin, and turns rows and tuples of variables into joint symbols."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from . import _backend
from ._reference import counts as _ref
from ._threads import get_num_threads


def _kernels(backend: str = "auto") -> ModuleType:
    if _backend.resolve(backend) == "cpp":
        core = _backend.compiled("_core")
        assert core is not None
        return core
    return _ref


def codes(x: np.ndarray, backend: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Dense int64 codes of the symbols of validated labels (1-D, or 2-D rows), and their counts."""
    k = _kernels(backend)
    nt = get_num_threads()
    if x.ndim == 1:
        c, _, counts = k.factorize(x, n_threads=nt)
        return c, counts
    c, _, counts = k.factorize(np.ascontiguousarray(x[:, 0]), n_threads=nt)
    for j in range(1, x.shape[1]):
        cj, _, kj = k.factorize(np.ascontiguousarray(x[:, j]), n_threads=nt)
        c, counts = k.combine(c, cj, len(counts), len(kj), n_threads=nt)
    return c, counts


def joint(*variables: np.ndarray, backend: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Codes and counts of the joint symbol of several validated variables of equal length."""
    k = _kernels(backend)
    nt = get_num_threads()
    c, counts = codes(variables[0], backend)
    for v in variables[1:]:
        cv, kv = codes(v, backend)
        c, counts = k.combine(c, cv, len(counts), len(kv), n_threads=nt)
    return c, counts


def counts(x: np.ndarray, backend: str = "auto") -> np.ndarray:
    """Counts of the distinct symbols of validated labels (1-D fast path, or 2-D rows)."""
    if x.ndim == 1:
        return _kernels(backend).histogram(x, n_threads=get_num_threads())[1]
    return codes(x, backend)[1]


def _common_dtype(x: np.ndarray, y: np.ndarray, backend: str) -> tuple[np.ndarray, np.ndarray]:
    if x.dtype == y.dtype:
        return x, y
    if np.can_cast(x.dtype, np.int64) and np.can_cast(y.dtype, np.int64):
        return x.astype(np.int64), y.astype(np.int64)
    return codes(x, backend)[0], codes(y, backend)[0]


def pair_counts(
    x: np.ndarray, y: np.ndarray, backend: str = "auto"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(joint, x, y) counts of two validated 1-D or 2-D label arrays of equal length."""
    k = _kernels(backend)
    x1 = x if x.ndim == 1 else codes(x, backend)[0]
    y1 = y if y.ndim == 1 else codes(y, backend)[0]
    x1, y1 = _common_dtype(x1, y1, backend)
    joint_c, cx, cy = k.joint_counts(x1, y1, n_threads=get_num_threads())
    return joint_c, cx, cy
