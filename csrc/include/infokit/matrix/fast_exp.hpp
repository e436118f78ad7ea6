// exp(x) for x <= 0, four lanes at a time (GCC/Clang vector extensions): the Gaussian kernel sums
// spend a large share of their time in exp, and std::exp stays scalar without -ffast-math.
// Accuracy: a few ulp (degree-13 Taylor polynomial on |r| <= ln2/2, two-part ln 2). Results below
// exp(-700) ~ 1e-304 are returned as 0. Other compilers fall back to std::exp.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace infokit::matrix {

// Hot loops are compiled twice on x86-64 GCC: for AVX2 + FMA (x86-64-v3) and for the baseline,
// picked at load time (ifunc). The FMA clone rounds differently in the last bits, so results can
// differ between CPUs (never between thread counts on one machine).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(INFOKIT_NO_CLONES)
#define INFOKIT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define INFOKIT_CLONES
#endif

#if defined(__GNUC__)
// 32-byte vectors live only inside functions (never passed by value: that would change the ABI
// of baseline builds and warn).
typedef double v4d __attribute__((vector_size(32)));
typedef std::int64_t v4l __attribute__((vector_size(32)));
typedef std::uint64_t v4u __attribute__((vector_size(32)));

// p[0..3] = exp(scale * p[0..3]) for scale * p[i] <= 0.
__attribute__((always_inline)) inline void exp_nonpositive4(double* values, double scale) {
  v4d x;
  std::memcpy(&x, values, sizeof x);
  x *= scale;
  constexpr double kLog2e = 1.4426950408889634074;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 split so kf * kLn2Hi is exact
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShifter = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const v4d shifter = {kShifter, kShifter, kShifter, kShifter};
  const v4d shifted = x * kLog2e + shifter;
  const v4d kf = shifted - shifter;
  const v4d r = (x - kf * kLn2Hi) - kf * kLn2Lo;
  // Horner: sum_{i<=13} r^i / i!
  v4d p = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // The integer k sits in the low mantissa bits of `shifted`; add it to p's exponent field.
  const v4u k = (v4u)((v4l)shifted - (v4l)shifter);
  const v4u bits = (v4u)p + (k << 52);
  // Below -700 the exponent field would underflow: the comparison mask zeroes those lanes.
  const v4l keep = x >= -700.0;
  const v4l result = (v4l)bits & keep;
  std::memcpy(values, &result, sizeof result);
}

// values[j] = exp(-gamma * values[j]) for j < count.
INFOKIT_CLONES inline void gaussian_in_place(double* values, std::size_t count, double gamma) {
  std::size_t j = 0;
  for (; j + 4 <= count; j += 4) {
    exp_nonpositive4(values + j, -gamma);
  }
  if (j < count) {  // the tail through the same lanes, so a value never depends on its position
    double tail[4] = {0.0, 0.0, 0.0, 0.0};
    std::memcpy(tail, values + j, (count - j) * sizeof(double));
    exp_nonpositive4(tail, -gamma);
    std::memcpy(values + j, tail, (count - j) * sizeof(double));
  }
}
#else
inline void gaussian_in_place(double* values, std::size_t count, double gamma) {
  for (std::size_t j = 0; j < count; ++j) values[j] = std::exp(-gamma * values[j]);
}
#endif

}  // namespace infokit::matrix
