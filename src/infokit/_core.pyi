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

# --- losses: the cross-entropy epilogue (csrc/include/infokit/losses/epilogue.hpp) -------------
# z: C-contiguous float32/float64 (rows, cols) tile of raw logits for vocabulary columns
# [col0, col0 + cols); state: float64 (rows, 5); coef: float64 (rows, 3); bias/class_weight/
# dbias are indexed by global column. Buffers are never converted: a wrong dtype raises.
def losses_row_stats(
    z: np.ndarray,
    col0: int,
    targets: npt.NDArray[np.int64],
    bias: np.ndarray | None,
    class_weight: npt.NDArray[np.float64] | None,
    softcap: float,
    write_transformed: bool,
    state: npt.NDArray[np.float64],
    n_threads: int = 1,
) -> None: ...
def losses_softmax_grad(
    z: np.ndarray,
    col0: int,
    targets: npt.NDArray[np.int64],
    bias: np.ndarray | None,
    class_weight: npt.NDArray[np.float64] | None,
    softcap: float,
    already_transformed: bool,
    lse: npt.NDArray[np.float64],
    coef: npt.NDArray[np.float64],
    dbias: npt.NDArray[np.float64] | None,
    n_threads: int = 1,
) -> float: ...
