// exp over a whole buffer, dispatched on simd::active_isa(): AVX-512 (8 lanes), AVX2 + FMA (4
// lanes) or portable code. Every path computes exp_fast / exp_nonpositive of exp.hpp, so the
// results agree to within those functions' error bounds (the FMA paths round differently in the
// last bits). Also how the tests reach each instruction set's exp.
#pragma once

#include <cstddef>
#include <cstring>

#include "infokit/simd/dispatch.hpp"
#include "infokit/simd/exp.hpp"
#include "infokit/simd/exp_avx512.hpp"

INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN

namespace infokit::simd {

namespace exp_array_detail {

inline void exp_fast_portable(const double* x, std::size_t n, double* out) {
  INFOKIT_OMP_SIMD()
  for (std::size_t i = 0; i < n; ++i) out[i] = exp_fast(x[i]);
}

inline void exp_nonpositive_portable(const float* x, std::size_t n, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = exp_nonpositive(x[i]);
}

#if defined(__GNUC__) || defined(__clang__)
// Whole vectors, then the tail through the same lanes (zero-padded), so a value never depends on
// its position in the buffer.
template <class V>
INFOKIT_SIMD_INLINE void exp_fast_vectors(const double* x, std::size_t n, double* out) {
  constexpr std::size_t kLanes = sizeof(V) / sizeof(double);
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    V v;
    std::memcpy(&v, x + i, sizeof v);
    exp_fast_lanes(v);
    std::memcpy(out + i, &v, sizeof v);
  }
  if (i < n) {
    double tail[kLanes] = {};
    std::memcpy(tail, x + i, (n - i) * sizeof(double));
    V v;
    std::memcpy(&v, tail, sizeof v);
    exp_fast_lanes(v);
    std::memcpy(tail, &v, sizeof v);
    std::memcpy(out + i, tail, (n - i) * sizeof(double));
  }
}
#endif

#ifdef INFOKIT_SIMD_X86
typedef double v4d __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

INFOKIT_SIMD_TARGET_AVX2 inline void exp_fast_avx2(const double* x, std::size_t n, double* out) {
  exp_fast_vectors<v4d>(x, n, out);
}

INFOKIT_SIMD_TARGET_AVX512 inline void exp_fast_avx512(const double* x, std::size_t n,
                                                       double* out) {
  exp_fast_vectors<v8d>(x, n, out);
}

INFOKIT_SIMD_TARGET_AVX512 inline void exp_nonpositive_avx512_n(const double* x, std::size_t n,
                                                                double* out) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512d v = _mm512_loadu_pd(x + i);
    exp_nonpositive_avx512(v);
    _mm512_storeu_pd(out + i, v);
  }
  if (i < n) {  // the tail through the same lanes
    double tail[8] = {};
    std::memcpy(tail, x + i, (n - i) * sizeof(double));
    __m512d v = _mm512_loadu_pd(tail);
    exp_nonpositive_avx512(v);
    _mm512_storeu_pd(tail, v);
    std::memcpy(out + i, tail, (n - i) * sizeof(double));
  }
}

INFOKIT_SIMD_TARGET_AVX2 inline void exp_nonpositive_avx2(const float* x, std::size_t n,
                                                          float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = exp_nonpositive(x[i]);
}
#endif

}  // namespace exp_array_detail

// out[i] = exp_fast(x[i]) for i < n (out may be x).
inline void exp_fast_n(const double* x, std::size_t n, double* out) {
  using namespace exp_array_detail;
#ifdef INFOKIT_SIMD_X86
  switch (active_isa()) {
    case Isa::kAvx512:
      return exp_fast_avx512(x, n, out);
    case Isa::kAvx2:
      return exp_fast_avx2(x, n, out);
    case Isa::kBaseline:
      break;
  }
#endif
  exp_fast_portable(x, n, out);
}

// out[i] = e^x[i] for x[i] <= 0 (out may be x): the AVX-512 table variant (exp_avx512.hpp) where
// active, else exp_fast. The kernels whose exponents are never positive use the same split.
inline void exp_nonpositive_n(const double* x, std::size_t n, double* out) {
  using namespace exp_array_detail;
#ifdef INFOKIT_SIMD_X86
  if (active_isa() == Isa::kAvx512) return exp_nonpositive_avx512_n(x, n, out);
#endif
  exp_fast_n(x, n, out);
}

// out[i] = exp_nonpositive(x[i]) for i < n (out may be x). AVX2 is the widest path: the float
// loops of the callers stop there too.
inline void exp_nonpositive_n(const float* x, std::size_t n, float* out) {
  using namespace exp_array_detail;
#ifdef INFOKIT_SIMD_X86
  if (active_isa() >= Isa::kAvx2) return exp_nonpositive_avx2(x, n, out);
#endif
  exp_nonpositive_portable(x, n, out);
}

}  // namespace infokit::simd

INFOKIT_SIMD_NO_TRAPPING_MATH_END
