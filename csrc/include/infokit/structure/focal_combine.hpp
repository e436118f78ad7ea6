// Combination of k mass functions given by their focal sets as 64-bit bitsets, by enumerating
// every tuple of one focal set per source (cost: the product of the focal-set counts).
//   conjunctive:   the product of the masses goes to the intersection (0 = the empty set)
//   Dubois-Prade:  as conjunctive, but an empty intersection sends it to the union
//   PCR6:          an empty intersection shares it among the tuple's sets in proportion to their
//                  own masses (Martin & Osswald 2006)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace infokit::structure {

enum class Rule : int { conjunctive = 0, dubois_prade = 1, pcr6 = 2 };

inline void focal_combine(const std::uint64_t* focal, const double* mass, const std::int64_t* offsets,
                          std::size_t k, Rule rule, std::vector<std::uint64_t>& keys,
                          std::vector<double>& values) {
  std::vector<std::int64_t> pick(k, 0), size(k);
  for (std::size_t s = 0; s < k; ++s) {
    size[s] = offsets[s + 1] - offsets[s];
    if (size[s] <= 0) return;
  }
  std::unordered_map<std::uint64_t, double> acc;
  for (;;) {  // odometer over the tuples, source 0 fastest
    std::uint64_t inter = ~std::uint64_t{0}, uni = 0;
    double product = 1.0, total = 0.0;
    for (std::size_t s = 0; s < k; ++s) {
      const std::size_t j = static_cast<std::size_t>(offsets[s] + pick[s]);
      inter &= focal[j];
      uni |= focal[j];
      product *= mass[j];
      total += mass[j];
    }
    if (inter != 0 || rule == Rule::conjunctive) {
      acc[inter] += product;
    } else if (rule == Rule::dubois_prade) {
      acc[uni] += product;
    } else if (total > 0) {
      for (std::size_t s = 0; s < k; ++s) {
        const std::size_t j = static_cast<std::size_t>(offsets[s] + pick[s]);
        acc[focal[j]] += mass[j] * product / total;
      }
    }
    std::size_t s = 0;
    while (s < k && ++pick[s] == size[s]) pick[s++] = 0;
    if (s == k) break;
  }
  std::vector<std::pair<std::uint64_t, double>> sorted(acc.begin(), acc.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& kv : sorted) {
    keys.push_back(kv.first);
    values.push_back(kv.second);
  }
}

}  // namespace infokit::structure
