// Greedy minimum-entropy coupling (Kocaoglu, Dimakis, Vishwanath, Hassibi, AAAI 2017): repeatedly
// take the largest remaining mass of every marginal, put the smallest of these, r, on the joint
// cell of their argmaxes and subtract r from each. One max-heap per marginal: O(N log N) for N
// atoms in total, at most N - m + 1 cells.
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
#include <vector>

namespace infokit::structure {

struct Atom {
  double mass;
  std::int64_t index;
};

// Larger mass first; among equal masses the lower index first.
struct AtomOrder {
  bool operator()(const Atom& a, const Atom& b) const {
    return a.mass < b.mass || (a.mass == b.mass && a.index > b.index);
  }
};

// marginals: the m marginals end to end (sizes[i] entries each, validated, equal totals).
// cells: m indices per output cell, masses: one per cell (both appended to).
inline void greedy_coupling(const double* marginals, const std::int64_t* sizes, std::size_t m,
                            std::vector<std::int64_t>& cells, std::vector<double>& masses) {
  using Heap = std::priority_queue<Atom, std::vector<Atom>, AtomOrder>;
  std::vector<Heap> heaps(m);
  std::size_t offset = 0;
  for (std::size_t i = 0; i < m; ++i) {
    std::vector<Atom> atoms;
    for (std::int64_t j = 0; j < sizes[i]; ++j) {
      const double v = marginals[offset + static_cast<std::size_t>(j)];
      if (v > 0) atoms.push_back({v, j});
    }
    heaps[i] = Heap(AtomOrder{}, std::move(atoms));
    offset += static_cast<std::size_t>(sizes[i]);
  }
  std::vector<Atom> tops(m);
  for (;;) {
    for (std::size_t i = 0; i < m; ++i)
      if (heaps[i].empty()) return;
    double r = heaps[0].top().mass;
    for (std::size_t i = 0; i < m; ++i) {
      tops[i] = heaps[i].top();
      heaps[i].pop();
      if (tops[i].mass < r) r = tops[i].mass;
    }
    std::size_t first_min = 0;
    while (tops[first_min].mass != r) ++first_min;
    for (std::size_t i = 0; i < m; ++i) cells.push_back(tops[i].index);
    masses.push_back(r);
    // The marginal that set r loses its atom exactly; the others keep what is left, if any.
    for (std::size_t i = 0; i < m; ++i) {
      const double rest = tops[i].mass - r;
      if (i != first_min && rest > 0) heaps[i].push({rest, tops[i].index});
    }
  }
}

}  // namespace infokit::structure
