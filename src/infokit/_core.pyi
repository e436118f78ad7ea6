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

# --- timeseries (csrc/include/infokit/timeseries/) ---------------------------------------------
# x: 2-D C-contiguous float32 or float64 (rows, n); outputs have x's dtype and shape.
def moving_average(
    x: npt.NDArray[np.floating], kernel_size: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.floating]]: ...
def stl(
    x: npt.NDArray[np.floating],
    period: int,
    seasonal: int,
    trend: int,
    low_pass: int,
    seasonal_deg: int,
    trend_deg: int,
    low_pass_deg: int,
    seasonal_jump: int,
    trend_jump: int,
    low_pass_jump: int,
    inner: int,
    outer: int,
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.floating], npt.NDArray[np.floating], npt.NDArray[np.floating]]: ...

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

# --- structure kernels (csrc/include/infokit/structure/*.hpp); float64/int64/uint64 C-contiguous.
def broja_solve(
    tables: npt.NDArray[np.float64], tol: float, max_iter: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def greedy_coupling(
    marginals: npt.NDArray[np.float64], sizes: npt.NDArray[np.int64], n_threads: int = 1
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
def set_transform(
    values: npt.NDArray[np.float64], superset: bool, inverse: bool, n_threads: int = 1
) -> npt.NDArray[np.float64]: ...
def focal_combine(
    focal: npt.NDArray[np.uint64],
    mass: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.int64],
    rule: int,
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.float64]]: ...

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

# --- Entropy coding (csrc/include/infokit/coding/, csrc/bindings/register_coding.cpp) -----------
# Words are the rANS stream as 32-bit integers; parameters of length 1 are shared by all symbols.
# A stream that does not decode raises ValueError. Twins: infokit._reference.coding.
coding_lanes: int

def crc32(data: object, value: int = 0) -> int: ...
def coding_table(family: int) -> npt.NDArray[np.uint64]: ...
def parametric_cdf(
    family: int, mean: float, scale: float, low: int, high: int, precision: int
) -> npt.NDArray[np.int64]: ...
def categorical_cdf(probs: npt.NDArray[np.float64], precision: int) -> npt.NDArray[np.int64]: ...
def rans_encode_categorical(
    probs: npt.NDArray[np.float64], symbols: npt.NDArray[np.int64], precision: int
) -> npt.NDArray[np.uint32]: ...
def rans_decode_categorical(
    probs: npt.NDArray[np.float64], words: npt.NDArray[np.uint32], n: int, precision: int
) -> npt.NDArray[np.int64]: ...
def rans_encode_rows(
    probs: npt.NDArray[np.float64], symbols: npt.NDArray[np.int64], precision: int
) -> npt.NDArray[np.uint32]: ...
def rans_decode_rows(
    probs: npt.NDArray[np.float64], words: npt.NDArray[np.uint32], n: int, precision: int
) -> npt.NDArray[np.int64]: ...
def rans_encode_tables(
    weights: npt.NDArray[np.float64],
    sizes: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    index: npt.NDArray[np.int64],
    symbols: npt.NDArray[np.int64],
    precision: int,
) -> npt.NDArray[np.uint32]: ...
def rans_decode_tables(
    weights: npt.NDArray[np.float64],
    sizes: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    index: npt.NDArray[np.int64],
    words: npt.NDArray[np.uint32],
    n: int,
    precision: int,
) -> npt.NDArray[np.int64]: ...
def rans_encode_parametric(
    family: int,
    mean: npt.NDArray[np.float64],
    scale: npt.NDArray[np.float64],
    low: int,
    high: int,
    symbols: npt.NDArray[np.int64],
    precision: int,
) -> npt.NDArray[np.uint32]: ...
def rans_decode_parametric(
    family: int,
    mean: npt.NDArray[np.float64],
    scale: npt.NDArray[np.float64],
    low: int,
    high: int,
    words: npt.NDArray[np.uint32],
    n: int,
    precision: int,
) -> npt.NDArray[np.int64]: ...
def rans_encode_mixture(
    families: npt.NDArray[np.int32],
    means: npt.NDArray[np.float64],
    scales: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    low: int,
    high: int,
    symbols: npt.NDArray[np.int64],
    precision: int,
) -> npt.NDArray[np.uint32]: ...
def rans_decode_mixture(
    families: npt.NDArray[np.int32],
    means: npt.NDArray[np.float64],
    scales: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    low: int,
    high: int,
    words: npt.NDArray[np.uint32],
    n: int,
    precision: int,
) -> npt.NDArray[np.int64]: ...

class RansStreamEncoder:
    def __init__(self, precision: int) -> None: ...
    @property
    def pushed(self) -> int: ...
    @property
    def precision(self) -> int: ...
    def finish(self) -> npt.NDArray[np.uint32]: ...
    def encode_categorical(
        self, probs: npt.NDArray[np.float64], symbols: npt.NDArray[np.int64]
    ) -> None: ...
    def encode_rows(
        self, probs: npt.NDArray[np.float64], symbols: npt.NDArray[np.int64]
    ) -> None: ...
    def encode_parametric(
        self,
        family: int,
        mean: npt.NDArray[np.float64],
        scale: npt.NDArray[np.float64],
        low: int,
        high: int,
        symbols: npt.NDArray[np.int64],
    ) -> None: ...
    def encode_mixture(
        self,
        families: npt.NDArray[np.int32],
        means: npt.NDArray[np.float64],
        scales: npt.NDArray[np.float64],
        weights: npt.NDArray[np.float64],
        low: int,
        high: int,
        symbols: npt.NDArray[np.int64],
    ) -> None: ...
    def encode_tables(
        self,
        weights: npt.NDArray[np.float64],
        sizes: npt.NDArray[np.int64],
        offsets: npt.NDArray[np.int64],
        index: npt.NDArray[np.int64],
        symbols: npt.NDArray[np.int64],
    ) -> None: ...

class RansStreamDecoder:
    def __init__(self, words: npt.NDArray[np.uint32], total: int, precision: int) -> None: ...
    @property
    def popped(self) -> int: ...
    def finish(self) -> None: ...
    def decode_categorical(
        self, probs: npt.NDArray[np.float64], n: int, out: npt.NDArray[np.int64] | None = None
    ) -> npt.NDArray[np.int64]: ...
    def decode_rows(
        self, probs: npt.NDArray[np.float64], n: int, out: npt.NDArray[np.int64] | None = None
    ) -> npt.NDArray[np.int64]: ...
    def decode_parametric(
        self,
        family: int,
        mean: npt.NDArray[np.float64],
        scale: npt.NDArray[np.float64],
        low: int,
        high: int,
        n: int,
        out: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.int64]: ...
    def decode_mixture(
        self,
        families: npt.NDArray[np.int32],
        means: npt.NDArray[np.float64],
        scales: npt.NDArray[np.float64],
        weights: npt.NDArray[np.float64],
        low: int,
        high: int,
        n: int,
        out: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.int64]: ...
    def decode_tables(
        self,
        weights: npt.NDArray[np.float64],
        sizes: npt.NDArray[np.int64],
        offsets: npt.NDArray[np.int64],
        index: npt.NDArray[np.int64],
        n: int,
        out: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.int64]: ...

# The range coder's stream classes have the same methods (declared as subclasses for brevity;
# at run time they are separate classes).
class RangeStreamEncoder(RansStreamEncoder): ...
class RangeStreamDecoder(RansStreamDecoder): ...

# --- losses: the cross-entropy epilogue (csrc/include/infokit/losses/epilogue.hpp) -------------
# z: C-contiguous float32/float64 (rows, cols) tile of raw logits for vocabulary columns
# [col0, col0 + cols); state: float64 (rows, 5); coef: float64 (rows, 3); bias/class_weight/
# dbias are indexed by global column; soft: (rows, ld) soft targets of z's dtype, ld >= col0 + cols.
# Buffers are never converted: a wrong dtype raises.
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
    soft: np.ndarray | None = None,
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
    soft: np.ndarray | None = None,
) -> float: ...

# --- pvq: pyramid vector quantization (csrc/include/infokit/pvq, register_pvq.cpp) -----------
# Tables hold V(n, k) for n <= N, k <= K, saturated at 2^64 - 1; (N + 1)(K + 1) <= 2^22.
# encode/decode need V(N, K) < 2^64 and raise ValueError naming the first bad row.
def pvq_size_table(N: int, K: int) -> npt.NDArray[np.uint64]: ...
def pvq_encode(
    pulses: npt.NDArray[np.int32] | npt.NDArray[np.int64], K: int, n_threads: int = 1
) -> npt.NDArray[np.uint64]: ...
def pvq_decode(
    indices: npt.NDArray[np.uint64], N: int, K: int, n_threads: int = 1
) -> npt.NDArray[np.int32]: ...
def pvq_search(
    x: npt.NDArray[np.float32] | npt.NDArray[np.float64], K: int, n_threads: int = 1
) -> npt.NDArray[np.int32]: ...

# W-word indices (csrc/include/infokit/pvq/multiword.hpp): (m, W) little-endian uint64 words;
# (N + 1)(K + 1) W <= 2^22. Each returns (result, first bad row or -1); the caller raises.
def pvq_encode_words(
    pulses: npt.NDArray[np.int32] | npt.NDArray[np.int64], K: int, W: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.uint64], int]: ...
def pvq_decode_words(
    words: npt.NDArray[np.uint64], N: int, K: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.int32], int]: ...

# --- compressors (csrc/include/infokit/compress/) ----------------------------------------------
# x: C-contiguous float32 (_f32) or float64 (_f64), never converted. topk*: (ascending int64
# indices, values); topk_feedback* updates residual in place. qsgd_encode*: (bucket norms in x's
# dtype, uint8 packed little-endian codes). Non-finite input raises ValueError.
def topk_f32(
    x: npt.NDArray[np.float32], k: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]: ...
def topk_f64(
    x: npt.NDArray[np.float64], k: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
def topk_approx_f32(
    x: npt.NDArray[np.float32], k: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], float]: ...
def topk_approx_f64(
    x: npt.NDArray[np.float64], k: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], float]: ...
def topk_feedback_f32(
    x: npt.NDArray[np.float32], residual: npt.NDArray[np.float32], k: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]: ...
def topk_feedback_f64(
    x: npt.NDArray[np.float64], residual: npt.NDArray[np.float64], k: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...
def qsgd_encode_f32(
    x: npt.NDArray[np.float32], bucket: int, bits: int, seed: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]: ...
def qsgd_encode_f64(
    x: npt.NDArray[np.float64], bucket: int, bits: int, seed: int, n_threads: int = 1
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint8]]: ...
def qsgd_decode_f32(
    norms: npt.NDArray[np.float32],
    packed: npt.NDArray[np.uint8],
    n: int,
    bucket: int,
    bits: int,
    n_threads: int = 1,
) -> npt.NDArray[np.float32]: ...
def qsgd_decode_f64(
    norms: npt.NDArray[np.float64],
    packed: npt.NDArray[np.uint8],
    n: int,
    bucket: int,
    bits: int,
    n_threads: int = 1,
) -> npt.NDArray[np.float64]: ...
def randk_indices(n: int, k: int, seed: int) -> npt.NDArray[np.int64]: ...

# --- dictionary (csrc/include/infokit/dictionary/pursuit.hpp) ---------------------------------
# gram (K, K) and xy (n, K): float32 or float64, same dtype, rows contiguous (row stride free);
# norms_sq float64 (n,). steps: OMP atoms (<= K) or MP steps. Returns (support int64 (n, w) with
# w = min(steps, K), -1 past the end; coef (n, w);
# count int64 (n,)). tol < 0: no tolerance.
def omp_gram(
    gram: npt.NDArray[np.floating],
    xy: npt.NDArray[np.floating],
    norms_sq: npt.NDArray[np.float64],
    steps: int,
    tol: float,
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.floating], npt.NDArray[np.int64]]: ...
def mp_gram(
    gram: npt.NDArray[np.floating],
    xy: npt.NDArray[np.floating],
    norms_sq: npt.NDArray[np.float64],
    steps: int,
    tol: float,
    n_threads: int = 1,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.floating], npt.NDArray[np.int64]]: ...

# ---- linalg: packed float32 products for the cross-entropy engine (register_linalg.cpp) ----
# A packed operand is a float32 (panels, k, width) array from linalg_pack, possibly sliced by
# panels or by k; "lhs" packs an (m, k) matrix by rows, "rhs" a (k, n) one by columns.
def linalg_pack(
    x: npt.NDArray[np.float32], side: str, out: npt.NDArray[np.float32] | None = None
) -> npt.NDArray[np.float32]: ...
def linalg_gemm_packed(
    out: npt.NDArray[np.float32],
    a: npt.NDArray[np.float32],
    b: npt.NDArray[np.float32],
    accumulate: bool,
    n_threads: int = 1,
) -> None: ...
def linalg_fast_kernel() -> bool: ...
def linalg_panel_widths() -> tuple[int, int]: ...
