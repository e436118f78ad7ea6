"""Calls every compiled kernel many times and fails if the process keeps growing (a leak).

Run by tools/sanitize.sh. Each call allocates O(n) scratch; a leak of it would add megabytes.
"""

from __future__ import annotations

import sys

import numpy as np

from infokit import _backend


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def calls() -> list:
    core = _backend.compiled("_core")
    cypmf = _backend.compiled("_cypmf")
    assert core is not None and cypmf is not None, "compiled modules missing"
    rng = np.random.default_rng(0)
    narrow = rng.integers(0, 300, 200_000)
    wide = rng.integers(0, 2**60, 200_000)
    codes = rng.integers(0, 300, 200_000)
    p = rng.random((300, 200))
    series = rng.random((4, 2000))
    # allocate_ranks: 20 layers, each with 8 (error, units) options sorted by units.
    k_errors = np.sort(rng.random((20, 8)), axis=1)[:, ::-1].ravel().copy()
    k_units = np.tile(np.arange(8, dtype=np.int64) * 3, 20)
    k_offsets = np.arange(0, 161, 8, dtype=np.int64)
    return [
        lambda: core.histogram(narrow, n_threads=2),
        lambda: core.histogram(wide, n_threads=2),
        lambda: core.factorize(wide, n_threads=2),
        lambda: core.joint_counts(narrow, wide, n_threads=2),
        lambda: core.joint_counts(narrow, narrow[::-1].copy(), n_threads=2),
        lambda: core.combine(codes, codes, 300, 300, n_threads=2),
        lambda: cypmf.entropy(p, n_threads=2),
        lambda: core.moving_average(series, 25, n_threads=2),
        lambda: core.stl(series, 24, 7, 37, 25, 1, 1, 1, 1, 4, 3, 2, 1, n_threads=2),
        lambda: core.knapsack_dp(k_errors, k_units, k_offsets, 200, n_threads=2),
    ]


def main() -> int:
    fns = calls()
    for f in fns:  # warm-up: caches, thread pools, allocator arenas
        for _ in range(20):
            f()
    before = rss_mb()
    for f in fns:
        for _ in range(200):
            f()
    grown = rss_mb() - before
    print(f"leakcheck: RSS grew {grown:.1f} MB over {200 * len(fns)} kernel calls")
    return 1 if grown > 20 else 0


if __name__ == "__main__":
    sys.exit(main())
