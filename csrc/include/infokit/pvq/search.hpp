// Pyramid vector quantization: the greedy pulse search of Opus/CELT (op_pvq_search) and P44.
//
// For a row x of N reals and K pulses it finds y in S(N, K) (integers, sum |y_j| = K) with a
// large correlation <x, y> / ||y||_2, i.e. a small angle between x and the codeword:
//   1. a = |x| / max|x| (scale-free; signs are put back at the end);
//   2. projection onto the pyramid: y_j = floor(a_j * K / sum(a)), which places at most K pulses
//      and leaves fewer than N (if rounding ever placed more than K, y restarts from zero);
//   3. each remaining pulse goes where it raises the correlation ratio most:
//        j* = argmax_j (Rxy + a_j)^2 / (Ryy + 2 y_j + 1),  Rxy = <a, y>, Ryy = <y, y>,
//      the first j on ties;
//   4. y_j takes the sign of x_j (+ for x_j = 0).
// A zero row gets all K pulses on coordinate 0. The greedy is not always the best codeword (the
// test suite measures how often it is on tiny cases); it is exact for K = 1 and whenever x is a
// positive multiple of a codeword.
//
// Cost: O(N) for steps 1, 2 and 4, O(N) per remaining pulse, so O(N^2) per row at most (and
// O(N K) when step 2 restarts). Sums run left to right in double (float32 rows are widened), in
// the same order as the numpy twin, so both give the same pulses. Rows are shared out among
// threads; each row is one thread's, so results do not depend on the thread count.
//
// The kernel does not validate: the Python layer rejects non-finite values and K outside
// [0, 2^31). It reads x[0, m*N) and writes pulses[0, m*N) only. Nothing here throws except
// std::bad_alloc (scratch), which parallel_for carries to the binding.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/parallel.hpp"

namespace infokit::pvq {

inline constexpr std::size_t kSearchGrain = 1 << 14;  // elements per thread before threads pay off

namespace detail {

template <class T>
void search_row(const T* x, std::size_t N, std::int64_t K, double* a, std::int32_t* y) {
  double top = 0.0;
  for (std::size_t j = 0; j < N; ++j) {
    a[j] = std::fabs(static_cast<double>(x[j]));
    if (a[j] > top) top = a[j];
  }
  for (std::size_t j = 0; j < N; ++j) y[j] = 0;
  if (K == 0) return;
  if (top == 0.0) {  // no direction to follow
    y[0] = static_cast<std::int32_t>(K);
    return;
  }
  double sum = 0.0;
  for (std::size_t j = 0; j < N; ++j) {
    a[j] = a[j] / top;
    sum += a[j];
  }
  const double scale = static_cast<double>(K) / sum;
  std::int64_t placed = 0;
  for (std::size_t j = 0; j < N; ++j) {
    y[j] = static_cast<std::int32_t>(std::floor(a[j] * scale));
    placed += y[j];
  }
  if (placed > K) {  // rounding overshoot: start from an empty codeword
    for (std::size_t j = 0; j < N; ++j) y[j] = 0;
    placed = 0;
  }
  double rxy = 0.0, ryy = 0.0;
  for (std::size_t j = 0; j < N; ++j) {
    rxy += a[j] * static_cast<double>(y[j]);
    ryy += static_cast<double>(y[j]) * static_cast<double>(y[j]);
  }
  for (std::int64_t left = K - placed; left > 0; --left) {
    std::size_t best = 0;
    double best_ratio = -1.0;
    for (std::size_t j = 0; j < N; ++j) {
      const double num = (rxy + a[j]) * (rxy + a[j]);
      const double ratio = num / (ryy + 2.0 * static_cast<double>(y[j]) + 1.0);
      if (ratio > best_ratio) {
        best_ratio = ratio;
        best = j;
      }
    }
    rxy += a[best];
    ryy += 2.0 * static_cast<double>(y[best]) + 1.0;
    y[best] += 1;
  }
  for (std::size_t j = 0; j < N; ++j)
    if (x[j] < 0) y[j] = -y[j];
}

}  // namespace detail

// pulses[r, :] = greedy codeword of x[r, :] in S(N, K), for m rows of N (C order), 0 <= K < 2^31.
template <class T>
void search(const T* x, std::size_t m, std::size_t N, std::int64_t K, std::int32_t* pulses,
            int n_threads) {
  if (m == 0 || N == 0) return;
  const int nt = threads_for(m * N, n_threads, kSearchGrain);
  parallel_for(nt, nt, [&](std::int64_t part) {
    const auto [b, e] = part_range(m, static_cast<std::size_t>(nt), static_cast<std::size_t>(part));
    std::vector<double> a(N);
    for (std::size_t r = b; r < e; ++r)
      detail::search_row(x + r * N, N, K, a.data(), pulses + r * N);
  });
}

}  // namespace infokit::pvq
