// Single-precision matrix product on packed operands, for the cross-entropy engine's tiles.
//
// Why infokit multiplies matrices itself: the OpenBLAS that numpy and scipy ship picks its kernels
// by CPU model and falls back to its AVX2 (Haswell) kernels on CPUs it does not know, AVX-512 ones
// included (AMD Zen 5 here: half the machine's FMA throughput). The engine also multiplies the same
// operand many times (the embeddings once per vocabulary tile), which a BLAS call re-packs every
// time. So operands are packed once, in the layout the micro-kernel reads, and the product runs on
// the packed forms. The engine uses this path only where the AVX-512 kernel runs; elsewhere it
// keeps the BLAS (simd/dispatch.hpp: active_isa()).
//
// Packed layout. A "panel" is kWidth consecutive rows of an operand's outer dimension, stored
// k-major: panel q of an (outer × k) operand holds, for p in [0, k), the kWidth values
// x[q·W + w][p] for w in [0, W), zero past the last row. The left operand (m × k) is packed by rows
// with W = kMr, the right one (k × n) by columns with W = kNr. A packed operand is a
// (panels, k, W) array; slicing it by panels or by k gives a packed operand of a row block or of
// an inner range, which is how the engine reuses one packing for many products.
//
// C[m × n] (row stride ldc) = A·B, or += with `accumulate`. Every entry is summed over p in the
// same order (k blocks of kKc, each fully, in order) whatever the thread count or tiling around
// it, so results do not depend on threads. Sums are in float32 (as BLAS sgemm).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "infokit/parallel.hpp"
#include "infokit/simd/dispatch.hpp"

#ifdef INFOKIT_SIMD_X86
#include <immintrin.h>
#endif

namespace infokit::linalg {

inline constexpr std::size_t kMr = 8;    // rows of A per panel = rows of a micro-tile
inline constexpr std::size_t kNr = 48;   // columns of B per panel = columns of a micro-tile
// Inner block: a B micro-panel is kKc × kNr floats (48 KiB, Zen 5's L1d; 128 measured 2-5%
// slower there in the engine's shapes, as the C micro-tile is reloaded twice as often).
inline constexpr std::size_t kKc = 256;
inline constexpr std::size_t kMc = 128;  // rows of A per block: the block's panels stay in L2

inline std::size_t panels(std::size_t outer, std::size_t width) { return (outer + width - 1) / width; }

// A packed operand: panel q, inner index p, lane w at data[q·panel_stride + p·width + w].
struct Packed {
  const float* data;
  std::size_t n_panels;
  std::size_t k;
  std::size_t panel_stride;  // >= k·width
  std::size_t width;
};

// Packs the (outer × k) operand x[i][p] = x[i·s_outer + p·s_inner] into panels of `width` rows:
// panel q at dst + q·panel_stride (panel_stride >= k·width; larger when packing an inner range
// into a bigger packed operand). Strides are in elements and may be anything (a transposed view
// is packed directly).
inline void pack(const float* x, std::size_t outer, std::ptrdiff_t s_outer, std::size_t k,
                 std::ptrdiff_t s_inner, std::size_t width, float* dst, std::size_t panel_stride) {
  const std::size_t n_panels = panels(outer, width);
  for (std::size_t q = 0; q < n_panels; ++q) {
    const std::size_t w_valid = std::min(width, outer - q * width);
    float* out = dst + q * panel_stride;
    const float* src = x + static_cast<std::ptrdiff_t>(q * width) * s_outer;
    if (s_outer == 1) {  // the panel's lanes are contiguous in memory: one copy per p
      for (std::size_t p = 0; p < k; ++p) {
        const float* row = src + static_cast<std::ptrdiff_t>(p) * s_inner;
        float* o = out + p * width;
        std::size_t w = 0;
        for (; w < w_valid; ++w) o[w] = row[w];
        for (; w < width; ++w) o[w] = 0.0f;
      }
      continue;
    }
    // Otherwise transpose in blocks of 16 inner indices: each lane's reads stay sequential.
    constexpr std::size_t kBlock = 16;
    for (std::size_t p0 = 0; p0 < k; p0 += kBlock) {
      const std::size_t p1 = std::min(k, p0 + kBlock);
      for (std::size_t w = 0; w < width; ++w) {
        if (w >= w_valid) {
          for (std::size_t p = p0; p < p1; ++p) out[p * width + w] = 0.0f;
          continue;
        }
        const float* lane = src + static_cast<std::ptrdiff_t>(w) * s_outer;
        for (std::size_t p = p0; p < p1; ++p)
          out[p * width + w] = lane[static_cast<std::ptrdiff_t>(p) * s_inner];
      }
    }
  }
}

namespace detail {

// One micro-tile: C[rows × cols] (= or +=) Σ_{p < kc} a[p][i]·b[p][j], a and b micro-panels of kMr
// and kNr lanes. `rows` <= kMr and `cols` <= kNr clip the tile at the matrix edge.
INFOKIT_SIMD_CLONES inline void micro_portable(std::size_t kc, const float* a, const float* b,
                                               float* c, std::size_t ldc, std::size_t rows,
                                               std::size_t cols, bool add) {
  float acc[kMr][kNr] = {};
  for (std::size_t p = 0; p < kc; ++p) {
    const float* ap = a + p * kMr;
    const float* bp = b + p * kNr;
    for (std::size_t i = 0; i < kMr; ++i)
      for (std::size_t j = 0; j < kNr; ++j) acc[i][j] += ap[i] * bp[j];
  }
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) c[i * ldc + j] = add ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

#ifdef INFOKIT_SIMD_X86
// 8 rows × 3 vectors of 16: 24 accumulators hide the FMA latency of both pipes; per step three
// loads of B and eight broadcasts of A feed 24 FMAs.
INFOKIT_SIMD_TARGET_AVX512 inline void micro_avx512(std::size_t kc, const float* a, const float* b,
                                                    float* c, std::size_t ldc, std::size_t rows,
                                                    std::size_t cols, bool add) {
  static_assert(kNr == 48, "the AVX-512 micro-kernel holds a row of the tile in 3 vectors");
  __m512 acc[kMr][3];
  for (std::size_t i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = acc[i][2] = _mm512_setzero_ps();
  for (std::size_t p = 0; p < kc; ++p) {
    const float* ap = a + p * kMr;
    const float* bp = b + p * kNr;
    const __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16),
                 b2 = _mm512_loadu_ps(bp + 32);
    for (std::size_t i = 0; i < kMr; ++i) {  // fully unrolled: the accumulators stay in registers
      const __m512 x = _mm512_set1_ps(ap[i]);
      acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
      acc[i][2] = _mm512_fmadd_ps(x, b2, acc[i][2]);
    }
  }
  __mmask16 mask[3];
  for (std::size_t v = 0; v < 3; ++v) {
    const std::size_t lo = v * 16, valid = cols > lo ? std::min<std::size_t>(16, cols - lo) : 0;
    mask[v] = static_cast<__mmask16>((1u << valid) - 1u);
  }
  for (std::size_t i = 0; i < rows; ++i) {
    float* ci = c + i * ldc;
    for (std::size_t v = 0; v < 3; ++v) {
      if (mask[v] == 0) continue;
      __m512 r = acc[i][v];
      if (add) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask[v], ci + v * 16));
      _mm512_mask_storeu_ps(ci + v * 16, mask[v], r);
    }
  }
}
#endif

using Micro = void (*)(std::size_t, const float*, const float*, float*, std::size_t, std::size_t,
                       std::size_t, bool);

inline Micro micro_for(simd::Isa isa) {
#ifdef INFOKIT_SIMD_X86
  if (isa == simd::Isa::kAvx512) return micro_avx512;
#endif
  (void)isa;
  return micro_portable;
}

}  // namespace detail

// Whether products run on the fast (AVX-512) micro-kernel on this CPU, under the current cap.
inline bool fast_kernel() { return simd::active_isa() == simd::Isa::kAvx512; }

// C = A·B (or C += A·B), A packed with width kMr (m <= its panels·kMr), B with width kNr.
// Threads split B's panels (C's columns); the caller checks shapes (the bindings do).
inline void gemm_packed(std::size_t m, std::size_t n, const Packed& a, const Packed& b, float* c,
                        std::size_t ldc, bool accumulate, int n_threads) {
  const std::size_t k = a.k;
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (std::size_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const detail::Micro micro = detail::micro_for(simd::active_isa());
  const std::size_t m_panels = panels(m, kMr), n_panels = panels(n, kNr);
  // Enough work per thread that the fork-join pays: at least 4 micro-panels of columns.
  const int nt = threads_for(n_panels, n_threads, 4);
  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [q0, q1] = part_range(n_panels, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
    for (std::size_t p0 = 0; p0 < k; p0 += kKc) {
      const std::size_t kc = std::min(kKc, k - p0);
      const bool add = accumulate || p0 > 0;
      for (std::size_t i0 = 0; i0 < m_panels; i0 += kMc / kMr) {
        const std::size_t i1 = std::min(m_panels, i0 + kMc / kMr);
        for (std::size_t qb = q0; qb < q1; ++qb) {  // this B micro-panel stays near (L1/L2) ...
          const float* bp = b.data + qb * b.panel_stride + p0 * kNr;
          const std::size_t cols = std::min(kNr, n - qb * kNr);
          for (std::size_t qa = i0; qa < i1; ++qa) {  // ... while A's panels stream from L2
            const float* ap = a.data + qa * a.panel_stride + p0 * kMr;
            const std::size_t rows = std::min(kMr, m - qa * kMr);
            micro(kc, ap, bp, c + qa * kMr * ldc + qb * kNr, ldc, rows, cols, add);
          }
        }
      }
    }
  });
}

}  // namespace infokit::linalg
