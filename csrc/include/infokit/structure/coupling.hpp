// Greedy minimum-entropy coupling (Kocaoglu, Dimakis, Vishwanath, Hassibi, AAAI 2017): repeatedly
// take the largest remaining mass of every marginal, put the smallest of these, r, on the joint
// cell of their argmaxes and subtract r from each. Per marginal, one sort and a max-heap of
// remainders: O(N log N) for N atoms in total, at most N - m + 1 cells.
#pragma once

#include <algorithm>
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

// One marginal's remaining atoms: the untouched ones sorted once, largest first (read in order,
// cache friendly), plus a small max-heap of the remainders of partly used atoms. Its top is the
// larger of the two fronts under AtomOrder, so the sequence equals that of one big heap.
class Remaining {
 public:
  Remaining(const double* p, std::int64_t n) {
    for (std::int64_t j = 0; j < n; ++j)
      if (p[j] > 0) sorted_.push_back({p[j], j});
    std::sort(sorted_.begin(), sorted_.end(),
              [](const Atom& a, const Atom& b) { return AtomOrder{}(b, a); });
  }
  bool empty() const { return next_ == sorted_.size() && rest_.empty(); }
  Atom pop() {
    if (next_ < sorted_.size() && (rest_.empty() || !AtomOrder{}(sorted_[next_], rest_.top())))
      return sorted_[next_++];
    Atom a = rest_.top();
    rest_.pop();
    return a;
  }
  void push(Atom a) { rest_.push(a); }

 private:
  std::vector<Atom> sorted_;
  std::size_t next_ = 0;
  std::priority_queue<Atom, std::vector<Atom>, AtomOrder> rest_;
};

// marginals: the m marginals end to end (sizes[i] entries each, validated, equal totals).
// cells: m indices per output cell, masses: one per cell (both appended to).
inline void greedy_coupling(const double* marginals, const std::int64_t* sizes, std::size_t m,
                            std::vector<std::int64_t>& cells, std::vector<double>& masses) {
  std::vector<Remaining> left;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < m; ++i) {
    left.emplace_back(marginals + offset, sizes[i]);
    offset += static_cast<std::size_t>(sizes[i]);
  }
  std::vector<Atom> tops(m);
  for (;;) {
    for (std::size_t i = 0; i < m; ++i)
      if (left[i].empty()) return;
    double r = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
      tops[i] = left[i].pop();
      if (i == 0 || tops[i].mass < r) r = tops[i].mass;
    }
    std::size_t first_min = 0;
    while (tops[first_min].mass != r) ++first_min;
    for (std::size_t i = 0; i < m; ++i) cells.push_back(tops[i].index);
    masses.push_back(r);
    // The marginal that set r loses its atom exactly; the others keep what is left, if any.
    for (std::size_t i = 0; i < m; ++i) {
      const double rest = tops[i].mass - r;
      if (i != first_min && rest > 0) left[i].push({rest, tops[i].index});
    }
  }
}

}  // namespace infokit::structure
