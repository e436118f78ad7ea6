// A KD-tree over n points in d dimensions, for the k-nearest-neighbour estimators.
//
// Queries, each for one point at a time (batching and threads live in batch.hpp):
//   * the k nearest neighbours (distances and indices), optionally excluding one index (self);
//   * the number of points within a radius, strictly (dist < r) or not (dist <= r).
// Metrics: the max-norm (Chebyshev) and the Euclidean norm.
//
// Exactness: a distance is max_j |p_j - q_j| (Chebyshev) or sum_j (p_j - q_j)^2 (squared
// Euclidean, compared with r * r as scipy's cKDTree does), computed in double in a fixed order.
// Every pruning test on a node's bounding box is a bound on exactly those computed values
// (rounding is monotone), so strict and non-strict counts are exact for the values computed.
//
// The points are copied (as double) into tree order, so the caller's buffer may go away.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

namespace infokit::knn {

enum class Metric : int { chebyshev = 0, euclidean = 1 };

// The k best (distance, index) pairs seen so far, kept sorted ascending; k is small.
// Distances are "reduced": the max-norm itself, or the squared Euclidean distance.
class BestK {
 public:
  explicit BestK(std::size_t k) : k_(k), dist_(k), idx_(k) {}
  void clear() { size_ = 0; }
  bool full() const { return size_ == k_; }
  double worst() const {
    return full() ? dist_[k_ - 1] : std::numeric_limits<double>::infinity();
  }
  void push(double d, std::int64_t i) {
    if (full() && !(d < dist_[k_ - 1])) return;
    std::size_t pos = full() ? k_ - 1 : size_++;
    // Insertion after equal distances keeps the first-found neighbour among ties.
    while (pos > 0 && dist_[pos - 1] > d) {
      dist_[pos] = dist_[pos - 1];
      idx_[pos] = idx_[pos - 1];
      --pos;
    }
    dist_[pos] = d;
    idx_[pos] = i;
  }
  std::size_t size() const { return size_; }
  double dist(std::size_t j) const { return dist_[j]; }
  std::int64_t index(std::size_t j) const { return idx_[j]; }

 private:
  std::size_t k_;
  std::size_t size_ = 0;
  std::vector<double> dist_;
  std::vector<std::int64_t> idx_;
};

class KDTree {
 public:
  static constexpr std::size_t kLeafSize = 16;

  template <class T>
  KDTree(const T* data, std::size_t n, std::size_t d) : n_(n), d_(d == 0 ? 1 : d) {
    index_.resize(n_);
    std::iota(index_.begin(), index_.end(), std::int64_t{0});
    if (n_ == 0 || d == 0) return;
    nodes_.reserve(2 * (n_ / kLeafSize + 1));
    build(data, 0, n_);
    // Gather the points into tree order: a leaf's points are contiguous in memory.
    points_.resize(n_ * d_);
    for (std::size_t p = 0; p < n_; ++p) {
      const T* src = data + static_cast<std::size_t>(index_[p]) * d_;
      for (std::size_t j = 0; j < d_; ++j) points_[p * d_ + j] = static_cast<double>(src[j]);
    }
    position_.resize(n_);
    for (std::size_t p = 0; p < n_; ++p) position_[static_cast<std::size_t>(index_[p])] = p;
  }

  std::size_t size() const { return n_; }
  std::size_t dim() const { return d_; }
  // Coordinates of the point with original index i (a row of d doubles).
  const double* point(std::size_t i) const { return points_.data() + position_[i] * d_; }
  // Original index of the point at tree position p; visiting positions in order keeps
  // consecutive queries close in space (good for the cache).
  std::int64_t original(std::size_t p) const { return index_[p]; }

  // The k nearest points to q, excluding the point with original index `exclude` (-1: none).
  // best.size() < k when the tree holds fewer than k candidates.
  void knn(const double* q, Metric metric, std::int64_t exclude, BestK& best) const {
    best.clear();
    if (nodes_.empty()) return;
    if (metric == Metric::chebyshev)
      knn_node<Metric::chebyshev>(0, q, exclude, best);
    else
      knn_node<Metric::euclidean>(0, q, exclude, best);
  }

  // Number of points p with dist(p, q) < r (strict) or <= r, excluding original index `exclude`.
  std::int64_t count(const double* q, double r, bool strict, Metric metric,
                     std::int64_t exclude) const {
    if (nodes_.empty() || std::isnan(r)) return 0;
    std::int64_t c = metric == Metric::chebyshev
                         ? count_node<Metric::chebyshev>(0, q, r, strict)
                         : count_node<Metric::euclidean>(0, q, r, strict);
    if (exclude >= 0 && static_cast<std::size_t>(exclude) < n_) {
      // Self sits at distance 0, counted iff 0 < r (strict) or 0 <= r.
      if (strict ? 0.0 < r : 0.0 <= r) --c;
    }
    return c;
  }

  // The reduced distance of a reduced value back to a true distance.
  static double unreduce(double reduced, Metric metric) {
    return metric == Metric::chebyshev ? reduced : std::sqrt(reduced);
  }

 private:
  struct Node {
    std::size_t begin, end;
    std::int64_t left = -1, right = -1;  // children; -1 for a leaf
  };

  std::size_t n_, d_;
  std::vector<double> points_;         // n x d, tree order
  std::vector<std::int64_t> index_;    // tree position -> original index
  std::vector<std::size_t> position_;  // original index -> tree position
  std::vector<Node> nodes_;
  std::vector<double> lo_, hi_;  // bounding box of each node, d values each

  template <class T>
  std::int64_t build(const T* data, std::size_t begin, std::size_t end) {
    const std::int64_t id = static_cast<std::int64_t>(nodes_.size());
    nodes_.push_back(Node{begin, end});
    lo_.resize(lo_.size() + d_);
    hi_.resize(hi_.size() + d_);
    double* lo = lo_.data() + static_cast<std::size_t>(id) * d_;
    double* hi = hi_.data() + static_cast<std::size_t>(id) * d_;
    for (std::size_t j = 0; j < d_; ++j) {
      lo[j] = std::numeric_limits<double>::infinity();
      hi[j] = -std::numeric_limits<double>::infinity();
    }
    for (std::size_t p = begin; p < end; ++p) {
      const T* row = data + static_cast<std::size_t>(index_[p]) * d_;
      for (std::size_t j = 0; j < d_; ++j) {
        const double v = static_cast<double>(row[j]);
        lo[j] = std::min(lo[j], v);
        hi[j] = std::max(hi[j], v);
      }
    }
    if (end - begin <= kLeafSize) return id;
    std::size_t split = 0;
    double spread = 0.0;
    for (std::size_t j = 0; j < d_; ++j) {
      if (hi[j] - lo[j] > spread) {
        spread = hi[j] - lo[j];
        split = j;
      }
    }
    if (!(spread > 0.0)) return id;  // all points identical: one (large) leaf
    const std::size_t mid = begin + (end - begin) / 2;
    auto coord = [&](std::int64_t i) {
      return static_cast<double>(data[static_cast<std::size_t>(i) * d_ + split]);
    };
    // Ties broken by index, so the tree (and every result) is the same on every run.
    std::nth_element(index_.begin() + static_cast<std::ptrdiff_t>(begin),
                     index_.begin() + static_cast<std::ptrdiff_t>(mid),
                     index_.begin() + static_cast<std::ptrdiff_t>(end),
                     [&](std::int64_t a, std::int64_t b) {
                       const double ca = coord(a), cb = coord(b);
                       return ca < cb || (ca == cb && a < b);
                     });
    const std::int64_t left = build(data, begin, mid);
    const std::int64_t right = build(data, mid, end);
    nodes_[static_cast<std::size_t>(id)].left = left;
    nodes_[static_cast<std::size_t>(id)].right = right;
    return id;
  }

  // Reduced distance from q to the nearest point of a node's box (a lower bound).
  template <Metric M>
  double box_min(std::int64_t id, const double* q) const {
    const double* lo = lo_.data() + static_cast<std::size_t>(id) * d_;
    const double* hi = hi_.data() + static_cast<std::size_t>(id) * d_;
    double acc = 0.0;
    for (std::size_t j = 0; j < d_; ++j) {
      double g = 0.0;
      if (q[j] < lo[j])
        g = lo[j] - q[j];
      else if (q[j] > hi[j])
        g = q[j] - hi[j];
      if constexpr (M == Metric::chebyshev)
        acc = std::max(acc, g);
      else
        acc += g * g;
    }
    return acc;
  }

  // Reduced distance from q to the farthest corner of a node's box (an upper bound).
  template <Metric M>
  double box_max(std::int64_t id, const double* q) const {
    const double* lo = lo_.data() + static_cast<std::size_t>(id) * d_;
    const double* hi = hi_.data() + static_cast<std::size_t>(id) * d_;
    double acc = 0.0;
    for (std::size_t j = 0; j < d_; ++j) {
      const double g = std::max(hi[j] - q[j], q[j] - lo[j]);
      if constexpr (M == Metric::chebyshev)
        acc = std::max(acc, g);
      else
        acc += g * g;
    }
    return acc;
  }

  // Reduced distance between q and the point at tree position p.
  template <Metric M>
  double reduced(const double* q, std::size_t p) const {
    const double* row = points_.data() + p * d_;
    double acc = 0.0;
    for (std::size_t j = 0; j < d_; ++j) {
      const double g = std::fabs(row[j] - q[j]);
      if constexpr (M == Metric::chebyshev)
        acc = std::max(acc, g);
      else
        acc += g * g;
    }
    return acc;
  }

  template <Metric M>
  void knn_node(std::int64_t id, const double* q, std::int64_t exclude, BestK& best) const {
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    if (node.left < 0) {
      for (std::size_t p = node.begin; p < node.end; ++p) {
        if (index_[p] == exclude) continue;
        best.push(reduced<M>(q, p), index_[p]);
      }
      return;
    }
    double dl = box_min<M>(node.left, q), dr = box_min<M>(node.right, q);
    std::int64_t first = node.left, second = node.right;
    if (dr < dl) {
      std::swap(first, second);
      std::swap(dl, dr);
    }
    // A box no nearer than the current k-th distance can only offer ties: skip it.
    if (!best.full() || dl < best.worst()) knn_node<M>(first, q, exclude, best);
    if (!best.full() || dr < best.worst()) knn_node<M>(second, q, exclude, best);
  }

  template <Metric M>
  std::int64_t count_node(std::int64_t id, const double* q, double r, bool strict) const {
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    const std::int64_t size = static_cast<std::int64_t>(node.end - node.begin);
    // Compare reduced distances: the max-norm with r, the squared Euclidean distance with r * r.
    const double rr = M == Metric::chebyshev ? r : r * r;
    const double lo = box_min<M>(id, q);
    if (strict ? !(lo < rr) : !(lo <= rr)) return 0;
    const double hi = box_max<M>(id, q);
    if (strict ? hi < rr : hi <= rr) return size;
    if (node.left >= 0)
      return count_node<M>(node.left, q, r, strict) + count_node<M>(node.right, q, r, strict);
    std::int64_t c = 0;
    for (std::size_t p = node.begin; p < node.end; ++p) {
      const double dist = reduced<M>(q, p);
      c += strict ? (dist < rr) : (dist <= rr);
    }
    return c;
  }
};

}  // namespace infokit::knn
