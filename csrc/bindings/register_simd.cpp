// Bindings for the shared vector helpers (infokit/simd/): the instruction-set switch and exp over
// arrays. Private: for tests and benchmarks that compare the AVX-512, AVX2 and portable paths.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <stdexcept>

#include "infokit/simd/dispatch.hpp"
#include "infokit/simd/exp_array.hpp"

namespace py = pybind11;
namespace simd = infokit::simd;

namespace {

template <class T>
py::array_t<T> map_1d(const py::array_t<T, py::array::c_style>& x,
                      void (*f)(const T*, std::size_t, T*)) {
  if (x.ndim() != 1) throw std::invalid_argument("x must be 1-D");
  py::array_t<T> out(x.shape(0));
  const T* px = x.data();
  T* po = out.mutable_data();
  const auto n = static_cast<std::size_t>(x.shape(0));
  {
    py::gil_scoped_release release;
    f(px, n, po);
  }
  return out;
}

void set_cap(int cap) {
  if (cap < 0 || cap > 2) throw std::invalid_argument("cap must be 0, 1 or 2");
  simd::set_isa_cap(static_cast<simd::Isa>(cap));
}

}  // namespace

void register_simd(py::module_& m) {
  m.def("simd_cpu_isa", [] { return static_cast<int>(simd::cpu_isa()); },
        "The best instruction set of this CPU: 0 portable, 1 AVX2+FMA, 2 AVX-512.");
  m.def("simd_active_isa", [] { return static_cast<int>(simd::active_isa()); },
        "The instruction set the hand-dispatched kernels use now (the CPU's, lowered to the cap).");
  m.def("simd_set_isa_cap", &set_cap, py::arg("cap"),
        "Never use more than this instruction set (0, 1, 2; 2 = no limit). Process-wide.");
  m.def("simd_exp", [](const py::array_t<double, py::array::c_style>& x) {
          return map_1d<double>(x, simd::exp_fast_n);
        }, py::arg("x").noconvert(), "exp_fast over a float64 array (active instruction set).");
  m.def("simd_exp_nonpositive", [](const py::array_t<float, py::array::c_style>& x) {
          return map_1d<float>(x, simd::exp_nonpositive_n);
        }, py::arg("x").noconvert(),
        "exp_nonpositive over a float32 array (active instruction set).");
  m.def("simd_exp_nonpositive", [](const py::array_t<double, py::array::c_style>& x) {
          return map_1d<double>(x, simd::exp_nonpositive_n);
        }, py::arg("x").noconvert(),
        "e^x for x <= 0 over a float64 array (the kernel sums' exp: the AVX-512 table variant).");
}
