"""Calls every compiled kernel many times and fails if the process keeps growing (a leak).

Run by tools/sanitize.sh. Each call allocates O(n) scratch; a leak of it would add megabytes.
"""

from __future__ import annotations

import sys

import numpy as np

import infokit.coding
import infokit.continuous
import infokit.losses
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
    tables = rng.random((3, 2, 2, 2))
    tables /= tables.sum(axis=(1, 2, 3), keepdims=True)
    marginals = np.concatenate([p[0] / p[0].sum(), p[1] / p[1].sum()])
    sizes = np.array([200, 200], dtype=np.int64)
    masses = rng.random(2**10)
    focal = rng.integers(1, 2**10, 40).astype(np.uint64)
    focal_mass = np.full(40, 1 / 20)
    focal_offsets = np.array([0, 20, 40], dtype=np.int64)
    logits = rng.standard_normal((500, 30))
    labels = rng.integers(0, 30, 500)
    edges = np.linspace(0.0, 1.0, 16)
    conf = rng.random(500)
    correct = rng.random(500) < conf
    points = rng.standard_normal((300, 8))
    others = rng.standard_normal((200, 8))
    vec = rng.standard_normal((300, 2))
    # kNN engine and coders through their public functions (the kernels are classes and streams).
    real_x = rng.standard_normal((2000, 2))
    real_y = real_x + rng.standard_normal((2000, 2))
    symbols = rng.integers(0, 30, 5000)
    categorical = infokit.coding.Categorical(np.full(30, 1 / 30))
    gaussian = infokit.coding.QuantizedGaussian(0.0, 3.0, -40, 40)
    coded = infokit.coding.encode(symbols, categorical).data
    coded_g = infokit.coding.encode(symbols - 15, gaussian).data
    emb = rng.standard_normal((64, 16))
    cls = rng.standard_normal((300, 16))
    tokens = rng.integers(0, 300, 64)
    soft_targets = rng.dirichlet(np.ones(300), size=64)  # losses: soft targets
    cls_bias = rng.standard_normal(300)
    wide_emb = rng.standard_normal((256, 32))  # losses: n·V above the two-group threshold
    wide_cls = rng.standard_normal((20000, 32))
    wide_tokens = rng.integers(0, 20000, 256)
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
        lambda: core.broja_solve(tables, 1e-9, 200, n_threads=2),
        lambda: core.greedy_coupling(marginals, sizes, n_threads=2),
        lambda: core.set_transform(masses.reshape(1, -1), False, True, n_threads=2),
        lambda: core.focal_combine(focal, focal_mass, focal_offsets, 0, n_threads=2),
        lambda: core.top_label(logits, labels, True, True, n_threads=2),
        lambda: core.entropy_rows(logits, True, n_threads=2),
        lambda: core.bin_stats(conf, correct, edges, True, n_threads=2),
        lambda: core.classwise_bin_stats(logits, labels, True, edges, True, n_threads=2),
        lambda: core.temperature_sums(logits, labels, 1.0, n_threads=2),
        lambda: core.gaussian_cross_sum(points, others, 0.1, n_threads=2),
        lambda: core.gaussian_self_sum(points, 0.1, n_threads=2),
        lambda: core.gaussian_paired_sums(points, points, 0.1, 0.2, n_threads=2),
        lambda: core.gaussian_gram(points, 0.1, n_threads=2),
        lambda: core.gaussian_matvec(points, vec, 0.1, n_threads=2),
        lambda: infokit.continuous.mutual_information(real_x, real_y),
        lambda: infokit.continuous.entropy(real_x),
        lambda: infokit.coding.encode(symbols, categorical),
        lambda: infokit.coding.decode(coded, categorical),
        lambda: infokit.coding.decode(coded_g, gaussian),
        lambda: infokit.losses.cross_entropy(logits, labels, grad=True),
        lambda: infokit.losses.linear_cross_entropy(emb, cls, tokens, grad=True, strategy="vocab"),
        lambda: infokit.losses.linear_cross_entropy(emb, cls, tokens, grad=True, strategy="tokens"),
        # --- losses: soft targets (class probabilities) through both strategies ---
        lambda: infokit.losses.linear_cross_entropy(
            emb, cls, soft_targets, bias=cls_bias, softcap=5.0, grad=True, strategy="vocab"
        ),
        lambda: infokit.losses.linear_cross_entropy(
            emb, cls, soft_targets, bias=cls_bias, softcap=5.0, grad=True, strategy="tokens"
        ),
        # --- end soft targets ---
        # --- losses: the vocab strategy's two tile groups on two threads ---
        lambda: infokit.losses.linear_cross_entropy(
            wide_emb, wide_cls, wide_tokens, grad=True, strategy="vocab"
        ),
        # --- end vocab groups ---
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
