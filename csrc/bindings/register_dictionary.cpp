// Bindings for the pursuits (infokit/dictionary/pursuit.hpp). Thin: check shapes and strides,
// release the GIL, call the kernel, turn its status into a Python exception.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "infokit/dictionary/pursuit.hpp"

namespace py = pybind11;
namespace ikd = infokit::dictionary;

namespace {

// Rows may be strided (a slice of a larger buffer) but each row must be contiguous.
template <class T>
std::int64_t row_stride(const py::array_t<T>& a, const char* name) {
  if (a.ndim() != 2) throw std::invalid_argument(std::string(name) + " must be 2-D");
  if (a.shape(0) == 0) return static_cast<std::int64_t>(a.shape(1));  // no rows: strides moot
  const auto item = static_cast<py::ssize_t>(sizeof(T));
  if (a.shape(1) > 1 && a.strides(1) != item)
    throw std::invalid_argument(std::string(name) + " rows must be contiguous");
  if (a.shape(0) > 1 && (a.strides(0) % item != 0 || a.strides(0) / item < a.shape(1)))
    throw std::invalid_argument(std::string(name) + " rows must not overlap");
  return a.shape(0) > 1 ? static_cast<std::int64_t>(a.strides(0) / item)
                        : static_cast<std::int64_t>(a.shape(1));
}

template <class T, bool Orthogonal>
py::tuple pursue(const py::array_t<T>& gram, const py::array_t<T>& xy,
                 const py::array_t<double, py::array::c_style>& norms_sq, std::int64_t steps,
                 double tol, int n_threads) {
  const std::int64_t ldg = row_stride(gram, "gram");
  const std::int64_t ldxy = row_stride(xy, "xy");
  const std::int64_t n_atoms = gram.shape(0), n = xy.shape(0);
  if (gram.shape(1) != n_atoms) throw std::invalid_argument("gram must be square");
  if (xy.shape(1) != n_atoms) throw std::invalid_argument("xy must have one column per atom");
  if (norms_sq.ndim() != 1 || norms_sq.shape(0) != n)
    throw std::invalid_argument("norms_sq must have one entry per signal");
  if (steps < 1) throw std::invalid_argument("steps must be >= 1");
  if (Orthogonal && steps > n_atoms)
    throw std::invalid_argument("steps must be <= n_atoms for OMP (an atom is used once)");
  // OMP stores one pair per step; MP merges repeated atoms, so it needs at most K pairs.
  const std::int64_t width = std::min(steps, n_atoms);
  py::array_t<std::int64_t> support({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(width)});
  py::array_t<T> coef({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(width)});
  py::array_t<std::int64_t> count(static_cast<py::ssize_t>(n));
  ikd::PursuitProblem<T> p{gram.data(),     n_atoms, ldg, xy.data(), n, ldxy,
                           norms_sq.data(), width,   steps, tol, support.mutable_data(),
                           coef.mutable_data(), count.mutable_data()};
  ikd::PursuitStatus status;
  {
    py::gil_scoped_release release;
    status = Orthogonal ? ikd::omp_gram(p, n_threads) : ikd::mp_gram(p, n_threads);
  }
  if (status == ikd::PursuitStatus::bad_input)
    throw std::invalid_argument(
        "pursuit: need n_atoms >= 1 and a positive finite Gram diagonal");
  if (status == ikd::PursuitStatus::no_memory) throw std::bad_alloc();
  return py::make_tuple(support, coef, count);
}

template <class T>
void define(py::module_& m) {
  m.def("omp_gram", &pursue<T, true>, py::arg("gram").noconvert(), py::arg("xy").noconvert(),
        py::arg("norms_sq").noconvert(), py::arg("steps"), py::arg("tol"), py::arg("n_threads") = 1,
        "Orthogonal matching pursuit from the Gram matrix: (support, coef, count).");
  m.def("mp_gram", &pursue<T, false>, py::arg("gram").noconvert(), py::arg("xy").noconvert(),
        py::arg("norms_sq").noconvert(), py::arg("steps"), py::arg("tol"), py::arg("n_threads") = 1,
        "Matching pursuit from the Gram matrix: (support, coef, count).");
}

}  // namespace

void register_dictionary(py::module_& m) {
  define<float>(m);
  define<double>(m);
}
