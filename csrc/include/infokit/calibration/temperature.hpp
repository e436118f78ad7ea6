// Sums for temperature scaling by Newton's method on beta = 1/T. For logits z_i and labels y_i,
// with p = softmax(beta z_i):
//   nll_i(beta)   = log sum_j exp(beta z_ij) - beta z_iy,          (convex in beta)
//   d nll_i/dbeta = E_p[z_i] - z_iy,
//   d2 nll_i/dbeta2 = Var_p[z_i] >= 0.
// All three are accumulated in double (std::exp in double, whatever T is), shifted by the row
// maximum so nothing overflows; the variance uses shifted values, which keeps it accurate.
//
// Determinism: rows are cut into parts whose number depends on the data size only, each part's
// sums are merged in part order, so the sums are bitwise identical for any thread count.
// The kernel does not validate (infokit.calibration does); it reads x[0, rows*m) and labels[0,
// rows) only. Nothing here throws.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/calibration/bins.hpp"
#include "infokit/parallel.hpp"

namespace infokit::calibration {

struct NewtonSums {
  double nll = 0.0, gradient = 0.0, hessian = 0.0;
};

template <class T>
NewtonSums temperature_sums(const T* x, std::size_t rows, std::size_t m, const std::int64_t* labels,
                            double beta, int n_threads) {
  NewtonSums total;
  if (m == 0 || rows == 0) return total;
  const std::size_t parts = std::min<std::size_t>(detail::parts_for(rows * m), rows);
  std::vector<NewtonSums> partial(parts);
  parallel_for(static_cast<std::int64_t>(parts), n_threads, [&](std::int64_t t) {
    const auto [b0, e0] = part_range(rows, parts, static_cast<std::size_t>(t));
    NewtonSums acc;
    for (std::size_t r = b0; r < e0; ++r) {
      const T* row = x + r * m;
      const double zmax = static_cast<double>(detail::row_max_fast(row, m));
      double s = 0.0, u = 0.0, v = 0.0;  // sums of e, e*d, e*d^2 with d = z - zmax <= 0
      for (std::size_t j = 0; j < m; ++j) {
        const double d = static_cast<double>(row[j]) - zmax;
        const double e = std::exp(beta * d);
        s += e;
        u += e * d;
        v += e * d * d;
      }
      const double mean = u / s;
      const std::int64_t y = labels[r];
      if (y < 0 || static_cast<std::size_t>(y) >= m)
        continue;  // validated in Python; stay in bounds
      const double dy = static_cast<double>(row[y]) - zmax;
      acc.nll += std::log(s) - beta * dy;
      acc.gradient += mean - dy;
      acc.hessian += std::fmax(v / s - mean * mean, 0.0);
    }
    partial[static_cast<std::size_t>(t)] = acc;
  });
  for (const NewtonSums& p : partial) {
    total.nll += p.nll;
    total.gradient += p.gradient;
    total.hessian += p.hessian;
  }
  return total;
}

}  // namespace infokit::calibration
