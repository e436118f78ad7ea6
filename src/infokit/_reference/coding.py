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

import numpy as np
import numpy.typing as npt

from infokit._coding_tables import FAMILIES, N_INTERVALS, TABLES

LANES = 8
RANS_L = 1 << 31
MIN_PRECISION = 16
MAX_PRECISION = 30
FRAC_BITS = 20
POSITION_SCALE = float(N_INTERVALS // 2) * (1 << FRAC_BITS)
POSITION_END = N_INTERVALS << FRAC_BITS
ONE32 = 1 << 32
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


def table_cdf(table: Sequence[int], u: float) -> int:
    """The family's CDF at u on a 2^32 scale (see quantize.hpp: same operations, same order)."""
    t = 1.0 - 1.0 / (1.0 + u) if u >= 0.0 else 1.0 / (1.0 - u) - 1.0
    position = (t + 1.0) * POSITION_SCALE
    if not position > 0.0:
        return 0
    if position >= POSITION_END:
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
    table = TABLES[FAMILIES[family]]
    edge, inv = float(low) - 0.5, 1.0 / scale
    return _from_g(
        lambda k: table_cdf(table, ((edge + float(k)) - mean) * inv), high - low + 1, precision
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
    tables = [TABLES[FAMILIES[f]] for f in families]
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


# --- the coder ----------------------------------------------------------------------------------


def _bit_length(e: int) -> int:
    return e.bit_length()


def _encode(
    cum_of: Cum, bounds: Bounds, symbols: npt.NDArray[np.int64], precision: int
) -> npt.NDArray[np.uint32]:
    M = 1 << precision
    x = [RANS_L] * LANES
    words: list[int] = []

    def put(lane: int, start: int, freq: int) -> None:
        s = x[lane]
        if s >= ((RANS_L >> precision) << 32) * freq:
            words.append(s & 0xFFFFFFFF)
            s >>= 32
        x[lane] = ((s // freq) << precision) + (s % freq) + start

    def put_bits(lane: int, value: int, bits: int) -> None:
        put(lane, value << (precision - bits), 1 << (precision - bits))

    for i in range(len(symbols) - 1, -1, -1):
        lane, v = i % LANES, int(symbols[i])
        low, high = bounds(i)
        if low <= v <= high:
            cum = cum_of(i)
            k = v - low
            put(lane, cum[k], cum[k + 1] - cum[k])
            continue
        above = v > high
        e = v - high - 1 if above else low - 1 - v
        length = _bit_length(e)
        chunks = (length + 15) // 16
        for c in range(chunks - 1, -1, -1):
            bits = length - 16 * c if c == chunks - 1 else 16
            put_bits(lane, (e >> (16 * c)) & 0xFFFF, bits)
        put_bits(lane, (0x80 if above else 0) | length, 8)
        put(lane, M - 1, 1)
    for j in range(LANES - 1, -1, -1):
        words += [x[j] & 0xFFFFFFFF, x[j] >> 32]
    return np.array(words, dtype=np.uint32)


def _decode(
    cum_of: Cum,
    bounds: Bounds,
    words: npt.NDArray[np.uint32],
    n: int,
    precision: int,
) -> npt.NDArray[np.int64]:
    M = 1 << precision
    w = [int(v) for v in words]
    pos = len(w)
    if pos < 2 * LANES:
        raise ValueError(MESSAGES[1])
    x = []
    for _ in range(LANES):
        hi, lo = w[pos - 1], w[pos - 2]
        pos -= 2
        x.append((hi << 32) | lo)
    if any(not RANS_L <= s < 1 << 63 for s in x):
        raise ValueError(MESSAGES[2])

    def advance(lane: int, slot: int, start: int, freq: int) -> None:
        nonlocal pos
        s = freq * (x[lane] >> precision) + slot - start
        if s < RANS_L:
            if pos == 0:
                raise ValueError(MESSAGES[1])
            pos -= 1
            s = (s << 32) | w[pos]
        x[lane] = s

    def get_bits(lane: int, bits: int) -> int:
        slot = x[lane] & (M - 1)
        value = slot >> (precision - bits)
        advance(lane, slot, value << (precision - bits), 1 << (precision - bits))
        return value

    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        lane = i % LANES
        low, high = bounds(i)
        slot = x[lane] & (M - 1)
        cum = cum_of(i)
        k = bisect.bisect_right(cum, slot) - 1
        advance(lane, slot, cum[k], cum[k + 1] - cum[k])
        if k < high - low + 1:
            out[i] = low + k
            continue
        header = get_bits(lane, 8)
        length = header & 0x7F
        if length > 64:
            raise ValueError(MESSAGES[3])
        chunks = (length + 15) // 16
        e = 0
        for c in range(chunks):
            bits = length - 16 * c if c == chunks - 1 else 16
            e |= get_bits(lane, bits) << (16 * c)
        v = high + 1 + e if header & 0x80 else low - 1 - e
        if not -(1 << 63) <= v < 1 << 63:
            raise ValueError(MESSAGES[3])
        out[i] = v
    if pos != 0 or any(s != RANS_L for s in x):
        raise ValueError(MESSAGES[4])
    return out


# --- the twins of the _core functions -----------------------------------------------------------


def _row(a: npt.NDArray[np.float64], i: int) -> float:
    return float(a[0] if a.shape[0] == 1 else a[i])


def categorical_cdf(probs: npt.NDArray[np.float64], precision: int) -> npt.NDArray[np.int64]:
    return np.array(_categorical_cum([float(v) for v in probs], precision), dtype=np.int64)


def parametric_cdf(
    family: int, mean: float, scale: float, low: int, high: int, precision: int
) -> npt.NDArray[np.int64]:
    return np.array(_parametric_cum(family, mean, scale, low, high, precision), dtype=np.int64)


def rans_encode_categorical(
    probs: npt.NDArray[np.float64], symbols: npt.NDArray[np.int64], precision: int
) -> npt.NDArray[np.uint32]:
    cum = _categorical_cum([float(v) for v in probs], precision)
    return _encode(lambda i: cum, _fixed(0, len(probs) - 1), symbols, precision)


def rans_decode_categorical(
    probs: npt.NDArray[np.float64], words: npt.NDArray[np.uint32], n: int, precision: int
) -> npt.NDArray[np.int64]:
    cum = _categorical_cum([float(v) for v in probs], precision)
    return _decode(lambda i: cum, _fixed(0, len(probs) - 1), words, n, precision)


def rans_encode_rows(
    probs: npt.NDArray[np.float64], symbols: npt.NDArray[np.int64], precision: int
) -> npt.NDArray[np.uint32]:
    rows = probs.tolist()
    return _encode(
        lambda i: _categorical_cum(rows[i], precision),
        _fixed(0, probs.shape[1] - 1),
        symbols,
        precision,
    )


def rans_decode_rows(
    probs: npt.NDArray[np.float64], words: npt.NDArray[np.uint32], n: int, precision: int
) -> npt.NDArray[np.int64]:
    rows = probs.tolist()
    return _decode(
        lambda i: _categorical_cum(rows[i], precision),
        _fixed(0, probs.shape[1] - 1),
        words,
        n,
        precision,
    )


def _parametric_of(
    family: int,
    mean: npt.NDArray[np.float64],
    scale: npt.NDArray[np.float64],
    low: int,
    high: int,
    precision: int,
) -> Cum:
    return lambda i: _parametric_cum(family, _row(mean, i), _row(scale, i), low, high, precision)


def rans_encode_parametric(
    family: int,
    mean: npt.NDArray[np.float64],
    scale: npt.NDArray[np.float64],
    low: int,
    high: int,
    symbols: npt.NDArray[np.int64],
    precision: int,
) -> npt.NDArray[np.uint32]:
    cum_of = _parametric_of(family, mean, scale, low, high, precision)
    return _encode(cum_of, _fixed(low, high), symbols, precision)


def rans_decode_parametric(
    family: int,
    mean: npt.NDArray[np.float64],
    scale: npt.NDArray[np.float64],
    low: int,
    high: int,
    words: npt.NDArray[np.uint32],
    n: int,
    precision: int,
) -> npt.NDArray[np.int64]:
    cum_of = _parametric_of(family, mean, scale, low, high, precision)
    return _decode(cum_of, _fixed(low, high), words, n, precision)


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


def rans_encode_mixture(
    families: npt.NDArray[np.int32],
    means: npt.NDArray[np.float64],
    scales: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    low: int,
    high: int,
    symbols: npt.NDArray[np.int64],
    precision: int,
) -> npt.NDArray[np.uint32]:
    cum_of = _mixture_of(families, means, scales, weights, low, high, precision)
    return _encode(cum_of, _fixed(low, high), symbols, precision)


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
) -> npt.NDArray[np.int64]:
    cum_of = _mixture_of(families, means, scales, weights, low, high, precision)
    return _decode(cum_of, _fixed(low, high), words, n, precision)


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


def rans_encode_tables(
    weights: npt.NDArray[np.float64],
    sizes: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    index: npt.NDArray[np.int64],
    symbols: npt.NDArray[np.int64],
    precision: int,
) -> npt.NDArray[np.uint32]:
    cum_of, bounds = _tables_of(weights, sizes, offsets, index, precision)
    return _encode(cum_of, bounds, symbols, precision)


def rans_decode_tables(
    weights: npt.NDArray[np.float64],
    sizes: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    index: npt.NDArray[np.int64],
    words: npt.NDArray[np.uint32],
    n: int,
    precision: int,
) -> npt.NDArray[np.int64]:
    cum_of, bounds = _tables_of(weights, sizes, offsets, index, precision)
    return _decode(cum_of, bounds, words, n, precision)
