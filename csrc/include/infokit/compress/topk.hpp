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
#include <cstddef>
#include <cstdint>
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

}  // namespace detail

// The k entries of largest |x| (1 <= k <= n): ascending indices and their values.
template <class T>
Status topk(const T* x, std::size_t n, std::size_t k, std::int64_t* out_index, T* out_value,
            int n_threads) {
  if (k < 1 || k > n) return Status::bad_input;
  try {
    return detail::topk_impl<T, false>(x, nullptr, n, k, out_index, out_value, n_threads);
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
}

// Error-feedback step: selects the top k of acc = residual + x and leaves acc - selected in
// residual. On a non-finite acc nothing is written and Status::non_finite is returned.
template <class T>
Status topk_feedback(const T* x, T* residual, std::size_t n, std::size_t k,
                     std::int64_t* out_index, T* out_value, int n_threads) {
  if (k < 1 || k > n) return Status::bad_input;
  try {
    return detail::topk_impl<T, true>(x, residual, n, k, out_index, out_value, n_threads);
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
}

}  // namespace infokit::compress
