// Bindings for the counting kernel (infokit/discrete/count.hpp). Thin: take buffers, check sizes,
// release the GIL, call the kernel, wrap the result.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "infokit/discrete/count.hpp"

namespace py = pybind11;
namespace dk = infokit::discrete;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

// Hands a kernel's result vector to numpy without copying: the array owns the vector.
template <class T>
py::array_t<T> to_array(infokit::scratch_vector<T>&& v) {
  auto* owned = new infokit::scratch_vector<T>(std::move(v));
  py::capsule owner(owned, [](void* p) { delete static_cast<infokit::scratch_vector<T>*>(p); });
  return py::array_t<T>(static_cast<py::ssize_t>(owned->size()), owned->data(), owner);
}

template <class T>
py::array_t<T> values_of(const infokit::scratch_vector<dk::u64>& keys) {
  py::array_t<T> out(static_cast<py::ssize_t>(keys.size()));
  T* o = out.mutable_data();
  for (std::size_t j = 0; j < keys.size(); ++j) o[j] = dk::from_order_key<T>(keys[j]);
  return out;
}

template <class T>
std::size_t length_1d(const CArray<T>& x, const char* name) {
  if (x.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be 1-D");
  return static_cast<std::size_t>(x.shape(0));
}

template <class T>
py::tuple histogram(const CArray<T>& x, int n_threads) {
  const std::size_t n = length_1d(x, "x");
  const T* p = x.data();
  dk::Histogram h;
  {
    py::gil_scoped_release release;
    h = dk::histogram(n, dk::LabelKeys<T>{p}, n_threads);
  }
  return py::make_tuple(values_of<T>(h.keys), to_array(std::move(h.counts)));
}

template <class T>
py::tuple factorize(const CArray<T>& x, int n_threads) {
  const std::size_t n = length_1d(x, "x");
  py::array_t<std::int64_t> codes(static_cast<py::ssize_t>(n));
  const T* p = x.data();
  std::int64_t* c = codes.mutable_data();
  dk::Histogram h;
  {
    py::gil_scoped_release release;
    h = dk::factorize(n, dk::LabelKeys<T>{p}, c, n_threads);
  }
  return py::make_tuple(codes, values_of<T>(h.keys), to_array(std::move(h.counts)));
}

template <class T>
py::tuple joint_counts(const CArray<T>& x, const CArray<T>& y, int n_threads) {
  const std::size_t n = length_1d(x, "x");
  if (length_1d(y, "y") != n) throw std::invalid_argument("x and y must have the same length");
  const T* px = x.data();
  const T* py_ = y.data();
  dk::JointCounts jc;
  {
    py::gil_scoped_release release;
    jc = dk::joint_counts(px, py_, n, n_threads);
  }
  return py::make_tuple(to_array(std::move(jc.joint)), to_array(std::move(jc.x)),
                        to_array(std::move(jc.y)));
}

// Codes of the pairs (a[i], b[i]) of two dense code arrays, a in [0, ka), b in [0, kb).
py::tuple combine(const CArray<std::int64_t>& a, const CArray<std::int64_t>& b, std::int64_t ka,
                  std::int64_t kb, int n_threads) {
  const std::size_t n = length_1d(a, "a");
  if (length_1d(b, "b") != n) throw std::invalid_argument("a and b must have the same length");
  if (ka < 1 || kb < 1) throw std::invalid_argument("ka and kb must be positive");
  const dk::u64 ukb = static_cast<dk::u64>(kb);
  py::array_t<std::int64_t> codes(static_cast<py::ssize_t>(n));
  const std::int64_t* pa = a.data();
  const std::int64_t* pb = b.data();
  std::int64_t* c = codes.mutable_data();
  dk::Histogram h;
  {
    py::gil_scoped_release release;
    h = dk::factorize(n, dk::PairKeys{pa, pb, ukb}, c, n_threads);
  }
  return py::make_tuple(codes, to_array(std::move(h.counts)));
}

template <class T>
void register_label_type(py::module_& m) {
  m.def("histogram", &histogram<T>, py::arg("x").noconvert(), py::arg("n_threads") = 1,
        "(values, counts) of the distinct labels of a 1-D integer array, values ascending.");
  m.def("factorize", &factorize<T>, py::arg("x").noconvert(), py::arg("n_threads") = 1,
        "(codes, values, counts): codes[i] is the index of x[i] among the ascending values.");
  m.def("joint_counts", &joint_counts<T>, py::arg("x").noconvert(), py::arg("y").noconvert(),
        py::arg("n_threads") = 1,
        "(joint, x, y) counts of the distinct pairs and of each margin (nonzero cells only).");
}

template <class... Ts>
void register_label_types(py::module_& m) {
  (register_label_type<Ts>(m), ...);
}

}  // namespace

void register_discrete(py::module_& m) {
  register_label_types<bool, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, std::int32_t,
                       std::uint32_t, std::int64_t, std::uint64_t>(m);
  m.def("combine", &combine, py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("ka"),
        py::arg("kb"), py::arg("n_threads") = 1,
        "(codes, counts) of the pairs of two dense code arrays, in (a, b) lexicographic order.");
}
