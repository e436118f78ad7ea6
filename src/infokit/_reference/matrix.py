"""Pure-numpy twins of the tiled Gaussian kernel sums (csrc/include/infokit/matrix/).

Same signatures as the compiled functions in ``infokit._core``. They materialise the n x n kernel
matrices, so they are meant for small n (tests, fallback). Distances are sums of squared
coordinate differences in float64, as in the kernels, so k(x, x) = 1 exactly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def _squared_distances(x: np.ndarray, y: np.ndarray) -> F64:
    """Sums of squared coordinate differences, feature by feature (n x m temporaries only)."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    out: F64 = np.zeros((a.shape[0], b.shape[0]))
    for k in range(a.shape[1]):
        diff = a[:, k, None] - b[None, :, k]
        out += diff * diff
    return out


def _check_gamma(gamma: float, name: str) -> None:
    if not (np.isfinite(gamma) and gamma >= 0.0):
        raise ValueError(f"{name} must be finite and >= 0")


def gaussian_gram(x: np.ndarray, gamma: float, n_threads: int = 1) -> F64:
    """The n x n matrix exp(-gamma ||x_i - x_j||^2) (float64)."""
    _check_gamma(gamma, "gamma")
    gram: F64 = np.exp(-gamma * _squared_distances(x, x))
    return gram


def gaussian_matvec(x: np.ndarray, v: np.ndarray, gamma: float, n_threads: int = 1) -> F64:
    """K @ v for the Gaussian Gram K of x and v of shape (n, p)."""
    if v.ndim != 2 or v.shape[0] != x.shape[0]:
        raise ValueError("v must have as many rows as x")
    out: F64 = gaussian_gram(x, gamma) @ v
    return out


def gaussian_cross_sum(x: np.ndarray, y: np.ndarray, gamma: float, n_threads: int = 1) -> float:
    """sum_ij exp(-gamma ||x_i - y_j||^2)."""
    _check_gamma(gamma, "gamma")
    return float(np.exp(-gamma * _squared_distances(x, y)).sum())


def gaussian_self_sum(x: np.ndarray, gamma: float, n_threads: int = 1) -> float:
    """sum_ij exp(-gamma ||x_i - x_j||^2) over all ordered pairs, diagonal included."""
    return float(gaussian_gram(x, gamma).sum())


def gaussian_two_sample_sums(
    x: np.ndarray, y: np.ndarray, gamma: float, n_threads: int = 1
) -> tuple[float, float, float]:
    """(sum K_xx, sum K_yy, sum K_xy): the three sums of MMD and the Cauchy–Schwarz divergence."""
    if x.shape[1] != y.shape[1]:
        raise ValueError("x and y must have the same number of columns")
    return (
        gaussian_self_sum(x, gamma),
        gaussian_self_sum(y, gamma),
        gaussian_cross_sum(x, y, gamma),
    )


def gaussian_paired_sums(
    x: np.ndarray, y: np.ndarray, gamma_x: float, gamma_y: float, n_threads: int = 1
) -> tuple[float, float, float, F64, F64]:
    """(sum K*L, sum K*K, sum L*L, row sums of K, row sums of L) of two Gaussian Grams."""
    if x.shape[0] != y.shape[0]:
        raise ValueError("x and y must have the same number of rows")
    k = gaussian_gram(x, gamma_x)
    lm = gaussian_gram(y, gamma_y)
    return (
        float((k * lm).sum()),
        float((k * k).sum()),
        float((lm * lm).sum()),
        k.sum(axis=1),
        lm.sum(axis=1),
    )
