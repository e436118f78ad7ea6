// Batched queries on a KDTree: one query per point of the tree itself ("self" queries, the point
// excluded) or per row of another sample, split over threads above a size threshold. Each query
// writes only its own output slots, so results do not depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "infokit/knn/kdtree.hpp"
#include "infokit/parallel.hpp"

namespace infokit::knn {

// Queries per thread below which one thread is faster than waking more.
constexpr std::size_t kQueryGrain = 2048;

template <class Body>
void for_queries(std::size_t n_queries, int n_threads, Body&& body) {
  const int parts = threads_for(n_queries, n_threads, kQueryGrain);
  parallel_for(parts, parts, [&](std::int64_t t) {
    const auto range = part_range(n_queries, static_cast<std::size_t>(parts),
                                  static_cast<std::size_t>(t));
    body(range.first, range.second);
  });
}

// Writes the k neighbours of one query into row `row` of dist/index (n x k); missing neighbours
// (fewer than k candidates) get distance +inf and index -1.
inline void write_row(const BestK& best, std::size_t k, Metric metric, std::size_t row,
                      double* dist, std::int64_t* index) {
  for (std::size_t j = 0; j < k; ++j) {
    const bool have = j < best.size();
    if (dist)
      dist[row * k + j] = have ? KDTree::unreduce(best.dist(j), metric)
                               : std::numeric_limits<double>::infinity();
    if (index) index[row * k + j] = have ? best.index(j) : -1;
  }
}

// For every point i of the tree: its k nearest other points. dist and/or index (either may be
// null) are n x k, row i for the point with original index i, ascending distances.
inline void knn_self(const KDTree& tree, std::size_t k, Metric metric, double* dist,
                     std::int64_t* index, int n_threads) {
  if (k == 0) return;
  if (tree.dim() <= tree.point_dim_for_leafwise()) {
    // Low dimension: one tree walk per leaf serves all of the leaf's points.
    const std::size_t leaves = tree.leaf_count();
    const int parts = threads_for(tree.size(), n_threads, kQueryGrain);
    parallel_for(parts, parts, [&](std::int64_t t) {
      const auto range = part_range(leaves, static_cast<std::size_t>(parts),
                                    static_cast<std::size_t>(t));
      std::vector<BestK> best(KDTree::kMaxLeaf, BestK(k));
      for (std::size_t leaf = range.first; leaf < range.second; ++leaf) {
        tree.knn_leaf(leaf, metric, best);
        for (std::size_t p = tree.leaf_begin(leaf); p < tree.leaf_end(leaf); ++p) {
          const std::size_t i = static_cast<std::size_t>(tree.original(p));
          write_row(best[p - tree.leaf_begin(leaf)], k, metric, i, dist, index);
        }
      }
    });
    return;
  }
  for_queries(tree.size(), n_threads, [&](std::size_t begin, std::size_t end) {
    BestK best(k);
    for (std::size_t p = begin; p < end; ++p) {  // tree order: neighbouring queries
      const std::int64_t i = tree.original(p);
      tree.knn(tree.point(static_cast<std::size_t>(i)), metric, i, best);
      write_row(best, k, metric, static_cast<std::size_t>(i), dist, index);
    }
  });
}

// For each of m query rows (m x d, row-major): its k nearest points of the tree.
inline void knn_query(const KDTree& tree, const double* queries, std::size_t m, std::size_t k,
                      Metric metric, double* dist, std::int64_t* index, int n_threads) {
  if (k == 0) return;
  const std::size_t d = tree.dim();
  for_queries(m, n_threads, [&](std::size_t begin, std::size_t end) {
    BestK best(k);
    for (std::size_t i = begin; i < end; ++i) {
      tree.knn(queries + i * d, metric, -1, best);
      write_row(best, k, metric, i, dist, index);
    }
  });
}

// For every point i of the tree: the number of OTHER points within radius[i] (strict: <).
inline void count_self(const KDTree& tree, const double* radius, bool strict, Metric metric,
                       std::int64_t* out, int n_threads) {
  for_queries(tree.size(), n_threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p) {
      const std::int64_t i = tree.original(p);
      const std::size_t u = static_cast<std::size_t>(i);
      out[u] = tree.count(tree.point(u), radius[u], strict, metric, i);
    }
  });
}

// For each of m query rows: the number of tree points within radius[i].
inline void count_query(const KDTree& tree, const double* queries, std::size_t m,
                        const double* radius, bool strict, Metric metric, std::int64_t* out,
                        int n_threads) {
  const std::size_t d = tree.dim();
  for_queries(m, n_threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
      out[i] = tree.count(queries + i * d, radius[i], strict, metric, -1);
  });
}

}  // namespace infokit::knn
