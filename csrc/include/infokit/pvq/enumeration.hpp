// Pyramid vector quantization: the codebook size V(N, K) and the enumeration of RFC 6716
// section 4.3.4.2 (Opus/CELT, after Fischer 1986), in 64-bit arithmetic.
//
// The codebook S(N, K) holds the integer vectors of length N with L1 norm K. Its size obeys
//   V(N, K) = V(N-1, K) + V(N, K-1) + V(N-1, K-1),  V(N, 0) = 1,  V(0, K > 0) = 0.
// The RFC's decoder reads coordinates left to right with n = N - j dimensions and k pulses left:
// codewords whose first coordinate is >= 0 come first, there are
//   nonnegative(n, k) = (V(n-1, k) + V(n, k)) / 2
// of them; inside the block of one sign, larger magnitudes come first: the codewords whose first
// magnitude exceeds v (v + 1 ... k) fill the first below(n, k - v) places, where
//   below(n, r) = (V(n, r) - V(n-1, r)) / 2 = sum_{m < r} V(n-1, m)
// (the identity follows from V(n, r) = V(n-1, r) + 2 sum_{m < r} V(n-1, m)). Hence the
// encoder's closed form, one term per coordinate:
//   index = sum_j [x_j < 0] nonnegative(n_j, k_j) + below(n_j, k_j - |x_j|),  k_{j+1} = k_j - |x_j|,
// and the decoder's search for the largest r <= k with below(n, r) <= i (the RFC's step 4), whose
// steps add up to K over the vector: O(N + K) table reads per vector either way.
//
// Tables are (N+1) x (K+1), row-major, saturated at kSaturated when V exceeds 2^64 - 1. V(N, K)
// is even for K >= 1 (signs pair up) and 1 for K = 0, so the saturated value is never a true one.
// encode/decode require table[N][K] != kSaturated (the binding checks); then every V(n, k) with
// n <= N, k <= K is below 2^64 too (V grows in n, and in k for n >= 1) and no sum overflows.
//
// Bounds: encode checks each row (every |x_j| no more than the pulses left, and exactly K in all)
// before reading the table with it; decode checks index < V(N, K). A bad row is reported (the
// first one), written as zeros, and nothing outside the buffers is touched. Nothing here throws.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "infokit/parallel.hpp"

namespace infokit::pvq {

inline constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();
inline constexpr std::size_t kEnumGrain = 1 << 12;  // vectors per thread before threads pay off

inline std::uint64_t add_saturating(std::uint64_t a, std::uint64_t b) {
  return a > kSaturated - b ? kSaturated : a + b;
}

// table[n * (K + 1) + k] = V(n, k) for n in [0, N], k in [0, K], saturated at kSaturated.
inline void size_table(std::size_t N, std::size_t K, std::uint64_t* table) {
  const std::size_t w = K + 1;
  for (std::size_t k = 0; k <= K; ++k) table[k] = k == 0 ? 1 : 0;
  for (std::size_t n = 1; n <= N; ++n) {
    std::uint64_t* row = table + n * w;
    const std::uint64_t* up = row - w;
    row[0] = 1;
    for (std::size_t k = 1; k <= K; ++k)
      row[k] = add_saturating(add_saturating(up[k], row[k - 1]), up[k - 1]);
  }
}

// Read-only view of a table with the two derived counts of the enumeration.
class Codebook {
 public:
  Codebook(const std::uint64_t* table, std::size_t N, std::size_t K)
      : table_(table), width_(K + 1), N_(N), K_(K) {}

  std::size_t N() const { return N_; }
  std::size_t K() const { return K_; }
  std::uint64_t size(std::size_t n, std::size_t k) const { return table_[n * width_ + k]; }
  std::uint64_t total() const { return size(N_, K_); }

  // Codewords of n dimensions and k pulses whose first coordinate is >= 0 (n >= 1).
  std::uint64_t nonnegative(std::size_t n, std::size_t k) const {
    const std::uint64_t whole = size(n, k), rest = size(n - 1, k);
    return rest + (whole - rest) / 2;  // = (rest + whole) / 2 without overflow
  }
  // Codewords of n dimensions and r pulses whose first coordinate is > 0 (n >= 1).
  std::uint64_t below(std::size_t n, std::size_t r) const {
    return (size(n, r) - size(n - 1, r)) / 2;
  }

 private:
  const std::uint64_t* table_;
  std::size_t width_, N_, K_;
};

namespace detail {

// Magnitude of a signed integer as uint64, correct for the most negative value too.
template <class P>
std::uint64_t magnitude(P v) {
  using U = std::make_unsigned_t<P>;
  return v < 0 ? static_cast<std::uint64_t>(static_cast<U>(0) - static_cast<U>(v))
               : static_cast<std::uint64_t>(v);
}

// Index of one row, or false when the row's L1 norm is not K.
template <class P>
bool encode_row(const Codebook& cb, const P* x, std::uint64_t* index) {
  std::uint64_t i = 0;
  std::size_t k = cb.K();
  const std::size_t N = cb.N();
  for (std::size_t j = 0; j < N; ++j) {
    const std::uint64_t v = magnitude(x[j]);
    if (v > k) return false;  // more pulses than are left: L1 norm above K
    const std::size_t n = N - j;
    if (x[j] < 0) i += cb.nonnegative(n, k);
    k -= static_cast<std::size_t>(v);
    i += cb.below(n, k);
  }
  if (k != 0) return false;  // L1 norm below K
  *index = i;
  return true;
}

// The RFC 6716 decoder for one index < V(N, K).
template <class P>
void decode_row(const Codebook& cb, std::uint64_t i, P* x) {
  std::size_t k = cb.K();
  const std::size_t N = cb.N();
  for (std::size_t j = 0; j < N; ++j) {
    const std::size_t n = N - j;
    const std::uint64_t p = cb.nonnegative(n, k);
    const bool negative = i >= p;
    if (negative) i -= p;
    std::size_t r = k;
    while (cb.below(n, r) > i) --r;  // below(n, 0) = 0 stops it
    const P v = static_cast<P>(k - r);
    x[j] = negative ? static_cast<P>(-v) : v;
    i -= cb.below(n, r);
    k = r;
  }
}

// Runs row(r) -> bool for every row on up to n_threads threads; the first failing row or -1.
template <class Row>
std::int64_t for_rows(std::size_t m, int n_threads, Row&& row) {
  const int nt = threads_for(m, n_threads, kEnumGrain);
  std::int64_t first_bad[64];
  const int parts = std::min(nt, 64);
  parallel_for(parts, parts, [&](std::int64_t part) {
    const auto [b, e] =
        part_range(m, static_cast<std::size_t>(parts), static_cast<std::size_t>(part));
    std::int64_t bad = -1;
    for (std::size_t r = b; r < e; ++r)
      if (!row(r) && bad < 0) bad = static_cast<std::int64_t>(r);
    first_bad[part] = bad;
  });
  for (int part = 0; part < parts; ++part)
    if (first_bad[part] >= 0) return first_bad[part];
  return -1;
}

}  // namespace detail

// indices[r] = RFC 6716 index of pulses[r, :] (m rows of N, C order). Rows whose L1 norm is not K
// get index 0. Returns the first such row, or -1 when all are codewords.
template <class P>
std::int64_t encode(const P* pulses, std::size_t m, const Codebook& cb, std::uint64_t* indices,
                    int n_threads) {
  const std::size_t N = cb.N();
  return detail::for_rows(m, n_threads, [&](std::size_t r) {
    std::uint64_t i = 0;
    const bool ok = detail::encode_row(cb, pulses + r * N, &i);
    indices[r] = ok ? i : 0;
    return ok;
  });
}

// pulses[r, :] = codeword number indices[r]. Rows whose index is >= V(N, K) are written as zeros.
// Returns the first such row, or -1.
template <class P>
std::int64_t decode(const std::uint64_t* indices, std::size_t m, const Codebook& cb, P* pulses,
                    int n_threads) {
  const std::size_t N = cb.N();
  const std::uint64_t total = cb.total();
  return detail::for_rows(m, n_threads, [&](std::size_t r) {
    P* x = pulses + r * N;
    if (indices[r] >= total) {
      std::fill(x, x + N, P{0});
      return false;
    }
    detail::decode_row(cb, indices[r], x);
    return true;
  });
}

}  // namespace infokit::pvq
