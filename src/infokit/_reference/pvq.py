"""numpy twin of csrc/include/infokit/pvq/*.hpp (same signatures as infokit._core's pvq_*), and
the multi-word (Python int) path that both backends use when V(N, K) >= 2^64.

The enumeration is that of RFC 6716 section 4.3.4.2; the derivation of the per-coordinate terms
``nonnegative(n, k)`` and ``below(n, r)`` is in the header comment of enumeration.hpp.
"""

from __future__ import annotations

import numpy as np

SATURATED = 2**64 - 1
MAX_TABLE_ENTRIES = 2**22  # (N + 1) * (K + 1) for the uint64 table, as in register_pvq.cpp


def _check_dims(N: int, K: int, min_N: int, limit: int = MAX_TABLE_ENTRIES) -> None:
    if min_N > N:
        raise ValueError(f"N must be >= {min_N}, got {N}")
    if K < 0:
        raise ValueError(f"K must be >= 0, got {K}")
    if limit < (N + 1) * (K + 1):
        raise ValueError(
            f"(N + 1) * (K + 1) must be <= 2^{limit.bit_length() - 1} for the V(n, k) table, "
            f"got N = {N}, K = {K}"
        )


def _rows(N: int, K: int, cap: int | None) -> list[list[int]]:
    """V(n, k) for n <= N, k <= K as Python ints, each capped at ``cap`` (None: exact)."""
    row = [1] + [0] * K
    rows = [row]
    for _ in range(N):
        up = row
        row = [1] * (K + 1)
        for k in range(1, K + 1):
            v = up[k] + row[k - 1] + up[k - 1]
            row[k] = v if cap is None or v < cap else cap
        rows.append(row)
    return rows


def pvq_size_table(N: int, K: int) -> np.ndarray:
    """(N + 1, K + 1) uint64 table of V(n, k), saturated at 2^64 - 1 where it does not fit.

    Row by row with Python ints: row[k] = up[k] + row[k - 1] + up[k - 1], capped before the next
    row (a capped summand means the true sum is past the cap too, so capping is exact).
    """
    _check_dims(N, K, 0)
    table = np.empty((N + 1, K + 1), dtype=np.uint64)
    up = np.zeros(K + 1, dtype=object)
    up[0] = 1
    table[0] = up.astype(np.uint64)
    for n in range(1, N + 1):
        pair = up[1:] + up[:-1]
        row = np.empty(K + 1, dtype=object)
        row[0] = 1
        row[1:] = 1 + np.cumsum(pair) if K > 0 else pair
        row = np.minimum(row, SATURATED)
        table[n] = row.astype(np.uint64)
        up = row
    return table


def _table_64(N: int, K: int) -> np.ndarray:
    _check_dims(N, K, 1)
    table = pvq_size_table(N, K)
    if int(table[N, K]) == SATURATED:
        raise ValueError(f"V(N, K) >= 2^64 for N = {N}, K = {K}: use the multi-word path")
    return table


def _nonnegative(table: np.ndarray, n: int, k: np.ndarray) -> np.ndarray:
    whole, rest = table[n, k], table[n - 1, k]
    return rest + (whole - rest) // np.uint64(2)


def _below(table: np.ndarray, n: int, r: np.ndarray) -> np.ndarray:
    return (table[n, r] - table[n - 1, r]) // np.uint64(2)


def _magnitude(column: np.ndarray) -> np.ndarray:
    """|column| as uint64, right for the most negative int64 too (uint64 arithmetic wraps)."""
    as_unsigned = column.astype(np.uint64)
    return np.where(column < 0, np.uint64(0) - as_unsigned, as_unsigned)


def pvq_encode(pulses: np.ndarray, K: int, n_threads: int = 1) -> np.ndarray:
    """RFC 6716 index of each row of an (m, N) int32/int64 codeword array; ValueError names the
    first row whose L1 norm is not K. Vectorised over rows, one pass per coordinate."""
    if pulses.ndim != 2:
        raise ValueError("vectors must be 2-D (m, N)")
    m, N = pulses.shape
    table = _table_64(N, K)
    index = np.zeros(m, dtype=np.uint64)
    left = np.full(m, K, dtype=np.uint64)
    valid = np.ones(m, dtype=bool)
    for j in range(N):
        n = N - j
        v = _magnitude(pulses[:, j])
        valid &= v <= left
        v = np.where(valid, v, np.uint64(0))  # keeps the table reads in bounds
        negative = pulses[:, j] < 0
        index += np.where(negative & valid, _nonnegative(table, n, left), np.uint64(0))
        left -= v
        index += _below(table, n, left)
    valid &= left == 0
    if not valid.all():
        bad = int(np.flatnonzero(~valid)[0])
        raise ValueError(f"vectors[{bad}] is not a codeword: its L1 norm must be K = {K}")
    return index


def pvq_decode(indices: np.ndarray, N: int, K: int, n_threads: int = 1) -> np.ndarray:
    """(m, N) int32 codewords of uint64 RFC 6716 indices; ValueError names the first index
    >= V(N, K). The RFC's steps, vectorised over rows."""
    if indices.ndim != 1:
        raise ValueError("indices must be 1-D")
    if K > 2**31 - 1:
        raise ValueError("K must be < 2^31")
    table = _table_64(N, K)
    total = table[N, K]
    out_of_range = indices >= total
    if out_of_range.any():
        bad = int(np.flatnonzero(out_of_range)[0])
        raise ValueError(
            f"indices[{bad}] = {int(indices[bad])} is out of range: "
            f"must be < V(N, K) = {int(total)}"
        )
    m = indices.shape[0]
    i = indices.astype(np.uint64, copy=True)
    k = np.full(m, K, dtype=np.int64)
    out = np.empty((m, N), dtype=np.int32)
    for j in range(N):
        n = N - j
        p = _nonnegative(table, n, k)
        negative = i >= p
        i -= np.where(negative, p, np.uint64(0))
        r = k.copy()
        above = _below(table, n, r) > i
        while above.any():  # the RFC's step 4: one pulse less while the block starts after i
            r -= above
            above = _below(table, n, r) > i
        value = (k - r).astype(np.int32)
        out[:, j] = np.where(negative, -value, value)
        i -= _below(table, n, r)
        k = r
    return out


def pvq_search(x: np.ndarray, K: int, n_threads: int = 1) -> np.ndarray:
    """Greedy PVQ pulse search, one int32 codeword per row (the steps of search.hpp).

    Sums run left to right (cumsum) and every product is formed as in the kernel, so the pulses
    are the kernel's bit for bit.
    """
    if x.ndim != 2:
        raise ValueError("vectors must be 2-D (m, N)")
    if K < 0 or K > 2**31 - 1:
        raise ValueError("K must be in [0, 2^31)")
    m, N = x.shape
    if N < 1:
        raise ValueError("vectors must have N >= 1 columns")
    y = np.zeros((m, N), dtype=np.int64)
    if K == 0 or m == 0:
        return y.astype(np.int32)
    a = np.abs(x.astype(np.float64))
    top = a.max(axis=1)
    zero = top == 0.0
    a = a / np.where(zero, 1.0, top)[:, None]
    total = np.cumsum(a, axis=1)[:, -1]
    scale = float(K) / np.where(zero, 1.0, total)
    y = np.floor(a * scale[:, None]).astype(np.int64)
    y[zero] = 0
    y[zero, 0] = K
    overshoot = y.sum(axis=1) > K
    y[overshoot] = 0
    yf = y.astype(np.float64)
    rxy = np.cumsum(a * yf, axis=1)[:, -1]
    ryy = np.cumsum(yf * yf, axis=1)[:, -1]
    left = K - y.sum(axis=1)
    rows = np.arange(m)
    while True:
        active = np.flatnonzero(left > 0)
        if active.size == 0:
            break
        t = rxy[active, None] + a[active]
        ratio = (t * t) / (ryy[active, None] + 2.0 * y[active].astype(np.float64) + 1.0)
        best = np.argmax(ratio, axis=1)
        rxy[active] += a[active, best]
        ryy[active] += 2.0 * y[active, best].astype(np.float64) + 1.0
        y[rows[active], best] += 1
        left[active] -= 1
    y = np.where(x < 0, -y, y)
    return y.astype(np.int32)


# ---------------------------------------------------------------------------------------------
# Multi-word path: W-word indices (twins of multiword.hpp) and Python ints, any V(N, K)
# ---------------------------------------------------------------------------------------------


def check_words(N: int, K: int, W: int) -> None:
    """The limits of register_pvq.cpp's W-word tables, with its messages."""
    _check_dims(N, K, 1)
    if W < 1 or (N + 1) * (K + 1) * W > MAX_TABLE_ENTRIES:
        raise ValueError(f"(N + 1) * (K + 1) * W must be <= 2^22 words for the tables, got W = {W}")


def exact_table(N: int, K: int) -> list[list[int]]:
    """Exact V(n, k) for n <= N, k <= K as Python ints."""
    return _rows(N, K, None)


def to_words(values: list[int], W: int) -> np.ndarray:
    """(m, W) uint64: each value as W little-endian 64-bit words (values < 2^(64 W))."""
    data = b"".join(v.to_bytes(8 * W, "little") for v in values)
    return np.frombuffer(data, dtype="<u8").reshape(len(values), W).astype(np.uint64)


def from_words(words: np.ndarray) -> list[int]:
    """Python ints of the rows of an (m, W) uint64 array of little-endian words."""
    rows = np.ascontiguousarray(words, dtype="<u8")
    return [int.from_bytes(row.tobytes(), "little") for row in rows]


def encode_ints(pulses: np.ndarray, K: int, table: list[list[int]]) -> tuple[list[int], int]:
    """RFC 6716 index of each row as a Python int (the same terms as pvq_encode); rows whose L1
    norm is not K get 0. Returns (indices, first bad row or -1)."""
    N = pulses.shape[1]
    out: list[int] = []
    bad = -1
    for row_number, row in enumerate(pulses.tolist()):
        index, left = 0, K
        for j, value in enumerate(row):
            n, v = N - j, abs(value)
            if v > left:
                left = -1
                break
            if value < 0:
                index += (table[n][left] + table[n - 1][left]) // 2
            left -= v
            index += (table[n][left] - table[n - 1][left]) // 2
        if left != 0:
            index = 0
            if bad < 0:
                bad = row_number
        out.append(index)
    return out, bad


def decode_ints(
    indices: list[int], N: int, K: int, table: list[list[int]]
) -> tuple[np.ndarray, int]:
    """(m, N) int32 codewords of Python-int indices; rows with an index outside [0, V(N, K)) are
    zeros. Returns (codewords, first bad row or -1)."""
    total = table[N][K]
    out = np.zeros((len(indices), N), dtype=np.int32)
    bad = -1
    for number, index in enumerate(indices):
        if not 0 <= index < total:
            if bad < 0:
                bad = number
            continue
        i, k = index, K
        for j in range(N):
            whole, rest = table[N - j], table[N - j - 1]
            p = (whole[k] + rest[k]) // 2
            negative = i >= p
            if negative:
                i -= p
            r = k
            while (whole[r] - rest[r]) // 2 > i:
                r -= 1
            out[number, j] = r - k if negative else k - r
            i -= (whole[r] - rest[r]) // 2
            k = r
    return out, bad


def pvq_encode_words(
    pulses: np.ndarray, K: int, W: int, n_threads: int = 1
) -> tuple[np.ndarray, int]:
    """(W-word indices (m, W), first row whose L1 norm is not K or -1), as the binding."""
    if pulses.ndim != 2:
        raise ValueError("vectors must be 2-D (m, N)")
    N = pulses.shape[1]
    check_words(N, K, W)
    table = exact_table(N, K)
    if table[N][K] >= 2 ** (64 * W):
        raise ValueError(f"V(N, K) does not fit in W = {W} words")
    values, bad = encode_ints(pulses, K, table)
    return to_words(values, W), bad


def pvq_decode_words(
    words: np.ndarray, N: int, K: int, n_threads: int = 1
) -> tuple[np.ndarray, int]:
    """((m, N) int32 codewords, first row whose index is >= V(N, K) or -1), as the binding."""
    if words.ndim != 2:
        raise ValueError("words must be 2-D (m, W)")
    W = words.shape[1]
    check_words(N, K, W)
    table = exact_table(N, K)
    if table[N][K] >= 2 ** (64 * W):
        raise ValueError(f"V(N, K) does not fit in W = {W} words")
    return decode_ints(from_words(words), N, K, table)
