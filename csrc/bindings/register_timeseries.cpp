// Bindings for the time-series kernels (infokit/timeseries/*.hpp). Thin: take a C-contiguous
// (rows, n) float32/float64 table, check sizes, release the GIL, call the kernel, return arrays of
// the input's dtype. The Python layer (infokit.timeseries) validates values and parameters.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <stdexcept>
#include <string>

#include "infokit/timeseries/moving_average.hpp"
#include "infokit/timeseries/stl.hpp"

namespace py = pybind11;
namespace ts = infokit::timeseries;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

template <class T>
std::pair<std::size_t, std::size_t> table_shape(const CArray<T>& x) {
  if (x.ndim() != 2) throw std::invalid_argument("x must be 2-D (rows, n)");
  return {static_cast<std::size_t>(x.shape(0)), static_cast<std::size_t>(x.shape(1))};
}

template <class T>
py::tuple moving_average(const CArray<T>& x, std::size_t kernel_size, int n_threads) {
  const auto [rows, n] = table_shape(x);
  if (kernel_size < 1) throw std::invalid_argument("kernel_size must be >= 1");
  CArray<T> trend({rows, n}), rest({rows, n});
  const T* px = x.data();
  T* pt = trend.mutable_data();
  T* pr = rest.mutable_data();
  {
    py::gil_scoped_release release;
    ts::moving_average(px, rows, n, kernel_size, pt, pr, n_threads);
  }
  return py::make_tuple(trend, rest);
}

template <class T>
py::tuple stl(const CArray<T>& x, int period, int seasonal, int trend, int low_pass,
              int seasonal_deg, int trend_deg, int low_pass_deg, int seasonal_jump, int trend_jump,
              int low_pass_jump, int inner, int outer, int n_threads) {
  const auto [rows, n] = table_shape(x);
  if (period < 2 || n < 2 * static_cast<std::size_t>(period))
    throw std::invalid_argument("need period >= 2 and n >= 2 * period");
  if (seasonal < 3 || trend < 3 || low_pass < 3 || seasonal_jump < 1 || trend_jump < 1 ||
      low_pass_jump < 1 || inner < 1 || outer < 0)
    throw std::invalid_argument("STL windows must be >= 3, jumps and inner >= 1, outer >= 0");
  if (n > static_cast<std::size_t>(1) << 30) throw std::invalid_argument("series too long for STL");
  const ts::StlParams p{period,       seasonal,      trend,      low_pass,
                        seasonal_deg, trend_deg,     low_pass_deg, seasonal_jump,
                        trend_jump,   low_pass_jump, inner,      outer};
  CArray<T> s({rows, n}), t({rows, n}), w({rows, n});
  const T* px = x.data();
  T* ps = s.mutable_data();
  T* pt = t.mutable_data();
  T* pw = w.mutable_data();
  {
    py::gil_scoped_release release;
    ts::stl(px, rows, n, p, ps, pt, pw, n_threads);
  }
  return py::make_tuple(s, t, w);
}

template <class T>
void register_float_type(py::module_& m) {
  m.def("moving_average", &moving_average<T>, py::arg("x").noconvert(), py::arg("kernel_size"),
        py::arg("n_threads") = 1,
        "(trend, x - trend) of each row of x: replicate-padded moving average over kernel_size.");
  m.def("stl", &stl<T>, py::arg("x").noconvert(), py::arg("period"), py::arg("seasonal"),
        py::arg("trend"), py::arg("low_pass"), py::arg("seasonal_deg"), py::arg("trend_deg"),
        py::arg("low_pass_deg"), py::arg("seasonal_jump"), py::arg("trend_jump"),
        py::arg("low_pass_jump"), py::arg("inner"), py::arg("outer"), py::arg("n_threads") = 1,
        "(seasonal, trend, robustness weights) of each row of x by STL.");
}

}  // namespace

void register_timeseries(py::module_& m) {
  register_float_type<double>(m);
  register_float_type<float>(m);
}
