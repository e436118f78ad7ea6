// Bindings for the nearest-neighbour engine (infokit/knn/*.hpp): a KD-tree object that answers
// batched k-nearest-neighbour and radius-count queries, and the sorted 1-D counter. Thin: check
// shapes, release the GIL, call the kernel. Points are float64 C-contiguous (the Python layer
// converts); the objects keep their own copy of the data.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "infokit/knn/batch.hpp"
#include "infokit/knn/grid.hpp"
#include "infokit/knn/kdtree.hpp"
#include "infokit/knn/sorted.hpp"

namespace py = pybind11;
namespace kn = infokit::knn;

namespace {

using Points = py::array_t<double, py::array::c_style>;
using Index = py::array_t<std::int64_t>;

kn::Metric metric_of(const std::string& name) {
  if (name == "chebyshev") return kn::Metric::chebyshev;
  if (name == "euclidean") return kn::Metric::euclidean;
  throw std::invalid_argument("metric must be 'chebyshev' or 'euclidean', got '" + name + "'");
}

// (n, d) from a 2-D array, or (n, 1) from a 1-D one.
std::pair<std::size_t, std::size_t> shape_of(const Points& a, const char* name) {
  if (a.ndim() == 1) return {static_cast<std::size_t>(a.shape(0)), 1};
  if (a.ndim() == 2)
    return {static_cast<std::size_t>(a.shape(0)), static_cast<std::size_t>(a.shape(1))};
  throw std::invalid_argument(std::string(name) + " must be 1-D or 2-D");
}

std::size_t check_k(std::int64_t k) {
  if (k < 1) throw std::invalid_argument("k must be >= 1, got " + std::to_string(k));
  return static_cast<std::size_t>(k);
}

void check_radius(const Points& radius, std::size_t n) {
  if (radius.ndim() != 1 || static_cast<std::size_t>(radius.shape(0)) != n)
    throw std::invalid_argument("radius must be 1-D with one value per query (" +
                                std::to_string(n) + ")");
}

class PyTree {
 public:
  explicit PyTree(const Points& points) {
    const auto [n, d] = shape_of(points, "points");
    if (d == 0) throw std::invalid_argument("points must have at least one column");
    const double* p = points.data();
    py::gil_scoped_release release;
    tree_ = std::make_unique<kn::KDTree>(p, n, d);
  }

  std::size_t n() const { return tree_->size(); }
  std::size_t d() const { return tree_->dim(); }

  py::tuple knn_self(std::int64_t k, const std::string& metric, int n_threads) const {
    const std::size_t kk = check_k(k);
    const kn::Metric m = metric_of(metric);
    const auto n = static_cast<py::ssize_t>(tree_->size());
    py::array_t<double> dist({n, static_cast<py::ssize_t>(kk)});
    Index index({n, static_cast<py::ssize_t>(kk)});
    double* pd = dist.mutable_data();
    std::int64_t* pi = index.mutable_data();
    {
      py::gil_scoped_release release;
      kn::knn_self(*tree_, kk, m, pd, pi, n_threads);
    }
    return py::make_tuple(dist, index);
  }

  py::tuple knn(const Points& queries, std::int64_t k, const std::string& metric,
                int n_threads) const {
    const std::size_t kk = check_k(k);
    const kn::Metric m = metric_of(metric);
    const auto [q, d] = shape_of(queries, "queries");
    if (d != tree_->dim())
      throw std::invalid_argument("queries must have " + std::to_string(tree_->dim()) +
                                  " columns, got " + std::to_string(d));
    py::array_t<double> dist({static_cast<py::ssize_t>(q), static_cast<py::ssize_t>(kk)});
    Index index({static_cast<py::ssize_t>(q), static_cast<py::ssize_t>(kk)});
    const double* pq = queries.data();
    double* pd = dist.mutable_data();
    std::int64_t* pi = index.mutable_data();
    {
      py::gil_scoped_release release;
      kn::knn_query(*tree_, pq, q, kk, m, pd, pi, n_threads);
    }
    return py::make_tuple(dist, index);
  }

  Index count_self(const Points& radius, bool strict, const std::string& metric,
                   int n_threads) const {
    const kn::Metric m = metric_of(metric);
    check_radius(radius, tree_->size());
    Index out(static_cast<py::ssize_t>(tree_->size()));
    const double* pr = radius.data();
    std::int64_t* po = out.mutable_data();
    {
      py::gil_scoped_release release;
      kn::count_self(*tree_, pr, strict, m, po, n_threads);
    }
    return out;
  }

  Index count(const Points& queries, const Points& radius, bool strict, const std::string& metric,
              int n_threads) const {
    const kn::Metric m = metric_of(metric);
    const auto [q, d] = shape_of(queries, "queries");
    if (d != tree_->dim())
      throw std::invalid_argument("queries must have " + std::to_string(tree_->dim()) +
                                  " columns, got " + std::to_string(d));
    check_radius(radius, q);
    Index out(static_cast<py::ssize_t>(q));
    const double* pq = queries.data();
    const double* pr = radius.data();
    std::int64_t* po = out.mutable_data();
    {
      py::gil_scoped_release release;
      kn::count_query(*tree_, pq, q, pr, strict, m, po, n_threads);
    }
    return out;
  }

 private:
  std::unique_ptr<kn::KDTree> tree_;
};

class PySorted {
 public:
  explicit PySorted(const Points& x) {
    if (x.ndim() != 1) throw std::invalid_argument("x must be 1-D");
    const double* p = x.data();
    const std::size_t n = static_cast<std::size_t>(x.shape(0));
    py::gil_scoped_release release;
    sorted_ = std::make_unique<kn::SortedValues>(p, n);
  }

  std::size_t n() const { return sorted_->size(); }

  Index count_self(const Points& radius, bool strict, int n_threads) const {
    check_radius(radius, sorted_->size());
    Index out(static_cast<py::ssize_t>(sorted_->size()));
    const double* pr = radius.data();
    std::int64_t* po = out.mutable_data();
    {
      py::gil_scoped_release release;
      kn::count_sorted_self(*sorted_, pr, strict, po, n_threads);
    }
    return out;
  }

 private:
  std::unique_ptr<kn::SortedValues> sorted_;
};

// Self kNN of the rows of `points` without keeping a search structure: a grid in 2 and 3
// dimensions (no tree to build), the KD-tree otherwise or when the grid would be crowded.
// Without `with_index` the index is None (its n x k scattered writes cost ~5 % of a query).
py::tuple knn_self_points(const Points& points, std::int64_t k, const std::string& metric,
                          int n_threads, bool with_index) {
  const std::size_t kk = check_k(k);
  const kn::Metric m = metric_of(metric);
  const auto [n, d] = shape_of(points, "points");
  if (d == 0) throw std::invalid_argument("points must have at least one column");
  py::array_t<double> dist({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(kk)});
  Index index(with_index ? std::vector<py::ssize_t>{static_cast<py::ssize_t>(n),
                                                    static_cast<py::ssize_t>(kk)}
                          : std::vector<py::ssize_t>{0, static_cast<py::ssize_t>(kk)});
  const double* p = points.data();
  double* pd = dist.mutable_data();
  std::int64_t* pi = with_index ? index.mutable_data() : nullptr;
  {
    py::gil_scoped_release release;
    const kn::Grid grid(p, n, d);
    if (grid.ok()) {
      grid.knn_self(kk, m, pd, pi, n_threads);
    } else {
      const kn::KDTree tree(p, n, d);
      kn::knn_self(tree, kk, m, pd, pi, n_threads);
    }
  }
  if (!with_index) return py::make_tuple(dist, py::none());
  return py::make_tuple(dist, index);
}

}  // namespace

void register_knn(py::module_& m) {
  m.def("knn_self_points", &knn_self_points, py::arg("points").noconvert(), py::arg("k"),
        py::arg("metric") = "chebyshev", py::arg("n_threads") = 1, py::arg("with_index") = true,
        "(dist, index), each (n, k): the k nearest OTHER rows of every row of a float64 (n, d) "
        "array, ascending (a grid for d = 2, 3; else a KD-tree); index is None without "
        "with_index.");
  py::class_<PyTree>(m, "KNNTree",
                     "KD-tree over the rows of a float64 (n, d) array (a 1-D array is one column).")
      .def(py::init<const Points&>(), py::arg("points").noconvert())
      .def_property_readonly("n", &PyTree::n)
      .def_property_readonly("d", &PyTree::d)
      .def("knn_self", &PyTree::knn_self, py::arg("k"), py::arg("metric") = "chebyshev",
           py::arg("n_threads") = 1,
           "(dist, index), each (n, k): the k nearest OTHER points of every point, ascending.")
      .def("knn", &PyTree::knn, py::arg("queries").noconvert(), py::arg("k"),
           py::arg("metric") = "chebyshev", py::arg("n_threads") = 1,
           "(dist, index), each (m, k): the k nearest tree points of each query row.")
      .def("count_self", &PyTree::count_self, py::arg("radius").noconvert(), py::arg("strict"),
           py::arg("metric") = "chebyshev", py::arg("n_threads") = 1,
           "int64 (n,): OTHER points within radius[i] of point i (strict: dist < r).")
      .def("count", &PyTree::count, py::arg("queries").noconvert(),
           py::arg("radius").noconvert(), py::arg("strict"), py::arg("metric") = "chebyshev",
           py::arg("n_threads") = 1,
           "int64 (m,): tree points within radius[i] of query row i (strict: dist < r).");
  py::class_<PySorted>(m, "SortedCounter", "Sorted copy of a float64 1-D sample for radius counts.")
      .def(py::init<const Points&>(), py::arg("x").noconvert())
      .def_property_readonly("n", &PySorted::n)
      .def("count_self", &PySorted::count_self, py::arg("radius").noconvert(), py::arg("strict"),
           py::arg("n_threads") = 1,
           "int64 (n,): #{j != i : |x_j - x_i| < radius[i]} (strict) or <= radius[i].");
}
