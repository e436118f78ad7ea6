// Multiple-choice knapsack by dynamic programming over a discretised budget (L-GreCo, P26).
//
// Layer l offers levels offsets[l] .. offsets[l+1]-1, each with an error (double) and a size in
// whole budget units (int64 >= 0). Choose exactly one level per layer minimising the total error
// with total size <= capacity. best[b] is the least error of the layers so far within b units;
// a layer's pass sets new[b] = min_c best[b - units_c] + error_c. The capacities b of one pass
// are independent, so they split across threads; each b is computed the same way whatever the
// split (levels in ascending order, strict <: ties keep the lower level), so the result does not
// depend on the thread count. O(L · C · capacity) time, O(L · capacity) int32 choices.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "infokit/parallel.hpp"

namespace infokit::lowrank {

namespace detail {

// One level's pass over capacities [lo, hi): out[b] = min(out[b], prev[b - u] + e), recording the
// level where it improves. Branch-free and alias-free so it vectorises; GCC on x86-64 also builds
// an AVX2 clone chosen at load time (4x the SSE2 baseline here), the wheel stays portable.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
inline void relax(const double* __restrict prev, double* __restrict out,
                  std::int32_t* __restrict choice, std::size_t lo, std::size_t hi, std::size_t u,
                  double e, std::int32_t level) {
  for (std::size_t b = lo; b < hi; ++b) {
    const double cand = prev[b - u] + e;
    const bool better = cand < out[b];
    out[b] = better ? cand : out[b];
    choice[b] = better ? level : choice[b];
  }
}

}  // namespace detail

enum class KnapsackStatus : int { ok = 0, infeasible = 1, bad_input = 2, no_memory = 3 };

// levels: n_layers outputs (the chosen level's index within its layer). total_error: output.
inline KnapsackStatus knapsack_dp(const double* errors, const std::int64_t* units,
                                  const std::int64_t* offsets, std::int64_t n_layers,
                                  std::int64_t capacity, std::int64_t* levels,
                                  double* total_error, int n_threads) {
  const double inf = std::numeric_limits<double>::infinity();
  *total_error = inf;
  if (n_layers < 1 || capacity < 0 || offsets[0] != 0) return KnapsackStatus::bad_input;
  for (std::int64_t l = 0; l < n_layers; ++l) {
    if (offsets[l + 1] <= offsets[l]) return KnapsackStatus::bad_input;
    for (std::int64_t c = offsets[l]; c < offsets[l + 1]; ++c)
      if (units[c] < 0 || errors[c] != errors[c]) return KnapsackStatus::bad_input;
  }
  const std::size_t width = static_cast<std::size_t>(capacity) + 1;
  std::vector<double> best, next;
  std::vector<std::int32_t> choices;
  try {
    best.assign(width, 0.0);
    next.assign(width, inf);
    choices.assign(static_cast<std::size_t>(n_layers) * width, -1);
  } catch (const std::bad_alloc&) {
    return KnapsackStatus::no_memory;
  }
  // A layer's pass costs capacity x levels; below ~2^20 cells per thread the fork/join costs
  // more than it saves (an OpenMP barrier per layer on a loaded machine).
  const std::size_t grain = std::size_t{1} << 20;
  for (std::int64_t l = 0; l < n_layers; ++l) {
    const std::int64_t first = offsets[l], n_levels = offsets[l + 1] - offsets[l];
    std::int32_t* choice = choices.data() + static_cast<std::size_t>(l) * width;
    const double* prev = best.data();
    double* out = next.data();
    const std::size_t cells = width * static_cast<std::size_t>(n_levels);
    const std::int64_t parts = std::min<std::int64_t>(
        threads_for(cells, n_threads, grain), static_cast<std::int64_t>(width));
    parallel_for(parts, static_cast<int>(parts), [&](std::int64_t part) {
      const auto range =
          part_range(width, static_cast<std::size_t>(parts), static_cast<std::size_t>(part));
      for (std::size_t b = range.first; b < range.second; ++b) {
        out[b] = inf;
        choice[b] = -1;
      }
      // Levels outside, capacities inside: a contiguous loop the compiler vectorises.
      for (std::int64_t c = 0; c < n_levels; ++c) {
        const std::size_t u = static_cast<std::size_t>(units[first + c]);
        const std::size_t lo = std::max(range.first, u);
        if (lo < range.second)
          detail::relax(prev, out, choice, lo, range.second, u, errors[first + c],
                        static_cast<std::int32_t>(c));
      }
    });
    best.swap(next);
  }
  if (!(best[width - 1] < inf)) return KnapsackStatus::infeasible;
  *total_error = best[width - 1];
  std::size_t b = width - 1;
  for (std::int64_t l = n_layers - 1; l >= 0; --l) {
    const std::int32_t pick = choices[static_cast<std::size_t>(l) * width + b];
    levels[l] = pick;
    b -= static_cast<std::size_t>(units[offsets[l] + pick]);
  }
  return KnapsackStatus::ok;
}

}  // namespace infokit::lowrank
