"""Gradient compressors with exact bit accounting: top-k, random-k, QSGD, PowerSGD, error feedback.

Each compressor turns an array into a payload (the arrays that would travel) and back. Every
payload knows its exact size in bits, metadata included: a fixed header (format tag, dtype code,
number of dimensions), one int64 per dimension and per parameter (k, seed, bits, bucket, rank),
and its arrays at their stored widths. :meth:`Payload.to_bytes` writes exactly those bits, so
``8 * len(payload.to_bytes()) == payload.bits``; :func:`from_bytes` reads them back.

Each compressor also declares whether it is unbiased (``E[decode(encode(x))] = x``) and its
constant: ``omega`` for unbiased ones, ``E‖C(x) − x‖² <= omega · ‖x‖²``, and ``delta`` for
contractive ones, ``‖C(x) − x‖² <= (1 − delta) · ‖x‖²``: the two classes of compressors
SCALLION and SCAFCOM (P56) are analysed under. L-GreCo (P26) chooses k, bits or ranks per
layer from size/error tables: :func:`error_table` gives each candidate's exact bits and its
expected squared error in closed form (:func:`expected_error`), ready for
:func:`infokit.lowrank.allocate_ranks`.

top-k, QSGD and random-k run in C++ kernels (one or two fused passes, ``infokit.threads``,
same bits on any thread count) with numpy twins; PowerSGD is BLAS matrix products and a QR in
numpy (its threads follow ``infokit.threads`` through threadpoolctl). Randomness comes from a
counter-based generator keyed by ``seed``, so a seed fixes the output on every backend.

Examples
--------
>>> import numpy as np
>>> from infokit import compressors as C
>>> g = np.random.default_rng(0).standard_normal(10_000).astype(np.float32)
>>> p = C.qsgd(g, bits=4, bucket=128, seed=0)
>>> p.bits, p.bits_per_element, p.unbiased   # 4 bits + a float32 norm per 128 + header
(42784, 4.2784, True)
>>> C.topk(g, density=0.01).bits             # 100 × (32-bit index + float32) + header
6592
>>> ef = C.ErrorFeedback(C.TopK(density=0.01))
>>> sent = ef.step(g)                        # g + 0 = sent.decode() + ef.residual, exactly
>>> print(C.report(g, sent))                 # doctest: +SKIP
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from . import _backend
from ._compression_report import HEADER_BYTES, INT_BYTES, _fmt
from ._reference import compressors as _reference
from ._threads import get_num_threads
from ._validation import as_real_array, check_positive_int

__all__ = [
    "QSGD",
    "Compressor",
    "CompressorReport",
    "ErrorFeedback",
    "ErrorTable",
    "LowRankPayload",
    "Payload",
    "PowerSGD",
    "QuantizedPayload",
    "RandK",
    "SparsePayload",
    "TopK",
    "error_table",
    "expected_error",
    "from_bytes",
    "powersgd",
    "qsgd",
    "randk",
    "report",
    "topk",
]

_DTYPE_CODES: dict[np.dtype[Any], int] = {np.dtype(np.float32): 0, np.dtype(np.float64): 1}
_CODE_DTYPES: dict[int, np.dtype[Any]] = {code: dtype for dtype, code in _DTYPE_CODES.items()}
_TAGS = {"topk": 1, "randk": 2, "qsgd": 3, "powersgd": 4}


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def _as_real(x: Any, name: str = "x") -> np.ndarray:
    """A non-empty C-contiguous float32/float64 array (float32 stays, other reals -> float64)."""
    arr = as_real_array(x, name, to_float=True)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be an array of at least 1 dimension, got a scalar")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _check_finite(arr: np.ndarray, name: str) -> None:
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")


def _count(k: Any, density: Any, n: int) -> int:
    """k from exactly one of ``k`` (1 <= k <= n) or ``density`` (0 < density <= 1, k = ceil(dn))."""
    if (k is None) == (density is None):
        raise TypeError("give exactly one of k and density")
    if k is not None:
        kk = check_positive_int(k, "k")
        if kk > n:
            raise ValueError(f"k must be <= x.size = {n}, got {kk}")
        return kk
    if isinstance(density, bool) or not isinstance(density, numbers.Real):
        raise TypeError(f"density must be a real number, got {type(density).__name__}")
    if not 0.0 < float(density) <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}")
    return max(1, min(n, math.ceil(float(density) * n)))


def _seed64(seed: Any) -> int:
    """A 64-bit seed from None (fresh entropy), an int in [0, 2^64) or a numpy Generator."""
    if seed is None or isinstance(seed, np.random.Generator):
        rng = seed if seed is not None else np.random.default_rng()
        return int(rng.integers(0, 2**64, dtype=np.uint64))
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be None, an int or a numpy Generator, got {type(seed).__name__}"
        )
    if not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return int(seed)


def _kernel(name: str, dtype: np.dtype[Any] | None, backend: str) -> Callable[..., Any]:
    """The compiled kernel ``name`` (with its dtype suffix) or its numpy twin."""
    if _backend.resolve(backend) == "cpp":
        core = _backend.compiled("_core")
        suffix = "" if dtype is None else ("_f32" if dtype == np.float32 else "_f64")
        return getattr(core, name + suffix)
    return getattr(_reference, name)


def _qsgd_params(bits: Any, bucket: Any, n: int) -> tuple[int, int]:
    """Checked QSGD bits (2..8) and bucket; a bucket longer than the array is the whole array."""
    b = check_positive_int(bits, "bits")
    if not 2 <= b <= 8:
        raise ValueError(f"bits must be in [2, 8], got {b}")
    return b, (n if bucket is None else min(check_positive_int(bucket, "bucket"), n))


def _header_bits(shape: tuple[int, ...], n_params: int) -> int:
    return 8 * (HEADER_BYTES + INT_BYTES * (len(shape) + n_params))


def _index_bits(n: int) -> int:
    """Stored width of one index: 32 bits while every index fits, else 64."""
    return 32 if n <= 2**32 else 64


# ---------------------------------------------------------------------------------------------
# Payloads
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class Payload:
    """What a compressor sends. Subclasses add their arrays; all share the accounting below.

    Attributes
    ----------
    method : str
        "topk", "randk", "qsgd" or "powersgd".
    shape, dtype
        The original array's shape and dtype (float32 or float64).
    unbiased : bool
        Whether ``E[decode()] = x`` over the compressor's randomness.
    omega : float or None
        For unbiased compressors, the variance factor: ``E‖decode() − x‖² <= omega ‖x‖²``.
    delta : float or None
        For contractive ones, ``‖decode() − x‖² <= (1 − delta) ‖x‖²``; None if not contractive.
    """

    shape: tuple[int, ...]
    dtype: np.dtype[Any]

    @property
    def method(self) -> str:
        raise NotImplementedError

    @property
    def size(self) -> int:
        """Number of elements of the original array."""
        return math.prod(self.shape)

    @property
    def unbiased(self) -> bool:
        raise NotImplementedError

    @property
    def omega(self) -> float | None:
        return None

    @property
    def delta(self) -> float | None:
        return None

    def _params(self) -> tuple[int, ...]:
        raise NotImplementedError

    def _arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays as stored on the wire (their nbytes are counted)."""
        raise NotImplementedError

    @property
    def metadata_bits(self) -> int:
        """Header, shape and parameters: ``8 · (8 + 8 · (ndim + n_params))``."""
        return _header_bits(self.shape, len(self._params()))

    def _body_bytes(self) -> int:
        return sum(a.nbytes for a in self._arrays())

    @property
    def bits(self) -> int:
        """Exact size in bits, metadata included; equals ``8 * len(self.to_bytes())``."""
        return self.metadata_bits + 8 * self._body_bytes()

    @property
    def bits_per_element(self) -> float:
        return self.bits / self.size

    @property
    def compression_ratio(self) -> float:
        """Bits of the original array over bits of the payload (> 1 means smaller)."""
        return 8 * self.dtype.itemsize * self.size / self.bits

    def decode(self, *, backend: str = "auto") -> np.ndarray:
        """The reconstruction, in the original shape and dtype."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """The payload as bytes: header, int64 shape and parameters, then the arrays (all
        little-endian)."""
        head = bytes(
            [_TAGS[self.method], _DTYPE_CODES[self.dtype], len(self.shape)]
            + [0] * (HEADER_BYTES - 3)
        )
        ints = np.array([*self.shape, *self._params()], dtype="<i8").tobytes()
        body = b"".join(
            np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()
            for a in self._arrays()
        )
        return head + ints + body

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.method}: {'×'.join(map(str, self.shape))} {self.dtype}, "
            f"{self.bits} bits = {self.bits_per_element:.4g} bits/element, "
            f"{self.compression_ratio:.3g}× smaller, unbiased={self.unbiased})"
        )


@dataclass(frozen=True, repr=False, eq=False)
class SparsePayload(Payload):
    """k kept entries: ascending flat ``indices`` (int64) and their ``values``.

    For random-k (``method == "randk"``) the indices are regenerated from ``seed`` by the
    receiver and are not counted; the values are sent unscaled and decoding multiplies by d/k.
    """

    indices: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    seed: int | None = None

    @property
    def method(self) -> str:
        return "topk" if self.seed is None else "randk"

    @property
    def k(self) -> int:
        return int(self.values.size)

    @property
    def unbiased(self) -> bool:
        return self.seed is not None

    @property
    def omega(self) -> float | None:
        """random-k: ``d/k − 1`` (with equality in expectation)."""
        return self.size / self.k - 1.0 if self.seed is not None else None

    @property
    def delta(self) -> float | None:
        """top-k: ``k/d`` (it keeps at least the average energy per entry)."""
        return self.k / self.size if self.seed is None else None

    def _params(self) -> tuple[int, ...]:
        return (self.k,) if self.seed is None else (self.k, self.seed - 2**63)

    def _body_bytes(self) -> int:  # without materialising the narrowed indices
        index_bytes = 0 if self.seed is not None else self.k * _index_bits(self.size) // 8
        return index_bytes + self.values.nbytes

    def _arrays(self) -> tuple[np.ndarray, ...]:
        if self.seed is not None:
            return (self.values,)
        wide = _index_bits(self.size) == 64
        return (self.indices.astype("<u8" if wide else "<u4"), self.values)

    @property
    def scale(self) -> float:
        """Factor applied to the values on decoding: d/k for random-k, 1 for top-k."""
        return self.size / self.k if self.seed is not None else 1.0

    def decode(self, *, backend: str = "auto") -> np.ndarray:
        _backend.resolve(backend)
        out = np.zeros(self.size, dtype=self.dtype)
        if self.seed is None:
            out[self.indices] = self.values
        else:
            out[self.indices] = self.values * self.dtype.type(self.scale)
        return out.reshape(self.shape)


@dataclass(frozen=True, repr=False, eq=False)
class QuantizedPayload(Payload):
    """QSGD: one ``norm`` per bucket (in the input's dtype) and the ``packed`` b-bit codes.

    Code i is ``sign << (bits − 1) | level`` with ``level`` in [0, s], s = 2^(bits−1) − 1, packed
    little-endian (code i at stream bits [i·bits, (i+1)·bits)).
    """

    bits_per_code: int = 4
    bucket: int = 128
    norms: np.ndarray = field(default_factory=lambda: np.empty(0))
    packed: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint8))

    @property
    def method(self) -> str:
        return "qsgd"

    @property
    def levels(self) -> int:
        """s = 2^(bits−1) − 1 quantisation levels per sign."""
        return (1 << (self.bits_per_code - 1)) - 1

    @property
    def unbiased(self) -> bool:
        return True

    @property
    def omega(self) -> float:
        """``min(d/s², √d/s)`` with d the bucket size (Alistarh et al. 2017, Lemma 3.1)."""
        d = min(self.bucket, self.size)
        s = self.levels
        return min(d / s**2, math.sqrt(d) / s)

    def _params(self) -> tuple[int, ...]:
        return (self.bits_per_code, self.bucket)

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.norms, self.packed)

    def codes(self) -> np.ndarray:
        """The unpacked codes (uint32), sign bit included."""
        return _reference.unpack(self.packed, self.size, self.bits_per_code)

    def decode(self, *, backend: str = "auto") -> np.ndarray:
        kernel = _kernel("qsgd_decode", self.dtype, backend)
        out = kernel(
            self.norms, self.packed, self.size, self.bucket, self.bits_per_code, get_num_threads()
        )
        return np.asarray(out).reshape(self.shape)


@dataclass(frozen=True, repr=False, eq=False)
class LowRankPayload(Payload):
    """PowerSGD: ``p`` (m × r, orthonormal columns) and ``q`` (n × r); decodes to ``p @ q.T``.

    ``q`` is also the warm start of the next :func:`powersgd` call (``warm_start=payload``).
    """

    p: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    q: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    @property
    def method(self) -> str:
        return "powersgd"

    @property
    def rank(self) -> int:
        return int(self.p.shape[1])

    @property
    def unbiased(self) -> bool:
        return False

    def _params(self) -> tuple[int, ...]:
        return (self.rank,)

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.p, self.q)

    def decode(self, *, backend: str = "auto") -> np.ndarray:
        _backend.resolve(backend)
        return (self.p @ self.q.T).reshape(self.shape)


def from_bytes(data: bytes) -> Payload:
    """Read a payload written by :meth:`Payload.to_bytes`; a corrupt stream raises ValueError."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    buf = bytes(data)
    if len(buf) < HEADER_BYTES:
        raise ValueError(f"data is too short for a header: {len(buf)} bytes")
    tag, code, ndim = buf[0], buf[1], buf[2]
    methods = {v: k for k, v in _TAGS.items()}
    if tag not in methods or code not in _CODE_DTYPES:
        raise ValueError(f"data has an unknown format tag {tag} or dtype code {code}")
    method, dtype = methods[tag], _CODE_DTYPES[code]
    n_params = {"topk": 1, "randk": 2, "qsgd": 2, "powersgd": 1}[method]
    end = HEADER_BYTES + INT_BYTES * (ndim + n_params)
    if len(buf) < end:
        raise ValueError("data ends inside its shape and parameters")
    ints = np.frombuffer(buf, dtype="<i8", count=ndim + n_params, offset=HEADER_BYTES)
    shape = tuple(int(v) for v in ints[:ndim])
    params = [int(v) for v in ints[ndim:]]
    if any(d < 1 for d in shape) or ndim < 1:
        raise ValueError(f"data has an invalid shape {shape}")
    n = math.prod(shape)
    body = buf[end:]

    def take(nbytes: int) -> bytes:
        nonlocal body
        if nbytes < 0 or len(body) < nbytes:
            raise ValueError("data is shorter than its shape and parameters require")
        part, body = body[:nbytes], body[nbytes:]
        return part

    item = dtype.itemsize
    wire = dtype.newbyteorder("<")
    result: Payload
    if method in ("topk", "randk"):
        k = params[0]
        if not 1 <= k <= n:
            raise ValueError(f"data has k = {k} outside [1, {n}]")
        if method == "topk":
            width = _index_bits(n) // 8
            idx = np.frombuffer(take(k * width), dtype="<u8" if width == 8 else "<u4")
            indices = idx.astype(np.int64)
            if (indices >= n).any() or (np.diff(indices) <= 0).any():
                raise ValueError("data has indices out of range or not increasing")
            seed = None
        else:
            seed = params[1] + 2**63
            indices = _randk(n, k, seed)
        values = np.frombuffer(take(k * item), dtype=wire).astype(dtype)
        result = SparsePayload(shape, dtype, indices=indices, values=values, seed=seed)
    elif method == "qsgd":
        bits, bucket = params
        if not 2 <= bits <= 8 or bucket < 1:
            raise ValueError(f"data has bits = {bits} or bucket = {bucket} out of range")
        norms = np.frombuffer(take(-(-n // bucket) * item), dtype=wire).astype(dtype)
        packed = np.frombuffer(take((n * bits + 7) // 8), dtype=np.uint8).copy()
        if not (np.isfinite(norms).all() and (norms >= 0).all()):
            raise ValueError("data has bucket norms that are negative or not finite")
        result = QuantizedPayload(shape, dtype, bits, bucket, norms, packed)
    else:
        rank = params[0]
        m = shape[0]
        cols = n // m
        if not 1 <= rank <= min(m, cols):
            raise ValueError(f"data has rank = {rank} outside [1, {min(m, cols)}]")
        p = np.frombuffer(take(m * rank * item), dtype=wire).reshape(m, rank).astype(dtype)
        q = np.frombuffer(take(cols * rank * item), dtype=wire).reshape(cols, rank).astype(dtype)
        result = LowRankPayload(shape, dtype, p, q)
    if body:
        raise ValueError(f"data has {len(body)} trailing bytes")
    return result


def _randk(n: int, k: int, seed: int, backend: str = "auto") -> np.ndarray:
    indices: np.ndarray = _kernel("randk_indices", None, backend)(n, k, seed)
    return indices


# ---------------------------------------------------------------------------------------------
# The compressors
# ---------------------------------------------------------------------------------------------


def topk(
    x: Any,
    k: int | None = None,
    *,
    density: float | None = None,
    approximate: bool = False,
    backend: str = "auto",
) -> SparsePayload:
    """Keep the k entries of largest magnitude (or about k, with ``approximate=True``).

    ``C(x)_i = x_i`` for the k largest ``|x_i|``, 0 elsewhere. Biased and contractive:
    ``‖C(x) − x‖² <= (1 − k/d) ‖x‖²`` (``delta = k/d``); use it with :class:`ErrorFeedback`.
    Ties at the k-th magnitude keep the lowest indices, so the set is the first k of a stable
    sort by descending ``|x|`` (it equals ``numpy.argpartition``'s set whenever the k-th
    magnitude is unique).

    Parameters
    ----------
    x : array_like
        Real values of any shape (flattened in C order); float32 stays float32.
    k, density : int or float
        Exactly one: the number kept (1 <= k <= x.size) or the fraction, k = ceil(density · d).
    approximate : bool
        Keep every entry with ``|x_i| >= tau`` instead, where tau is the r-th largest magnitude of
        a strided sample of m = min(d, 2^14) entries (positions ``j·(d // m)``) and
        r = ceil(k·m / d): the sampled threshold of Deep Gradient Compression (Lin et al., ICLR
        2018). One read of x and no selection; the count c is close to k but set by the sample
        (``payload.k`` gives it), and the kept set is exactly the top-c one (every tie at tau
        kept), so ``delta = c/d`` still holds. Deterministic (no randomness). If tau is 0 (x is
        mostly zeros) the exact top-k is returned instead.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    SparsePayload
        ``indices`` (ascending), ``values``; ``bits = 8·(8 + 8·(ndim + 1)) + k·(32 + 8·itemsize)``
        (64-bit indices when d > 2^32), k the number kept.

    Notes
    -----
    Selection on the integer keys of ``|x|`` (IEEE bits without the sign), O(d), threads via
    ``infokit.threads``. For d >= 2^18 and k <= d/4, a strided sample of 2^14 keys sets a floor
    that k entries reach with near certainty, and ONE read of x (a SIMD test per 16 entries)
    collects the entries above it; an exact selection among those finishes. If the sample
    misleads (fewer than k or far too many collected) it falls back to a radix select: a
    2^16-bin histogram, then the candidates of one bin (two reads). The answer never depends on
    the route or the thread count. NaN or inf raise ValueError.
    Stich, Cordonnier & Jaggi, "Sparsified SGD with memory", NeurIPS 2018; P26.
    """
    arr = _as_real(x)
    kk = _count(k, density, arr.size)
    if not isinstance(approximate, (bool, np.bool_)):
        raise TypeError(f"approximate must be True or False, got {type(approximate).__name__}")
    flat = arr.reshape(-1)
    if approximate:
        indices, values, tau = _kernel("topk_approx", arr.dtype, backend)(
            flat, kk, get_num_threads()
        )
        if tau > 0:
            return SparsePayload(arr.shape, arr.dtype, indices=indices, values=values)
    indices, values = _kernel("topk", arr.dtype, backend)(flat, kk, get_num_threads())
    return SparsePayload(arr.shape, arr.dtype, indices=indices, values=values)


def randk(
    x: Any,
    k: int | None = None,
    *,
    density: float | None = None,
    seed: Any = None,
    backend: str = "auto",
) -> SparsePayload:
    """Keep k uniformly random entries, scaled by d/k on decoding (unbiased).

    ``C(x)_i = (d/k) x_i`` for i in a uniform random k-subset S, 0 elsewhere: ``E[C(x)] = x``
    and ``E‖C(x) − x‖² = (d/k − 1) ‖x‖²`` (``omega = d/k − 1``).

    Parameters
    ----------
    x : array_like
        Real values of any shape; float32 stays float32. NaN or inf raise ValueError.
    k, density : int or float
        Exactly one: the number kept or the fraction (k = ceil(density · d)).
    seed : None, int in [0, 2^64) or numpy Generator
        The subset is a function of (seed, d, k) only: the receiver regenerates it, so no
        indices are sent. ``bits = 8·(8 + 8·(ndim + 2)) + 8·k·itemsize``.
    backend : {"auto", "cpp", "numpy"}

    Notes
    -----
    Floyd's sampling with counter-based draws, a bitmap of d bits: O(k + d/64) time.
    Stich, Cordonnier & Jaggi 2018; Wangni et al., "Gradient sparsification", NeurIPS 2018; P56.
    """
    arr = _as_real(x)
    _check_finite(arr, "x")
    kk = _count(k, density, arr.size)
    s = _seed64(seed)
    indices = _randk(arr.size, kk, s, backend)
    values = arr.reshape(-1)[indices]
    return SparsePayload(arr.shape, arr.dtype, indices=indices, values=values, seed=s)


def qsgd(
    x: Any,
    bits: int = 4,
    bucket: int | None = 128,
    *,
    seed: Any = None,
    backend: str = "auto",
) -> QuantizedPayload:
    """Stochastic b-bit quantisation with one norm per bucket (QSGD), unbiased.

    For each bucket B of ``bucket`` consecutive entries with norm ``N = ‖x_B‖₂`` and
    ``s = 2^(bits−1) − 1``: ``Q(x_i) = N · sign(x_i) · ξ_i / s`` with
    ``ξ_i = ⌊s |x_i| / N + u_i⌋``, ``u_i ~ U[0, 1)``. Then ``E[Q(x)] = x`` and
    ``E‖Q(x) − x‖² <= min(d/s², √d/s) ‖x‖²`` with d the bucket size (``omega``).

    Parameters
    ----------
    x : array_like
        Real values of any shape (flattened in C order); float32 stays float32.
    bits : int in [2, 8]
        Bits per entry: one sign bit and bits − 1 bits of level.
    bucket : int >= 1 or None
        Entries per norm; None uses one norm for the whole array (high variance, see omega).
    seed : None, int in [0, 2^64) or numpy Generator
        The dither u_i is a function of (seed, i): same seed, same payload on any backend and
        thread count.
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    QuantizedPayload
        ``bits = 8·(8 + 8·(ndim + 2)) + 8·itemsize·⌈d/bucket⌉ + 8·⌈d·bits/8⌉``.

    Notes
    -----
    One fused pass per bucket (norm in double, then codes packed while the bucket is in cache);
    O(d). Norms are stored rounded up so no level clips. The dither u_i is a 32-bit uniform
    (a multiple of 2^-32), so the bias is below 2^-32 of a level. NaN or inf raise ValueError.
    Alistarh et al., "QSGD: communication-efficient SGD via gradient quantization and encoding",
    NeurIPS 2017; P26, P56.
    """
    arr = _as_real(x)
    b, bk = _qsgd_params(bits, bucket, arr.size)
    s = _seed64(seed)
    kernel = _kernel("qsgd_encode", arr.dtype, backend)
    norms, packed = kernel(arr.reshape(-1), bk, b, s, get_num_threads())
    return QuantizedPayload(arr.shape, arr.dtype, b, bk, norms, packed)


def powersgd(
    M: Any,
    rank: int,
    *,
    warm_start: LowRankPayload | np.ndarray | None = None,
    seed: Any = None,
) -> LowRankPayload:
    """One PowerSGD step: a rank-r approximation by a single warm-started power iteration.

    ``P = M Q``, ``P ← orth(P)`` (reduced QR), ``Q = Mᵀ P``, ``M̂ = P Qᵀ``. With the previous
    step's Q as warm start, repeated steps on a slowly changing M track its top-r subspace (the
    error approaches the Eckart–Young optimum). Biased; use it with :class:`ErrorFeedback`.

    Parameters
    ----------
    M : array_like, ndim >= 2
        Real matrix (m, n); more dimensions are flattened to (shape[0], rest). float32 stays.
    rank : int, 1 <= rank <= min(m, n)
    warm_start : LowRankPayload or ndarray (n, rank), optional
        The previous step's payload (its ``q``) or a Q matrix; default a Gaussian Q from ``seed``.
    seed : None, int or numpy Generator
        Only used without ``warm_start``.

    Returns
    -------
    LowRankPayload
        ``p`` (m × r), ``q`` (n × r); ``bits = 8·(8 + 8·(ndim + 1)) + 8·itemsize·r·(m + n)``.

    Notes
    -----
    Two matrix products and one QR: O(mnr) in BLAS/LAPACK, whose threads follow
    ``infokit.threads``. NaN or inf raise ValueError.
    Vogels, Karimireddy & Jaggi, "PowerSGD: practical low-rank gradient compression",
    NeurIPS 2019; P26.
    """
    arr = _as_real(M, "M")
    if arr.ndim < 2:
        raise ValueError(f"M must have at least 2 dimensions, got shape {arr.shape}")
    mat = arr.reshape(arr.shape[0], -1)
    m, n = mat.shape
    r = check_positive_int(rank, "rank")
    if r > min(m, n):
        raise ValueError(f"rank must be <= min(m, n) = {min(m, n)}, got {r}")
    _check_finite(mat, "M")
    if warm_start is None:
        rng = np.random.default_rng(_seed64(seed))
        q = rng.standard_normal((n, r)).astype(arr.dtype)
    else:
        q0 = warm_start.q if isinstance(warm_start, LowRankPayload) else warm_start
        q = np.asarray(q0)
        if q.shape != (n, r):
            raise ValueError(f"warm_start must have shape (n, rank) = {(n, r)}, got {q.shape}")
        q = q.astype(arr.dtype, copy=False)
    p, _ = np.linalg.qr(mat @ q)
    q = mat.T @ p
    return LowRankPayload(
        arr.shape, arr.dtype, p=np.ascontiguousarray(p), q=np.ascontiguousarray(q)
    )


# ---------------------------------------------------------------------------------------------
# Compressor objects and error feedback
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compressor:
    """A configured compressor: ``encode(x) -> payload``, ``decode(payload)``, size formulas."""

    unbiased: ClassVar[bool] = False

    def encode(self, x: Any, *, seed: Any = None, backend: str = "auto") -> Payload:
        raise NotImplementedError

    def decode(self, payload: Payload, *, backend: str = "auto") -> np.ndarray:
        return payload.decode(backend=backend)

    def payload_bits(self, shape: tuple[int, ...], dtype: Any = np.float32) -> int:
        """Exact payload size in bits for an array of this shape and dtype, before encoding."""
        raise NotImplementedError


def _shape_size(shape: tuple[int, ...], dtype: Any) -> tuple[tuple[int, ...], int, int]:
    shp = tuple(int(d) for d in shape)
    item = np.dtype(np.float32 if np.dtype(dtype) == np.float32 else np.float64).itemsize
    return shp, math.prod(shp), item


@dataclass(frozen=True)
class TopK(Compressor):
    """:func:`topk` as an object. Give exactly one of ``k`` and ``density``."""

    k: int | None = None
    density: float | None = None
    unbiased: ClassVar[bool] = False

    def encode(self, x: Any, *, seed: Any = None, backend: str = "auto") -> SparsePayload:
        del seed
        return topk(x, self.k, density=self.density, backend=backend)

    def payload_bits(self, shape: tuple[int, ...], dtype: Any = np.float32) -> int:
        shp, n, item = _shape_size(shape, dtype)
        k = _count(self.k, self.density, n)
        return _header_bits(shp, 1) + k * (_index_bits(n) + 8 * item)


@dataclass(frozen=True)
class RandK(Compressor):
    """:func:`randk` as an object. Give exactly one of ``k`` and ``density``."""

    k: int | None = None
    density: float | None = None
    unbiased: ClassVar[bool] = True

    def encode(self, x: Any, *, seed: Any = None, backend: str = "auto") -> SparsePayload:
        return randk(x, self.k, density=self.density, seed=seed, backend=backend)

    def payload_bits(self, shape: tuple[int, ...], dtype: Any = np.float32) -> int:
        shp, n, item = _shape_size(shape, dtype)
        return _header_bits(shp, 2) + 8 * item * _count(self.k, self.density, n)


@dataclass(frozen=True)
class QSGD(Compressor):
    """:func:`qsgd` as an object."""

    bits: int = 4
    bucket: int | None = 128
    unbiased: ClassVar[bool] = True

    def encode(self, x: Any, *, seed: Any = None, backend: str = "auto") -> QuantizedPayload:
        return qsgd(x, self.bits, self.bucket, seed=seed, backend=backend)

    def payload_bits(self, shape: tuple[int, ...], dtype: Any = np.float32) -> int:
        shp, n, item = _shape_size(shape, dtype)
        bucket = n if self.bucket is None else min(self.bucket, n)
        n_buckets = -(-n // bucket)
        return _header_bits(shp, 2) + 8 * item * n_buckets + 8 * ((n * self.bits + 7) // 8)


@dataclass(frozen=True)
class PowerSGD(Compressor):
    """:func:`powersgd` as an object; :class:`ErrorFeedback` passes the warm start."""

    rank: int = 1
    unbiased: ClassVar[bool] = False

    def encode(
        self,
        x: Any,
        *,
        seed: Any = None,
        backend: str = "auto",
        warm_start: LowRankPayload | np.ndarray | None = None,
    ) -> LowRankPayload:
        _backend.resolve(backend)
        return powersgd(x, self.rank, warm_start=warm_start, seed=seed)

    def payload_bits(self, shape: tuple[int, ...], dtype: Any = np.float32) -> int:
        shp, n, item = _shape_size(shape, dtype)
        m = shp[0]
        return _header_bits(shp, 1) + 8 * item * self.rank * (m + n // m)


class ErrorFeedback:
    """Error feedback around any compressor: send C(x + e), keep the rest in e.

    Each :meth:`step` forms ``acc = x + e``, sends ``payload = C(acc)`` and keeps
    ``e ← acc − decode(payload)``, so ``x + e_old = decode(payload) + e_new`` (exactly for
    top-k, to rounding otherwise) and nothing is lost, only delayed. For top-k the addition,
    the selection and the residual update are one fused kernel (three reads and one write of
    d entries); PowerSGD steps are warm-started from the previous payload.

    Parameters
    ----------
    compressor : Compressor
        TopK, RandK, QSGD or PowerSGD.
    seed : None, int or numpy Generator
        Source of the per-step seeds of random compressors (a fixed seed fixes every step).
    backend : {"auto", "cpp", "numpy"}

    References
    ----------
    Seide et al., "1-bit SGD", Interspeech 2014; Karimireddy et al., "Error feedback fixes
    SignSGD", ICML 2019; P26, P56 (SCAFCOM uses it for biased compressors).
    """

    def __init__(self, compressor: Compressor, *, seed: Any = None, backend: str = "auto") -> None:
        if not isinstance(compressor, Compressor):
            raise TypeError(
                "compressor must be a TopK, RandK, QSGD or PowerSGD, "
                f"got {type(compressor).__name__}"
            )
        _backend.resolve(backend)
        self.compressor = compressor
        self.backend = backend
        self._rng = np.random.default_rng(_seed64(seed))
        self._residual: np.ndarray | None = None
        self._last: Payload | None = None

    @property
    def residual(self) -> np.ndarray | None:
        """A copy of the current residual e (None before the first step)."""
        return None if self._residual is None else self._residual.copy()

    def reset(self) -> None:
        """Forget the residual and the warm start."""
        self._residual = None
        self._last = None

    def step(self, x: Any) -> Payload:
        """Compress ``x + e`` and update e; returns the payload to send."""
        arr = _as_real(x)
        if self._residual is None:
            self._residual = np.zeros(arr.shape, dtype=arr.dtype)
        elif self._residual.shape != arr.shape or self._residual.dtype != arr.dtype:
            raise ValueError(
                f"x must keep the shape and dtype of the first step, {self._residual.shape} "
                f"{self._residual.dtype}, got {arr.shape} {arr.dtype}"
            )
        comp = self.compressor
        payload: Payload
        if isinstance(comp, TopK):
            k = _count(comp.k, comp.density, arr.size)
            kernel = _kernel("topk_feedback", arr.dtype, self.backend)
            flat = self._residual.reshape(-1)
            indices, values = kernel(arr.reshape(-1), flat, k, get_num_threads())
            payload = SparsePayload(arr.shape, arr.dtype, indices=indices, values=values)
        else:
            acc = arr + self._residual
            _check_finite(acc, "x + residual")
            seed = int(self._rng.integers(0, 2**64, dtype=np.uint64))
            if isinstance(comp, PowerSGD):
                warm = self._last if isinstance(self._last, LowRankPayload) else None
                payload = comp.encode(acc, seed=seed, backend=self.backend, warm_start=warm)
            else:
                payload = comp.encode(acc, seed=seed, backend=self.backend)
            self._residual = acc - payload.decode(backend=self.backend)
        self._last = payload
        return payload


# ---------------------------------------------------------------------------------------------
# Expected errors and per-layer tables (L-GreCo)
# ---------------------------------------------------------------------------------------------


def expected_error(x: Any, compressor: Compressor, *, seed: Any = None) -> float:
    """``E‖C(x) − x‖²`` in closed form (accumulated in double), for choosing a compression level.

    - TopK: ``‖x‖² − Σ_{i∈top-k} x_i²`` (deterministic).
    - RandK: ``(d/k − 1) ‖x‖²`` exactly.
    - QSGD: ``Σ_i (N_b/s)² f_i (1 − f_i)`` with ``f_i = frac(s|x_i|/N_b)``, the variance of the
      stochastic rounding of each entry, N_b its bucket's stored norm: the exact expectation,
      never above the bound ``omega ‖x‖²``.
    - PowerSGD: the squared error of one step (deterministic given ``seed``).

    O(d) (top-k: one selection; PowerSGD: one step).
    """
    arr = _as_real(x)
    flat = arr.reshape(-1).astype(np.float64, copy=False)
    total = float(flat @ flat)
    if isinstance(compressor, TopK):
        kept = topk(arr, compressor.k, density=compressor.density).values.astype(np.float64)
        return max(total - float(kept @ kept), 0.0)
    if isinstance(compressor, RandK):
        k = _count(compressor.k, compressor.density, arr.size)
        return (arr.size / k - 1.0) * total
    if isinstance(compressor, QSGD):
        _check_finite(arr, "x")
        b, bucket = _qsgd_params(compressor.bits, compressor.bucket, arr.size)
        s = (1 << (b - 1)) - 1
        norms = _reference._bucket_norms(arr.reshape(-1), bucket).astype(np.float64)
        step = np.repeat(norms / s, bucket)[: arr.size]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(step > 0, np.abs(flat) / step, 0.0)
        frac = ratio - np.floor(ratio)
        return float(np.sum(step**2 * frac * (1.0 - frac)))
    if isinstance(compressor, PowerSGD):
        rec = compressor.encode(arr, seed=seed).decode().astype(np.float64).reshape(-1)
        return float(np.sum((rec - flat) ** 2))
    raise TypeError(
        f"compressor must be a TopK, RandK, QSGD or PowerSGD, got {type(compressor).__name__}"
    )


@dataclass(frozen=True, eq=False)
class ErrorTable:
    """One layer's options: ``compressors[i]`` costs ``bits[i]`` and gives ``errors[i]``.

    Feed the tables of all layers to :func:`infokit.lowrank.allocate_ranks` as
    ``curves=[t.errors for t in tables], sizes=[t.bits for t in tables]`` to choose one option
    per layer within a total bit budget (L-GreCo, P26).
    """

    compressors: tuple[Compressor, ...]
    errors: np.ndarray
    bits: np.ndarray


def error_table(x: Any, compressors: Any, *, seed: Any = None) -> ErrorTable:
    """Expected squared error (:func:`expected_error`) and exact payload bits of each candidate
    compressor on one layer's array ``x``. O(d) per candidate."""
    arr = _as_real(x)
    cands = tuple(compressors)
    if not cands or not all(isinstance(c, Compressor) for c in cands):
        raise TypeError("compressors must be a non-empty sequence of TopK, RandK, QSGD, PowerSGD")
    errors = np.array([expected_error(arr, c, seed=seed) for c in cands])
    bits = np.array([c.payload_bits(arr.shape, arr.dtype) for c in cands], dtype=np.int64)
    return ErrorTable(cands, errors, bits)


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class CompressorReport:
    """What a payload costs and how far its reconstruction is from x.

    Attributes: ``method``, ``shape``, ``dtype``, ``bits`` (metadata included),
    ``bits_per_element``, ``compression_ratio``, ``relative_error`` ``‖x̂ − x‖/‖x‖``,
    ``energy_kept`` ``‖x̂‖²/‖x‖²`` (for sparsifiers: the share of energy sent),
    ``unbiased``, ``omega``, ``delta``.
    """

    method: str
    shape: tuple[int, ...]
    dtype: str
    bits: int
    bits_per_element: float
    compression_ratio: float
    relative_error: float
    energy_kept: float
    unbiased: bool
    omega: float | None
    delta: float | None

    def __repr__(self) -> str:
        return (
            f"CompressorReport({self.method}: {'×'.join(map(str, self.shape))} {self.dtype}, "
            f"{self.bits_per_element:.4g} bits/element, {self.compression_ratio:.3g}× smaller, "
            f"rel. error {_fmt(self.relative_error)})"
        )

    def __str__(self) -> str:
        rows = [
            ("method", self.method),
            ("shape / dtype", f"{'×'.join(map(str, self.shape))} {self.dtype}"),
            ("bits (incl. metadata)", str(self.bits)),
            ("bits per element", f"{self.bits_per_element:.6g}"),
            ("compression ratio", f"{self.compression_ratio:.4g}×"),
            ("relative error", _fmt(self.relative_error)),
            ("energy kept", _fmt(self.energy_kept)),
            ("unbiased", str(self.unbiased)),
            ("omega (variance factor)", _fmt(self.omega)),
            ("delta (contraction)", _fmt(self.delta)),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def report(x: Any, payload: Payload) -> CompressorReport:
    """Size and error of ``payload`` as a compression of ``x`` (norms accumulated in double)."""
    if not isinstance(payload, Payload):
        raise TypeError(f"payload must be a compressor payload, got {type(payload).__name__}")
    arr = _as_real(x)
    if arr.shape != payload.shape:
        raise ValueError(f"x must have the payload's shape {payload.shape}, got {arr.shape}")
    ref = arr.reshape(-1).astype(np.float64, copy=False)
    rec = payload.decode().astype(np.float64, copy=False).reshape(-1)
    total = float(ref @ ref)
    err = float(np.linalg.norm(rec - ref))
    return CompressorReport(
        method=payload.method,
        shape=payload.shape,
        dtype=str(payload.dtype),
        bits=payload.bits,
        bits_per_element=payload.bits_per_element,
        compression_ratio=payload.compression_ratio,
        relative_error=err / math.sqrt(total) if total > 0 else (0.0 if err == 0 else math.inf),
        energy_kept=float(rec @ rec) / total if total > 0 else 1.0,
        unbiased=payload.unbiased,
        omega=payload.omega,
        delta=payload.delta,
    )
