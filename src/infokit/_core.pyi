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

# --- calibration kernels (csrc/include/infokit/calibration/*.hpp) ------------------------------
# x: C-contiguous (rows, classes) float32 or float64 table (kept as is, no conversion); labels:
# C-contiguous int64 (rows,). Validation is done by infokit.calibration.
def top_label(
    x: npt.NDArray[np.floating],
    labels: npt.NDArray[np.int64],
    from_logits: bool,
    want_entropy: bool = False,
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.float64] | None]: ...
def entropy_rows(
    x: npt.NDArray[np.floating], from_logits: bool, n_threads: int = 1
) -> npt.NDArray[np.float64]: ...
def bin_stats(
    confidence: npt.NDArray[np.float64],
    correct: npt.NDArray[np.bool_],
    edges: npt.NDArray[np.float64],
    uniform: bool,
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
def classwise_bin_stats(
    x: npt.NDArray[np.floating],
    labels: npt.NDArray[np.int64],
    from_logits: bool,
    edges: npt.NDArray[np.float64],
    uniform: bool,
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
def temperature_sums(
    x: npt.NDArray[np.floating], labels: npt.NDArray[np.int64], beta: float, n_threads: int = 1
) -> tuple[float, float, float]: ...
