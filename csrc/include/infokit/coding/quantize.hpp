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

// A family's table and its grid: direct (u on [-half_width, half_width], evenly spaced) or through
// t = u / (1 + |u|) on [-1, 1]. position = (u + half_width) * scale or (t + 1) * scale, in units
// of the grid step with kFracBits fraction bits.
constexpr int kFracBits = 20;
constexpr u64 kOne32 = u64{1} << 32;

struct Grid {
  const u64* table;
  int intervals;
  bool direct;
  double half_width;  // direct grids
  double scale;       // grid steps per unit of u (direct) or of t, times 2^kFracBits
};

inline const Grid& family_grid(int family) {
  static const Grid grids[4] = {
      {kGaussianTable, kGaussianIntervals, true, 8.0, 128.0 * (1 << kFracBits)},
      {kLaplaceTable, kTableIntervals, false, 0.0, (kTableIntervals / 2.0) * (1 << kFracBits)},
      {kLogisticTable, kTableIntervals, false, 0.0, (kTableIntervals / 2.0) * (1 << kFracBits)},
      {kCauchyTable, kTableIntervals, false, 0.0, (kTableIntervals / 2.0) * (1 << kFracBits)},
  };
  return grids[family >= 0 && family < 4 ? family : 0];
}

// The family's CDF at u on a 2^32 scale: linear interpolation in integers between table entries,
// non-decreasing in u because the table is non-decreasing, the slope never negative, and the
// position a non-decreasing function of u: (u + w) * s, or through t = 1 - 1/(1 + u) (u >= 0)
// and 1/(1 - u) - 1 (u < 0), every step a correctly rounded monotone operation.
inline u64 table_cdf(const Grid& grid, double u) {
  double position;
  if (grid.direct) {
    position = (u + grid.half_width) * grid.scale;
  } else {
    const double t = u >= 0.0 ? 1.0 - 1.0 / (1.0 + u) : 1.0 / (1.0 - u) - 1.0;
    position = (t + 1.0) * grid.scale;
  }
  if (!(position > 0.0)) return 0;  // also NaN
  const u64 end = static_cast<u64>(grid.intervals) << kFracBits;
  if (position >= static_cast<double>(end)) return kOne32;
  const u64 q = static_cast<u64>(position);
  const u64 i = q >> kFracBits;
  const u64 frac = q & ((u64{1} << kFracBits) - 1);
  const u64* table = grid.table;
  return table[i] + (((table[i + 1] - table[i]) * frac) >> kFracBits);
}

// Inverse of table_cdf up to interpolation, used only to GUESS a symbol when decoding (the exact
// integer CDF then corrects the guess), so it may use doubles freely: the grid position t at
// each of 2^12 + 1 evenly spaced CDF levels, linear in between.
struct InverseTable {
  static constexpr int kBits = 12;
  double u[(1 << kBits) + 2];  // u at each level j / 2^12 of the CDF

  explicit InverseTable(const Grid& grid) {
    const u64* table = grid.table;
    int i = 0;
    for (int j = 0; j <= (1 << kBits); ++j) {
      const u64 g = static_cast<u64>(j) << (32 - kBits);
      while (i < grid.intervals - 1 && table[i + 1] <= g) ++i;  // table[i] <= g < table[i + 1]
      const u64 width = table[i + 1] - table[i];
      const double frac =
          width == 0 ? 0.0 : static_cast<double>(g - table[i]) / static_cast<double>(width);
      const double x = static_cast<double>(i) + std::min(frac, 1.0);  // in grid steps
      if (grid.direct) {
        u[j] = -grid.half_width + x * (2.0 * grid.half_width / grid.intervals);
      } else {
        const double t = -1.0 + x * (2.0 / grid.intervals);
        const double a = 1.0 - std::fabs(t);
        u[j] = a <= 1e-300 ? (t > 0 ? 1e300 : -1e300) : t / a;
      }
    }
    u[(1 << kBits) + 1] = u[1 << kBits];
  }

  // u with table_cdf(u) close to g (g < 2^32): linear between the levels.
  double quantile(u64 g) const {
    const u64 j = g >> (32 - kBits);
    const u64 below = g & ((u64{1} << (32 - kBits)) - 1);
    const double f = static_cast<double>(below) * (1.0 / (1 << (32 - kBits)));
    const double lo = u[j], hi = u[j + 1];
    if (!(hi - lo < 1e200)) return f < 0.5 ? lo : hi;  // an infinite end level
    return lo + (hi - lo) * f;
  }
};

inline const InverseTable& inverse_table(int family) {
  static const InverseTable tables[4] = {
      InverseTable(family_grid(0)), InverseTable(family_grid(1)), InverseTable(family_grid(2)),
      InverseTable(family_grid(3))};
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
