// Quantized CDFs: every model of infokit.coding turns into integer cumulative frequencies
// C(0) = 0 < C(1) < ... < C(n) = M - 1 < C(n + 1) = M, M = 2^precision, for the n symbols
// low..high plus one escape bin [M - 1, M). Each symbol keeps at least one count by construction:
// C(k) = k + floor(R G(k)) with R = M - (n + 1) and a non-decreasing G in [0, 1], so the
// frequencies C(k + 1) - C(k) are >= 1 and sum to M whatever the input (the zero-probability trap
// of facebookresearch/encodec#95 cannot happen).
//
// Determinism: G is either built from IEEE +, -, *, / on doubles (correctly rounded, hence the
// same on every platform when the compiler does not contract a*b+c into an FMA, which CMake
// forbids for this code with -ffp-contract=off) or read from the integer tables of cdf_tables.hpp.
// No libm call takes part in a quantized CDF.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "infokit/coding/cdf_tables.hpp"

namespace infokit::coding {

using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i64 = std::int64_t;

constexpr int kMinPrecision = 16;  // bypass chunks of the escape path are 16-bit uniform symbols
constexpr int kMaxPrecision = 30;  // R * G(k) must fit in 63 bits, G on 32 bits

// The high 64 bits of a 64 x 64-bit product.
inline u64 mulhi64(u64 a, u64 b) {
#if defined(__SIZEOF_INT128__)
  return static_cast<u64>((static_cast<unsigned __int128>(a) * b) >> 64);
#else
  const u64 a_lo = a & 0xffffffffu, a_hi = a >> 32, b_lo = b & 0xffffffffu, b_hi = b >> 32;
  const u64 lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
  const u64 cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
  return hi_hi + (hi_lo >> 32) + (cross >> 32);
#endif
}

// Families of the parametric models; the numbers are part of the stream format.
enum Family : int { kGaussian = 0, kLaplace = 1, kLogistic = 2, kCauchy = 3 };

inline const u64* family_table(int family) {
  switch (family) {
    case kLaplace:
      return kLaplaceTable;
    case kLogistic:
      return kLogisticTable;
    case kCauchy:
      return kCauchyTable;
    default:
      return kGaussianTable;
  }
}

// Position of u on the table grid as a fixed-point number with kFracBits fraction bits.
// t = u / (1 + |u|) maps the real line onto (-1, 1); written as 1 - 1/(1 + u) (u >= 0) or
// 1/(1 - u) - 1 (u < 0), every step is a correctly rounded monotone operation, so the position is a
// non-decreasing function of u on every platform.
constexpr int kFracBits = 20;
constexpr double kPositionScale = static_cast<double>(kTableIntervals / 2) * (1 << kFracBits);
constexpr u64 kPositionEnd = static_cast<u64>(kTableIntervals) << kFracBits;
constexpr u64 kOne32 = u64{1} << 32;

// The family's CDF at u on a 2^32 scale: linear interpolation in integers between table entries,
// non-decreasing in u because the table is non-decreasing and the slope is never negative.
inline u64 table_cdf(const u64* table, double u) {
  const double t = u >= 0.0 ? 1.0 - 1.0 / (1.0 + u) : 1.0 / (1.0 - u) - 1.0;
  const double position = (t + 1.0) * kPositionScale;
  if (!(position > 0.0)) return 0;  // also NaN
  if (position >= static_cast<double>(kPositionEnd)) return kOne32;
  const u64 q = static_cast<u64>(position);
  const u64 i = q >> kFracBits;
  const u64 frac = q & ((u64{1} << kFracBits) - 1);
  return table[i] + (((table[i + 1] - table[i]) * frac) >> kFracBits);
}

// Inverse of table_cdf up to interpolation, used only to GUESS a symbol when decoding (the exact
// integer CDF then corrects the guess), so it may use doubles freely: the grid position t at
// each of 2^12 + 1 evenly spaced CDF levels, linear in between.
struct InverseTable {
  static constexpr int kBits = 12;
  double t[(1 << kBits) + 2];

  explicit InverseTable(const u64* table) {
    int i = 0;
    for (int j = 0; j <= (1 << kBits); ++j) {
      const u64 g = static_cast<u64>(j) << (32 - kBits);
      while (i < kTableIntervals - 1 && table[i + 1] <= g) ++i;  // table[i] <= g < table[i + 1]
      const u64 width = table[i + 1] - table[i];
      const double frac = width == 0 ? 0.0 : static_cast<double>(g - table[i]) / static_cast<double>(width);
      t[j] = -1.0 + (static_cast<double>(i) + std::min(frac, 1.0)) * (2.0 / kTableIntervals);
    }
    t[(1 << kBits) + 1] = 1.0;
  }

  // u with table_cdf(u) close to g (g < 2^32).
  double quantile(u64 g) const {
    const u64 j = g >> (32 - kBits);
    const double f = static_cast<double>(g & ((u64{1} << (32 - kBits)) - 1)) * (1.0 / (1 << (32 - kBits)));
    const double tt = t[j] + (t[j + 1] - t[j]) * f;
    const double a = 1.0 - std::fabs(tt);
    return a <= 1e-300 ? (tt > 0 ? 1e300 : -1e300) : tt / a;
  }
};

inline const InverseTable& inverse_table(int family) {
  static const InverseTable tables[4] = {InverseTable(kGaussianTable), InverseTable(kLaplaceTable),
                                         InverseTable(kLogisticTable), InverseTable(kCauchyTable)};
  return tables[family >= 0 && family < 4 ? family : 0];
}

// Cumulative frequencies of a categorical row p[0..K) (non-negative, finite, positive sum):
// cum[k] = k + floor(R * S_k / S_K) with S_k the sequential double sum of p[0..k), cum[K] = M - 1,
// cum[K + 1] = M. Sequential sums of non-negative numbers never decrease, so neither does cum.
inline void quantize_categorical(const double* p, std::size_t stride, u32 K, int precision,
                                 u32* cum) {
  const u64 M = u64{1} << precision;
  const double R = static_cast<double>(M - (u64{K} + 1));
  double total = 0.0;
  for (u32 k = 0; k < K; ++k) total += p[k * stride];
  double partial = 0.0;
  for (u32 k = 0; k < K; ++k) {
    // the product is >= 0, where truncation is floor (and no libm call on baseline x86-64)
    cum[k] = k + static_cast<u32>(R * (partial / total));
    partial += p[k * stride];
  }
  cum[K] = static_cast<u32>(M - 1);
  cum[K + 1] = static_cast<u32>(M);
}

// C(k) of a parametric model from its G on a 2^32 scale: k + floor(R G / 2^32), ends fixed.
inline u32 cdf_from_g(u64 g, i64 k, i64 n, u64 R, u64 M) {
  if (k <= 0) return 0;
  if (k >= n) return static_cast<u32>(M - 1);
  return static_cast<u32>(static_cast<u64>(k) + ((R * g) >> 32));
}

// Integer mixture weights summing to 2^16: floor(2^16 w_j / total), the remainder to the first
// largest weight. Sequential double arithmetic, as the Python twin.
constexpr int kWeightBits = 16;
inline void quantize_weights(const double* w, int K, u32* out) {
  double total = 0.0;
  for (int j = 0; j < K; ++j) total += w[j];
  u32 used = 0;
  int largest = 0;
  for (int j = 0; j < K; ++j) {
    out[j] = static_cast<u32>((w[j] / total) * (1 << kWeightBits));  // >= 0: truncation = floor
    used += out[j];
    if (out[j] > out[largest]) largest = j;
  }
  out[largest] += (u32{1} << kWeightBits) - used;
}

}  // namespace infokit::coding
