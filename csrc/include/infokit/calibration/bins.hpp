// Per-bin accumulation for calibration errors and reliability diagrams.
//
// Bins are given by B + 1 ascending edges e_0 <= ... <= e_B. A value c goes to bin
//   b(c) = #{k in 1..B-1 : e_k <= c},
// so bins are [e_k, e_{k+1}) closed on the left, and the LAST bin [e_{B-1}, e_B] is also closed on
// the right: a confidence of exactly 1.0 lands in bin B-1 (torchmetrics puts it in an extra bin).
// Values outside [e_0, e_B] fall in the first or last bin. For uniform edges (e_k = k/B, computed
// by the caller in double) the index is found directly from c*B and corrected against the edges,
// so both routes give the same bin.
//
// Determinism: the samples are cut into at most kMaxParts parts whose number depends on the data
// size only (never on n_threads); counts and outcome sums are integers, and each part's confidence
// sums are merged in part order, so the result is bitwise identical for any thread count.
//
// The kernels do not validate (infokit.calibration does). They read only their inputs' stated
// ranges and write only the B (or classes*B) output cells. Nothing here throws.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/calibration/top_label.hpp"
#include "infokit/parallel.hpp"

namespace infokit::calibration {

inline constexpr std::size_t kMaxParts = 64;

// Bin index of c among edges[0..n_bins] (see the header comment).
inline std::size_t bin_of(double c, const double* edges, std::size_t n_bins, bool uniform) {
  if (uniform) {
    const double guess = c * static_cast<double>(n_bins);
    // NaN and values below 0 go to 0, values at or past n_bins to the last bin, before any cast.
    std::size_t b = !(guess > 0.0)                             ? 0
                    : guess >= static_cast<double>(n_bins - 1) ? n_bins - 1
                                                               : static_cast<std::size_t>(guess);
    while (b > 0 && c < edges[b]) --b;
    while (b + 1 < n_bins && c >= edges[b + 1]) ++b;
    return b;
  }
  return static_cast<std::size_t>(std::upper_bound(edges + 1, edges + n_bins, c) - (edges + 1));
}

namespace detail {

inline std::size_t parts_for(std::size_t work) {
  return std::max<std::size_t>(1, std::min<std::size_t>(kMaxParts, work / kGrain));
}

}  // namespace detail

// Top-label bins: count[b], hits[b] = sum of correct, conf_sum[b] = sum of confidence.
inline void bin_stats(const double* confidence, const std::uint8_t* correct, std::size_t n,
                      const double* edges, std::size_t n_bins, bool uniform, std::int64_t* count,
                      std::int64_t* hits, double* conf_sum, int n_threads) {
  if (n_bins == 0) return;
  const std::size_t parts = detail::parts_for(n);
  std::vector<std::int64_t> pc(parts * n_bins, 0), ph(parts * n_bins, 0);
  std::vector<double> ps(parts * n_bins, 0.0);
  parallel_for(static_cast<std::int64_t>(parts), n_threads, [&](std::int64_t t) {
    const auto [b0, e0] = part_range(n, parts, static_cast<std::size_t>(t));
    std::int64_t* c = pc.data() + static_cast<std::size_t>(t) * n_bins;
    std::int64_t* h = ph.data() + static_cast<std::size_t>(t) * n_bins;
    double* s = ps.data() + static_cast<std::size_t>(t) * n_bins;
    for (std::size_t i = b0; i < e0; ++i) {
      const std::size_t b = bin_of(confidence[i], edges, n_bins, uniform);
      c[b] += 1;
      h[b] += correct[i] ? 1 : 0;
      s[b] += confidence[i];
    }
  });
  for (std::size_t b = 0; b < n_bins; ++b) {
    count[b] = 0;
    hits[b] = 0;
    conf_sum[b] = 0.0;
  }
  for (std::size_t t = 0; t < parts; ++t) {
    for (std::size_t b = 0; b < n_bins; ++b) {
      count[b] += pc[t * n_bins + b];
      hits[b] += ph[t * n_bins + b];
      conf_sum[b] += ps[t * n_bins + b];
    }
  }
}

// Class-wise bins (one reliability histogram per class k, outcome 1[label == k], score p_k), each
// class over the same edges. Outputs are (classes, n_bins), row-major. From logits the
// probabilities exp(z - lse) are formed one row at a time and never stored.
template <class T>
void classwise_bin_stats(const T* x, std::size_t rows, std::size_t m, bool from_logits,
                         const std::int64_t* labels, const double* edges, std::size_t n_bins,
                         bool uniform, std::int64_t* count, std::int64_t* hits, double* prob_sum,
                         int n_threads) {
  if (n_bins == 0 || m == 0) return;
  const std::size_t cells = m * n_bins;
  // Each part holds its own (classes x bins) tables: cap their total at ~2^22 cells (100 MB) so
  // that a large vocabulary cannot blow up memory; the cap depends on the sizes only.
  const std::size_t by_memory = std::max<std::size_t>(1, (std::size_t{1} << 22) / cells);
  const std::size_t parts =
      std::min({detail::parts_for(rows * m), std::max<std::size_t>(rows, 1), by_memory});
  std::vector<std::int64_t> pc(parts * cells, 0), ph(parts * cells, 0);
  std::vector<double> ps(parts * cells, 0.0);
  parallel_for(static_cast<std::int64_t>(parts), n_threads, [&](std::int64_t t) {
    const auto [b0, e0] = part_range(rows, parts, static_cast<std::size_t>(t));
    std::int64_t* c = pc.data() + static_cast<std::size_t>(t) * cells;
    std::int64_t* h = ph.data() + static_cast<std::size_t>(t) * cells;
    double* s = ps.data() + static_cast<std::size_t>(t) * cells;
    std::vector<double> p(m);
    for (std::size_t r = b0; r < e0; ++r) {
      const T* row = x + r * m;
      if (from_logits) {
        const T top = detail::row_max_fast(row, m);
        double sum = 1.0, unused = 0.0;
        detail::exp_sums_fast(row, m, top, false, sum, unused);
        const double inv = 1.0 / sum;
        for (std::size_t k = 0; k < m; ++k) {
          p[k] = static_cast<double>(detail::exp_nonpositive(static_cast<T>(row[k] - top))) * inv;
        }
      } else {
        for (std::size_t k = 0; k < m; ++k) p[k] = row[k];
      }
      const std::int64_t y = labels[r];  // out of range: no class gets the outcome
      for (std::size_t k = 0; k < m; ++k) {
        const std::size_t cell = k * n_bins + bin_of(p[k], edges, n_bins, uniform);
        c[cell] += 1;
        h[cell] += static_cast<std::int64_t>(k) == y ? 1 : 0;
        s[cell] += p[k];
      }
    }
  });
  for (std::size_t i = 0; i < cells; ++i) {
    count[i] = 0;
    hits[i] = 0;
    prob_sum[i] = 0.0;
  }
  for (std::size_t t = 0; t < parts; ++t) {
    for (std::size_t i = 0; i < cells; ++i) {
      count[i] += pc[t * cells + i];
      hits[i] += ph[t * cells + i];
      prob_sum[i] += ps[t * cells + i];
    }
  }
}

}  // namespace infokit::calibration
