"""Stubs for the pybind11 module infokit._core (csrc/bindings)."""

import numpy as np
import numpy.typing as npt

def has_openmp() -> bool: ...

# Counting kernel (csrc/include/infokit/discrete/count.hpp). x: 1-D C-contiguous integer or bool
# array; the dtype is kept (no conversion): a float array raises TypeError.
def histogram(
    x: npt.NDArray[np.integer | np.bool_], n_threads: int = 1
) -> tuple[np.ndarray, npt.NDArray[np.int64]]: ...
def factorize(
    x: npt.NDArray[np.integer | np.bool_], n_threads: int = 1
) -> tuple[npt.NDArray[np.int64], np.ndarray, npt.NDArray[np.int64]]: ...
def joint_counts(
    x: npt.NDArray[np.integer | np.bool_],
    y: npt.NDArray[np.integer | np.bool_],
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def combine(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    ka: int,
    kb: int,
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...

# --- matrix: tiled Gaussian kernel sums (csrc/include/infokit/matrix/gaussian_sums.hpp) ---------
# x, y: 2-D C-contiguous float32/float64 arrays of one dtype (no conversion); k = exp(-gamma d^2).
def gaussian_cross_sum(
    x: npt.NDArray[np.floating], y: npt.NDArray[np.floating], gamma: float, n_threads: int = 1
) -> float: ...
def gaussian_self_sum(x: npt.NDArray[np.floating], gamma: float, n_threads: int = 1) -> float: ...
def gaussian_paired_sums(
    x: npt.NDArray[np.floating],
    y: npt.NDArray[np.floating],
    gamma_x: float,
    gamma_y: float,
    n_threads: int = 1,
) -> tuple[float, float, float, npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def gaussian_gram(
    x: npt.NDArray[np.floating], gamma: float, n_threads: int = 1
) -> npt.NDArray[np.float64]: ...
def gaussian_matvec(
    x: npt.NDArray[np.floating], v: npt.NDArray[np.float64], gamma: float, n_threads: int = 1
) -> npt.NDArray[np.float64]: ...
