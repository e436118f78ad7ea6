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
#include <limits>
#include <numeric>
#include <vector>

#include "infokit/compress/common.hpp"
#include "infokit/parallel.hpp"

namespace infokit::compress {

inline std::size_t qsgd_packed_bytes(std::size_t n, int bits) {
  return (n * static_cast<std::size_t>(bits) + 7) / 8;
}

namespace detail {

inline std::size_t qsgd_unit(std::size_t bucket) {
  return bucket / std::gcd(bucket, std::size_t{8}) * 8;
}

template <class T>
T norm_rounded_up(const T* x, std::size_t lo, std::size_t hi, bool* bad) {
  using U = typename AbsKey<T>::U;
  double ss = 0.0;
  U worst = 0;
  for (std::size_t i = lo; i < hi; ++i) {
    const double v = static_cast<double>(x[i]);
    ss += v * v;
    worst = std::max(worst, abs_key(x[i]));
  }
  if (worst >= AbsKey<T>::kNonFinite) {
    *bad = true;
    return T(0);
  }
  double norm;
  if (ss <= std::numeric_limits<double>::max()) {
    norm = std::sqrt(ss);
  } else {  // squares overflowed: scale by the largest magnitude
    double big = 0.0;
    for (std::size_t i = lo; i < hi; ++i) big = std::max(big, std::fabs(static_cast<double>(x[i])));
    double scaled = 0.0;
    for (std::size_t i = lo; i < hi; ++i) {
      const double v = static_cast<double>(x[i]) / big;
      scaled += v * v;
    }
    norm = big * std::sqrt(scaled);
  }
  T stored = static_cast<T>(norm);
  if (static_cast<double>(stored) < norm)
    stored = std::nextafter(stored, std::numeric_limits<T>::infinity());
  return stored;
}

}  // namespace detail

// norms: ceil(n / bucket) outputs; packed: qsgd_packed_bytes(n, bits) outputs. 2 <= bits <= 8.
template <class T>
Status qsgd_encode(const T* x, std::size_t n, std::size_t bucket, int bits, std::uint64_t seed,
                   T* norms, std::uint8_t* packed, int n_threads) {
  if (n == 0 || bucket == 0 || bits < 2 || bits > 8) return Status::bad_input;
  const std::uint32_t s = (1u << (bits - 1)) - 1u;
  const std::uint32_t sign_bit = 1u << (bits - 1);
  const std::size_t unit = detail::qsgd_unit(bucket);
  const std::size_t n_units = (n + unit - 1) / unit;
  const int nt = threads_for(n_units, n_threads, std::max<std::size_t>(1, (1u << 15) / unit));
  std::vector<unsigned char> bad(static_cast<std::size_t>(nt), 0);

  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [u0, u1] = part_range(n_units, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
    const std::size_t begin = u0 * unit, end = std::min(n, u1 * unit);
    if (begin >= end) return;
    std::uint8_t* out = packed + begin / 8 * static_cast<std::size_t>(bits);
    std::uint64_t acc = 0;
    int held = 0;
    bool task_bad = false;
    for (std::size_t lo = begin; lo < end; lo += bucket) {
      const std::size_t hi = std::min(end, lo + bucket);
      bool bucket_bad = false;
      const T norm = detail::norm_rounded_up(x, lo, hi, &bucket_bad);
      norms[lo / bucket] = norm;
      task_bad = task_bad || bucket_bad;
      const double scale = (norm > T(0) && !bucket_bad) ? s / static_cast<double>(norm) : 0.0;
      std::uint64_t r = random_bits(seed, lo >> 1);
      for (std::size_t i = lo; i < hi; ++i) {
        if ((i & 1) == 0) r = random_bits(seed, i >> 1);
        const std::uint32_t half = (i & 1) ? static_cast<std::uint32_t>(r >> 32)
                                           : static_cast<std::uint32_t>(r);
        std::uint32_t code = 0;
        if (!bucket_bad) {
          const double level =
              std::fabs(static_cast<double>(x[i])) * scale + static_cast<double>(half) * 0x1p-32;
          code = std::min(static_cast<std::uint32_t>(level), s);
          if (x[i] < T(0)) code |= sign_bit;
        }
        acc |= static_cast<std::uint64_t>(code) << held;
        held += bits;
        if (held >= 32) {
          for (int byte = 0; byte < 4; ++byte) *out++ = static_cast<std::uint8_t>(acc >> (8 * byte));
          acc >>= 32;
          held -= 32;
        }
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

// Inverse of qsgd_encode: out[i] = sign · norm · level / s. norms must be finite and >= 0.
template <class T>
Status qsgd_decode(const T* norms, const std::uint8_t* packed, std::size_t n, std::size_t bucket,
                   int bits, T* out, int n_threads) {
  if (n == 0 || bucket == 0 || bits < 2 || bits > 8) return Status::bad_input;
  const std::size_t n_buckets = (n + bucket - 1) / bucket;
  for (std::size_t b = 0; b < n_buckets; ++b)
    if (!(norms[b] >= T(0)) || !std::isfinite(norms[b])) return Status::bad_input;
  const std::uint32_t s = (1u << (bits - 1)) - 1u;
  const std::uint32_t mask = (1u << bits) - 1u;
  const std::size_t unit = detail::qsgd_unit(bucket);
  const std::size_t n_units = (n + unit - 1) / unit;
  const int nt = threads_for(n_units, n_threads, std::max<std::size_t>(1, (1u << 15) / unit));

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
      for (std::size_t i = lo; i < hi; ++i) {
        while (held < bits) {  // never reads past this task's ceil(count · bits / 8) bytes
          acc |= static_cast<std::uint64_t>(*in++) << held;
          held += 8;
        }
        const std::uint32_t code = static_cast<std::uint32_t>(acc) & mask;
        acc >>= bits;
        held -= bits;
        const T v = static_cast<T>(static_cast<double>(code & s) * step);
        out[i] = (code & (s + 1u)) ? -v : v;
      }
    }
  });
  return Status::ok;
}

}  // namespace infokit::compress
