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

# --- lowrank ---------------------------------------------------------------------------------
# Multiple-choice knapsack DP (csrc/include/infokit/lowrank/knapsack.hpp): layer l's levels are
# errors/units[offsets[l]:offsets[l+1]]; returns (levels, total error), total = inf if nothing fits.
def knapsack_dp(
    errors: npt.NDArray[np.float64],
    units: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    capacity: int,
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.int64], float]: ...
