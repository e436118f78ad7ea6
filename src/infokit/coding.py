"""Entropy coding: interleaved rANS and a range coder, vectorised models, bit-exact streams.

Models (parameters are numpy arrays broadcast against the symbols, never Python callbacks):
:class:`Categorical`, :class:`CdfTable` (CompressAI's indexed integer CDF rows),
:class:`QuantizedGaussian`, :class:`QuantizedLaplace`, :class:`QuantizedLogistic`,
:class:`QuantizedCauchy` and :class:`Mixture` of those families. :func:`encode` turns integer
symbols into bytes (an :class:`Encoded` that also reports the bits against :func:`ideal_bits`);
:func:`decode` turns them back. For autoregressive models, :class:`RansEncoder` /
:class:`RansDecoder` (a stack) and :class:`RangeEncoder` / :class:`RangeDecoder` (a queue) code
block by block, each block with its own model.

How it codes
------------
Every model becomes, per symbol, integer cumulative frequencies ``C(0) = 0 < ... < C(n) = M - 1
< C(n + 1) = M`` with ``M = 2**precision`` over its ``n`` symbols ``low..high`` plus an escape
bin: ``C(k) = k + floor((M - n - 1) G(k))`` with ``G`` the model's CDF at the bin edge
``low + k - 1/2`` (tails folded into the end bins) or the categorical cumulative probability. So
every in-range symbol has probability at least ``1/M`` and the frequencies always sum to ``M``.
A value outside ``[low, high]`` is never an error: it takes the escape bin, then an 8-bit header
(side and bit length of the excess) and the excess in 16-bit chunks.

The default coder is rANS (J. Duda, 2013, "Asymmetric numeral systems", arXiv:1311.2540) with 8
interleaved 64-bit states over one stream of 32-bit words (F. Giesen, 2014, "Interleaved entropy
coders", arXiv:1402.3392); encoding costs O(1) per symbol plus the model's CDF, decoding O(1)
for a static :class:`Categorical` or :class:`CdfTable` row (bucket tables) and about two CDF
evaluations for the parametric families (a quantile guess corrected on the integer CDF). The
range coder (G. N. N. Martin, 1979, "Range encoding") keeps one 64-bit low and range.

Fixed costs: a 12-byte header (16 bytes above 2^21 symbols). rANS (stream version 2) runs its
last 256 symbols on one lane started at state 1, which costs about a symbol's worth of precision
once; the other 7 lanes start from words that lane began the stream with ("bits back", under a
bit each), their final states are pushed into lane 0 with their bit lengths (about 4.5 bits
each) and lane 0 is flushed in one or two words (about 16 bits of rounding). The range coder
adds its final 8 bytes. At 10^6 symbols of 2-3 bits this framing is under 0.01 % of the stream
(version 1's framing, 20 bytes and eight raw 64-bit states, was about 0.02 %); the per-symbol
cost of quantizing at 24 bits is about 1e-4 bits.

Determinism
-----------
Streams are bit-exact across machines: the parametric CDFs come from integer tables of the
standard distributions (``infokit._coding_tables``) interpolated in integer arithmetic, the
only floating-point steps are IEEE ``+ - * /`` and ``floor`` (exact or correctly rounded
everywhere; the C++ is built with ``-ffp-contract=off``), and no other libm function takes part.
The pure-Python twin ``infokit._reference.coding`` writes the same bytes; golden streams in the
tests pin them. Streams longer than ``CHUNK`` (2^22) symbols are cut into chunks of that length,
coded independently on ``infokit.get_num_threads()`` threads; the cut depends on the length
alone, so the bytes never depend on the thread count.

Stream format (little-endian)
-----------------------------
``b"IK"``, version (1 byte, now 2), coder and precision (1 byte: bit 0 the coder, 0 = rANS,
1 = range; bits 1-5 the precision; bit 7 set for a chunked stream), model tag (1 byte, 0 for
blocks of several models), symbol count (LEB128 varint), zero bytes up to a multiple of 4 with
the CRC-32 of everything else (4 bytes) that follows: 12 bytes up to 2^21 symbols, 16 up to
2^49. Then the 32-bit words (for a chunked stream: the chunk length, each chunk's word count,
then the chunks); the rANS words' own layout is described in ``rans.hpp``. A damaged stream, a
stream of another version (version 1 streams, with their ``b"IKEC"`` header, are rejected by
name: re-encode them), or a different model raises ``ValueError``; decoding never reads out of
bounds and always terminates.
"""

from __future__ import annotations

import functools
import math
import numbers
import struct
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import scipy.special

from . import _backend
from ._reference import coding as _ref
from ._threads import get_num_threads
from ._validation import check_choice

__all__ = [
    "Categorical",
    "CdfTable",
    "Encoded",
    "Mixture",
    "Model",
    "QuantizedCauchy",
    "QuantizedGaussian",
    "QuantizedLaplace",
    "QuantizedLogistic",
    "RangeDecoder",
    "RangeEncoder",
    "RansDecoder",
    "RansEncoder",
    "bits",
    "decode",
    "encode",
    "ideal_bits",
    "log_likelihood",
]

MAGIC = b"IK"
VERSION = 2  # 1: b"IKEC" and a 20-byte header, rANS lanes starting at L, 64-bit state flushes
_V1_MAGIC = b"IKEC"
CODERS = {"rans": 0, "range": 1}
_STREAM_CLASSES = {0: "Rans", 1: "Range"}
DEFAULT_PRECISION = 24
MIN_PRECISION, MAX_PRECISION = _ref.MIN_PRECISION, _ref.MAX_PRECISION
_MAX_COUNT = (1 << 63) - 1
_LIMIT = 1 << 52  # low and high must be exact as doubles
_LN2 = math.log(2.0)

Array = npt.NDArray[Any]
Symbols = npt.NDArray[np.signedinteger[Any]]  # int64, or int32 read in place


def _crc32(data: Any, value: int = 0) -> int:
    """zlib.crc32, through the compiled slicing-by-8 loop when it is built (same values)."""
    core = _backend.compiled("_core")
    return int(core.crc32(data, value)) if core is not None else zlib.crc32(data, value)


def _kernels(backend: str) -> Any:
    if _backend.resolve(backend) == "cpp":
        return _backend.compiled("_core")
    return _ref


# --- argument checks ----------------------------------------------------------------------------


def _real_array(x: Any, name: str) -> npt.NDArray[np.float64]:
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real array, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return a


def _bound(x: Any, name: str) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(x).__name__}")
    if not -_LIMIT <= int(x) <= _LIMIT:
        raise ValueError(f"{name} must lie within +-2**52, got {x}")
    return int(x)


def _symbols(x: Any) -> Symbols:
    a = np.asarray(x)
    if a.dtype.kind not in "iub":
        raise TypeError(f"symbols must be an integer array, got dtype {a.dtype}")
    if a.dtype.kind == "u" and a.size and int(a.max()) > np.iinfo(np.int64).max:
        raise ValueError("symbols must fit in int64, got a value above 2**63 - 1")
    if a.dtype == np.int32:
        return np.ascontiguousarray(a)  # the C++ coders read int32 symbols in place
    return np.asarray(a, dtype=np.int64)  # no copy when already int64


def _precision(p: Any) -> int:
    if isinstance(p, bool) or not isinstance(p, numbers.Integral):
        raise TypeError(f"precision must be an int, got {type(p).__name__}")
    if not MIN_PRECISION <= int(p) <= MAX_PRECISION:
        raise ValueError(f"precision must be in [{MIN_PRECISION}, {MAX_PRECISION}], got {p}")
    return int(p)


def _fit(shape: tuple[int, ...], symbols_shape: tuple[int, ...], what: str) -> None:
    """Parameters broadcast against the symbols without enlarging them."""
    try:
        out = np.broadcast_shapes(shape, symbols_shape)
    except ValueError:
        out = None
    if out != symbols_shape:
        raise ValueError(
            f"the model's {what} of shape {shape} do not broadcast against symbols of shape "
            f"{symbols_shape}"
        )


def _flat(a: Array, shape: tuple[int, ...]) -> npt.NDArray[np.float64]:
    """One value shared (length 1, the kernels' stride 0) or one per symbol, C order."""
    if a.size == 1:
        return np.ascontiguousarray(a.reshape(1), dtype=np.float64)
    return np.ascontiguousarray(np.broadcast_to(a, shape).reshape(-1), dtype=np.float64)


# --- models -------------------------------------------------------------------------------------


class Model:
    """Base of the models: what a coder needs to quantize a distribution per symbol."""

    tag: ClassVar[int]

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The shape of the per-symbol parameters, or None for one distribution shared by all."""
        raise NotImplementedError

    def _check_precision(self, precision: int) -> None:
        raise NotImplementedError

    def _block(self, shape: tuple[int, ...]) -> tuple[str, tuple[Any, ...]]:
        """The kernel method suffix and the model's arguments for a block of ``shape``."""
        raise NotImplementedError

    # Positions in ``_block``'s arguments of per-symbol arrays (one row per symbol, or a single
    # shared row), cut along with the symbols when a long stream is coded in chunks.
    _per_symbol: tuple[int, ...] = ()

    def _log2_prob(self, symbols: Symbols) -> npt.NDArray[np.float64]:
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class Categorical(Model):
    """A categorical distribution over the symbols ``0..K-1``.

    Parameters
    ----------
    probs : array_like, shape (K,) or (..., K)
        Non-negative finite probabilities (or weights: each row is divided by its sum). A 1-D
        row is shared by every symbol and decodes through an O(1) bucket table; an N-D array
        gives one row per symbol, its leading axes broadcast against the symbols.
    """

    probs: Array
    tag: ClassVar[int] = 1

    def __post_init__(self) -> None:
        p = _real_array(self.probs, "probs")
        if p.ndim == 0 or p.shape[-1] == 0:
            raise ValueError(f"probs must have at least one entry on its last axis, got {p.shape}")
        if (p < 0).any():
            raise ValueError("probs must be non-negative, got a negative entry")
        if (p.sum(axis=-1) <= 0).any():
            raise ValueError("probs must have a positive sum in every row, got a row of zeros")
        if p.shape[-1] > (1 << 22):
            raise ValueError(f"probs may have at most 2**22 symbols, got {p.shape[-1]}")
        object.__setattr__(self, "probs", np.ascontiguousarray(p))

    @property
    def shape(self) -> tuple[int, ...] | None:
        return None if self.probs.ndim == 1 else self.probs.shape[:-1]

    def _check_precision(self, precision: int) -> None:
        if self.probs.shape[-1] + 2 >= 1 << precision:
            raise ValueError(f"precision={precision} is too low for {self.probs.shape[-1]} symbols")

    @property
    def _per_symbol(self) -> tuple[int, ...]:  # type: ignore[override]
        return () if self.probs.ndim == 1 else (0,)  # the rows, not a shared distribution

    def _block(self, shape: tuple[int, ...]) -> tuple[str, tuple[Any, ...]]:
        if self.probs.ndim == 1:
            return "categorical", (self.probs,)
        return "rows", (self._rows(shape),)

    def _rows(self, shape: tuple[int, ...]) -> npt.NDArray[np.float64]:
        K = self.probs.shape[-1]
        return np.ascontiguousarray(np.broadcast_to(self.probs, (*shape, K)).reshape(-1, K))

    def _log2_prob(self, symbols: Symbols) -> npt.NDArray[np.float64]:
        p = self.probs / self.probs.sum(axis=-1, keepdims=True)
        K = p.shape[-1]
        inside = (symbols >= 0) & (symbols < K)
        idx = np.where(inside, symbols, 0)
        rows = np.broadcast_to(p, (*symbols.shape, K))
        q = np.take_along_axis(rows, idx[..., None], axis=-1)[..., 0]
        with np.errstate(divide="ignore"):
            return np.where(inside, np.log2(q), -np.inf)


@dataclass(frozen=True, eq=False)
class CdfTable(Model):
    """Rows of integer cumulative counts, one row chosen per symbol (CompressAI's layout).

    Parameters
    ----------
    cdfs : array_like of ints, shape (R, L)
        Row r is non-decreasing over its first ``lengths[r]`` entries; symbol ``s`` of the row
        (value ``offsets[r] + s``) has weight ``cdfs[r, s + 1] - cdfs[r, s]``. Rows of a
        different precision (16-bit CompressAI tables, say) are re-quantized to the coder's, every
        symbol keeping at least one count.
    index : array_like of ints
        The row of each symbol, broadcast against the symbols (a scalar: one row for all).
    offsets : array_like of ints, shape (R,), optional
        The value of each row's first symbol (default 0).
    lengths : array_like of ints, shape (R,), optional
        How many entries of each row are used, 2..L (default L): rows of different sizes padded.

    Each row decodes through its own O(1) bucket table.
    """

    cdfs: Array
    index: Array
    offsets: Array | None = None
    lengths: Array | None = None
    tag: ClassVar[int] = 2
    _weights: Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        cdfs = np.asarray(self.cdfs)
        if cdfs.dtype.kind not in "iu":
            raise TypeError(f"cdfs must be an integer array, got dtype {cdfs.dtype}")
        if cdfs.ndim != 2 or cdfs.shape[1] < 2 or cdfs.shape[0] < 1:
            raise ValueError(f"cdfs must have shape (R, L) with L >= 2, got {cdfs.shape}")
        R, L = cdfs.shape
        lengths = np.full(R, L, np.int64) if self.lengths is None else np.asarray(self.lengths)
        offsets = np.zeros(R, np.int64) if self.offsets is None else np.asarray(self.offsets)
        index = np.asarray(self.index)
        for name, a in (("lengths", lengths), ("offsets", offsets), ("index", index)):
            if a.dtype.kind not in "iu":
                raise TypeError(f"{name} must be an integer array, got dtype {a.dtype}")
        if lengths.shape != (R,) or offsets.shape != (R,):
            raise ValueError(f"lengths and offsets must have shape ({R},), one entry per row")
        if ((lengths < 2) | (lengths > L)).any():
            raise ValueError(f"lengths must be in [2, {L}], got {lengths.min()}..{lengths.max()}")
        if ((index < 0) | (index >= R)).any():
            raise ValueError(f"index must be in [0, {R}), got a value outside")
        if (np.abs(offsets) > _LIMIT).any():
            raise ValueError("offsets must lie within +-2**52")
        weights = np.diff(cdfs.astype(np.float64), axis=1)
        used = np.arange(L - 1) < (lengths[:, None] - 1)
        if (weights[used] < 0).any():
            raise ValueError("cdfs rows must be non-decreasing over their lengths")
        weights[~used] = 0.0
        if (weights.sum(axis=1) <= 0).any():
            raise ValueError("every cdfs row must increase somewhere (a positive total)")
        object.__setattr__(self, "cdfs", cdfs)
        object.__setattr__(self, "index", index.astype(np.int64))
        object.__setattr__(self, "offsets", offsets.astype(np.int64))
        object.__setattr__(self, "lengths", lengths.astype(np.int64))
        object.__setattr__(self, "_weights", np.ascontiguousarray(weights))

    @property
    def shape(self) -> tuple[int, ...] | None:
        return None if self.index.ndim == 0 else self.index.shape

    _per_symbol = (3,)  # index

    def _block(self, shape: tuple[int, ...]) -> tuple[str, tuple[Any, ...]]:
        return "tables", self._args(shape)

    def _args(self, shape: tuple[int, ...]) -> tuple[Array, ...]:
        assert self.lengths is not None and self.offsets is not None
        sizes = self.lengths - 1
        index = np.ascontiguousarray(np.broadcast_to(self.index, shape).reshape(-1))
        return self._weights, sizes, self.offsets, index

    def _check_precision(self, precision: int) -> None:
        assert self.lengths is not None
        if int(self.lengths.max()) + 1 >= 1 << precision:
            raise ValueError(f"precision={precision} is too low for rows of {self.lengths.max()}")

    def _log2_prob(self, symbols: Symbols) -> npt.NDArray[np.float64]:
        assert self.lengths is not None and self.offsets is not None
        w = self._weights
        rows = np.broadcast_to(self.index, symbols.shape)
        s = symbols - self.offsets[rows]
        inside = (s >= 0) & (s < self.lengths[rows] - 1)
        q = w[rows, np.where(inside, s, 0)] / w.sum(axis=1)[rows]
        with np.errstate(divide="ignore"):
            return np.where(inside, np.log2(q), -np.inf)


def _log_cdf(family: int, u: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """log F(u) of the standard family, accurate in the lower tail."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if family == 0:
            return np.asarray(scipy.special.log_ndtr(u), dtype=np.float64)
        if family == 1:
            return np.where(u < 0, math.log(0.5) + u, np.log1p(-0.5 * np.exp(-np.abs(u))))
        if family == 2:
            return -np.logaddexp(0.0, -u)
        far = np.log(np.arctan(-1.0 / np.where(u < -1, u, -2.0)) / math.pi)
        return np.where(u < -1, far, np.log(0.5 + np.arctan(u) / math.pi))


def _log_bin(family: int, a: Array, b: Array) -> npt.NDArray[np.float64]:
    """log(F(b) - F(a)) for a < b, evaluated on the side of the smaller tail (F(-u) = 1 - F(u))."""
    flip = (a + b) > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    log_hi = _log_cdf(family, hi)
    log_lo = _log_cdf(family, lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = log_hi + np.log1p(-np.exp(log_lo - log_hi))
    return np.where(log_hi == -np.inf, -np.inf, out)


@dataclass(frozen=True, eq=False)
class _Quantized(Model):
    """A continuous family discretised on the integers ``low..high``."""

    mean: Array
    scale: Array
    low: int
    high: int
    family: ClassVar[int] = 0

    def __post_init__(self) -> None:
        mean = _real_array(self.mean, "mean")
        scale = _real_array(self.scale, "scale")
        if (scale <= 0).any():
            raise ValueError("scale must be > 0, got a value <= 0")
        try:
            np.broadcast_shapes(mean.shape, scale.shape)
        except ValueError:
            raise ValueError(
                f"mean of shape {mean.shape} and scale of shape {scale.shape} do not broadcast"
            ) from None
        low, high = _bound(self.low, "low"), _bound(self.high, "high")
        if low > high:
            raise ValueError(f"low must be <= high, got low={low}, high={high}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def shape(self) -> tuple[int, ...] | None:
        s = np.broadcast_shapes(self.mean.shape, self.scale.shape)
        return None if s == () else s

    def _check_precision(self, precision: int) -> None:
        if self.high - self.low + 2 >= 1 << precision:
            raise ValueError(
                f"precision={precision} is too low for the {self.high - self.low + 1} symbols "
                f"low..high"
            )

    _per_symbol = (1, 2)  # mean, scale

    def _block(self, shape: tuple[int, ...]) -> tuple[str, tuple[Any, ...]]:
        m, s = _flat(self.mean, shape), _flat(self.scale, shape)
        return "parametric", (self.family, m, s, self.low, self.high)

    def _log2_prob(self, symbols: Symbols) -> npt.NDArray[np.float64]:
        x = symbols.astype(np.float64)
        a = (x - 0.5 - self.mean) / self.scale
        b = (x + 0.5 - self.mean) / self.scale
        return _log_bin(self.family, a, b) / _LN2


_FAMILY_DOC = """A {name} of location ``mean`` and scale ``scale`` quantized to the integers.

    Symbol ``v`` in ``[low, high]`` has the probability of ``[v - 1/2, v + 1/2)`` under the
    continuous {name} ({formula}), with the tails below ``low`` and above ``high`` folded into
    the end bins; a value outside ``[low, high]`` is escape-coded. ``mean`` and ``scale`` are
    real arrays broadcast against the symbols (``scale > 0``); ``low <= high`` are ints.
    """

_FORMULAS = {
    "Gaussian": "CDF Phi((x - mean) / scale)",
    "Laplace": "density exp(-|x - mean| / scale) / (2 scale)",
    "logistic": "CDF 1 / (1 + exp(-(x - mean) / scale))",
    "Cauchy": "CDF 1/2 + arctan((x - mean) / scale) / pi",
}


@dataclass(frozen=True, eq=False)
class QuantizedGaussian(_Quantized):
    family: ClassVar[int] = 0
    tag: ClassVar[int] = 16


@dataclass(frozen=True, eq=False)
class QuantizedLaplace(_Quantized):
    family: ClassVar[int] = 1
    tag: ClassVar[int] = 17


@dataclass(frozen=True, eq=False)
class QuantizedLogistic(_Quantized):
    family: ClassVar[int] = 2
    tag: ClassVar[int] = 18


@dataclass(frozen=True, eq=False)
class QuantizedCauchy(_Quantized):
    family: ClassVar[int] = 3
    tag: ClassVar[int] = 19


for _cls, _name in [
    (QuantizedGaussian, "Gaussian"),
    (QuantizedLaplace, "Laplace"),
    (QuantizedLogistic, "logistic"),
    (QuantizedCauchy, "Cauchy"),
]:
    _cls.__doc__ = _FAMILY_DOC.format(name=_name, formula=_FORMULAS[_name])


@dataclass(frozen=True, eq=False)
class Mixture(Model):
    """A mixture of quantized families sharing ``low..high``: ``G = sum_j w_j G_j``.

    Parameters
    ----------
    components : sequence of QuantizedGaussian, QuantizedLaplace, QuantizedLogistic, QuantizedCauchy
        1 to 16 components with the same ``low`` and ``high``.
    weights : array_like, shape (..., K)
        Non-negative weights per component (each row divided by its sum; quantized to 16-bit
        integers for coding), leading axes broadcast against the symbols.
    """

    components: Sequence[_Quantized]
    weights: Array
    tag: ClassVar[int] = 32
    _means: Array = field(init=False, repr=False)
    _scales: Array = field(init=False, repr=False)
    _lead: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        comps = tuple(self.components)
        if not 1 <= len(comps) <= 16:
            raise ValueError(f"components must hold 1 to 16 models, got {len(comps)}")
        for c in comps:
            if not isinstance(c, _Quantized):
                raise TypeError(f"components must be Quantized* models, got {type(c).__name__}")
        if len({(c.low, c.high) for c in comps}) != 1:
            raise ValueError("components must share the same low and high")
        w = _real_array(self.weights, "weights")
        if w.ndim == 0 or w.shape[-1] != len(comps):
            raise ValueError(
                f"weights must have shape (..., {len(comps)}) (one per component), got {w.shape}"
            )
        if (w < 0).any():
            raise ValueError("weights must be non-negative, got a negative entry")
        if (w.sum(axis=-1) <= 0).any():
            raise ValueError("weights must have a positive sum in every row, got a row of zeros")
        try:
            lead = np.broadcast_shapes(w.shape[:-1], *(c.shape or () for c in comps))
        except ValueError:
            raise ValueError(
                "the components' parameters and the weights do not broadcast"
            ) from None
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "weights", w)
        object.__setattr__(
            self, "_means", np.stack([np.broadcast_to(c.mean, lead) for c in comps], axis=-1)
        )
        object.__setattr__(
            self, "_scales", np.stack([np.broadcast_to(c.scale, lead) for c in comps], axis=-1)
        )
        object.__setattr__(self, "_lead", lead)

    @property
    def low(self) -> int:
        return self.components[0].low

    @property
    def high(self) -> int:
        return self.components[0].high

    @property
    def shape(self) -> tuple[int, ...] | None:
        return None if self._lead == () else self._lead

    def _args(self, shape: tuple[int, ...]) -> tuple[Array, ...]:
        K = len(self.components)
        fam = np.array([c.family for c in self.components], dtype=np.int32)
        if self.shape is None:
            rows = [a.reshape(1, K) for a in (self._means, self._scales, self.weights)]
        else:
            rows = [
                np.broadcast_to(a, (*shape, K)).reshape(-1, K)
                for a in (self._means, self._scales, self.weights)
            ]
        return (fam, *(np.ascontiguousarray(r, dtype=np.float64) for r in rows))

    def _check_precision(self, precision: int) -> None:
        if self.high - self.low + 2 >= 1 << precision:
            raise ValueError(f"precision={precision} is too low for the symbols low..high")

    _per_symbol = (1, 2, 3)  # means, scales, weights

    def _block(self, shape: tuple[int, ...]) -> tuple[str, tuple[Any, ...]]:
        return "mixture", (*self._args(shape), self.low, self.high)

    def _log2_prob(self, symbols: Symbols) -> npt.NDArray[np.float64]:
        w = self.weights / self.weights.sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore"):
            logw = np.log(w)
        terms = [logw[..., j] + c._log2_prob(symbols) * _LN2 for j, c in enumerate(self.components)]
        return np.asarray(scipy.special.logsumexp(np.stack(terms), axis=0) / _LN2)


# --- encode / decode ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoded:
    """A coded stream and what it cost.

    Attributes
    ----------
    data : bytes
        The self-describing stream (header, checksum, 32-bit words).
    count : int
        Symbols coded.
    bits : int
        ``8 * len(data)``: everything, header and final coder states included.
    ideal_bits : float
        ``sum -log2 p(symbol)`` under the continuous model (see :func:`ideal_bits`), computed
        on first access (it costs more than the coding itself).
    overhead : float
        ``bits / ideal_bits - 1``, the relative cost over the ideal code length (NaN when the
        ideal is infinite: a categorical symbol of probability 0 or out of range, escaped).
    """

    data: bytes = field(repr=False)
    count: int
    bits: int
    _ideal: Callable[[], float] = field(repr=False, compare=False)

    @functools.cached_property
    def ideal_bits(self) -> float:
        return self._ideal()

    @property
    def overhead(self) -> float:
        ideal = self.ideal_bits
        return self.bits / ideal - 1.0 if 0 < ideal < math.inf else math.nan

    def __repr__(self) -> str:
        return (
            f"Encoded(count={self.count}, bits={self.bits}, ideal_bits={self.ideal_bits:.1f}, "
            f"overhead={self.overhead:.3e})"
        )

    def __bytes__(self) -> bytes:
        return self.data


def _check_model(model: Any) -> Model:
    if not isinstance(model, Model):
        raise TypeError(f"model must be an infokit.coding model, got {type(model).__name__}")
    return model


def _symbol_shape(model: Model, symbols: Array) -> tuple[int, ...]:
    shape = model.shape
    if shape is not None:
        _fit(shape, symbols.shape, "parameters")
    return tuple(symbols.shape)


def bits(symbols: Any, model: Model) -> npt.NDArray[np.float64]:
    """Per-symbol ideal code lengths ``-log2 p(symbol)`` in bits under the continuous model.

    For the quantized families ``p(v) = F((v + 1/2 - mean)/scale) - F((v - 1/2 - mean)/scale)``
    evaluated in the smaller tail (accurate far out); for a mixture ``sum_j w_j p_j(v)``; for a
    categorical ``probs[v] / sum(probs)``, ``inf`` for a symbol outside ``0..K-1`` or of
    probability 0. Values outside ``[low, high]`` get their unfolded bin probability. This is the
    training-time rate of quantized latents (differentiate it in your framework); cost O(n).
    """
    model = _check_model(model)
    s = _symbols(symbols)
    _symbol_shape(model, s)
    return -model._log2_prob(s)


def log_likelihood(symbols: Any, model: Model) -> npt.NDArray[np.float64]:
    """Per-symbol ``log p(symbol)`` in nats under the continuous model: ``-ln 2 * bits``.

    The training-time rate term of quantized latents (P13, P25, P47); see :func:`bits`.
    """
    return -bits(symbols, model) * _LN2


def ideal_bits(symbols: Any, model: Model) -> float:
    """``sum -log2 p(symbol)``: the ideal code length in bits (see :func:`bits`)."""
    return float(np.sum(bits(symbols, model)))


def encode(
    symbols: Any,
    model: Model,
    *,
    coder: str = "rans",
    precision: int = DEFAULT_PRECISION,
    backend: str = "auto",
) -> Encoded:
    """Entropy-code integer ``symbols`` under ``model`` into a self-describing stream.

    Parameters
    ----------
    symbols : array_like of ints, any shape
        Coded in C order. Values outside the model's range take the escape path.
    model : Model
        Its parameters broadcast against ``symbols`` (they may not enlarge it).
    coder : {"rans", "range"}
        ``"rans"``: interleaved rANS (8 states of 64 bits, 32-bit words), the fastest.
        ``"range"``: a range coder (64-bit low and range, 32-bit words), a queue.
    precision : int, default 24
        Probabilities are multiples of ``2**-precision`` (16 to 30). Every in-range symbol keeps
        at least ``2**-precision``.
    backend : {"auto", "cpp", "numpy"}
        The C++ coder or its pure-Python twin (same bytes, slow).

    Returns
    -------
    Encoded
        ``data`` (bytes), ``bits``, ``ideal_bits`` and ``overhead``.

    Cost: O(n) times the model's CDF evaluation (two per symbol for the parametric families, a
    table lookup for a shared categorical); chunks of 2^22 symbols run on infokit's threads.
    """
    model = _check_model(model)
    check_choice(coder, "coder", CODERS)
    precision = _precision(precision)
    s = _symbols(symbols)
    shape = _symbol_shape(model, s)
    model._check_precision(precision)
    kernels, code = _kernels(backend), CODERS[coder]
    ideal = _ideal_of([(model, s)])
    if s.size <= CHUNK:
        enc = getattr(kernels, f"{_STREAM_CLASSES[code]}StreamEncoder")(precision)
        _push(enc, model, s, shape)
        return _seal(enc.finish(), code, precision, model.tag, s.size, ideal)
    words = _encode_chunks(kernels, code, model, s, shape, precision)
    return _seal(words, code | _CHUNKED, precision, model.tag, s.size, ideal)


# Streams longer than CHUNK symbols are cut into chunks of CHUNK symbols, each coded on its own
# (its own coder states) so that chunks encode and decode in parallel threads. The cut depends
# on the length only, never on the thread count: the bytes are the same for any thread count.
# Payload of a chunked stream: the chunk length in symbols, the word count of each chunk, then
# the chunks' words. A chunk costs 8 more coder states and a word: about 500 bits, 0.002 % of
# 2^22 symbols at 5 bits each.
CHUNK = 1 << 22
_CHUNKED = 0x80  # flag in the coder byte


def _chunks(count: int, chunk: int) -> list[tuple[int, int]]:
    return [(a, min(a + chunk, count)) for a in range(0, count, chunk)]


def _cut(model: Model, args: tuple[Any, ...], a: int, b: int) -> tuple[Any, ...]:
    out = list(args)
    for i in model._per_symbol:
        if isinstance(out[i], np.ndarray) and out[i].ndim >= 1 and out[i].shape[0] > 1:
            out[i] = out[i][a:b]
    return tuple(out)


def _map(func: Callable[[int], Any], n: int) -> list[Any]:
    """func(0), ..., func(n - 1) on infokit's threads (the kernels release the GIL)."""
    n_threads = min(get_num_threads(), n)
    if n_threads <= 1:
        return [func(t) for t in range(n)]
    with ThreadPoolExecutor(n_threads) as pool:
        return list(pool.map(func, range(n)))


def _encode_chunks(
    kernels: Any,
    code: int,
    model: Model,
    s: Symbols,
    shape: tuple[int, ...],
    precision: int,
) -> list[npt.NDArray[np.uint32]]:
    name, args = model._block(shape)
    flat = np.ascontiguousarray(s.reshape(-1))
    parts = _chunks(flat.size, CHUNK)

    def one(t: int) -> npt.NDArray[np.uint32]:
        a, b = parts[t]
        enc = getattr(kernels, f"{_STREAM_CLASSES[code]}StreamEncoder")(precision)
        getattr(enc, f"encode_{name}")(*_cut(model, args, a, b), flat[a:b])
        return np.asarray(enc.finish(), dtype=np.uint32)

    words = _map(one, len(parts))
    table = np.array([CHUNK] + [w.size for w in words], dtype=np.uint32)
    return [table, *words]  # joined once, into the stream's bytes


def _decode_chunks(
    kernels: Any,
    code: int,
    model: Model,
    words: npt.NDArray[np.uint32],
    count: int,
    shape: tuple[int, ...],
    precision: int,
) -> npt.NDArray[np.int64]:
    if words.size < 1 or int(words[0]) < 1:
        raise ValueError("the stream's chunk table is damaged")
    parts = _chunks(count, int(words[0]))
    sizes = words[1 : 1 + len(parts)].astype(np.int64)
    if sizes.size != len(parts) or 1 + len(parts) + int(sizes.sum()) != words.size:
        raise ValueError("the stream's chunk table does not match its words (corrupt stream)")
    starts = 1 + len(parts) + np.concatenate([[0], np.cumsum(sizes)])
    name, args = model._block(shape)
    out = np.empty(count, dtype=np.int64)

    def one(t: int) -> None:
        a, b = parts[t]
        chunk = words[starts[t] : starts[t + 1]]
        dec = getattr(kernels, f"{_STREAM_CLASSES[code]}StreamDecoder")(chunk, b - a, precision)
        getattr(dec, f"decode_{name}")(*_cut(model, args, a, b), b - a, out=out[a:b])
        dec.finish()

    _map(one, len(parts))
    return out.reshape(shape)


def _ideal_of(blocks: list[tuple[Model, Symbols]]) -> Callable[[], float]:
    return lambda: float(sum(np.sum(-m._log2_prob(s)) for m, s in blocks))


def _push(enc: Any, model: Model, s: Symbols, shape: tuple[int, ...]) -> None:
    name, args = model._block(shape)
    getattr(enc, f"encode_{name}")(*args, np.ascontiguousarray(s.reshape(-1)))


def _pop(dec: Any, model: Model, shape: tuple[int, ...]) -> npt.NDArray[np.int64]:
    name, args = model._block(shape)
    out: npt.NDArray[np.int64] = getattr(dec, f"decode_{name}")(*args, math.prod(shape))
    return out.reshape(shape)


def _seal(
    words: Any, coder: int, precision: int, tag: int, count: int, ideal: Callable[[], float]
) -> Encoded:
    """Header, checksum and words: the stream, and (lazily) what it cost against the ideal.

    ``words``: an array of words, or a list of them (the parts of a chunked stream), copied once,
    into the stream's bytes."""
    parts = words if isinstance(words, list) else [words]
    payload = [np.ascontiguousarray(w, dtype="<u4").data for w in parts]  # memoryviews: no copy
    packed = coder | precision << 1  # the coder in bit 0, the chunk flag in bit 7
    head = MAGIC + bytes([VERSION, packed, tag]) + _varint(count)
    head += bytes(-(len(head) + 4) % 4)  # zeros: the words start 4-byte aligned
    crc = _crc32(head)
    for part in payload:
        crc = _crc32(part, crc)
    data = b"".join((head, struct.pack("<I", crc), *payload))
    return Encoded(data=data, count=count, bits=8 * len(data), _ideal=ideal)


_TAG_NAMES = {0: "streamed", 1: "Categorical", 2: "CdfTable", 32: "Mixture"} | {
    16 + c.family: c.__name__
    for c in (QuantizedGaussian, QuantizedLaplace, QuantizedLogistic, QuantizedCauchy)
}


def _varint(n: int) -> bytes:
    """n in LEB128: 7 bits a byte, low first, bit 7 set on every byte but the last."""
    out = bytearray()
    while n >= 0x80:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


_MIN_HEADER = 12  # magic, version, coder, tag, a 1- to 3-byte count (padded), CRC


def _read_header(data: Any) -> tuple[int, int, int, int, memoryview]:
    if isinstance(data, Encoded):
        data = data.data
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes (or an Encoded), got {type(data).__name__}")
    raw = memoryview(data).cast("B")  # no copy of the payload
    if len(raw) < _MIN_HEADER:
        raise ValueError(f"data is not an infokit stream: {len(raw)} bytes, shorter than a header")
    if bytes(raw[:4]) == _V1_MAGIC:
        raise ValueError(
            f"stream version {raw[4]} is not supported (this is version {VERSION}; streams of "
            "version 1, with their b'IKEC' header, came from infokit before its compact "
            "framing: re-encode them)"
        )
    magic, version, packed, tag = bytes(raw[:2]), raw[2], raw[3], raw[4]
    if magic != MAGIC:
        raise ValueError(f"data is not an infokit stream: magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise ValueError(f"stream version {version} is not supported (this is version {VERSION})")
    coder, precision = packed & (_CHUNKED | 1), (packed >> 1) & 0x1F
    if packed & 0x40:
        raise ValueError(f"stream names an unknown coder ({packed})")
    if not MIN_PRECISION <= precision <= MAX_PRECISION:
        raise ValueError(f"stream precision {precision} is out of range (corrupt header)")
    count, at = 0, 5
    while True:  # the varint count, at most 9 bytes (63 bits)
        if at >= len(raw) or at >= 14:
            raise ValueError("stream header's symbol count is damaged (corrupt or truncated)")
        count |= (raw[at] & 0x7F) << (7 * (at - 5))
        at += 1
        if not raw[at - 1] & 0x80:
            break
    size = at + (-(at + 4) % 4) + 4
    if len(raw) < size or any(raw[at : size - 4]) or count > _MAX_COUNT:
        raise ValueError("stream header is damaged (corrupt or truncated)")
    (crc,) = struct.unpack_from("<I", raw, size - 4)
    payload = raw[size:]
    if len(payload) % 4:
        raise ValueError("stream payload is not whole 32-bit words (truncated or corrupt)")
    if _crc32(payload, _crc32(raw[: size - 4])) != crc:
        raise ValueError("stream checksum mismatch: the data is corrupt or truncated")
    return coder, precision, tag, count, payload


def _words(payload: memoryview) -> npt.NDArray[np.uint32]:
    """The payload as native uint32 words, without a copy on little-endian machines."""
    return np.frombuffer(payload, dtype="<u4").astype(np.uint32, copy=False)


def decode(data: Any, model: Model, *, backend: str = "auto") -> npt.NDArray[np.int64]:
    """Decode a stream made by :func:`encode` with the same ``model``.

    Returns the symbols as int64, shaped like the model's per-symbol parameters (or 1-D for a
    model shared by all symbols). Raises ``ValueError`` for a corrupt, truncated or foreign
    stream, another version, or a model that does not match the one used to encode (checked by
    the model tag, the symbol count, and the coder states closing exactly at the stream's end).
    Cost: O(n) (a table lookup per symbol for a shared categorical, about two CDF evaluations
    for the parametric families); chunks of 2^22 symbols run on infokit's threads.
    """
    model = _check_model(model)
    coder, precision, tag, count, payload = _read_header(data)
    if tag == STREAM_TAG:
        raise ValueError("the stream mixes models block by block: read it with RansDecoder")
    if tag != model.tag:
        raise ValueError(
            f"the stream was encoded with a {_TAG_NAMES.get(tag, f'tag-{tag}')} model, "
            f"got {type(model).__name__}"
        )
    shape = model.shape
    if shape is None:
        shape = (count,)
    elif math.prod(shape) != count:
        raise ValueError(
            f"the stream holds {count} symbols but the model's parameters have shape {shape}"
        )
    model._check_precision(precision)
    kernels = _kernels(backend)
    if coder & _CHUNKED:
        return _decode_chunks(
            kernels, coder & ~_CHUNKED, model, _words(payload), count, shape, precision
        )
    decoder = getattr(kernels, f"{_STREAM_CLASSES[coder]}StreamDecoder")
    dec = decoder(_words(payload), count, precision)
    out = _pop(dec, model, shape)
    dec.finish()
    return out


STREAM_TAG = 0  # a stream of blocks coded with different models (RansEncoder)


class _StreamEncoder:
    _coder: ClassVar[str]

    def __init__(self, *, precision: int = DEFAULT_PRECISION, backend: str = "auto") -> None:
        self._precision = _precision(precision)
        name = f"{_STREAM_CLASSES[CODERS[self._coder]]}StreamEncoder"
        self._enc = getattr(_kernels(backend), name)(self._precision)
        self._blocks: list[tuple[Model, Symbols]] = []
        self._tags: set[int] = set()
        self._finished = False

    def encode(self, symbols: Any, model: Model) -> None:
        """Code a block of integer symbols (any shape, C order) under ``model``."""
        if self._finished:
            raise ValueError("this encoder has finished; start a new one")
        model = _check_model(model)
        s = _symbols(symbols)
        shape = _symbol_shape(model, s)
        model._check_precision(self._precision)
        _push(self._enc, model, s, shape)
        self._blocks.append((model, s))
        self._tags.add(model.tag)

    def finish(self) -> Encoded:
        """The stream of every block so far; the encoder takes no more blocks."""
        if self._finished:
            raise ValueError("this encoder has finished; start a new one")
        self._finished = True
        tag = next(iter(self._tags)) if len(self._tags) == 1 else STREAM_TAG
        count = int(self._enc.pushed)
        ideal = _ideal_of(self._blocks)
        words = self._enc.finish()
        return _seal(words, CODERS[self._coder], self._precision, tag, count, ideal)


class _StreamDecoder:
    _coder: ClassVar[str]

    def __init__(self, data: Any, *, backend: str = "auto") -> None:
        coder, precision, _tag, count, payload = _read_header(data)
        if coder & _CHUNKED:
            raise ValueError("the stream was coded in parallel chunks by encode(): use decode()")
        if coder != CODERS[self._coder]:
            raise ValueError(
                f"the stream was written by the {_coder_name(coder)} coder; "
                f"read it with {_coder_name(coder).capitalize()}Decoder"
            )
        self._precision = precision
        self._count = count
        name = f"{_STREAM_CLASSES[coder]}StreamDecoder"
        self._dec = getattr(_kernels(backend), name)(_words(payload), count, precision)

    @property
    def remaining(self) -> int:
        """Symbols not decoded yet."""
        return self._count - int(self._dec.popped)

    def decode(self, model: Model, shape: int | tuple[int, ...] | None = None) -> Array:
        """Decode the next block: shaped like ``model``'s per-symbol parameters, or ``shape``
        (needed for a model shared by all symbols). ``ValueError`` if the stream does not
        decode."""
        model = _check_model(model)
        if shape is None:
            if model.shape is None:
                raise ValueError("shape is required for a model shared by all symbols")
            shape = model.shape
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
        if model.shape is not None:
            _fit(model.shape, shape, "parameters")
        model._check_precision(self._precision)
        return _pop(self._dec, model, shape)

    def finish(self) -> None:
        """Check that every symbol was decoded and the coder closed exactly at the stream's end."""
        self._dec.finish()


def _coder_name(code: int) -> str:
    return {v: k for k, v in CODERS.items()}[code]


class RansEncoder(_StreamEncoder):
    """Streaming rANS encoder for autoregressive models: blocks of symbols, one model each.

    rANS is a stack: the block encoded LAST is decoded FIRST. To decode blocks b_1, ..., b_m in
    that order (each model may depend on the blocks before it), encode b_m, ..., b_1. The stream
    equals the one :func:`encode` writes for the concatenated blocks under the same per-symbol
    models, and :func:`decode` reads it when all blocks share one model class.

    Parameters
    ----------
    precision : int, default 24
        As in :func:`encode`.
    backend : {"auto", "cpp", "numpy"}
    """

    _coder = "rans"


class RansDecoder(_StreamDecoder):
    """Streaming rANS decoder: pops blocks in the reverse order of :class:`RansEncoder`.

    Parameters
    ----------
    data : bytes or Encoded
        A stream from :class:`RansEncoder` or ``encode(..., coder="rans")``; the header and
        checksum are verified here (``ValueError`` if damaged).
    backend : {"auto", "cpp", "numpy"}
    """

    _coder = "rans"


class RangeEncoder(_StreamEncoder):
    """Streaming range encoder: a queue, blocks decode in the order they were encoded.

    The natural coder for autoregressive models evaluated while encoding. A single 64-bit state
    (no interleaving), so slower than rANS; the stream equals ``encode(..., coder="range")`` of
    the concatenated blocks. Parameters as :class:`RansEncoder`.
    """

    _coder = "range"


class RangeDecoder(_StreamDecoder):
    """Streaming range decoder: blocks in the order :class:`RangeEncoder` took them."""

    _coder = "range"
