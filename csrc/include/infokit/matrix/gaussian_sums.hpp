// Fused, tiled sums of Gaussian kernel entries k(x, y) = exp(-gamma * ||x - y||^2) without ever
// holding an n x n matrix: O(n d) extra memory (one packed double copy of the columns' side) and
// O(n) for row sums. These sums are all that MMD, HSIC, kernel CKA, the Cauchy-Schwarz divergence
// and the Cauchy-Schwarz mutual information need.
//
// Numerics: inputs (float or double) are read into double; squared distances are accumulated as
// sums of squared coordinate differences (not ||x||^2 + ||y||^2 - 2 x.y, which cancels for close
// points), so k(x, x) = 1 exactly; every sum is accumulated in double, tile by tile.
//
// Threads: work is cut into a fixed list of tasks (row blocks) whose partial sums are combined in
// task order afterwards, so results are bit-identical for any thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/parallel.hpp"

namespace infokit::matrix {

// Columns per tile: the packed column block (d x width doubles) stays within about 64 KiB.
inline std::size_t tile_width(std::size_t d) {
  const std::size_t w = (std::size_t{8192} / std::max<std::size_t>(d, 1)) / 8 * 8;
  return std::clamp<std::size_t>(w, 8, 256);
}

// The rows of `x` (n x d, row-major) copied into double, block by block, each block transposed
// (feature-major) so that the innermost loop of a tile runs over contiguous columns.
class PackedColumns {
 public:
  template <class T>
  PackedColumns(const T* x, std::size_t n, std::size_t d) : PackedColumns(x, n, d, tile_width(d)) {}
  template <class T>
  PackedColumns(const T* x, std::size_t n, std::size_t d, std::size_t width)
      : n_(n), d_(d), width_(std::max<std::size_t>(width, 1)), data_(n * d) {
    for (std::size_t b = 0; b < blocks(); ++b) {
      const std::size_t j0 = b * width_, w = block_size(b);
      double* out = data_.data() + j0 * d_;
      for (std::size_t k = 0; k < d_; ++k)
        for (std::size_t j = 0; j < w; ++j) out[k * w + j] = static_cast<double>(x[(j0 + j) * d_ + k]);
    }
  }
  std::size_t blocks() const { return (n_ + width_ - 1) / width_; }
  std::size_t block_start(std::size_t b) const { return b * width_; }
  std::size_t block_size(std::size_t b) const { return std::min(width_, n_ - b * width_); }
  // Feature k of the block's columns is at block(b)[k * block_size(b) + j].
  const double* block(std::size_t b) const { return data_.data() + b * width_ * d_; }
  std::size_t width() const { return width_; }

 private:
  std::size_t n_, d_, width_;
  std::vector<double> data_;
};

// dist[j] = ||row - column j of block b||^2 for the w columns of the block.
inline void squared_distances(const double* row, const double* block, std::size_t d, std::size_t w,
                              double* dist) {
  std::fill(dist, dist + w, 0.0);
  for (std::size_t k = 0; k < d; ++k) {
    const double xk = row[k];
    const double* col = block + k * w;
    for (std::size_t j = 0; j < w; ++j) {
      const double diff = xk - col[j];
      dist[j] += diff * diff;
    }
  }
}

template <class T>
void row_to_double(const T* x, std::size_t d, double* out) {
  for (std::size_t k = 0; k < d; ++k) out[k] = static_cast<double>(x[k]);
}

// Sum over the tile (rows [i0, i1) of x) x (column block b) of exp(-gamma * dist).
template <class T>
double tile_sum(const T* x, std::size_t d, std::size_t i0, std::size_t i1, const PackedColumns& cols,
                std::size_t b, double gamma, double* row, double* dist) {
  const std::size_t w = cols.block_size(b);
  double total = 0.0;
  for (std::size_t i = i0; i < i1; ++i) {
    row_to_double(x + i * d, d, row);
    squared_distances(row, cols.block(b), d, w, dist);
    double s = 0.0;
    for (std::size_t j = 0; j < w; ++j) s += std::exp(-gamma * dist[j]);
    total += s;
  }
  return total;
}

// sum_{i, j} exp(-gamma ||x_i - y_j||^2) over x (nx x d) and y (ny x d).
template <class T>
double gaussian_cross_sum(const T* x, std::size_t nx, const T* y, std::size_t ny, std::size_t d,
                          double gamma, int n_threads) {
  if (nx == 0 || ny == 0) return 0.0;
  const PackedColumns cols(y, ny, d);
  const std::size_t rows_per_task = cols.width();
  const std::size_t n_tasks = (nx + rows_per_task - 1) / rows_per_task;
  std::vector<double> partial(n_tasks, 0.0);
  const int nt = threads_for(nx * ny, n_threads, std::size_t{1} << 16);
  parallel_for(static_cast<std::int64_t>(n_tasks), nt, [&](std::int64_t t) {
    std::vector<double> row(d), dist(cols.width());
    const std::size_t i0 = static_cast<std::size_t>(t) * rows_per_task;
    const std::size_t i1 = std::min(nx, i0 + rows_per_task);
    double s = 0.0;
    for (std::size_t b = 0; b < cols.blocks(); ++b)
      s += tile_sum(x, d, i0, i1, cols, b, gamma, row.data(), dist.data());
    partial[static_cast<std::size_t>(t)] = s;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// sum_{i, j} exp(-gamma ||x_i - x_j||^2) over all ordered pairs of rows of x (n x d), diagonal
// included. Only tiles on and above the block diagonal are computed; task t takes row blocks t and
// (blocks - 1 - t) so that every task gets about the same number of tiles.
template <class T>
double gaussian_self_sum(const T* x, std::size_t n, std::size_t d, double gamma, int n_threads) {
  if (n == 0) return 0.0;
  const PackedColumns cols(x, n, d);
  const std::size_t nb = cols.blocks();
  const std::size_t n_tasks = (nb + 1) / 2;
  std::vector<double> partial(n_tasks, 0.0);
  const int nt = threads_for(n * n / 2, n_threads, std::size_t{1} << 16);
  parallel_for(static_cast<std::int64_t>(n_tasks), nt, [&](std::int64_t t) {
    std::vector<double> row(d), dist(cols.width());
    double s = 0.0;
    const std::size_t first = static_cast<std::size_t>(t), second = nb - 1 - first;
    // The middle block of an odd count is its own partner: visit it once.
    const std::size_t visits = first == second ? 1 : 2;
    for (std::size_t v = 0; v < visits; ++v) {
      const std::size_t a = v == 0 ? first : second;
      const std::size_t i0 = cols.block_start(a), i1 = i0 + cols.block_size(a);
      s += tile_sum(x, d, i0, i1, cols, a, gamma, row.data(), dist.data());
      for (std::size_t b = a + 1; b < nb; ++b)
        s += 2.0 * tile_sum(x, d, i0, i1, cols, b, gamma, row.data(), dist.data());
    }
    partial[static_cast<std::size_t>(t)] = s;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// The sums of two Gaussian Gram matrices K (of x) and L (of y) over the same n paired samples.
struct PairedSums {
  double kl = 0.0;  // sum_ij K_ij L_ij  (= tr(K L))
  double kk = 0.0;  // sum_ij K_ij^2
  double ll = 0.0;  // sum_ij L_ij^2
};

// One pass over all (i, j): the three sums above plus the row sums k_rows[i] = sum_j K_ij and
// l_rows[i] = sum_j L_ij (each row is owned by one task, so no two threads write the same entry).
template <class T>
PairedSums gaussian_paired_sums(const T* x, std::size_t dx, const T* y, std::size_t dy, std::size_t n,
                                double gamma_x, double gamma_y, double* k_rows, double* l_rows,
                                int n_threads) {
  PairedSums result;
  if (n == 0) return result;
  // Both packings use the same block width so that column block b covers the same samples.
  const std::size_t width = std::min(tile_width(dx), tile_width(dy));
  const PackedColumns cx(x, n, dx, width), cy(y, n, dy, width);
  const std::size_t rows_per_task = width;
  const std::size_t n_tasks = (n + rows_per_task - 1) / rows_per_task;
  std::vector<PairedSums> partial(n_tasks);
  const int nt = threads_for(n * n, n_threads, std::size_t{1} << 16);
  parallel_for(static_cast<std::int64_t>(n_tasks), nt, [&](std::int64_t t) {
    std::vector<double> rx(dx), ry(dy), distx(width), disty(width);
    const std::size_t i0 = static_cast<std::size_t>(t) * rows_per_task;
    const std::size_t i1 = std::min(n, i0 + rows_per_task);
    PairedSums s;
    for (std::size_t i = i0; i < i1; ++i) {
      row_to_double(x + i * dx, dx, rx.data());
      row_to_double(y + i * dy, dy, ry.data());
      double krow = 0.0, lrow = 0.0;
      for (std::size_t b = 0; b < cx.blocks(); ++b) {
        const std::size_t w = cx.block_size(b);
        std::fill(distx.begin(), distx.begin() + static_cast<std::ptrdiff_t>(w), 0.0);
        std::fill(disty.begin(), disty.begin() + static_cast<std::ptrdiff_t>(w), 0.0);
        for (std::size_t k = 0; k < dx; ++k) {
          const double* col = cx.block(b) + k * w;
          const double v = rx[k];
          for (std::size_t j = 0; j < w; ++j) {
            const double diff = v - col[j];
            distx[j] += diff * diff;
          }
        }
        for (std::size_t k = 0; k < dy; ++k) {
          const double* col = cy.block(b) + k * w;
          const double v = ry[k];
          for (std::size_t j = 0; j < w; ++j) {
            const double diff = v - col[j];
            disty[j] += diff * diff;
          }
        }
        for (std::size_t j = 0; j < w; ++j) {
          const double kv = std::exp(-gamma_x * distx[j]);
          const double lv = std::exp(-gamma_y * disty[j]);
          s.kl += kv * lv;
          s.kk += kv * kv;
          s.ll += lv * lv;
          krow += kv;
          lrow += lv;
        }
      }
      k_rows[i] = krow;
      l_rows[i] = lrow;
    }
    partial[static_cast<std::size_t>(t)] = s;
  });
  for (const PairedSums& p : partial) {
    result.kl += p.kl;
    result.kk += p.kk;
    result.ll += p.ll;
  }
  return result;
}

// The full Gaussian Gram matrix of x (n x d) into out (n x n, row-major, double): for the spectral
// quantities, which need the matrix itself. Tiles above the diagonal are computed and mirrored.
template <class T>
void gaussian_gram(const T* x, std::size_t n, std::size_t d, double gamma, double* out, int n_threads) {
  if (n == 0) return;
  const PackedColumns cols(x, n, d);
  const std::size_t nb = cols.blocks();
  const int nt = threads_for(n * n / 2, n_threads, std::size_t{1} << 16);
  // Row i is written by the task of its block (upper part) and then mirrored below the diagonal
  // after all tasks finish, so no two threads write one entry.
  parallel_for(static_cast<std::int64_t>(nb), nt, [&](std::int64_t t) {
    std::vector<double> row(d), dist(cols.width());
    const std::size_t a = static_cast<std::size_t>(t);
    const std::size_t i0 = cols.block_start(a), i1 = i0 + cols.block_size(a);
    for (std::size_t i = i0; i < i1; ++i) {
      row_to_double(x + i * d, d, row.data());
      for (std::size_t b = a; b < nb; ++b) {
        const std::size_t w = cols.block_size(b), j0 = cols.block_start(b);
        squared_distances(row.data(), cols.block(b), d, w, dist.data());
        double* o = out + i * n + j0;
        for (std::size_t j = 0; j < w; ++j) o[j] = std::exp(-gamma * dist[j]);
      }
    }
  });
  // Mirror: entry (i, j) with j < i copies (j, i); for rows of one diagonal block, both halves
  // were computed, and the copy makes the matrix exactly symmetric.
  parallel_for(static_cast<std::int64_t>(n), nt, [&](std::int64_t t) {
    const std::size_t i = static_cast<std::size_t>(t);
    for (std::size_t j = 0; j < i; ++j) out[i * n + j] = out[j * n + i];
  });
}

}  // namespace infokit::matrix
