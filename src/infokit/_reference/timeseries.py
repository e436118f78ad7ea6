"""Pure-numpy twins of the time-series kernels (csrc/include/infokit/timeseries/).

Same signatures and results as ``infokit._core.moving_average`` and ``infokit._core.stl`` (to
rounding): a C-contiguous (rows, n) float32/float64 table in, arrays of its dtype out. The STL twin
is a plain loop over the points (each LOESS fit vectorised over its window): slow, meant for tests
and for machines without the compiled module.
"""

from __future__ import annotations

import numpy as np


def moving_average(x: np.ndarray, kernel_size: int, n_threads: int = 1) -> tuple[np.ndarray, ...]:
    """(trend, x - trend): replicate-padded moving average of each row over ``kernel_size``.

    Front padding (k - 1) // 2 copies of the first value, back padding k // 2 copies of the last;
    trend[t] is the mean of the k padded values starting at t. A cumulative sum in float64.
    """
    del n_threads  # one numpy pass; the parameter keeps the kernel's signature
    k = int(kernel_size)
    data = np.asarray(x, dtype=np.float64)
    padded = np.concatenate(
        [
            np.repeat(data[:, :1], (k - 1) // 2, axis=1),
            data,
            np.repeat(data[:, -1:], k // 2, axis=1),
        ],
        axis=1,
    )
    csum = np.zeros((padded.shape[0], padded.shape[1] + 1))
    np.cumsum(padded, axis=1, out=csum[:, 1:])
    trend = (csum[:, k:] - csum[:, :-k]) / k
    return trend.astype(x.dtype), (data - trend).astype(x.dtype)


# --- STL (Cleveland et al. 1990), following the reference Fortran step by step -------------------


def _loess_at(
    y: np.ndarray,
    n: int,
    length: int,
    deg: int,
    xs: int,
    nleft: int,
    nright: int,
    rw: np.ndarray | None,
) -> float | None:
    """LOESS value at 1-based abscissa ``xs`` from y[nleft-1 : nright]; None if no weight."""
    h = float(max(xs - nleft, nright - xs))
    if length > n:
        h += (length - n) // 2
    pos = np.arange(nleft, nright + 1, dtype=np.float64)
    r = np.abs(pos - xs)
    w = np.where(
        r <= 0.999 * h, np.where(r <= 0.001 * h, 1.0, (1.0 - (r / max(h, 1e-300)) ** 3) ** 3), 0.0
    )
    if rw is not None:
        w = w * rw[nleft - 1 : nright]
    total = w.sum()
    if total <= 0.0:
        return None
    w = w / total
    if h > 0.0 and deg > 0:
        a = float(np.dot(w, pos))
        c = float(np.dot(w, (pos - a) ** 2))
        if np.sqrt(c) > 0.001 * (n - 1.0):
            w = w * ((xs - a) / c * (pos - a) + 1.0)
    return float(np.dot(w, y[nleft - 1 : nright]))


def _loess_smooth(
    y: np.ndarray, length: int, deg: int, jump: int, rw: np.ndarray | None
) -> np.ndarray:
    n = y.shape[0]
    ys = np.empty(n)
    if n < 2:
        ys[0] = y[0]
        return ys
    nj = min(jump, n - 1)
    window = [1, n]

    def estimate(i: int) -> None:
        v = _loess_at(y, n, length, deg, i + 1, window[0], window[1], rw)
        ys[i] = y[i] if v is None else v

    if length >= n:
        for i in range(0, n, nj):
            estimate(i)
    elif nj == 1:
        nsh = (length + 2) // 2
        window[:] = [1, length]
        for i in range(n):
            if i + 1 > nsh and window[1] != n:
                window[0] += 1
                window[1] += 1
            estimate(i)
    else:
        nsh = (length + 1) // 2
        for i in range(0, n, nj):
            if i + 1 < nsh:
                window[:] = [1, length]
            elif i + 1 >= n - nsh + 1:
                window[:] = [n - length + 1, n]
            else:
                window[:] = [i + 2 - nsh, length + i + 1 - nsh]
            estimate(i)
    if nj == 1:
        return ys
    for i in range(0, n - nj, nj):
        delta = (ys[i + nj] - ys[i]) / nj
        ys[i : i + nj] = ys[i] + delta * np.arange(nj)
    k = ((n - 1) // nj) * nj + 1
    if k != n:
        estimate(n - 1)
        if k != n - 1:
            delta = (ys[n - 1] - ys[k - 1]) / (n - k)
            ys[k:n] = ys[k - 1] + delta * np.arange(1, n - k + 1)
    return ys


def _moving_mean(x: np.ndarray, length: int) -> np.ndarray:
    csum = np.concatenate([[0.0], np.cumsum(x)])
    return (csum[length:] - csum[:-length]) / length


def _stl_row(
    y: np.ndarray,
    period: int,
    windows: tuple[int, int, int],
    degrees: tuple[int, int, int],
    jumps: tuple[int, int, int],
    inner: int,
    outer: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = y.shape[0]
    ns, nt, nl = windows
    sdeg, tdeg, ldeg = degrees
    sjump, tjump, ljump = jumps
    trend = np.zeros(n)
    season = np.zeros(n)
    rw = np.ones(n)
    use_rw = False
    for passes in range(outer + 1):
        weights = rw if use_rw else None
        for _ in range(inner):
            detrended = y - trend
            cycle = np.empty(n + 2 * period)
            for j in range(period):
                sub = detrended[j::period]
                k = sub.shape[0]
                sub_rw = rw[j::period] if use_rw else None
                smooth = np.empty(k + 2)
                smooth[1 : k + 1] = _loess_smooth(sub, ns, sdeg, sjump, sub_rw)
                v = _loess_at(sub, k, ns, sdeg, 0, 1, min(ns, k), sub_rw)
                smooth[0] = smooth[1] if v is None else v
                v = _loess_at(sub, k, ns, sdeg, k + 1, max(1, k - ns + 1), k, sub_rw)
                smooth[k + 1] = smooth[k] if v is None else v
                cycle[j::period][: k + 2] = smooth
            low = _moving_mean(_moving_mean(_moving_mean(cycle, period), period), 3)
            low = _loess_smooth(low, nl, ldeg, ljump, None)
            season = cycle[period : period + n] - low
            trend = _loess_smooth(y - season, nt, tdeg, tjump, weights)
        if passes == outer:
            break
        r = np.abs(y - season - trend)
        part = np.partition(r, [n - n // 2 - 1, n // 2])
        cmad = 3.0 * (part[n // 2] + part[n - n // 2 - 1])
        if cmad == 0.0:
            rw = np.ones(n)
        else:
            rw = np.where(
                r <= 0.001 * cmad,
                1.0,
                np.where(r <= 0.999 * cmad, (1.0 - (r / cmad) ** 2) ** 2, 0.0),
            )
        use_rw = True
    return season, trend, rw


def stl(
    x: np.ndarray,
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
) -> tuple[np.ndarray, ...]:
    """(seasonal, trend, robustness weights) of each row of x by STL, like ``_core.stl``."""
    del n_threads
    data = np.asarray(x, dtype=np.float64)
    out = [np.empty(data.shape) for _ in range(3)]
    for r in range(data.shape[0]):
        parts = _stl_row(
            data[r],
            period,
            (seasonal, trend, low_pass),
            (seasonal_deg, trend_deg, low_pass_deg),
            (seasonal_jump, trend_jump, low_pass_jump),
            inner,
            outer,
        )
        for o, part in zip(out, parts, strict=True):
            o[r] = part
    return tuple(o.astype(x.dtype) for o in out)
