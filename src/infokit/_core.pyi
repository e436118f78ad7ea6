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

# ---- continuous: nearest-neighbour engine (csrc/include/infokit/knn, register_knn.cpp) ----
# Points: float64 C-contiguous, (n, d) or (n,) for one column; metric "chebyshev" | "euclidean".
class KNNTree:
    def __init__(self, points: npt.NDArray[np.float64]) -> None: ...
    @property
    def n(self) -> int: ...
    @property
    def d(self) -> int: ...
    def knn_self(
        self, k: int, metric: str = "chebyshev", n_threads: int = 1
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
    def knn(
        self,
        queries: npt.NDArray[np.float64],
        k: int,
        metric: str = "chebyshev",
        n_threads: int = 1,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
    def count_self(
        self,
        radius: npt.NDArray[np.float64],
        strict: bool,
        metric: str = "chebyshev",
        n_threads: int = 1,
    ) -> npt.NDArray[np.int64]: ...
    def count(
        self,
        queries: npt.NDArray[np.float64],
        radius: npt.NDArray[np.float64],
        strict: bool,
        metric: str = "chebyshev",
        n_threads: int = 1,
    ) -> npt.NDArray[np.int64]: ...

class SortedCounter:
    def __init__(self, x: npt.NDArray[np.float64]) -> None: ...
    @property
    def n(self) -> int: ...
    def count_self(
        self, radius: npt.NDArray[np.float64], strict: bool, n_threads: int = 1
    ) -> npt.NDArray[np.int64]: ...
