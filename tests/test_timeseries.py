"""infokit.timeseries: decompositions against an independent DLinear re-implementation and
statsmodels (seasonal_decompose, STL), the C++ kernels against their numpy twins, periods and
multiscale pooling against closed forms, properties, layouts, threads and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from statsmodels.tsa.seasonal import STL, seasonal_decompose

import infokit
import infokit.timeseries as ts
from infokit import _backend
from infokit._reference import timeseries as ref

HAVE_CPP = "cpp" in _backend.available_backends()


def dlinear_trend(x: np.ndarray, k: int) -> np.ndarray:
    """DLinear's moving_avg written from its description: repeat the first and last value
    (k - 1) // 2 times, then AvgPool1d(k, stride=1) along time (here a 1-D series)."""
    front = np.full((k - 1) // 2, x[0])
    end = np.full((k - 1) // 2, x[-1])
    padded = np.concatenate([front, x, end])
    return np.lib.stride_tricks.sliding_window_view(padded, k).mean(axis=1)


def seasonal_series(n: int, period: int, seed: int, outliers: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = np.sin(2 * np.pi * t / period) + 0.5 * np.cos(4 * np.pi * t / period) + 0.01 * t
    y = y + 0.3 * rng.standard_normal(n)
    if outliers:
        y[rng.choice(n, size=max(1, n // 40), replace=False)] += 6.0
    return y


# --- moving average ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3, 25, 7])
def test_moving_average_matches_dlinear_odd_kernel(backend: str, k: int) -> None:
    x = np.random.default_rng(k).standard_normal(96).cumsum()
    d = ts.decompose(x, kernel_size=k)
    np.testing.assert_allclose(d.trend, dlinear_trend(x, k), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d.seasonal, x - dlinear_trend(x, k), rtol=1e-12, atol=1e-12)
    assert np.all(d.residual == 0) and d.period is None and d.kernel_size == k


@pytest.mark.parametrize("k", [2, 24])
def test_moving_average_even_kernel_extends_dlinear_by_one(backend: str, k: int) -> None:
    # DLinear's output is one step short for even k; ours agrees on the steps it has.
    x = np.random.default_rng(k).standard_normal(50).cumsum()
    trend = ts.decompose(x, kernel_size=k).trend
    np.testing.assert_allclose(trend[:-1], dlinear_trend(x, k), rtol=1e-12, atol=1e-12)
    # The last step pads k // 2 copies of the last value behind it.
    np.testing.assert_allclose(
        trend[-1], np.mean(np.concatenate([x[-k // 2 :], [x[-1]] * (k // 2)]))
    )


@pytest.mark.parametrize("period", [5, 7, 13])
def test_classical_matches_statsmodels_seasonal_decompose(backend: str, period: int) -> None:
    x = seasonal_series(10 * period + 3, period, period)
    ours = ts.decompose(x, period, edges="nan")
    theirs = seasonal_decompose(x, model="additive", period=period)
    np.testing.assert_array_equal(np.isnan(ours.trend), np.isnan(theirs.trend))
    np.testing.assert_allclose(ours.trend, theirs.trend, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.seasonal, theirs.seasonal, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.residual, theirs.resid, rtol=1e-12, atol=1e-12)


def test_classical_replicate_seasonal_figure(backend: str) -> None:
    x = seasonal_series(60, 12, 3)
    d = ts.decompose(x, 12, kernel_size=5)
    detrended = x - dlinear_trend(x, 5)
    figure = np.array([detrended[j::12].mean() for j in range(12)])
    figure -= figure.mean()
    np.testing.assert_allclose(d.seasonal, np.tile(figure, 5), atol=1e-12)
    np.testing.assert_allclose(d.trend + d.seasonal + d.residual, x, atol=1e-12)
    assert d.kernel_size == 5 and d.period == 12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_moving_average_kernel_matches_twin_across_blocks(dtype: type) -> None:
    if not HAVE_CPP:
        pytest.skip("compiled kernels not built")
    from infokit import _core

    # 40000 > the kernel's 16384-sample block: restarts of the running sum are exercised.
    x = np.random.default_rng(1).standard_normal((3, 40_000)).astype(dtype) + 100
    for k in (1, 2, 25, 999):
        cpp = _core.moving_average(x, k, 2)
        twin = ref.moving_average(x, k)
        for a, b in zip(cpp, twin, strict=True):
            assert a.dtype == dtype
            tol = 1e-5 if dtype == np.float32 else 1e-11
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 100)


def test_moving_average_threads_identical(backend: str) -> None:
    x = np.random.default_rng(2).standard_normal((4, 40_000))
    with infokit.threads(1):
        one = ts.decompose(x, kernel_size=25)
    with infokit.threads(2):
        two = ts.decompose(x, kernel_size=25)
    np.testing.assert_array_equal(one.trend, two.trend)
    np.testing.assert_array_equal(one.seasonal, two.seasonal)


# --- STL -------------------------------------------------------------------------------------


STL_CASES = [
    dict(robust=False),
    dict(robust=True, outer_iter=3),
    dict(robust=True, seasonal=11, seasonal_jump=3, trend_jump=4, low_pass_jump=2),
    dict(robust=False, seasonal_deg=0, trend_deg=0, low_pass_deg=0),
    dict(robust=False, seasonal=9, trend=31, low_pass=15),
]


@pytest.mark.parametrize("case", STL_CASES)
def test_stl_matches_statsmodels(backend: str, case: dict[str, object]) -> None:
    period = 12
    n = 300 if backend == "cpp" else 72  # the numpy twin is a slow loop
    for seed in (0, 1):
        x = seasonal_series(n, period, seed, outliers=True)
        ours = ts.decompose(x, period, method="stl", **case)  # type: ignore[arg-type]
        sm_kwargs = {k: v for k, v in case.items() if k not in ("outer_iter",)}
        theirs = STL(x, period=period, **sm_kwargs).fit(outer_iter=case.get("outer_iter"))
        np.testing.assert_allclose(ours.trend, theirs.trend, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ours.seasonal, theirs.seasonal, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ours.residual, theirs.resid, rtol=1e-10, atol=1e-10)
        assert ours.weights is not None
        np.testing.assert_allclose(ours.weights, theirs.weights, rtol=1e-10, atol=1e-10)


def test_stl_kernel_matches_twin_float32_and_batched() -> None:
    if not HAVE_CPP:
        pytest.skip("compiled kernels not built")
    x = np.stack([seasonal_series(60, 7, s, outliers=True) for s in range(3)]).astype(np.float32)
    args = (7, 7, 13, 9, 1, 1, 1, 1, 1, 1, 2, 1)
    from infokit import _core

    for a, b in zip(_core.stl(x, *args, 2), ref.stl(x, *args), strict=True):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_stl_batched_axis_and_threads() -> None:
    # (batch, length, channels) with time on axis 1, as the forecasting models lay it out.
    period, n = 12, 120
    x = np.stack([seasonal_series(n, period, s) for s in range(6)]).reshape(2, 3, n)
    x = np.ascontiguousarray(np.swapaxes(x, 1, 2))  # (2, n, 3)
    with infokit.threads(1):
        one = ts.decompose(x, period, method="stl", axis=1, robust=True, outer_iter=2)
    with infokit.threads(2):
        two = ts.decompose(x, period, method="stl", axis=1, robust=True, outer_iter=2)
    np.testing.assert_array_equal(one.trend, two.trend)
    assert one.trend.shape == x.shape
    single = STL(x[1, :, 2], period=period, robust=True).fit(outer_iter=2)
    np.testing.assert_allclose(one.trend[1, :, 2], single.trend, atol=1e-10)


def test_stl_constant_series(backend: str) -> None:
    # Residuals are rounding noise here; the robust passes must not disturb the fit.
    d = ts.decompose(np.full(48, 3.0), 12, method="stl", robust=True, outer_iter=2)
    np.testing.assert_allclose(d.trend, 3.0, atol=1e-12)
    np.testing.assert_allclose(d.seasonal, 0.0, atol=1e-12)
    assert d.weights is not None and np.all((d.weights >= 0) & (d.weights <= 1))


# --- periods and multiscale ------------------------------------------------------------------


def test_dominant_periods_of_sinusoids() -> None:
    t = np.arange(96)
    x = np.sin(2 * np.pi * t / 24) + 0.5 * np.sin(2 * np.pi * t / 8)
    p = ts.dominant_periods(x, 2)
    np.testing.assert_array_equal(p.periods, [24, 8])
    np.testing.assert_array_equal(p.frequencies, [4, 12])
    # |rfft| of A sin at an exact bin is A n / 2.
    np.testing.assert_allclose(p.amplitudes, [48.0, 24.0], atol=1e-9)


def test_dominant_periods_batched_mean_and_per_series() -> None:
    t = np.arange(120)
    rng = np.random.default_rng(0)
    a = 3 * np.sin(2 * np.pi * t / 30) + 0.1 * rng.standard_normal(120)
    b = 2 * np.sin(2 * np.pi * t / 12) + np.sin(2 * np.pi * t / 30) + 0.1 * rng.standard_normal(120)
    x = np.stack([a, b], axis=1)  # (time, channels)
    mean = ts.dominant_periods(x, 2, axis=0)
    np.testing.assert_array_equal(mean.periods, [30, 12])
    per = ts.dominant_periods(x, 1, axis=0, per_series=True)
    np.testing.assert_array_equal(per.periods, [[30], [12]])
    assert per.amplitudes.shape == (2, 1)


def test_dominant_periods_match_full_fft_recipe() -> None:
    # TimesNet's recipe, written with the full complex FFT instead of rfft: mean amplitude over
    # batch and channels, DC zeroed, top-k bins, period = n // f.
    x = np.random.default_rng(9).standard_normal((4, 50, 3))  # (batch, time, channels)
    amp = np.abs(np.fft.fft(x, axis=1))[:, : 50 // 2 + 1, :].mean(axis=(0, 2))
    amp[0] = 0.0
    top = np.argsort(-amp, kind="stable")[:5]
    p = ts.dominant_periods(x, 5, axis=1)
    np.testing.assert_array_equal(p.frequencies, top)
    np.testing.assert_array_equal(p.periods, 50 // top)
    np.testing.assert_allclose(p.amplitudes, amp[top], rtol=1e-12)


def test_multiscale_matches_strided_pooling() -> None:
    x = np.random.default_rng(4).standard_normal((2, 101, 3))  # time on axis 1
    scales = ts.multiscale(x, 3, window=3, axis=1)
    current = x
    for level in range(1, 4):
        m = current.shape[1] // 3
        windows = np.lib.stride_tricks.sliding_window_view(current, 3, axis=1)[:, ::3][:, :m]
        current = windows.mean(axis=-1)
        np.testing.assert_allclose(scales[level], current, rtol=1e-12)
    assert [s.shape[1] for s in scales] == [101, 33, 11, 3]


def test_multiscale_avg_and_max() -> None:
    x = np.arange(2 * 11, dtype=np.float32).reshape(2, 11)
    avg = ts.multiscale(x, 2, window=2)
    assert [s.shape for s in avg] == [(2, 11), (2, 5), (2, 2)]
    np.testing.assert_array_equal(avg[1][0], [0.5, 2.5, 4.5, 6.5, 8.5])
    np.testing.assert_array_equal(avg[2][0], [1.5, 5.5])
    assert avg[2].dtype == np.float32
    mx = ts.multiscale(x.T, 1, window=3, method="max", axis=0)
    np.testing.assert_array_equal(mx[1][:, 1], [13, 16, 19])
    assert len(ts.multiscale(x, 0)) == 1


# --- properties and layouts ----------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    x=hnp.arrays(np.float64, st.integers(8, 60), elements=st.floats(-1e3, 1e3)),
    k=st.integers(1, 8),
    period=st.integers(2, 8),
)
def test_parts_sum_to_series(x: np.ndarray, k: int, period: int) -> None:
    d = ts.decompose(x, period, kernel_size=k)
    np.testing.assert_allclose(d.trend + d.seasonal + d.residual, x, atol=1e-9)
    np.testing.assert_allclose(d.seasonal[:period].sum(), 0.0, atol=1e-8)
    # A moving average of an affine map is the affine map of the moving average.
    np.testing.assert_allclose(
        ts.decompose(2 * x + 5, kernel_size=k).trend, 2 * d.trend + 5, rtol=1e-9, atol=1e-8
    )


@settings(max_examples=20, deadline=None)
@given(slope=st.floats(-5, 5), k=st.sampled_from([3, 5, 9]), n=st.integers(20, 50))
def test_moving_average_keeps_lines_inside(slope: float, k: int, n: int) -> None:
    line = slope * np.arange(n) + 1.0
    trend = ts.decompose(line, kernel_size=k).trend
    h = (k - 1) // 2
    np.testing.assert_allclose(trend[h : n - h], line[h : n - h], atol=1e-9)


def test_layouts_and_dtypes(backend: str) -> None:
    x = np.random.default_rng(5).standard_normal((40, 3))
    base = ts.decompose(np.ascontiguousarray(x.T), 6, kernel_size=5)
    # Non-contiguous view, time on axis 0.
    view = ts.decompose(x, 6, kernel_size=5, axis=0)
    np.testing.assert_allclose(view.trend.T, base.trend, atol=1e-12)
    ro = x.copy()
    ro.flags.writeable = False
    np.testing.assert_allclose(ts.decompose(ro, 6, axis=0).trend, ts.decompose(x, 6, axis=0).trend)
    as32 = ts.decompose(x.astype(np.float32), 6, axis=0)
    assert as32.trend.dtype == np.float32 and as32.seasonal.dtype == np.float32
    ints = ts.decompose(np.arange(30), kernel_size=3)
    assert ints.trend.dtype == np.float64


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: ts.decompose(np.ones(5), 7), ValueError, r"5 samples .* shorter than period=7"),
        (lambda: ts.decompose(np.ones(20), 12, method="stl"), ValueError, r"two periods"),
        (lambda: ts.decompose(np.array([1.0, np.nan, 2.0]), kernel_size=2), ValueError, "NaN"),
        (lambda: ts.decompose(np.ones(5), kernel_size=6), ValueError, "kernel_size=6 is longer"),
        (lambda: ts.decompose(np.ones(5)), ValueError, "give period= or kernel_size="),
        (lambda: ts.decompose(np.ones(5), 1), ValueError, "period must be >= 2"),
        (lambda: ts.decompose(np.ones(5), 2.5), TypeError, "period must be an int"),
        (lambda: ts.decompose(np.ones(5), 2, method="x11"), ValueError, "method must be one of"),
        (lambda: ts.decompose(np.ones(5), 2, edges="zero"), ValueError, "edges must be one of"),
        (lambda: ts.decompose(np.ones(50), 12, method="stl", seasonal=8), ValueError, "odd"),
        (lambda: ts.decompose(np.ones(50), 12, method="stl", trend=11), ValueError, "> period"),
        (lambda: ts.decompose(np.ones(50), method="stl"), ValueError, "needs period="),
        (lambda: ts.decompose(np.ones(50), 5, method="stl", edges="nan"), ValueError, "edges"),
        (lambda: ts.decompose(np.ones(50), 5, method="stl", kernel_size=3), ValueError, "trend="),
        (lambda: ts.decompose(np.ones(3, complex), 2), TypeError, "real numbers"),
        (lambda: ts.decompose(np.ones(4), 2, axis=1), ValueError, "axis 1 is out of range"),
        (lambda: ts.dominant_periods(np.ones(10), 6), ValueError, r"k must be <= n // 2 = 5"),
        (lambda: ts.multiscale(np.ones(7), 3), ValueError, "need at least window"),
        (lambda: ts.multiscale(np.ones(8), 1, method="conv"), ValueError, "method must be one"),
        (lambda: ts.dominant_periods(np.ones(1), 1), ValueError, "at least 2"),
    ],
)
def test_bad_input(call: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]
