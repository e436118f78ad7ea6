"""Pure-numpy twins of the compressor kernels (csrc/include/infokit/compress/).

Same signatures and the same outputs as ``infokit._core``'s ``topk_*``, ``topk_feedback_*``,
``qsgd_encode_*``, ``qsgd_decode_*`` and ``randk_indices``: the random numbers come from the same
counter-based generator (splitmix64's finaliser of ``seed + (counter + 1) · γ``), so both
backends give the same bits. They are slow where the kernels are fused (several passes, int64
temporaries) and serve as the readable definition.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def random_bits(seed: int, counters: np.ndarray) -> np.ndarray:
    """``mix64(seed + (counter + 1) · γ)`` for each counter (uint64 arithmetic wraps)."""
    z = np.uint64(seed) + (counters.astype(np.uint64) + np.uint64(1)) * _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _check_finite(values: np.ndarray, what: str) -> None:
    if not np.isfinite(values).all():
        raise ValueError(f"{what} contains NaN or inf")


def _select(values: np.ndarray, k: int) -> np.ndarray:
    """Ascending indices of the k largest |values|, ties to the lowest index."""
    order = np.argsort(-np.abs(values), kind="stable")
    return np.sort(order[:k])


def topk(x: np.ndarray, k: int, n_threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Twin of ``_core.topk_f32/f64``: (ascending indices, values) of the k largest |x|."""
    del n_threads
    if not 1 <= k <= x.size:
        raise ValueError("k must be in [1, x.size]")
    _check_finite(x, "x")
    index = _select(x, k).astype(np.int64)
    return index, x[index]


def topk_approx(
    x: np.ndarray, k: int, n_threads: int = 1
) -> tuple[np.ndarray, np.ndarray, np.floating[Any]]:
    """Twin of ``_core.topk_approx_*``: every |x| >= tau, tau from a strided sample."""
    del n_threads
    n = x.size
    if not 1 <= k <= n:
        raise ValueError("k must be in [1, x.size]")
    _check_finite(x, "x")
    m = min(n, 1 << 14)
    stride = n // m
    r = -(-k * m // n)  # ceil(k·m / n), in [1, m]
    sample = np.abs(x[: m * stride : stride])
    tau = np.partition(sample, m - r)[m - r]  # the r-th largest
    index = np.flatnonzero(np.abs(x) >= tau).astype(np.int64)
    return index, x[index], tau


def topk_feedback(
    x: np.ndarray, residual: np.ndarray, k: int, n_threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Twin of ``_core.topk_feedback_*``: select from residual + x, leave the rest in residual."""
    del n_threads
    if not 1 <= k <= x.size:
        raise ValueError("k must be in [1, x.size]")
    acc = residual + x
    _check_finite(acc, "x + residual")
    index = _select(acc, k).astype(np.int64)
    values = acc[index]
    acc[index] = 0
    residual[...] = acc
    return index, values


def _uniforms32(seed: int, n: int) -> np.ndarray:
    """u_i = the (i mod 2)-th 32-bit half of random_bits(seed, i // 2), as uint64."""
    r = random_bits(seed, np.arange((n + 1) // 2, dtype=np.uint64))
    halves = np.stack([r & np.uint64(0xFFFFFFFF), r >> np.uint64(32)], axis=1)
    return halves.reshape(-1)[:n]


def _bucket_norms(x: np.ndarray, bucket: int) -> np.ndarray:
    """‖bucket‖₂ in double, stored in x's dtype rounded up (so |x_i| <= norm)."""
    n = x.size
    pad = (-n) % bucket
    xd = np.concatenate([x.astype(np.float64), np.zeros(pad)]).reshape(-1, bucket)
    big = np.max(np.abs(xd), axis=1)
    with np.errstate(over="ignore"):
        ss = np.einsum("ij,ij->i", xd, xd)
    norm = np.sqrt(ss)
    over = ~np.isfinite(ss)
    if over.any():  # squares overflowed double: scale by the largest magnitude
        scaled = xd[over] / big[over, None]
        norm[over] = big[over] * np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    stored = norm.astype(x.dtype)
    low = stored.astype(np.float64) < norm
    stored[low] = np.nextafter(stored[low], x.dtype.type(np.inf))
    return stored


def qsgd_encode(
    x: np.ndarray, bucket: int, bits: int, seed: int, n_threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Twin of ``_core.qsgd_encode_*``: (bucket norms in x's dtype, packed little-endian codes)."""
    del n_threads
    if x.size == 0 or bucket < 1 or not 2 <= bits <= 8:
        raise ValueError("invalid arguments to the qsgd_encode kernel")
    _check_finite(x, "x")
    n = x.size
    bucket = min(bucket, n)
    s = (1 << (bits - 1)) - 1
    norms = _bucket_norms(x, bucket)
    per_element = np.repeat(norms.astype(np.float64), bucket)[:n]
    with np.errstate(divide="ignore"):
        scale = np.where(per_element > 0, s / per_element, 0.0)
    u = _uniforms32(seed, n).astype(np.float64) * 2.0**-32
    level = np.minimum(np.floor(np.abs(x.astype(np.float64)) * scale + u), s).astype(np.uint32)
    codes = level | np.where(x < 0, np.uint32(1 << (bits - 1)), np.uint32(0))
    return norms, pack(codes, bits)


def pack(codes: np.ndarray, bits: int) -> np.ndarray:
    """b-bit codes into a little-endian bit stream: code i at stream bits [i·b, (i+1)·b)."""
    planes = (codes[:, None] >> np.arange(bits, dtype=np.uint32)) & 1
    return np.packbits(planes.astype(np.uint8).reshape(-1), bitorder="little")


def unpack(packed: np.ndarray, n: int, bits: int) -> np.ndarray:
    """Inverse of :func:`pack`: the first n codes as uint32."""
    planes = np.unpackbits(packed, bitorder="little", count=n * bits).reshape(n, bits)
    return (planes.astype(np.uint32) << np.arange(bits, dtype=np.uint32)).sum(
        axis=1, dtype=np.uint32
    )


def qsgd_decode(
    norms: np.ndarray, packed: np.ndarray, n: int, bucket: int, bits: int, n_threads: int = 1
) -> np.ndarray:
    """Twin of ``_core.qsgd_decode_*``: sign · norm · level / s in norms' dtype."""
    del n_threads
    if n < 1 or bucket < 1 or not 2 <= bits <= 8:
        raise ValueError("invalid arguments to the qsgd_decode kernel")
    bucket = min(bucket, n)
    if norms.size != -(-n // bucket) or packed.size != (n * bits + 7) // 8:
        raise ValueError("norms and packed must match n, bucket and bits")
    if not (np.isfinite(norms).all() and (norms >= 0).all()):
        raise ValueError("norms must be finite and >= 0")
    s = (1 << (bits - 1)) - 1
    codes = unpack(packed, n, bits)
    step = np.repeat(norms.astype(np.float64) / s, bucket)[:n]
    value = ((codes & s).astype(np.float64) * step).astype(norms.dtype)
    return np.where(codes & (s + 1) != 0, -value, value)


def randk_indices(n: int, k: int, seed: int) -> np.ndarray:
    """Twin of ``_core.randk_indices``: Floyd's algorithm with the counter-based draws."""
    if not 1 <= k <= n:
        raise ValueError("k must be in [1, n]")
    j = np.arange(n - k, n, dtype=np.uint64)
    u = (random_bits(seed, j) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    draws = np.minimum(np.floor(u * (j + np.uint64(1)).astype(np.float64)), j.astype(np.float64))
    member = np.zeros(n, dtype=bool)
    for t, jj in zip(draws.astype(np.int64).tolist(), range(n - k, n), strict=True):
        member[jj if member[t] else t] = True
    return np.flatnonzero(member).astype(np.int64)
