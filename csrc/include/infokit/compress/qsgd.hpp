// QSGD (Alistarh et al. 2017) with per-bucket norms and b-bit packing, encode and decode.
//
// Buckets are consecutive runs of `bucket` elements (the last may be shorter). With
// s = 2^(b-1) - 1 levels, element i of a bucket with norm N is sent as the b-bit code
// sign(x_i) << (b-1) | l_i,  l_i = floor(s |x_i| / N + u_i),  u_i ~ U[0, 1),
// and decoded as sign · N · l_i / s, so E[decoded] = x (unbiased).
//
// N is ‖bucket‖₂ accumulated in double, stored in the input's dtype rounded UP, so
// s |x_i| / N <= s and no level is clipped. u_i is the (i mod 2)-th 32-bit half of
// random_bits(seed, i / 2) scaled by 2^-32: a pure function of (seed, i), so the output does not
// depend on the thread count. Codes are packed little-endian: code i occupies stream bits
// [i·b, (i+1)·b), bit j of the stream being bit (j mod 8) of byte j / 8.
//
// Work is split into units of lcm(8, bucket) elements, so every task starts on a bucket boundary
// and a byte boundary; each bucket's norm is computed and its codes written while it is in cache
// (one read of x). Bucket norms that overflow double (|x| > 1e154) are recomputed scaled.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "infokit/compress/common.hpp"
#include "infokit/parallel.hpp"

// GCC on x86-64 Linux: build the per-bucket encoder for x86-64-v4 (AVX-512: native 64-bit
// multiplies for the generator, 8 doubles per vector), AVX2 and the baseline, picked at load time
// (the wheel stays portable). Every clone does the same IEEE operations in the same order per
// element and the translation unit is built with -ffp-contract=off (no fused multiply-add even
// where the CPU has FMA), so all give the numpy twin's bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    __GNUC__ >= 11  // the x86-64-v4 level name is GCC 11+
#define INFOKIT_COMPRESS_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#elif defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define INFOKIT_COMPRESS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define INFOKIT_COMPRESS_CLONES
#endif
#if defined(__GNUC__)
#define INFOKIT_COMPRESS_INLINE inline __attribute__((always_inline))
#else
#define INFOKIT_COMPRESS_INLINE inline
#endif

namespace infokit::compress {

inline std::size_t qsgd_packed_bytes(std::size_t n, int bits) {
  return (n * static_cast<std::size_t>(bits) + 7) / 8;
}

namespace detail {

inline std::size_t qsgd_unit(std::size_t bucket) {
  return bucket / std::gcd(bucket, std::size_t{8}) * 8;
}

// ‖x[0, count)‖₂ in double, rounded up to T. Eight partial sums (independent chains that the
// compiler vectorises). NaN/inf make the sum non-finite: *bad is set. Sums beyond double's range
// (float64 entries > 1e154) are recomputed scaled by the largest magnitude.
template <class T>
INFOKIT_COMPRESS_INLINE T norm_rounded_up(const T* x, std::size_t count, bool* bad) {
  double part[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8)
    for (std::size_t j = 0; j < 8; ++j) {
      const double v = static_cast<double>(x[i + j]);
      part[j] += v * v;
    }
  for (; i < count; ++i) {
    const double v = static_cast<double>(x[i]);
    part[0] += v * v;
  }
  const double ss = ((part[0] + part[1]) + (part[2] + part[3])) +
                    ((part[4] + part[5]) + (part[6] + part[7]));
  double norm = std::sqrt(ss);
  if (!std::isfinite(ss)) {
    double big = 0.0;
    for (std::size_t k = 0; k < count; ++k) {
      const double a = std::fabs(static_cast<double>(x[k]));
      if (!std::isfinite(a)) {
        *bad = true;
        return T(0);
      }
      big = std::max(big, a);
    }
    double scaled = 0.0;
    for (std::size_t k = 0; k < count; ++k) {
      const double v = static_cast<double>(x[k]) / big;
      scaled += v * v;
    }
    norm = big * std::sqrt(scaled);
  }
  T stored = static_cast<T>(norm);
  if (static_cast<double>(stored) < norm)
    stored = std::nextafter(stored, std::numeric_limits<T>::infinity());
  return stored;
}

// A group of 8 codes of `bits` bits is exactly `bits` bytes, stored little-endian.
inline void put_group(std::uint8_t* out, std::uint64_t word, int bits) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  switch (bits) {  // constant-size copies compile to single stores
    case 2: std::memcpy(out, &word, 2); return;
    case 4: std::memcpy(out, &word, 4); return;
    case 8: std::memcpy(out, &word, 8); return;
    default: break;
  }
#endif
  for (int b = 0; b < bits; ++b) out[b] = static_cast<std::uint8_t>(word >> (8 * b));
}

inline std::uint64_t get_group(const std::uint8_t* in, int bits) {
  std::uint64_t word = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  switch (bits) {
    case 2: std::memcpy(&word, in, 2); return word;
    case 4: std::memcpy(&word, in, 4); return word;
    case 8: std::memcpy(&word, in, 8); return word;
    default: break;
  }
#endif
  for (int b = 0; b < bits; ++b) word |= static_cast<std::uint64_t>(in[b]) << (8 * b);
  return word;
}

// The code of one element: level = min(s, floor(|x| · scale + u)), sign bit if x < 0.
template <class T>
INFOKIT_COMPRESS_INLINE std::uint32_t qsgd_code(T v, double scale, std::uint32_t half, std::uint32_t s,
                                         std::uint32_t sign_bit) {
  // half as a double, exactly, through a signed conversion (SIMD has no unsigned one).
  const double u =
      (static_cast<double>(static_cast<std::int32_t>(half ^ 0x80000000u)) + 2147483648.0) * 0x1p-32;
  const double level = std::fabs(static_cast<double>(v)) * scale + u;
  const std::int32_t l = std::min(static_cast<std::int32_t>(level), static_cast<std::int32_t>(s));
  return static_cast<std::uint32_t>(l) | (v < T(0) ? sign_bit : 0u);
}

// One whole bucket of `count` entries (a multiple of 8) whose first entry has the global index
// `first` (even): its norm, then its codes, 8 at a time, packed into `bits` bytes per group.
// Built twice on x86-64 Linux (AVX2 and baseline), chosen at load time; same results.
template <class T>
INFOKIT_COMPRESS_INLINE T encode_bucket(const T* __restrict x, std::size_t count, std::size_t first,
                                 std::uint64_t seed, int bits, std::uint8_t* __restrict out,
                                 bool* bad) {
  const std::uint32_t s = (1u << (bits - 1)) - 1u, sign_bit = 1u << (bits - 1);
  const T norm = norm_rounded_up(x, count, bad);
  if (*bad) {
    for (std::size_t b = 0; b < count / 8 * static_cast<std::size_t>(bits); ++b) out[b] = 0;
    return norm;
  }
  const double scale = norm > T(0) ? s / static_cast<double>(norm) : 0.0;
  constexpr std::size_t kChunk = 256;
  alignas(32) std::uint32_t half[kChunk];
  alignas(32) std::uint32_t code[kChunk];
  for (std::size_t c0 = 0; c0 < count; c0 += kChunk) {
    const std::size_t m = std::min(kChunk, count - c0);
    for (std::size_t j = 0; j < m / 2; ++j) {
      const std::uint64_t r = random_bits(seed, (first + c0) / 2 + j);
      half[2 * j] = static_cast<std::uint32_t>(r);
      half[2 * j + 1] = static_cast<std::uint32_t>(r >> 32);
    }
    for (std::size_t j = 0; j < m; ++j) code[j] = qsgd_code(x[c0 + j], scale, half[j], s, sign_bit);
    for (std::size_t g = 0; g < m; g += 8) {
      std::uint64_t word = 0;
      for (std::size_t j = 0; j < 8; ++j)
        word |= static_cast<std::uint64_t>(code[g + j]) << (j * static_cast<std::size_t>(bits));
      put_group(out, word, bits);
      out += bits;
    }
  }
  return norm;
}

INFOKIT_COMPRESS_CLONES inline float encode_bucket_f(const float* x, std::size_t count, std::size_t first,
                                             std::uint64_t seed, int bits, std::uint8_t* out,
                                             bool* bad) {
  return encode_bucket(x, count, first, seed, bits, out, bad);
}

INFOKIT_COMPRESS_CLONES inline double encode_bucket_f(const double* x, std::size_t count,
                                              std::size_t first, std::uint64_t seed, int bits,
                                              std::uint8_t* out, bool* bad) {
  return encode_bucket(x, count, first, seed, bits, out, bad);
}

}  // namespace detail

// norms: ceil(n / bucket) outputs; packed: qsgd_packed_bytes(n, bits) outputs. 2 <= bits <= 8.
template <class T>
Status qsgd_encode(const T* x, std::size_t n, std::size_t bucket, int bits, std::uint64_t seed,
                   T* norms, std::uint8_t* packed, int n_threads) {
  if (n == 0 || bucket == 0 || bits < 2 || bits > 8) return Status::bad_input;
  bucket = std::min(bucket, n);  // one bucket either way; keeps lcm(8, bucket) from overflowing
  const std::uint32_t s = (1u << (bits - 1)) - 1u;
  const std::uint32_t sign_bit = 1u << (bits - 1);
  const std::size_t unit = detail::qsgd_unit(bucket);
  const std::size_t n_units = (n + unit - 1) / unit;
  const int nt = threads_for(n_units, n_threads, std::max<std::size_t>(1, (1u << 15) / unit));
  std::vector<unsigned char> bad(static_cast<std::size_t>(nt), 0);
  const bool whole_groups = bucket % 8 == 0;  // groups of 8 codes never straddle two buckets

  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [u0, u1] = part_range(n_units, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
    const std::size_t begin = u0 * unit, end = std::min(n, u1 * unit);
    if (begin >= end) return;
    std::uint8_t* out = packed + begin / 8 * static_cast<std::size_t>(bits);
    std::uint64_t acc = 0;  // bit writer for the general path and the final partial group
    int held = 0;
    auto put = [&](std::uint32_t code) {
      acc |= static_cast<std::uint64_t>(code) << held;
      held += bits;
      if (held >= 32) {
        for (int byte = 0; byte < 4; ++byte) *out++ = static_cast<std::uint8_t>(acc >> (8 * byte));
        acc >>= 32;
        held -= 32;
      }
    };
    bool task_bad = false;
    for (std::size_t lo = begin; lo < end; lo += bucket) {
      const std::size_t hi = std::min(end, lo + bucket);
      bool bucket_bad = false;
      if (whole_groups && (hi - lo) % 8 == 0) {  // every bucket but possibly the array's last
        norms[lo / bucket] = detail::encode_bucket_f(x + lo, hi - lo, lo, seed, bits, out, &bucket_bad);
        out += (hi - lo) / 8 * static_cast<std::size_t>(bits);
        task_bad = task_bad || bucket_bad;
        continue;
      }
      // General path: one code at a time through the bit writer.
      const T norm = detail::norm_rounded_up(x + lo, hi - lo, &bucket_bad);
      norms[lo / bucket] = norm;
      task_bad = task_bad || bucket_bad;
      // A bad bucket (NaN/inf) gets all-zero codes; the caller raises anyway.
      const double scale = (norm > T(0) && !bucket_bad) ? s / static_cast<double>(norm) : 0.0;
      std::uint64_t r = random_bits(seed, lo >> 1);
      for (std::size_t i = lo; i < hi; ++i) {
        if ((i & 1) == 0) r = random_bits(seed, i >> 1);
        const std::uint32_t half = (i & 1) ? static_cast<std::uint32_t>(r >> 32)
                                           : static_cast<std::uint32_t>(r);
        put(bucket_bad ? 0u : detail::qsgd_code(x[i], scale, half, s, sign_bit));
      }
    }
    while (held > 0) {
      *out++ = static_cast<std::uint8_t>(acc);
      acc >>= 8;
      held -= 8;
    }
    bad[static_cast<std::size_t>(t)] = task_bad;
  });
  for (unsigned char b : bad)
    if (b) return Status::non_finite;
  return Status::ok;
}

// Inverse of qsgd_encode: out[i] = T(±level · (norm / s)). norms must be finite and >= 0.
template <class T>
Status qsgd_decode(const T* norms, const std::uint8_t* packed, std::size_t n, std::size_t bucket,
                   int bits, T* out, int n_threads) {
  if (n == 0 || bucket == 0 || bits < 2 || bits > 8) return Status::bad_input;
  bucket = std::min(bucket, n);
  const std::size_t n_buckets = (n + bucket - 1) / bucket;
  for (std::size_t b = 0; b < n_buckets; ++b)
    if (!(norms[b] >= T(0)) || !std::isfinite(norms[b])) return Status::bad_input;
  const std::uint32_t s = (1u << (bits - 1)) - 1u;
  const std::uint32_t mask = (1u << bits) - 1u;
  // Signed level of every code; (-l) · step == -(l · step) exactly, so this is the formula.
  double signed_level[256];
  for (std::uint32_t c = 0; c <= mask; ++c)
    signed_level[c] = (c & (s + 1u)) ? -static_cast<double>(c & s) : static_cast<double>(c & s);
  const std::size_t unit = detail::qsgd_unit(bucket);
  const std::size_t n_units = (n + unit - 1) / unit;
  const int nt = threads_for(n_units, n_threads, std::max<std::size_t>(1, (1u << 15) / unit));
  const bool whole_groups = bucket % 8 == 0;

  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [u0, u1] = part_range(n_units, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
    const std::size_t begin = u0 * unit, end = std::min(n, u1 * unit);
    if (begin >= end) return;
    const std::uint8_t* in = packed + begin / 8 * static_cast<std::size_t>(bits);
    std::uint64_t acc = 0;
    int held = 0;
    for (std::size_t lo = begin; lo < end; lo += bucket) {
      const std::size_t hi = std::min(end, lo + bucket);
      const double step = static_cast<double>(norms[lo / bucket]) / s;
      std::size_t i = lo;
      if (whole_groups) {
        for (; i + 8 <= hi; i += 8) {
          const std::uint64_t word = detail::get_group(in, bits);
          in += bits;
          for (std::size_t j = 0; j < 8; ++j) {
            const auto code = static_cast<std::uint32_t>(word >> (j * static_cast<std::size_t>(bits))) & mask;
            out[i + j] = static_cast<T>(signed_level[code] * step);
          }
        }
      }
      for (; i < hi; ++i) {
        while (held < bits) {  // never reads past this task's ceil(count · bits / 8) bytes
          acc |= static_cast<std::uint64_t>(*in++) << held;
          held += 8;
        }
        const std::uint32_t code = static_cast<std::uint32_t>(acc) & mask;
        acc >>= bits;
        held -= bits;
        out[i] = static_cast<T>(signed_level[code] * step);
      }
    }
  });
  return Status::ok;
}

}  // namespace infokit::compress
