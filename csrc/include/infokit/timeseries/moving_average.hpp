// Moving average with replicate padding, one series per row of a C-contiguous (rows, n) table.
//
// This is the trend filter of the decomposition block of Autoformer / DLinear / TimeMixer / KARMA:
// the series is extended by (k - 1) / 2 copies of its first value in front and k / 2 copies of
// its last value behind (the same count at both ends for odd k; for even k the extra copy goes
// behind so that the output keeps the input's length), then averaged over a window of k with
// stride 1:
//
//   trend[t] = (1 / k) * sum_{j = 0}^{k - 1} x[clamp(t - (k - 1) / 2 + j, 0, n - 1)]
//
// Cost: O(n) per row whatever k, by a running sum accumulated in double (float32 rows are read as
// they are). The running sum restarts from scratch every kBlock outputs, which bounds the drift of
// the add-one-drop-one update to kBlock steps and gives the threads independent blocks to work on.
// Blocks are fixed by n alone, so a result is bitwise identical for any thread count.
//
// The kernel does not validate: the Python layer (infokit.timeseries) checks k >= 1, n >= 1 and
// finite values. Whatever the data, it reads only x[0, rows*n) and writes only trend[0, rows*n) and
// rest[0, rows*n). Nothing here throws.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "infokit/parallel.hpp"

namespace infokit::timeseries {

inline constexpr std::size_t kBlock = 1 << 14;  // outputs per independent running sum
inline constexpr std::size_t kMaGrain = 1 << 15;  // elements per thread before threads pay off

namespace detail {

// One block [begin, end) of one row: trend (and x - trend when rest is not null).
template <class T>
void moving_average_block(const T* x, std::size_t n, std::size_t k, std::size_t begin,
                          std::size_t end, T* trend, T* rest) {
  const std::ptrdiff_t front = static_cast<std::ptrdiff_t>((k - 1) / 2);
  const std::ptrdiff_t last = static_cast<std::ptrdiff_t>(n) - 1;
  // Padded value at window position i of output t: x[clamp(t - front + i)].
  auto at = [&](std::ptrdiff_t i) -> double {
    return static_cast<double>(x[std::clamp<std::ptrdiff_t>(i, 0, last)]);
  };
  // Window start of output t = begin.
  const std::ptrdiff_t first = static_cast<std::ptrdiff_t>(begin) - front;
  double sum = 0.0;
  for (std::size_t j = 0; j < k; ++j) sum += at(first + static_cast<std::ptrdiff_t>(j));
  const double inv_k = 1.0 / static_cast<double>(k);
  const std::ptrdiff_t kk = static_cast<std::ptrdiff_t>(k);
  for (std::size_t t = begin; t < end; ++t) {
    const double m = sum * inv_k;
    trend[t] = static_cast<T>(m);
    if (rest != nullptr) rest[t] = static_cast<T>(static_cast<double>(x[t]) - m);
    const std::ptrdiff_t lo = static_cast<std::ptrdiff_t>(t) - front;  // leaves the window
    sum += at(lo + kk) - at(lo);
  }
}

}  // namespace detail

// trend[r, :] = replicate-padded moving average of x[r, :] over k points; rest = x - trend
// (skipped when rest is null). rows*n values in each array, C order.
template <class T>
void moving_average(const T* x, std::size_t rows, std::size_t n, std::size_t k, T* trend, T* rest,
                    int n_threads) {
  if (rows == 0 || n == 0 || k == 0) return;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  const std::size_t tasks = rows * blocks;
  const int nt = threads_for(rows * n, n_threads, kMaGrain);
  parallel_for(nt, nt, [&](std::int64_t part) {
    const auto [b, e] =
        part_range(tasks, static_cast<std::size_t>(nt), static_cast<std::size_t>(part));
    for (std::size_t task = b; task < e; ++task) {
      const std::size_t r = task / blocks, blk = task % blocks;
      const std::size_t begin = blk * kBlock, end = std::min(n, begin + kBlock);
      detail::moving_average_block(x + r * n, n, k, begin, end, trend + r * n,
                                   rest == nullptr ? nullptr : rest + r * n);
    }
  });
}

}  // namespace infokit::timeseries
