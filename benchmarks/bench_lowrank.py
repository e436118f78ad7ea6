"""Low-rank and tensor decompositions against their peers, in the same run, on one BLAS thread.

    python benchmarks/bench_lowrank.py        # prints the tables, updates benchmarks/RESULTS.md
    python benchmarks/bench_lowrank.py --quick --output -

Cases (issue 6 targets):
- randomized SVD of a 4096 × 4096 float32 matrix with singular values 1/i at rank 64: no slower
  than scikit-learn's ``randomized_svd`` with at most 1.01× the optimal error. Peers: scikit-learn
  (defaults: n_iter=7, LU normaliser; and n_iter=2, where its 'auto' normaliser is 'none'),
  scipy's ``svds`` (ARPACK).
- Tucker of a 128³ float32 tensor at ranks (16, 16, 16): at least 20× faster than tensorly's
  ``tucker`` with the same error.

Every contender runs on ONE BLAS thread (threadpoolctl): two threads on this shared 2-core
machine cost up to 10×. The error of each result is measured against the known optimum (the
matrix is built from its SVD), so no exact SVD has to run. Only this script's "## " section of
RESULTS.md is replaced (benchmarks/_results.py); the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.fft
from _results import RESULTS, load_average, write_section
from threadpoolctl import threadpool_limits

from infokit import lowrank, tensor

HEADING = "## Low-rank and tensor decompositions (benchmarks/bench_lowrank.py)"
SEED = 2026


def _have(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def _time(func: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds over ``repeats`` calls after one untimed warm-up; the last result."""
    result = func()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def decaying_matrix(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``A = U diag(1/i) Vᵀ`` with U, V orthogonal DCT bases under random signs and row/column
    permutations: O(n² log n) to build, singular values known exactly."""
    sigma = 1.0 / np.arange(1, n + 1)
    a = np.diag(sigma * rng.choice([-1.0, 1.0], n))
    a = scipy.fft.dct(a, axis=0, norm="ortho")
    a = scipy.fft.dct(a * rng.choice([-1.0, 1.0], n), axis=1, norm="ortho")
    a = a[rng.permutation(n)][:, rng.permutation(n)]
    return np.ascontiguousarray(a, dtype=np.float32), sigma


def _rel_err_lowrank(a: np.ndarray, u: np.ndarray, s: np.ndarray, vt: np.ndarray) -> float:
    resid = a.astype(np.float64) - (u.astype(np.float64) * s) @ vt.astype(np.float64)
    return float(np.linalg.norm(resid) / np.linalg.norm(a.astype(np.float64)))


def bench_svd(n: int, rank: int, repeats: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    a, sigma = decaying_matrix(n, rng)
    optimal = math.sqrt(float((sigma[rank:] ** 2).sum() / (sigma**2).sum()))
    rows: list[dict[str, Any]] = []

    def add(label: str, role: str, func: Callable[[], Any], reps: int = repeats) -> None:
        seconds, (u, s, vt) = _time(func, reps)
        err = _rel_err_lowrank(a, u, s, vt)
        rows.append(
            {
                "label": label,
                "role": role,
                "runs": reps,
                "seconds": seconds,
                "dtype": str(u.dtype),
                "excess": err / optimal,
            }
        )

    for q in (4, 2):  # the default first: the ratios are to it
        add(
            f"infokit.lowrank.svd(randomized, q={q})",
            "infokit",
            lambda q=q: tuple(
                lowrank.svd(a, rank, method="randomized", power_iterations=q, seed=0)
            ),
        )
    if _have("sklearn"):
        from sklearn.utils.extmath import randomized_svd

        add(
            "sklearn randomized_svd (defaults: n_iter=7, LU)",
            "peer",
            lambda: randomized_svd(a, rank, random_state=0),
        )
        add(
            "sklearn randomized_svd (n_iter=2: no normaliser)",
            "peer",
            lambda: randomized_svd(a, rank, n_iter=2, random_state=0),
        )
    from scipy.sparse.linalg import svds

    add(
        "scipy.sparse.linalg.svds (ARPACK)",
        "peer",
        lambda: svds(a, k=rank, random_state=0),
        reps=1,
    )
    return rows


def planted_tucker(shape: tuple[int, ...], ranks: tuple[int, ...], noise: float) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal(ranks)
    for mode, (size, r) in enumerate(zip(shape, ranks, strict=True)):
        u, _ = np.linalg.qr(rng.standard_normal((size, r)))
        x = tensor.mode_product(np.ascontiguousarray(x), u, mode)
    scale = noise * np.linalg.norm(x) / math.sqrt(x.size)
    return (x + scale * rng.standard_normal(x.shape)).astype(np.float32)


def bench_tucker(size: int, rank: int, repeats: int) -> list[dict[str, Any]]:
    shape, ranks = (size,) * 3, (rank,) * 3
    x = planted_tucker(shape, ranks, noise=0.3)
    x64 = x.astype(np.float64)
    norm = float(np.linalg.norm(x64))
    rows: list[dict[str, Any]] = []

    def add(label: str, role: str, func: Callable[[], Any], reps: int = repeats) -> None:
        seconds, dense = _time(func, reps)
        err = float(np.linalg.norm(x64 - np.asarray(dense, np.float64)) / norm)
        rows.append(
            {
                "label": label,
                "role": role,
                "runs": reps,
                "seconds": seconds,
                "dtype": str(np.asarray(dense).dtype),
                "error": err,
            }
        )

    add("infokit.tensor.tucker(hosvd)", "infokit", lambda: tensor.tucker(x, ranks).to_dense())
    add(
        "infokit.tensor.tucker(hooi)",
        "infokit",
        lambda: tensor.tucker(x, ranks, method="hooi").to_dense(),
    )
    if _have("tensorly"):
        import tensorly as tl
        from tensorly.decomposition import tucker as tl_tucker

        add(
            "tensorly tucker (defaults: HOOI)",
            "peer",
            lambda: tl.tucker_to_tensor(tl_tucker(x, rank=list(ranks))),
            reps=1,
        )
        add(
            "tensorly tucker (svd='randomized_svd')",
            "peer",
            lambda: tl.tucker_to_tensor(
                tl_tucker(x, rank=list(ranks), svd="randomized_svd", random_state=0)
            ),
            reps=1,
        )
    return rows


def bench_allocation(
    n_layers: int, n_levels: int, capacity: int, repeats: int
) -> list[dict[str, Any]]:
    """The rank-allocation DP: the C++ kernel against its numpy twin, and the greedy solver."""
    rng = np.random.default_rng(SEED)
    errors = [np.sort(rng.random(n_levels))[::-1] * 10 for _ in range(n_layers)]
    sizes = [np.sort(rng.integers(0, 2 * capacity // n_layers, n_levels)) for _ in range(n_layers)]
    budget = float(capacity)
    rows: list[dict[str, Any]] = []
    exact = lowrank.allocate_ranks(errors, sizes, budget, backend="numpy").total_error

    def add(label: str, role: str, func: Callable[[], Any], reps: int = repeats) -> None:
        seconds, res = _time(func, reps)
        rows.append(
            {
                "label": label,
                "role": role,
                "runs": reps,
                "seconds": seconds,
                "dtype": "-",
                "gap": res.total_error / exact - 1,
            }
        )

    add(
        "infokit allocate_ranks(dp), C++ kernel",
        "infokit",
        lambda: lowrank.allocate_ranks(errors, sizes, budget, backend="cpp"),
    )
    add(
        "infokit allocate_ranks(dp), numpy twin",
        "twin",
        lambda: lowrank.allocate_ranks(errors, sizes, budget, backend="numpy"),
    )
    add(
        "infokit allocate_ranks(greedy)",
        "infokit",
        lambda: lowrank.allocate_ranks(errors, sizes, budget, method="greedy"),
    )
    return rows


def _table(rows: list[dict[str, Any]], metric: str, metric_title: str) -> str:
    ref = next(r["seconds"] for r in rows if r["role"] == "infokit")
    head = f"| implementation | runs | median s | / infokit | dtype out | {metric_title} |"
    lines = [head, "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['runs']} | {r['seconds']:.3g} | {r['seconds'] / ref:.3g} "
            f"| {r['dtype']} | {r[metric]:.6g} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat")
    parser.add_argument(
        "--output", default=str(RESULTS), help="markdown file to update, or - for none"
    )
    args = parser.parse_args()
    n, tsize, repeats = (1024, 64, 1) if args.quick else (4096, 128, 3)
    dp_size = (50, 32, 2000) if args.quick else (200, 64, 10000)

    load_before = load_average()
    with threadpool_limits(limits=1):
        print(f"randomized SVD {n}² float32, rank 64 ...", file=sys.stderr)
        svd_rows = bench_svd(n, 64, repeats)
        print(f"Tucker {tsize}³ float32, ranks 16 ...", file=sys.stderr)
        tucker_rows = bench_tucker(tsize, 16, repeats)
        print("rank allocation DP ...", file=sys.stderr)
        dp_rows = bench_allocation(*dp_size, repeats)
    load_after = load_average()

    ours = svd_rows[0]  # the default: q = 4
    sk = next((r for r in svd_rows if r["label"].startswith("sklearn randomized_svd (def")), None)
    tl_row = next((r for r in tucker_rows if r["label"].startswith("tensorly tucker (def")), None)
    verdicts = [
        f"- randomized SVD (q = 4, the default): excess error {ours['excess']:.5f}× optimal "
        f"(target ≤ 1.01: {'met' if ours['excess'] <= 1.01 else 'NOT met'})"
    ]
    if sk is not None:
        ratio = sk["seconds"] / ours["seconds"]
        verdicts.append(
            f"- against scikit-learn's randomized_svd (defaults): infokit is {ratio:.2f}× as fast "
            f"(target ≥ 1: {'met' if ratio >= 1 else 'NOT met'})"
        )
    if tl_row is not None:
        ratio = tl_row["seconds"] / tucker_rows[0]["seconds"]
        same = abs(tucker_rows[0]["error"] - tl_row["error"]) <= 1e-3 * tl_row["error"]
        verdicts.append(
            f"- Tucker HOSVD against tensorly's tucker (defaults): {ratio:.1f}× as fast "
            f"(target ≥ 20×: {'met' if ratio >= 20 else 'NOT met'}), error "
            f"{tucker_rows[0]['error']:.6g} vs {tl_row['error']:.6g} "
            f"({'same to 0.1 %' if same else 'DIFFERENT'})"
        )
    body = "\n".join(
        [
            HEADING,
            "",
            "Written by `python benchmarks/bench_lowrank.py"
            + (" --quick" if args.quick else "")
            + f"` on {platform.machine()} ({os.cpu_count()} CPUs), every contender on ONE BLAS "
            "thread. The machine is shared: compare ratios from the same run.",
            f"Load average (1, 5, 15 min) before: {load_before}; after: {load_after}.",
            "",
            f"### Randomized SVD, {n} × {n} float32, σ_i = 1/i, rank 64",
            "",
            "'excess' = achieved relative Frobenius error / the Eckart–Young optimum "
            "(known: the matrix is built from its SVD).",
            "",
            _table(svd_rows, "excess", "error / optimum"),
            "",
            f"### Tucker, {tsize}³ float32 (planted 16³ core + 30 % noise), ranks (16, 16, 16)",
            "",
            _table(tucker_rows, "error", "relative error"),
            "",
            f"### Rank allocation: {dp_size[0]} layers × {dp_size[1]} levels, budget "
            f"{dp_size[2]} units",
            "",
            "'gap' = total error / the exact DP optimum − 1. The C++ kernel and its numpy twin "
            "return the same levels; OpenMP splits capacities only above 2^20 cells per thread.",
            "",
            _table(dp_rows, "gap", "gap to optimum"),
            "",
            *verdicts,
        ]
    )
    print(body)
    if args.output == "-":
        return
    write_section(args.output, HEADING, body)


if __name__ == "__main__":
    main()
