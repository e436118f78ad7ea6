// The project's one parallel-for helper. Every kernel takes an explicit thread count, which the
// Python layer reads from infokit.set_num_threads(); kernels never consult a global.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace infokit {

// Number of threads worth using for `n` items when each thread should get at least `grain`.
inline int threads_for(std::size_t n, int n_threads, std::size_t grain) {
  if (n_threads < 1) n_threads = 1;
  const std::size_t useful = grain == 0 ? n : n / grain;
  return static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(n_threads, useful)));
}

// [begin, end) of part `k` when [0, n) is cut into `parts` nearly equal contiguous ranges.
inline std::pair<std::size_t, std::size_t> part_range(std::size_t n, std::size_t parts, std::size_t k) {
  const std::size_t base = n / parts, extra = n % parts;
  const std::size_t begin = k * base + std::min(k, extra);
  return {begin, begin + base + (k < extra ? 1 : 0)};
}

// Runs task(t) for t in [0, n_tasks) on up to n_threads threads, statically scheduled so that the
// same inputs and thread count always give the same work split. An exception thrown by a task is
// caught inside the parallel region and rethrown afterwards (the first one wins).
template <class Task>
void parallel_for(std::int64_t n_tasks, int n_threads, Task&& task) {
  std::exception_ptr error;
  std::mutex error_mutex;
  auto guarded = [&](std::int64_t t) {
    try {
      task(t);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
#ifdef _OPENMP
  const int nt = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(n_threads, n_tasks)));
  if (nt > 1) {
#pragma omp parallel for num_threads(nt) schedule(static)
    for (std::int64_t t = 0; t < n_tasks; ++t) guarded(t);
  } else {
    for (std::int64_t t = 0; t < n_tasks; ++t) guarded(t);
  }
#else
  (void)n_threads;
  for (std::int64_t t = 0; t < n_tasks; ++t) guarded(t);
#endif
  if (error) std::rethrow_exception(error);
}

inline bool has_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace infokit
