// The models the coders take, all behind one small interface so one coder loop serves them all:
//
//   i64 low(i), high(i)                       the symbols low..high of symbol i's alphabet
//   bool encode_interval(i, v, Interval&)     [start, start + freq) of value v; false: escape
//   bool decode_symbol(i, slot, v, Interval&) the value whose interval holds slot; false: escape
//
// Parameters are raw arrays with a stride per symbol (0 for one shared value), so a scalar
// broadcast against 10^7 symbols costs nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/coding/quantize.hpp"

namespace infokit::coding {

struct Interval {
  u32 start;
  u32 freq;
};

// Smallest k in [0, n) with C(k + 1) > slot, for a non-decreasing C with C(0) = 0 <= slot <
// C(n). Starts at a guess and gallops outward, so a good guess costs two evaluations of C.
template <class Cdf>
i64 bracket(const Cdf& C, u32 slot, i64 n, i64 guess, u32& c_lo, u32& c_hi) {
  i64 lo, hi;  // invariant: C(lo) <= slot < C(hi)
  u32 clo, chi;
  i64 k = std::clamp<i64>(guess, 0, n - 1);
  u32 ck = C(k);
  if (ck <= slot) {
    lo = k, clo = ck;
    i64 step = 1;
    for (;;) {
      const i64 next = lo + step;
      if (next >= n) {
        hi = n, chi = C(n);
        break;
      }
      const u32 c = C(next);
      if (c > slot) {
        hi = next, chi = c;
        break;
      }
      lo = next, clo = c, step *= 2;
    }
  } else {
    hi = k, chi = ck;
    i64 step = 1;
    for (;;) {
      const i64 next = hi - step;
      if (next <= 0) {
        lo = 0, clo = 0;
        break;
      }
      const u32 c = C(next);
      if (c <= slot) {
        lo = next, clo = c;
        break;
      }
      hi = next, chi = c, step *= 2;
    }
  }
  while (hi - lo > 1) {
    const i64 mid = lo + (hi - lo) / 2;
    const u32 c = C(mid);
    if (c <= slot)
      lo = mid, clo = c;
    else
      hi = mid, chi = c;
  }
  c_lo = clo;
  c_hi = chi;
  return lo;
}

// One categorical distribution shared by every symbol, decoded in O(1) by a bucket table: the top
// bits of the slot index the first symbol whose interval reaches into that bucket, and a short
// forward scan (rarely more than one step) finishes.
class TableModel {
 public:
  // bucket_bits: the decode table has 2^bucket_bits entries (more: fewer scan steps).
  TableModel(const double* p, u32 K, i64 low, int precision, int bucket_bits = kBucketBits)
      : K_(K), low_(low), P_(precision) {
    cum_.resize(std::size_t{K} + 2);
    quantize_categorical(p, 1, K, precision, cum_.data());
    build(bucket_bits);
  }
  // From integer cumulative frequencies already at this precision (CdfTable rows).


  i64 low(std::size_t) const { return low_; }
  i64 high(std::size_t) const { return low_ + static_cast<i64>(K_) - 1; }
  int precision() const { return P_; }
  const std::vector<u32>& cum() const { return cum_; }

  bool encode_interval(std::size_t, i64 v, Interval& iv) const {
    const u64 k = static_cast<u64>(v) - static_cast<u64>(low_);
    if (v < low_ || k >= K_) return false;
    iv = {cum_[k], cum_[k + 1] - cum_[k]};
    return true;
  }

  bool decode_symbol(std::size_t, u32 slot, i64& v, Interval& iv) const {
    const u32 s = find(slot);
    iv = {dec_[s].start, dec_[s].freq};
    v = low_ + static_cast<i64>(s);
    return s < K_;
  }

  // The symbol (K_ for the escape bin) whose interval holds slot. Most buckets lie inside one
  // symbol's interval and give it directly; only a bucket that a boundary crosses (flagged) scans.
  u32 find(u32 slot) const { return find(slot, shift_); }
  u32 find(u32 slot, int shift) const {
    const u32 s = bucket(slot >> shift);
    return s & kScan ? scan(s & ~kScan, slot) : s;
  }
  // The bucket's entry: its symbol, or (flagged kScan) the first of several to scan from.
  u32 bucket(u32 b) const { return bucket_[b]; }
  u32 scan(u32 s, u32 slot) const {
    while (dec_[s + 1].start <= slot) ++s;
    return s;
  }
  static constexpr u32 kScan = u32{1} << 31;
  static constexpr int kBucketBits = 13;  // the default table: 2^13 buckets
  int bucket_shift() const { return shift_; }

  struct DecSymbol {
    u32 start, freq;
  };
  DecSymbol dec(u32 k) const { return dec_[k]; }

  // Division-free encoding (the reciprocal of each frequency, Alverson's method): for x < 2^63,
  // floor(x / f) = mulhi(x, rcp) >> shift with rcp = ceil(2^(63 + s) / f), s = ceil(log2 f),
  // shift = s - 1. f = 1 cannot use it (rcp would need 65 bits); there rcp = 2^64 - 1 gives
  // x - 1 and the bias absorbs the difference (see RansEncoder::put_fast).
  struct EncSymbol {
    u64 x_max;  // renormalise while x >= x_max
    u64 rcp;
    u32 bias;
    u32 cmpl;  // M - f
    u32 shift;
  };
  const EncSymbol& enc(u32 k) const { return enc_[k]; }
  u32 alphabet() const { return K_; }

 private:
  void build(int bucket_bits) {
    const u64 M = u64{1} << P_;
    const int bits = std::min(P_, bucket_bits);
    shift_ = P_ - bits;
    bucket_.resize(std::size_t{1} << bits);
    u32 s = 0;
    for (std::size_t b = 0; b < bucket_.size(); ++b) {
      const u64 first_slot = static_cast<u64>(b) << shift_;
      while (cum_[s + 1] <= first_slot) ++s;
      const bool inside = cum_[s + 1] >= first_slot + (u64{1} << shift_);
      bucket_[b] = inside ? s : s | kScan;
    }
    // The bucket of the escape slot M - 1 always scans: the block decoder looks for escapes
    // only on that path (it does anyway unless a bucket is a single slot).
    bucket_.back() |= kScan;
    dec_.resize(std::size_t{K_} + 2);
    for (u32 k = 0; k <= K_; ++k) dec_[k] = {cum_[k], cum_[k + 1] - cum_[k]};
    dec_[K_ + 1] = {static_cast<u32>(M) , 0};  // a sentinel above every slot
    enc_.resize(std::size_t{K_} + 1);
    for (u32 k = 0; k <= K_; ++k) {
      const u32 f = cum_[k + 1] - cum_[k];
      EncSymbol& e = enc_[k];
      e.x_max = ((u64{1} << (31 - P_)) << 32) * f;
      e.cmpl = static_cast<u32>(M - f);
      if (f == 1) {
        e.rcp = ~u64{0};
        e.shift = 0;
        e.bias = static_cast<u32>(cum_[k] + M - 1);
      } else {
        u32 s_bits = 0;
        while ((u64{1} << s_bits) < f) ++s_bits;
        // ceil(2^(63 + s) / f) in two 64-bit long-division steps: 2^(63 + s) = 2^(31 + s) 2^32,
        // and 2^(31 + s) / f < 2^32 because f > 2^(s - 1).
        const u64 top = u64{1} << (31 + s_bits);
        const u64 q1 = top / f, r1 = top % f;
        const u64 q2 = (r1 << 32) / f, r2 = (r1 << 32) % f;
        e.rcp = (q1 << 32) + q2 + (r2 != 0);
        e.shift = s_bits - 1;
        e.bias = cum_[k];
      }
    }
  }

  u32 K_;
  i64 low_;
  int P_;
  int shift_ = 0;
  std::vector<u32> cum_;
  std::vector<u32> bucket_;
  std::vector<EncSymbol> enc_;
  std::vector<DecSymbol> dec_;
};

// A table of categorical rows (CompressAI's layout: quantized CDF rows, one chosen per symbol by
// an index, each with its own size and offset, the value of its first symbol). Each row becomes a
// TableModel with a bucket table sized to its alphabet.
class IndexedTables {
 public:
  IndexedTables(const double* weights, std::size_t row_stride, const std::int64_t* sizes,
                const std::int64_t* offsets, std::size_t rows, const std::int64_t* index,
                int precision)
      : index_(index) {
    rows_.reserve(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      const u32 K = static_cast<u32>(sizes[r]);
      int bits = 2;
      while ((u32{1} << bits) < 4 * K && bits < 13) ++bits;
      rows_.emplace_back(weights + r * row_stride, K, offsets[r], precision, bits);
    }
  }

  i64 low(std::size_t i) const { return rows_[index_[i]].low(0); }
  i64 high(std::size_t i) const { return rows_[index_[i]].high(0); }
  bool encode_interval(std::size_t i, i64 v, Interval& iv) const {
    return rows_[index_[i]].encode_interval(0, v, iv);
  }
  bool decode_symbol(std::size_t i, u32 slot, i64& v, Interval& iv) const {
    return rows_[index_[i]].decode_symbol(0, slot, v, iv);
  }

 private:
  const std::int64_t* index_;
  std::vector<TableModel> rows_;
};

// One categorical row per symbol (probs of shape (n, K)): each row is quantized when its symbol
// is coded, and decoding searches the row.
class RowsModel {
 public:
  RowsModel(const double* p, std::size_t row_stride, u32 K, int precision)
      : p_(p), stride_(row_stride), K_(K), P_(precision), cum_(std::size_t{K} + 2) {}

  i64 low(std::size_t) const { return 0; }
  i64 high(std::size_t) const { return static_cast<i64>(K_) - 1; }

  bool encode_interval(std::size_t i, i64 v, Interval& iv) const {
    if (v < 0 || static_cast<u64>(v) >= K_) return false;
    quantize_categorical(p_ + i * stride_, 1, K_, P_, cum_.data());
    iv = {cum_[v], cum_[v + 1] - cum_[v]};
    return true;
  }

  bool decode_symbol(std::size_t i, u32 slot, i64& v, Interval& iv) const {
    quantize_categorical(p_ + i * stride_, 1, K_, P_, cum_.data());
    const auto above = std::upper_bound(cum_.begin(), cum_.end(), slot);
    const u32 s = static_cast<u32>(above - cum_.begin()) - 1;
    iv = {cum_[s], cum_[s + 1] - cum_[s]};
    v = s;
    return s < K_;
  }

 private:
  const double* p_;
  std::size_t stride_;
  u32 K_;
  int P_;
  mutable std::vector<u32> cum_;  // one coder thread per model object
};

// A quantized continuous family (Gaussian, Laplace, logistic, Cauchy) with a location and a scale
// per symbol: bin k covers [low + k - 1/2, low + k + 1/2); the tails beyond low and high fold into
// the end bins. G(k) = F((low + k - 1/2 - mean) / scale) from the family's integer table.
class ParametricModel {
 public:
  ParametricModel(int family, const double* mean, std::size_t mean_stride, const double* scale,
                  std::size_t scale_stride, i64 low, i64 high, int precision)
      : grid_(family_grid(family)),
        inverse_(inverse_table(family)),
        mean_(mean),
        scale_(scale),
        mean_stride_(mean_stride),
        scale_stride_(scale_stride),
        low_(low),
        high_(high),
        n_(high - low + 1),
        P_(precision),
        M_(u64{1} << precision),
        R_(M_ - static_cast<u64>(n_) - 1) {}

  i64 low(std::size_t) const { return low_; }
  i64 high(std::size_t) const { return high_; }

  struct Cdf {
    const Grid* grid;
    double mean, scale, inv_scale, edge;  // edge: low - 1/2
    i64 n;
    u64 R, M;
    u32 operator()(i64 k) const {
      const double u = (edge + static_cast<double>(k) - mean) * inv_scale;
      return cdf_from_g(k <= 0 || k >= n ? 0 : table_cdf(*grid, u), k, n, R, M);
    }
  };

  Cdf cdf(std::size_t i) const {
    const double scale = scale_[i * scale_stride_];
    return Cdf{&grid_,
               mean_[i * mean_stride_],
               scale,
               1.0 / scale,
               static_cast<double>(low_) - 0.5,
               n_,
               R_,
               M_};
  }


  bool encode_interval(std::size_t i, i64 v, Interval& iv) const {
    if (v < low_ || v > high_) return false;
    const Cdf C = cdf(i);
    const i64 k = v - low_;
    const u32 a = C(k);
    iv = {a, C(k + 1) - a};
    return true;
  }

  bool decode_symbol(std::size_t i, u32 slot, i64& v, Interval& iv) const {
    if (slot >= M_ - 1) {
      iv = {static_cast<u32>(M_ - 1), 1};
      return false;
    }
    const Cdf C = cdf(i);
    u32 lo, hi;
    const i64 k = bracket(C, slot, n_, guess(C, slot), lo, hi);
    iv = {lo, hi - lo};
    v = low_ + k;
    return true;
  }

  // The symbol k with C(k) <= slot < C(k + 1) = hi, lo = C(k), for a slot below the escape bin.
  i64 locate(const Cdf& C, u32 slot, u32& lo, u32& hi) const {
    const i64 k = guess(C, slot);
    lo = C(k);
    hi = C(k + 1);
    if (lo <= slot && slot < hi) return k;
    return bracket(C, slot, n_, k, lo, hi);
  }

  // The continuous quantile at slot / M as a symbol index: usually the right one.
  i64 guess(const Cdf& C, u32 slot) const {
    const double u = inverse_.quantile(static_cast<u64>(slot) << (32 - P_));
    const double b = C.mean + u * C.scale - static_cast<double>(low_);
    // clamp, then truncate (= floor on the non-negative clamped value)
    return static_cast<i64>(std::clamp(b + 0.5, 0.0, static_cast<double>(n_ - 1)));
  }

  i64 low_value() const { return low_; }
  i64 alphabet() const { return n_; }
  u64 escape_slot() const { return M_ - 1; }

 private:
  const Grid& grid_;
  const InverseTable& inverse_;
  const double* mean_;
  const double* scale_;
  std::size_t mean_stride_, scale_stride_;
  i64 low_, high_, n_;
  int P_;
  u64 M_, R_;
};

// A mixture of K parametric components per symbol: G = (sum_j W_j G_j) / 2^16 with integer
// weights W_j summing to 2^16 (quantize_weights), so it is exact and non-decreasing.
class MixtureModel {
 public:
  static constexpr int kMaxComponents = 16;

  MixtureModel(int K, const int* families, const double* means, const double* scales,
               const double* weights, std::size_t stride, i64 low, i64 high, int precision)
      : K_(K),
        means_(means),
        scales_(scales),
        weights_(weights),
        stride_(stride),
        low_(low),
        high_(high),
        n_(high - low + 1),
        P_(precision),
        M_(u64{1} << precision),
        R_(M_ - static_cast<u64>(n_) - 1) {
    for (int j = 0; j < K; ++j) {
      grids_[j] = &family_grid(families[j]);
      inverses_[j] = &inverse_table(families[j]);
    }
  }

  i64 low(std::size_t) const { return low_; }
  i64 high(std::size_t) const { return high_; }

  struct Cdf {
    const MixtureModel* m;
    double mean[kMaxComponents], scale[kMaxComponents], inv_scale[kMaxComponents];
    u32 w[kMaxComponents];
    u32 operator()(i64 k) const {
      if (k <= 0 || k >= m->n_) return cdf_from_g(0, k, m->n_, m->R_, m->M_);
      const double b = static_cast<double>(m->low_) - 0.5 + static_cast<double>(k);
      u64 sum = 0;
      for (int j = 0; j < m->K_; ++j)
        sum += w[j] * table_cdf(*m->grids_[j], (b - mean[j]) * inv_scale[j]);
      return cdf_from_g(sum >> kWeightBits, k, m->n_, m->R_, m->M_);
    }
  };

  Cdf cdf(std::size_t i) const {
    Cdf c;
    c.m = this;
    const std::size_t o = i * stride_;
    for (int j = 0; j < K_; ++j) {
      c.mean[j] = means_[o + j];
      c.scale[j] = scales_[o + j];
      c.inv_scale[j] = 1.0 / scales_[o + j];
    }
    quantize_weights(weights_ + o, K_, c.w);
    return c;
  }

  bool encode_interval(std::size_t i, i64 v, Interval& iv) const {
    if (v < low_ || v > high_) return false;
    const Cdf C = cdf(i);
    const i64 k = v - low_;
    const u32 a = C(k);
    iv = {a, C(k + 1) - a};
    return true;
  }

  bool decode_symbol(std::size_t i, u32 slot, i64& v, Interval& iv) const {
    if (slot >= M_ - 1) {
      iv = {static_cast<u32>(M_ - 1), 1};
      return false;
    }
    const Cdf C = cdf(i);
    u32 lo, hi;
    const i64 k = locate(C, slot, lo, hi);
    iv = {lo, hi - lo};
    v = low_ + k;
    return true;
  }

  // The symbol whose interval holds slot: C at the guess and the next symbol, then a gallop
  // (bracket) if the guess was off.
  i64 locate(const Cdf& C, u32 slot, u32& c_lo, u32& c_hi) const {
    const i64 k = guess(C, slot);
    c_lo = C(k);
    c_hi = C(k + 1);
    if (c_lo <= slot && slot < c_hi) return k;
    return bracket(C, slot, n_, k, c_lo, c_hi);
  }

  // Guess: the weight-averaged quantile of the components at slot / M. Exact for one component,
  // and within a symbol or two of the mixture's quantile when the components overlap (the usual
  // case in learned codecs); the gallop covers the rest.
  i64 guess(const Cdf& C, u32 slot) const {
    const u64 g = static_cast<u64>(slot) << (32 - P_);
    double q = 0.0;
    for (int j = 0; j < K_; ++j)
      if (C.w[j] != 0)
        q += static_cast<double>(C.w[j]) * (C.mean[j] + inverses_[j]->quantile(g) * C.scale[j]);
    q = q * (1.0 / (1 << kWeightBits)) - static_cast<double>(low_);
    // clamp, then truncate (= floor on the non-negative clamped value)
    return static_cast<i64>(std::clamp(q + 0.5, 0.0, static_cast<double>(n_ - 1)));
  }

  i64 low_value() const { return low_; }
  i64 alphabet() const { return n_; }
  u64 escape_slot() const { return M_ - 1; }

 private:
  int K_;
  const Grid* grids_[kMaxComponents];
  const InverseTable* inverses_[kMaxComponents];
  const double* means_;
  const double* scales_;
  const double* weights_;
  std::size_t stride_;
  i64 low_, high_, n_;
  int P_;
  u64 M_, R_;
};

}  // namespace infokit::coding
