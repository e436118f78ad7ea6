// The fused epilogue of the cross-entropy engine: what happens to a tile of logits right after the
// GEMM that made it, so that the full N×V logits never need to exist at once.
//
// A tile is a C-contiguous rows×cols block of raw logits E_blk·C_blkᵀ covering the vocabulary
// columns [col0, col0 + cols). Before anything else each entry becomes
//     v = cap(z + bias[col])            cap(x) = c·tanh(x / c), or x when there is no softcap,
// (bias and class_weight are indexed by the GLOBAL column, so they have at least col0 + cols
// entries; the caller checks that).
//
// row_stats() folds a tile into a per-row running state of kFields doubles, so the vocabulary can
// be visited in any number of tiles (an online log-sum-exp):
//     m  = the largest v seen,
//     s  = Σ e^{v−m},          u = Σ e^{v−m}·(v − m)     (both rescaled when m grows),
//     w  = Σ weight[col]·v    (the sum that label smoothing needs; weight 1 without class weights),
//     t  = v at the row's target column (left alone when the target is in another tile).
// From the final state: lse = m + log s and entropy H = log s − u/s. Keeping u relative to m
// rather than Σ e^{v−m}·v avoids the cancellation of lse − E_p[v] when logits are large.
//
// softmax_grad() overwrites a tile with the gradient of the loss with respect to its raw logits,
// given the row's final lse and three per-row coefficients (a, b, c) that the caller derives from
// the loss options (reduction, label smoothing, class weights, z-loss, grad_output):
//     g = (a·p − b·[col = target] − c·weight[col]) · cap′,     p = e^{v − lse},
// cap′ = 1 − (v/c)² under a softcap (the derivative of c·tanh(x/c)), else 1. A row with
// a = b = c = 0 (an ignored token) becomes zeros. Optionally adds the column sums of g (the bias
// gradient) into dbias[col0 + j].
//
// Soft targets (class probabilities q, torch's probability targets): both kernels optionally take
// a rows×ld block `soft` (row r's entry for global column col holds q[r·ld + col]). row_stats then
// adds Σ weight[col]·q·v to the row's t field (the tile's targets are all −1, so t is never
// overwritten), and softmax_grad replaces the −b·[col = target] term by −b·weight[col]·q.
//
// Accumulation is in double whatever T is. Threads split the rows in row_stats and the columns in
// softmax_grad (so the column sums need no merge); either way each number is reduced by one
// thread in a fixed order, and results are bitwise identical for any thread count.
//
// Nothing here validates, and nothing throws but std::bad_alloc for the per-thread row buffers:
// NaN or inf logits (or a row of only −inf) give a non-finite lse, which the Python layer reports.
// exp is simd::exp_fast (a vectorizable polynomial, relative error < 2^-52), not libm's. Reads stay within z[0, rows·cols), targets[0, rows), state[0, rows·kFields),
// coef[0, rows·3), lse[0, rows), bias/weight/dbias[col0, col0 + cols) and soft[0, rows·ld)
// (ld >= col0 + cols).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "infokit/parallel.hpp"
#include "infokit/simd/dispatch.hpp"
#include "infokit/simd/exp.hpp"

// The selects in exp_fast (and the clamps around it) vectorize only without -ftrapping-math
// (see simd/dispatch.hpp).
INFOKIT_SIMD_NO_TRAPPING_MATH_BEGIN

namespace infokit::losses {

inline constexpr std::size_t kGrain = 1 << 14;  // tile entries per thread before threads pay off

// Layout of one row of the running state.
enum Field : std::size_t { kMax = 0, kSum = 1, kShiftedSum = 2, kWeightedSum = 3, kTarget = 4, kFields = 5 };

namespace detail {

inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Hot row loops get an AVX2 clone beside the baseline one (INFOKIT_SIMD_CLONES) and are
// vectorized with `omp simd` (exp_fast's selects defeat the auto-vectorizer). Vector reductions
// sum in an order that depends on the vector width, so the last bits of a sum may differ between
// CPUs; never between thread counts on one CPU.
using simd::exp_fast;

// c·tanh(x/c) through exp_fast: tanh(y) = sign(y)·(1 − e^{−2|y|})/(1 + e^{−2|y|}).
inline double softcap_fast(double x, double c) {
  const double y = x / c;
  const double ay = y < 0.0 ? -y : y;
  const double e = exp_fast(-2.0 * ay);
  const double th = (1.0 - e) / (1.0 + e);
  return c * (y < 0.0 ? -th : th);
}

// v[j] = cap(z[j] + bias[j]) in double (bias already offset to the tile's first column).
template <class T>
INFOKIT_SIMD_CLONES void transform_row(const T* z, const T* bias, double softcap, double* v,
                                         std::size_t cols) {
  if (bias != nullptr) {
    for (std::size_t j = 0; j < cols; ++j) v[j] = static_cast<double>(z[j]) + static_cast<double>(bias[j]);
  } else {
    for (std::size_t j = 0; j < cols; ++j) v[j] = static_cast<double>(z[j]);
  }
  if (softcap != 0.0) {
    INFOKIT_OMP_SIMD()
    for (std::size_t j = 0; j < cols; ++j) v[j] = softcap_fast(v[j], softcap);
  }
}

// The largest entry of v (a NaN may or may not win; it reaches the sums either way). U is
// double (a transformed row) or the tile's own type (an untransformed one, read in place).
template <class U>
INFOKIT_SIMD_CLONES double row_max(const U* v, std::size_t cols) {
  double m = kNegInf;
  INFOKIT_OMP_SIMD(reduction(max : m))
  for (std::size_t j = 0; j < cols; ++j) {
    const double x = static_cast<double>(v[j]);
    m = x > m ? x : m;
  }
  return m;
}

struct RowSums {
  double e = 0.0, ed = 0.0, wv = 0.0;  // Σe^{v−m}, Σe^{v−m}(v−m), Σ weight·v
};

// The three sums of one row segment around the max m (m > −inf). Every pointer is valid (the
// caller passes ones for absent class weights), so the loop has no conditional loads.
template <class U>
INFOKIT_SIMD_CLONES RowSums row_sums(const U* v, std::size_t cols, double m,
                                       const double* weight) {
  double se = 0.0, sed = 0.0, swv = 0.0;
  INFOKIT_OMP_SIMD(reduction(+ : se, sed, swv))
  for (std::size_t j = 0; j < cols; ++j) {
    const double x = static_cast<double>(v[j]);
    const double d = x - m;
    const double e = exp_fast(d);
    se += e;
    sed += e > 0.0 ? e * d : (e == e ? 0.0 : e);  // 0·(−inf) of a masked logit is 0; NaN stays
    swv += weight[j] * x;
  }
  return {se, sed, swv};
}

// Folds one transformed row segment v into that row's state (weight: see row_sums).
template <class U>
void fold_row(const U* v, std::size_t cols, std::size_t col0, std::int64_t target,
                     const double* weight, double* st) {
  const double m_old = st[kMax];
  const double m = std::max(m_old, row_max(v, cols));
  double s = st[kSum], u = st[kShiftedSum];
  if (s > 0.0 && m > m_old) {  // rescale the old sums to the new max
    const double scale = std::exp(m_old - m);
    u = (u + (m_old - m) * s) * scale;
    s *= scale;
  }
  RowSums sums;
  if (m > kNegInf) {
    sums = row_sums(v, cols, m, weight);
  } else {  // every logit so far is −inf (or NaN): only the weighted sum moves
    for (std::size_t j = 0; j < cols; ++j) sums.wv += weight[j] * static_cast<double>(v[j]);
  }
  st[kMax] = m;
  st[kSum] = s + sums.e;
  st[kShiftedSum] = u + sums.ed;
  st[kWeightedSum] += sums.wv;
  if (target >= 0 && static_cast<std::uint64_t>(target) >= col0 &&
      static_cast<std::uint64_t>(target) < col0 + cols)
    st[kTarget] = static_cast<double>(v[static_cast<std::size_t>(target) - col0]);
}

// Over one row segment of transformed values v: g = (a·e^{v−l} − c·w)·cap′ written to z, added
// to col_sum; returns max |g|. inv_cap = 1/softcap, or 0 without one (then cap′ = 1). The
// target's −b is patched by the caller. Every pointer is valid (see row_sums).
template <class U, class T>
INFOKIT_SIMD_CLONES double grad_row(const U* v, T* z, std::size_t cols, const double* weight,
                                      double inv_cap, double l, double a, double c,
                                      double* col_sum) {
  double max_abs = 0.0;
  INFOKIT_OMP_SIMD(reduction(max : max_abs))
  for (std::size_t j = 0; j < cols; ++j) {
    const double x = static_cast<double>(v[j]);  // read before z[j] is written (v may be z)
    const double th = x * inv_cap;
    const double g = (a * exp_fast(x - l) - c * weight[j]) * (1.0 - th * th);
    z[j] = static_cast<T>(g);
    col_sum[j] += g;
    const double ag = g < 0.0 ? -g : g;
    max_abs = ag > max_abs ? ag : max_abs;
  }
  return max_abs;
}

// Σ weight[j]·q[j]·v[j] over one row segment (soft targets), in double.
template <class U, class T>
INFOKIT_SIMD_CLONES double soft_dot(const U* v, const T* q, const double* weight,
                                      std::size_t cols) {
  double sum = 0.0;
  INFOKIT_OMP_SIMD(reduction(+ : sum))
  for (std::size_t j = 0; j < cols; ++j)
    sum += weight[j] * static_cast<double>(q[j]) * static_cast<double>(v[j]);
  return sum;
}

// grad_row with soft targets: g = (a·e^{v−l} − (c + b·q)·w)·cap′ (no target patch afterwards).
template <class U, class T>
INFOKIT_SIMD_CLONES double grad_row_soft(const U* v, T* z, const T* q, std::size_t cols,
                                           const double* weight, double inv_cap, double l,
                                           double a, double b, double c, double* col_sum) {
  double max_abs = 0.0;
  INFOKIT_OMP_SIMD(reduction(max : max_abs))
  for (std::size_t j = 0; j < cols; ++j) {
    const double x = static_cast<double>(v[j]);  // read before z[j] is written (v may be z)
    const double th = x * inv_cap;
    const double pull = (c + b * static_cast<double>(q[j])) * weight[j];
    const double g = (a * exp_fast(x - l) - pull) * (1.0 - th * th);
    z[j] = static_cast<T>(g);
    col_sum[j] += g;
    const double ag = g < 0.0 ? -g : g;
    max_abs = ag > max_abs ? ag : max_abs;
  }
  return max_abs;
}

}  // namespace detail

// Folds a tile into the running state of its rows (see the header comment). When
// `write_transformed`, the transformed values v replace z, so that a later
// softmax_grad(..., already_transformed=true) need not recompute the softcap.
template <class T>
void row_stats(T* z, bool write_transformed, std::size_t rows, std::size_t cols, std::size_t col0,
               const std::int64_t* targets, const T* bias, const double* weight, double softcap,
               double* state, int n_threads, const T* soft = nullptr, std::size_t soft_ld = 0) {
  const int nt = std::min<int>(threads_for(rows * cols, n_threads, kGrain),
                               static_cast<int>(std::max<std::size_t>(rows, 1)));
  const T* b = bias != nullptr ? bias + col0 : nullptr;
  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [rb, re] = part_range(rows, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
    std::vector<double> v(b != nullptr || softcap != 0.0 ? cols : 0), ones(weight == nullptr ? cols : 0, 1.0);
    const double* w = weight != nullptr ? weight + col0 : ones.data();
    for (std::size_t r = rb; r < re; ++r) {
      T* zr = z + r * cols;
      double* st = state + r * kFields;
      const T* q = soft != nullptr ? soft + r * soft_ld + col0 : nullptr;
      if (b == nullptr && softcap == 0.0) {  // nothing to transform: read the tile in place
        detail::fold_row(zr, cols, col0, targets[r], w, st);
        if (q != nullptr) st[kTarget] += detail::soft_dot(zr, q, w, cols);
        continue;
      }
      detail::transform_row(zr, b, softcap, v.data(), cols);
      if (write_transformed)
        for (std::size_t j = 0; j < cols; ++j) zr[j] = static_cast<T>(v[j]);
      detail::fold_row(v.data(), cols, col0, targets[r], w, st);
      if (q != nullptr) st[kTarget] += detail::soft_dot(v.data(), q, w, cols);
    }
  });
}

// Overwrites the tile z with the gradient (see the header comment) and returns the largest |g|
// written (for the opt-in filtering of negligible tiles). `already_transformed` says z holds v
// (from row_stats) rather than raw logits. coef holds (a, b, c) per row; dbias may be null.
template <class T>
double softmax_grad(T* z, std::size_t rows, std::size_t cols, std::size_t col0,
                    const std::int64_t* targets, const T* bias, const double* weight, double softcap,
                    bool already_transformed, const double* lse, const double* coef, double* dbias,
                    int n_threads, const T* soft = nullptr, std::size_t soft_ld = 0) {
  const int nt = std::min<int>(threads_for(rows * cols, n_threads, kGrain),
                               static_cast<int>(std::max<std::size_t>(cols, 1)));
  std::vector<double> part_max(static_cast<std::size_t>(nt), 0.0);
  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [cb, ce] = part_range(cols, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
    const std::size_t width = ce - cb;
    std::vector<double> v(bias != nullptr || softcap != 0.0 ? width : 0), col_sum(width, 0.0);
    std::vector<double> ones(weight == nullptr ? width : 0, 1.0);
    const T* b = bias != nullptr && !already_transformed ? bias + col0 + cb : nullptr;
    const double* w = weight != nullptr ? weight + col0 + cb : ones.data();
    const double cap = already_transformed ? 0.0 : softcap;  // the softcap still to apply
    const double inv_cap = softcap != 0.0 ? 1.0 / softcap : 0.0;
    double max_abs = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
      T* zr = z + r * cols + cb;
      const double a = coef[3 * r], bb = coef[3 * r + 1], c = coef[3 * r + 2];
      if (a == 0.0 && bb == 0.0 && c == 0.0) {
        std::fill(zr, zr + width, T(0));
        continue;
      }
      const std::int64_t target = targets[r];
      const bool has_target = target >= 0 && static_cast<std::uint64_t>(target) >= col0 + cb &&
                              static_cast<std::uint64_t>(target) < col0 + ce;
      const std::size_t jt = has_target ? static_cast<std::size_t>(target) - col0 - cb : 0;
      double target_v = 0.0, row_max_abs;
      if (soft != nullptr) {  // soft targets: the pull b·w·q is inside the row loop
        const T* q = soft + r * soft_ld + col0 + cb;
        const T* vr = zr;
        if (b != nullptr || cap != 0.0) {
          detail::transform_row(zr, b, cap, v.data(), width);
          row_max_abs = detail::grad_row_soft(v.data(), zr, q, width, w, inv_cap, lse[r], a, bb, c,
                                              col_sum.data());
        } else {
          row_max_abs = detail::grad_row_soft(vr, zr, q, width, w, inv_cap, lse[r], a, bb, c,
                                              col_sum.data());
        }
        max_abs = std::max(max_abs, row_max_abs);
        continue;
      }
      if (b == nullptr && cap == 0.0) {  // z already holds v: read it in place
        if (has_target) target_v = static_cast<double>(zr[jt]);
        row_max_abs = detail::grad_row(zr, zr, width, w, inv_cap, lse[r], a, c, col_sum.data());
      } else {
        detail::transform_row(zr, b, cap, v.data(), width);
        if (has_target) target_v = v[jt];
        row_max_abs = detail::grad_row(v.data(), zr, width, w, inv_cap, lse[r], a, c, col_sum.data());
      }
      max_abs = std::max(max_abs, row_max_abs);
      if (has_target) {  // patch −b·cap′ at the target
        const double th = target_v * inv_cap;
        const double fix = bb * (1.0 - th * th);
        const double g = static_cast<double>(zr[jt]) - fix;
        zr[jt] = static_cast<T>(g);
        col_sum[jt] -= fix;
        max_abs = std::max(max_abs, std::fabs(g));
      }
    }
    if (dbias != nullptr)
      for (std::size_t j = 0; j < width; ++j) dbias[col0 + cb + j] += col_sum[j];
    part_max[static_cast<std::size_t>(t)] = max_abs;
  });
  double max_abs = 0.0;
  for (double x : part_max) max_abs = std::max(max_abs, x);
  return max_abs;
}

}  // namespace infokit::losses

INFOKIT_SIMD_NO_TRAPPING_MATH_END
