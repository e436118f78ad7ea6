// exp(x) for x <= 0 on 8 lanes with AVX-512, about 40% fewer instructions than exp_fast_lanes:
// the hot path of the Gaussian kernel sums, whose exponents are never positive.
//
//   x = (16 m + j) ln2/16 + r,   |r| <= ln2/32,   e^x = 2^m * 2^(j/16) * e^r
//
// 2^(j/16) comes from a 16-entry table held in two registers (one vpermt2pd), e^r from a
// degree-7 Taylor polynomial (remainder < 1.2e-18 relative), 2^m from vscalefpd. Relative error
// < 2^-51 (about 2 ulp: the table entries are rounded; measured at most 3.0e-16), tested in
// tests/test_simd.py against extended-precision exp. x = 0 gives exactly 1; below -708 the
// results are subnormal (exp_fast returns 0 there) and below about -745.1 exactly 0, as is
// exp(-inf); NaN gives NaN. Positive x is outside the contract.
//
// Only for functions compiled with INFOKIT_SIMD_TARGET_AVX512 (it is inlined into them).
#pragma once

#include "infokit/simd/dispatch.hpp"
#include "infokit/simd/exp.hpp"

#ifdef INFOKIT_SIMD_X86
#include <immintrin.h>

INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN

namespace infokit::simd {

// The core, for x already in [-800, 0] (or NaN): callers clamp (exp_nonpositive_avx512 below;
// the Gaussian tiles fold the clamp into one vrangepd, matrix/tiles.hpp).
INFOKIT_SIMD_TARGET_AVX512 INFOKIT_SIMD_INLINE void exp_clamped_avx512(__m512d& x) {
  using namespace exp_constants;
  constexpr __mmask8 kAll = 0xFF;  // masked scalef: see exp_nonpositive_avx512
  // 2^(j/16), j = 0..15, correctly rounded.
  const __m512d table_lo = _mm512_setr_pd(0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0,
                                          0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
                                          0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0,
                                          0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0);
  const __m512d table_hi = _mm512_setr_pd(0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0,
                                          0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
                                          0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0,
                                          0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0);
  // A shifter of 1.5 * 2^48 (ulp 1/16) rounds x log2(e) to q = k / 16 with k = round(16 x /
  // ln2), one rounding of 16 times the same real number, so the same k as shifting 16 x log2(e)
  // by 1.5 * 2^52; t then holds k in its low mantissa bits, and its bit pattern indexes the
  // table (vpermt2pd reads the low 4 bits, i.e. k mod 16, also for negative k).
  const __m512d shifter = _mm512_set1_pd(kShifter / 16.0);
  const __m512d t = _mm512_fmadd_pd(x, _mm512_set1_pd(kLog2e), shifter);
  const __m512d q = _mm512_sub_pd(t, shifter);  // k / 16, exact
  // q * ln2hi = k * (ln2hi / 16) is exact (|k| < 2^15 and ln2hi has 32 significant bits).
  __m512d r = _mm512_fnmadd_pd(q, _mm512_set1_pd(kLn2Hi), x);
  r = _mm512_fnmadd_pd(q, _mm512_set1_pd(kLn2Lo), r);
  __m512d p = _mm512_fmadd_pd(r, _mm512_set1_pd(1.0 / 5040.0), _mm512_set1_pd(1.0 / 720.0));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0 / 120.0));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0 / 24.0));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0 / 6.0));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(0.5));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0));
  p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0));
  const __m512d entry = _mm512_permutex2var_pd(table_lo, _mm512_castpd_si512(t), table_hi);
  // vscalefpd multiplies by 2^floor(q) = 2^m (k = 16 m + j), with correct underflow to 0.
  const __m512d scaled = _mm512_mul_pd(p, entry);
  x = _mm512_mask_scalef_pd(scaled, kAll, scaled, q);
}

INFOKIT_SIMD_TARGET_AVX512 INFOKIT_SIMD_INLINE void exp_nonpositive_avx512(__m512d& x) {
  // The masked forms with every lane selected: GCC 12 warns about the undefined pass-through
  // operand of the unmasked max/scalef intrinsics (-Wmaybe-uninitialized).
  constexpr __mmask8 kAll = 0xFF;
  // max(-800, x) keeps NaN (the second operand wins when either is NaN) and avoids inf - inf;
  // e^-800 scales to exactly 0.
  x = _mm512_mask_max_pd(x, kAll, _mm512_set1_pd(-800.0), x);
  exp_clamped_avx512(x);
}

}  // namespace infokit::simd

INFOKIT_SIMD_NO_TRAPPING_MATH_END

#endif  // INFOKIT_SIMD_X86
