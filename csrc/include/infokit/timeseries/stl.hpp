// STL: seasonal-trend decomposition by LOESS (Cleveland, Cleveland, McRae and Terpenning 1990,
// "STL: A Seasonal-Trend Decomposition Procedure Based on Loess", J. Official Statistics 6(1)).
//
// One series per row of a C-contiguous (rows, n) table; rows are independent and shared out among
// threads (each row is decomposed by one thread, so results do not depend on the thread count).
//
// The procedure, per row (inner loop run `inner` times, then `outer` robustness passes):
//   1. detrend: y - trend;
//   2. cycle-subseries smoothing: each of the `period` phase subseries is LOESS-smoothed (window
//      `seasonal`) and extended by one point at each end, giving C of length n + 2 * period;
//   3. low-pass of C: moving averages of length period, period, 3, then LOESS (window `low_pass`);
//   4. seasonal = C[period : period + n] - low-pass;
//   5. trend = LOESS (window `trend`) of y - seasonal.
// Robustness weights are bisquare in |y - seasonal - trend| / (6 * median |.|).
//
// LOESS here is local linear (degree 1) or local constant (degree 0) with tricube weights over the
// `len` nearest points; "jump" evaluates every jump-th point and interpolates linearly between.
// The steps follow the authors' reference Fortran (netlib stl), so results agree with
// implementations derived from it (statsmodels) to rounding.
//
// The kernel does not validate: the Python layer checks odd windows >= 3, window > period where
// required, period >= 2, n >= 2 * period and finite values. It reads only x[0, rows*n) and writes
// only the three outputs [0, rows*n). Nothing here throws except std::bad_alloc, which
// parallel_for carries out to the binding.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/parallel.hpp"

namespace infokit::timeseries {

struct StlParams {
  int period;
  int seasonal;
  int trend;
  int low_pass;
  int seasonal_deg;
  int trend_deg;
  int low_pass_deg;
  int seasonal_jump;
  int trend_jump;
  int low_pass_jump;
  int inner;
  int outer;
};

namespace detail {

// Tricube weights (1 - (r/h)^3)^3 of the integer distances r = 0, 1, ... from the target, with
// the reference code's cut-offs (1 within 0.001 h, 0 beyond 0.999 h). Recomputed only when h
// changes: inside a series every window has the same h, so the cubes are formed once per pass.
class Tricube {
 public:
  const double* weights(double h) {
    if (h != h_) {
      h_ = h;
      const double h9 = 0.999 * h, h1 = 0.001 * h;
      const int count = static_cast<int>(h) + 2;
      w_.assign(static_cast<std::size_t>(count), 0.0);
      for (int r = 0; r < count; ++r) {
        if (r > h9) break;
        if (r <= h1) {
          w_[r] = 1.0;
        } else {
          const double q = r / h;
          const double c = 1.0 - q * q * q;
          w_[r] = c * c * c;
        }
      }
      symmetric_sum_ = w_[0];
      for (int r = 1; r < count; ++r) symmetric_sum_ += 2.0 * w_[r];
    }
    return w_.data();
  }
  // Sum of the weights over the symmetric window [-h, h] (call weights(h) first).
  double symmetric_sum() const { return symmetric_sum_; }

 private:
  double h_ = -1.0;
  double symmetric_sum_ = 0.0;
  std::vector<double> w_;
};

// LOESS estimate at abscissa xs (1-based) from y[nleft-1 .. nright-1].
// Returns false when every weight is zero (the caller then keeps a neighbouring value).
//
// The reference code normalises the weights, then makes three more passes for the weighted mean
// position a, the spread c and the local-linear correction w_j *= 1 + (xs - a)(j - a) / c. The same
// estimate follows from five weighted sums taken in one pass, in positions d = j - xs centred on
// the target (which keeps the sums small and the subtraction in c well conditioned):
//   S0 = sum w, S1 = sum w d, S2 = sum w d^2, Sy = sum w y, Sdy = sum w d y,
//   a = S1/S0, c = S2/S0 - a^2, estimate = Sy/S0 - a/c * (Sdy/S0 - a Sy/S0).
// A window centred on the target without robustness weights has a = 0 exactly, so the estimate
// is the weighted mean Sy/S0 whatever the degree: one multiply-add per pair of points. Both differ
// from the reference only in rounding (~1e-15 relative).
inline bool loess_at(const double* y, int n, int len, int deg, int xs, int nleft, int nright,
                     const double* rw, Tricube& tricube, double& out) {
  const double range = n - 1.0;
  double h = std::max(xs - nleft, nright - xs);
  if (len > n) h += static_cast<double>((len - n) / 2);
  const double* tw = tricube.weights(h);
  const int centre = xs - 1;
  if (rw == nullptr && len <= n && xs - nleft == nright - xs) {
    const int half = xs - nleft;
    double sy = tw[0] * y[centre];
    for (int r = 1; r <= half; ++r) sy += tw[r] * (y[centre - r] + y[centre + r]);
    out = sy / tricube.symmetric_sum();
    return true;
  }
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, sy = 0.0, sdy = 0.0;
  for (int j = nleft - 1; j < nright; ++j) {
    const int dist = j - centre;
    double w = tw[dist < 0 ? -dist : dist];
    if (rw != nullptr) w *= rw[j];
    const double d = static_cast<double>(dist);
    const double wy = w * y[j];
    s0 += w;
    s1 += w * d;
    s2 += w * d * d;
    sy += wy;
    sdy += wy * d;
  }
  if (s0 <= 0.0) return false;
  const double mean_y = sy / s0;
  double est = mean_y;
  if (h > 0.0 && deg > 0) {
    const double a = s1 / s0;
    const double c = s2 / s0 - a * a;
    if (std::sqrt(std::max(c, 0.0)) > 0.001 * range) est -= a / c * (sdy / s0 - a * mean_y);
  }
  out = est;
  return true;
}

// LOESS smooth of y[0, n) into ys[0, n), evaluated every `jump` points and interpolated.
inline void loess_smooth(const double* y, int n, int len, int deg, int jump, const double* rw,
                         Tricube& tricube, double* ys) {
  if (n < 2) {
    ys[0] = y[0];
    return;
  }
  const int nj = std::min(jump, n - 1);
  int nleft = 1, nright = n;
  auto estimate = [&](int i) {  // i is 0-based
    double v;
    ys[i] = loess_at(y, n, len, deg, i + 1, nleft, nright, rw, tricube, v) ? v : y[i];
  };
  if (len >= n) {
    nleft = 1;
    nright = n;
    for (int i = 0; i < n; i += nj) estimate(i);
  } else if (nj == 1) {
    const int nsh = (len + 2) / 2;
    nleft = 1;
    nright = len;
    for (int i = 0; i < n; ++i) {
      if (i + 1 > nsh && nright != n) {
        ++nleft;
        ++nright;
      }
      estimate(i);
    }
  } else {
    const int nsh = (len + 1) / 2;
    for (int i = 0; i < n; i += nj) {
      if (i + 1 < nsh) {
        nleft = 1;
        nright = len;
      } else if (i + 1 >= n - nsh + 1) {
        nleft = n - len + 1;
        nright = n;
      } else {
        nleft = i + 1 - nsh + 1;
        nright = len + i + 1 - nsh;
      }
      estimate(i);
    }
  }
  if (nj == 1) return;
  for (int i = 0; i < n - nj; i += nj) {
    const double delta = (ys[i + nj] - ys[i]) / nj;
    for (int j = i; j < i + nj; ++j) ys[j] = ys[i] + delta * (j - i);
  }
  const int k = ((n - 1) / nj) * nj + 1;
  if (k != n) {
    estimate(n - 1);
    if (k != n - 1) {
      const double delta = (ys[n - 1] - ys[k - 1]) / (n - k);
      for (int j = k; j < n; ++j) ys[j] = ys[k - 1] + delta * ((j + 1) - k);
    }
  }
}

// Moving average of length len over x[0, n) into ave[0, n - len + 1).
inline void moving_mean(const double* x, int n, int len, double* ave) {
  double v = 0.0;
  for (int i = 0; i < len; ++i) v += x[i];
  ave[0] = v / len;
  for (int j = 1, k = len, m = 0; j < n - len + 1; ++j, ++k, ++m) {
    v += x[k] - x[m];
    ave[j] = v / len;
  }
}

class Stl {
 public:
  Stl(const StlParams& p, int n)
      : p_(p),
        n_(n),
        m_(static_cast<std::size_t>(n + 2 * p.period)),
        c_(m_),
        work1_(m_),
        work2_(m_),
        work3_(m_),
        sub_rw_(m_),
        trend_(static_cast<std::size_t>(n)),
        season_(static_cast<std::size_t>(n)),
        rw_(static_cast<std::size_t>(n), 1.0) {}

  // Decomposes y[0, n); results in season(), trend(), weights().
  void fit(const double* y) {
    std::fill(trend_.begin(), trend_.end(), 0.0);
    std::fill(season_.begin(), season_.end(), 0.0);
    std::fill(rw_.begin(), rw_.end(), 1.0);
    bool use_rw = false;
    for (int pass = 0;; ++pass) {
      one_step(y, use_rw);
      if (pass >= p_.outer) break;
      robustness_weights(y);
      use_rw = true;
    }
    if (p_.outer == 0) std::fill(rw_.begin(), rw_.end(), 1.0);
  }

  const std::vector<double>& season() const { return season_; }
  const std::vector<double>& trend() const { return trend_; }
  const std::vector<double>& weights() const { return rw_; }

 private:
  void one_step(const double* y, bool use_rw) {
    const int n = n_, np = p_.period;
    const double* rw = use_rw ? rw_.data() : nullptr;
    for (int it = 0; it < p_.inner; ++it) {
      for (int i = 0; i < n; ++i) work1_[i] = y[i] - trend_[i];
      cycle_subseries(work1_.data(), use_rw);  // fills c_[0, n + 2np)
      // Low-pass of C: MA(np), MA(np), MA(3), LOESS(low_pass).
      moving_mean(c_.data(), n + 2 * np, np, work2_.data());
      moving_mean(work2_.data(), n + np + 1, np, work3_.data());
      moving_mean(work3_.data(), n + 2, 3, work2_.data());
      loess_smooth(work2_.data(), n, p_.low_pass, p_.low_pass_deg, p_.low_pass_jump, nullptr,
                   tricube_, work3_.data());
      for (int i = 0; i < n; ++i) {
        season_[i] = c_[np + i] - work3_[i];
        work1_[i] = y[i] - season_[i];
      }
      loess_smooth(work1_.data(), n, p_.trend, p_.trend_deg, p_.trend_jump, rw, tricube_,
                   trend_.data());
    }
  }

  // Smooths each phase subseries of y and extends it by one point at each end, into c_.
  void cycle_subseries(const double* y, bool use_rw) {
    const int n = n_, np = p_.period, ns = p_.seasonal;
    std::vector<double>& sub = work2_;
    std::vector<double>& smooth = work3_;  // smooth[0] and smooth[k + 1] are the extensions
    for (int j = 0; j < np; ++j) {
      const int k = (n - (j + 1)) / np + 1;
      for (int i = 0; i < k; ++i) sub[i] = y[i * np + j];
      const double* rw = nullptr;
      if (use_rw) {
        for (int i = 0; i < k; ++i) sub_rw_[i] = rw_[i * np + j];
        rw = sub_rw_.data();
      }
      loess_smooth(sub.data(), k, ns, p_.seasonal_deg, p_.seasonal_jump, rw, tricube_,
                   smooth.data() + 1);
      double v;
      const bool front = loess_at(sub.data(), k, ns, p_.seasonal_deg, 0, 1, std::min(ns, k), rw,
                                  tricube_, v);
      smooth[0] = front ? v : smooth[1];
      const bool back = loess_at(sub.data(), k, ns, p_.seasonal_deg, k + 1,
                                 std::max(1, k - ns + 1), k, rw, tricube_, v);
      smooth[k + 1] = back ? v : smooth[k];
      for (int m = 0; m < k + 2; ++m) c_[m * np + j] = smooth[m];
    }
  }

  void robustness_weights(const double* y) {
    const int n = n_;
    std::vector<double>& r = work1_;
    for (int i = 0; i < n; ++i) r[i] = std::fabs(y[i] - trend_[i] - season_[i]);
    std::vector<double>& sorted = work2_;
    std::copy(r.begin(), r.begin() + n, sorted.begin());
    const int m0 = n / 2, m1 = n - m0 - 1;
    std::nth_element(sorted.begin(), sorted.begin() + m0, sorted.begin() + n);
    const double hi = sorted[m0];
    std::nth_element(sorted.begin(), sorted.begin() + m1, sorted.begin() + m0 + 1);
    const double cmad = 3.0 * (hi + sorted[m1]);  // 6 * median |residual|
    if (cmad == 0.0) {
      std::fill(rw_.begin(), rw_.end(), 1.0);
      return;
    }
    const double c9 = 0.999 * cmad, c1 = 0.001 * cmad;
    for (int i = 0; i < n; ++i) {
      if (r[i] <= c1) {
        rw_[i] = 1.0;
      } else if (r[i] <= c9) {
        const double q = r[i] / cmad;
        rw_[i] = (1.0 - q * q) * (1.0 - q * q);
      } else {
        rw_[i] = 0.0;
      }
    }
  }

  StlParams p_;
  int n_;
  std::size_t m_;
  std::vector<double> c_, work1_, work2_, work3_, sub_rw_;
  std::vector<double> trend_, season_, rw_;
  Tricube tricube_;
};

}  // namespace detail

// STL of every row of x (rows, n): seasonal, trend and robustness weights (all 1 without outer
// passes), each (rows, n) in C order.
template <class T>
void stl(const T* x, std::size_t rows, std::size_t n, const StlParams& p, T* seasonal, T* trend,
         T* weights, int n_threads) {
  if (rows == 0 || n == 0) return;
  const int nt = threads_for(rows, n_threads, 1);
  parallel_for(nt, nt, [&](std::int64_t part) {
    const auto [b, e] =
        part_range(rows, static_cast<std::size_t>(nt), static_cast<std::size_t>(part));
    if (b == e) return;
    detail::Stl fit(p, static_cast<int>(n));
    std::vector<double> y(n);
    for (std::size_t r = b; r < e; ++r) {
      const T* xr = x + r * n;
      for (std::size_t i = 0; i < n; ++i) y[i] = static_cast<double>(xr[i]);
      fit.fit(y.data());
      for (std::size_t i = 0; i < n; ++i) {
        seasonal[r * n + i] = static_cast<T>(fit.season()[i]);
        trend[r * n + i] = static_cast<T>(fit.trend()[i]);
        weights[r * n + i] = static_cast<T>(fit.weights()[i]);
      }
    }
  });
}

}  // namespace infokit::timeseries
