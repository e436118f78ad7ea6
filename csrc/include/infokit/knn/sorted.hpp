// The 1-D fast path: radius counts on a sorted copy of the values, two binary searches per point
// instead of a tree walk. KSG's marginal counts in one dimension are all of this kind.
//
// The count for point i is #{j != i : |x_j - x_i| < r_i} (strict) or <= r_i, where |x_j - x_i|
// is the distance as computed in double. Rounding is monotone, so over the sorted values the
// computed difference x_j - x_i is non-decreasing in j and the points within the radius form one
// run; the binary searches test the computed difference itself (never x_i + r, which rounds
// differently), so the counts equal the KD-tree's exactly.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/knn/batch.hpp"

namespace infokit::knn {

class SortedValues {
 public:
  SortedValues(const double* x, std::size_t n) : sorted_(x, x + n) {
    std::sort(sorted_.begin(), sorted_.end());
  }

  std::size_t size() const { return sorted_.size(); }

  // Number of values v with |v - q| < r (strict) or <= r, q itself included if present.
  std::int64_t count(double q, double r, bool strict) const {
    if (std::isnan(r)) return 0;
    auto inside = [&](double v) {
      const double g = std::fabs(v - q);
      return strict ? g < r : g <= r;
    };
    // First value that is not below the window (v >= q, or v - q within the radius).
    auto lower = std::partition_point(sorted_.begin(), sorted_.end(),
                                      [&](double v) { return v < q && !inside(v); });
    // First value beyond the window (values equal to q are inside iff 0 is within the radius).
    auto upper = std::partition_point(lower, sorted_.end(),
                                      [&](double v) { return v < q || inside(v); });
    return static_cast<std::int64_t>(upper - lower);
  }

 private:
  std::vector<double> sorted_;
};

// out[i] = #{j != i : |x_j - x_i| < radius[i]} (strict) or <= radius[i], for the n values x.
inline void count_sorted_self(const SortedValues& s, const double* x, const double* radius,
                              bool strict, std::int64_t* out, int n_threads) {
  for_queries(s.size(), n_threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const std::int64_t c = s.count(x[i], radius[i], strict);
      // x[i] itself is in the window iff 0 < r (strict) or 0 <= r.
      const bool self = strict ? 0.0 < radius[i] : 0.0 <= radius[i];
      out[i] = c - (self ? 1 : 0);
    }
  });
}

}  // namespace infokit::knn
