// Bindings for the structure kernels (infokit/structure/*.hpp): BROJA solver, greedy coupling,
// subset/superset transforms, focal-set combination. Thin: check sizes, release the GIL, call.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "infokit/structure/broja.hpp"
#include "infokit/structure/coupling.hpp"
#include "infokit/structure/focal_combine.hpp"
#include "infokit/structure/set_transform.hpp"

namespace py = pybind11;
namespace st = infokit::structure;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

py::tuple broja_solve(const CArray<double>& tables, double tol, std::int64_t max_iter,
                      int n_threads) {
  if (tables.ndim() != 4) throw std::invalid_argument("tables must be 4-D (B, n1, n2, nt)");
  const auto b = static_cast<std::size_t>(tables.shape(0));
  const auto n1 = static_cast<std::size_t>(tables.shape(1));
  const auto n2 = static_cast<std::size_t>(tables.shape(2));
  const auto nt = static_cast<std::size_t>(tables.shape(3));
  CArray<double> out({tables.shape(0), tables.shape(1), tables.shape(2), tables.shape(3)});
  CArray<double> gaps(tables.shape(0));
  CArray<std::int64_t> steps(tables.shape(0));
  const double* p = tables.data();
  double* o = out.mutable_data();
  double* g = gaps.mutable_data();
  std::int64_t* s = steps.mutable_data();
  {
    py::gil_scoped_release release;
    st::broja_batch(p, b, n1, n2, nt, tol, max_iter, o, g, s, n_threads);
  }
  return py::make_tuple(out, gaps, steps);
}

py::tuple greedy_coupling(const CArray<double>& marginals, const CArray<std::int64_t>& sizes,
                          int /*n_threads*/) {
  if (marginals.ndim() != 1 || sizes.ndim() != 1)
    throw std::invalid_argument("marginals and sizes must be 1-D");
  const auto m = static_cast<std::size_t>(sizes.shape(0));
  std::int64_t total = 0;
  for (std::size_t i = 0; i < m; ++i) {
    if (sizes.data()[i] < 0) throw std::invalid_argument("sizes must be non-negative");
    total += sizes.data()[i];
  }
  if (total != marginals.shape(0)) throw std::invalid_argument("sizes must sum to len(marginals)");
  std::vector<std::int64_t> cells;
  std::vector<double> masses;
  const double* pm = marginals.data();
  const std::int64_t* ps = sizes.data();
  {
    py::gil_scoped_release release;
    if (m > 0) st::greedy_coupling(pm, ps, m, cells, masses);
  }
  const auto k = static_cast<py::ssize_t>(masses.size());
  CArray<std::int64_t> c({k, static_cast<py::ssize_t>(m)});
  CArray<double> w(k);
  std::copy(cells.begin(), cells.end(), c.mutable_data());
  std::copy(masses.begin(), masses.end(), w.mutable_data());
  return py::make_tuple(c, w);
}

CArray<double> set_transform(const CArray<double>& values, bool superset, bool inverse,
                             int n_threads) {
  if (values.ndim() != 2) throw std::invalid_argument("values must be 2-D (rows, 2^n)");
  const auto rows = static_cast<std::size_t>(values.shape(0));
  const auto size = static_cast<std::size_t>(values.shape(1));
  if (size == 0 || (size & (size - 1)) != 0)
    throw std::invalid_argument("the row length must be a power of two");
  CArray<double> out({values.shape(0), values.shape(1)});
  std::copy(values.data(), values.data() + rows * size, out.mutable_data());
  double* o = out.mutable_data();
  {
    py::gil_scoped_release release;
    st::set_transform(o, rows, size, superset, inverse, n_threads);
  }
  return out;
}

py::tuple focal_combine(const CArray<std::uint64_t>& focal, const CArray<double>& mass,
                        const CArray<std::int64_t>& offsets, int rule, int /*n_threads*/) {
  if (focal.ndim() != 1 || mass.ndim() != 1 || offsets.ndim() != 1 || offsets.shape(0) < 1)
    throw std::invalid_argument("focal, mass and offsets must be 1-D");
  if (focal.shape(0) != mass.shape(0))
    throw std::invalid_argument("focal and mass must have the same length");
  if (rule < 0 || rule > 2) throw std::invalid_argument("rule must be 0, 1 or 2");
  const auto k = static_cast<std::size_t>(offsets.shape(0) - 1);
  const std::int64_t* off = offsets.data();
  for (std::size_t s = 0; s < k; ++s)
    if (off[s] < 0 || off[s] > off[s + 1] || off[s + 1] > focal.shape(0))
      throw std::invalid_argument("offsets must be non-decreasing within len(focal)");
  std::vector<std::uint64_t> keys;
  std::vector<double> values;
  const std::uint64_t* f = focal.data();
  const double* w = mass.data();
  {
    py::gil_scoped_release release;
    if (k > 0) st::focal_combine(f, w, off, k, static_cast<st::Rule>(rule), keys, values);
  }
  CArray<std::uint64_t> ko(static_cast<py::ssize_t>(keys.size()));
  CArray<double> vo(static_cast<py::ssize_t>(values.size()));
  std::copy(keys.begin(), keys.end(), ko.mutable_data());
  std::copy(values.begin(), values.end(), vo.mutable_data());
  return py::make_tuple(ko, vo);
}

}  // namespace

void register_structure(py::module_& m) {
  m.def("broja_solve", &broja_solve, py::arg("tables").noconvert(), py::arg("tol"),
        py::arg("max_iter"), py::arg("n_threads") = 1,
        "(q, gaps, steps): BROJA optimum of each (n1, n2, nt) table of a float64 stack.");
  m.def("greedy_coupling", &greedy_coupling, py::arg("marginals").noconvert(),
        py::arg("sizes").noconvert(), py::arg("n_threads") = 1,
        "(cells, masses) of the greedy minimum-entropy coupling of marginals stored end to end.");
  m.def("set_transform", &set_transform, py::arg("values").noconvert(), py::arg("superset"),
        py::arg("inverse"), py::arg("n_threads") = 1,
        "Subset/superset zeta (or Moebius with inverse=True) transform of each row of 2^n values.");
  m.def("focal_combine", &focal_combine, py::arg("focal").noconvert(), py::arg("mass").noconvert(),
        py::arg("offsets").noconvert(), py::arg("rule"), py::arg("n_threads") = 1,
        "(sets, masses) of k mass functions combined by rule 0 conjunctive, 1 Dubois-Prade, 2 PCR6.");
}
