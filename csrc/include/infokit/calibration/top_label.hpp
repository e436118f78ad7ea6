// The fused top-label pass of calibration: one row of scores (probabilities or logits) in, the
// confidence of the predicted class, whether the prediction is correct, and optionally the
// predictive entropy out. From logits the softmax is never formed: with m = max_j z_j,
//   confidence = 1 / sum_j exp(z_j - m),   H = log s - (1/s) sum_j exp(z_j - m)(z_j - m).
//
// float rows: exp is evaluated in float by a branch-free polynomial the compiler vectorises (Cody-Waite
// reduction and a degree-7 Taylor polynomial, relative error < 3e-7, well inside float32's own
// rounding of the logits); every sum is accumulated in double. double rows use std::exp.
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

#include "infokit/parallel.hpp"

namespace infokit::calibration {

inline constexpr std::size_t kGrain = 1 << 15;  // elements per thread before threads pay off
inline constexpr std::size_t kBlock = 256;      // columns exponentiated per inner step

namespace detail {

// GCC keeps float comparisons as branches under its default -ftrapping-math, which stops the exp
// loop from vectorising (3x slower). FP exception flags mean nothing here, so the row helpers are
// compiled without it (Clang already treats them so).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

// exp(x) for x <= 0 in float, branch-free. x is clamped to [-87, 0] (exp(-87) ~ 1.6e-38, the smallest
// power the 2^k reconstruction below can build), which changes a sum >= 1 by nothing.
inline float exp_nonpositive(float x) {
  // The max/min forms (maxps/minps) map NaN to -87 too, so the float-to-int conversion below
  // can never overflow, and they keep the loop free of branches so that it vectorises.
  x = x > -87.0f ? x : -87.0f;
  x = x < 0.0f ? x : 0.0f;
  const float log2e = 1.44269504088896341f;
  const float round_magic = 12582912.0f;  // 1.5 * 2^23: adding and subtracting rounds to an integer
  const float k = (x * log2e + round_magic) - round_magic;
  const float r = (x - k * 0.693145751953125f) - k * 1.428606765330187045e-06f;  // Cody-Waite
  // Degree-7 Taylor polynomial on |r| <= ln2/2 (truncation error < 2e-9 relative).
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline double exp_nonpositive(double x) { return std::exp(x); }

// The maximum of a row, with eight independent lanes so that the loop vectorises. A NaN is
// skipped here; exp_sums reports it.
template <class T>
T row_max(const T* z, std::size_t m) {
  T lane[8];
  for (int l = 0; l < 8; ++l) lane[l] = z[0];
  const std::size_t whole = m / 8 * 8;
  for (std::size_t j = 0; j < whole; j += 8) {
    for (int l = 0; l < 8; ++l) lane[l] = z[j + l] > lane[l] ? z[j + l] : lane[l];
  }
  for (std::size_t j = whole; j < m; ++j) lane[j - whole] = z[j] > lane[j - whole] ? z[j] : lane[j - whole];
  T top = lane[0];
  for (int l = 1; l < 8; ++l) top = lane[l] > top ? lane[l] : top;
  return top;
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

// s = sum_j exp(z_j - top) and u = sum_j exp(z_j - top) (z_j - top), in double. Columns go
// through a small buffer in blocks so that the exp loop has no dependencies and vectorises.
// Returns false when the row holds a NaN or an infinity (then s and u are meaningless).
template <class T>
bool exp_sums(const T* z, std::size_t m, T top, bool want_u, double& s, double& u) {
  T t[kBlock];
  T e[kBlock];
  double s4[4] = {0.0, 0.0, 0.0, 0.0};
  double u4[4] = {0.0, 0.0, 0.0, 0.0};
  T check = 0;  // 0 * t is 0 for every finite t and NaN for NaN or inf: one cheap finiteness test
  for (std::size_t j0 = 0; j0 < m; j0 += kBlock) {
    const std::size_t len = std::min(kBlock, m - j0);
    for (std::size_t j = 0; j < len; ++j) t[j] = z[j0 + j] - top;
    for (std::size_t j = 0; j < len; ++j) check += T(0) * t[j];
    for (std::size_t j = 0; j < len; ++j) e[j] = exp_nonpositive(t[j]);
    std::size_t j = 0;
    for (; j + 4 <= len; j += 4) {
      for (int l = 0; l < 4; ++l) s4[l] += static_cast<double>(e[j + l]);
    }
    for (; j < len; ++j) s4[0] += static_cast<double>(e[j]);
    if (want_u) {
      j = 0;
      for (; j + 4 <= len; j += 4) {
        for (int l = 0; l < 4; ++l) {
          u4[l] += static_cast<double>(e[j + l]) * static_cast<double>(t[j + l]);
        }
      }
      for (; j < len; ++j) u4[0] += static_cast<double>(e[j]) * static_cast<double>(t[j]);
    }
  }
  s = (s4[0] + s4[1]) + (s4[2] + s4[3]);
  u = (u4[0] + u4[1]) + (u4[2] + u4[3]);
  return check == T(0) && std::isfinite(static_cast<double>(top));
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

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

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
    const T top = detail::row_max(row, m);
    if (from_logits) {
      double s = 1.0, u = 0.0;
      const bool finite = detail::exp_sums(row, m, top, entropy != nullptr, s, u);
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
