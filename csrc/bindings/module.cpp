// infokit._core: the pybind11 module. Each area registers its functions from its own TU.
#include <pybind11/pybind11.h>

#include "infokit/parallel.hpp"

namespace py = pybind11;

void register_discrete(py::module_& m);
void register_timeseries(py::module_& m);
void register_lowrank(py::module_& m);
void register_structure(py::module_& m);
void register_calibration(py::module_& m);
void register_matrix(py::module_& m);
void register_knn(py::module_& m);
void register_coding(py::module_& m);
void register_losses(py::module_& m);
void register_pvq(py::module_& m);
void register_compressors(py::module_& m);
void register_dictionary(py::module_& m);
void register_simd(py::module_& m);
void register_linalg(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "infokit compiled kernels (pybind11); use the public modules, not this one.";
  m.def("has_openmp", &infokit::has_openmp, "Whether the kernels were built with OpenMP threads.");
  register_discrete(m);
  register_timeseries(m);
  register_lowrank(m);
  register_structure(m);
  register_calibration(m);
  register_matrix(m);
  register_knn(m);
  register_coding(m);
  register_losses(m);
  register_pvq(m);
  register_compressors(m);
  register_dictionary(m);
  register_simd(m);
  register_linalg(m);
}
