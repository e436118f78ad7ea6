// Random-k: k distinct indices of [0, n), uniformly among all k-subsets, from a seed alone.
//
// Floyd's algorithm (Bentley & Floyd 1987): for j = n-k .. n-1 draw t uniform in [0, j]; add t
// if it is new, else add j. The draw for j is floor(u_j · (j + 1)) clamped to j, with
// u_j = (random_bits(seed, j) >> 11) · 2^-53, so the sender and the receiver regenerate the same
// set from (seed, n, k) and no index array travels. Membership is a bitmap of n bits, read out
// in ascending order. O(k + n / 64) time, n / 8 bytes; sequential (the set is tiny to build).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "infokit/compress/common.hpp"

namespace infokit::compress {

// out: k ascending indices. Requires 1 <= k <= n <= 2^53.
inline Status randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::int64_t* out) {
  if (k < 1 || k > n || n > (std::size_t{1} << 53)) return Status::bad_input;
  try {
    std::vector<std::uint64_t> member((n + 63) / 64, 0);
    for (std::size_t j = n - k; j < n; ++j) {
      const double u = static_cast<double>(random_bits(seed, j) >> 11) * 0x1p-53;
      std::size_t t = static_cast<std::size_t>(u * static_cast<double>(j + 1));
      if (t > j) t = j;
      if (member[t >> 6] >> (t & 63) & 1u) t = j;
      member[t >> 6] |= std::uint64_t{1} << (t & 63);
    }
    std::size_t o = 0;
    for (std::size_t w = 0; w < member.size(); ++w) {
      std::uint64_t bits = member[w];
      while (bits) {
        const int low = __builtin_ctzll(bits);
        if (o < k) out[o] = static_cast<std::int64_t>(w * 64 + static_cast<std::size_t>(low));
        ++o;
        bits &= bits - 1;
      }
    }
    return o == k ? Status::ok : Status::bad_input;
  } catch (const std::bad_alloc&) {
    return Status::no_memory;
  }
}

}  // namespace infokit::compress
