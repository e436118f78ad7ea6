// Pyramid vector quantization beyond 64 bits: the RFC 6716 enumeration of enumeration.hpp with
// indices held as W little-endian 64-bit words (W = ceil(log2 V(N, K)) / 64 rounded up, chosen
// by the caller). Same terms, same order, same bounds rules; only the arithmetic is wider:
//   index = sum_j [x_j < 0] nonnegative(n, k) + below(n, k - |x_j|)       (encode)
// and the RFC's sign test and magnitude search by W-word comparisons (decode).
//
// Tables: nonnegative(n, k) and below(n, r) for n <= N, k, r <= K, W words each, derived from
// V(n, k) built by the recurrence with carries; a carry out of the top word means V(N, K) does
// not fit in W words, which the constructor reports (fits() is false) and the caller must check.
// Memory 2 (N + 1)(K + 1) W words; the binding caps it.
//
// Bounds: as in enumeration.hpp. encode clamps a magnitude above the pulses left (marking the
// row bad); decode rejects an index >= V(N, K), after which the RFC's invariant i < V(n, k)
// keeps every step in the tables. Nothing here throws except std::bad_alloc (tables, scratch).
// Cost: O(N W) word operations per vector to encode, O((N + K) W) to decode.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/parallel.hpp"
#include "infokit/pvq/enumeration.hpp"

namespace infokit::pvq {

namespace wide {

// a += (b & mask) over W words; returns the carry out of the top word.
inline std::uint64_t add(std::uint64_t* a, const std::uint64_t* b, std::size_t W,
                         std::uint64_t mask = ~std::uint64_t{0}) {
  std::uint64_t carry = 0;
  for (std::size_t w = 0; w < W; ++w) {
    const std::uint64_t bw = b[w] & mask;
    std::uint64_t s = a[w] + bw;
    std::uint64_t c = s < bw;
    s += carry;
    c |= s < carry;
    a[w] = s;
    carry = c;
  }
  return carry;
}

// a -= b over W words (a >= b).
inline void sub(std::uint64_t* a, const std::uint64_t* b, std::size_t W) {
  std::uint64_t borrow = 0;
  for (std::size_t w = 0; w < W; ++w) {
    const std::uint64_t d = a[w] - b[w];
    const std::uint64_t b1 = a[w] < b[w];
    a[w] = d - borrow;
    borrow = b1 | (d < borrow);
  }
}

// a < b over W words.
inline bool less(const std::uint64_t* a, const std::uint64_t* b, std::size_t W) {
  for (std::size_t w = W; w-- > 0;)
    if (a[w] != b[w]) return a[w] < b[w];
  return false;
}

// a >>= 1 over W words.
inline void halve(std::uint64_t* a, std::size_t W) {
  for (std::size_t w = 0; w < W; ++w) a[w] = (a[w] >> 1) | (w + 1 < W ? a[w + 1] << 63 : 0);
}

}  // namespace wide

class WideCodebook {
 public:
  WideCodebook(std::size_t N, std::size_t K, std::size_t W)
      : N_(N),
        K_(K),
        W_(W),
        width_(K + 1),
        nonneg_((N + 1) * width_ * W, 0),
        below_((N + 1) * width_ * W, 0),
        total_(W, 0) {
    // V rows two at a time: up = V(n - 1, .), row = V(n, .).
    std::vector<std::uint64_t> up(width_ * W, 0), row(width_ * W, 0);
    up[0] = 1;  // V(0, 0) = 1, V(0, k > 0) = 0
    if (N == 0) total_ = std::vector<std::uint64_t>(up.begin() + K * W, up.begin() + (K + 1) * W);
    for (std::size_t n = 1; n <= N; ++n) {
      std::fill(row.begin(), row.end(), 0);
      row[0] = 1;
      for (std::size_t k = 1; k <= K; ++k) {
        std::uint64_t* cell = &row[k * W];
        overflow_ |= wide::add(cell, &up[k * W], W) != 0;
        overflow_ |= wide::add(cell, &row[(k - 1) * W], W) != 0;
        overflow_ |= wide::add(cell, &up[(k - 1) * W], W) != 0;
      }
      for (std::size_t k = 0; k <= K; ++k) {
        // below = (V(n, k) - V(n-1, k)) / 2; nonnegative = V(n-1, k) + below.
        std::uint64_t* b = &below_[(n * width_ + k) * W];
        std::uint64_t* p = &nonneg_[(n * width_ + k) * W];
        std::copy(&row[k * W], &row[k * W] + W, b);
        if (!overflow_) wide::sub(b, &up[k * W], W);
        wide::halve(b, W);
        std::copy(&up[k * W], &up[k * W] + W, p);
        wide::add(p, b, W);
      }
      if (n == N) std::copy(&row[K * W], &row[K * W] + W, total_.begin());
      std::swap(up, row);
    }
  }

  bool fits() const { return !overflow_; }
  std::size_t N() const { return N_; }
  std::size_t K() const { return K_; }
  std::size_t W() const { return W_; }
  const std::uint64_t* total() const { return total_.data(); }
  const std::uint64_t* nonnegative(std::size_t n, std::size_t k) const {
    return &nonneg_[(n * width_ + k) * W_];
  }
  const std::uint64_t* below(std::size_t n, std::size_t r) const {
    return &below_[(n * width_ + r) * W_];
  }

 private:
  std::size_t N_, K_, W_, width_;
  std::vector<std::uint64_t> nonneg_, below_, total_;
  bool overflow_ = false;
};

namespace detail {

template <class P>
bool encode_row_wide(const WideCodebook& cb, const P* x, std::uint64_t* out) {
  const std::size_t N = cb.N(), W = cb.W();
  std::fill(out, out + W, 0);
  std::size_t k = cb.K();
  bool bad = false;
  for (std::size_t j = 0; j < N; ++j) {
    const std::size_t n = N - j;
    const std::uint64_t mask = std::uint64_t{0} - static_cast<std::uint64_t>(x[j] < 0);
    wide::add(out, cb.nonnegative(n, k), W, mask);
    const std::uint64_t v = magnitude(x[j]);
    bad |= v > k;
    k -= v > k ? k : static_cast<std::size_t>(v);
    wide::add(out, cb.below(n, k), W);
  }
  if (bad || k != 0) {
    std::fill(out, out + W, 0);
    return false;
  }
  return true;
}

template <class P>
bool decode_row_wide(const WideCodebook& cb, const std::uint64_t* index, std::uint64_t* i, P* x) {
  const std::size_t N = cb.N(), W = cb.W();
  if (!wide::less(index, cb.total(), W)) {
    std::fill(x, x + N, P{0});
    return false;
  }
  std::copy(index, index + W, i);
  std::size_t k = cb.K();
  for (std::size_t j = 0; j < N; ++j) {
    const std::size_t n = N - j;
    const std::uint64_t* p = cb.nonnegative(n, k);
    const bool negative = !wide::less(i, p, W);
    if (negative) wide::sub(i, p, W);
    std::size_t r = k;
    while (wide::less(i, cb.below(n, r), W)) --r;  // below(n, 0) = 0 stops it
    const P v = static_cast<P>(k - r);
    x[j] = negative ? static_cast<P>(-v) : v;
    wide::sub(i, cb.below(n, r), W);
    k = r;
  }
  return true;
}

}  // namespace detail

// out[r, :] = W words of the index of pulses[r, :]; rows whose L1 norm is not K get 0. Returns
// the first such row or -1. The codebook must fit (cb.fits()).
template <class P>
std::int64_t encode_wide(const P* pulses, std::size_t m, const WideCodebook& cb, std::uint64_t* out,
                         int n_threads) {
  const std::size_t N = cb.N(), W = cb.W();
  return detail::for_row_ranges(m, n_threads, [&](std::size_t begin, std::size_t end) {
    std::int64_t bad = -1;
    for (std::size_t r = begin; r < end; ++r)
      if (!detail::encode_row_wide(cb, pulses + r * N, out + r * W) && bad < 0)
        bad = static_cast<std::int64_t>(r);
    return bad;
  });
}

// pulses[r, :] = codeword of the W-word index words[r, :]; rows whose index is >= V(N, K) are
// written as zeros. Returns the first such row or -1. The codebook must fit (cb.fits()).
template <class P>
std::int64_t decode_wide(const std::uint64_t* words, std::size_t m, const WideCodebook& cb,
                         P* pulses, int n_threads) {
  const std::size_t N = cb.N(), W = cb.W();
  return detail::for_row_ranges(m, n_threads, [&](std::size_t begin, std::size_t end) {
    std::int64_t bad = -1;
    std::vector<std::uint64_t> scratch(W);
    for (std::size_t r = begin; r < end; ++r)
      if (!detail::decode_row_wide(cb, words + r * W, scratch.data(), pulses + r * N) && bad < 0)
        bad = static_cast<std::int64_t>(r);
    return bad;
  });
}

}  // namespace infokit::pvq
