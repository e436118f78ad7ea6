// Bindings for the rank-allocation knapsack (infokit/lowrank/knapsack.hpp). Thin: check the
// buffers, release the GIL, call the kernel, turn its status into a Python exception.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>

#include "infokit/lowrank/knapsack.hpp"

namespace py = pybind11;
namespace lk = infokit::lowrank;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

py::tuple knapsack_dp(const CArray<double>& errors, const CArray<std::int64_t>& units,
                      const CArray<std::int64_t>& offsets, std::int64_t capacity, int n_threads) {
  if (errors.ndim() != 1 || units.ndim() != 1 || offsets.ndim() != 1)
    throw std::invalid_argument("errors, units and offsets must be 1-D");
  if (errors.shape(0) != units.shape(0))
    throw std::invalid_argument("errors and units must have the same length");
  const std::int64_t n_layers = static_cast<std::int64_t>(offsets.shape(0)) - 1;
  if (n_layers < 1) throw std::invalid_argument("offsets must have at least 2 entries");
  const std::int64_t* off = offsets.data();
  if (off[n_layers] != static_cast<std::int64_t>(errors.shape(0)))
    throw std::invalid_argument("offsets must end at the number of levels");
  py::array_t<std::int64_t> levels(static_cast<py::ssize_t>(n_layers));
  std::int64_t* out = levels.mutable_data();
  double total = 0.0;
  lk::KnapsackStatus status;
  {
    py::gil_scoped_release release;
    status = lk::knapsack_dp(errors.data(), units.data(), off, n_layers, capacity, out, &total,
                             n_threads);
  }
  if (status == lk::KnapsackStatus::bad_input)
    throw std::invalid_argument("knapsack_dp: offsets must increase, units be >= 0, errors not NaN");
  if (status == lk::KnapsackStatus::no_memory) throw std::bad_alloc();
  return py::make_tuple(levels, total);  // total is inf when nothing fits
}

}  // namespace

void register_lowrank(py::module_& m) {
  m.def("knapsack_dp", &knapsack_dp, py::arg("errors").noconvert(), py::arg("units").noconvert(),
        py::arg("offsets").noconvert(), py::arg("capacity"), py::arg("n_threads") = 1,
        "Multiple-choice knapsack DP: one level per layer, least total error within capacity.");
}
