// exp(x) for x <= 0, two lanes at a time (GCC/Clang vector extensions): the Gaussian kernel sums
// spend a large share of their time in exp, and std::exp stays scalar without -ffast-math.
// Accuracy: a few ulp (degree-13 Taylor polynomial on |r| <= ln2/2, two-part ln 2). Results below
// exp(-700) ~ 1e-304 are returned as 0. Other compilers fall back to std::exp.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace infokit::matrix {

#if defined(__GNUC__)
typedef double v2d __attribute__((vector_size(16)));
typedef std::int64_t v2l __attribute__((vector_size(16)));
typedef std::uint64_t v2u __attribute__((vector_size(16)));

inline v2d exp_nonpositive(v2d x) {
  constexpr double kLog2e = 1.4426950408889634074;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 split so kf * kLn2Hi is exact
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShifter = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const v2d shifter = {kShifter, kShifter};
  const v2d shifted = x * kLog2e + shifter;
  const v2d kf = shifted - shifter;
  const v2d r = (x - kf * kLn2Hi) - kf * kLn2Lo;
  // Horner: sum_{i<=13} r^i / i!
  v2d p = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;
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
  const v2u k = (v2u)((v2l)shifted - (v2l)shifter);
  const v2u bits = (v2u)p + (k << 52);
  // Below -700 the exponent field would underflow: the comparison mask zeroes those lanes.
  const v2l keep = x >= -700.0;
  return (v2d)((v2l)bits & keep);
}

// values[j] = exp(-gamma * values[j]) for j < count.
inline void gaussian_in_place(double* values, std::size_t count, double gamma) {
  std::size_t j = 0;
  for (; j + 2 <= count; j += 2) {
    v2d v;
    std::memcpy(&v, values + j, sizeof v);
    v = exp_nonpositive(v * -gamma);
    std::memcpy(values + j, &v, sizeof v);
  }
  if (j < count) {  // the tail through the same lanes, so a value never depends on its position
    v2d v = {0.0, 0.0};
    std::memcpy(&v, values + j, (count - j) * sizeof(double));
    v = exp_nonpositive(v * -gamma);
    std::memcpy(values + j, &v, (count - j) * sizeof(double));
  }
}
#else
inline void gaussian_in_place(double* values, std::size_t count, double gamma) {
  for (std::size_t j = 0; j < count; ++j) values[j] = std::exp(-gamma * values[j]);
}
#endif

}  // namespace infokit::matrix
