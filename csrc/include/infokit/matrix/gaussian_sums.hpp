// Fused, tiled sums of Gaussian kernel entries k(x, y) = exp(-gamma * ||x - y||^2) without ever
// holding an n x n matrix: O(n d) extra memory (packed double copies of the inputs) and O(n) for
// row sums. These sums are all that MMD, HSIC, kernel CKA, the Cauchy-Schwarz divergence and the
// Cauchy-Schwarz mutual information need.
//
// Numerics: inputs (float or double) are read into double and scaled by sqrt(gamma); a tile of
// entries is a small matrix product followed by a vectorised exp pass (matrix/tiles.hpp, which
// also explains why k(x, x) = 1 exactly); every sum is accumulated in double, tile by tile.
//
// Threads: work is cut into a fixed list of tasks (row blocks) whose partial sums are combined in
// task order afterwards, so results are bit-identical for any thread count; the tasks are handed
// out one at a time (for_each_task), so a slowed-down thread does not hold the others up. The
// instruction set (AVX-512, AVX2 or portable) changes the last bits only.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include "infokit/matrix/tiles.hpp"
#include "infokit/parallel.hpp"
#include "infokit/simd/dispatch.hpp"

namespace infokit::matrix {

// Columns per block (a multiple of kPanel): one block of packed columns (d x width doubles) stays
// within about 128 KiB, so it is served from L2 while a row block streams past it.
inline std::size_t block_width(std::size_t d) {
  const std::size_t w = (std::size_t{16384} / std::max<std::size_t>(d, 1)) / kPanel * kPanel;
  return std::clamp<std::size_t>(w, kPanel, 32 * kPanel);
}

// An uninitialised array of doubles. Large ones (>= 4 MiB) are aligned to 2 MiB and, on Linux,
// marked for transparent huge pages (as numpy does for its arrays): a fresh 10 MB buffer costs
// about 2500 page faults otherwise, measured at about 5 ms here, as much as a few % of an MMD.
class DoubleBuffer {
 public:
  explicit DoubleBuffer(std::size_t count) {
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    const std::size_t bytes = std::max<std::size_t>(count, 1) * sizeof(double);
    if (bytes >= 2 * kHuge) {
      void* p = std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge);
#ifdef __linux__
      if (p != nullptr) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure changes nothing
#endif
      data_.reset(static_cast<double*>(p));
    }
    if (!data_) data_.reset(static_cast<double*>(std::malloc(bytes)));
    if (!data_) throw std::bad_alloc();
  }
  double* get() { return data_.get(); }
  const double* get() const { return data_.get(); }
  double& operator[](std::size_t i) { return data_.get()[i]; }
  double operator[](std::size_t i) const { return data_.get()[i]; }

 private:
  struct Free {
    void operator()(double* p) const { std::free(p); }
  };
  std::unique_ptr<double, Free> data_;
};

// One sample set prepared for the tiles: u = sqrt(gamma) x as rows (n x d) and as packed panels,
// and the squared norms s (+inf on the padding columns of the last panel). Built panel by panel
// (each panel's rows are scaled, normed and transposed into it while they are in cache, with
// contiguous stores), every entry written exactly once, so the buffers start uninitialised. One
// thread: at n = 2e4, d = 64 it takes about 3.5 ms, and two threads measured slower.
class Prepared {
 public:
  template <class T>
  Prepared(const T* x, std::size_t n, std::size_t d, double gamma, const TileOps& ops,
           std::size_t width)
      : n_(n), d_(d), width_(width), panels_((n + kPanel - 1) / kPanel),
        rows_(n * d), packed_(panels_ * kPanel * d),
        norms_(panels_ * kPanel, std::numeric_limits<double>::infinity()) {
    const double scale = std::sqrt(gamma);
    for (std::size_t p = 0; p < panels_; ++p) {
      const std::size_t i0 = p * kPanel, i1 = std::min(n, i0 + kPanel);
      for (std::size_t i = i0; i < i1; ++i) {
        double* row = rows_.get() + i * d;
        for (std::size_t k = 0; k < d; ++k) row[k] = scale * static_cast<double>(x[i * d + k]);
        norms_[i] = ops.norm(row, d);
      }
      double* panel = packed_.get() + p * d * kPanel;
      for (std::size_t k = 0; k < d; ++k)
        for (std::size_t c = 0; c < kPanel; ++c)
          panel[k * kPanel + c] = i0 + c < i1 ? rows_[(i0 + c) * d + k] : 0.0;
    }
  }
  std::size_t n() const { return n_; }
  std::size_t d() const { return d_; }
  std::size_t width() const { return width_; }
  std::size_t blocks() const { return (n_ + width_ - 1) / width_; }
  std::size_t block_start(std::size_t b) const { return b * width_; }
  std::size_t block_size(std::size_t b) const { return std::min(width_, n_ - b * width_); }
  std::size_t block_panels(std::size_t b) const { return (block_size(b) + kPanel - 1) / kPanel; }
  const double* row(std::size_t i) const { return rows_.get() + i * d_; }
  const double* block_packed(std::size_t b) const { return packed_.get() + b * width_ * d_; }
  const double* block_norms(std::size_t b) const { return norms_.data() + b * width_; }
  double norm(std::size_t i) const { return norms_[i]; }
  const double* norms() const { return norms_.data(); }

 private:
  std::size_t n_, d_, width_, panels_;
  DoubleBuffer rows_, packed_;
  std::vector<double> norms_;
};

// Scratch of one task: the dot products of kRowTile rows with one column block, and one row of
// kernel values.
struct TileScratch {
  explicit TileScratch(std::size_t width) : dots(kRowTile * width), values(width) {}
  std::vector<double> dots, values;
};

// Runs task(t) for t in [0, n_tasks) on nt threads of parallel_for, handing the tasks out one at
// a time, so that a thread the OS slows down (a shared machine) simply takes fewer of them. Every
// task writes only its own outputs, so results do not depend on which thread ran it.
template <class Task>
void for_each_task(std::size_t n_tasks, int nt, Task&& task) {
  std::atomic<std::size_t> next{0};
  parallel_for(nt, nt, [&](std::int64_t) {
    for (std::size_t t = next.fetch_add(1); t < n_tasks; t = next.fetch_add(1)) task(t);
  });
}

// Dot products of rows [i, i + count) of `rows` with column block b of `cols` into scratch
// (count <= kRowTile); returns the padded row length.
inline std::size_t tile_dots(const TileOps& ops, const Prepared& rows, std::size_t i,
                             std::size_t count, const Prepared& cols, std::size_t b,
                             TileScratch& scratch) {
  const std::size_t n_panels = cols.block_panels(b);
  ops.dots(rows.row(i), count, rows.d(), cols.block_packed(b), n_panels, scratch.dots.data());
  return n_panels * kPanel;
}

// Sum over rows [i0, i1) of `rows` x column block b of `cols` of the kernel entries.
inline double tile_sum(const TileOps& ops, const Prepared& rows, std::size_t i0, std::size_t i1,
                       const Prepared& cols, std::size_t b, TileScratch& scratch) {
  if (ops.tile_sum != nullptr)
    return ops.tile_sum(rows.row(i0), rows.norms() + i0, i1 - i0, rows.d(),
                        cols.block_packed(b), cols.block_norms(b), cols.block_panels(b));
  double total = 0.0;
  for (std::size_t i = i0; i < i1; i += kRowTile) {
    const std::size_t count = std::min(kRowTile, i1 - i);
    const std::size_t len = tile_dots(ops, rows, i, count, cols, b, scratch);
    for (std::size_t r = 0; r < count; ++r)
      total += ops.exp_row_sum(scratch.dots.data() + r * len, cols.block_norms(b),
                               rows.norm(i + r), len);
  }
  return total;
}

// Task a of a cross sum: row block a of px with every column block of py.
inline double cross_sum_task(const TileOps& ops, const Prepared& px, const Prepared& py,
                             std::size_t a) {
  TileScratch scratch(py.width());
  const std::size_t i0 = px.block_start(a), i1 = i0 + px.block_size(a);
  double s = 0.0;
  for (std::size_t b = 0; b < py.blocks(); ++b) s += tile_sum(ops, px, i0, i1, py, b, scratch);
  return s;
}

// Tasks of a self sum: only tiles on and above the block diagonal are computed; task t takes row
// blocks t and (blocks - 1 - t) so that every task gets about the same number of tiles.
inline std::size_t self_sum_tasks(const Prepared& px) { return (px.blocks() + 1) / 2; }

inline double self_sum_task(const TileOps& ops, const Prepared& px, std::size_t t) {
  TileScratch scratch(px.width());
  const std::size_t nb = px.blocks();
  double s = 0.0;
  const std::size_t first = t, second = nb - 1 - first;
  // The middle block of an odd count is its own partner: visit it once.
  const std::size_t visits = first == second ? 1 : 2;
  for (std::size_t v = 0; v < visits; ++v) {
    const std::size_t a = v == 0 ? first : second;
    const std::size_t i0 = px.block_start(a), i1 = i0 + px.block_size(a);
    s += tile_sum(ops, px, i0, i1, px, a, scratch);
    for (std::size_t b = a + 1; b < nb; ++b) s += 2.0 * tile_sum(ops, px, i0, i1, px, b, scratch);
  }
  return s;
}

// The sum of partial[begin, end) in index order.
inline double sum_in_order(const std::vector<double>& partial, std::size_t begin,
                           std::size_t end) {
  double total = 0.0;
  for (std::size_t t = begin; t < end; ++t) total += partial[t];
  return total;
}

// sum_{i, j} exp(-gamma ||x_i - y_j||^2) over x (nx x d) and y (ny x d).
template <class T>
double gaussian_cross_sum(const T* x, std::size_t nx, const T* y, std::size_t ny, std::size_t d,
                          double gamma, int n_threads) {
  if (nx == 0 || ny == 0) return 0.0;
  const TileOps ops = tile_ops();
  const std::size_t width = block_width(d);
  const Prepared px(x, nx, d, gamma, ops, width);
  const Prepared py(y, ny, d, gamma, ops, width);
  std::vector<double> partial(px.blocks(), 0.0);
  const int nt = threads_for(nx * ny, n_threads, std::size_t{1} << 16);
  for_each_task(partial.size(), nt,
                [&](std::size_t a) { partial[a] = cross_sum_task(ops, px, py, a); });
  return sum_in_order(partial, 0, partial.size());
}

// sum_{i, j} exp(-gamma ||x_i - x_j||^2) over all ordered pairs of rows of x (n x d), diagonal
// included.
template <class T>
double gaussian_self_sum(const T* x, std::size_t n, std::size_t d, double gamma, int n_threads) {
  if (n == 0) return 0.0;
  const TileOps ops = tile_ops();
  const Prepared px(x, n, d, gamma, ops, block_width(d));
  std::vector<double> partial(self_sum_tasks(px), 0.0);
  const int nt = threads_for(n * n / 2, n_threads, std::size_t{1} << 16);
  for_each_task(partial.size(), nt,
                [&](std::size_t t) { partial[t] = self_sum_task(ops, px, t); });
  return sum_in_order(partial, 0, partial.size());
}

// The three sums of MMD and the Cauchy-Schwarz divergence.
struct TwoSampleSums {
  double xx = 0.0;  // sum_ij k(x_i, x_j)
  double yy = 0.0;  // sum_ij k(y_i, y_j)
  double xy = 0.0;  // sum_ij k(x_i, y_j)
};

// gaussian_self_sum(x), gaussian_self_sum(y) and gaussian_cross_sum(x, y), bit for bit, in one
// pass: each sample is prepared once (not twice) and the tasks of all three sums share one
// parallel region, so no thread idles at the end of each of three.
template <class T>
TwoSampleSums gaussian_two_sample_sums(const T* x, std::size_t nx, const T* y, std::size_t ny,
                                       std::size_t d, double gamma, int n_threads) {
  const TileOps ops = tile_ops();
  const std::size_t width = block_width(d);
  const Prepared px(x, nx, d, gamma, ops, width);
  const Prepared py(y, ny, d, gamma, ops, width);
  // Tasks [0, tx): self sum of x; [tx, ty): self sum of y; [ty, end): cross sum.
  const std::size_t tx = self_sum_tasks(px), ty = tx + self_sum_tasks(py);
  std::vector<double> partial(ty + (ny == 0 ? 0 : px.blocks()), 0.0);
  const int nt = threads_for(nx * nx / 2 + ny * ny / 2 + nx * ny, n_threads, std::size_t{1} << 16);
  for_each_task(partial.size(), nt, [&](std::size_t t) {
    partial[t] = t < tx   ? self_sum_task(ops, px, t)
                 : t < ty ? self_sum_task(ops, py, t - tx)
                          : cross_sum_task(ops, px, py, t - ty);
  });
  TwoSampleSums sums;
  sums.xx = sum_in_order(partial, 0, tx);
  sums.yy = sum_in_order(partial, tx, ty);
  sums.xy = sum_in_order(partial, ty, partial.size());
  return sums;
}

// The sums of two Gaussian Gram matrices K (of x) and L (of y) over the same n paired samples.
struct PairedSums {
  double kl = 0.0;  // sum_ij K_ij L_ij  (= tr(K L))
  double kk = 0.0;  // sum_ij K_ij^2
  double ll = 0.0;  // sum_ij L_ij^2
};

// Σ k l, Σ k², Σ l², Σ k, Σ l over one tile row (4-lane partial sums, combined in a fixed order;
// w is a multiple of 4).
INFOKIT_SIMD_CLONES inline void paired_row_sums(const double* kv, const double* lv, std::size_t w,
                                                double& kl, double& kk, double& ll, double& ks,
                                                double& ls) {
  double a_kl[4] = {}, a_kk[4] = {}, a_ll[4] = {}, a_ks[4] = {}, a_ls[4] = {};
  for (std::size_t j = 0; j < w; j += 4) {
    for (std::size_t l = 0; l < 4; ++l) {
      const double k = kv[j + l], m = lv[j + l];
      a_kl[l] += k * m;
      a_kk[l] += k * k;
      a_ll[l] += m * m;
      a_ks[l] += k;
      a_ls[l] += m;
    }
  }
  kl = (a_kl[0] + a_kl[1]) + (a_kl[2] + a_kl[3]);
  kk = (a_kk[0] + a_kk[1]) + (a_kk[2] + a_kk[3]);
  ll = (a_ll[0] + a_ll[1]) + (a_ll[2] + a_ll[3]);
  ks = (a_ks[0] + a_ks[1]) + (a_ks[2] + a_ks[3]);
  ls = (a_ls[0] + a_ls[1]) + (a_ls[2] + a_ls[3]);
}

// Fixed number of accumulation lanes of the paired sums (independent of the thread count, so the
// results are too): each lane owns a share of the row blocks and its own length-n row-sum buffers.
constexpr std::size_t kLanes = 8;

// One pass over the tiles on and above the block diagonal (K and L are symmetric): the three sums
// above plus the row sums k_rows[i] = sum_j K_ij and l_rows[i] = sum_j L_ij. An off-diagonal tile
// counts twice in the sums and adds its row sums to its rows and its column sums to its columns,
// in the buffers of the lane that owns it; the lanes are added up in lane order at the end.
// Memory: 2 kLanes n doubles besides the prepared inputs.
template <class T>
PairedSums gaussian_paired_sums(const T* x, std::size_t dx, const T* y, std::size_t dy,
                                std::size_t n, double gamma_x, double gamma_y, double* k_rows,
                                double* l_rows, int n_threads) {
  PairedSums result;
  if (n == 0) return result;
  const TileOps ops = tile_ops();
  // Both use the same block width so that column block b covers the same samples.
  const std::size_t width = std::min(block_width(dx), block_width(dy));
  const Prepared px(x, n, dx, gamma_x, ops, width);
  const Prepared py(y, n, dy, gamma_y, ops, width);
  const std::size_t nb = px.blocks();
  const std::size_t n_pairs = (nb + 1) / 2;  // block a with block nb - 1 - a: equal work
  std::vector<PairedSums> partial(kLanes);
  std::vector<double> lane_k(kLanes * n, 0.0), lane_l(kLanes * n, 0.0);
  const int nt = threads_for(n * n / 2, n_threads, std::size_t{1} << 16);
  for_each_task(kLanes, nt, [&](std::size_t lane) {
    double* ksum = lane_k.data() + lane * n;
    double* lsum = lane_l.data() + lane * n;
    TileScratch sx(width), sy(width);
    PairedSums s;
    for (std::size_t pair = lane; pair < n_pairs; pair += kLanes) {
      const std::size_t first = pair, second = nb - 1 - pair;
      const std::size_t visits = first == second ? 1 : 2;
      for (std::size_t v = 0; v < visits; ++v) {
        const std::size_t a = v == 0 ? first : second;
        const std::size_t i0 = px.block_start(a), i1 = i0 + px.block_size(a);
        for (std::size_t b = a; b < nb; ++b) {
          const std::size_t w = px.block_size(b), j0 = px.block_start(b);
          const double twice = b == a ? 1.0 : 2.0;  // the mirror tile below the diagonal
          for (std::size_t i = i0; i < i1; i += kRowTile) {
            const std::size_t count = std::min(kRowTile, i1 - i);
            const std::size_t len = tile_dots(ops, px, i, count, px, b, sx);
            tile_dots(ops, py, i, count, py, b, sy);
            for (std::size_t r = 0; r < count; ++r) {
              double* kv = sx.values.data();
              double* lv = sy.values.data();
              ops.exp_row(sx.dots.data() + r * len, px.block_norms(b), px.norm(i + r), len, kv);
              ops.exp_row(sy.dots.data() + r * len, py.block_norms(b), py.norm(i + r), len, lv);
              double kl = 0.0, kk = 0.0, ll = 0.0, ks = 0.0, ls = 0.0;
              paired_row_sums(kv, lv, len, kl, kk, ll, ks, ls);  // padding entries are 0
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
  const TileOps ops = tile_ops();
  const Prepared px(x, n, d, gamma, ops, block_width(d));
  const std::size_t nb = px.blocks();
  const int nt = threads_for(n * n, n_threads, std::size_t{1} << 16);
  for_each_task(nb, nt, [&](std::size_t a) {
    TileScratch scratch(px.width());
    std::vector<double> acc(kRowTile * p);
    const std::size_t i0 = px.block_start(a), i1 = i0 + px.block_size(a);
    for (std::size_t i = i0; i < i1; i += kRowTile) {
      const std::size_t count = std::min(kRowTile, i1 - i);
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::size_t b = 0; b < nb; ++b) {
        const std::size_t w = px.block_size(b), j0 = px.block_start(b);
        const std::size_t len = tile_dots(ops, px, i, count, px, b, scratch);
        for (std::size_t r = 0; r < count; ++r) {
          double* k = scratch.values.data();
          ops.exp_row(scratch.dots.data() + r * len, px.block_norms(b), px.norm(i + r), len, k);
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
  const TileOps ops = tile_ops();
  const Prepared px(x, n, d, gamma, ops, block_width(d));
  const std::size_t nb = px.blocks();
  const int nt = threads_for(n * n / 2, n_threads, std::size_t{1} << 16);
  // Row i is written by the task of its block (upper part) and then mirrored below the diagonal
  // after all tasks finish, so no two threads write one entry.
  for_each_task(nb, nt, [&](std::size_t a) {
    TileScratch scratch(px.width());
    const std::size_t i0 = px.block_start(a), i1 = i0 + px.block_size(a);
    for (std::size_t b = a; b < nb; ++b) {
      const std::size_t w = px.block_size(b), j0 = px.block_start(b);
      for (std::size_t i = i0; i < i1; i += kRowTile) {
        const std::size_t count = std::min(kRowTile, i1 - i);
        const std::size_t len = tile_dots(ops, px, i, count, px, b, scratch);
        for (std::size_t r = 0; r < count; ++r) {
          double* k = scratch.values.data();
          ops.exp_row(scratch.dots.data() + r * len, px.block_norms(b), px.norm(i + r), len, k);
          std::copy(k, k + w, out + (i + r) * n + j0);
        }
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
