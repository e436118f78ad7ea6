// Zeta and Moebius transforms over the 2^n subsets of an n-element frame (bit i = element i),
// the fast transforms of Dempster-Shafer theory (Kennes 1992): one pass per element, O(n 2^n).
//   subset zeta:    f(A) = sum over B subset of A of g(B)     (mass -> belief + m(empty))
//   superset zeta:  f(A) = sum over B superset of A of g(B)   (mass -> commonality)
// The Moebius transforms invert them (subtract instead of add).
#pragma once

#include <cstddef>
#include <cstdint>

#include "infokit/parallel.hpp"

namespace infokit::structure {

inline void set_transform_row(double* f, std::size_t size, bool superset, bool inverse) {
  const double sign = inverse ? -1.0 : 1.0;
  for (std::size_t bit = 1; bit < size; bit <<= 1) {
    for (std::size_t block = 0; block < size; block += bit << 1) {
      double* low = f + block;
      double* high = low + bit;
      if (superset) {
        for (std::size_t j = 0; j < bit; ++j) low[j] += sign * high[j];
      } else {
        for (std::size_t j = 0; j < bit; ++j) high[j] += sign * low[j];
      }
    }
  }
}

// In place on rows x size values (size a power of two); rows shared among threads.
inline void set_transform(double* f, std::size_t rows, std::size_t size, bool superset,
                          bool inverse, int n_threads) {
  parallel_for(static_cast<std::int64_t>(rows), threads_for(rows, n_threads, 1),
               [&](std::int64_t r) {
                 set_transform_row(f + static_cast<std::size_t>(r) * size, size, superset, inverse);
               });
}

}  // namespace infokit::structure
