"""Time-series decompositions against their peers: the moving-average ``series_decomp`` on a large
batch and STL (plain and robust) on 10^5 points.

    python benchmarks/bench_timeseries.py             # prints the tables, updates RESULTS.md
    python benchmarks/bench_timeseries.py --output -  # print only

Every contender runs on the same data in the same process: one untimed warm-up, then the median
of the timed calls (``infokit._bench.median_seconds``); statsmodels' STL is timed once, without a
warm-up, as it takes seconds. The section "## Time series" of benchmarks/RESULTS.md is replaced
(or appended); the other sections are kept.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from _results import RESULTS, load_average, write_section

import infokit
import infokit.timeseries as ts
from infokit import _bench
from infokit._reference import timeseries as ref

HEADING = "## Time series (benchmarks/bench_timeseries.py)"
SEED = 2024


def _have(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def _time(func: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    if repeats == 0:  # slow peer: one timed call, no warm-up
        start = _bench.time.perf_counter()
        result = func()
        return _bench.time.perf_counter() - start, result
    return _bench.median_seconds(func, (), repeats)


def _table(rows: list[tuple[str, str, int, float, str]], reference: float) -> list[str]:
    cells = [
        [label, threads, str(max(runs, 1)), _bench._fmt_ms(sec), f"{sec / reference:.3g}", same]
        for label, threads, runs, sec, same in rows
    ]
    header = ["implementation", "threads", "runs", "median ms", "/ infokit 1 thr", "same values"]
    return _bench.markdown_table(header, cells)


def moving_average_case(channels: int, n: int, k: int, repeats: int) -> list[str]:
    x = np.random.default_rng(SEED).standard_normal((channels, n)).cumsum(axis=1)
    rows: list[tuple[str, str, int, float, str]] = []

    def infokit_trend(data: np.ndarray) -> Callable[[], np.ndarray]:
        return lambda: ts.decompose(data, kernel_size=k).trend

    with infokit.threads(1):
        base, trend = _time(infokit_trend(x), repeats)
    rows.append(("infokit decompose(x, kernel_size=k)", "1", repeats, base, "reference"))
    with infokit.threads(2):
        sec, _ = _time(infokit_trend(x), repeats)
    rows.append(("infokit decompose(x, kernel_size=k)", "2", repeats, sec, "yes"))
    x32 = x.astype(np.float32)
    with infokit.threads(1):
        sec, t32 = _time(infokit_trend(x32), repeats)
    close32 = np.allclose(t32, trend, rtol=1e-5, atol=1e-3 * np.abs(x).max())
    rows.append(("infokit, float32 input", "1", repeats, sec, "yes" if close32 else "NO"))

    def same(other: np.ndarray, inner: bool = False) -> str:
        h = (k - 1) // 2
        a, b = (other[:, h:-h], trend[:, h:-h]) if inner else (other, trend)
        return ("yes" if np.allclose(a, b, rtol=1e-9, atol=1e-9) else "NO") + (
            " (interior)" if inner else ""
        )

    sec, out = _time(lambda: ref.moving_average(x, k)[0], repeats)
    rows.append(("numpy cumsum (infokit's twin)", "-", repeats, sec, same(out)))

    def convolve() -> np.ndarray:
        padded = np.concatenate(
            [np.repeat(x[:, :1], (k - 1) // 2, 1), x, np.repeat(x[:, -1:], k // 2, 1)], axis=1
        )
        window = np.full(k, 1.0 / k)
        return np.stack([np.convolve(row, window, mode="valid") for row in padded])

    sec, out = _time(convolve, repeats)
    rows.append(("np.convolve per row (padded)", "-", repeats, sec, same(out)))
    if _have("scipy.ndimage"):
        from scipy.ndimage import uniform_filter1d

        sec, out = _time(lambda: uniform_filter1d(x, k, axis=1, mode="nearest"), repeats)
        rows.append(("scipy uniform_filter1d(mode='nearest')", "-", repeats, sec, same(out)))
    if _have("pandas"):
        import pandas as pd

        frame = pd.DataFrame(x.T)

        def rolling() -> np.ndarray:
            return frame.rolling(k, center=True, min_periods=1).mean().to_numpy().T

        sec, out = _time(rolling, repeats)
        rows.append(("pandas rolling(center=True).mean()", "-", repeats, sec, same(out, True)))
    sec, _ = _time(lambda: np.copy(x), repeats)
    rows.append(("floor: np.copy(x)", "-", repeats, sec, ""))
    title = f"### moving-average decomposition, {channels} channels x {n:,} float64, kernel {k}"
    notes = [
        "",
        "pandas' centred rolling mean shrinks the window at the edges instead of padding, so only",
        "the interior is compared; scipy's uniform_filter1d with mode='nearest' is the same",
        "replicate padding for odd kernels. infokit writes two arrays (trend and seasonal), the",
        "peers one (the trend). The 2-thread row means something only when the load",
        "average is below the number of cores (otherwise the second thread finds no free core).",
    ]
    return [title, "", *_table(rows, base), *notes]


def stl_case(n: int, period: int, robust: bool, repeats: int) -> list[str]:
    rng = np.random.default_rng(SEED)
    t = np.arange(n)
    y = np.sin(2 * np.pi * t / period) + 1e-4 * t + 0.3 * rng.standard_normal(n)
    y[rng.choice(n, n // 100, replace=False)] += 5.0
    rows: list[tuple[str, str, int, float, str]] = []
    with infokit.threads(1):
        base, ours = _time(lambda: ts.decompose(y, period, method="stl", robust=robust), repeats)
    rows.append(("infokit decompose(method='stl')", "1", repeats, base, "reference"))
    lines = [f"### STL{' robust' if robust else ''}, n = {n:,}, period {period}", ""]
    if _have("statsmodels"):
        from statsmodels.tsa.seasonal import STL

        sec, theirs = _time(lambda: STL(y, period=period, robust=robust).fit(), 0)
        diff = max(
            float(np.abs(ours.trend - theirs.trend).max()),
            float(np.abs(ours.seasonal - theirs.seasonal).max()),
        )
        rows.append(("statsmodels STL(...).fit()", "-", 0, sec, f"max abs diff {diff:.1e}"))
        lines += _table(rows, base)
        lines += ["", f"- infokit is {sec / base:.1f}x as fast as statsmodels (target >= 10x)"]
    else:
        lines += [*_table(rows, base), "", "- statsmodels not installed: no peer timed"]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(RESULTS), help="markdown file, or - for none")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    load_before = load_average()
    parts = moving_average_case(64, 100_000, 25, args.repeats)
    parts += ["", *stl_case(100000, 24, False, 3)]
    parts += ["", *stl_case(100000, 24, True, 3)]
    load_after = load_average()
    info = _bench.machine_info()
    if _have("statsmodels"):
        info["statsmodels"] = importlib.import_module("statsmodels").__version__
    if _have("pandas"):
        info["pandas"] = importlib.import_module("pandas").__version__
    section = [
        HEADING,
        "",
        "Written by `python benchmarks/bench_timeseries.py`. Target from issue 8: robust STL on",
        "10^5 points >= 10x faster than statsmodels. The machine is shared by several agents:",
        "compare ratios from the same run, not absolute times.",
        f"Load average (1, 5, 15 min) before the run: {load_before}; after: {load_after}.",
        "",
        "Machine: " + "; ".join(f"{key} {value}" for key, value in info.items()),
        "",
        *parts,
        "",
    ]
    body = "\n".join(section)
    print(body)
    if args.output == "-":
        return
    write_section(args.output, HEADING, body)
    print(f"\nwrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
