// How kernels get vector code that suits the CPU they run on while wheels stay portable (built
// for baseline x86-64). Two ways, pick per function:
//
// 1. INFOKIT_SIMD_CLONES on a function: GCC compiles it twice (AVX2 + FMA, i.e. x86-64-v3, and
//    the baseline) and picks one at load time. For loops the auto-vectoriser handles; the FMA
//    clone rounds differently in the last bits, so results may differ between CPUs (never
//    between thread counts on one CPU).
// 2. Hand dispatch on active_isa(): a function per instruction set, each marked
//    INFOKIT_SIMD_TARGET_AVX2 / INFOKIT_SIMD_TARGET_AVX512 (plus a portable one), chosen once per
//    kernel call. For code written with explicit vectors or intrinsics (tiles, exp lanes).
//    set_isa_cap() lowers the choice, so tests can run every path on one machine.
//
// INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN / _END wrap code whose loops contain float selects
// (x < a ? a : x): under GCC's default -ftrapping-math the vectoriser may not evaluate such
// comparisons speculatively and leaves the loop scalar. Nothing in infokit reads floating-point
// exception flags, so dropping it changes no result.
#pragma once

#include <atomic>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(INFOKIT_NO_CLONES)
#define INFOKIT_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define INFOKIT_SIMD_CLONES
#endif

// Hand-dispatched instruction sets exist on x86-64 with GCC or Clang.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(INFOKIT_NO_CLONES)
#define INFOKIT_SIMD_X86 1
#define INFOKIT_SIMD_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define INFOKIT_SIMD_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#endif

#if defined(__GNUC__) || defined(__clang__)
#define INFOKIT_SIMD_INLINE inline __attribute__((always_inline))
#else
#define INFOKIT_SIMD_INLINE inline
#endif

#ifdef _OPENMP
#define INFOKIT_SIMD_PRAGMA(x) _Pragma(#x)
#define INFOKIT_OMP_SIMD(clauses) INFOKIT_SIMD_PRAGMA(omp simd clauses)
#else
#define INFOKIT_OMP_SIMD(clauses)
#endif

#if defined(__GNUC__) && !defined(__clang__)
#define INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN \
  _Pragma("GCC push_options") _Pragma("GCC optimize(\"no-trapping-math\")")
#define INFOKIT_SIMD_NO_TRAPPING_MATH_END _Pragma("GCC pop_options")
#else
#define INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN
#define INFOKIT_SIMD_NO_TRAPPING_MATH_END
#endif

namespace infokit::simd {

// Ordered: a CPU that has one level has all lower ones.
enum class Isa : int { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

// The best level this CPU supports (AVX2 means AVX2 + FMA; AVX-512 means F, DQ and VL).
inline Isa cpu_isa() {
#ifdef INFOKIT_SIMD_X86
  static const Isa best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
      return Isa::kAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
    return Isa::kBaseline;
  }();
  return best;
#else
  return Isa::kBaseline;
#endif
}

inline std::atomic<int>& isa_cap_storage() {
  static std::atomic<int> cap{static_cast<int>(Isa::kAvx512)};
  return cap;
}

// Never use more than `cap` (for tests and comparisons; the default is no limit).
inline void set_isa_cap(Isa cap) { isa_cap_storage().store(static_cast<int>(cap)); }

// The level hand-dispatched kernels use: the CPU's best, lowered to the cap.
inline Isa active_isa() {
  const int best = static_cast<int>(cpu_isa()), cap = isa_cap_storage().load();
  return static_cast<Isa>(best < cap ? best : cap);
}

}  // namespace infokit::simd
