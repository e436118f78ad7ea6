// Shared pieces of the gradient compressors: status codes, the counter-based random numbers, and
// the order-preserving integer key of |x|.
//
// Random numbers are a pure function of (seed, counter): splitmix64's finaliser applied to
// seed + (counter + 1) * golden gamma. A kernel that gives element i the counter i draws the same
// numbers on any thread count and in any order, and the numpy twin reproduces them bit for bit.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace infokit::compress {

enum class Status : int { ok = 0, non_finite = 1, bad_input = 2, no_memory = 3 };

constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ull;

inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The 64 random bits number `counter` of the stream `seed`.
inline std::uint64_t random_bits(std::uint64_t seed, std::uint64_t counter) {
  return mix64(seed + (counter + 1) * kGamma);
}

// The unsigned integer whose order is the order of |x| for finite x (IEEE 754: clear the sign).
// +0 and -0 share key 0; NaN and inf have keys >= kNonFinite.
template <class T>
struct AbsKey;

template <>
struct AbsKey<float> {
  using U = std::uint32_t;
  static constexpr U kNonFinite = 0x7F800000u;
  static constexpr int kHistShift = 15;  // bits 30..15: exponent + 7 mantissa bits
};

template <>
struct AbsKey<double> {
  using U = std::uint64_t;
  static constexpr U kNonFinite = 0x7FF0000000000000ull;
  static constexpr int kHistShift = 47;  // bits 62..47: exponent + 5 mantissa bits
};

template <class T>
inline typename AbsKey<T>::U abs_key(T v) {
  using U = typename AbsKey<T>::U;
  static_assert(sizeof(U) == sizeof(T), "key and value must have the same width");
  U u;
  std::memcpy(&u, &v, sizeof(T));
  return u & (~U(0) >> 1);
}

constexpr std::size_t kHistBins = std::size_t{1} << 16;

}  // namespace infokit::compress
