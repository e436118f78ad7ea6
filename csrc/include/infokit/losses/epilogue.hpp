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
// Accumulation is in double whatever T is. Threads split the rows in row_stats and the columns in
// softmax_grad (so the column sums need no merge); either way each number is reduced by one
// thread in a fixed order, and results are bitwise identical for any thread count.
//
// Nothing here validates or throws: NaN or inf logits give a NaN lse, which the Python layer
// reports. Reads stay within z[0, rows·cols), targets[0, rows), state[0, rows·kFields),
// coef[0, rows·3), lse[0, rows) and bias/weight/dbias[col0, col0 + cols).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "infokit/parallel.hpp"

namespace infokit::losses {

inline constexpr std::size_t kGrain = 1 << 14;  // tile entries per thread before threads pay off

// Layout of one row of the running state.
enum Field : std::size_t { kMax = 0, kSum = 1, kShiftedSum = 2, kWeightedSum = 3, kTarget = 4, kFields = 5 };

namespace detail {

inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The transform shared by both kernels: v = cap(z + bias).
template <class T>
struct Transform {
  const T* bias;   // global column → bias, or nullptr
  double softcap;  // 0 = none

  bool identity() const { return bias == nullptr && softcap == 0.0; }

  double operator()(T z, std::size_t col) const {
    double x = static_cast<double>(z);
    if (bias != nullptr) x += static_cast<double>(bias[col]);
    return softcap == 0.0 ? x : softcap * std::tanh(x / softcap);
  }
};

// Folds the values v(0..cols-1) of one row segment into that row's state.
template <class Value>
void fold_row(const Value& v, std::size_t cols, std::size_t col0, std::int64_t target,
              const double* weight, double* st) {
  double tile_max = kNegInf;
  for (std::size_t j = 0; j < cols; ++j) tile_max = std::max(tile_max, v(j));
  // NaN never wins std::max; make it reach the state so that the row's lse becomes NaN.
  const double m_old = st[kMax];
  const double m = std::max(m_old, tile_max);
  double s = st[kSum], u = st[kShiftedSum];
  if (s > 0.0 && m > m_old) {  // rescale the old sums to the new max
    const double scale = std::exp(m_old - m);
    u = (u + (m_old - m) * s) * scale;
    s *= scale;
  }
  double sum_e = 0.0, sum_ed = 0.0, sum_w = 0.0;
  const bool finite_max = m > kNegInf;
  for (std::size_t j = 0; j < cols; ++j) {
    const double x = v(j);
    if (finite_max) {
      const double d = x - m;
      const double e = std::exp(d);
      sum_e += e;
      if (e > 0.0 || e != e) sum_ed += e * d;  // skip 0·(−inf) of masked logits, keep NaN
    }
    sum_w += (weight != nullptr ? weight[col0 + j] : 1.0) * x;
  }
  st[kMax] = m;
  st[kSum] = s + sum_e;
  st[kShiftedSum] = u + sum_ed;
  st[kWeightedSum] += sum_w;
  if (target >= 0 && static_cast<std::uint64_t>(target) >= col0 &&
      static_cast<std::uint64_t>(target) < col0 + cols)
    st[kTarget] = v(static_cast<std::size_t>(target) - col0);
}

}  // namespace detail

// Folds a tile into the running state of its rows (see the header comment). When `transformed`
// is not null, the transformed values v are also written there (it may be z itself), so that a
// later softmax_grad(..., already_transformed=true) need not recompute tanh.
template <class T>
void row_stats(const T* z, T* transformed, std::size_t rows, std::size_t cols, std::size_t col0,
               const std::int64_t* targets, const T* bias, const double* weight, double softcap,
               double* state, int n_threads) {
  const detail::Transform<T> f{bias, softcap};
  const int nt = std::min<int>(threads_for(rows * cols, n_threads, kGrain),
                               static_cast<int>(std::max<std::size_t>(rows, 1)));
  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [rb, re] = part_range(rows, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
    std::vector<double> scratch;  // the transformed row, so tanh runs once per entry
    if (!f.identity()) scratch.resize(cols);
    for (std::size_t r = rb; r < re; ++r) {
      const T* zr = z + r * cols;
      double* st = state + r * kFields;
      if (f.identity()) {
        if (transformed != nullptr && transformed != z) std::copy(zr, zr + cols, transformed + r * cols);
        detail::fold_row([zr](std::size_t j) { return static_cast<double>(zr[j]); }, cols, col0,
                         targets[r], weight, st);
      } else {
        for (std::size_t j = 0; j < cols; ++j) scratch[j] = f(zr[j], col0 + j);
        if (transformed != nullptr) {
          T* out = transformed + r * cols;
          for (std::size_t j = 0; j < cols; ++j) out[j] = static_cast<T>(scratch[j]);
        }
        const double* sr = scratch.data();
        detail::fold_row([sr](std::size_t j) { return sr[j]; }, cols, col0, targets[r], weight, st);
      }
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
                    int n_threads) {
  const detail::Transform<T> f{already_transformed ? nullptr : bias,
                               already_transformed ? 0.0 : softcap};
  const int nt = std::min<int>(threads_for(rows * cols, n_threads, kGrain),
                               static_cast<int>(std::max<std::size_t>(cols, 1)));
  std::vector<double> part_max(static_cast<std::size_t>(nt), 0.0);
  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [cb, ce] = part_range(cols, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
    std::vector<double> col_sum(dbias != nullptr ? ce - cb : 0, 0.0);
    double max_abs = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
      T* zr = z + r * cols;
      const double a = coef[3 * r], b = coef[3 * r + 1], c = coef[3 * r + 2];
      if (a == 0.0 && b == 0.0 && c == 0.0) {
        std::fill(zr + cb, zr + ce, T(0));
        continue;
      }
      const double l = lse[r];
      const std::int64_t target = targets[r];
      for (std::size_t j = cb; j < ce; ++j) {
        const std::size_t col = col0 + j;
        const double v = f(zr[j], col);
        double g = a * std::exp(v - l);
        if (c != 0.0) g -= c * (weight != nullptr ? weight[col] : 1.0);
        if (static_cast<std::int64_t>(col) == target) g -= b;
        if (softcap != 0.0) {
          const double th = v / softcap;
          g *= 1.0 - th * th;
        }
        zr[j] = static_cast<T>(g);
        if (dbias != nullptr) col_sum[j - cb] += g;
        max_abs = std::max(max_abs, std::fabs(g));
      }
    }
    if (dbias != nullptr)
      for (std::size_t j = cb; j < ce; ++j) dbias[col0 + j] += col_sum[j - cb];
    part_max[static_cast<std::size_t>(t)] = max_abs;
  });
  double max_abs = 0.0;
  for (double x : part_max) max_abs = std::max(max_abs, x);
  return max_abs;
}

}  // namespace infokit::losses
