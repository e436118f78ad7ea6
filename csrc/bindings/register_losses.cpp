// Bindings for the cross-entropy epilogue (infokit/losses/epilogue.hpp). Thin: check every buffer's
// dtype, layout and size (the kernel trusts them), release the GIL, call the kernel. Buffers that
// the kernel writes are never converted: a wrong dtype or layout is an error, not a silent copy.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "infokit/losses/epilogue.hpp"

namespace py = pybind11;
namespace lk = infokit::losses;

namespace {

void fail(const std::string& name, const std::string& what) {
  throw std::invalid_argument(name + " must be " + what);
}

// The data of `a` after checking it is a C-contiguous array of T with `size` entries
// (or at least `size` entries when `at_least`).
template <class T>
const T* data_of(const py::array& a, const char* name, std::size_t size, bool at_least = false) {
  if (!py::isinstance<py::array_t<T>>(a))
    fail(name, std::string("an array of ") + py::str(py::dtype::of<T>()).cast<std::string>());
  if (!(a.flags() & py::array::c_style)) fail(name, "C-contiguous");
  const auto n = static_cast<std::size_t>(a.size());
  if (at_least ? n < size : n != size)
    fail(name, (at_least ? "of size >= " : "of size ") + std::to_string(size) + ", got " +
                   std::to_string(n));
  return static_cast<const T*>(a.data());
}

template <class T>
T* mutable_data_of(py::array& a, const char* name, std::size_t size, bool at_least = false) {
  data_of<T>(a, name, size, at_least);
  if (!a.writeable()) fail(name, "writeable");
  return static_cast<T*>(a.mutable_data());
}

template <class T>
const T* optional_data(const py::object& a, const char* name, std::size_t size) {
  if (a.is_none()) return nullptr;
  return data_of<T>(a.cast<py::array>(), name, size, true);
}

// Soft targets: null, or a C-contiguous (rows, ld) array of T with ld >= col0 + cols.
template <class T>
std::pair<const T*, std::size_t> soft_of(const py::object& soft, std::size_t rows,
                                         std::size_t col0, std::size_t cols) {
  if (soft.is_none()) return {nullptr, 0};
  auto a = soft.cast<py::array>();
  if (a.ndim() != 2 || static_cast<std::size_t>(a.shape(0)) != rows)
    fail("soft", "2-D with one row per tile row (" + std::to_string(rows) + ")");
  const auto ld = static_cast<std::size_t>(a.shape(1));
  if (ld < col0 + cols) fail("soft", "at least col0 + cols = " + std::to_string(col0 + cols) + " wide");
  return {data_of<T>(a, "soft", rows * ld), ld};
}

std::pair<std::size_t, std::size_t> tile_shape(const py::array& z) {
  if (z.ndim() != 2) fail("z", "2-D");
  return {static_cast<std::size_t>(z.shape(0)), static_cast<std::size_t>(z.shape(1))};
}

template <class T>
void row_stats(py::array z, std::int64_t col0, const py::array& targets, const py::object& bias,
               const py::object& weight, double softcap, bool write_transformed, py::array state,
               int n_threads, const py::object& soft) {
  const auto [rows, cols] = tile_shape(z);
  if (col0 < 0) fail("col0", ">= 0");
  const auto c0 = static_cast<std::size_t>(col0);
  T* pz = write_transformed ? mutable_data_of<T>(z, "z", rows * cols)
                            : const_cast<T*>(data_of<T>(z, "z", rows * cols));
  const std::int64_t* pt = data_of<std::int64_t>(targets, "targets", rows);
  const T* pb = optional_data<T>(bias, "bias", c0 + cols);
  const double* pw = optional_data<double>(weight, "class_weight", c0 + cols);
  double* ps = mutable_data_of<double>(state, "state", rows * lk::kFields);
  const auto [pq, ld] = soft_of<T>(soft, rows, c0, cols);
  py::gil_scoped_release release;
  lk::row_stats<T>(pz, write_transformed, rows, cols, c0, pt, pb, pw, softcap, ps, n_threads, pq, ld);
}

template <class T>
double softmax_grad(py::array z, std::int64_t col0, const py::array& targets,
                    const py::object& bias, const py::object& weight, double softcap,
                    bool already_transformed, const py::array& lse, const py::array& coef,
                    const py::object& dbias, int n_threads, const py::object& soft) {
  const auto [rows, cols] = tile_shape(z);
  if (col0 < 0) fail("col0", ">= 0");
  const auto c0 = static_cast<std::size_t>(col0);
  T* pz = mutable_data_of<T>(z, "z", rows * cols);
  const std::int64_t* pt = data_of<std::int64_t>(targets, "targets", rows);
  const T* pb = optional_data<T>(bias, "bias", c0 + cols);
  const double* pw = optional_data<double>(weight, "class_weight", c0 + cols);
  const double* pl = data_of<double>(lse, "lse", rows);
  const double* pc = data_of<double>(coef, "coef", rows * 3);
  double* pd = nullptr;
  if (!dbias.is_none()) {
    auto d = dbias.cast<py::array>();
    pd = mutable_data_of<double>(d, "dbias", c0 + cols, true);
  }
  const auto [pq, ld] = soft_of<T>(soft, rows, c0, cols);
  py::gil_scoped_release release;
  return lk::softmax_grad<T>(pz, rows, cols, c0, pt, pb, pw, softcap, already_transformed, pl, pc,
                             pd, n_threads, pq, ld);
}

py::object dispatch_stats(py::array z, std::int64_t col0, const py::array& targets,
                          const py::object& bias, const py::object& weight, double softcap,
                          bool write_transformed, py::array state, int n_threads,
                          const py::object& soft) {
  if (py::isinstance<py::array_t<float>>(z))
    row_stats<float>(z, col0, targets, bias, weight, softcap, write_transformed, state, n_threads,
                     soft);
  else if (py::isinstance<py::array_t<double>>(z))
    row_stats<double>(z, col0, targets, bias, weight, softcap, write_transformed, state, n_threads,
                      soft);
  else
    throw py::type_error("z must be float32 or float64");
  return py::none();
}

double dispatch_grad(py::array z, std::int64_t col0, const py::array& targets,
                     const py::object& bias, const py::object& weight, double softcap,
                     bool already_transformed, const py::array& lse, const py::array& coef,
                     const py::object& dbias, int n_threads, const py::object& soft) {
  if (py::isinstance<py::array_t<float>>(z))
    return softmax_grad<float>(z, col0, targets, bias, weight, softcap, already_transformed, lse,
                               coef, dbias, n_threads, soft);
  if (py::isinstance<py::array_t<double>>(z))
    return softmax_grad<double>(z, col0, targets, bias, weight, softcap, already_transformed, lse,
                                coef, dbias, n_threads, soft);
  throw py::type_error("z must be float32 or float64");
}

}  // namespace

void register_losses(py::module_& m) {
  m.def("losses_row_stats", &dispatch_stats, py::arg("z"), py::arg("col0"), py::arg("targets"),
        py::arg("bias"), py::arg("class_weight"), py::arg("softcap"),
        py::arg("write_transformed"), py::arg("state"), py::arg("n_threads") = 1,
        py::arg("soft") = py::none(),
        "Fold a logits tile into the per-row (max, sum, shifted sum, weighted sum, target) state.");
  m.def("losses_softmax_grad", &dispatch_grad, py::arg("z"), py::arg("col0"), py::arg("targets"),
        py::arg("bias"), py::arg("class_weight"), py::arg("softcap"),
        py::arg("already_transformed"), py::arg("lse"), py::arg("coef"), py::arg("dbias"),
        py::arg("n_threads") = 1, py::arg("soft") = py::none(),
        "Overwrite a logits tile with the loss gradient; returns the largest |gradient|.");
}
