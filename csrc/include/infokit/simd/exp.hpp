// Branch-free exp for vectorised loops (libm's exp is a call, so a loop over it stays scalar).
//
//   exp_fast(double x)          e^x with relative error < 2^-52 (about 1 ulp; measured at most
//                               1.7e-16 without FMA and 1.3e-16 with it) over [-708, 709]; x < -708
//                               gives 0 (the true value is subnormal), x > 709 gives e^709, NaN
//                               gives NaN. Range reduction
//                               x = k ln2 + r, |r| <= ln2/2, with a two-part ln 2 (k ln2_hi is
//                               exact), a degree-13 Taylor polynomial (remainder < 5e-18
//                               relative), and 2^k built in the exponent bits.
//   exp_fast_lanes(V& x)        the same in place on every lane of a GCC vector of doubles (any
//                               width): the same operations, so a lane agrees with exp_fast on
//                               the same CPU level up to the FMA contraction the compiler picks
//                               (both stay within the bound).
//   exp_nonpositive(float x)    e^x for x <= 0 in float, relative error < 3e-7: x is clamped to
//                               [-87, 0] (exp(-87) ~ 1.6e-38, the smallest power the 2^k step
//                               builds); NaN is clamped too, so callers that can see NaN test
//                               for it themselves. Degree-7 Taylor polynomial.
//
// The bounds are tested against extended-precision exp for every instruction set the CPU offers
// (tests/test_simd.py through infokit._core.simd_exp).
//
// Call these from code compiled under INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN/END (as they are), or
// the selects keep loops scalar (see dispatch.hpp).
#pragma once

#include <cstdint>
#include <cstring>

#include "infokit/simd/dispatch.hpp"

INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN

namespace infokit::simd {

namespace exp_constants {
inline constexpr double kLog2e = 1.4426950408889634074;
inline constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 = kLn2Hi + kLn2Lo, and
inline constexpr double kLn2Lo = 1.90821492927058770002e-10;  // k * kLn2Hi is exact for |k| < 2^11
inline constexpr double kShifter = 6755399441055744.0;        // 1.5 * 2^52: x + it rounds x to
inline constexpr std::int64_t kShifterBits = 0x4338000000000000;  // an integer in the low bits
inline constexpr double kLowest = -708.0;
inline constexpr double kHighest = 709.0;
}  // namespace exp_constants

// p = sum_{i <= 13} r^i / i! by Horner; T is double or a vector of doubles (by reference: see
// exp_fast_lanes).
template <class T>
INFOKIT_SIMD_INLINE void exp_taylor13(const T& r, T& p) {
  p = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;
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
}

INFOKIT_SIMD_INLINE double exp_fast(double x) {
  using namespace exp_constants;
  const double xc = x < kLowest ? kLowest : (x > kHighest ? kHighest : x);
  const double t = xc * kLog2e + kShifter;
  const double k = t - kShifter;
  const double r = (xc - k * kLn2Hi) - k * kLn2Lo;
  double p;
  exp_taylor13(r, p);
  std::int64_t t_bits;
  std::memcpy(&t_bits, &t, sizeof t);
  const std::uint64_t scale_bits = static_cast<std::uint64_t>(t_bits - kShifterBits + 1023) << 52;
  double scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return x < kLowest ? 0.0 : p * scale;
}

#if defined(__GNUC__) || defined(__clang__)
// V is a GCC vector of doubles (vector_size a multiple of 8 bytes). Taken by reference: passing
// wide vectors by value would change the ABI between instruction sets.
template <class V>
INFOKIT_SIMD_INLINE void exp_fast_lanes(V& x) {
  using namespace exp_constants;
  using Bits = decltype(x < x);  // signed 64-bit lanes; comparisons give 0 or -1 per lane
  typedef std::uint64_t UBits __attribute__((vector_size(sizeof(V))));
  const V lowest = V{} + kLowest, highest = V{} + kHighest, shifter = V{} + kShifter;
  V xc = x < lowest ? lowest : x;
  xc = xc > highest ? highest : xc;
  const V t = xc * kLog2e + shifter;
  const V k = t - shifter;
  const V r = (xc - k * kLn2Hi) - k * kLn2Lo;
  V p;
  exp_taylor13(r, p);
  const UBits exponent = (UBits)(((Bits)t - kShifterBits) + 1023) << 52;
  const V scaled = p * (V)exponent;
  // Lanes below the range become +0.0 (all bits clear); NaN lanes compare false and stay NaN.
  x = (V)((Bits)scaled & ~(Bits)(x < lowest));
}
#endif

INFOKIT_SIMD_INLINE float exp_nonpositive(float x) {
  // The max/min forms (maxps/minps) also map NaN to -87, so the float-to-int conversion below can
  // never overflow, and they keep the loop free of branches so that it vectorises.
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

}  // namespace infokit::simd

INFOKIT_SIMD_NO_TRAPPING_MATH_END
