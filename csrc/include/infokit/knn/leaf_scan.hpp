// The innermost loop of every tree query: reduced distances from one query point to the m points
// of a leaf, whose coordinates are stored column by column (dimension j of all m points is
// block[j * m .. j * m + m)).
//
// Dimension by dimension, acc[t] grows to the reduced distance of point t: the max-norm
// (acc = max(acc, |p - q|)) or the squared Euclidean norm (acc += |p - q|^2, a multiply and an
// add, never fused). Every lane computes exactly the operations of the scalar loop, in the same
// order, so the vector copies return bit-identical distances. After each dimension the scan stops
// (returning 0, an empty mask) when no point can still pass a test "< bound": partial distances only grow.
//
// x86-64 with GCC or Clang gets an AVX2 copy (4 lanes) chosen at run time; elsewhere, on CPUs
// without AVX2, or under simd::set_isa_cap(kBaseline), the portable loop.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "infokit/simd/dispatch.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(INFOKIT_NO_AVX2)
#define INFOKIT_KNN_AVX2 1
#include <immintrin.h>
#endif

namespace infokit::knn::leaf_scan {

// Bit t of the result: acc[t] < bound (m <= 64).
inline std::uint64_t below_mask(const double* acc, std::size_t m, double bound) {
  std::uint64_t mask = 0;
  for (std::size_t t = 0; t < m; ++t) mask |= static_cast<std::uint64_t>(acc[t] < bound) << t;
  return mask;
}

template <bool kChebyshev>
inline std::uint64_t portable(const double* block, std::size_t m, std::size_t d,
                              const double* q, double bound, double* acc) {
  for (std::size_t t = 0; t < m; ++t) acc[t] = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    const double* col = block + j * m;
    const double qj = q[j];
    bool any = false;  // an OR of compares (not a min reduction) lets the loop vectorise
    for (std::size_t t = 0; t < m; ++t) {
      const double g = std::fabs(col[t] - qj);
      const double a = kChebyshev ? (acc[t] < g ? g : acc[t]) : acc[t] + g * g;
      acc[t] = a;
      any |= a < bound;
    }
    if (!any) return 0;
  }
  return below_mask(acc, m, bound);
}

#ifdef INFOKIT_KNN_AVX2
// Low dimension: dimension-major over the whole leaf, stopping once no point can pass.
template <bool kChebyshev>
__attribute__((target("avx2"))) std::uint64_t avx2_columns(const double* block,
                                                           std::size_t m, std::size_t d,
                                                           const double* q, double bound,
                                                           double* acc) {
  const __m256d sign = _mm256_set1_pd(-0.0);
  const __m256d vbound = _mm256_set1_pd(bound);
  const std::size_t full = m & ~std::size_t{3};
  for (std::size_t t = 0; t < m; ++t) acc[t] = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    const double* col = block + j * m;
    const double qj = q[j];
    const __m256d vq = _mm256_set1_pd(qj);
    __m256d any = _mm256_setzero_pd();
    for (std::size_t t = 0; t < full; t += 4) {
      const __m256d g = _mm256_andnot_pd(sign, _mm256_sub_pd(_mm256_loadu_pd(col + t), vq));
      __m256d a = _mm256_loadu_pd(acc + t);
      // max_pd(g, a) is "g > a ? g : a", the scalar "a < g ? g : a" (NaN keeps a, as there).
      a = kChebyshev ? _mm256_max_pd(g, a) : _mm256_add_pd(a, _mm256_mul_pd(g, g));
      _mm256_storeu_pd(acc + t, a);
      any = _mm256_or_pd(any, _mm256_cmp_pd(a, vbound, _CMP_LT_OQ));
    }
    bool tail_any = false;
    for (std::size_t t = full; t < m; ++t) {
      const double g = std::fabs(col[t] - qj);
      const double a = kChebyshev ? (acc[t] < g ? g : acc[t]) : acc[t] + g * g;
      acc[t] = a;
      tail_any |= a < bound;
    }
    if (!tail_any && _mm256_movemask_pd(any) == 0) return 0;
  }
  std::uint64_t mask = 0;
  for (std::size_t t = 0; t < full; t += 4) {
    const __m256d below = _mm256_cmp_pd(_mm256_loadu_pd(acc + t), vbound, _CMP_LT_OQ);
    mask |= static_cast<std::uint64_t>(_mm256_movemask_pd(below)) << t;
  }
  for (std::size_t t = full; t < m; ++t) mask |= static_cast<std::uint64_t>(acc[t] < bound) << t;
  return mask;
}

// Higher dimension: groups of 16 points (four independent 4-lane chains kept in registers)
// through all dimensions, with no early exit: a leaf that passed its box test rarely leaves
// early, and per-group exits mispredict (measured slower). Every value is complete.
template <bool kChebyshev>
__attribute__((target("avx2"))) std::uint64_t avx2_groups(const double* block, std::size_t m,
                                                          std::size_t d, const double* q,
                                                          double bound, double* acc) {
  const __m256d sign = _mm256_set1_pd(-0.0);
  const __m256d vbound = _mm256_set1_pd(bound);
  std::uint64_t mask = 0;
  std::size_t t = 0;
#define INFOKIT_KNN_STEP(a, p, vq)                                                               \
  do {                                                                               \
    const __m256d g_ = _mm256_andnot_pd(sign, _mm256_sub_pd(_mm256_loadu_pd(p), vq)); \
    a = kChebyshev ? _mm256_max_pd(g_, a) : _mm256_add_pd(a, _mm256_mul_pd(g_, g_));   \
  } while (0)
  for (; t + 16 <= m; t += 16) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    for (std::size_t j = 0; j < d; ++j) {
      const double* col = block + j * m + t;
      const __m256d vq = _mm256_broadcast_sd(q + j);
      INFOKIT_KNN_STEP(a0, col, vq);
      INFOKIT_KNN_STEP(a1, col + 4, vq);
      INFOKIT_KNN_STEP(a2, col + 8, vq);
      INFOKIT_KNN_STEP(a3, col + 12, vq);
    }
    _mm256_storeu_pd(acc + t, a0);
    _mm256_storeu_pd(acc + t + 4, a1);
    _mm256_storeu_pd(acc + t + 8, a2);
    _mm256_storeu_pd(acc + t + 12, a3);
    const std::uint64_t bits =
        static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(a0, vbound, _CMP_LT_OQ))) |
        static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(a1, vbound, _CMP_LT_OQ))) << 4 |
        static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(a2, vbound, _CMP_LT_OQ))) << 8 |
        static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(a3, vbound, _CMP_LT_OQ))) << 12;
    mask |= bits << t;
  }
  for (; t + 4 <= m; t += 4) {
    __m256d a0 = _mm256_setzero_pd();
    for (std::size_t j = 0; j < d; ++j) {
      const __m256d vq = _mm256_broadcast_sd(q + j);
      INFOKIT_KNN_STEP(a0, block + j * m + t, vq);
    }
    _mm256_storeu_pd(acc + t, a0);
    mask |= static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(a0, vbound, _CMP_LT_OQ))) << t;
  }
  for (; t < m; ++t) {
    double a = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      const double g = std::fabs(block[j * m + t] - q[j]);
      a = kChebyshev ? (a < g ? g : a) : a + g * g;
    }
    acc[t] = a;
    mask |= static_cast<std::uint64_t>(a < bound) << t;
  }
  return mask;
}
#undef INFOKIT_KNN_STEP

template <bool kChebyshev>
inline std::uint64_t avx2(const double* block, std::size_t m, std::size_t d, const double* q,
                          double bound, double* acc) {
  return d > 4 ? avx2_groups<kChebyshev>(block, m, d, q, bound, acc)
               : avx2_columns<kChebyshev>(block, m, d, q, bound, acc);
}

// The AVX2 copies run when the project-wide dispatch level (simd/dispatch.hpp, which tests can
// lower with set_isa_cap) allows AVX2. They are compiled for "avx2" only, not "fma": fused
// multiply-adds would round the Euclidean sums differently from the scalar loop.
inline bool cpu_has_avx2() { return simd::active_isa() >= simd::Isa::kAvx2; }
#endif

// Max-norm distance from q to the nearest point (kFar = false: the gap, a lower bound) or to the
// farthest corner (kFar = true, an upper bound) of a box [lo, hi] in d dimensions:
// max_j max(lo_j - q_j, q_j - hi_j, 0) or max_j max(hi_j - q_j, q_j - lo_j, 0). A max is exact in
// any order, so the vector copy returns the scalar loop's value bit for bit. (Euclidean bounds
// stay scalar: a sum's order matters.)
template <bool kFar>
inline double box_portable(const double* lo, const double* hi, const double* q, std::size_t d) {
  double acc = 0.0;
  for (std::size_t j = 0; j < d; ++j) {
    const double a = kFar ? hi[j] - q[j] : lo[j] - q[j];
    const double b = kFar ? q[j] - lo[j] : q[j] - hi[j];
    const double g = a > b ? a : b;
    acc = acc < g ? g : acc;
  }
  return acc;
}

#ifdef INFOKIT_KNN_AVX2
template <bool kFar>
__attribute__((target("avx2"))) double box_avx2(const double* lo, const double* hi,
                                                const double* q, std::size_t d) {
  __m256d acc = _mm256_setzero_pd();
  std::size_t j = 0;
  for (; j + 4 <= d; j += 4) {
    const __m256d vq = _mm256_loadu_pd(q + j);
    const __m256d l = _mm256_loadu_pd(lo + j), h = _mm256_loadu_pd(hi + j);
    const __m256d g = kFar ? _mm256_max_pd(_mm256_sub_pd(h, vq), _mm256_sub_pd(vq, l))
                           : _mm256_max_pd(_mm256_sub_pd(l, vq), _mm256_sub_pd(vq, h));
    acc = _mm256_max_pd(acc, g);
  }
  const __m128d half = _mm_max_pd(_mm256_castpd256_pd128(acc), _mm256_extractf128_pd(acc, 1));
  double out = _mm_cvtsd_f64(_mm_max_sd(half, _mm_unpackhi_pd(half, half)));
  const double tail = box_portable<kFar>(lo + j, hi + j, q + j, d - j);
  return out < tail ? tail : out;
}
#endif

template <bool kFar>
inline double box_bound(const double* lo, const double* hi, const double* q, std::size_t d) {
#ifdef INFOKIT_KNN_AVX2
  if (d >= 4 && cpu_has_avx2()) return box_avx2<kFar>(lo, hi, q, d);
#endif
  return box_portable<kFar>(lo, hi, q, d);
}

inline double box_gap(const double* lo, const double* hi, const double* q, std::size_t d) {
  return box_bound<false>(lo, hi, q, d);
}

inline double box_far(const double* lo, const double* hi, const double* q, std::size_t d) {
  return box_bound<true>(lo, hi, q, d);
}

// acc[0..m) = reduced distances from q to the leaf's m <= 64 points, except that a value may
// stay partial once it has reached `bound` (it is then >= bound). Returns the mask of points at
// a distance < bound (bit t for point t; 0 when there are none).
template <bool kChebyshev>
inline std::uint64_t distances(const double* block, std::size_t m, std::size_t d, const double* q,
                      double bound, double* acc) {
#ifdef INFOKIT_KNN_AVX2
  if (cpu_has_avx2()) return avx2<kChebyshev>(block, m, d, q, bound, acc);
#endif
  return portable<kChebyshev>(block, m, d, q, bound, acc);
}

}  // namespace infokit::knn::leaf_scan
