"""ECE from logits against its peers: infokit's fused kernel, the numpy softmax recipe and
torchmetrics (when torch is installed), all on the same float32 logits in one process.

    python benchmarks/bench_calibration.py                  # N = 10^6, C = 1000 (4 GB of logits)
    python benchmarks/bench_calibration.py --rows 100000 --output -

The section "## Calibration" of benchmarks/RESULTS.md is replaced (other sections are kept, via
benchmarks/_results.py).
Issue 7's target: ECE from logits at 10^6 x 1000 at least 5x faster than torchmetrics'
multiclass calibration error. Times are medians after one warm-up; the machine is shared, so
compare the ratios of one run, not absolute times.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from _results import RESULTS, write_section

import infokit
from infokit import _bench
from infokit import calibration as cal

HEADING = "## Calibration (benchmarks/bench_calibration.py)"
N_BINS = 15
TARGET = 5.0  # speed-up over torchmetrics asked by issue 7


def make_logits(rows: int, classes: int, seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    """float32 logits of a ~60 %-accurate classifier, built in blocks to cap the temporaries."""
    rng = np.random.default_rng(seed)
    z = np.empty((rows, classes), dtype=np.float32)
    for start in range(0, rows, 50_000):
        stop = min(rows, start + 50_000)
        z[start:stop] = rng.standard_normal((stop - start, classes), dtype=np.float32) * 3
    y = rng.integers(0, classes, rows)
    right = rng.random(rows) < 0.6
    y[right] = z[right].argmax(axis=1)
    return z, y


def numpy_recipe(z: np.ndarray, y: np.ndarray) -> float:
    """The usual numpy route, written with one temporary table: softmax max, argmax, bincount."""
    e = z - z.max(axis=1, keepdims=True)
    np.exp(e, out=e)
    conf = 1.0 / e.sum(axis=1, dtype=np.float64)
    del e
    correct = z.argmax(axis=1) == y
    edges = np.arange(N_BINS + 1) / N_BINS
    b = np.searchsorted(edges[1:-1], conf, side="right")
    n = np.bincount(b, minlength=N_BINS)
    acc = np.bincount(b, weights=correct, minlength=N_BINS)
    cs = np.bincount(b, weights=conf, minlength=N_BINS)
    filled = n > 0
    return float(np.sum(np.abs(acc[filled] - cs[filled])) / len(y))


def contenders() -> list[tuple[str, str, Callable[..., Any], int | None]]:
    """(label, role, function of (z, y), infokit threads or None)."""
    out: list[tuple[str, str, Callable[..., Any], int | None]] = [
        ("infokit ece(from_logits=True)", "infokit", _infokit, 1),
        ("infokit ece(from_logits=True)", "infokit", _infokit, 2),
        ("numpy softmax recipe", "peer", numpy_recipe, None),
        ("read floor: z.sum()", "floor", lambda z, y: z.sum(dtype=np.float64), None),
    ]
    try:
        import torch
        from torchmetrics.functional.classification import multiclass_calibration_error
    except ImportError:
        return out

    def torchmetrics_ece(z: np.ndarray, y: np.ndarray) -> float:
        zt, yt = torch.from_numpy(z), torch.from_numpy(y)
        return float(multiclass_calibration_error(zt, yt, z.shape[1], n_bins=N_BINS, norm="l1"))

    out.insert(2, ("torchmetrics multiclass_calibration_error", "peer", torchmetrics_ece, None))
    return out


def _infokit(z: np.ndarray, y: np.ndarray) -> float:
    return cal.ece(z, y, from_logits=True, n_bins=N_BINS)


def versions() -> dict[str, str]:
    info = _bench.machine_info()
    for name in ("torch", "torchmetrics", "netcal"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = "not installed"
    return info


def run(rows: int, classes: int, repeats: int) -> str:
    z, y = make_logits(rows, classes)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else ()
    rows_out = []
    times: dict[str, float] = {}
    reference = None
    for label, role, func, threads in contenders():
        print(f"  timing {label} ({threads or 'default'} threads)", file=sys.stderr, flush=True)
        gc.collect()
        with infokit.threads(threads) if threads else contextlib.nullcontext():
            seconds, value = _bench.median_seconds(func, (z, y), repeats)
        key = f"{label} [{threads}]" if threads else label
        times[key] = seconds
        if role == "infokit" and reference is None:
            reference = float(value)
        agrees = "" if role == "floor" else f"{float(value):.7f}"
        rows_out.append([label, role, str(threads or "own"), f"{seconds * 1e3:.0f}", agrees])
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else ()
    best = min(v for k, v in times.items() if k.startswith("infokit"))
    for r in rows_out:
        key = f"{r[0]} [{r[2]}]" if r[1] == "infokit" else r[0]
        r.insert(4, f"{times[key] / best:.2f}")
    lines = [
        HEADING,
        "",
        "Written by `python benchmarks/bench_calibration.py`. ECE (15 uniform bins) from float32",
        f"logits, N = {rows:,} rows x C = {classes} classes, labels ~60 % correct; median of",
        f"{repeats} timed calls after one warm-up, all in one process on the same arrays.",
        "infokit fuses softmax -> (confidence, correctness) in one C++ pass over each row",
        "(exp in vectorised float32, sums in float64) and never forms the probability table;",
        "the numpy recipe forms one N x C temporary; torchmetrics forms the softmax table.",
        f"Issue 7's target: >= {TARGET:g}x faster than torchmetrics.",
        "",
        "Load average (1, 5, 15 min) before: "
        + ", ".join(f"{v:.2f}" for v in load_before)
        + "; after: "
        + ", ".join(f"{v:.2f}" for v in load_after)
        + ". Compare ratios, not absolute times.",
        "",
        *_bench.markdown_table(
            ["method", "role", "threads", "ms", "time / best infokit", "ECE"], rows_out
        ),
        "",
    ]
    tm = times.get("torchmetrics multiclass_calibration_error")
    if tm is not None:
        lines.append(
            f"Speed-up over torchmetrics: {tm / best:.1f}x (target {TARGET:g}x); over the numpy "
            f"recipe: {times['numpy softmax recipe'] / best:.1f}x."
        )
    else:
        lines.append("torchmetrics not installed: no comparison with it in this run.")
    lines += ["", *temperature_table()]
    lines += [
        "Machine: " + "; ".join(f"{k}: {v}" for k, v in versions().items()),
        "",
    ]
    return "\n".join(lines)


def temperature_table(rows: int = 50_000, classes: int = 100, repeats: int = 3) -> list[str]:
    """fit_temperature against scipy's bounded scalar minimiser and torch's LBFGS on log T."""
    import scipy.optimize
    import scipy.special

    z, y = make_logits(rows, classes, seed=7)
    z64 = z.astype(np.float64) * 0.5

    def scipy_fit(z: np.ndarray, y: np.ndarray) -> float:
        def nll(log_t: float) -> float:
            zt = z / np.exp(log_t)
            return float(np.mean(scipy.special.logsumexp(zt, axis=1) - zt[np.arange(len(y)), y]))

        return float(np.exp(scipy.optimize.minimize_scalar(nll, bounds=(-5, 5)).x))

    entries: list[tuple[str, Callable[..., Any]]] = [
        (
            "infokit fit_temperature (Newton on 1/T)",
            lambda z, y: cal.fit_temperature(z, y).temperature,
        ),
        ("scipy minimize_scalar on log T (numpy NLL)", scipy_fit),
    ]
    try:
        import torch

        def torch_fit(z: np.ndarray, y: np.ndarray) -> float:
            zt, yt = torch.from_numpy(z), torch.from_numpy(y)
            log_t = torch.zeros(1, dtype=zt.dtype, requires_grad=True)
            opt = torch.optim.LBFGS(
                [log_t], lr=0.5, max_iter=100, tolerance_grad=1e-10, line_search_fn="strong_wolfe"
            )

            def closure() -> Any:
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(zt / log_t.exp(), yt)
                loss.backward()
                return loss

            opt.step(closure)
            return float(log_t.detach().exp())

        entries.append(("torch LBFGS on log T (F.cross_entropy)", torch_fit))
    except ImportError:
        pass
    out, base = [], None
    for label, func in entries:
        print(f"  timing {label}", file=sys.stderr, flush=True)
        seconds, value = _bench.median_seconds(func, (z64, y), repeats)
        base = base or seconds
        out.append([label, f"{seconds * 1e3:.0f}", f"{seconds / base:.2f}", f"{float(value):.8f}"])
    return [
        f"Temperature scaling, float64 logits, N = {rows:,} x C = {classes} (same run; scipy's",
        "bounded Brent stops at xatol 1e-5 on log T, LBFGS at its own tolerances, so their T",
        "differ from the Newton optimum in the 6th-7th digit):",
        "",
        *_bench.markdown_table(["method", "ms", "time / infokit", "T"], out),
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(RESULTS), help="markdown file, or - for none")
    args = parser.parse_args()
    section = run(args.rows, args.classes, args.repeats)
    print(section)
    if args.output == "-":
        return
    write_section(args.output, HEADING, section)
    print(f"\nwrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
