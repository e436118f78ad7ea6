// Functions of given distributions, one distribution per row of a C-contiguous (rows, m) table.
//
// Rows need not be normalised: each row is divided by its own sum. Every sum accumulates in double,
// whatever T is (float or double), so float32 tables are read as they are, never copied, and is
// compensated (Neumaier), so a long row is as accurate as a short one: a sequential sum of m equal
// terms would otherwise drift by ~m/2 ulps.
//
// The kernels do not validate. The Python layer (infokit.pmf) rejects NaN, inf, negative entries
// and rows that sum to 0 before calling them. Whatever the data, a kernel reads only p[0, rows*m)
// and writes only out[0, rows): a bad row gives NaN (or inf, or a meaningless number), never a
// crash. Nothing here throws.
//
// Threads split the rows. Each row is reduced by one thread in a fixed order, so a result is
// bitwise identical for any thread count.
//
// Logarithms of normalised entries are formed as log(c) - log(S) rather than log(c / S): c / S
// can underflow to 0 for tiny positive c in a float64 row with a large sum, and a positive entry
// must never be mistaken for a zero one (that would turn a finite KL divergence into inf).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "infokit/parallel.hpp"

namespace infokit::pmf {

inline constexpr std::size_t kGrain = 1 << 15;  // elements per thread before threads pay off

namespace detail {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kLog2 = 0.693147180559945309417232121458176568;

// Runs row(r) for r in [0, rows) on up to n_threads threads, once the table has enough elements.
template <class RowTask>
void for_each_row(std::size_t rows, std::size_t m, int n_threads, RowTask&& row) {
  const std::size_t wanted = static_cast<std::size_t>(threads_for(rows * m, n_threads, kGrain));
  const int nt = static_cast<int>(std::min<std::size_t>(wanted, std::max<std::size_t>(rows, 1)));
  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto [b, e] = part_range(rows, nt, t);
    for (std::size_t r = b; r < e; ++r) row(r);
  });
}

// Compensated addition (Neumaier's variant of Kahan's): sum + carry holds the exact running total
// far better than sum alone. Deterministic: the same terms in the same order give the same bits.
inline void add_compensated(double& sum, double& carry, double x) {
  const double t = sum + x;
  carry += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
  sum = t;
}

class Sum {
 public:
  void add(double x) { add_compensated(sum_, carry_, x); }
  double value() const { return sum_ + carry_; }

 private:
  double sum_ = 0.0, carry_ = 0.0;
};

template <class T>
double row_sum(const T* c, std::size_t m) {
  Sum s;
  for (std::size_t j = 0; j < m; ++j) s.add(c[j]);
  return s.value();
}

// -sum p log p of one row (nats), given its sum s > 0.
template <class T>
double shannon(const T* c, std::size_t m, double s) {
  const double log_s = std::log(s);
  Sum h;
  for (std::size_t j = 0; j < m; ++j) {
    const double cj = c[j];
    if (cj > 0.0) h.add(-(cj / s) * (std::log(cj) - log_s));
  }
  return h.value();
}

// p^order - p for 0 < p <= 1 (log_p = log p). Near order = 1 the difference is tiny and
// p * expm1((order - 1) log p) keeps its precision; once that exponent is large, p^order dwarfs p,
// and exp(order log p) - p loses nothing and cannot overflow (order log p <= 0).
inline double pow_minus_self(double p, double log_p, double order) {
  const double x = (order - 1.0) * log_p;
  return x < 1.0 ? p * std::expm1(x) : std::exp(order * log_p) - p;
}

// sum_j (p_j^order - p_j) = sum_j p_j^order - 1 over the support of one row with sum s > 0.
template <class T>
double power_sum_minus_one(const T* c, std::size_t m, double s, double order) {
  const double log_s = std::log(s);
  Sum acc;
  for (std::size_t j = 0; j < m; ++j) {
    const double cj = c[j];
    const double pj = cj / s;
    // pj == 0 after underflow: its p^order is negligible, and skipping it avoids 0 * inf.
    if (cj > 0.0 && pj > 0.0) acc.add(pow_minus_self(pj, std::log(cj) - log_s, order));
  }
  return acc.value();
}

template <class T>
double row_max(const T* c, std::size_t m) {
  double top = 0.0;
  for (std::size_t j = 0; j < m; ++j) top = std::max<double>(top, c[j]);
  return top;
}

}  // namespace detail

// Shannon entropy in nats of each row: H(p) = -sum p log p, with 0 log 0 = 0.
template <class T>
void entropy_rows(const T* p, std::size_t rows, std::size_t m, double* out, int n_threads) {
  detail::for_each_row(rows, m, n_threads, [&](std::size_t r) {
    const T* row = p + r * m;
    const double s = detail::row_sum(row, m);
    out[r] = s > 0.0 ? detail::shannon(row, m, s) : detail::kNaN;
  });
}

// Cross-entropy in nats of each row pair: H(p, q) = -sum p log q; inf where p > 0 = q.
template <class T>
void cross_entropy_rows(const T* p, const T* q, std::size_t rows, std::size_t m, double* out,
                        int n_threads) {
  detail::for_each_row(rows, m, n_threads, [&](std::size_t r) {
    const T* a = p + r * m;
    const T* b = q + r * m;
    const double sa = detail::row_sum(a, m), sb = detail::row_sum(b, m);
    if (!(sa > 0.0 && sb > 0.0)) {
      out[r] = detail::kNaN;
      return;
    }
    const double log_sb = std::log(sb);
    detail::Sum h;
    for (std::size_t j = 0; j < m; ++j) {
      const double aj = a[j], bj = b[j];
      if (!(aj > 0.0)) continue;
      if (!(bj > 0.0)) {
        out[r] = detail::kInf;
        return;
      }
      h.add(-(aj / sa) * (std::log(bj) - log_sb));
    }
    out[r] = h.value();
  });
}

// Kullback-Leibler divergence in nats of each row pair: D(p || q) = sum p log(p / q); inf where
// p > 0 = q. Clamped at 0 (Gibbs' inequality) so rounding never makes it negative.
template <class T>
void kl_divergence_rows(const T* p, const T* q, std::size_t rows, std::size_t m, double* out,
                        int n_threads) {
  detail::for_each_row(rows, m, n_threads, [&](std::size_t r) {
    const T* a = p + r * m;
    const T* b = q + r * m;
    const double sa = detail::row_sum(a, m), sb = detail::row_sum(b, m);
    if (!(sa > 0.0 && sb > 0.0)) {
      out[r] = detail::kNaN;
      return;
    }
    // log(p/q) = (log a - log b) + (log sb - log sa): equal rows give exactly 0.
    const double shift = std::log(sb) - std::log(sa);
    detail::Sum d;
    for (std::size_t j = 0; j < m; ++j) {
      const double aj = a[j], bj = b[j];
      if (!(aj > 0.0)) continue;
      if (!(bj > 0.0)) {
        out[r] = detail::kInf;
        return;
      }
      d.add((aj / sa) * ((std::log(aj) - std::log(bj)) + shift));
    }
    out[r] = std::max(d.value(), 0.0);  // std::max keeps a NaN (its first argument)
  });
}

// Jensen-Shannon divergence in nats of each row pair: JS = (D(p || m) + D(q || m)) / 2 with
// m = (p + q) / 2. Always finite, in [0, log 2] (clamped there against rounding).
template <class T>
void js_divergence_rows(const T* p, const T* q, std::size_t rows, std::size_t m, double* out,
                        int n_threads) {
  detail::for_each_row(rows, m, n_threads, [&](std::size_t r) {
    const T* a = p + r * m;
    const T* b = q + r * m;
    const double sa = detail::row_sum(a, m), sb = detail::row_sum(b, m);
    if (!(sa > 0.0 && sb > 0.0)) {
      out[r] = detail::kNaN;
      return;
    }
    detail::Sum d;
    for (std::size_t j = 0; j < m; ++j) {
      const double pj = a[j] / sa, qj = b[j] / sb;
      const double both = pj + qj;  // = 2 m_j; the ratios 2p/(p+q) are <= 2, never overflow
      const double tp = pj > 0.0 ? pj * std::log(2.0 * pj / both) : 0.0;
      const double tq = qj > 0.0 ? qj * std::log(2.0 * qj / both) : 0.0;
      d.add(tp + tq);  // added as one term, so swapping p and q gives the same bits
    }
    out[r] = std::clamp(0.5 * d.value(), 0.0, detail::kLog2);  // std::clamp passes NaN through
  });
}

// Renyi entropy of order alpha >= 0 in nats of each row: H_a = log(sum p^a) / (1 - a);
// a = 0: log of the support size, a = 1: Shannon, a = inf: -log max p (min-entropy).
template <class T>
void renyi_entropy_rows(const T* p, std::size_t rows, std::size_t m, double alpha, double* out,
                        int n_threads) {
  detail::for_each_row(rows, m, n_threads, [&](std::size_t r) {
    const T* c = p + r * m;
    const double s = detail::row_sum(c, m);
    if (!(s > 0.0) || !(alpha >= 0.0)) {
      out[r] = detail::kNaN;
    } else if (alpha == 1.0) {
      out[r] = detail::shannon(c, m, s);
    } else if (std::isinf(alpha)) {
      out[r] = std::log(s) - std::log(detail::row_max(c, m));
    } else if (std::fabs(alpha - 1.0) < 0.5) {
      // Near a = 1 both log(sum p^a) and 1 - a vanish: log1p of sum(p^a - p) keeps the ratio exact.
      out[r] = std::log1p(detail::power_sum_minus_one(c, m, s, alpha)) / (1.0 - alpha);
    } else {
      // Far from 1, log-sum-exp around the largest entry: sum p^a neither overflows nor
      // underflows to 0 however large a is.
      const double top = detail::row_max(c, m);
      const double log_top = std::log(top);
      detail::Sum acc;
      for (std::size_t j = 0; j < m; ++j) {
        const double cj = c[j];
        if (cj > 0.0) acc.add(std::exp(alpha * (std::log(cj) - log_top)));
      }
      const double log_p_top = log_top - std::log(s);
      out[r] = (alpha / (1.0 - alpha)) * log_p_top + std::log(acc.value()) / (1.0 - alpha);
    }
  });
}

// Tsallis entropy of order q >= 0 of each row: S_q = (1 - sum p^q) / (q - 1), dimensionless;
// q = 1: Shannon in nats, q = 0: support size - 1, q = inf: 0.
template <class T>
void tsallis_entropy_rows(const T* p, std::size_t rows, std::size_t m, double q, double* out,
                          int n_threads) {
  detail::for_each_row(rows, m, n_threads, [&](std::size_t r) {
    const T* c = p + r * m;
    const double s = detail::row_sum(c, m);
    if (!(s > 0.0) || !(q >= 0.0)) {
      out[r] = detail::kNaN;
    } else if (q == 1.0) {
      out[r] = detail::shannon(c, m, s);
    } else if (std::isinf(q)) {
      out[r] = 0.0;
    } else {
      out[r] = -detail::power_sum_minus_one(c, m, s, q) / (q - 1.0);
    }
  });
}

// Mutual information in nats of each (nx, ny) joint table of a C-contiguous (tables, nx, ny) stack:
// I(X; Y) = sum p(x,y) log(p(x,y) / (p(x) p(y))), clamped at 0 against rounding.
// work: caller-provided scratch of work_size doubles, 2 ny per thread (the column marginals and
// their compensation carries). The kernel uses only as many threads as the scratch serves, and
// fills out with NaN if it cannot serve one.
template <class T>
void mutual_information_tables(const T* joint, std::size_t tables, std::size_t nx, std::size_t ny,
                               double* work, std::size_t work_size, double* out, int n_threads) {
  const std::size_t m = nx * ny;
  const std::size_t fit = ny == 0 ? tables : work_size / (2 * ny);  // threads the scratch serves
  if (fit == 0) {
    for (std::size_t k = 0; k < tables; ++k) out[k] = detail::kNaN;
    return;
  }
  const std::size_t wanted = static_cast<std::size_t>(threads_for(tables * m, n_threads, kGrain));
  const int nt =
      static_cast<int>(std::min<std::size_t>({wanted, std::max<std::size_t>(tables, 1), fit}));
  parallel_for(nt, nt, [&](std::int64_t t) {
    double* col = work + static_cast<std::size_t>(t) * 2 * ny;  // column sums, then their logs
    double* carry = col + ny;
    const auto [b, e] = part_range(tables, nt, t);
    for (std::size_t k = b; k < e; ++k) {
      const T* table = joint + k * m;
      // Pass 1: the total and the column marginals.
      std::fill(col, col + 2 * ny, 0.0);
      detail::Sum total;
      for (std::size_t x = 0; x < nx; ++x) {
        const T* row = table + x * ny;
        for (std::size_t y = 0; y < ny; ++y) {
          detail::add_compensated(col[y], carry[y], row[y]);
          total.add(row[y]);
        }
      }
      const double s = total.value();
      if (!(s > 0.0)) {
        out[k] = detail::kNaN;
        continue;
      }
      const double log_s = std::log(s);
      for (std::size_t y = 0; y < ny; ++y) col[y] = std::log(col[y] + carry[y]);
      // Pass 2: sum p(x,y) [log p(y|x) - log p(y)], one row (one x) at a time.
      detail::Sum mi;
      for (std::size_t x = 0; x < nx; ++x) {
        const T* row = table + x * ny;
        const double log_row = std::log(detail::row_sum(row, ny));
        for (std::size_t y = 0; y < ny; ++y) {
          const double c = row[y];
          if (c > 0.0) mi.add((c / s) * ((std::log(c) - log_row) - (col[y] - log_s)));
        }
      }
      out[k] = std::max(mi.value(), 0.0);  // std::max keeps a NaN (its first argument)
    }
  });
}

}  // namespace infokit::pmf
