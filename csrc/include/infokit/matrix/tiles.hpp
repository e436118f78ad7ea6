// The inner loops of the Gaussian kernel sums, one version per instruction set (AVX-512, AVX2 +
// FMA, portable), chosen at run time by simd::active_isa() (see simd/dispatch.hpp).
//
// With the bandwidth folded into the data (u = sqrt(gamma) x, s_i = ||u_i||^2), a kernel entry is
//     k(x_i, y_j) = exp(-gamma ||x_i - y_j||^2) = exp(min(0, 2 u_i.v_j - (s_i + t_j))),
// so a tile of entries is a small matrix product (dots, the GEMM-shaped part: d fused
// multiply-adds per entry in register tiles) followed by an exp-and-sum pass over each row.
//
// Exactness on the diagonal: s_i is accumulated by the same chain of operations (fused
// multiply-adds where the tile kernel uses them, k ascending) as the tile's u_i.u_i, so
// 2 u_i.u_i - (s_i + s_i) is exactly 0 and k(x, x) = 1 exactly; the expression is also symmetric
// in i and j. Elsewhere the GEMM form loses about 1e-16 * (s_i + t_j) absolutely in the exponent
// (the dense numpy recipe computes the same form).
//
// The exp: the AVX-512 path uses the table variant for x <= 0 (simd/exp_avx512.hpp, < 2^-51
// relative), the others exp_fast (< 2^-52); results of different paths agree to about 1e-15.
// (The AVX-512 path clamps a positive exponent, rounding noise, to -e instead of 0: the same
// size of error, see exponents_avx512.)
//
// Speed (AVX-512, d = 64, one core): the multiply-adds alone take 4 cycles per entry at 2 FMA
// instructions per cycle, and the exp adds about 12 FMA-pipe operations per 8 entries; one
// thread ran MMD's three sums at n = 2·10^4 in 0.99 s CPU with this software-pipelined tile sum
// against 1.07 s with the two-phase one (benchmarks/RESULTS.md, matrix section).
//
// Columns come packed in panels of kPanel, each stored feature-major (d x kPanel contiguous) and
// zero-padded; padded columns carry t = +inf, so their entries are exp(-inf) = 0 and every row
// pass can run over whole panels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>

#include "infokit/simd/dispatch.hpp"
#include "infokit/simd/exp.hpp"
#include "infokit/simd/exp_avx512.hpp"

#ifdef INFOKIT_SIMD_X86
#include <immintrin.h>
#endif

INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN

namespace infokit::matrix {

inline constexpr std::size_t kPanel = 16;    // columns per packed panel (a multiple of every NR)
inline constexpr std::size_t kRowTile = 24;  // rows per dots() call (a multiple of every MR)

// The kernels of one instruction set. Shapes: `rows` points at n_rows <= kRowTile consecutive
// rows of d doubles; `panels` at n_panels packed panels; `out` receives n_rows x
// (n_panels * kPanel) dot products, row-major. The row passes take count = a multiple of kPanel.
struct TileOps {
  void (*dots)(const double* rows, std::size_t n_rows, std::size_t d, const double* panels,
               std::size_t n_panels, double* out);
  double (*norm)(const double* row, std::size_t d);
  // sum_j exp(min(0, 2 dots[j] - (s + t[j])))
  double (*exp_row_sum)(const double* dots, const double* t, double s, std::size_t count);
  // out[j] = exp(min(0, 2 dots[j] - (s + t[j])))
  void (*exp_row)(const double* dots, const double* t, double s, std::size_t count, double* out);
  // Optional (null: use dots + exp_row_sum): the sum of all entries of n_rows rows (any number,
  // norms s) with n_panels panels (norms t), the exp applied to the dot products while they are
  // still in registers.
  double (*tile_sum)(const double* rows, const double* s, std::size_t n_rows, std::size_t d,
                     const double* panels, const double* t, std::size_t n_panels);
};

namespace tiles_detail {

// ---- portable ---------------------------------------------------------------------------------

inline void dots_portable(const double* rows, std::size_t n_rows, std::size_t d,
                          const double* panels, std::size_t n_panels, double* out) {
  constexpr std::size_t kMr = 4, kNr = 4;
  const std::size_t ld = n_panels * kPanel;
  for (std::size_t p = 0; p < n_panels; ++p) {
    const double* b = panels + p * d * kPanel;
    for (std::size_t i0 = 0; i0 < n_rows; i0 += kMr) {
      const double* a[kMr];
      for (std::size_t r = 0; r < kMr; ++r) a[r] = rows + std::min(i0 + r, n_rows - 1) * d;
      for (std::size_t c0 = 0; c0 < kPanel; c0 += kNr) {
        double acc[kMr][kNr] = {};
        for (std::size_t k = 0; k < d; ++k) {
          const double* bk = b + k * kPanel + c0;
          for (std::size_t r = 0; r < kMr; ++r)
            for (std::size_t c = 0; c < kNr; ++c) acc[r][c] = acc[r][c] + a[r][k] * bk[c];
        }
        for (std::size_t r = 0; r < kMr && i0 + r < n_rows; ++r)
          std::memcpy(out + (i0 + r) * ld + p * kPanel + c0, acc[r], sizeof acc[r]);
      }
    }
  }
}

inline double norm_portable(const double* row, std::size_t d) {
  double acc = 0.0;
  for (std::size_t k = 0; k < d; ++k) acc = acc + row[k] * row[k];
  return acc;
}

INFOKIT_SIMD_INLINE double exponent_of(double dot, double s, double t) {
  const double e = (dot + dot) - (s + t);
  return e < 0.0 ? e : 0.0;
}

inline double exp_row_sum_portable(const double* dots, const double* t, double s,
                                   std::size_t count) {
  double acc[4] = {0.0, 0.0, 0.0, 0.0};
  for (std::size_t j = 0; j < count; j += 4)
    for (std::size_t l = 0; l < 4; ++l)
      acc[l] += simd::exp_fast(exponent_of(dots[j + l], s, t[j + l]));
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

inline void exp_row_portable(const double* dots, const double* t, double s, std::size_t count,
                             double* out) {
  for (std::size_t j = 0; j < count; ++j) out[j] = simd::exp_fast(exponent_of(dots[j], s, t[j]));
}

// ---- explicit vectors (AVX2: 4 lanes, AVX-512: 8 lanes) ---------------------------------------

#if defined(__GNUC__) || defined(__clang__)
typedef double v4d __attribute__((vector_size(32)));

// e = min(0, 2 dots - (s + t)) lane by lane (vectors by reference: passing them by value would
// change the ABI between instruction sets).
template <class V>
INFOKIT_SIMD_INLINE void exponents_of(const double* dots, const double* t, double s, V& e) {
  V dv, tv;
  std::memcpy(&dv, dots, sizeof dv);
  std::memcpy(&tv, t, sizeof tv);
  e = (dv + dv) - (s + tv);
  e = e < V{} ? e : V{};
}

template <class V>
INFOKIT_SIMD_INLINE double exp_row_sum_lanes(const double* dots, const double* t, double s,
                                             std::size_t count) {
  constexpr std::size_t kLanes = sizeof(V) / sizeof(double);
  V acc0{}, acc1{};
  for (std::size_t j = 0; j < count; j += 2 * kLanes) {  // count is a multiple of kPanel = 16
    V e0, e1;
    exponents_of(dots + j, t + j, s, e0);
    exponents_of(dots + j + kLanes, t + j + kLanes, s, e1);
    simd::exp_fast_lanes(e0);
    simd::exp_fast_lanes(e1);
    acc0 += e0;
    acc1 += e1;
  }
  const V acc = acc0 + acc1;
  double lanes[kLanes];
  std::memcpy(lanes, &acc, sizeof acc);
  double total = 0.0;
  for (std::size_t l = 0; l < kLanes; ++l) total += lanes[l];
  return total;
}

template <class V>
INFOKIT_SIMD_INLINE void exp_row_lanes(const double* dots, const double* t, double s,
                                       std::size_t count, double* out) {
  constexpr std::size_t kLanes = sizeof(V) / sizeof(double);
  for (std::size_t j = 0; j < count; j += kLanes) {
    V e;
    exponents_of(dots + j, t + j, s, e);
    simd::exp_fast_lanes(e);
    std::memcpy(out + j, &e, sizeof e);
  }
}
#endif

#ifdef INFOKIT_SIMD_X86

// s = sum_k fma(u_k, u_k, s): the same rounding as the fused tile kernels below.
INFOKIT_SIMD_TARGET_AVX2 inline double norm_fma(const double* row, std::size_t d) {
  double acc = 0.0;
  for (std::size_t k = 0; k < d; ++k) acc = std::fma(row[k], row[k], acc);
  return acc;
}

// 6 rows x 8 columns of accumulators (12 of the 16 ymm registers), each panel in two halves.
INFOKIT_SIMD_TARGET_AVX2 inline void dots_avx2(const double* rows, std::size_t n_rows,
                                               std::size_t d, const double* panels,
                                               std::size_t n_panels, double* out) {
  constexpr std::size_t kMr = 6;
  const std::size_t ld = n_panels * kPanel;
  for (std::size_t p = 0; p < n_panels; ++p) {
    const double* b = panels + p * d * kPanel;
    for (std::size_t i0 = 0; i0 < n_rows; i0 += kMr) {
      const double* a[kMr];
      for (std::size_t r = 0; r < kMr; ++r) a[r] = rows + std::min(i0 + r, n_rows - 1) * d;
      for (std::size_t half = 0; half < kPanel; half += 8) {
        __m256d c[kMr][2];
        for (std::size_t r = 0; r < kMr; ++r) c[r][0] = c[r][1] = _mm256_setzero_pd();
        for (std::size_t k = 0; k < d; ++k) {
          const __m256d b0 = _mm256_loadu_pd(b + k * kPanel + half);
          const __m256d b1 = _mm256_loadu_pd(b + k * kPanel + half + 4);
          for (std::size_t r = 0; r < kMr; ++r) {
            const __m256d ar = _mm256_broadcast_sd(a[r] + k);
            c[r][0] = _mm256_fmadd_pd(ar, b0, c[r][0]);
            c[r][1] = _mm256_fmadd_pd(ar, b1, c[r][1]);
          }
        }
        for (std::size_t r = 0; r < kMr && i0 + r < n_rows; ++r) {
          double* o = out + (i0 + r) * ld + p * kPanel + half;
          _mm256_storeu_pd(o, c[r][0]);
          _mm256_storeu_pd(o + 4, c[r][1]);
        }
      }
    }
  }
}

INFOKIT_SIMD_TARGET_AVX2 inline double exp_row_sum_avx2(const double* dots, const double* t,
                                                        double s, std::size_t count) {
  return exp_row_sum_lanes<v4d>(dots, t, s, count);
}

INFOKIT_SIMD_TARGET_AVX2 inline void exp_row_avx2(const double* dots, const double* t, double s,
                                                  std::size_t count, double* out) {
  exp_row_lanes<v4d>(dots, t, s, count, out);
}

// 8 rows x 16 columns (a whole panel) of accumulators: 16 of the 32 zmm registers.
INFOKIT_SIMD_TARGET_AVX512 inline void dots_avx512(const double* rows, std::size_t n_rows,
                                                   std::size_t d, const double* panels,
                                                   std::size_t n_panels, double* out) {
  constexpr std::size_t kMr = 8;
  const std::size_t ld = n_panels * kPanel;
  for (std::size_t p = 0; p < n_panels; ++p) {
    const double* b = panels + p * d * kPanel;
    for (std::size_t i0 = 0; i0 < n_rows; i0 += kMr) {
      const double* a[kMr];
      for (std::size_t r = 0; r < kMr; ++r) a[r] = rows + std::min(i0 + r, n_rows - 1) * d;
      __m512d c[kMr][2];
      for (std::size_t r = 0; r < kMr; ++r) c[r][0] = c[r][1] = _mm512_setzero_pd();
      for (std::size_t k = 0; k < d; ++k) {
        const __m512d b0 = _mm512_loadu_pd(b + k * kPanel);
        const __m512d b1 = _mm512_loadu_pd(b + k * kPanel + 8);
        for (std::size_t r = 0; r < kMr; ++r) {
          const __m512d ar = _mm512_set1_pd(a[r][k]);
          c[r][0] = _mm512_fmadd_pd(ar, b0, c[r][0]);
          c[r][1] = _mm512_fmadd_pd(ar, b1, c[r][1]);
        }
      }
      for (std::size_t r = 0; r < kMr && i0 + r < n_rows; ++r) {
        double* o = out + (i0 + r) * ld + p * kPanel;
        _mm512_storeu_pd(o, c[r][0]);
        _mm512_storeu_pd(o + 8, c[r][1]);
      }
    }
  }
}

// The exponents of 8 columns, e = 2 dots - (s + t), clamped for exp_clamped_avx512 in one
// vrangepd: -min(|e|, 800). For e <= 0 (every entry but rounding noise) that is max(e, -800);
// e^-800 scales to exactly 0, like the e = -inf of padding columns; NaN stays NaN. A positive
// e, at most a few ulp of s + t from rounding, becomes -e: the entry is then 1 - e instead of 1,
// the same size of error the GEMM form has anyway, and still <= 1.
INFOKIT_SIMD_TARGET_AVX512 INFOKIT_SIMD_INLINE __m512d exponents_avx512(__m512d dots, __m512d s,
                                                                       __m512d t) {
  const __m512d e = _mm512_sub_pd(_mm512_add_pd(dots, dots), _mm512_add_pd(s, t));
  constexpr int kAbsMinNegative = 0x2 | 0xC;  // |.|-minimum, sign bit set
  // The masked form with every lane selected: see exp_avx512.hpp.
  return _mm512_mask_range_pd(e, 0xFF, e, _mm512_set1_pd(800.0), kAbsMinNegative);
}

// The sum of the 8 lanes, in a fixed order (pairs, then pairs of pairs).
INFOKIT_SIMD_TARGET_AVX512 INFOKIT_SIMD_INLINE double sum_lanes_avx512(__m512d v) {
  double lanes[8];
  _mm512_storeu_pd(lanes, v);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

// The whole tile sum with the 8 x 16 register tile of dots_avx512 and the exp pass fused,
// software-pipelined: the exponents of one register tile are parked (16 vectors, 1 KiB of L1) and
// their exps run one every 4 steps of the next register tile's multiply-add loop. Done in two
// separate phases instead (as before), the exp pass (chains of about 15 dependent operations
// per vector) overlapped poorly with the next tile's multiply-adds: measured 7-10% slower on
// Zen 5 for d from 8 to 128.
// Missing rows of the last group repeat a real row with s = +inf, so their entries are 0.
// The order of the additions depends on the shapes only, never on the thread count.
INFOKIT_SIMD_TARGET_AVX512 inline double tile_sum_avx512(const double* rows, const double* s,
                                                         std::size_t n_rows, std::size_t d,
                                                         const double* panels, const double* t,
                                                         std::size_t n_panels) {
  constexpr std::size_t kMr = 8, kVectors = 2 * kMr;
  alignas(64) double parked[kVectors * 8];  // exponents of the previous register tile
  std::size_t n_parked = 0, next = 0;       // parked vectors, and the next one to exp
  __m512d total0 = _mm512_setzero_pd(), total1 = _mm512_setzero_pd();
  // exp of parked vector v, added to the total of its column half (v even: columns 0-7).
  const auto exp_parked = [&](std::size_t v) INFOKIT_SIMD_TARGET_AVX512 {
    __m512d e = _mm512_load_pd(parked + 8 * v);
    simd::exp_clamped_avx512(e);
    if (v % 2 == 0)
      total0 = _mm512_add_pd(total0, e);
    else
      total1 = _mm512_add_pd(total1, e);
  };
  for (std::size_t p = 0; p < n_panels; ++p) {
    const double* b = panels + p * d * kPanel;
    const __m512d t0 = _mm512_loadu_pd(t + p * kPanel), t1 = _mm512_loadu_pd(t + p * kPanel + 8);
    for (std::size_t i0 = 0; i0 < n_rows; i0 += kMr) {
      const double* a[kMr];
      for (std::size_t r = 0; r < kMr; ++r) a[r] = rows + std::min(i0 + r, n_rows - 1) * d;
      __m512d c[kMr][2];
      for (std::size_t r = 0; r < kMr; ++r) c[r][0] = c[r][1] = _mm512_setzero_pd();
      const auto step = [&](std::size_t k) INFOKIT_SIMD_TARGET_AVX512 {
        const __m512d b0 = _mm512_loadu_pd(b + k * kPanel);
        const __m512d b1 = _mm512_loadu_pd(b + k * kPanel + 8);
        for (std::size_t r = 0; r < kMr; ++r) {
          const __m512d ar = _mm512_set1_pd(a[r][k]);
          c[r][0] = _mm512_fmadd_pd(ar, b0, c[r][0]);
          c[r][1] = _mm512_fmadd_pd(ar, b1, c[r][1]);
        }
      };
      std::size_t k = 0;
      for (; k + 4 <= d; k += 4) {
        step(k);
        step(k + 1);
        step(k + 2);
        step(k + 3);
        if (next < n_parked) exp_parked(next++);
      }
      for (; k < d; ++k) step(k);
      while (next < n_parked) exp_parked(next++);  // d < 4 * kVectors: the rest now
      for (std::size_t r = 0; r < kMr; ++r) {
        const double sr = i0 + r < n_rows ? s[i0 + r] : std::numeric_limits<double>::infinity();
        const __m512d sv = _mm512_set1_pd(sr);
        _mm512_store_pd(parked + 16 * r, exponents_avx512(c[r][0], sv, t0));
        _mm512_store_pd(parked + 16 * r + 8, exponents_avx512(c[r][1], sv, t1));
      }
      n_parked = kVectors;
      next = 0;
    }
  }
  while (next < n_parked) exp_parked(next++);
  return sum_lanes_avx512(_mm512_add_pd(total0, total1));
}

INFOKIT_SIMD_TARGET_AVX512 inline double exp_row_sum_avx512(const double* dots, const double* t,
                                                            double s, std::size_t count) {
  const __m512d sv = _mm512_set1_pd(s);
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  for (std::size_t j = 0; j < count; j += 16) {  // count is a multiple of kPanel = 16
    __m512d e0 = exponents_avx512(_mm512_loadu_pd(dots + j), sv, _mm512_loadu_pd(t + j));
    __m512d e1 = exponents_avx512(_mm512_loadu_pd(dots + j + 8), sv, _mm512_loadu_pd(t + j + 8));
    simd::exp_clamped_avx512(e0);
    simd::exp_clamped_avx512(e1);
    acc0 = _mm512_add_pd(acc0, e0);
    acc1 = _mm512_add_pd(acc1, e1);
  }
  return sum_lanes_avx512(_mm512_add_pd(acc0, acc1));
}

INFOKIT_SIMD_TARGET_AVX512 inline void exp_row_avx512(const double* dots, const double* t,
                                                      double s, std::size_t count, double* out) {
  const __m512d sv = _mm512_set1_pd(s);
  for (std::size_t j = 0; j < count; j += 8) {
    __m512d e = exponents_avx512(_mm512_loadu_pd(dots + j), sv, _mm512_loadu_pd(t + j));
    simd::exp_clamped_avx512(e);
    _mm512_storeu_pd(out + j, e);
  }
}

#endif  // INFOKIT_SIMD_X86

}  // namespace tiles_detail

// The kernels for the active instruction set (read once per kernel call).
inline TileOps tile_ops() {
  using namespace tiles_detail;
#ifdef INFOKIT_SIMD_X86
  switch (simd::active_isa()) {
    case simd::Isa::kAvx512:
      return {dots_avx512, norm_fma, exp_row_sum_avx512, exp_row_avx512, tile_sum_avx512};
    case simd::Isa::kAvx2:
      return {dots_avx2, norm_fma, exp_row_sum_avx2, exp_row_avx2, nullptr};
    case simd::Isa::kBaseline:
      break;
  }
#endif
  return {dots_portable, norm_portable, exp_row_sum_portable, exp_row_portable, nullptr};
}

}  // namespace infokit::matrix

INFOKIT_SIMD_NO_TRAPPING_MATH_END
