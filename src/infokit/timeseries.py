"""Time-series structure: trend/seasonal decomposition, multiscale down-sampling, dominant periods.

The building blocks the decomposition-based forecasters use on their inputs: the moving-average
``series_decomp`` of Autoformer / DLinear / TimeMixer / KARMA (P12, P35), STL (Cleveland et al.
1990), TimeMixer's multiscale pooling (P35) and the FFT period detection of TimesNet (used by the
periodicity analyses of P33/P35).

Conventions shared by the module:

- **Axes.** Time runs along ``axis`` (the last by default); every other axis indexes channels,
  batch elements, and so on, and each series is processed independently. A forecasting batch laid
  out as ``(batch, length, channels)`` (the PyTorch models' layout) is passed with ``axis=1``.
  Outputs keep the input's shape and layout.
- **Dtypes.** float32 stays float32 (sums accumulate in float64); other real dtypes (ints, bools,
  float16) become float64. Complex, object and string arrays raise ``TypeError``.
- **Rejected.** NaN or inf anywhere, series shorter than the period (or the kernel), bad window
  sizes: ``ValueError`` naming the argument.
- **Backends.** ``backend="auto"`` runs the C++ kernels (moving average: O(n) running sums, threads
  over series and blocks; STL: threads over series) when built, else their numpy twins.
- **Threads.** ``infokit.get_num_threads()`` threads; results are identical for any thread count.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _backend
from ._reference import timeseries as _ref
from ._threads import get_num_threads
from ._validation import check_choice, check_positive_int

__all__ = ["Decomposition", "Periods", "decompose", "dominant_periods", "multiscale"]

METHODS = ("moving_average", "stl")
EDGES = ("replicate", "nan")
POOLING = ("avg", "max")


@dataclass(frozen=True)
class Decomposition:
    """``x = trend + seasonal + residual`` (exactly, up to rounding), each shaped like ``x``.

    ``weights`` are STL's robustness weights in [0, 1] (all 1 unless ``robust=True``; None for the
    moving-average method). ``kernel_size`` is the trend window of the moving-average method.
    """

    trend: np.ndarray
    seasonal: np.ndarray
    residual: np.ndarray
    method: str
    period: int | None
    kernel_size: int | None
    weights: np.ndarray | None = None


@dataclass(frozen=True)
class Periods:
    """The ``k`` strongest periods, strongest first.

    ``frequencies`` are rfft bin indices f (cycles per series), ``periods`` = n // f in samples,
    ``amplitudes`` the mean |rfft| at those bins. Shape (k,), or (..., k) per series.
    """

    periods: npt.NDArray[np.int64]
    frequencies: npt.NDArray[np.int64]
    amplitudes: npt.NDArray[np.float64]


# --- argument handling -------------------------------------------------------------------------


def _kernels(backend: str) -> ModuleType:
    if _backend.resolve(backend) == "cpp":
        module = _backend.compiled("_core")
        assert module is not None  # resolve() said the build is there
        return module
    return _ref


def _as_series(x: Any, axis: Any, name: str = "x") -> tuple[np.ndarray, int]:
    """``x`` as a float32/float64 array with finite values, and ``axis`` as a non-negative index."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if a.dtype.kind in "biu" or (a.dtype.kind == "f" and a.dtype not in (np.float32, np.float64)):
        a = a.astype(np.float64)
    elif a.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim == 0:
        raise ValueError(f"{name} must have a time axis, got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    if not -a.ndim <= int(axis) < a.ndim:
        raise ValueError(f"axis {int(axis)} is out of range for {name} with {a.ndim} dimension(s)")
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}): need at least one series with values")
    # A NaN or inf anywhere makes the sum non-finite; the sum reads the data without the boolean
    # temporary of isfinite(), and the full check runs only to tell overflow from bad values.
    if not np.isfinite(np.sum(a, dtype=np.float64)) and not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; fill or drop missing values first")
    return a, int(axis) % a.ndim


def _rows(a: np.ndarray, axis: int) -> np.ndarray:
    """The series of ``a`` as the rows of a C-contiguous (series, n) table."""
    moved = np.moveaxis(a, axis, -1)
    return np.ascontiguousarray(moved.reshape(-1, moved.shape[-1]))


def _back(rows: np.ndarray, a: np.ndarray, axis: int) -> np.ndarray:
    """Undo :func:`_rows`: reshape (series, n) to ``a``'s shape with time back on ``axis``."""
    moved_shape = np.moveaxis(a, axis, -1).shape
    return np.moveaxis(rows.reshape(moved_shape), -1, axis)


def _odd_window(value: Any, name: str, above: int | None = None) -> int:
    window = check_positive_int(value, name, minimum=3)
    if window % 2 == 0:
        raise ValueError(f"{name} must be odd, got {window}")
    if above is not None and window <= above:
        raise ValueError(f"{name} must be > period ({above}), got {window}")
    return window


def _degree(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value not in (0, 1):
        raise ValueError(f"{name} must be 0 (local constant) or 1 (local linear), got {value!r}")
    return int(value)


# --- decomposition -----------------------------------------------------------------------------


def decompose(
    x: Any,
    period: int | None = None,
    *,
    kernel_size: int | None = None,
    method: str = "moving_average",
    axis: int = -1,
    edges: str = "replicate",
    seasonal: int = 7,
    trend: int | None = None,
    low_pass: int | None = None,
    robust: bool = False,
    seasonal_deg: int = 1,
    trend_deg: int = 1,
    low_pass_deg: int = 1,
    seasonal_jump: int = 1,
    trend_jump: int = 1,
    low_pass_jump: int = 1,
    inner_iter: int | None = None,
    outer_iter: int | None = None,
    backend: str = "auto",
) -> Decomposition:
    """Split each series into trend, seasonal and residual parts: ``x = T + S + R``.

    **method="moving_average"** (the ``series_decomp`` block of Autoformer, DLinear, FEDformer,
    TimeMixer and KARMA). The trend is a moving average over ``kernel_size`` = k points (default:
    ``period``) of the series extended by ``(k - 1) // 2`` copies of its first value in front and
    ``k // 2`` copies of its last value behind::

        T[t] = (1/k) * sum_{j=0}^{k-1} x[clip(t - (k-1)//2 + j, 0, n-1)]

    For odd k this is exactly the models' padding; for even k the models' output is one step short
    and their forks pad ``k // 2`` at the end, as done here. Without ``period``, the whole
    remainder ``x - T`` is the "seasonal" part as the models name it, and R = 0. With ``period``
    (classical decomposition), S is the mean of ``x - T`` at each phase ``t mod period`` (phase 0
    at the first sample), centred to sum to zero over a period, and R = x - T - S.
    ``edges="nan"`` leaves the padded edge values of T as NaN (and averages S over the other
    points), which is statsmodels' ``seasonal_decompose(..., two_sided=True)`` for odd periods.
    Cost O(n) per series whatever k (a running sum in the C++ kernel).

    **method="stl"**: Seasonal-Trend decomposition by LOESS (Cleveland et al. 1990). Windows,
    degrees and jumps mean what they mean in statsmodels' ``STL`` (the same defaults: ``trend`` =
    the smallest odd integer > 1.5 * period / (1 - 1.5 / seasonal), ``low_pass`` = the smallest odd
    integer > period), and so do ``inner_iter`` (default 2 if robust else 5) and ``outer_iter``
    (default 15 if robust else 0). Needs ``n >= 2 * period``. Cost O(n * (seasonal + trend +
    low_pass) / jump) per inner iteration. Agrees with statsmodels to ~1e-12 relative; with very
    short windows (period 2, trend 5) the robust passes can be chaotic (a 1e-15 change of the data
    moves statsmodels' own robust trend by O(1)), and no two implementations then agree.

    Parameters
    ----------
    x : array_like
        Series along ``axis``; any other axes index independent series (channels).
    period : int, optional
        Seasonal period in samples (>= 2). Required for STL.
    kernel_size : int, optional
        Moving-average window (moving-average method only; default ``period``), 1 <= k <= n.
    method : {"moving_average", "stl"}
    axis : int
        The time axis.
    edges : {"replicate", "nan"}
        Moving-average method only: replicate padding or NaN edges (see above).
    seasonal, trend, low_pass, robust, seasonal_deg, trend_deg, low_pass_deg, seasonal_jump,
    trend_jump, low_pass_jump, inner_iter, outer_iter
        STL settings (STL only).
    backend : {"auto", "cpp", "numpy"}

    Returns
    -------
    Decomposition
        ``trend``, ``seasonal``, ``residual`` shaped like ``x`` (float32 for float32 input, else
        float64), plus ``weights`` (STL's robustness weights).

    References
    ----------
    Wu et al. (2021), "Autoformer", NeurIPS; Zeng et al. (2023), "Are Transformers Effective for
    Time Series Forecasting?" (DLinear), AAAI; Wang et al. (2024), "TimeMixer", ICLR (P35);
    KARMA (P12). R. B. Cleveland, W. S. Cleveland, J. E. McRae and I. Terpenning (1990), "STL: A
    Seasonal-Trend Decomposition Procedure Based on Loess", J. Official Statistics 6(1), 3-73.

    Examples
    --------
    >>> import numpy as np, infokit.timeseries as ts
    >>> t = np.arange(96.0)
    >>> d = ts.decompose(np.sin(2 * np.pi * t / 24) + 0.01 * t, kernel_size=25)
    >>> d.trend.shape
    (96,)
    """
    check_choice(method, "method", METHODS)
    a, ax = _as_series(x, axis)
    n = a.shape[ax]
    if period is not None:
        period = check_positive_int(period, "period", minimum=2)
        if n < period:
            raise ValueError(
                f"x has {n} samples along axis {ax}, shorter than period={period}: "
                "need at least one full period"
            )
    if method == "moving_average":
        return _moving_average_decomposition(a, ax, period, kernel_size, edges, backend)
    if kernel_size is not None:
        raise ValueError("kernel_size applies to method='moving_average'; STL takes trend=")
    if edges != "replicate":
        raise ValueError("edges applies to method='moving_average'; STL extrapolates its own edges")
    if period is None:
        raise ValueError("method='stl' needs period= (the seasonal period in samples)")
    if n < 2 * period:
        raise ValueError(
            f"x has {n} samples along axis {ax}: STL needs at least two periods "
            f"(2 * period = {2 * period})"
        )
    seasonal = _odd_window(seasonal, "seasonal")
    if trend is None:
        trend = int(np.ceil(1.5 * period / (1 - 1.5 / seasonal)))
        trend += trend % 2 == 0
    if low_pass is None:
        low_pass = period + 1
        low_pass += low_pass % 2 == 0
    trend = _odd_window(trend, "trend", above=period)
    low_pass = _odd_window(low_pass, "low_pass", above=period)
    robust = bool(robust)
    inner = 2 if robust else 5
    outer = 15 if robust else 0
    if inner_iter is not None:
        inner = check_positive_int(inner_iter, "inner_iter")
    if outer_iter is not None:
        outer = check_positive_int(outer_iter, "outer_iter", minimum=0)
    rows = _rows(a, ax)
    s, t, w = _kernels(backend).stl(
        rows,
        period,
        seasonal,
        trend,
        low_pass,
        _degree(seasonal_deg, "seasonal_deg"),
        _degree(trend_deg, "trend_deg"),
        _degree(low_pass_deg, "low_pass_deg"),
        check_positive_int(seasonal_jump, "seasonal_jump"),
        check_positive_int(trend_jump, "trend_jump"),
        check_positive_int(low_pass_jump, "low_pass_jump"),
        inner,
        outer,
        n_threads=get_num_threads(),
    )
    return Decomposition(
        trend=_back(t, a, ax),
        seasonal=_back(s, a, ax),
        residual=_back(rows - s - t, a, ax),
        method="stl",
        period=period,
        kernel_size=None,
        weights=_back(w, a, ax),
    )


def _moving_average_decomposition(
    a: np.ndarray, ax: int, period: int | None, kernel_size: Any, edges: str, backend: str
) -> Decomposition:
    check_choice(edges, "edges", EDGES)
    n = a.shape[ax]
    if kernel_size is None:
        if period is None:
            raise ValueError("give period= or kernel_size= (the moving-average window)")
        k = period
    else:
        k = check_positive_int(kernel_size, "kernel_size")
        if k > n:
            raise ValueError(
                f"kernel_size={k} is longer than x ({n} samples along axis {ax}); "
                "the window must fit in the series"
            )
    rows = _rows(a, ax)
    trend, rest = _kernels(backend).moving_average(rows, k, n_threads=get_num_threads())
    if edges == "nan":
        # The outputs whose window reaches into the padding.
        trend[:, : (k - 1) // 2] = np.nan
        trend[:, n - k // 2 :] = np.nan
        rest[np.isnan(trend)] = np.nan
    if period is None:
        seasonal, residual = rest, np.zeros(rest.shape, rest.dtype)  # calloc: pages come lazily
    else:
        seasonal = _seasonal_figure(rest, period, skip_nan=edges == "nan")
        residual = rest - seasonal
    return Decomposition(
        trend=_back(trend, a, ax),
        seasonal=_back(seasonal, a, ax),
        residual=_back(residual, a, ax),
        method="moving_average",
        period=period,
        kernel_size=k,
    )


def _seasonal_figure(detrended: np.ndarray, period: int, skip_nan: bool) -> np.ndarray:
    """Per-phase means of ``detrended`` (rows), centred over the period and tiled to full length."""
    n = detrended.shape[1]
    cycles = -(-n // period)
    padded = np.full((detrended.shape[0], cycles * period), np.nan)
    padded[:, :n] = detrended
    by_phase = padded.reshape(detrended.shape[0], cycles, period)
    with np.errstate(invalid="ignore"):
        counts = np.sum(~np.isnan(by_phase), axis=1)
        figure = np.nansum(by_phase, axis=1) / np.maximum(counts, 1)
    if skip_nan and (counts == 0).any():
        raise ValueError(
            "edges='nan' leaves some phase with no trend value; use a longer series or "
            "edges='replicate'"
        )
    figure -= figure.mean(axis=1, keepdims=True)
    return np.tile(figure, cycles)[:, :n].astype(detrended.dtype)


# --- multiscale ---------------------------------------------------------------------------------


def multiscale(
    x: Any, levels: int, *, window: int = 2, method: str = "avg", axis: int = -1
) -> list[np.ndarray]:
    """The series at ``levels + 1`` scales: ``[x, down(x), down(down(x)), ...]`` (TimeMixer, P35).

    Each level pools non-overlapping windows of ``window`` samples along ``axis`` (PyTorch's
    ``AvgPool1d(window, stride=window)`` or ``MaxPool1d``): level l has ``n // window**l``
    samples, the trailing ``n mod window`` samples of each level being dropped as the pooling does.
    ``method="avg"`` averages in float64; "max" takes maxima. Cost O(n) in total.

    Parameters
    ----------
    x : array_like
        Series along ``axis`` (any other axes are channels).
    levels : int
        Number of down-sampling steps (>= 0); the series must keep at least one sample.
    window : int
        Down-sampling factor per level (>= 1; TimeMixer's ``down_sampling_window``).
    method : {"avg", "max"}
    axis : int

    Returns
    -------
    list of ndarray
        ``levels + 1`` arrays, level 0 being ``x`` itself (as a float array).

    References
    ----------
    S. Wang et al. (2024), "TimeMixer: Decomposable Multiscale Mixing for Time Series
    Forecasting", ICLR (P35).
    """
    check_choice(method, "method", POOLING)
    levels = check_positive_int(levels, "levels", minimum=0)
    window = check_positive_int(window, "window")
    a, ax = _as_series(x, axis)
    n = a.shape[ax]
    if n < window**levels:
        raise ValueError(
            f"x has {n} samples along axis {ax}: {levels} levels of window {window} need at least "
            f"window**levels = {window**levels}"
        )
    scales = [a]
    current = np.moveaxis(a, ax, -1)
    for _ in range(levels):
        m = current.shape[-1] // window
        blocks = current[..., : m * window].reshape(*current.shape[:-1], m, window)
        if method == "avg":
            current = blocks.mean(axis=-1, dtype=np.float64).astype(a.dtype)
        else:
            current = blocks.max(axis=-1)
        scales.append(np.moveaxis(current, -1, ax))
    return scales


# --- periods ------------------------------------------------------------------------------------


def dominant_periods(x: Any, k: int = 2, *, axis: int = -1, per_series: bool = False) -> Periods:
    """The ``k`` periods with the largest Fourier amplitude (TimesNet's period detection).

    A = |rfft(x)| along ``axis`` (bins f = 0 .. n // 2), averaged over all other axes unless
    ``per_series``; the DC bin is excluded; the ``k`` largest bins f_1, ..., f_k (ties: lower f
    first) give the periods ``n // f_i`` in samples. Cost O(n log n) per series.

    Parameters
    ----------
    x : array_like
        Series along ``axis`` (n >= 2); any other axes are channels.
    k : int
        How many periods, 1 <= k <= n // 2.
    axis : int
    per_series : bool
        Rank the bins of every series separately (results shaped (..., k)) instead of ranking the
        mean amplitude over all series (TimesNet's choice; results shaped (k,)).

    Returns
    -------
    Periods
        ``periods``, ``frequencies`` (bin indices) and ``amplitudes`` (mean |rfft| at those bins).

    References
    ----------
    H. Wu et al. (2023), "TimesNet: Temporal 2D-Variation Modeling for General Time Series
    Analysis", ICLR (FFT_for_Period); used in the analyses of P33 and P35.
    """
    a, ax = _as_series(x, axis)
    n = a.shape[ax]
    if n < 2:
        raise ValueError(f"x has {n} sample along axis {ax}: need at least 2 to find a period")
    k = check_positive_int(k, "k")
    if k > n // 2:
        raise ValueError(f"k must be <= n // 2 = {n // 2} (the non-DC frequency bins), got {k}")
    amplitude = np.abs(np.fft.rfft(np.moveaxis(a, ax, -1).astype(np.float64), axis=-1))
    if not per_series:
        amplitude = amplitude.reshape(-1, amplitude.shape[-1]).mean(axis=0)
    candidates = amplitude[..., 1:]  # drop DC
    order = np.argsort(-candidates, axis=-1, kind="stable")[..., :k]
    frequencies = (order + 1).astype(np.int64)
    return Periods(
        periods=(n // frequencies).astype(np.int64),
        frequencies=frequencies,
        amplitudes=np.take_along_axis(candidates, order, axis=-1),
    )
