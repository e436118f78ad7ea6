// Self k-nearest-neighbour queries in low dimension (d <= 3) on a grid of cells instead of a tree.
//
// Each dimension is cut into `bins` intervals holding about equally many points (edges at
// quantiles of a sample of the values), so the grid adapts to the data's spread. Points are
// bucketed by cell with one counting sort (no tree to build). A query scans the cells around
// its own in growing shells (Chebyshev rings of cells) and stops once its k-th distance is no
// larger than the distance to anything outside the scanned block, which is usually after the
// first ring.
//
// Exactness: the bound for the unscanned points uses, per dimension, the smallest value of the
// next bin up and the largest of the next bin down (values are binned monotonically, so every
// point outside the block differs from the query by at least that much in one coordinate, as
// computed in double). Distances are computed as in the KD-tree's scans (max of |p - q|, or a
// sequential sum of squares), so the k distances equal the tree's bit for bit. A point ties
// only at the k-th distance can be kept or not as in the tree (the first found is kept).
//
// Heavily tied data can pile many points into one cell; the builder then reports failure and
// the caller uses the tree.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "infokit/knn/batch.hpp"
#include "infokit/knn/kdtree.hpp"

namespace infokit::knn {

class Grid {
 public:
  static constexpr std::size_t kMinDim = 2, kMaxDim = 3;  // 1-D: the tree's leaves do well
  static constexpr std::size_t kMaxCell = 256;  // more points in one cell: use the tree

  // Builds the grid; ok() is false when d is out of range or a cell would be too crowded.
  Grid(const double* data, std::size_t n, std::size_t d) : n_(n), d_(d) {
    if (d < kMinDim || d > kMaxDim || n < 2 || n > (std::size_t{1} << 31)) return;
    const double per_cell = 3.0;  // a tuning choice: 1 to 4 performed about alike
    bins_ = static_cast<std::size_t>(std::pow(static_cast<double>(n) / per_cell, 1.0 / d));
    bins_ = std::max<std::size_t>(1, bins_);
    std::size_t cells = 1;
    for (std::size_t j = 0; j < d; ++j) cells *= bins_;
    // Bins of every point, and per-bin value ranges.
    std::vector<std::uint32_t> cell_of(n, 0);
    for (std::size_t j = 0; j < d; ++j) {
      const BinFinder finder(sample_edges(data, j));
      lo_[j].assign(bins_, std::numeric_limits<double>::infinity());
      hi_[j].assign(bins_, -std::numeric_limits<double>::infinity());
      for (std::size_t i = 0; i < n; ++i) {
        const double v = data[i * d + j];
        const std::size_t b = finder(v);
        cell_of[i] = static_cast<std::uint32_t>(cell_of[i] * bins_ + b);
        lo_[j][b] = std::min(lo_[j][b], v);
        hi_[j][b] = std::max(hi_[j][b], v);
      }
      // Empty bins take their neighbours' bounds: lo non-decreasing, hi non-decreasing.
      for (std::size_t b = bins_ - 1; b-- > 0;) lo_[j][b] = std::min(lo_[j][b], lo_[j][b + 1]);
      for (std::size_t b = 1; b < bins_; ++b) hi_[j][b] = std::max(hi_[j][b], hi_[j][b - 1]);
    }
    start_.assign(cells + 1, 0);
    for (std::size_t i = 0; i < n; ++i) ++start_[cell_of[i] + 1];
    std::size_t crowded = 0;
    for (std::size_t c = 0; c < cells; ++c) {
      crowded = std::max<std::size_t>(crowded, start_[c + 1]);
      start_[c + 1] += start_[c];
    }
    if (crowded > kMaxCell) return;
    points_.resize(n * d);
    index_.resize(n);
    std::vector<std::uint32_t> fill(start_.begin(), start_.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t p = fill[cell_of[i]]++;
      index_[p] = static_cast<std::int64_t>(i);
      for (std::size_t j = 0; j < d; ++j) points_[p * d + j] = data[i * d + j];
    }
    ok_ = true;
  }

  bool ok() const { return ok_; }

  // dist and/or index (n x k), as knn_self on a KDTree.
  void knn_self(std::size_t k, Metric metric, double* dist, std::int64_t* index,
                int n_threads) const {
    if (k == 0 || !ok_) return;
    const std::size_t cells = start_.size() - 1;
    const int parts = threads_for(n_, n_threads, kQueryGrain);
    parallel_for(parts, parts, [&](std::int64_t t) {
      const auto range =
          part_range(cells, static_cast<std::size_t>(parts), static_cast<std::size_t>(t));
      BestK best(k);
      std::vector<Run> runs;
      for (std::size_t c = range.first; c < range.second; ++c) {
        if (d_ == 2 && metric == Metric::chebyshev)
          solve_cell<2, Metric::chebyshev>(c, best, runs, dist, index);
        else if (d_ == 2)
          solve_cell<2, Metric::euclidean>(c, best, runs, dist, index);
        else if (metric == Metric::chebyshev)
          solve_cell<3, Metric::chebyshev>(c, best, runs, dist, index);
        else
          solve_cell<3, Metric::euclidean>(c, best, runs, dist, index);
      }
    });
  }

 private:
  std::size_t n_, d_;
  std::size_t bins_ = 0;
  bool ok_ = false;
  std::array<std::vector<double>, kMaxDim> lo_, hi_;  // per dimension: value range of each bin
  std::vector<std::uint32_t> start_;                  // cell c holds positions [start_[c], start_[c+1])
  std::vector<double> points_;                        // n x d, cell order
  std::vector<std::int64_t> index_;                   // position -> original index

  // bin(v) = the number of edges <= v (monotone in v, so equal values share a bin), found in
  // O(1) for smooth data: a table over evenly spaced value buckets gives the number of edges
  // below the bucket, then a short forward scan finishes the count exactly.
  class BinFinder {
   public:
    explicit BinFinder(std::vector<double> edges) : edges_(std::move(edges)) {
      const std::size_t e = edges_.size();
      if (e == 0) return;
      low_ = edges_.front();
      const double range = edges_.back() - low_;
      const std::size_t buckets = 4 * e + 1;
      scale_ = range > 0.0 && std::isfinite(range) ? static_cast<double>(buckets) / range : 0.0;
      if (!std::isfinite(scale_)) scale_ = 0.0;
      // below_[t] = #edges whose bucket is < t: all of them are < any v in bucket t.
      below_.assign(buckets, 0);
      for (std::size_t t = 0, b = 0; t < buckets; ++t) {
        while (b < e && bucket(edges_[b]) < t) ++b;
        below_[t] = b;
      }
    }
    std::size_t operator()(double v) const {
      if (edges_.empty()) return 0;
      std::size_t b = below_[bucket(v)];
      while (b < edges_.size() && edges_[b] <= v) ++b;
      return b;
    }

   private:
    std::vector<double> edges_;
    std::vector<std::size_t> below_;
    double low_ = 0.0, scale_ = 0.0;
    std::size_t bucket(double v) const {
      const double t = (v - low_) * scale_;
      const double top = static_cast<double>(below_.size() - 1);
      return !(t > 0.0) ? 0 : t >= top ? below_.size() - 1 : static_cast<std::size_t>(t);
    }
  };

  // bins_ - 1 edges at evenly spaced quantiles of an evenly strided sample of column j.
  std::vector<double> sample_edges(const double* data, std::size_t j) const {
    const std::size_t want = std::min<std::size_t>(n_, 64 * bins_);
    const std::size_t stride = n_ / want;
    std::vector<double> sample(want);
    for (std::size_t s = 0; s < want; ++s) sample[s] = data[(s * stride) * d_ + j];
    std::sort(sample.begin(), sample.end());
    std::vector<double> edges(bins_ - 1);
    for (std::size_t b = 1; b < bins_; ++b) edges[b - 1] = sample[b * want / bins_];
    return edges;
  }

  template <Metric M>
  static double reduce_gap(double g) {
    return M == Metric::chebyshev ? g : g * g;
  }

  // A run of positions in the first ring around a cell (a row of up to 3 cells along the last
  // dimension), with the row's bins in the leading dimensions.
  struct Run {
    std::size_t begin, end;
    std::array<std::size_t, kMaxDim> at;
  };

  // Every query of cell c: its own cell, then the first ring (the same runs for all of the
  // cell's points), then further rings one by one while they can still hold a nearer point.
  template <std::size_t D, Metric M>
  void solve_cell(std::size_t c, BestK& best, std::vector<Run>& runs, double* dist,
                  std::int64_t* index) const {
    const std::size_t own_begin = start_[c], own_end = start_[c + 1];
    if (own_begin == own_end) return;
    std::array<std::size_t, kMaxDim> bin{};
    for (std::size_t j = D, rest = c; j-- > 0; rest /= bins_) bin[j] = rest % bins_;
    runs.clear();
    const std::size_t last = D - 1;
    const std::size_t lo_last = bin[last] >= 1 ? bin[last] - 1 : 0;
    const std::size_t hi_last = std::min(bins_ - 1, bin[last] + 1);
    std::array<std::size_t, kMaxDim> at{};
    const std::size_t lo0 = bin[0] >= 1 ? bin[0] - 1 : 0, hi0 = std::min(bins_ - 1, bin[0] + 1);
    std::size_t lo1 = 0, hi1 = 0;
    if constexpr (D == 3) {
      lo1 = bin[1] >= 1 ? bin[1] - 1 : 0;
      hi1 = std::min(bins_ - 1, bin[1] + 1);
    }
    for (at[0] = lo0; at[0] <= hi0; ++at[0]) {
      for (at[1] = lo1; at[1] <= hi1; ++at[1]) {
        const std::size_t row = D == 3 ? at[0] * bins_ + at[1] : at[0];
        const std::size_t b = start_[row * bins_ + lo_last], e = start_[row * bins_ + hi_last + 1];
        if (b <= own_begin && own_end <= e) {  // the cell's own row: leave the cell out
          if (b < own_begin) runs.push_back(Run{b, own_begin, at});
          if (own_end < e) runs.push_back(Run{own_end, e, at});
        } else if (b < e) {
          runs.push_back(Run{b, e, at});
        }
      }
    }
    for (std::size_t p = own_begin; p < own_end; ++p) {
      best.clear();
      const double* q = points_.data() + p * D;
      const std::int64_t self = index_[p];
      scan_positions<D, M>(own_begin, own_end, q, self, best);
      for (const Run& run : runs) {
        if (best.full()) {
          double row_gap = 0.0;  // lower bound from the leading dimensions
          for (std::size_t j = 0; j < last; ++j) {
            const double below = lo_[j][run.at[j]] - q[j], above = q[j] - hi_[j][run.at[j]];
            row_gap = std::max(row_gap, std::max(below, above));
          }
          if (best.worst() <= reduce_gap<M>(row_gap)) continue;
        }
        scan_positions<D, M>(run.begin, run.end, q, self, best);
      }
      finish<M>(bin, 1, q, self, best);
      write_row(best, best.capacity(), M, static_cast<std::size_t>(self), dist, index);
    }
  }

  // Pushes the points at positions [begin, end) (except `self`). D: the dimension when the
  // caller knows it at compile time (loops unrolled), 0 for the run-time d_.
  template <std::size_t D, Metric M>
  void scan_positions(std::size_t begin, std::size_t end, const double* q, std::int64_t self,
                      BestK& best) const {
    const std::size_t d = D != 0 ? D : d_;
    for (std::size_t p = begin; p < end; ++p) {
      const double* x = points_.data() + p * d;
      double acc = 0.0;
      for (std::size_t j = 0; j < d; ++j) {
        const double g = std::fabs(x[j] - q[j]);
        if constexpr (M == Metric::chebyshev)
          acc = acc < g ? g : acc;
        else
          acc += g * g;
      }
      if (acc < best.worst() && index_[p] != self) best.push(acc, index_[p]);
    }
  }

  // Continues a query whose rings 0 .. done are scanned, ring by ring, until nothing outside
  // the scanned block can be nearer than its k-th neighbour.
  template <Metric M>
  void finish(const std::array<std::size_t, kMaxDim>& bin, std::size_t done, const double* q,
              std::int64_t self, BestK& best) const {
    for (std::size_t ring = done;; ++ring) {
      if (ring > done) scan_ring<M>(bin, ring, q, self, best);
      // Smallest coordinate gap from q to any bin outside the block of this ring.
      double gap = std::numeric_limits<double>::infinity();
      for (std::size_t j = 0; j < d_; ++j) {
        if (bin[j] >= ring + 1) gap = std::min(gap, q[j] - hi_[j][bin[j] - ring - 1]);
        if (bin[j] + ring + 1 < bins_) gap = std::min(gap, lo_[j][bin[j] + ring + 1] - q[j]);
      }
      if (gap == std::numeric_limits<double>::infinity()) return;  // the whole grid is scanned
      if (best.full() && best.worst() <= reduce_gap<M>(std::max(gap, 0.0))) return;
    }
  }

  // Scans the cells whose index offset from `bin` has Chebyshev norm exactly `ring`.
  template <Metric M>
  void scan_ring(const std::array<std::size_t, kMaxDim>& bin, std::size_t ring, const double* q,
                 std::int64_t self, BestK& best) const {
    const std::size_t last = d_ - 1;
    const std::size_t lo_last = bin[last] >= ring ? bin[last] - ring : 0;
    const std::size_t hi_last = std::min(bins_ - 1, bin[last] + ring);
    // Odometer over the leading dimensions' offsets in [-ring, ring] (clipped to the grid).
    std::array<std::size_t, kMaxDim> first{}, stop{}, at{};
    for (std::size_t j = 0; j < last; ++j) {
      first[j] = bin[j] >= ring ? bin[j] - ring : 0;
      stop[j] = std::min(bins_ - 1, bin[j] + ring);
      at[j] = first[j];
    }
    while (true) {
      bool on_edge = false;  // some leading offset is exactly +-ring
      std::size_t row = 0;
      double row_gap = 0.0;  // lower bound from the leading dimensions
      for (std::size_t j = 0; j < last; ++j) {
        on_edge |= at[j] + ring == bin[j] || at[j] == bin[j] + ring;
        row = row * bins_ + at[j];
        const double below = lo_[j][at[j]] - q[j], above = q[j] - hi_[j][at[j]];
        row_gap = std::max(row_gap, std::max(below, above));
      }
      // A cell is skipped when its box (row bounds and its last-dimension bin) is no nearer
      // than the current k-th distance.
      auto far = [&](std::size_t t) {
        const double below = lo_[last][t] - q[last], above = q[last] - hi_[last][t];
        return best.full() &&
               best.worst() <= reduce_gap<M>(std::max(row_gap, std::max(below, above)));
      };
      if (!(best.full() && best.worst() <= reduce_gap<M>(row_gap))) {
        const std::size_t base = row * bins_;
        if (on_edge || ring == 0) {
          std::size_t a = lo_last, b = hi_last;
          while (a < b && far(a)) ++a;
          while (b > a && far(b)) --b;
          if (!far(a)) scan_cells<M>(base + a, base + b, q, self, best);
        } else {
          if (bin[last] >= ring && !far(lo_last))
            scan_cells<M>(base + lo_last, base + lo_last, q, self, best);
          if (bin[last] + ring < bins_ && !far(hi_last))
            scan_cells<M>(base + hi_last, base + hi_last, q, self, best);
        }
      }
      std::size_t j = last;
      while (j-- > 0) {
        if (at[j] < stop[j]) {
          ++at[j];
          break;
        }
        at[j] = first[j];
      }
      if (j == static_cast<std::size_t>(-1)) return;
    }
  }

  // Pushes the points of cells [c0, c1] (contiguous in memory).
  template <Metric M>
  void scan_cells(std::size_t c0, std::size_t c1, const double* q, std::int64_t self,
                  BestK& best) const {
    scan_positions<0, M>(start_[c0], start_[c1 + 1], q, self, best);
  }
};

}  // namespace infokit::knn
