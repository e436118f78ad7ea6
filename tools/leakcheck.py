"""Calls every compiled kernel many times and fails if the process keeps growing (a leak).

Run by tools/sanitize.sh. Each call allocates O(n) scratch; a leak of it would add megabytes.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np

import infokit.coding
import infokit.compressors
import infokit.continuous
import infokit.losses
import infokit.pvq
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
    # --- compressors: top-k, error-feedback top-k, QSGD encode/decode, random-k ---
    grad32 = rng.standard_normal(200_000).astype(np.float32)
    grad64 = rng.standard_normal(200_000)
    residual32 = np.zeros_like(grad32)
    q_norms, q_packed = core.qsgd_encode_f32(grad32, 128, 4, 7, n_threads=2)
    compressor_calls = [
        lambda: core.topk_f32(grad32, 2000, n_threads=2),
        lambda: core.topk_f64(grad64, 2000, n_threads=2),
        lambda: core.topk_feedback_f32(grad32, residual32, 2000, n_threads=2),
        lambda: core.topk_approx_f32(grad32, 2000, n_threads=2),
        lambda: core.topk_approx_f64(grad64[:999], 7, n_threads=2),
        lambda: core.qsgd_encode_f64(grad64, 100, 3, 7, n_threads=2),
        lambda: core.qsgd_decode_f32(q_norms, q_packed, grad32.size, 128, 4, n_threads=2),
        lambda: core.randk_indices(grad64.size, 2000, 7),
        lambda: infokit.compressors.ErrorFeedback(infokit.compressors.QSGD()).step(grad32),
    ]
    # --- end compressors ---
    # --- dictionary: the pursuits on a 200-atom Gram matrix (csrc/include/infokit/dictionary) ---
    atoms = rng.standard_normal((200, 32))
    atoms /= np.linalg.norm(atoms, axis=1, keepdims=True)
    signals = rng.standard_normal((300, 32))
    d_gram, d_xy = atoms @ atoms.T, signals @ atoms.T
    d_norms = np.einsum("ij,ij->i", signals, signals)
    d_gram32, d_xy32 = d_gram.astype(np.float32), d_xy.astype(np.float32)
    dictionary_calls = [
        lambda: core.omp_gram(d_gram, d_xy, d_norms, 12, -1.0, n_threads=2),
        lambda: core.omp_gram(d_gram32, d_xy32, d_norms, 32, 0.5, n_threads=2),
        lambda: core.mp_gram(d_gram, d_xy, d_norms, 40, 0.5, n_threads=2),
        lambda: core.mp_gram(d_gram32, d_xy32, d_norms, 12, -1.0, n_threads=2),
    ]
    # --- end dictionary ---
    # --- kNN engine fast paths (branch knnspeed): grid self-kNN and its tree fallback, the
    # AVX2 leaf scans and box bounds in high dimension, the bucket-guided 1-D counts.
    grid2 = rng.standard_normal((3000, 2))
    grid3 = rng.standard_normal((3000, 3))
    crowded = np.vstack([np.zeros((400, 2)), rng.standard_normal((100, 2))])
    high = rng.standard_normal((2000, 16))
    high_radius = np.full(2000, 1.5)
    line = rng.standard_normal(5000)
    line_radius = rng.uniform(0.0, 0.1, 5000)
    knn_calls = [
        lambda: core.knn_self_points(grid2, 3, "chebyshev", 2),
        lambda: core.knn_self_points(grid3, 3, "euclidean", 2),
        lambda: core.knn_self_points(crowded, 3, "chebyshev", 2),
        lambda: core.KNNTree(high).knn_self(3, "chebyshev", 2),
        lambda: core.KNNTree(high).count_self(high_radius, True, "chebyshev", 2),
        lambda: core.SortedCounter(line).count_self(line_radius, True, 2),
    ]
    # --- end kNN engine fast paths
    soft_targets = rng.dirichlet(np.ones(300), size=64)  # losses: soft targets
    cls_bias = rng.standard_normal(300)
    wide_emb = rng.standard_normal((256, 32))  # losses: n·V above the two-group threshold
    wide_cls = rng.standard_normal((20000, 32))
    wide_tokens = rng.integers(0, 20000, 256)
    wide_emb32, wide_cls32 = wide_emb.astype(np.float32), wide_cls.astype(np.float32)
    wide_bias32 = rng.standard_normal(20000).astype(np.float32)
    gemm_a = rng.standard_normal((37, 70)).astype(np.float32)  # linalg: ragged on every axis
    gemm_b = rng.standard_normal((101, 70)).astype(np.float32)
    gemm_out = np.zeros((37, 101), np.float32)
    gemm_into = np.zeros((9, 50, 8), np.float32)  # a k-range of a larger packed operand
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
        # matrix: the fused two-sample sums (matrix4)
        lambda: core.gaussian_two_sample_sums(points, others, 0.1, n_threads=2),
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
        *compressor_calls,
        *dictionary_calls,
        # --- simd helpers (exp over buffers of every length; the tails go through padded lanes)
        lambda: core.simd_exp(series[0, :37] * 9.0 - 3.0),
        lambda: core.simd_exp_nonpositive(-series[1, :29].astype(np.float32)),
        *knn_calls,  # kNN engine fast paths (branch knnspeed)
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
        # --- linalg: packed float32 products and the engine's packed route ---
        lambda: core.linalg_gemm_packed(
            gemm_out, core.linalg_pack(gemm_a, "lhs"), core.linalg_pack(gemm_b.T, "rhs"), True, 2
        ),
        lambda: core.linalg_pack(gemm_a.T, "lhs", out=gemm_into[:, 3:40]),
        lambda: infokit.losses.linear_cross_entropy(
            wide_emb32, wide_cls32, wide_tokens, bias=wide_bias32, grad=True, strategy="vocab"
        ),
        # --- end linalg ---
    ]


# --- pvq: enumeration and greedy search (own block; extends calls() without editing it) ---
def pvq_calls() -> list:
    core = _backend.compiled("_core")
    assert core is not None, "compiled modules missing"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 32))
    pulses = core.pvq_search(x, 16, n_threads=2)
    indices = core.pvq_encode(pulses, 16, n_threads=2)
    bad = indices.copy()
    bad[-1] = np.uint64(2**63)  # out of range: the kernel reports it, the binding raises
    wide = infokit.pvq.encode(infokit.pvq.quantize(x, 64).pulses, 64, words=True)
    wide_bad = wide.copy()
    wide_bad[-1, -1] = np.uint64(2**63)  # out of range: reported as the bad row

    def out_of_range() -> None:
        with contextlib.suppress(ValueError):
            core.pvq_decode(bad, 32, 16, n_threads=2)

    return [
        lambda: core.pvq_size_table(64, 40),
        lambda: core.pvq_search(x, 16, n_threads=2),
        lambda: core.pvq_search(x.astype(np.float32), 40, n_threads=2),
        lambda: core.pvq_encode(pulses, 16, n_threads=2),
        lambda: core.pvq_decode(indices, 32, 16, n_threads=2),
        out_of_range,
        lambda: infokit.pvq.quantize(x[:200], 64),  # multi-word indices (V >= 2^64)
        lambda: core.pvq_encode_words(pulses, 16, 2, n_threads=2),
        lambda: core.pvq_decode_words(wide, 32, 64, n_threads=2),
        lambda: core.pvq_decode_words(wide_bad, 32, 64, n_threads=2),
    ]


_calls_without_pvq = calls


def calls() -> list:  # the pvq block's extension of calls() above
    return _calls_without_pvq() + pvq_calls()


# --- end pvq ---


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
