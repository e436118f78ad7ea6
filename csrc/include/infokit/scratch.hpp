// Reusable memory for large kernel temporaries and results.
//
// A kernel called in a loop would otherwise hand its multi-megabyte tables back to the OS on every
// return and fault them in again, zeroed page by page, on the next call; measured on the joint
// histogram of 10^7 pairs that cost a third of the call. Blocks of 1 MiB and more are therefore
// kept in a small process-wide cache (capped) and handed out again; smaller ones use plain new.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace infokit {

class ScratchCache {
 public:
  static ScratchCache& instance() {
    static ScratchCache* cache = new ScratchCache();  // never destroyed: safe at any exit order
    return *cache;
  }

  static constexpr std::size_t kMinBytes = std::size_t{1} << 20;
  static constexpr std::size_t kMaxCached = std::size_t{512} << 20;

  // Size class of a request: the next power of two.
  static std::size_t rounded(std::size_t bytes) {
    std::size_t r = kMinBytes;
    while (r < bytes) r <<= 1;
    return r;
  }

  void* take(std::size_t bytes) {
    const std::size_t size = rounded(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (std::size_t j = 0; j < free_.size(); ++j) {
        if (free_[j].first == size) {
          void* p = free_[j].second;
          free_[j] = free_.back();
          free_.pop_back();
          cached_ -= size;
          return p;
        }
      }
    }
    return ::operator new(size, std::align_val_t{64});
  }

  void give(void* p, std::size_t bytes) noexcept {
    const std::size_t size = rounded(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + size <= kMaxCached) {
        try {
          free_.emplace_back(size, p);
          cached_ += size;
          return;
        } catch (...) {  // no room to remember it: release it below
        }
      }
    }
    ::operator delete(p, std::align_val_t{64});
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::size_t, void*>> free_;
  std::size_t cached_ = 0;
};

template <class T>
struct ScratchAllocator {
  using value_type = T;
  ScratchAllocator() noexcept = default;
  template <class U>
  ScratchAllocator(const ScratchAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < ScratchCache::kMinBytes) return static_cast<T*>(::operator new(bytes));
    return static_cast<T*>(ScratchCache::instance().take(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < ScratchCache::kMinBytes) {
      ::operator delete(p);
    } else {
      ScratchCache::instance().give(p, bytes);
    }
  }
  template <class U>
  bool operator==(const ScratchAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const ScratchAllocator<U>&) const noexcept {
    return false;
  }
};

template <class T>
using scratch_vector = std::vector<T, ScratchAllocator<T>>;

}  // namespace infokit
