// The 1-D fast path: radius counts on a sorted copy of the values, two binary searches per point
// instead of a tree walk. KSG's marginal counts in one dimension are all of this kind.
//
// The count for point i is #{j != i : |x_j - x_i| < r_i} (strict) or <= r_i, where |x_j - x_i|
// is the distance as computed in double. Rounding is monotone, so over the sorted values the
// computed difference x_j - x_i is non-decreasing in j and the points within the radius form one
// run around x_i; the searches test the computed difference itself (never x_i + r, which rounds
// differently), so the counts equal the KD-tree's exactly.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "infokit/knn/batch.hpp"

namespace infokit::knn {

class SortedValues {
 public:
  // Sorts a copy of x and remembers where each value went, so that a count can start its
  // search at the point's own position (galloping outward: O(log count) near the point, cache
  // friendly) instead of two binary searches over the whole array.
  SortedValues(const double* x, std::size_t n) : order_(n), sorted_(n) {
    // Sorting (value, index) pairs in place is cache friendly; ties ordered by index.
    std::vector<std::pair<double, std::size_t>> pairs(n);
    for (std::size_t i = 0; i < n; ++i) pairs[i] = {x[i], i};
    std::sort(pairs.begin(), pairs.end());
    for (std::size_t p = 0; p < n; ++p) {
      sorted_[p] = pairs[p].first;
      order_[p] = pairs[p].second;
    }
  }

  std::size_t size() const { return sorted_.size(); }
  // Original index of the p-th smallest value.
  std::size_t order(std::size_t p) const { return order_[p]; }

  // Number of values v with |v - q| < r (strict) or <= r, where q = sorted_[p] (q included).
  std::int64_t count_at(std::size_t p, double r, bool strict) const {
    if (std::isnan(r)) return 0;
    const double q = sorted_[p];
    auto inside = [&](double v) {
      const double g = std::fabs(v - q);
      return strict ? g < r : g <= r;
    };
    const std::size_t n = sorted_.size();
    // Upward: the run of values >= q inside the window starts at the first value equal to q
    // (at or below p); find the first index above p that is outside, by galloping.
    std::size_t hi;
    if (!inside(q)) {
      // r = 0 with strict counts: nothing, not even q itself, is inside.
      return 0;
    }
    {
      std::size_t step = 1, last_in = p;
      while (last_in + step < n && inside(sorted_[last_in + step])) {
        last_in += step;
        step *= 2;
      }
      std::size_t lo_b = last_in + 1, hi_b = std::min(n, last_in + step);
      // first outside in [lo_b, hi_b]; values in between are monotone
      while (lo_b < hi_b) {
        const std::size_t mid = lo_b + (hi_b - lo_b) / 2;
        if (inside(sorted_[mid]))
          lo_b = mid + 1;
        else
          hi_b = mid;
      }
      hi = lo_b;
    }
    std::size_t lo;
    {
      std::size_t step = 1, first_in = p;
      while (step <= first_in && inside(sorted_[first_in - step])) {
        first_in -= step;
        step *= 2;
      }
      std::size_t lo_b = step <= first_in ? first_in - step + 1 : 0, hi_b = first_in;
      // first inside in [lo_b, hi_b]
      while (lo_b < hi_b) {
        const std::size_t mid = lo_b + (hi_b - lo_b) / 2;
        if (inside(sorted_[mid]))
          hi_b = mid;
        else
          lo_b = mid + 1;
      }
      lo = lo_b;
    }
    return static_cast<std::int64_t>(hi - lo);
  }

 private:
  std::vector<std::size_t> order_;
  std::vector<double> sorted_;
};

// out[i] = #{j != i : |x_j - x_i| < radius[i]} (strict) or <= radius[i], for the n values the
// SortedValues was built from. Queries run in sorted order, so neighbouring queries touch
// neighbouring memory.
inline void count_sorted_self(const SortedValues& s, const double* radius, bool strict,
                              std::int64_t* out, int n_threads) {
  for_queries(s.size(), n_threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p) {
      const std::size_t i = s.order(p);
      const std::int64_t c = s.count_at(p, radius[i], strict);
      out[i] = c > 0 ? c - 1 : 0;  // the point itself is inside whenever anything is
    }
  });
}

}  // namespace infokit::knn
