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
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/matrix/fast_exp.hpp"
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
        for (std::size_t j = 0; j < w; ++j)
          out[k * w + j] = static_cast<double>(x[(j0 + j) * d_ + k]);
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

// Rows are processed kRows at a time, so that each packed column value loaded from memory serves
// kRows distances.
constexpr std::size_t kRows = 4;

// Rows [i0, i0 + count) of x as double, row-major kRows x d; missing rows (count < kRows) repeat
// the last one, and their results are ignored.
template <class T>
void load_rows(const T* x, std::size_t d, std::size_t i0, std::size_t count, double* out) {
  for (std::size_t r = 0; r < kRows; ++r) {
    const T* src = x + (i0 + std::min(r, count - 1)) * d;
    for (std::size_t k = 0; k < d; ++k) out[r * d + k] = static_cast<double>(src[k]);
  }
}

// dist[r * w + j] = ||row r - column j of the block||^2 for the kRows rows and the w columns.
// Every entry sums its squared differences over k in ascending order.
INFOKIT_CLONES inline void squared_distances(const double* rows, const double* block, std::size_t d,
                                             std::size_t w, double* dist) {
  std::size_t j = 0;
#if defined(__GNUC__)
  // A kRows x 8 register tile of 4-lane vectors: eight independent accumulator chains hide the
  // add latency, and each column value loaded serves kRows rows (measured 3-4x faster than a
  // 4 x 4 tile of scalars left to the auto-vectoriser).
  for (; j + 8 <= w; j += 8) {
    v4d acc[kRows][2];
    for (std::size_t r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = v4d{0.0, 0.0, 0.0, 0.0};
    for (std::size_t k = 0; k < d; ++k) {
      const double* c = block + k * w + j;
      v4d c0, c1;
      std::memcpy(&c0, c, sizeof c0);
      std::memcpy(&c1, c + 4, sizeof c1);
      for (std::size_t r = 0; r < kRows; ++r) {
        const double s = rows[r * d + k];
        const v4d v = {s, s, s, s};
        const v4d e0 = v - c0, e1 = v - c1;
        acc[r][0] += e0 * e0;
        acc[r][1] += e1 * e1;
      }
    }
    for (std::size_t r = 0; r < kRows; ++r) {
      std::memcpy(dist + r * w + j, &acc[r][0], sizeof acc[r][0]);
      std::memcpy(dist + r * w + j + 4, &acc[r][1], sizeof acc[r][1]);
    }
  }
#endif
  for (; j < w; ++j) {
    for (std::size_t r = 0; r < kRows; ++r) {
      double acc = 0.0;
      for (std::size_t k = 0; k < d; ++k) {
        const double e = rows[r * d + k] - block[k * w + j];
        acc += e * e;
      }
      dist[r * w + j] = acc;
    }
  }
}

// Sum with four interleaved accumulators (a fixed order, so the result is reproducible).
inline double sum_of(const double* v, std::size_t w) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::size_t j = 0;
  for (; j + 4 <= w; j += 4) {
    s0 += v[j];
    s1 += v[j + 1];
    s2 += v[j + 2];
    s3 += v[j + 3];
  }
  for (; j < w; ++j) s0 += v[j];
  return (s0 + s1) + (s2 + s3);
}

// Scratch of one task: kRows packed rows and kRows x width distances.
struct TileScratch {
  TileScratch(std::size_t d, std::size_t width) : rows(kRows * d), dist(kRows * width) {}
  std::vector<double> rows, dist;
};

// Sum over the tile (rows [i0, i1) of x) x (column block b) of exp(-gamma * dist).
template <class T>
double tile_sum(const T* x, std::size_t d, std::size_t i0, std::size_t i1,
                const PackedColumns& cols, std::size_t b, double gamma, TileScratch& scratch) {
  const std::size_t w = cols.block_size(b);
  double total = 0.0;
  for (std::size_t i = i0; i < i1; i += kRows) {
    const std::size_t count = std::min(kRows, i1 - i);
    load_rows(x, d, i, count, scratch.rows.data());
    squared_distances(scratch.rows.data(), cols.block(b), d, w, scratch.dist.data());
    gaussian_in_place(scratch.dist.data(), count * w, gamma);
    for (std::size_t r = 0; r < count; ++r) total += sum_of(scratch.dist.data() + r * w, w);
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
    TileScratch scratch(d, cols.width());
    const std::size_t i0 = static_cast<std::size_t>(t) * rows_per_task;
    const std::size_t i1 = std::min(nx, i0 + rows_per_task);
    double s = 0.0;
    for (std::size_t b = 0; b < cols.blocks(); ++b)
      s += tile_sum(x, d, i0, i1, cols, b, gamma, scratch);
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
    TileScratch scratch(d, cols.width());
    double s = 0.0;
    const std::size_t first = static_cast<std::size_t>(t), second = nb - 1 - first;
    // The middle block of an odd count is its own partner: visit it once.
    const std::size_t visits = first == second ? 1 : 2;
    for (std::size_t v = 0; v < visits; ++v) {
      const std::size_t a = v == 0 ? first : second;
      const std::size_t i0 = cols.block_start(a), i1 = i0 + cols.block_size(a);
      s += tile_sum(x, d, i0, i1, cols, a, gamma, scratch);
      for (std::size_t b = a + 1; b < nb; ++b)
        s += 2.0 * tile_sum(x, d, i0, i1, cols, b, gamma, scratch);
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

// Σ k l, Σ k², Σ l², Σ k, Σ l over one tile row (4-lane partial sums, combined in a fixed order).
INFOKIT_CLONES inline void paired_row_sums(const double* kv, const double* lv, std::size_t w,
                                           double& kl, double& kk, double& ll, double& ks,
                                           double& ls) {
  std::size_t j = 0;
#if defined(__GNUC__)
  v4d a_kl = {0.0, 0.0, 0.0, 0.0}, a_kk = a_kl, a_ll = a_kl, a_ks = a_kl, a_ls = a_kl;
  for (; j + 4 <= w; j += 4) {
    v4d k, l;
    std::memcpy(&k, kv + j, sizeof k);
    std::memcpy(&l, lv + j, sizeof l);
    a_kl += k * l;
    a_kk += k * k;
    a_ll += l * l;
    a_ks += k;
    a_ls += l;
  }
  kl = (a_kl[0] + a_kl[1]) + (a_kl[2] + a_kl[3]);
  kk = (a_kk[0] + a_kk[1]) + (a_kk[2] + a_kk[3]);
  ll = (a_ll[0] + a_ll[1]) + (a_ll[2] + a_ll[3]);
  ks = (a_ks[0] + a_ks[1]) + (a_ks[2] + a_ks[3]);
  ls = (a_ls[0] + a_ls[1]) + (a_ls[2] + a_ls[3]);
#endif
  for (; j < w; ++j) {
    kl += kv[j] * lv[j];
    kk += kv[j] * kv[j];
    ll += lv[j] * lv[j];
    ks += kv[j];
    ls += lv[j];
  }
}

// Fixed number of accumulation lanes of the paired sums (independent of the thread count, so the
// results are too): each lane owns a share of the row blocks and its own length-n row-sum buffers.
constexpr std::size_t kLanes = 8;

// One pass over the tiles on and above the block diagonal (K and L are symmetric): the three sums
// above plus the row sums k_rows[i] = sum_j K_ij and l_rows[i] = sum_j L_ij. An off-diagonal tile
// counts twice in the sums and adds its row sums to its rows and its column sums to its columns,
// in the buffers of the lane that owns it; the lanes are added up in lane order at the end.
// Memory: 2 kLanes n doubles besides the packed inputs.
template <class T>
PairedSums gaussian_paired_sums(const T* x, std::size_t dx, const T* y, std::size_t dy,
                                std::size_t n, double gamma_x, double gamma_y, double* k_rows,
                                double* l_rows, int n_threads) {
  PairedSums result;
  if (n == 0) return result;
  // Both packings use the same block width so that column block b covers the same samples.
  const std::size_t width = std::min(tile_width(dx), tile_width(dy));
  const PackedColumns cx(x, n, dx, width), cy(y, n, dy, width);
  const std::size_t nb = cx.blocks();
  const std::size_t n_pairs = (nb + 1) / 2;  // block a with block nb - 1 - a: equal work
  std::vector<PairedSums> partial(kLanes);
  std::vector<double> lane_k(kLanes * n, 0.0), lane_l(kLanes * n, 0.0);
  const int nt = threads_for(n * n / 2, n_threads, std::size_t{1} << 16);
  parallel_for(static_cast<std::int64_t>(kLanes), nt, [&](std::int64_t lane_index) {
    const std::size_t lane = static_cast<std::size_t>(lane_index);
    double* ksum = lane_k.data() + lane * n;
    double* lsum = lane_l.data() + lane * n;
    TileScratch sx(dx, width), sy(dy, width);
    PairedSums s;
    for (std::size_t pair = lane; pair < n_pairs; pair += kLanes) {
      const std::size_t first = pair, second = nb - 1 - pair;
      const std::size_t visits = first == second ? 1 : 2;
      for (std::size_t v = 0; v < visits; ++v) {
        const std::size_t a = v == 0 ? first : second;
        const std::size_t i0 = cx.block_start(a), i1 = i0 + cx.block_size(a);
        for (std::size_t i = i0; i < i1; i += kRows) {
          const std::size_t count = std::min(kRows, i1 - i);
          load_rows(x, dx, i, count, sx.rows.data());
          load_rows(y, dy, i, count, sy.rows.data());
          for (std::size_t b = a; b < nb; ++b) {
            const std::size_t w = cx.block_size(b), j0 = cx.block_start(b);
            squared_distances(sx.rows.data(), cx.block(b), dx, w, sx.dist.data());
            squared_distances(sy.rows.data(), cy.block(b), dy, w, sy.dist.data());
            gaussian_in_place(sx.dist.data(), count * w, gamma_x);
            gaussian_in_place(sy.dist.data(), count * w, gamma_y);
            const double twice = b == a ? 1.0 : 2.0;  // the mirror tile below the diagonal
            for (std::size_t r = 0; r < count; ++r) {
              const double* kv = sx.dist.data() + r * w;
              const double* lv = sy.dist.data() + r * w;
              double kl = 0.0, kk = 0.0, ll = 0.0, ks = 0.0, ls = 0.0;
              paired_row_sums(kv, lv, w, kl, kk, ll, ks, ls);
              s.kl += twice * kl;
              s.kk += twice * kk;
              s.ll += twice * ll;
              ksum[i + r] += ks;
              lsum[i + r] += ls;
              if (b != a) {  // the mirror tile's rows are this tile's columns
                for (std::size_t j = 0; j < w; ++j) {
                  ksum[j0 + j] += kv[j];
                  lsum[j0 + j] += lv[j];
                }
              }
            }
          }
        }
      }
    }
    partial[lane] = s;
  });
  for (const PairedSums& p : partial) {
    result.kl += p.kl;
    result.kk += p.kk;
    result.ll += p.ll;
  }
  parallel_for(static_cast<std::int64_t>(n), nt, [&](std::int64_t t) {
    const std::size_t i = static_cast<std::size_t>(t);
    double k = 0.0, l = 0.0;
    for (std::size_t lane = 0; lane < kLanes; ++lane) {
      k += lane_k[lane * n + i];
      l += lane_l[lane * n + i];
    }
    k_rows[i] = k;
    l_rows[i] = l;
  });
  return result;
}

// out = K v for the Gaussian Gram K of x (n x d) and a block of p vectors v (n x p, row-major):
// the matrix-vector products of stochastic Lanczos quadrature, without forming K. Each task owns
// a block of output rows (full rows: no symmetry, so no two tasks write one entry).
template <class T>
void gaussian_matvec(const T* x, std::size_t n, std::size_t d, double gamma, const double* v,
                     std::size_t p, double* out, int n_threads) {
  if (n == 0) return;
  const PackedColumns cols(x, n, d);
  const std::size_t nb = cols.blocks();
  const int nt = threads_for(n * n, n_threads, std::size_t{1} << 16);
  parallel_for(static_cast<std::int64_t>(nb), nt, [&](std::int64_t t) {
    TileScratch scratch(d, cols.width());
    std::vector<double> acc(kRows * p);
    const std::size_t a = static_cast<std::size_t>(t);
    const std::size_t i0 = cols.block_start(a), i1 = i0 + cols.block_size(a);
    for (std::size_t i = i0; i < i1; i += kRows) {
      const std::size_t count = std::min(kRows, i1 - i);
      load_rows(x, d, i, count, scratch.rows.data());
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::size_t b = 0; b < nb; ++b) {
        const std::size_t w = cols.block_size(b), j0 = cols.block_start(b);
        squared_distances(scratch.rows.data(), cols.block(b), d, w, scratch.dist.data());
        gaussian_in_place(scratch.dist.data(), count * w, gamma);
        for (std::size_t r = 0; r < count; ++r) {
          const double* k = scratch.dist.data() + r * w;
          double* o = acc.data() + r * p;
          for (std::size_t j = 0; j < w; ++j) {
            const double kj = k[j];
            const double* vj = v + (j0 + j) * p;
            for (std::size_t q = 0; q < p; ++q) o[q] += kj * vj[q];
          }
        }
      }
      for (std::size_t r = 0; r < count; ++r)
        std::copy(acc.data() + r * p, acc.data() + (r + 1) * p, out + (i + r) * p);
    }
  });
}

// The full Gaussian Gram matrix of x (n x d) into out (n x n, row-major, double): for the spectral
// quantities, which need the matrix itself. Tiles above the diagonal are computed and mirrored.
template <class T>
void gaussian_gram(const T* x, std::size_t n, std::size_t d, double gamma, double* out,
                   int n_threads) {
  if (n == 0) return;
  const PackedColumns cols(x, n, d);
  const std::size_t nb = cols.blocks();
  const int nt = threads_for(n * n / 2, n_threads, std::size_t{1} << 16);
  // Row i is written by the task of its block (upper part) and then mirrored below the diagonal
  // after all tasks finish, so no two threads write one entry.
  parallel_for(static_cast<std::int64_t>(nb), nt, [&](std::int64_t t) {
    TileScratch scratch(d, cols.width());
    const std::size_t a = static_cast<std::size_t>(t);
    const std::size_t i0 = cols.block_start(a), i1 = i0 + cols.block_size(a);
    for (std::size_t i = i0; i < i1; i += kRows) {
      const std::size_t count = std::min(kRows, i1 - i);
      load_rows(x, d, i, count, scratch.rows.data());
      for (std::size_t b = a; b < nb; ++b) {
        const std::size_t w = cols.block_size(b), j0 = cols.block_start(b);
        squared_distances(scratch.rows.data(), cols.block(b), d, w, scratch.dist.data());
        gaussian_in_place(scratch.dist.data(), count * w, gamma);
        for (std::size_t r = 0; r < count; ++r)
          std::copy(scratch.dist.data() + r * w, scratch.dist.data() + (r + 1) * w,
                    out + (i + r) * n + j0);
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
