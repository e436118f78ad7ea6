"""Pure-Python twin of the rANS coder in ``csrc/include/infokit/coding/`` (the test oracle).

Same signatures as the ``_core`` functions it mirrors and the same bits out: the quantized CDFs
are built with the same IEEE double operations in the same order (Python floats are IEEE doubles
and never fused into FMAs) and the same integer tables, and the coder is the same interleaved
rANS with 64-bit states and 32-bit words. Slow (a Python loop per symbol, a full CDF per
symbol): meant for small inputs.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from infokit._coding_tables import FAMILIES, N_INTERVALS, TABLES

LANES = 8
RANS_L = 1 << 31
TAIL = 256  # pushes to lane 0 alone before the other lanes start (see rans.hpp)
TAIL_START = 1  # lane 0's initial state
MIN_PRECISION = 16
MAX_PRECISION = 30
FRAC_BITS = 20
T_SCALE = float(N_INTERVALS // 2) * (1 << FRAC_BITS)  # t-grid steps per unit of t
DIRECT_GRIDS = {"gaussian": (8.0, 128.0)}  # half width, grid steps per unit of u
ONE32 = 1 << 32
MASK64 = (1 << 64) - 1
RANGE_MIN = 1 << 32
WEIGHT_BITS = 16

MESSAGES = {
    1: "the stream ended before the last symbol (truncated, corrupt, or a different model)",
    2: "the stream's final coder states are invalid (corrupt stream)",
    3: "an escaped value does not decode (corrupt stream or a different model)",
    4: "the stream does not decode to its own end under this model (a different model, "
    "or a corrupt stream)",
}

Cum = Callable[[int], list[int]]  # symbol index -> C(0..n+1)
Bounds = Callable[[int], tuple[int, int]]  # symbol index -> (low, high)


def _fixed(low: int, high: int) -> Bounds:
    return lambda i: (low, high)


def table_cdf(family: str, u: float) -> int:
    """The family's CDF at u on a 2^32 scale (see quantize.hpp: same operations, same order)."""
    table = TABLES[family]
    if family in DIRECT_GRIDS:
        half_width, steps = DIRECT_GRIDS[family]
        position = (u + half_width) * (steps * (1 << FRAC_BITS))
    else:
        t = 1.0 - 1.0 / (1.0 + u) if u >= 0.0 else 1.0 / (1.0 - u) - 1.0
        position = (t + 1.0) * T_SCALE
    if not position > 0.0:
        return 0
    if position >= (len(table) - 1) << FRAC_BITS:
        return ONE32
    q = int(position)
    i, frac = q >> FRAC_BITS, q & ((1 << FRAC_BITS) - 1)
    return table[i] + (((table[i + 1] - table[i]) * frac) >> FRAC_BITS)


def _categorical_cum(p: Sequence[float], precision: int) -> list[int]:
    K = len(p)
    M = 1 << precision
    R = float(M - (K + 1))
    total = 0.0
    for v in p:
        total += v
    cum, partial = [], 0.0
    for k in range(K):
        cum.append(k + math.floor(R * (partial / total)))
        partial += p[k]
    return [*cum, M - 1, M]


def _from_g(gs: Callable[[int], int], n: int, precision: int) -> list[int]:
    M = 1 << precision
    R = M - (n + 1)
    return [0] + [k + ((R * gs(k)) >> 32) for k in range(1, n)] + [M - 1, M]


def _parametric_cum(
    family: int, mean: float, scale: float, low: int, high: int, precision: int
) -> list[int]:
    name = FAMILIES[family]
    edge, inv = float(low) - 0.5, 1.0 / scale
    return _from_g(
        lambda k: table_cdf(name, ((edge + float(k)) - mean) * inv), high - low + 1, precision
    )


def quantize_weights(w: Sequence[float]) -> list[int]:
    total = 0.0
    for v in w:
        total += v
    out = [math.floor((v / total) * (1 << WEIGHT_BITS)) for v in w]
    largest = max(range(len(out)), key=lambda j: (out[j], -j))
    out[largest] += (1 << WEIGHT_BITS) - sum(out)
    return out


def _mixture_cum(
    families: Sequence[int],
    means: Sequence[float],
    scales: Sequence[float],
    weights: Sequence[float],
    low: int,
    high: int,
    precision: int,
) -> list[int]:
    tables = [FAMILIES[f] for f in families]
    inv = [1.0 / s for s in scales]
    w = quantize_weights(weights)
    edge = float(low) - 0.5

    def g(k: int) -> int:
        b = edge + float(k)
        total = sum(
            wj * table_cdf(t, (b - m) * s)
            for wj, t, m, s in zip(w, tables, means, inv, strict=True)
        )
        return total >> WEIGHT_BITS

    return _from_g(g, high - low + 1, precision)


# --- the coders ---------------------------------------------------------------------------------


class _Pushes:
    """The per-model entry points of an encoder, over its ``_push(cum_of, bounds, symbols)``."""

    precision: int

    def _push(self, cum_of: Cum, bounds: Bounds, symbols: npt.NDArray[np.int64]) -> None:
        raise NotImplementedError

    def encode_categorical(
        self, probs: npt.NDArray[np.float64], symbols: npt.NDArray[np.int64]
    ) -> None:
        cum = _categorical_cum([float(v) for v in probs], self.precision)
        self._push(lambda i: cum, _fixed(0, len(probs) - 1), symbols)

    def encode_rows(self, probs: npt.NDArray[np.float64], symbols: npt.NDArray[np.int64]) -> None:
        self._push(*_rows_of(probs, self.precision), symbols)

    def encode_parametric(
        self,
        family: int,
        mean: npt.NDArray[np.float64],
        scale: npt.NDArray[np.float64],
        low: int,
        high: int,
        symbols: npt.NDArray[np.int64],
    ) -> None:
        cum_of = _parametric_of(family, mean, scale, low, high, self.precision)
        self._push(cum_of, _fixed(low, high), symbols)

    def encode_mixture(
        self,
        families: npt.NDArray[np.int32],
        means: npt.NDArray[np.float64],
        scales: npt.NDArray[np.float64],
        weights: npt.NDArray[np.float64],
        low: int,
        high: int,
        symbols: npt.NDArray[np.int64],
    ) -> None:
        cum_of = _mixture_of(families, means, scales, weights, low, high, self.precision)
        self._push(cum_of, _fixed(low, high), symbols)

    def encode_tables(
        self,
        weights: npt.NDArray[np.float64],
        sizes: npt.NDArray[np.int64],
        offsets: npt.NDArray[np.int64],
        index: npt.NDArray[np.int64],
        symbols: npt.NDArray[np.int64],
    ) -> None:
        self._push(*_tables_of(weights, sizes, offsets, index, self.precision), symbols)


class _Pops:
    """The per-model entry points of a decoder, over its ``_pop(cum_of, bounds, n)``."""

    precision: int

    def _pop(self, cum_of: Cum, bounds: Bounds, n: int) -> npt.NDArray[np.int64]:
        raise NotImplementedError

    @staticmethod
    def _into(
        values: npt.NDArray[np.int64], out: npt.NDArray[np.int64] | None
    ) -> npt.NDArray[np.int64]:
        """``values``, or written into ``out`` (the compiled decoders' optional output)."""
        if out is None:
            return values
        out[...] = values
        return out

    def decode_categorical(
        self, probs: npt.NDArray[np.float64], n: int, out: npt.NDArray[np.int64] | None = None
    ) -> npt.NDArray[np.int64]:
        cum = _categorical_cum([float(v) for v in probs], self.precision)
        return self._into(self._pop(lambda i: cum, _fixed(0, len(probs) - 1), n), out)

    def decode_rows(
        self, probs: npt.NDArray[np.float64], n: int, out: npt.NDArray[np.int64] | None = None
    ) -> npt.NDArray[np.int64]:
        return self._into(self._pop(*_rows_of(probs, self.precision), n), out)

    def decode_parametric(
        self,
        family: int,
        mean: npt.NDArray[np.float64],
        scale: npt.NDArray[np.float64],
        low: int,
        high: int,
        n: int,
        out: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.int64]:
        cum_of = _parametric_of(family, mean, scale, low, high, self.precision)
        return self._into(self._pop(cum_of, _fixed(low, high), n), out)

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
    ) -> npt.NDArray[np.int64]:
        cum_of = _mixture_of(families, means, scales, weights, low, high, self.precision)
        return self._into(self._pop(cum_of, _fixed(low, high), n), out)

    def decode_tables(
        self,
        weights: npt.NDArray[np.float64],
        sizes: npt.NDArray[np.int64],
        offsets: npt.NDArray[np.int64],
        index: npt.NDArray[np.int64],
        n: int,
        out: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.int64]:
        cum_of, bounds = _tables_of(weights, sizes, offsets, index, self.precision)
        return self._into(self._pop(cum_of, bounds, n), out)


class RansStreamEncoder(_Pushes):
    """rANS encoder state across blocks (a stack): push blocks in reverse decoding order.

    Symbol g pushed (counting from 0 over the whole stream) goes to lane 0 while g < TAIL, then
    to lane 7 - g % 8; at push TAIL, lanes 1..k start at 2**32 + the first k words emitted
    (which leave the stream), the others at L. See rans.hpp for the format.
    """

    def __init__(self, precision: int) -> None:
        self.precision = precision
        self.x = [TAIL_START] + [RANS_L] * (LANES - 1)
        self.words: list[int] = []
        self.pushed = 0

    def _put(self, lane: int, start: int, freq: int) -> None:
        P = self.precision
        s = self.x[lane]
        if s >= ((RANS_L >> P) << 32) * freq:
            self.words.append(s & 0xFFFFFFFF)
            s >>= 32
        self.x[lane] = ((s // freq) << P) + (s % freq) + start

    def _put_bits(self, lane: int, value: int, bits: int) -> None:
        shift = self.precision - bits
        self._put(lane, value << shift, 1 << shift)

    def _next_lane(self) -> int:
        g = self.pushed
        self.pushed += 1
        if g < TAIL:
            return 0
        if g == TAIL:
            k = min(LANES - 1, len(self.words))
            for j in range(1, k + 1):
                self.x[j] = ONE32 | self.words[j - 1]
            del self.words[:k]
            if self.x[0] < RANS_L:  # no word emitted: lane 0 moves up by L, lane 1 says so
                self.x[0] += RANS_L
                self.x[1] = RANS_L + 1
        return LANES - 1 - g % LANES

    def _push(self, cum_of: Cum, bounds: Bounds, symbols: npt.NDArray[np.int64]) -> None:
        M = 1 << self.precision
        for i in range(len(symbols) - 1, -1, -1):
            lane = self._next_lane()
            v = int(symbols[i])
            low, high = bounds(i)
            if low <= v <= high:
                cum = cum_of(i)
                k = v - low
                self._put(lane, cum[k], cum[k + 1] - cum[k])
                continue
            above = v > high
            e = v - high - 1 if above else low - 1 - v
            length = e.bit_length()
            chunks = (length + 15) // 16
            for c in range(chunks - 1, -1, -1):
                bits = length - 16 * c if c == chunks - 1 else 16
                self._put_bits(lane, (e >> (16 * c)) & 0xFFFF, bits)
            self._put_bits(lane, (0x80 if above else 0) | length, 8)
            self._put(lane, M - 1, 1)

    def finish(self) -> npt.NDArray[np.uint32]:
        if self.pushed > TAIL:  # the lanes' states into lane 0: the bits below the top, the count
            for j in range(LANES - 1, 0, -1):
                s = self.x[j]
                length = s.bit_length() - 1
                chunks = (length + 15) // 16
                for c in range(chunks - 1, -1, -1):
                    bits = length - 16 * c if c == chunks - 1 else 16
                    self._put_bits(0, (s >> (16 * c)) & ((1 << bits) - 1), bits)
                self._put_bits(0, length - 31, 5)
        x = self.x[0]
        words = [*self.words, x & 0xFFFFFFFF] + ([x >> 32] if x >> 32 or x < RANS_L else [])
        return np.array(words, dtype=np.uint32)


class RansStreamDecoder(_Pops):
    """Pops what :class:`RansStreamEncoder` pushed; ``total`` is the stream's symbol count."""

    def __init__(self, words: npt.NDArray[np.uint32], total: int, precision: int) -> None:
        self.precision = precision
        self.w = [int(v) for v in words]
        self.pos = len(self.w)
        self.offset = (LANES - total % LANES) % LANES
        self.total = total
        self.popped = 0
        self.tail_start = max(total - TAIL, 0)
        self.carried: list[int] = []
        self.x = [RANS_L] * LANES
        if self.pos < 1:
            raise ValueError(MESSAGES[1])
        self.pos -= 1
        x = self.w[self.pos]
        self.in_tail = total <= TAIL
        if not x >> 31:  # a high word: the low word before it
            if self.pos < 1:
                raise ValueError(MESSAGES[1])
            self.pos -= 1
            x = (x << 32) | self.w[self.pos]
            if x == 0 or x >> 31 == 1 or (not self.in_tail and x < RANS_L):
                raise ValueError(MESSAGES[2])
        self.x[0] = x
        if not self.in_tail:
            for j in range(1, LANES):
                length = self._get_bits(0, 5) + 31
                chunks = (length + 15) // 16
                s = 0
                for c in range(chunks):
                    bits = length - 16 * c if c == chunks - 1 else 16
                    s |= self._get_bits(0, bits) << (16 * c)
                self.x[j] = s | (1 << length)

    def _enter_tail(self) -> None:
        self.in_tail = True
        if self.x[1] == RANS_L + 1:  # lane 0 was below L when the lanes started
            if any(s != RANS_L for s in self.x[2:]) or not RANS_L < self.x[0] < 2 * RANS_L:
                raise ValueError(MESSAGES[4])
            self.x[0] -= RANS_L
            return
        k = 0
        while k < LANES - 1 and self.x[k + 1] >> 32 == 1:
            k += 1
        if any(s != RANS_L for s in self.x[k + 1 :]):
            raise ValueError(MESSAGES[4])
        self.carried = [s & 0xFFFFFFFF for s in self.x[1 : k + 1]]

    def _advance(self, lane: int, slot: int, start: int, freq: int) -> None:
        s = freq * (self.x[lane] >> self.precision) + slot - start
        if s < RANS_L:
            if self.pos > 0:
                self.pos -= 1
                s = (s << 32) | self.w[self.pos]
            elif self.carried:  # the tail, after the stream's first word
                s = (s << 32) | self.carried.pop()
            elif not self.in_tail:  # in the tail: lane 0's first states, below L
                raise ValueError(MESSAGES[1])
        self.x[lane] = s

    def _get_bits(self, lane: int, bits: int) -> int:
        shift = self.precision - bits
        slot = self.x[lane] & ((1 << self.precision) - 1)
        value = slot >> shift
        self._advance(lane, slot, value << shift, 1 << shift)
        return value

    def _pop(self, cum_of: Cum, bounds: Bounds, n: int) -> npt.NDArray[np.int64]:
        if self.popped + n > self.total:
            raise ValueError(
                f"the stream holds {self.total} symbols; {self.popped} decoded, {n} more asked"
            )
        out = np.empty(n, dtype=np.int64)
        for i in range(n):
            if not self.in_tail and self.popped == self.tail_start:
                self._enter_tail()
            tail = self.popped >= self.tail_start
            lane = 0 if tail else (self.popped + self.offset) % LANES
            self.popped += 1
            low, high = bounds(i)
            slot = self.x[lane] & ((1 << self.precision) - 1)
            cum = cum_of(i)
            k = bisect.bisect_right(cum, slot) - 1
            self._advance(lane, slot, cum[k], cum[k + 1] - cum[k])
            if k < high - low + 1:
                out[i] = low + k
                continue
            header = self._get_bits(lane, 8)
            length = header & 0x7F
            if length > 64:
                raise ValueError(MESSAGES[3])
            chunks = (length + 15) // 16
            e = 0
            for c in range(chunks):
                bits = length - 16 * c if c == chunks - 1 else 16
                e |= self._get_bits(lane, bits) << (16 * c)
            v = high + 1 + e if header & 0x80 else low - 1 - e
            if not -(1 << 63) <= v < 1 << 63:
                raise ValueError(MESSAGES[3])
            out[i] = v
        return out

    def finish(self) -> None:
        if self.popped != self.total:
            raise ValueError(
                f"only {self.popped} of the stream's {self.total} symbols were decoded"
            )
        if not self.in_tail or self.pos != 0 or self.carried or self.x[0] != TAIL_START:
            raise ValueError(MESSAGES[4])


class RangeStreamEncoder(_Pushes):
    """Range coder (a queue; see range.hpp): 64-bit low and range, 32-bit words."""

    def __init__(self, precision: int) -> None:
        self.precision = precision
        self.low = 0
        self.range = MASK64
        self.words: list[int] = []
        self.pushed = 0

    def _put(self, start: int, freq: int) -> None:
        r = self.range >> self.precision
        low = self.low + r * start
        if low > MASK64:  # carry into the words already written
            low &= MASK64
            i = len(self.words) - 1
            while True:
                self.words[i] = (self.words[i] + 1) & 0xFFFFFFFF
                if self.words[i]:
                    break
                i -= 1
        self.low, self.range = low, r * freq
        while self.range < RANGE_MIN:
            self.words.append(self.low >> 32)
            self.low = (self.low << 32) & MASK64
            self.range <<= 32

    def _put_bits(self, value: int, bits: int) -> None:
        shift = self.precision - bits
        self._put(value << shift, 1 << shift)

    def _push(self, cum_of: Cum, bounds: Bounds, symbols: npt.NDArray[np.int64]) -> None:
        M = 1 << self.precision
        for i in range(len(symbols)):
            self.pushed += 1
            v = int(symbols[i])
            low, high = bounds(i)
            if low <= v <= high:
                cum = cum_of(i)
                k = v - low
                self._put(cum[k], cum[k + 1] - cum[k])
                continue
            above = v > high
            e = v - high - 1 if above else low - 1 - v
            length = e.bit_length()
            self._put(M - 1, 1)
            self._put_bits((0x80 if above else 0) | length, 8)
            chunks = (length + 15) // 16
            for c in range(chunks):
                bits = length - 16 * c if c == chunks - 1 else 16
                self._put_bits((e >> (16 * c)) & 0xFFFF, bits)

    def finish(self) -> npt.NDArray[np.uint32]:
        return np.array([*self.words, self.low >> 32, self.low & 0xFFFFFFFF], dtype=np.uint32)


class RangeStreamDecoder(_Pops):
    """Pops what :class:`RangeStreamEncoder` pushed, in the same order."""

    def __init__(self, words: npt.NDArray[np.uint32], total: int, precision: int) -> None:
        self.precision = precision
        self.total = total
        self.w = [int(v) for v in words]
        if len(self.w) < 2:
            raise ValueError(MESSAGES[1])
        self.point = (self.w[0] << 32) | self.w[1]
        self.pos = 2
        self.range = MASK64
        self.popped = 0

    def _slot(self) -> tuple[int, int]:
        r = self.range >> self.precision
        q = self.point // r
        if q >= 1 << self.precision:
            raise ValueError(MESSAGES[4])
        return q, r

    def _advance(self, r: int, start: int, freq: int) -> None:
        self.point -= r * start
        self.range = r * freq
        while self.range < RANGE_MIN:
            if self.pos >= len(self.w):
                raise ValueError(MESSAGES[1])
            self.point = ((self.point << 32) & MASK64) | self.w[self.pos]
            self.pos += 1
            self.range <<= 32

    def _get_bits(self, bits: int) -> int:
        slot, r = self._slot()
        shift = self.precision - bits
        value = slot >> shift
        self._advance(r, value << shift, 1 << shift)
        return value

    def _pop(self, cum_of: Cum, bounds: Bounds, n: int) -> npt.NDArray[np.int64]:
        if self.popped + n > self.total:
            raise ValueError(
                f"the stream holds {self.total} symbols; {self.popped} decoded, {n} more asked"
            )
        out = np.empty(n, dtype=np.int64)
        for i in range(n):
            self.popped += 1
            low, high = bounds(i)
            slot, r = self._slot()
            cum = cum_of(i)
            k = bisect.bisect_right(cum, slot) - 1
            self._advance(r, cum[k], cum[k + 1] - cum[k])
            if k < high - low + 1:
                out[i] = low + k
                continue
            header = self._get_bits(8)
            length = header & 0x7F
            if length > 64:
                raise ValueError(MESSAGES[3])
            e = 0
            chunks = (length + 15) // 16
            for c in range(chunks):
                bits = length - 16 * c if c == chunks - 1 else 16
                e |= self._get_bits(bits) << (16 * c)
            v = high + 1 + e if header & 0x80 else low - 1 - e
            if not -(1 << 63) <= v < 1 << 63:
                raise ValueError(MESSAGES[3])
            out[i] = v
        return out

    def finish(self) -> None:
        if self.popped != self.total:
            raise ValueError(
                f"only {self.popped} of the stream's {self.total} symbols were decoded"
            )
        if self.point != 0 or self.pos != len(self.w):
            raise ValueError(MESSAGES[4])


# --- the twins of the _core functions -----------------------------------------------------------


def _row(a: npt.NDArray[np.float64], i: int) -> float:
    return float(a[0] if a.shape[0] == 1 else a[i])


def categorical_cdf(probs: npt.NDArray[np.float64], precision: int) -> npt.NDArray[np.int64]:
    return np.array(_categorical_cum([float(v) for v in probs], precision), dtype=np.int64)


def parametric_cdf(
    family: int, mean: float, scale: float, low: int, high: int, precision: int
) -> npt.NDArray[np.int64]:
    return np.array(_parametric_cum(family, mean, scale, low, high, precision), dtype=np.int64)


def _parametric_of(
    family: int,
    mean: npt.NDArray[np.float64],
    scale: npt.NDArray[np.float64],
    low: int,
    high: int,
    precision: int,
) -> Cum:
    return lambda i: _parametric_cum(family, _row(mean, i), _row(scale, i), low, high, precision)


def _mixture_of(
    families: npt.NDArray[np.int32],
    means: npt.NDArray[np.float64],
    scales: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    low: int,
    high: int,
    precision: int,
) -> Cum:
    fam = [int(f) for f in families]

    def cum_of(i: int) -> list[int]:
        r = 0 if means.shape[0] == 1 else i
        return _mixture_cum(
            fam, means[r].tolist(), scales[r].tolist(), weights[r].tolist(), low, high, precision
        )

    return cum_of


def _tables_of(
    weights: npt.NDArray[np.float64],
    sizes: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    index: npt.NDArray[np.int64],
    precision: int,
) -> tuple[Cum, Bounds]:
    cums = [
        _categorical_cum(weights[r, : int(sizes[r])].tolist(), precision) for r in range(len(sizes))
    ]
    rows = [int(r) for r in index]
    return (
        lambda i: cums[rows[i]],
        lambda i: (int(offsets[rows[i]]), int(offsets[rows[i]] + sizes[rows[i]] - 1)),
    )


def _rows_of(probs: npt.NDArray[np.float64], precision: int) -> tuple[Cum, Bounds]:
    rows = probs.tolist()
    return (lambda i: _categorical_cum(rows[i], precision)), _fixed(0, probs.shape[1] - 1)


def _one_shot_encode(method: str, *args: Any) -> npt.NDArray[np.uint32]:
    *model, symbols, precision = args
    enc = RansStreamEncoder(precision)
    getattr(enc, method)(*model, symbols)
    return enc.finish()


def _one_shot_decode(method: str, *args: Any) -> npt.NDArray[np.int64]:
    *model, words, n, precision = args
    dec = RansStreamDecoder(words, n, precision)
    out: npt.NDArray[np.int64] = getattr(dec, method)(*model, n)
    dec.finish()
    return out


def rans_encode_categorical(*args: Any) -> npt.NDArray[np.uint32]:
    return _one_shot_encode("encode_categorical", *args)


def rans_decode_categorical(*args: Any) -> npt.NDArray[np.int64]:
    return _one_shot_decode("decode_categorical", *args)


def rans_encode_rows(*args: Any) -> npt.NDArray[np.uint32]:
    return _one_shot_encode("encode_rows", *args)


def rans_decode_rows(*args: Any) -> npt.NDArray[np.int64]:
    return _one_shot_decode("decode_rows", *args)


def rans_encode_parametric(*args: Any) -> npt.NDArray[np.uint32]:
    return _one_shot_encode("encode_parametric", *args)


def rans_decode_parametric(*args: Any) -> npt.NDArray[np.int64]:
    return _one_shot_decode("decode_parametric", *args)


def rans_encode_mixture(*args: Any) -> npt.NDArray[np.uint32]:
    return _one_shot_encode("encode_mixture", *args)


def rans_decode_mixture(*args: Any) -> npt.NDArray[np.int64]:
    return _one_shot_decode("decode_mixture", *args)


def rans_encode_tables(*args: Any) -> npt.NDArray[np.uint32]:
    return _one_shot_encode("encode_tables", *args)


def rans_decode_tables(*args: Any) -> npt.NDArray[np.int64]:
    return _one_shot_decode("decode_tables", *args)
