// Greedy sparse coding against a dictionary, one signal at a time, from its Gram matrix.
//
// Both pursuits see a signal x only through xy = D x (its correlations with the K atoms, the rows
// of D) and the dictionary only through G = D D^T, so the dictionary-wide products stay in BLAS
// (computed once for the whole batch by the caller) and the loops here cost O(K) per step.
//
// Orthogonal matching pursuit (Pati et al. 1993; the Gram/Cholesky form of Rubinstein et al.'s
// Batch-OMP, 2008): keep c = xy - G[:, S] gamma, the correlation of the residual with every atom;
// pick the atom j maximising |c_j| / sqrt(G_jj) (the residual's cosine with atom j), extend the
// Cholesky factor L of G[S, S] by one row, solve L L^T gamma = xy[S], recompute c. The residual
// is orthogonal to the chosen atoms, so an atom is never picked twice. Cost per signal
// O(K s^2 + s^3) for s atoms. Stops at n_nonzero atoms, when ||r||^2 = ||x||^2 - gamma . xy[S]
// <= tol, when the residual has no correlation left, or when the next atom is numerically in the
// span of the chosen ones (its new Cholesky pivot <= eps G_jj).
//
// Matching pursuit (Mallat & Zhang 1993): c = xy; pick j as above, add c_j / G_jj to its
// coefficient, c -= (c_j / G_jj) G[j, :], ||r||^2 -= c_j^2 / G_jj. An atom may be picked again.
//
// Output is compact: per signal up to `width` (atom, coefficient) pairs, atoms -1 past the end,
// and the count. Everything is accumulated in double; T (float or double) is the storage type.
// Signals are independent, so the result does not depend on the thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "infokit/parallel.hpp"

namespace infokit::dictionary {

enum class PursuitStatus : int { ok = 0, bad_input = 1, no_memory = 2 };

// Where the inputs and outputs live. gram is K x K with row stride ldg (>= K); xy is n x K with
// row stride ldxy (>= K); norms_sq holds the n values ||x||^2 (they scale the noise floor below
// which a residual counts as zero, and the tolerance test). support and coef
// are n x width, count has n entries.
template <class T>
struct PursuitProblem {
  const T* gram;
  std::int64_t n_atoms;
  std::int64_t ldg;
  const T* xy;
  std::int64_t n_signals;
  std::int64_t ldxy;
  const double* norms_sq;
  std::int64_t width;  // stored (atom, coefficient) pairs per signal: the most atoms it can use
  std::int64_t steps;  // MP: steps per signal (atoms may repeat, so width = min(steps, K)
                       // suffices); OMP: ignored, width is the most atoms
  double tol;          // stop when ||r||^2 <= tol; negative: no tolerance
  std::int64_t* support;
  T* coef;
  std::int64_t* count;
};

namespace detail {

// Neither pursuit uses an atom in more than one stored slot, so width <= K; MP must be able to
// store every distinct atom its steps can reach.
template <class T>
bool valid(const PursuitProblem<T>& p, bool omp) {
  if (p.n_atoms < 1 || p.n_signals < 0 || p.width < 1 || p.width > p.n_atoms) return false;
  if (!omp && (p.steps < 1 || p.width < std::min(p.steps, p.n_atoms))) return false;
  if (p.ldg < p.n_atoms || p.ldxy < p.n_atoms) return false;
  if (!p.gram) return false;
  // With no signals the per-signal buffers may be empty (null); nothing will touch them.
  if (p.n_signals > 0 && (!p.xy || !p.norms_sq || !p.support || !p.coef || !p.count))
    return false;
  for (std::int64_t j = 0; j < p.n_atoms; ++j) {
    const T g = p.gram[j * p.ldg + j];
    if (!(g > T(0)) || !std::isfinite(static_cast<double>(g))) return false;
  }
  return true;
}

// The atom whose normalised correlation with the residual, |c_j| / sqrt(G_jj), is largest (first
// on ties), skipping atoms flagged in `taken` (may be null); -1 when none exceeds `floor`.
template <class T>
std::int64_t best_atom(const double* c, const double* inv_norm, const unsigned char* taken,
                       std::int64_t n_atoms, double floor) {
  std::int64_t best = -1;
  double best_score = floor;
  for (std::int64_t j = 0; j < n_atoms; ++j) {
    if (taken && taken[j]) continue;
    const double score = std::fabs(c[j]) * inv_norm[j];
    if (score > best_score) {
      best_score = score;
      best = j;
    }
  }
  return best;
}

// A residual whose best normalised correlation is below this is numerical noise: a pursuit on
// it would only add rounding-sized coefficients (or pick a dependent atom).
template <class T>
double noise_floor(double norm_sq) {
  return 64.0 * std::numeric_limits<T>::epsilon() * std::sqrt(norm_sq > 0.0 ? norm_sq : 0.0);
}

// c = xy - sum_r gamma_r G[chosen_r, :], four Gram rows per pass over c so that c is loaded and
// stored a quarter as often. The passes are plain multiply-adds over contiguous rows; GCC on
// x86-64 also builds an AVX2 clone chosen at load time (the wheel stays portable).
template <class T>
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
void correlations_rows(double* __restrict c, const T* __restrict xy, const T* const* rows,
                       const double* g, std::int64_t n_rows, std::int64_t n_atoms, bool first) {
  const T* r0 = rows[0];
  const T* r1 = n_rows > 1 ? rows[1] : rows[0];
  const T* r2 = n_rows > 2 ? rows[2] : rows[0];
  const T* r3 = n_rows > 3 ? rows[3] : rows[0];
  const double g0 = g[0], g1 = n_rows > 1 ? g[1] : 0.0, g2 = n_rows > 2 ? g[2] : 0.0,
               g3 = n_rows > 3 ? g[3] : 0.0;
  for (std::int64_t k = 0; k < n_atoms; ++k) {
    const double base = first ? static_cast<double>(xy[k]) : c[k];
    c[k] = base - g0 * static_cast<double>(r0[k]) - g1 * static_cast<double>(r1[k]) -
           g2 * static_cast<double>(r2[k]) - g3 * static_cast<double>(r3[k]);
  }
}

template <class T>
void correlations(const PursuitProblem<T>& p, const T* xy, const std::int64_t* chosen,
                  const double* gamma, std::int64_t n, double* c) {
  const T* rows[4];
  for (std::int64_t r0 = 0; r0 < n; r0 += 4) {
    const std::int64_t m = std::min<std::int64_t>(4, n - r0);
    for (std::int64_t q = 0; q < m; ++q) rows[q] = p.gram + chosen[r0 + q] * p.ldg;
    correlations_rows<T>(c, xy, rows, gamma + r0, m, p.n_atoms, r0 == 0);
  }
}

// Per-thread scratch for OMP: correlations, the Cholesky factor (width x width), solves.
struct OmpScratch {
  std::vector<double> c, L, gamma, rhs, w;
  std::vector<std::int64_t> chosen;
  std::vector<unsigned char> taken;
  OmpScratch(std::int64_t n_atoms, std::int64_t width)
      : c(static_cast<std::size_t>(n_atoms)),
        L(static_cast<std::size_t>(width * width)),
        gamma(static_cast<std::size_t>(width)),
        rhs(static_cast<std::size_t>(width)),
        w(static_cast<std::size_t>(width)),
        chosen(static_cast<std::size_t>(width)),
        taken(static_cast<std::size_t>(n_atoms), 0) {}
};

template <class T>
void omp_one(const PursuitProblem<T>& p, const double* inv_norm, std::int64_t i, OmpScratch& s) {
  const std::int64_t K = p.n_atoms, W = p.width;
  const T* xy = p.xy + i * p.ldxy;
  double* c = s.c.data();
  double* L = s.L.data();
  for (std::int64_t j = 0; j < K; ++j) c[j] = static_cast<double>(xy[j]);
  const bool use_tol = p.tol >= 0.0;
  double resid = p.norms_sq[i];
  const double noise = noise_floor<T>(p.norms_sq[i]);
  std::int64_t n = 0;
  while (n < W && !(use_tol && resid <= p.tol)) {
    const std::int64_t j = best_atom<T>(c, inv_norm, s.taken.data(), K, noise);
    if (j < 0) break;
    const T* gj = p.gram + j * p.ldg;
    // New Cholesky row: solve L w = G[S, j], pivot^2 = G_jj - w . w.
    double pivot2 = static_cast<double>(gj[j]);
    for (std::int64_t r = 0; r < n; ++r) {
      double v = static_cast<double>(gj[s.chosen[static_cast<std::size_t>(r)]]);
      for (std::int64_t q = 0; q < r; ++q) v -= L[r * W + q] * s.w[static_cast<std::size_t>(q)];
      v /= L[r * W + r];
      s.w[static_cast<std::size_t>(r)] = v;
      pivot2 -= v * v;
    }
    if (!(pivot2 > std::numeric_limits<T>::epsilon() * static_cast<double>(gj[j]))) break;
    for (std::int64_t q = 0; q < n; ++q) L[n * W + q] = s.w[static_cast<std::size_t>(q)];
    L[n * W + n] = std::sqrt(pivot2);
    s.chosen[static_cast<std::size_t>(n)] = j;
    s.taken[static_cast<std::size_t>(j)] = 1;
    ++n;
    // gamma = (L L^T)^{-1} xy[S]: forward then backward substitution.
    for (std::int64_t r = 0; r < n; ++r) {
      double v = static_cast<double>(xy[s.chosen[static_cast<std::size_t>(r)]]);
      for (std::int64_t q = 0; q < r; ++q) v -= L[r * W + q] * s.rhs[static_cast<std::size_t>(q)];
      s.rhs[static_cast<std::size_t>(r)] = v / L[r * W + r];
    }
    for (std::int64_t r = n - 1; r >= 0; --r) {
      double v = s.rhs[static_cast<std::size_t>(r)];
      for (std::int64_t q = r + 1; q < n; ++q)
        v -= L[q * W + r] * s.gamma[static_cast<std::size_t>(q)];
      s.gamma[static_cast<std::size_t>(r)] = v / L[r * W + r];
    }
    // c = xy - G[:, S] gamma (G symmetric: row S_r is column S_r, contiguous).
    double explained = 0.0;
    for (std::int64_t r = 0; r < n; ++r)
      explained += s.gamma[static_cast<std::size_t>(r)] *
                   static_cast<double>(xy[s.chosen[static_cast<std::size_t>(r)]]);
    correlations(p, xy, s.chosen.data(), s.gamma.data(), n, c);
    resid = p.norms_sq[i] - explained;
  }
  std::int64_t* sup = p.support + i * W;
  T* cf = p.coef + i * W;
  for (std::int64_t r = 0; r < W; ++r) {
    sup[r] = r < n ? s.chosen[static_cast<std::size_t>(r)] : -1;
    cf[r] = r < n ? static_cast<T>(s.gamma[static_cast<std::size_t>(r)]) : T(0);
  }
  p.count[i] = n;
  for (std::int64_t r = 0; r < n; ++r) s.taken[static_cast<std::size_t>(s.chosen[static_cast<std::size_t>(r)])] = 0;
}

template <class T>
void mp_one(const PursuitProblem<T>& p, const double* inv_norm, std::int64_t i,
            std::vector<double>& c_buf, std::vector<double>& coef_buf) {
  const std::int64_t K = p.n_atoms, W = p.width;
  const T* xy = p.xy + i * p.ldxy;
  double* c = c_buf.data();
  for (std::int64_t j = 0; j < K; ++j) c[j] = static_cast<double>(xy[j]);
  std::int64_t* sup = p.support + i * W;
  double* acc = coef_buf.data();
  const bool use_tol = p.tol >= 0.0;
  double resid = p.norms_sq[i];
  const double noise = noise_floor<T>(p.norms_sq[i]);
  std::int64_t n = 0;  // distinct atoms so far, in order of first pick
  for (std::int64_t step = 0; step < p.steps && !(use_tol && resid <= p.tol); ++step) {
    const std::int64_t j = best_atom<T>(c, inv_norm, nullptr, K, noise);
    if (j < 0) break;
    const T* gj = p.gram + j * p.ldg;
    const double gjj = static_cast<double>(gj[j]);
    const double cj = c[j];
    const double step_coef = cj / gjj;
    std::int64_t slot = 0;
    while (slot < n && sup[slot] != j) ++slot;
    if (slot == n) {
      sup[n] = j;
      acc[n] = 0.0;
      ++n;
    }
    acc[slot] += step_coef;
    for (std::int64_t k = 0; k < K; ++k) c[k] -= step_coef * static_cast<double>(gj[k]);
    resid -= cj * step_coef;
  }
  T* cf = p.coef + i * W;
  for (std::int64_t r = 0; r < W; ++r) {
    if (r >= n) sup[r] = -1;
    cf[r] = r < n ? static_cast<T>(acc[r]) : T(0);
  }
  p.count[i] = n;
}

template <class T>
bool inverse_norms(const PursuitProblem<T>& p, std::vector<double>& inv_norm) {
  try {
    inv_norm.resize(static_cast<std::size_t>(p.n_atoms));
  } catch (const std::bad_alloc&) {
    return false;
  }
  for (std::int64_t j = 0; j < p.n_atoms; ++j)
    inv_norm[static_cast<std::size_t>(j)] = 1.0 / std::sqrt(static_cast<double>(p.gram[j * p.ldg + j]));
  return true;
}

// Splits the signals over threads; each part owns its scratch. A part below ~2^18 multiply-adds
// is not worth a thread (the fork/join costs more on a loaded machine).
template <class Body>
PursuitStatus run_parts(std::int64_t n_signals, std::int64_t work_per_signal, int n_threads,
                        Body&& body) {
  const std::size_t total = static_cast<std::size_t>(n_signals) *
                            static_cast<std::size_t>(work_per_signal > 0 ? work_per_signal : 1);
  const std::int64_t parts = std::min<std::int64_t>(
      threads_for(total, n_threads, std::size_t{1} << 18), n_signals > 0 ? n_signals : 1);
  std::vector<int> failed(static_cast<std::size_t>(parts), 0);
  parallel_for(parts, static_cast<int>(parts), [&](std::int64_t part) {
    const auto range = part_range(static_cast<std::size_t>(n_signals),
                                  static_cast<std::size_t>(parts), static_cast<std::size_t>(part));
    try {
      body(static_cast<std::int64_t>(range.first), static_cast<std::int64_t>(range.second));
    } catch (const std::bad_alloc&) {
      failed[static_cast<std::size_t>(part)] = 1;
    }
  });
  for (int f : failed)
    if (f) return PursuitStatus::no_memory;
  return PursuitStatus::ok;
}

}  // namespace detail

template <class T>
PursuitStatus omp_gram(const PursuitProblem<T>& p, int n_threads) {
  if (!detail::valid(p, true)) return PursuitStatus::bad_input;
  std::vector<double> inv_norm;
  if (!detail::inverse_norms(p, inv_norm)) return PursuitStatus::no_memory;
  const std::int64_t work = p.n_atoms * p.width * p.width;
  return detail::run_parts(p.n_signals, work, n_threads, [&](std::int64_t lo, std::int64_t hi) {
    detail::OmpScratch scratch(p.n_atoms, p.width);
    for (std::int64_t i = lo; i < hi; ++i) detail::omp_one(p, inv_norm.data(), i, scratch);
  });
}

template <class T>
PursuitStatus mp_gram(const PursuitProblem<T>& p, int n_threads) {
  if (!detail::valid(p, false)) return PursuitStatus::bad_input;
  std::vector<double> inv_norm;
  if (!detail::inverse_norms(p, inv_norm)) return PursuitStatus::no_memory;
  const std::int64_t work = p.n_atoms * std::min<std::int64_t>(p.steps, std::int64_t{1} << 20);
  return detail::run_parts(p.n_signals, work, n_threads, [&](std::int64_t lo, std::int64_t hi) {
    std::vector<double> c(static_cast<std::size_t>(p.n_atoms)), acc(static_cast<std::size_t>(p.width));
    for (std::int64_t i = lo; i < hi; ++i) detail::mp_one(p, inv_norm.data(), i, c, acc);
  });
}

}  // namespace infokit::dictionary
