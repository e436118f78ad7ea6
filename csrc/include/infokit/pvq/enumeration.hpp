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
//   index = sum_j [x_j < 0] nonnegative(n_j, k_j) + below(n_j, k_j - |x_j|),  k_{j+1} = k_j -
//   |x_j|,
// and the decoder's search for the largest r <= k with below(n, r) <= i (the RFC's step 4), whose
// steps add up to K over the vector: O(N) table reads per vector to encode, O(N + K) to decode.
//
// Tables are (N+1) x (K+1), row-major, saturated at kSaturated when V exceeds 2^64 - 1. V(N, K)
// is even for K >= 1 (signs pair up) and 1 for K = 0, so the saturated value is never a true one.
// encode/decode require table[N][K] != kSaturated (the binding checks); then every V(n, k) with
// n <= N, k <= K is below 2^64 too (V grows in n, and in k for n >= 1) and no sum overflows.
//
// Bounds: encode clamps a magnitude larger than the pulses left to them (the row is then marked
// bad), so the pulses left never go negative and every table read is in range; decode checks
// index < V(N, K), which keeps every step inside the tables (the RFC's invariant i < V(n, k)).
// A bad row is reported (the first one) and written as index 0 / zeros; nothing outside the
// buffers is touched.
// Nothing here throws except the Codebook's allocation (std::bad_alloc), made in the binding.
//
// Speed: the derived counts are tabulated once per call, the sign is applied without a branch,
// and rows go 4 (encode) or 8 (decode) at a time so that their independent chains of table
// reads overlap.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

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

// The two derived counts of the enumeration, tabulated from a V table whose V(N, K) < 2^64:
//   nonnegative(n, k) = (V(n-1, k) + V(n, k)) / 2   (first coordinate >= 0),
//   below(n, r)       = (V(n, r) - V(n-1, r)) / 2   (first coordinate > 0, r pulses).
// Rows n = 1 .. N; each below row starts with kPad zeros standing for r = -kPad .. -1, so that the
// decoder's unrolled look-back below(n, k - t), t < kPad, never leaves the table and reads 0 there.
class Codebook {
 public:
  static constexpr std::size_t kPad = 4;

  Codebook(const std::uint64_t* table, std::size_t N, std::size_t K)
      : N_(N),
        K_(K),
        width_(K + 1),
        total_(table[N * (K + 1) + K]),
        nonneg_((N + 1) * width_, 0),
        below_((N + 1) * (width_ + kPad), 0) {
    for (std::size_t n = 1; n <= N; ++n) {
      const std::uint64_t* whole = table + n * width_;
      const std::uint64_t* rest = whole - width_;
      for (std::size_t k = 0; k <= K; ++k) {
        nonneg_[n * width_ + k] = rest[k] + (whole[k] - rest[k]) / 2;  // no overflow
        below_[n * (width_ + kPad) + kPad + k] = (whole[k] - rest[k]) / 2;
      }
    }
  }

  std::size_t N() const { return N_; }
  std::size_t K() const { return K_; }
  std::uint64_t total() const { return total_; }  // V(N, K)
  const std::uint64_t* nonnegative_row(std::size_t n) const { return nonneg_.data() + n * width_; }
  // below_row(n)[r] = below(n, r) for r in [-kPad, K] (0 for r < 0).
  const std::uint64_t* below_row(std::size_t n) const {
    return below_.data() + n * (width_ + kPad) + kPad;
  }

 private:
  std::size_t N_, K_, width_;
  std::uint64_t total_;
  std::vector<std::uint64_t> nonneg_, below_;
};

namespace detail {

// Magnitude of a signed integer as uint64, correct for the most negative value too.
template <class P>
std::uint64_t magnitude(P v) {
  using U = std::make_unsigned_t<P>;
  return v < 0 ? static_cast<std::uint64_t>(static_cast<U>(0) - static_cast<U>(v))
               : static_cast<std::uint64_t>(v);
}

// Rows are worked on G at a time, coordinate by coordinate: the G index computations are
// independent chains, so the CPU overlaps them instead of waiting on one chain's table reads.
inline constexpr std::size_t kEncodeGroup = 4;  // measured best at N = 32, K = 16
inline constexpr std::size_t kDecodeGroup = 8;
inline constexpr std::size_t kLookBack = 3;  // <= Codebook::kPad

// Indices of G rows by the closed form, branch-free per coordinate; ok[g] says whether row g is
// a codeword. A magnitude larger than the pulses left is clamped to them (so the table reads
// stay in bounds) and marks the row bad; so does a row that ends with pulses left.
template <std::size_t G, class P>
void encode_group(const Codebook& cb, const P* const* x, std::uint64_t* out, bool* ok) {
  std::uint64_t i[G];
  std::size_t k[G];
  bool bad[G];
  for (std::size_t g = 0; g < G; ++g) i[g] = 0, k[g] = cb.K(), bad[g] = false;
  const std::size_t N = cb.N();
  for (std::size_t j = 0; j < N; ++j) {
    const std::size_t n = N - j;
    const std::uint64_t* nonneg = cb.nonnegative_row(n);
    const std::uint64_t* below = cb.below_row(n);
    for (std::size_t g = 0; g < G; ++g) {
      const P value = x[g][j];
      const std::uint64_t negative_mask = std::uint64_t{0} - static_cast<std::uint64_t>(value < 0);
      i[g] += nonneg[k[g]] & negative_mask;
      const std::uint64_t v = magnitude(value);
      bad[g] |= v > k[g];
      k[g] -= v > k[g] ? k[g] : static_cast<std::size_t>(v);
      i[g] += below[k[g]];
    }
  }
  for (std::size_t g = 0; g < G; ++g) {
    ok[g] = !bad[g] && k[g] == 0;
    out[g] = ok[g] ? i[g] : 0;
  }
}

// G codewords of indices < V(N, K), by the RFC 6716 steps. The magnitude is the number of
// r in (k - |x_j|, k] with below(n, r) > i (below grows with r); the first kLookBack candidates
// are counted without branches, larger magnitudes (rare in quantized data) continue in a loop.
// (Measured at N = 32, K = 16: three look-backs and 8 rows at a time beat 2 or 4 and 4 rows.)
template <std::size_t G, class P>
void decode_group(const Codebook& cb, const std::uint64_t* indices, P* const* x) {
  std::uint64_t i[G];
  std::size_t k[G];
  for (std::size_t g = 0; g < G; ++g) i[g] = indices[g], k[g] = cb.K();
  const std::size_t N = cb.N();
  for (std::size_t j = 0; j < N; ++j) {
    const std::size_t n = N - j;
    const std::uint64_t* nonneg = cb.nonnegative_row(n);
    const std::uint64_t* below = cb.below_row(n);
    for (std::size_t g = 0; g < G; ++g) {
      const std::uint64_t p = nonneg[k[g]];
      const bool negative = i[g] >= p;
      i[g] -= p & (std::uint64_t{0} - static_cast<std::uint64_t>(negative));
      const std::uint64_t* b = below + k[g];  // b[-t] = below(n, k - t), 0 for k - t < 0
      const std::uint64_t ig = i[g];
      std::size_t v = static_cast<std::size_t>(b[0] > ig) + static_cast<std::size_t>(b[-1] > ig) +
                      static_cast<std::size_t>(b[-2] > ig);
      if (v == kLookBack) {
        // b[-t] for t = k is below(n, 0) = 0, which stops the loop at t <= k.
        while (b[-static_cast<std::ptrdiff_t>(v)] > ig) ++v;
      }
      k[g] -= v;
      i[g] = ig - below[k[g]];
      const P sign_mask = static_cast<P>(-static_cast<P>(negative));  // 0 or -1
      x[g][j] = static_cast<P>((static_cast<P>(v) ^ sign_mask) - sign_mask);
    }
  }
}

// Runs body(begin, end) -> first bad row in [begin, end) or -1, over [0, m) on up to n_threads
// threads; the first bad row overall or -1.
template <class Body>
std::int64_t for_row_ranges(std::size_t m, int n_threads, Body&& body) {
  const int parts = std::min(threads_for(m, n_threads, kEnumGrain), 64);
  std::int64_t first_bad[64];
  parallel_for(parts, parts, [&](std::int64_t part) {
    const auto [b, e] =
        part_range(m, static_cast<std::size_t>(parts), static_cast<std::size_t>(part));
    first_bad[part] = body(b, e);
  });
  for (int part = 0; part < parts; ++part)
    if (first_bad[part] >= 0) return first_bad[part];
  return -1;
}

}  // namespace detail

static_assert(detail::kLookBack == 3 && detail::kLookBack <= Codebook::kPad,
              "decode_group unrolls three look-backs inside the zero padding");

// indices[r] = RFC 6716 index of pulses[r, :] (m rows of N, C order). Rows whose L1 norm is not K
// get index 0. Returns the first such row, or -1 when all are codewords.
template <class P>
std::int64_t encode(const P* pulses, std::size_t m, const Codebook& cb, std::uint64_t* indices,
                    int n_threads) {
  const std::size_t N = cb.N();
  return detail::for_row_ranges(m, n_threads, [&](std::size_t begin, std::size_t end) {
    constexpr std::size_t G = detail::kEncodeGroup;
    std::int64_t bad = -1;
    bool ok[G];
    std::size_t r = begin;
    for (; r + G <= end; r += G) {
      const P* group[G];
      for (std::size_t g = 0; g < G; ++g) group[g] = pulses + (r + g) * N;
      detail::encode_group<G>(cb, group, indices + r, ok);
      for (std::size_t g = 0; g < G; ++g)
        if (!ok[g] && bad < 0) bad = static_cast<std::int64_t>(r + g);
    }
    for (; r < end; ++r) {
      const P* row = pulses + r * N;
      detail::encode_group<1>(cb, &row, indices + r, ok);
      if (!ok[0] && bad < 0) bad = static_cast<std::int64_t>(r);
    }
    return bad;
  });
}

// pulses[r, :] = codeword number indices[r]. Rows whose index is >= V(N, K) are written as zeros.
// Returns the first such row, or -1.
template <class P>
std::int64_t decode(const std::uint64_t* indices, std::size_t m, const Codebook& cb, P* pulses,
                    int n_threads) {
  const std::size_t N = cb.N();
  const std::uint64_t total = cb.total();
  return detail::for_row_ranges(m, n_threads, [&](std::size_t begin, std::size_t end) {
    std::int64_t bad = -1;
    std::uint64_t group_indices[detail::kDecodeGroup];
    P* group[detail::kDecodeGroup];
    std::size_t filled = 0;
    auto flush = [&]() {
      if (filled == detail::kDecodeGroup) {
        detail::decode_group<detail::kDecodeGroup>(cb, group_indices, group);
      } else {
        for (std::size_t g = 0; g < filled; ++g)
          detail::decode_group<1>(cb, group_indices + g, group + g);
      }
      filled = 0;
    };
    for (std::size_t r = begin; r < end; ++r) {
      P* x = pulses + r * N;
      if (indices[r] >= total) {
        std::fill(x, x + N, P{0});
        if (bad < 0) bad = static_cast<std::int64_t>(r);
        continue;
      }
      group_indices[filled] = indices[r];
      group[filled] = x;
      if (++filled == detail::kDecodeGroup) flush();
    }
    flush();
    return bad;
  });
}

}  // namespace infokit::pvq
