// The counting kernel behind every discrete measure: histograms of integer labels, dense codes
// (factorize), and joint histograms of two label arrays.
//
// Labels of any integer type are mapped to order-preserving unsigned 64-bit keys. A key range that
// is small compared with n is counted in dense per-thread tables (several interleaved lanes when the
// range is tiny, so consecutive equal labels do not serialise on one counter); a wide or sparse range
// goes to an open-addressing hash table. Results list the distinct keys in ascending order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "infokit/parallel.hpp"
#include "infokit/scratch.hpp"

namespace infokit::discrete {

using u64 = std::uint64_t;
using i64 = std::int64_t;

// Below this many items per thread a kernel stays on one thread.
inline constexpr std::size_t kGrain = 1 << 16;

template <class T>
inline u64 order_key(T v) noexcept {
  static_assert(std::is_integral_v<T>, "labels must be integers");
  if constexpr (std::is_same_v<T, bool>) {
    return v ? 1u : 0u;
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<u64>(static_cast<i64>(v)) ^ (u64{1} << 63);
  } else {
    return static_cast<u64>(v);
  }
}

template <class T>
inline T from_order_key(u64 k) noexcept {
  if constexpr (std::is_same_v<T, bool>) {
    return k != 0;
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<T>(static_cast<i64>(k ^ (u64{1} << 63)));
  } else {
    return static_cast<T>(k);
  }
}

// Key sources. key(i) is the order-preserving key of item i; key(i) == raw(i) ^ flip, so that in a
// hot loop the offset key(i) - lo equals raw(i) - (lo ^ flip) modulo 2^64 (xor with the top bit is
// addition of 2^63) and the flip can be left out.

// Reads keys from a label array.
template <class T>
struct LabelKeys {
  const T* x;
  static constexpr u64 flip =
      std::is_signed_v<T> && !std::is_same_v<T, bool> ? u64{1} << 63 : u64{0};
  u64 raw(std::size_t i) const noexcept { return order_key(x[i]) ^ flip; }
  u64 operator()(std::size_t i) const noexcept { return order_key(x[i]); }
};

// Joins two dense code arrays (a in [0, ka), b in [0, kb)) into one key a * kb + b.
struct PairKeys {
  const i64* a;
  const i64* b;
  u64 kb;
  static constexpr u64 flip = 0;
  u64 raw(std::size_t i) const noexcept { return (*this)(i); }
  u64 operator()(std::size_t i) const noexcept {
    return static_cast<u64>(a[i]) * kb + static_cast<u64>(b[i]);
  }
};

// Widest key span counted in dense tables; wider spans go to the hash table.
inline u64 dense_limit(std::size_t n) {
  return std::clamp<u64>(2 * static_cast<u64>(n), u64{1} << 16, u64{1} << 22);
}

// Distinct keys in ascending order and how often each occurs.
struct Histogram {
  scratch_vector<u64> keys;
  scratch_vector<i64> counts;
};

// Open-addressing (linear probing) table from key to count; a zero count marks an empty slot.
class KeyCounter {
 public:
  explicit KeyCounter(std::size_t expected = 1024) { rehash(capacity_for(expected)); }

  void add(u64 key, i64 c = 1) {
    std::size_t s = slot_of(key);
    while (counts_[s] != 0) {
      if (keys_[s] == key) {
        counts_[s] += c;
        return;
      }
      s = (s + 1) & mask_;
    }
    keys_[s] = key;
    counts_[s] = c;
    if (++size_ * 2 > keys_.size()) rehash(keys_.size() * 2);
  }

  // Slot holding `key`, or -1.
  i64 find(u64 key) const noexcept {
    std::size_t s = slot_of(key);
    while (counts_[s] != 0) {
      if (keys_[s] == key) return static_cast<i64>(s);
      s = (s + 1) & mask_;
    }
    return -1;
  }

  void merge(const KeyCounter& other) {
    for (std::size_t s = 0; s < other.keys_.size(); ++s)
      if (other.counts_[s] != 0) add(other.keys_[s], other.counts_[s]);
  }

  Histogram sorted() const {
    std::vector<std::size_t> slots;
    slots.reserve(size_);
    for (std::size_t s = 0; s < keys_.size(); ++s)
      if (counts_[s] != 0) slots.push_back(s);
    std::sort(slots.begin(), slots.end(),
              [&](std::size_t a, std::size_t b) { return keys_[a] < keys_[b]; });
    Histogram h;
    h.keys.reserve(slots.size());
    h.counts.reserve(slots.size());
    for (auto s : slots) {
      h.keys.push_back(keys_[s]);
      h.counts.push_back(counts_[s]);
    }
    return h;
  }

  std::size_t capacity() const noexcept { return keys_.size(); }

 private:
  static std::size_t capacity_for(std::size_t expected) {
    std::size_t c = 16;
    while (c < 2 * expected) c *= 2;
    return c;
  }
  std::size_t slot_of(u64 key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void rehash(std::size_t cap) {
    scratch_vector<u64> old_keys = std::move(keys_);
    scratch_vector<i64> old_counts = std::move(counts_);
    keys_.assign(cap, 0);
    counts_.assign(cap, 0);
    mask_ = cap - 1;
    shift_ = 64;
    for (std::size_t c = cap; c > 1; c >>= 1) --shift_;
    size_ = 0;
    for (std::size_t s = 0; s < old_keys.size(); ++s)
      if (old_counts[s] != 0) add(old_keys[s], old_counts[s]);
  }

  scratch_vector<u64> keys_;
  scratch_vector<i64> counts_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

// One hash table per thread, merged into the first.
template <class KeyFn>
KeyCounter count_hashed(std::size_t n, const KeyFn& key, int n_threads) {
  const int nt = threads_for(n, n_threads, kGrain);
  std::vector<KeyCounter> part(nt);
  parallel_for(nt, nt, [&](i64 t) {
    const auto [b, e] = part_range(n, nt, t);
    KeyCounter& c = part[t];
    for (std::size_t i = b; i < e; ++i) c.add(key(i));
  });
  for (int t = 1; t < nt; ++t) part[0].merge(part[t]);
  return std::move(part[0]);
}

// ---- Single-pass dense counting -------------------------------------------------------------
//
// Each thread counts its contiguous part of the items into a dense uint32 table over a box of keys
// [x0, x0 + sx) x [y0, y0 + sy) (sy = 1 for one variable) that starts empty and grows, with slack,
// whenever a key falls outside it. The input is read once, with no separate min/max pass. A box
// that would exceed `limit` cells makes the pass give up, and the caller takes the hashed route.

// The second coordinate of a one-variable count.
struct ZeroKey {
  static constexpr u64 flip = 0;
  u64 raw(std::size_t) const noexcept { return 0; }
  u64 operator()(std::size_t) const noexcept { return 0; }
};

class GrowingTable {
 public:
  explicit GrowingTable(u64 limit) : limit_(limit) {}

  u64 x0() const noexcept { return x0_; }
  u64 y0() const noexcept { return y0_; }
  u64 sx() const noexcept { return sx_; }
  u64 sy() const noexcept { return sy_; }
  bool empty() const noexcept { return sx_ == 0; }

  // Count of cell (r, c) of the box, summed over lanes.
  u64 at(u64 r, u64 c) const noexcept {
    u64 v = 0;
    for (std::size_t l = 0; l < lanes_; ++l) v += c_[l * cells() + r * sy_ + c];
    return v;
  }

  bool inside_of(const GrowingTable& o) const noexcept {
    return empty() || (x0_ >= o.x0_ && y0_ >= o.y0_ && x0_ - o.x0_ + sx_ <= o.sx_ &&
                       y0_ - o.y0_ + sy_ <= o.sy_);
  }

  // Adds this table's counts into `dst`, whose box must contain this one (inside_of(dst)).
  void add_to(GrowingTable& dst) const noexcept {
    for (u64 r = 0; r < sx_; ++r) {
      std::uint32_t* row = dst.c_.data() + (r + x0_ - dst.x0_) * dst.sy_ + (y0_ - dst.y0_);
      for (u64 q = 0; q < sy_; ++q) row[q] += static_cast<std::uint32_t>(at(r, q));
    }
  }

  // Counts items [b, e); false if the box outgrew the limit (the counts are then incomplete).
  template <class KX, class KY>
  bool count(std::size_t b, std::size_t e, const KX& kx, const KY& ky) {
    std::size_t i = b;
    while (i < e) {
      i = count_while_inside(i, e, kx, ky);
      if (i == e) break;
      const u64 a = kx(i), c = ky(i);
      if (!contains(a, c) && !include(a, c)) return false;
      ++c_[(a - x0_) * sy_ + (c - y0_)];  // item i may belong to a partly fitting group of four
      ++i;
    }
    return true;
  }

 private:
  std::size_t cells() const noexcept { return static_cast<std::size_t>(sx_ * sy_); }
  bool contains(u64 a, u64 c) const noexcept { return a - x0_ < sx_ && c - y0_ < sy_; }

  // Counts from i while every key falls inside the box; returns the index of the first that doesn't.
  template <class KX, class KY>
  std::size_t count_while_inside(std::size_t i, std::size_t e, const KX& kx, const KY& ky) {
    if constexpr (std::is_same_v<KY, ZeroKey>) {
      return count_while_inside_1d(i, e, kx);
    } else {
      const u64 x0 = x0_ ^ KX::flip, y0 = y0_ ^ KY::flip, sx = sx_, sy = sy_;
      std::uint32_t* t0 = c_.data();
      for (; i < e; ++i) {
        const u64 a = kx.raw(i) - x0, c = ky.raw(i) - y0;
        if (!((a < sx) & (c < sy))) return i;
        ++t0[a * sy + c];
      }
      return e;
    }
  }

  template <class KX>
  std::size_t count_while_inside_1d(std::size_t i, std::size_t e, const KX& kx) {
    const u64 x0 = x0_ ^ KX::flip, sx = sx_;
    std::uint32_t* t0 = c_.data();
    if (lanes_ == 4) {
      // Four interleaved tables: consecutive equal keys land on different counters.
      std::uint32_t* t1 = t0 + sx;
      std::uint32_t* t2 = t1 + sx;
      std::uint32_t* t3 = t2 + sx;
      for (; i + 4 <= e; i += 4) {
        const u64 a0 = kx.raw(i) - x0, a1 = kx.raw(i + 1) - x0;
        const u64 a2 = kx.raw(i + 2) - x0, a3 = kx.raw(i + 3) - x0;
        if (!((a0 < sx) & (a1 < sx) & (a2 < sx) & (a3 < sx))) return i;
        ++t0[a0];
        ++t1[a1];
        ++t2[a2];
        ++t3[a3];
      }
    }
    for (; i < e; ++i) {
      const u64 a = kx.raw(i) - x0;
      if (!(a < sx)) return i;
      ++t0[a];
    }
    return e;
  }

  // New [lo, lo + span) covering the old one and key k, widened by a quarter when it grew.
  static void widen(u64 lo, u64 span, u64 k, u64& nlo, u64& nspan, bool slack) {
    if (span == 0) {
      nlo = k;
      nspan = 1;
      return;
    }
    const u64 hi = lo + (span - 1);
    u64 a = std::min(lo, k), z = std::max(hi, k);
    if (slack && (k < lo || k > hi)) {
      // Widths are compared as (last - first), never as a count, so nothing overflows.
      // A quarter more than the old span: few regrowths, and a table not much wider than the data.
      const u64 want = span + span / 4;  // desired last - first
      if (z - a < want) {
        if (k < lo) {
          a = z >= want ? z - want : 0;
        } else {
          z = std::numeric_limits<u64>::max() - a >= want ? a + want
                                                           : std::numeric_limits<u64>::max();
        }
      }
    }
    nlo = a;
    nspan = z - a == std::numeric_limits<u64>::max() ? z - a : z - a + 1;
  }

  bool include(u64 a, u64 c) {
    u64 nx0, nsx, ny0, nsy;
    bool ok = false;
    for (int slack = 1; slack >= 0 && !ok; --slack) {
      widen(x0_, sx_, a, nx0, nsx, slack);
      widen(y0_, sy_, c, ny0, nsy, slack);
      ok = nsx <= limit_ && nsy <= limit_ && nsx * nsy <= limit_;
    }
    if (!ok) return false;
    const std::size_t ncells = static_cast<std::size_t>(nsx * nsy);
    const std::size_t nlanes = nsy == 1 && ncells <= 4096 ? 4 : 1;  // lanes: 1-D tables only
    scratch_vector<std::uint32_t> next(nlanes * ncells, 0);
    for (std::size_t l = 0; l < lanes_; ++l) {
      const std::uint32_t* src = c_.data() + l * cells();
      std::uint32_t* dst = next.data() + (l % nlanes) * ncells;
      for (u64 r = 0; r < sx_; ++r)
        for (u64 q = 0; q < sy_; ++q) dst[(r + x0_ - nx0) * nsy + (q + y0_ - ny0)] += src[r * sy_ + q];
    }
    c_ = std::move(next);
    lanes_ = nlanes;
    x0_ = nx0;
    sx_ = nsx;
    y0_ = ny0;
    sy_ = nsy;
    return true;
  }

  u64 limit_;
  u64 x0_ = 0, sx_ = 0, y0_ = 0, sy_ = 0;
  std::size_t lanes_ = 1;
  scratch_vector<std::uint32_t> c_;
};

// The per-part tables of one counting pass, summed. Parts whose boxes fit inside the first part's
// are added into it (no new table); otherwise they are summed into an int64 table over the union.
class GrownCounts {
 public:
  template <class KX, class KY>
  bool count(std::size_t n, const KX& kx, const KY& ky, u64 limit, int n_threads) {
    const int nt = threads_for(n, n_threads, kGrain);
    const std::size_t max_part = std::size_t{1} << 31;  // uint32 counters
    const std::size_t n_parts = std::max<std::size_t>(nt, (n + max_part - 1) / max_part);
    parts_.assign(n_parts, GrowingTable(limit));
    std::vector<char> ok(n_parts, 1);
    parallel_for(static_cast<i64>(n_parts), nt, [&](i64 p) {
      const auto [b, e] = part_range(n, n_parts, p);
      ok[p] = parts_[p].count(b, e, kx, ky);
    });
    for (char o : ok)
      if (!o) return false;
    bool nested = n < max_part;  // the sum of all parts still fits a uint32 counter
    for (const auto& g : parts_) nested = nested && g.inside_of(parts_[0]);
    if (nested) {
      for (std::size_t p = 1; p < n_parts; ++p) parts_[p].add_to(parts_[0]);
      parts_.erase(parts_.begin() + 1, parts_.end());
      x0_ = parts_[0].x0();
      sx_ = parts_[0].sx();
      y0_ = parts_[0].y0();
      sy_ = parts_[0].sy();
      return true;
    }
    return merge_union(limit, n_threads);
  }

  u64 x0() const noexcept { return x0_; }
  u64 y0() const noexcept { return y0_; }
  u64 sx() const noexcept { return sx_; }
  u64 sy() const noexcept { return sy_; }

  // Count of cell (r, c) of the box.
  i64 at(u64 r, u64 c) const noexcept {
    return merged_.empty() ? static_cast<i64>(parts_[0].at(r, c)) : merged_[r * sy_ + c];
  }

 private:
  bool merge_union(u64 limit, int n_threads) {
    u64 xlo = std::numeric_limits<u64>::max(), xhi = 0, ylo = xlo, yhi = 0;
    for (const auto& g : parts_) {
      if (g.empty()) continue;
      xlo = std::min(xlo, g.x0());
      xhi = std::max(xhi, g.x0() + (g.sx() - 1));
      ylo = std::min(ylo, g.y0());
      yhi = std::max(yhi, g.y0() + (g.sy() - 1));
    }
    const u64 dx = xhi - xlo, dy = yhi - ylo;
    if (dx >= limit || dy >= limit || (dx + 1) * (dy + 1) > 2 * limit) return false;
    x0_ = xlo;
    sx_ = dx + 1;
    y0_ = ylo;
    sy_ = dy + 1;
    merged_.assign(static_cast<std::size_t>(sx_ * sy_), 0);
    // Rows of the union are split among threads; each adds every part's overlapping rows.
    const int rt = threads_for(merged_.size(), n_threads, kGrain);
    parallel_for(rt, rt, [&](i64 t) {
      const auto [rb, re] = part_range(static_cast<std::size_t>(sx_), rt, t);
      for (const auto& g : parts_) {
        if (g.empty()) continue;
        for (u64 r = 0; r < g.sx(); ++r) {
          const u64 row = g.x0() - xlo + r;
          if (row < rb || row >= re) continue;
          i64* dst = merged_.data() + row * sy_ + (g.y0() - ylo);
          for (u64 q = 0; q < g.sy(); ++q) dst[q] += static_cast<i64>(g.at(r, q));
        }
      }
    });
    return true;
  }

  std::vector<GrowingTable> parts_;
  scratch_vector<i64> merged_;
  u64 x0_ = 0, sx_ = 0, y0_ = 0, sy_ = 0;
};

// Histogram of the keys of n items, in one pass when the keys are narrow.
template <class KeyFn>
Histogram histogram(std::size_t n, const KeyFn& key, int n_threads) {
  if (n == 0) return {};
  GrownCounts g;
  if (!g.count(n, key, ZeroKey{}, dense_limit(n), n_threads))
    return count_hashed(n, key, n_threads).sorted();
  Histogram h;
  h.keys.reserve(std::min<u64>(g.sx(), n));
  h.counts.reserve(std::min<u64>(g.sx(), n));
  for (u64 r = 0; r < g.sx(); ++r) {
    const i64 c = g.at(r, 0);
    if (c != 0) {
      h.keys.push_back(g.x0() + r);
      h.counts.push_back(c);
    }
  }
  return h;
}

// Histogram plus, for every item, the index of its key among the distinct keys (its code). The
// counting pass is the same single pass as histogram(); a second pass writes the codes.
template <class KeyFn>
Histogram factorize(std::size_t n, const KeyFn& key, i64* codes, int n_threads) {
  if (n == 0) return {};
  const int nt = threads_for(n, n_threads, kGrain);
  GrownCounts g;
  if (g.count(n, key, ZeroKey{}, dense_limit(n), n_threads)) {
    const u64 lo = g.x0(), span = g.sx();
    scratch_vector<i64> code_of(span, 0);
    Histogram h;
    for (u64 r = 0; r < span; ++r) {
      const i64 c = g.at(r, 0);
      if (c == 0) continue;
      code_of[r] = static_cast<i64>(h.keys.size());
      h.keys.push_back(lo + r);
      h.counts.push_back(c);
    }
    parallel_for(nt, nt, [&](i64 t) {
      const auto [b, e] = part_range(n, nt, t);
      for (std::size_t i = b; i < e; ++i) {
        const u64 k = key(i) - lo;  // in range unless the data changed under us
        codes[i] = k < span ? code_of[k] : 0;
      }
    });
    return h;
  }
  KeyCounter counter = count_hashed(n, key, n_threads);
  Histogram h = counter.sorted();
  scratch_vector<i64> code_of_slot(counter.capacity(), 0);
  for (std::size_t j = 0; j < h.keys.size(); ++j)
    code_of_slot[counter.find(h.keys[j])] = static_cast<i64>(j);
  parallel_for(nt, nt, [&](i64 t) {
    const auto [b, e] = part_range(n, nt, t);
    for (std::size_t i = b; i < e; ++i) {
      const i64 s = counter.find(key(i));
      codes[i] = s >= 0 ? code_of_slot[s] : 0;
    }
  });
  return h;
}

// Joint histogram of two label arrays plus both marginal histograms (counts only, keys ascending).
struct JointCounts {
  scratch_vector<i64> joint, x, y;
};

template <class TX, class TY>
JointCounts joint_counts(const TX* x, const TY* y, std::size_t n, int n_threads) {
  JointCounts out;
  if (n == 0) return out;
  const LabelKeys<TX> kx{x};
  const LabelKeys<TY> ky{y};
  GrownCounts g;
  if (g.count(n, kx, ky, dense_limit(n), n_threads)) {
    // Narrow labels: the table is the joint histogram; margins are its row and column sums.
    scratch_vector<i64> my(g.sy(), 0);
    out.joint.reserve(std::min<u64>(g.sx() * g.sy(), n));
    for (u64 r = 0; r < g.sx(); ++r) {
      i64 rowsum = 0;
      for (u64 q = 0; q < g.sy(); ++q) {
        const i64 v = g.at(r, q);
        if (v == 0) continue;
        out.joint.push_back(v);
        rowsum += v;
        my[q] += v;
      }
      if (rowsum) out.x.push_back(rowsum);
    }
    for (auto v : my)
      if (v) out.y.push_back(v);
    return out;
  }
  // Wide labels: dense codes per variable, then the pairs of codes.
  scratch_vector<i64> a(n), b(n);
  Histogram hx = factorize(n, kx, a.data(), n_threads);
  Histogram hy = factorize(n, ky, b.data(), n_threads);
  Histogram h = histogram(n, PairKeys{a.data(), b.data(), hy.keys.size()}, n_threads);
  out.joint = std::move(h.counts);
  out.x = std::move(hx.counts);
  out.y = std::move(hy.counts);
  return out;
}

}  // namespace infokit::discrete
