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
#include <utility>
#include <vector>

#include "infokit/knn/leaf_scan.hpp"

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
  std::size_t capacity() const { return k_; }
  double dist(std::size_t j) const { return dist_[j]; }
  std::int64_t index(std::size_t j) const { return idx_[j]; }

 private:
  std::size_t k_;
  std::size_t size_ = 0;
  std::vector<double> dist_;
  std::vector<std::int64_t> idx_;
};

// Bit helpers for the leaf masks of leaf_scan.hpp (mask != 0 for lowest_bit).
#if defined(__GNUC__) || defined(__clang__)
inline int lowest_bit(std::uint64_t mask) { return __builtin_ctzll(mask); }
inline std::int64_t popcount(std::uint64_t mask) { return __builtin_popcountll(mask); }
#else
inline int lowest_bit(std::uint64_t mask) {
  int b = 0;
  while (!(mask & 1)) {
    mask >>= 1;
    ++b;
  }
  return b;
}
inline std::int64_t popcount(std::uint64_t mask) {
  std::int64_t c = 0;
  for (; mask; mask &= mask - 1) ++c;
  return c;
}
#endif

class KDTree {
 public:
  // Points per leaf: small leaves prune best in low dimension; in high dimension boxes prune
  // little and longer column scans (vectorised, early exit) win. Measured on Gaussian data.
  static constexpr std::size_t kMaxLeaf = 64;
  static std::size_t leaf_size_for(std::size_t d) { return d <= 3 ? 16 : d <= 6 ? 32 : kMaxLeaf; }

  template <class T>
  KDTree(const T* data, std::size_t n, std::size_t d)
      : n_(n), d_(d == 0 ? 1 : d), leaf_size_(leaf_size_for(d_)) {
    index_.resize(n_);
    std::iota(index_.begin(), index_.end(), std::int64_t{0});
    if (n_ == 0 || d == 0) return;
    nodes_.reserve(2 * (n_ / leaf_size_ + 1));
    {
      // The root's cell: the data's bounding box (computed in one pass).
      std::vector<double> cell(2 * d_);
      for (std::size_t j = 0; j < d_; ++j) {
        cell[j] = std::numeric_limits<double>::infinity();
        cell[d_ + j] = -std::numeric_limits<double>::infinity();
      }
      for (std::size_t i = 0; i < n_; ++i) {
        for (std::size_t j = 0; j < d_; ++j) {
          const double v = static_cast<double>(data[i * d_ + j]);
          cell[j] = std::min(cell[j], v);
          cell[d_ + j] = std::max(cell[d_ + j], v);
        }
      }
      std::vector<std::pair<double, std::int64_t>> scratch;
      build(data, 0, n_, cell, scratch);
    }
    // Gather the points into tree order: a leaf's points are contiguous in memory.
    points_.resize(n_ * d_);
    for (std::size_t p = 0; p < n_; ++p) {
      const T* src = data + static_cast<std::size_t>(index_[p]) * d_;
      for (std::size_t j = 0; j < d_; ++j) points_[p * d_ + j] = static_cast<double>(src[j]);
    }
    position_.resize(n_);
    for (std::size_t p = 0; p < n_; ++p) position_[static_cast<std::size_t>(index_[p])] = p;
    box_.resize(nodes_.size() * 2 * d_);
    fill_boxes(0);
    for (std::size_t id = 0; id < nodes_.size(); ++id)
      if (nodes_[id].left < 0) leaves_.push_back(static_cast<std::int64_t>(id));
    std::sort(leaves_.begin(), leaves_.end(), [&](std::int64_t a, std::int64_t b) {
      return nodes_[static_cast<std::size_t>(a)].begin < nodes_[static_cast<std::size_t>(b)].begin;
    });
    // Inside each leaf, coordinates are stored column by column: a scan reads dimension j of
    // all the leaf's points from one or two cache lines and can stop after a few dimensions.
    columns_.resize(n_ * d_);
    for (const Node& node : nodes_) {
      if (node.left >= 0) continue;
      const std::size_t m = node.end - node.begin;
      double* block = columns_.data() + node.begin * d_;
      for (std::size_t t = 0; t < m; ++t)
        for (std::size_t j = 0; j < d_; ++j) block[j * m + t] = points_[(node.begin + t) * d_ + j];
    }
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

  // Leaf-at-a-time self queries (low dimension): the k nearest other points of every point of
  // leaf number `leaf` (see leaf_count()), best[t] for the point at tree position
  // leaf_begin(leaf) + t. One tree walk serves all the leaf's points: a node is skipped when
  // its box is no nearer to the leaf's box than the worst current k-th distance of the leaf.
  std::size_t leaf_count() const { return leaves_.size(); }
  std::size_t leaf_begin(std::size_t leaf) const {
    return nodes_[static_cast<std::size_t>(leaves_[leaf])].begin;
  }
  std::size_t leaf_end(std::size_t leaf) const {
    return nodes_[static_cast<std::size_t>(leaves_[leaf])].end;
  }
  std::size_t point_dim_for_leafwise() const { return 4; }  // leafwise pays off up to this d
  void knn_leaf(std::size_t leaf, Metric metric, std::vector<BestK>& best) const {
    if (metric == Metric::chebyshev)
      knn_leaf_impl<Metric::chebyshev>(leaves_[leaf], best);
    else
      knn_leaf_impl<Metric::euclidean>(leaves_[leaf], best);
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

  std::size_t n_, d_, leaf_size_;
  std::vector<double> points_;         // n x d, tree order, row-major (query coordinates)
  std::vector<double> columns_;        // the same, column-major within each leaf (scans)
  std::vector<std::int64_t> index_;    // tree position -> original index
  std::vector<std::size_t> position_;  // original index -> tree position
  std::vector<Node> nodes_;
  std::vector<std::int64_t> leaves_;  // leaf node ids in tree order
  std::vector<double> box_;  // tight bounding box of each node: d lows, then d highs

  // Splits [begin, end) of index_ at its median along the widest side of the node's cell (the
  // region its ancestors' split planes leave it; no scan of the points needed), recursively.
  // Tight bounding boxes, used by the queries, are filled in bottom-up afterwards.
  template <class T>
  std::int64_t build(const T* data, std::size_t begin, std::size_t end, std::vector<double>& cell,
                     std::vector<std::pair<double, std::int64_t>>& scratch) {
    const std::int64_t id = static_cast<std::int64_t>(nodes_.size());
    nodes_.push_back(Node{begin, end});
    if (end - begin <= leaf_size_) return id;
    std::size_t split = 0;
    double width = -1.0;
    for (std::size_t j = 0; j < d_; ++j) {
      if (cell[d_ + j] - cell[j] > width) {
        width = cell[d_ + j] - cell[j];
        split = j;
      }
    }
    // Near the median: a multiple of 4 points on the left, so leaves fill whole vectors.
    const std::size_t half = (end - begin) / 2;
    const std::size_t mid = begin + (half >= 8 ? half - half % 4 : half);
    // Median by value on a contiguous (value, index) copy; ties broken by index, so the tree
    // (and every result) is the same on every run.
    scratch.resize(end - begin);
    for (std::size_t p = begin; p < end; ++p) {
      const std::int64_t i = index_[p];
      scratch[p - begin] = {static_cast<double>(data[static_cast<std::size_t>(i) * d_ + split]), i};
    }
    std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(mid - begin),
                     scratch.end());
    for (std::size_t p = begin; p < end; ++p) index_[p] = scratch[p - begin].second;
    const double value = scratch[mid - begin].first;
    const double saved_hi = cell[d_ + split], saved_lo = cell[split];
    cell[d_ + split] = value;
    const std::int64_t left = build(data, begin, mid, cell, scratch);
    cell[d_ + split] = saved_hi;
    cell[split] = value;
    const std::int64_t right = build(data, mid, end, cell, scratch);
    cell[split] = saved_lo;
    nodes_[static_cast<std::size_t>(id)].left = left;
    nodes_[static_cast<std::size_t>(id)].right = right;
    return id;
  }

  // Tight boxes: a leaf's from its points (already in tree order), a parent's as the union.
  void fill_boxes(std::int64_t id) {
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    double* lo = box_.data() + static_cast<std::size_t>(id) * 2 * d_;
    double* hi = lo + d_;
    if (node.left < 0) {
      for (std::size_t j = 0; j < d_; ++j) {
        lo[j] = std::numeric_limits<double>::infinity();
        hi[j] = -std::numeric_limits<double>::infinity();
      }
      for (std::size_t p = node.begin; p < node.end; ++p) {
        for (std::size_t j = 0; j < d_; ++j) {
          lo[j] = std::min(lo[j], points_[p * d_ + j]);
          hi[j] = std::max(hi[j], points_[p * d_ + j]);
        }
      }
      return;
    }
    fill_boxes(node.left);
    fill_boxes(node.right);
    const double* a = box_.data() + static_cast<std::size_t>(node.left) * 2 * d_;
    const double* b = box_.data() + static_cast<std::size_t>(node.right) * 2 * d_;
    for (std::size_t j = 0; j < d_; ++j) {
      lo[j] = std::min(a[j], b[j]);
      hi[j] = std::max(a[d_ + j], b[d_ + j]);
    }
  }

  // Reduced distance from q to the nearest point of a node's box (a lower bound). Stops early,
  // returning a value >= bound, once the partial value reaches `bound`.
  template <Metric M>
  double box_min(std::int64_t id, const double* q,
                 double bound = std::numeric_limits<double>::infinity()) const {
    const double* lo = box_.data() + static_cast<std::size_t>(id) * 2 * d_;
    const double* hi = lo + d_;
    if constexpr (M == Metric::chebyshev) return leaf_scan::box_gap(lo, hi, q, d_);
    double acc = 0.0;
    for (std::size_t j = 0; j < d_; ++j) {
      // Branch-free (the sides q falls on are unpredictable): lo - q > 0 when q < lo,
      // q - hi > 0 when q > hi, both <= 0 inside.
      const double g = std::max(0.0, std::max(lo[j] - q[j], q[j] - hi[j]));
      acc += g * g;  // Euclidean (reduced): Chebyshev returned above
      if ((j & 3) == 3 && acc >= bound) return acc;
    }
    return acc;
  }

  // Reduced distance from q to the farthest corner of a node's box (an upper bound).
  template <Metric M>
  double box_max(std::int64_t id, const double* q) const {
    const double* lo = box_.data() + static_cast<std::size_t>(id) * 2 * d_;
    const double* hi = lo + d_;
    if constexpr (M == Metric::chebyshev) return leaf_scan::box_far(lo, hi, q, d_);
    double acc = 0.0;
    for (std::size_t j = 0; j < d_; ++j) {
      const double g = std::max(hi[j] - q[j], q[j] - lo[j]);
      acc += g * g;  // Euclidean (reduced): Chebyshev returned above
    }
    return acc;
  }

  // Reduced distances from q to the m points of the leaf starting at tree position `begin`,
  // into acc[0..m), from the leaf's column block (leaf_scan.hpp). Returns the mask of points
  // at a distance < bound (bit t for point t). A distance may be left partial once it has reached `bound`
  // (partial distances only grow: rounding is monotone), so callers only test "< bound" (or
  // push into a k-best list whose worst is <= bound); a complete acc[t] is exactly the
  // distance a row-wise loop would compute.
  template <Metric M>
  std::uint64_t leaf_distances(const double* q, std::size_t begin, std::size_t m, double bound,
                               double* acc) const {
    return leaf_scan::distances<M == Metric::chebyshev>(columns_.data() + begin * d_, m, d_, q,
                                                        bound, acc);
  }

  template <Metric M>
  void knn_node(std::int64_t id, const double* q, std::int64_t exclude, BestK& best) const {
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    if (node.left < 0) {
      double acc[kMaxLeaf];
      const std::size_t m = node.end - node.begin;
      // Only points nearer than the current k-th can enter the list: visit those bits.
      for (std::uint64_t mask = leaf_distances<M>(q, node.begin, m, best.worst(), acc); mask;
           mask &= mask - 1) {
        const std::size_t p = node.begin + static_cast<std::size_t>(lowest_bit(mask));
        if (index_[p] == exclude) continue;
        best.push(acc[p - node.begin], index_[p]);
      }
      return;
    }
    const double bound = best.worst();
    double dl = box_min<M>(node.left, q, bound), dr = box_min<M>(node.right, q, bound);
    std::int64_t first = node.left, second = node.right;
    if (dr < dl) {
      std::swap(first, second);
      std::swap(dl, dr);
    }
    // A box no nearer than the current k-th distance can only offer ties: skip it.
    if (dl < best.worst()) knn_node<M>(first, q, exclude, best);
    if (dr < best.worst()) knn_node<M>(second, q, exclude, best);
  }

  // Reduced distance between the boxes of two nodes (a lower bound for any pair of points).
  template <Metric M>
  double box_box_min(std::int64_t a, std::int64_t b) const {
    const double* alo = box_.data() + static_cast<std::size_t>(a) * 2 * d_;
    const double* blo = box_.data() + static_cast<std::size_t>(b) * 2 * d_;
    const double* ahi = alo + d_;
    const double* bhi = blo + d_;
    double acc = 0.0;
    for (std::size_t j = 0; j < d_; ++j) {
      const double g = std::max({0.0, alo[j] - bhi[j], blo[j] - ahi[j]});
      if constexpr (M == Metric::chebyshev)
        acc = std::max(acc, g);
      else
        acc += g * g;
    }
    return acc;
  }

  template <Metric M>
  void knn_leaf_impl(std::int64_t leaf, std::vector<BestK>& best) const {
    const Node& L = nodes_[static_cast<std::size_t>(leaf)];
    const std::size_t m = L.end - L.begin;
    double acc[kMaxLeaf];
    // The leaf's own points first: tight bounds before the walk.
    for (std::size_t t = 0; t < m; ++t) {
      best[t].clear();
      const double* q = points_.data() + (L.begin + t) * d_;
      leaf_distances<M>(q, L.begin, m, std::numeric_limits<double>::infinity(), acc);
      for (std::size_t u = 0; u < m; ++u)
        if (u != t) best[t].push(acc[u], index_[L.begin + u]);
    }
    double bound = 0.0;
    for (std::size_t t = 0; t < m; ++t) bound = std::max(bound, best[t].worst());
    visit_for_leaf<M>(0, leaf, best, bound);
  }

  template <Metric M>
  void visit_for_leaf(std::int64_t id, std::int64_t leaf, std::vector<BestK>& best,
                      double& bound) const {
    if (id == leaf) return;  // scanned first
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    if (node.left < 0) {
      const Node& L = nodes_[static_cast<std::size_t>(leaf)];
      const std::size_t m = L.end - L.begin, mm = node.end - node.begin;
      double acc[kMaxLeaf];
      double new_bound = 0.0;
      for (std::size_t t = 0; t < m; ++t) {
        const double* q = points_.data() + (L.begin + t) * d_;
        const double worst = best[t].worst();
        if (box_min<M>(id, q, worst) < worst)
          for (std::uint64_t mask = leaf_distances<M>(q, node.begin, mm, worst, acc); mask;
               mask &= mask - 1) {
            const std::size_t u = static_cast<std::size_t>(lowest_bit(mask));
            best[t].push(acc[u], index_[node.begin + u]);
          }
        new_bound = std::max(new_bound, best[t].worst());
      }
      bound = new_bound;
      return;
    }
    double dl = box_box_min<M>(node.left, leaf), dr = box_box_min<M>(node.right, leaf);
    std::int64_t first = node.left, second = node.right;
    if (dr < dl) {
      std::swap(first, second);
      std::swap(dl, dr);
    }
    if (dl < bound) visit_for_leaf<M>(first, leaf, best, bound);
    if (dr < bound) visit_for_leaf<M>(second, leaf, best, bound);
  }

  template <Metric M>
  std::int64_t count_node(std::int64_t id, const double* q, double r, bool strict) const {
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    const std::int64_t size = static_cast<std::int64_t>(node.end - node.begin);
    // Compare reduced distances: the max-norm with r, the squared Euclidean distance with r * r.
    const double rr = M == Metric::chebyshev ? r : r * r;
    // Points pass when dist < rr (strict) or dist <= rr, i.e. dist < nextafter(rr, +inf).
    const double bound = strict ? rr : std::nextafter(rr, std::numeric_limits<double>::infinity());
    if (!(box_min<M>(id, q, bound) < bound)) return 0;
    const double hi = box_max<M>(id, q);
    if (strict ? hi < rr : hi <= rr) return size;
    if (node.left >= 0)
      return count_node<M>(node.left, q, r, strict) + count_node<M>(node.right, q, r, strict);
    double acc[kMaxLeaf];
    const std::size_t m = node.end - node.begin;
    return popcount(leaf_distances<M>(q, node.begin, m, bound, acc));
  }
};

}  // namespace infokit::knn
