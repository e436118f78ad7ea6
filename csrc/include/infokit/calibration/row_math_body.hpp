// The row helpers of the calibration kernels: exp, row maximum, exp sums. This file is
// DELIBERATELY included twice by top_label.hpp (no include guard): once as portable code and once
// compiled for AVX2+FMA inside a target pragma, each copy in its own namespace, so that one binary
// serves every x86-64 CPU at the speed of the one it runs on. Do not include it anywhere else.
//
// Functions marked INFOKIT_CALIBRATION_INLINE are inlined only into each other; row_max and
// exp_sums stay out of line, so their bodies are compiled under the surrounding options even when
// the caller is not.

// exp(x) for x <= 0: float rows use the shared branch-free polynomial (simd/exp.hpp; always
// inlined, so each copy of this file compiles it for its own instruction set); double rows use
// std::exp.
using ::infokit::simd::exp_nonpositive;
inline double exp_nonpositive(double x) { return std::exp(x); }

// The maximum of a row, with eight independent lanes so that the loop vectorises. A NaN is
// skipped here; exp_sums reports it.
template <class T>
INFOKIT_CALIBRATION_OUTLINE T row_max(const T* z, std::size_t m) {
  T lane[8];
  for (int l = 0; l < 8; ++l) lane[l] = z[0];
  const std::size_t whole = m / 8 * 8;
  for (std::size_t j = 0; j < whole; j += 8) {
    for (int l = 0; l < 8; ++l) lane[l] = z[j + l] > lane[l] ? z[j + l] : lane[l];
  }
  for (std::size_t j = whole; j < m; ++j)
    lane[j - whole] = z[j] > lane[j - whole] ? z[j] : lane[j - whole];
  T top = lane[0];
  for (int l = 1; l < 8; ++l) top = lane[l] > top ? lane[l] : top;
  return top;
}

// s = sum_j exp(z_j - top) and u = sum_j exp(z_j - top) (z_j - top), in double. Columns go
// through a small buffer in blocks so that the exp loop has no dependencies and vectorises.
// Returns false when the row holds a NaN or an infinity (then s and u are meaningless).
template <class T>
INFOKIT_CALIBRATION_OUTLINE bool exp_sums(const T* z, std::size_t m, T top, bool want_u, double& s,
                                          double& u) {
  T t[kBlock];
  T e[kBlock];
  double s4[4] = {0.0, 0.0, 0.0, 0.0};
  double u4[4] = {0.0, 0.0, 0.0, 0.0};
  // 0 * t is 0 for every finite t and NaN for NaN or inf: a cheap finiteness test, kept in 8
  // independent lanes (one running sum would be a serial chain as slow as the rest together).
  T check[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (std::size_t j0 = 0; j0 < m; j0 += kBlock) {
    const std::size_t len = std::min(kBlock, m - j0);
    for (std::size_t j = 0; j < len; ++j) t[j] = z[j0 + j] - top;
    std::size_t j = 0;
    for (; j + 8 <= len; j += 8) {
      for (int l = 0; l < 8; ++l) check[l] += T(0) * t[j + l];
    }
    for (; j < len; ++j) check[0] += T(0) * t[j];
    for (j = 0; j < len; ++j) e[j] = exp_nonpositive(t[j]);
    j = 0;
    for (; j + 4 <= len; j += 4) {
      for (int l = 0; l < 4; ++l) s4[l] += static_cast<double>(e[j + l]);
    }
    for (; j < len; ++j) s4[0] += static_cast<double>(e[j]);
    if (want_u) {
      j = 0;
      for (; j + 4 <= len; j += 4) {
        for (int l = 0; l < 4; ++l) {
          u4[l] += static_cast<double>(e[j + l]) * static_cast<double>(t[j + l]);
        }
      }
      for (; j < len; ++j) u4[0] += static_cast<double>(e[j]) * static_cast<double>(t[j]);
    }
  }
  s = (s4[0] + s4[1]) + (s4[2] + s4[3]);
  u = (u4[0] + u4[1]) + (u4[2] + u4[3]);
  T all = 0;
  for (int l = 0; l < 8; ++l) all += check[l];
  return all == T(0) && std::isfinite(static_cast<double>(top));
}
