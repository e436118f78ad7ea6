// Functions of given distributions, one distribution per row of a C-contiguous (rows, m) table.
// Rows need not be normalised: each is divided by its sum. Sums accumulate in double.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "infokit/parallel.hpp"

namespace infokit::pmf {

inline constexpr std::size_t kGrain = 1 << 15;  // elements per thread before threads pay off

// Shannon entropy in nats of each row: H = log S - (1/S) sum c log c, S = sum c, with 0 log 0 = 0.
template <class T>
void entropy_rows(const T* p, std::size_t rows, std::size_t m, double* out, int n_threads) {
  const int nt = threads_for(rows * m, n_threads, kGrain);
  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [b, e] = part_range(rows, nt, t);
    for (std::size_t r = b; r < e; ++r) {
      const T* row = p + r * m;
      double s = 0.0, slogs = 0.0;
      for (std::size_t j = 0; j < m; ++j) {
        const double c = row[j];
        s += c;
        if (c > 0.0) slogs += c * std::log(c);
      }
      out[r] = s > 0.0 ? std::log(s) - slogs / s : std::nan("");
    }
  });
}

}  // namespace infokit::pmf
