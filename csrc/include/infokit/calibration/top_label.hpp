// The fused top-label pass of calibration: one row of scores (probabilities or logits) in, the
// confidence of the predicted class, whether the prediction is correct, and optionally the
// predictive entropy out. From logits the softmax is never formed: with m = max_j z_j,
//   confidence = 1 / sum_j exp(z_j - m),   H = log s - (1/s) sum_j exp(z_j - m)(z_j - m).
//
// float rows: exp is evaluated in float by a branch-free polynomial the compiler vectorises
// (simd::exp_nonpositive: Cody-Waite reduction, degree-7 Taylor, relative error < 3e-7, well
// inside float32's own rounding of the logits); every sum is accumulated in double. double rows use
// std::exp.
//
// The kernels do not validate, except that from logits a row holding NaN or inf gets a NaN
// confidence (a cheap test inside the pass); the Python layer rejects that, bad shapes and labels
// outside [0, classes). Whatever the data, a kernel reads only x[0, rows*classes) and
// labels[0, rows), and writes only its outputs [0, rows). Nothing here throws.
//
// Threads split the rows; each row is reduced by one thread in a fixed order, so results are
// bitwise identical for any thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "infokit/parallel.hpp"
#include "infokit/simd/dispatch.hpp"
#include "infokit/simd/exp.hpp"

namespace infokit::calibration {

inline constexpr std::size_t kGrain = 1 << 15;  // elements per thread before threads pay off
inline constexpr std::size_t kBlock = 256;      // columns exponentiated per inner step

namespace detail {

#if defined(__GNUC__) || defined(__clang__)
#define INFOKIT_CALIBRATION_INLINE inline __attribute__((always_inline))
#define INFOKIT_CALIBRATION_OUTLINE __attribute__((noinline))
#else
#define INFOKIT_CALIBRATION_INLINE inline
#define INFOKIT_CALIBRATION_OUTLINE
#endif

// GCC keeps float comparisons as branches under its default -ftrapping-math, which stops the exp
// loop from vectorising (3x slower). FP exception flags mean nothing here, so the row helpers are
// compiled without it (Clang already treats them so).
namespace portable {
INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN
#include "infokit/calibration/row_math_body.hpp"
INFOKIT_SIMD_NO_TRAPPING_MATH_END
}  // namespace portable

// x86-64: a second copy for AVX2+FMA (8 lanes and fused multiply-adds: the exp loop runs ~3x
// faster than on the SSE2 baseline a portable wheel is built for), chosen at run time.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(INFOKIT_NO_AVX2)
#define INFOKIT_CALIBRATION_AVX2 1
namespace avx2 {
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN
#include "infokit/calibration/row_math_body.hpp"
INFOKIT_SIMD_NO_TRAPPING_MATH_END
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
}  // namespace avx2

inline bool cpu_has_avx2() { return simd::active_isa() >= simd::Isa::kAvx2; }
#endif

using portable::exp_nonpositive;

// Row-level entry points: float rows go to the AVX2 copy where the CPU has it.
template <class T>
T row_max_fast(const T* z, std::size_t m) {
#ifdef INFOKIT_CALIBRATION_AVX2
  if constexpr (std::is_same_v<T, float>) {
    if (cpu_has_avx2()) return avx2::row_max(z, m);
  }
#endif
  return portable::row_max(z, m);
}

template <class T>
bool exp_sums_fast(const T* z, std::size_t m, T top, bool want_u, double& s, double& u) {
#ifdef INFOKIT_CALIBRATION_AVX2
  if constexpr (std::is_same_v<T, float>) {
    if (cpu_has_avx2()) return avx2::exp_sums(z, m, top, want_u, s, u);
  }
#endif
  return portable::exp_sums(z, m, top, want_u, s, u);
}

// Whether class y is the first maximum of the row (the predicted class): z[y] == top and no
// earlier entry reaches top.
template <class T>
bool is_first_max(const T* z, std::size_t y, T top) {
  if (!(z[y] == top)) return false;
  bool earlier = false;
  for (std::size_t j = 0; j < y; ++j) earlier |= z[j] >= top;
  return !earlier;
}

// -sum p log p of one probability row, in double; 0 log 0 = 0.
template <class T>
double prob_entropy(const T* p, std::size_t m) {
  double h = 0.0;
  for (std::size_t j = 0; j < m; ++j) {
    const double pj = p[j];
    if (pj > 0.0) h -= pj * std::log(pj);
  }
  return h;
}

template <class RowTask>
void for_each_row(std::size_t rows, std::size_t m, int n_threads, RowTask&& row) {
  const std::size_t wanted = static_cast<std::size_t>(threads_for(rows * m, n_threads, kGrain));
  const int nt = static_cast<int>(std::min<std::size_t>(wanted, std::max<std::size_t>(rows, 1)));
  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [b, e] = part_range(rows, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
    for (std::size_t r = b; r < e; ++r) row(r);
  });
}

}  // namespace detail

// For each row r of the C-contiguous (rows, m) table x:
//   confidence[r] = max probability (from logits: 1 / sum exp(z - max)),
//   correct[r] = whether labels[r] is the first argmax (the predicted class),
//   entropy[r] = predictive entropy in nats.
// labels/correct and entropy may be null (then not read / not written).
template <class T>
void top_label(const T* x, std::size_t rows, std::size_t m, bool from_logits,
               const std::int64_t* labels, double* confidence, std::uint8_t* correct,
               double* entropy, int n_threads) {
  if (m == 0) return;
  detail::for_each_row(rows, m, n_threads, [&](std::size_t r) {
    const T* row = x + r * m;
    const T top = detail::row_max_fast(row, m);
    if (from_logits) {
      double s = 1.0, u = 0.0;
      const bool finite = detail::exp_sums_fast(row, m, top, entropy != nullptr, s, u);
      // A non-finite row is flagged by a NaN confidence, which the Python layer rejects.
      confidence[r] = finite ? 1.0 / s : std::numeric_limits<double>::quiet_NaN();
      if (entropy) entropy[r] = std::log(s) - u / s;
    } else {
      confidence[r] = static_cast<double>(top);
      if (entropy) entropy[r] = detail::prob_entropy(row, m);
    }
    if (correct && labels) {
      const std::int64_t y = labels[r];
      correct[r] = y >= 0 && static_cast<std::size_t>(y) < m &&
                           detail::is_first_max(row, static_cast<std::size_t>(y), top)
                       ? 1
                       : 0;
    }
  });
}

}  // namespace infokit::calibration
