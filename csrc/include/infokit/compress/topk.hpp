// Top-k selection by |x| (radix select), optionally fused with error feedback.
//
// Pass 1 builds, per task, a histogram of the top 16 bits of the key of |x| (AbsKey), which
// orders like |x|; the merged histogram names the bin T holding the k-th largest key. Pass 2
// writes every element of a bin above T straight to the output and keeps the elements of bin T
// as candidates; the candidates missing from k are chosen by (|x| descending, index ascending).
// Two reads of x, O(n + 2^16 · tasks + c log c) for c candidates (a few thousand on smooth data).
//
// Ties at the k-th value keep the lowest indices, so the selection is the first k entries of a
// stable sort by descending |x|. The output indices are ascending. The per-task histograms fix
// every element's destination, so the result does not depend on the thread count.
//
// With a residual e (error feedback, Seide et al. 2014; Stich et al. 2018): acc = e + x is
// selected, and e becomes acc with the selected entries set to zero, so acc = decoded + e exactly.
// e is only written after the non-finite check of pass 1 has passed.
#pragma once

#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cmath>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "infokit/compress/common.hpp"
#include "infokit/parallel.hpp"
#include "infokit/scratch.hpp"

namespace infokit::compress {

namespace detail {

template <class T, bool kFeedback>
struct Source {
  const T* x;
  const T* e;
  T operator()(std::size_t i) const {
    if constexpr (kFeedback) {
      return static_cast<T>(e[i] + x[i]);
    } else {
      return x[i];
    }
  }
};

template <class T>
struct Candidate {
  typename AbsKey<T>::U key;
  std::int64_t index;
  T value;
};

template <class T, bool kFeedback>
Status topk_impl(const T* x, T* residual, std::size_t n, std::size_t k, std::int64_t* out_index,
                 T* out_value, int n_threads) {
  using U = typename AbsKey<T>::U;
  constexpr int shift = AbsKey<T>::kHistShift;
  const Source<T, kFeedback> value{x, residual};

  const int nt = threads_for(n, n_threads, std::size_t{1} << 16);
  // Per-task uint32 histograms need chunks below 2^32 elements.
  const std::size_t max_chunk = std::size_t{1} << 31;
  const std::size_t n_tasks =
      std::max<std::size_t>(static_cast<std::size_t>(nt), (n + max_chunk - 1) / max_chunk);
  scratch_vector<std::uint32_t> hist(n_tasks * kHistBins, 0);
  std::vector<unsigned char> bad(n_tasks, 0);

  parallel_for(static_cast<std::int64_t>(n_tasks), nt, [&](std::int64_t t) {
    const auto [lo, hi] = part_range(n, n_tasks, static_cast<std::size_t>(t));
    std::uint32_t* h = hist.data() + static_cast<std::size_t>(t) * kHistBins;
    U worst = 0;
    for (std::size_t i = lo; i < hi; ++i) {
      const U key = abs_key(value(i));
      worst = std::max(worst, key);
      ++h[key >> shift];
    }
    bad[static_cast<std::size_t>(t)] = worst >= AbsKey<T>::kNonFinite;
  });
  for (unsigned char b : bad)
    if (b) return Status::non_finite;

  // The bin of the k-th largest key, and how many keys lie in higher bins.
  std::size_t threshold_bin = 0, above = 0;
  for (std::size_t bin = kHistBins; bin-- > 0;) {
    std::size_t in_bin = 0;
    for (std::size_t t = 0; t < n_tasks; ++t) in_bin += hist[t * kHistBins + bin];
    if (above + in_bin >= k) {
      threshold_bin = bin;
      break;
    }
    above += in_bin;
  }
  const std::size_t need = k - above;

  // Where each task writes its sure elements (bins above T) and its candidates (bin T).
  std::vector<std::size_t> sure_at(n_tasks + 1, 0), cand_at(n_tasks + 1, 0);
  for (std::size_t t = 0; t < n_tasks; ++t) {
    const std::uint32_t* h = hist.data() + t * kHistBins;
    std::size_t sure = 0;
    for (std::size_t bin = threshold_bin + 1; bin < kHistBins; ++bin) sure += h[bin];
    sure_at[t + 1] = sure_at[t] + sure;
    cand_at[t + 1] = cand_at[t] + h[threshold_bin];
  }
  scratch_vector<std::int64_t> sure_index(above);
  scratch_vector<T> sure_value(above);
  std::vector<Candidate<T>> cand(cand_at[n_tasks]);

  parallel_for(static_cast<std::int64_t>(n_tasks), nt, [&](std::int64_t t) {
    const auto tt = static_cast<std::size_t>(t);
    const auto [lo, hi] = part_range(n, n_tasks, tt);
    std::size_t s = sure_at[tt], c = cand_at[tt];
    for (std::size_t i = lo; i < hi; ++i) {
      const T v = value(i);
      const U key = abs_key(v);
      const std::size_t bin = key >> shift;
      if (bin > threshold_bin) {
        sure_index[s] = static_cast<std::int64_t>(i);
        sure_value[s++] = v;
        if constexpr (kFeedback) residual[i] = T(0);
      } else {
        if (bin == threshold_bin) cand[c++] = Candidate<T>{key, static_cast<std::int64_t>(i), v};
        if constexpr (kFeedback) residual[i] = v;
      }
    }
  });

  // The `need` best candidates, then back in index order.
  if (need < cand.size()) {
    auto better = [](const Candidate<T>& a, const Candidate<T>& b) {
      return a.key != b.key ? a.key > b.key : a.index < b.index;
    };
    std::nth_element(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(need), cand.end(),
                     better);
    cand.resize(need);
    std::sort(cand.begin(), cand.end(),
              [](const Candidate<T>& a, const Candidate<T>& b) { return a.index < b.index; });
  }

  // Merge the two ascending index lists.
  std::size_t a = 0, b = 0, o = 0;
  while (a < above || b < need) {
    if (b == need || (a < above && sure_index[a] < cand[b].index)) {
      out_index[o] = sure_index[a];
      out_value[o++] = sure_value[a++];
    } else {
      out_index[o] = cand[b].index;
      out_value[o++] = cand[b++].value;
      if constexpr (kFeedback) residual[out_index[o - 1]] = T(0);
    }
  }
  return Status::ok;
}

// Bit j set when entry p[j] (of 16) may have a key >= floor_key. Integer compares on the keys,
// so the test is immune to denormals-are-zero modes. For float the mask is exact; for double it
// compares the high 32 bits only (SSE2 has no 64-bit compare), a superset that the caller
// narrows with the exact key. Keys are < 2^31 (float) or their high halves are, so signed
// compares are correct.
inline unsigned reach_mask16(const float* p, std::uint32_t floor_key) {
#if defined(__SSE2__)
  const __m128i magnitude = _mm_set1_epi32(0x7FFFFFFF);
  const __m128i below = _mm_set1_epi32(static_cast<std::int32_t>(floor_key) - 1);
  unsigned mask = 0;
  for (int j = 0; j < 4; ++j) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 4 * j));
    const __m128i hit = _mm_cmpgt_epi32(_mm_and_si128(v, magnitude), below);
    mask |= static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(hit))) << (4 * j);
  }
  return mask;
#else
  unsigned mask = 0;
  for (int j = 0; j < 16; ++j) mask |= static_cast<unsigned>(abs_key(p[j]) >= floor_key) << j;
  return mask;
#endif
}

inline unsigned reach_mask16(const double* p, std::uint64_t floor_key) {
#if defined(__SSE2__)
  const __m128i magnitude = _mm_set1_epi64x(0x7FFFFFFFFFFFFFFFLL);
  const __m128i below = _mm_set1_epi32(static_cast<std::int32_t>(floor_key >> 32) - 1);
  unsigned mask = 0;
  for (int j = 0; j < 8; ++j) {
    const __m128i v = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * j)),
                                    magnitude);
    const __m128i high = _mm_shuffle_epi32(v, _MM_SHUFFLE(3, 1, 3, 1));  // [hi0, hi1, hi0, hi1]
    const int hit = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(high, below))) & 3;
    mask |= static_cast<unsigned>(hit) << (2 * j);
  }
  return mask;
#else
  unsigned mask = 0;
  for (int j = 0; j < 16; ++j) mask |= static_cast<unsigned>(abs_key(p[j]) >= floor_key) << j;
  return mask;
#endif
}

// One-pass variant for plain top-k on large inputs with k <= n/4. A strided sample of 2^14 keys
// gives a key `floor` that at least k entries reach with near certainty; one read of x collects
// every entry with key >= floor (per task, in index order). If at least k were collected, the
// k-th largest key K among them is found by nth_element and a linear filter keeps keys > K and
// the lowest-index keys == K: the same set as the exact definition, already in index order. If
// fewer than k (or far too many) were collected, it returns false and the caller falls back to
// the histogram path: the sample only decides the speed, never the answer.
//
// With a residual (error feedback) the entries are acc = residual + x, and a last pass writes
// residual = acc with the selected entries zeroed; the collecting pass only reads, so a
// non-finite acc leaves the residual untouched.
template <class T, bool kFeedback>
bool topk_sampled(const T* x, T* residual, std::size_t n, std::size_t k, std::int64_t* out_index,
                  T* out_value, int n_threads, Status* status) {
  using U = typename AbsKey<T>::U;
  const Source<T, kFeedback> value{x, residual};
  constexpr std::size_t kSample = std::size_t{1} << 14;
  const std::size_t stride = n / kSample;
  std::vector<U> sample(kSample);
  for (std::size_t j = 0; j < kSample; ++j) sample[j] = abs_key(value(j * stride));
  const double q = static_cast<double>(k) * kSample / static_cast<double>(n);
  const auto rank = std::min<std::size_t>(kSample - 1, static_cast<std::size_t>(q + 4.0 * std::sqrt(q) + 16.0));
  std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(rank), sample.end(),
                   std::greater<U>());
  const U floor_key = std::min<U>(sample[rank], AbsKey<T>::kNonFinite);

  const int nt = threads_for(n, n_threads, std::size_t{1} << 16);
  const double expected = static_cast<double>(rank + 1) / kSample * static_cast<double>(n);
  const std::size_t cap = static_cast<std::size_t>(3.0 * expected / nt) + (std::size_t{1} << 16);
  // Per task, in index order: the index and key of every entry with key >= floor_key. NaN and
  // inf have keys >= kNonFinite >= floor_key, so they are always collected and checked below.
  std::vector<scratch_vector<std::int64_t>> found(static_cast<std::size_t>(nt));
  std::vector<scratch_vector<U>> found_key(static_cast<std::size_t>(nt));
  std::vector<unsigned char> overflow(static_cast<std::size_t>(nt), 0);
  parallel_for(nt, nt, [&](std::int64_t t) {
    const auto tt = static_cast<std::size_t>(t);
    const auto [lo, hi] = part_range(n, static_cast<std::size_t>(nt), tt);
    auto& idx = found[tt];
    auto& key = found_key[tt];
    const std::size_t guess = std::min(cap, static_cast<std::size_t>(1.2 * expected / nt) + 1024);
    idx.reserve(guess);
    key.reserve(guess);
    auto visit = [&](std::size_t i) {
      const U kk = abs_key(value(i));
      if (kk >= floor_key) {
        idx.push_back(static_cast<std::int64_t>(i));
        key.push_back(kk);
      }
    };
    std::size_t i = lo;
    // Blocks of 16: a SIMD test gives the lanes that may hold a candidate; only those are visited.
    alignas(16) T block[16];
    for (; i + 16 <= hi && idx.size() < cap; i += 16) {
      const T* p = x + i;
      if constexpr (kFeedback) {
        for (std::size_t j = 0; j < 16; ++j) block[j] = value(i + j);
        p = block;
      }
      for (unsigned mask = reach_mask16(p, floor_key); mask != 0; mask &= mask - 1)
        visit(i + static_cast<std::size_t>(__builtin_ctz(mask)));
    }
    if (idx.size() >= cap) {
      overflow[tt] = 1;
      return;
    }
    for (; i < hi; ++i) visit(i);
  });
  std::size_t total = 0;
  for (std::size_t t = 0; t < found.size(); ++t) {
    if (overflow[t]) return false;
    total += found[t].size();
    for (U kk : found_key[t]) {
      if (kk >= AbsKey<T>::kNonFinite) {
        *status = Status::non_finite;
        return true;
      }
    }
  }
  if (total < k) return false;

  scratch_vector<U> keys;
  keys.reserve(total);
  for (const auto& f : found_key) keys.insert(keys.end(), f.begin(), f.end());
  std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(k - 1), keys.end(),
                   std::greater<U>());
  const U kth = keys[k - 1];
  std::size_t above = 0;
  for (std::size_t j = 0; j < k; ++j) above += keys[j] > kth;  // all keys > kth sit before k-1
  std::size_t ties = k - above, o = 0;
  for (std::size_t t = 0; t < found.size(); ++t) {
    const auto& idx = found[t];
    const auto& key = found_key[t];
    for (std::size_t j = 0; j < idx.size(); ++j) {
      const bool take = key[j] > kth || (key[j] == kth && ties > 0);
      if (take) {
        if (key[j] == kth) --ties;
        if (o < k) {
          out_index[o] = idx[j];
          out_value[o] = value(static_cast<std::size_t>(idx[j]));
        }
        ++o;
      }
    }
  }
  if (o != k) {
    *status = Status::bad_input;
    return true;
  }
  if constexpr (kFeedback) {
    parallel_for(nt, nt, [&](std::int64_t t) {
      const auto [lo, hi] = part_range(n, static_cast<std::size_t>(nt), static_cast<std::size_t>(t));
      for (std::size_t i = lo; i < hi; ++i) residual[i] = value(i);
    });
    for (std::size_t j = 0; j < k; ++j) residual[out_index[j]] = T(0);
  }
  *status = Status::ok;
  return true;
}

}  // namespace detail

namespace detail {

// topk and topk_feedback: the sampled route for large n and small k, else the exact selection.
template <class T, bool kFeedback>
Status select_topk(const T* x, T* residual, std::size_t n, std::size_t k, std::int64_t* out_index,
                   T* out_value, int n_threads) {
  if (k < 1 || k > n) return Status::bad_input;
  try {
    Status status = Status::ok;
    if (n >= (std::size_t{1} << 18) && k <= n / 4 &&
        topk_sampled<T, kFeedback>(x, residual, n, k, out_index, out_value, n_threads, &status))
      return status;
    return topk_impl<T, kFeedback>(x, residual, n, k, out_index, out_value, n_threads);
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
}

}  // namespace detail

// The k entries of largest |x| (1 <= k <= n): ascending indices and their values.
template <class T>
Status topk(const T* x, std::size_t n, std::size_t k, std::int64_t* out_index, T* out_value,
            int n_threads) {
  return detail::select_topk<T, false>(x, nullptr, n, k, out_index, out_value, n_threads);
}

// Error-feedback step: selects the top k of acc = residual + x and leaves acc - selected in
// residual. On a non-finite acc nothing is written and Status::non_finite is returned.
template <class T>
Status topk_feedback(const T* x, T* residual, std::size_t n, std::size_t k,
                     std::int64_t* out_index, T* out_value, int n_threads) {
  return detail::select_topk<T, true>(x, residual, n, k, out_index, out_value, n_threads);
}

// Approximate top-k by a sampled threshold (the sampling of Lin et al., "Deep gradient
// compression", ICLR 2018): the keys of m = min(n, 2^14) entries at positions j·(n / m) give tau,
// the r-th largest of them with r = ceil(k·m / n), and every entry with |x| >= tau is kept, in
// ascending index order. That is exactly the top-c set for the c entries kept (ties at tau all
// kept), with c close to k but set by the sample. One read of x; no randomness, and the result
// does not depend on the thread count. *threshold receives tau. k·m must fit in size_t (n < 2^50).
template <class T>
Status topk_approx(const T* x, std::size_t n, std::size_t k, std::vector<std::int64_t>* out_index,
                   T* threshold, int n_threads) {
  using U = typename AbsKey<T>::U;
  if (k < 1 || k > n || out_index == nullptr || threshold == nullptr) return Status::bad_input;
  try {
    const std::size_t m = std::min<std::size_t>(n, std::size_t{1} << 14);
    const std::size_t stride = n / m;
    const std::size_t r = (k * m + n - 1) / n;  // in [1, m] since 1 <= k <= n
    std::vector<U> sample(m);
    for (std::size_t j = 0; j < m; ++j) sample[j] = abs_key(x[j * stride]);
    std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(r - 1),
                     sample.end(), std::greater<U>());
    // NaN/inf keys are >= kNonFinite >= floor_key: always collected, then reported.
    const U floor_key = std::min<U>(sample[r - 1], AbsKey<T>::kNonFinite);
    std::memcpy(threshold, &floor_key, sizeof(T));

    const int nt = threads_for(n, n_threads, std::size_t{1} << 16);
    std::vector<std::vector<std::int64_t>> found(static_cast<std::size_t>(nt));
    std::vector<unsigned char> bad(static_cast<std::size_t>(nt), 0);
    std::vector<unsigned char> no_memory(static_cast<std::size_t>(nt), 0);
    parallel_for(nt, nt, [&](std::int64_t t) {
      const auto tt = static_cast<std::size_t>(t);
      const auto [lo, hi] = part_range(n, static_cast<std::size_t>(nt), tt);
      auto& idx = found[tt];
      try {
        idx.reserve((hi - lo) / m * r + 1024);
        auto visit = [&](std::size_t i) {
          const U key = abs_key(x[i]);
          if (key >= floor_key) {  // reach_mask16 may over-report for double: narrow exactly
            bad[tt] |= static_cast<unsigned char>(key >= AbsKey<T>::kNonFinite);
            idx.push_back(static_cast<std::int64_t>(i));
          }
        };
        std::size_t i = lo;
        for (; i + 16 <= hi; i += 16)
          for (unsigned mask = detail::reach_mask16(x + i, floor_key); mask != 0; mask &= mask - 1)
            visit(i + static_cast<std::size_t>(__builtin_ctz(mask)));
        for (; i < hi; ++i) visit(i);
      } catch (const std::bad_alloc&) {  // never let an exception leave a parallel task
        no_memory[tt] = 1;
      }
    });
    std::size_t total = 0;
    for (std::size_t t = 0; t < found.size(); ++t) {
      if (no_memory[t]) return Status::no_memory;
      if (bad[t]) return Status::non_finite;
      total += found[t].size();
    }
    out_index->clear();
    out_index->reserve(total);
    for (const auto& f : found) out_index->insert(out_index->end(), f.begin(), f.end());
    return Status::ok;
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
}

}  // namespace infokit::compress
