// The 1-D fast path: radius counts on a sorted copy of the values, two searches per point
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
#include <cstring>
#include <utility>
#include <vector>

#include "infokit/knn/batch.hpp"

namespace infokit::knn {

class SortedValues {
 public:
  // Sorts a copy of x and remembers where each value went, so that a count can start its
  // search near its answer. A bucket table over the value range (about one value per bucket
  // for smooth data) guesses where x_i +- r falls; the search then gallops from the guess, so a
  // count costs O(1) probes for well-spread data and O(log n) at worst, whatever the count.
  SortedValues(const double* x, std::size_t n) : order_(n), sorted_(n) {
    radix_order(x, n);
    for (std::size_t p = 0; p < n; ++p) sorted_[p] = x[order_[p]];
    build_buckets();
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
    // r = 0 with strict counts: nothing, not even q itself, is inside.
    if (!inside(q)) return 0;
    const std::size_t n = sorted_.size();
    // Above p the values inside form a prefix of [p, n); below, a suffix of [0, p + 1).
    const std::size_t hi = boundary(p, n, std::clamp(guess(q + r), p, n), inside);
    const std::size_t lo = boundary(0, p + 1, std::clamp(guess(q - r), std::size_t{0}, p + 1),
                                    [&](double v) { return !inside(v); });
    return static_cast<std::int64_t>(hi - lo);
  }

 private:
  std::vector<std::size_t> order_;
  std::vector<double> sorted_;
  // bucket_start_[b] = first position whose value falls in bucket >= b (b = 0 .. buckets).
  std::vector<std::size_t> bucket_start_;
  double low_ = 0.0, per_unit_ = 0.0;  // bucket(v) = floor((v - low_) * per_unit_), clamped

  std::size_t bucket(double v) const {
    const double b = (v - low_) * per_unit_;
    const double top = static_cast<double>(bucket_start_.size() - 1);
    // NaN (and anything below 0) goes to bucket 0; +inf and beyond to the last.
    return !(b > 0.0) ? 0 : b >= top ? bucket_start_.size() - 1 : static_cast<std::size_t>(b);
  }

  // A position near the first value >= v (only a starting point: searches verify).
  std::size_t guess(double v) const { return bucket_start_[bucket(v)]; }

  void build_buckets() {
    const std::size_t n = sorted_.size();
    bucket_start_.assign(n + 1, n);
    if (n == 0) return;
    low_ = sorted_[0];
    const double range = sorted_[n - 1] - low_;
    per_unit_ = range > 0.0 && std::isfinite(range) ? static_cast<double>(n) / range : 0.0;
    if (!std::isfinite(per_unit_)) per_unit_ = 0.0;
    // bucket() is non-decreasing along the sorted values (rounding is monotone).
    std::size_t b = 0;
    for (std::size_t p = 0; p < n; ++p) {
      const std::size_t here = bucket(sorted_[p]);
      while (b <= here) bucket_start_[b++] = p;
    }
  }

  // First index in [begin, end) whose value fails `pred`, where pred holds on a prefix of
  // [begin, end): galloping outward from the guess g in [begin, end], then a binary search of
  // the last stride.
  template <class Pred>
  std::size_t boundary(std::size_t begin, std::size_t end, std::size_t g, Pred pred) const {
    if (g < end && pred(sorted_[g])) {  // the boundary is above g
      std::size_t step = 1, last_in = g;
      while (last_in + step < end && pred(sorted_[last_in + step])) {
        last_in += step;
        step *= 2;
      }
      return partition_point(last_in + 1, std::min(end, last_in + step), pred);
    }
    // The boundary is at or below g: find a holding value below it.
    std::size_t step = 1, first_out = g;
    while (first_out >= begin + step && !pred(sorted_[first_out - step])) {
      first_out -= step;
      step *= 2;
    }
    const std::size_t from = first_out >= begin + step ? first_out - step + 1 : begin;
    return partition_point(from, first_out, pred);
  }

  // First index in [begin, end) whose value fails `pred` (pred holds on a prefix), without
  // branches on the data (conditional moves instead of mispredicted jumps).
  template <class Pred>
  std::size_t partition_point(std::size_t begin, std::size_t end, Pred pred) const {
    std::size_t first = begin, len = end - begin;
    while (len > 0) {
      const std::size_t half = len / 2;
      const bool holds = pred(sorted_[first + half]);
      first = holds ? first + half + 1 : first;
      len = holds ? len - half - 1 : half;
    }
    return first;
  }

  // order_ = the indices of x by ascending value: a stable LSD radix sort on 11-bit digits of
  // the order-preserving integer image of each double (sign flipped, or all bits for negatives),
  // so equal values keep index order. Passes whose digit is the same for all keys are skipped.
  void radix_order(const double* x, std::size_t n) {
    constexpr int kBits = 11;
    constexpr std::size_t kBuckets = std::size_t{1} << kBits;
    std::vector<std::uint64_t> key(n), key2(n);
    std::vector<std::size_t> idx2(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t b;
      std::memcpy(&b, x + i, sizeof b);
      key[i] = (b >> 63) ? ~b : (b | (std::uint64_t{1} << 63));
      order_[i] = i;
    }
    std::vector<std::size_t> count(kBuckets);
    for (int shift = 0; shift < 64; shift += kBits) {
      std::fill(count.begin(), count.end(), 0);
      for (std::size_t i = 0; i < n; ++i) ++count[(key[i] >> shift) & (kBuckets - 1)];
      if (n == 0 || count[(key[0] >> shift) & (kBuckets - 1)] == n) continue;
      std::size_t sum = 0;
      for (auto& c : count) {
        const std::size_t here = c;
        c = sum;
        sum += here;
      }
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t slot = count[(key[i] >> shift) & (kBuckets - 1)]++;
        key2[slot] = key[i];
        idx2[slot] = order_[i];
      }
      key.swap(key2);
      order_.swap(idx2);
    }
  }
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
