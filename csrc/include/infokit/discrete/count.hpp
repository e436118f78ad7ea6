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

// Reads keys from a label array.
template <class T>
struct LabelKeys {
  const T* x;
  u64 operator()(std::size_t i) const noexcept { return order_key(x[i]); }
};

// Joins two dense code arrays (a in [0, ka), b in [0, kb)) into one key a * kb + b.
struct PairKeys {
  const i64* a;
  const i64* b;
  u64 kb;
  u64 operator()(std::size_t i) const noexcept {
    return static_cast<u64>(a[i]) * kb + static_cast<u64>(b[i]);
  }
};

struct KeyRange {
  u64 lo = std::numeric_limits<u64>::max();
  u64 hi = 0;
  bool empty() const noexcept { return lo > hi; }
  // Number of keys in [lo, hi], saturating at the largest u64.
  u64 span() const noexcept {
    if (empty()) return 0;
    const u64 d = hi - lo;
    return d == std::numeric_limits<u64>::max() ? d : d + 1;
  }
};

template <class KeyFn>
KeyRange key_range(std::size_t n, const KeyFn& key, int n_threads) {
  const int nt = threads_for(n, n_threads, kGrain);
  std::vector<KeyRange> part(nt);
  parallel_for(nt, nt, [&](i64 t) {
    const auto [b, e] = part_range(n, nt, t);
    u64 lo = std::numeric_limits<u64>::max(), hi = 0;
    for (std::size_t i = b; i < e; ++i) {
      const u64 k = key(i);
      lo = k < lo ? k : lo;
      hi = k > hi ? k : hi;
    }
    part[t] = {lo, hi};
  });
  KeyRange r;
  for (const auto& p : part) {
    r.lo = std::min(r.lo, p.lo);
    r.hi = std::max(r.hi, p.hi);
  }
  return r;
}

// Widest key span counted in dense tables; wider spans go to the hash table.
inline u64 dense_limit(std::size_t n) {
  return std::clamp<u64>(2 * static_cast<u64>(n), u64{1} << 16, u64{1} << 24);
}

// Distinct keys in ascending order and how often each occurs.
struct Histogram {
  std::vector<u64> keys;
  std::vector<i64> counts;
};

// Counts keys lo + r for r in [0, span) into total[r] (size span, zeroed by the caller).
template <class KeyFn>
void count_dense(std::size_t n, const KeyFn& key, u64 lo, std::size_t span, int n_threads,
                 i64* total) {
  const int nt = threads_for(n, n_threads, kGrain);
  // uint32 partial tables: every part must hold fewer than 2^32 items.
  const std::size_t max_part = std::size_t{1} << 31;
  const std::size_t n_parts = std::max<std::size_t>(nt, (n + max_part - 1) / max_part);
  const int lanes = (span <= 4096 && n >= 4 * span) ? 4 : 1;
  const std::size_t table = lanes * span;
  std::vector<std::uint32_t> partial(n_parts * table);
  parallel_for(static_cast<i64>(n_parts), nt, [&](i64 p) {
    std::uint32_t* t0 = partial.data() + p * table;
    const auto [b, e] = part_range(n, n_parts, p);
    std::size_t i = b;
    if (lanes == 4) {
      std::uint32_t* t1 = t0 + span;
      std::uint32_t* t2 = t1 + span;
      std::uint32_t* t3 = t2 + span;
      for (; i + 4 <= e; i += 4) {
        // The range check keeps every store in bounds even if the data changed under us.
        const u64 k0 = key(i) - lo, k1 = key(i + 1) - lo, k2 = key(i + 2) - lo, k3 = key(i + 3) - lo;
        if (k0 < span) ++t0[k0];
        if (k1 < span) ++t1[k1];
        if (k2 < span) ++t2[k2];
        if (k3 < span) ++t3[k3];
      }
    }
    for (; i < e; ++i) {
      const u64 k = key(i) - lo;
      if (k < span) ++t0[k];
    }
  });
  const int rt = threads_for(span, n_threads, kGrain);
  parallel_for(rt, rt, [&](i64 t) {
    const auto [b, e] = part_range(span, rt, t);
    for (std::size_t p = 0; p < n_parts * lanes; ++p) {
      const std::uint32_t* src = partial.data() + p * span;
      for (std::size_t r = b; r < e; ++r) total[r] += src[r];
    }
  });
}

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
    std::vector<u64> old_keys = std::move(keys_);
    std::vector<i64> old_counts = std::move(counts_);
    keys_.assign(cap, 0);
    counts_.assign(cap, 0);
    mask_ = cap - 1;
    shift_ = 64;
    for (std::size_t c = cap; c > 1; c >>= 1) --shift_;
    size_ = 0;
    for (std::size_t s = 0; s < old_keys.size(); ++s)
      if (old_counts[s] != 0) add(old_keys[s], old_counts[s]);
  }

  std::vector<u64> keys_;
  std::vector<i64> counts_;
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

inline Histogram nonzero_bins(const std::vector<i64>& table, u64 lo) {
  Histogram h;
  for (std::size_t r = 0; r < table.size(); ++r) {
    if (table[r] != 0) {
      h.keys.push_back(lo + r);
      h.counts.push_back(table[r]);
    }
  }
  return h;
}

// Histogram of the keys of n items whose keys all lie in `range`.
template <class KeyFn>
Histogram histogram(std::size_t n, const KeyFn& key, KeyRange range, int n_threads) {
  if (n == 0 || range.empty()) return {};
  const u64 span = range.span();
  if (span <= dense_limit(n)) {
    std::vector<i64> table(span, 0);
    count_dense(n, key, range.lo, span, n_threads, table.data());
    return nonzero_bins(table, range.lo);
  }
  return count_hashed(n, key, n_threads).sorted();
}

// Histogram plus, for every item, the index of its key among the distinct keys (its code).
template <class KeyFn>
Histogram factorize(std::size_t n, const KeyFn& key, KeyRange range, i64* codes, int n_threads) {
  if (n == 0 || range.empty()) return {};
  const int nt = threads_for(n, n_threads, kGrain);
  const u64 span = range.span();
  if (span <= dense_limit(n)) {
    std::vector<i64> table(span, 0);
    count_dense(n, key, range.lo, span, n_threads, table.data());
    Histogram h = nonzero_bins(table, range.lo);
    // Reuse the table as key -> code.
    i64 next = 0;
    for (auto& v : table) v = v != 0 ? next++ : 0;
    parallel_for(nt, nt, [&](i64 t) {
      const auto [b, e] = part_range(n, nt, t);
      for (std::size_t i = b; i < e; ++i) {
        const u64 k = key(i) - range.lo;
        codes[i] = k < span ? table[k] : 0;
      }
    });
    return h;
  }
  KeyCounter counter = count_hashed(n, key, n_threads);
  Histogram h = counter.sorted();
  std::vector<i64> code_of_slot(counter.capacity(), 0);
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
  std::vector<i64> joint, x, y;
};

inline void marginals_from_pairs(const Histogram& joint, u64 ky, std::size_t sx, std::size_t sy,
                                 JointCounts& out) {
  std::vector<i64> mx(sx, 0), my(sy, 0);
  for (std::size_t j = 0; j < joint.keys.size(); ++j) {
    mx[joint.keys[j] / ky] += joint.counts[j];
    my[joint.keys[j] % ky] += joint.counts[j];
  }
  for (auto c : mx)
    if (c) out.x.push_back(c);
  for (auto c : my)
    if (c) out.y.push_back(c);
}

template <class TX, class TY>
JointCounts joint_counts(const TX* x, const TY* y, std::size_t n, int n_threads) {
  JointCounts out;
  if (n == 0) return out;
  const LabelKeys<TX> kx{x};
  const LabelKeys<TY> ky{y};
  const KeyRange rx = key_range(n, kx, n_threads), ry = key_range(n, ky, n_threads);
  const u64 sx = rx.span(), sy = ry.span(), limit = dense_limit(n);
  if (sx <= limit && sy <= limit && sx * sy <= limit) {
    // Both ranges are narrow: count offset pairs directly, no codes needed.
    const u64 xlo = rx.lo, ylo = ry.lo;
    auto pair_key = [=](std::size_t i) { return (kx(i) - xlo) * sy + (ky(i) - ylo); };
    Histogram h = histogram(n, pair_key, KeyRange{0, sx * sy - 1}, n_threads);
    marginals_from_pairs(h, sy, sx, sy, out);
    out.joint = std::move(h.counts);
    return out;
  }
  std::vector<i64> a(n), b(n);
  Histogram hx = factorize(n, kx, rx, a.data(), n_threads);
  Histogram hy = factorize(n, ky, ry, b.data(), n_threads);
  const u64 ka = hx.keys.size(), kb = hy.keys.size();
  // ka, kb <= n, so the product overflows only beyond 2^32 items; then the hash table takes it.
  const u64 hi = ka > std::numeric_limits<u64>::max() / kb ? std::numeric_limits<u64>::max()
                                                           : ka * kb - 1;
  Histogram h = histogram(n, PairKeys{a.data(), b.data(), kb}, KeyRange{0, hi}, n_threads);
  out.joint = std::move(h.counts);
  out.x = std::move(hx.counts);
  out.y = std::move(hy.counts);
  return out;
}

}  // namespace infokit::discrete
