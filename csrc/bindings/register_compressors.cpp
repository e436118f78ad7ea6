// Bindings for the gradient compressors (infokit/compress/*.hpp). Thin: check every buffer's
// dtype, layout and size (the kernels trust them), release the GIL, call the kernel, turn its
// status into a Python exception. Buffers the kernels write are never converted silently.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "infokit/compress/qsgd.hpp"
#include "infokit/compress/randk.hpp"
#include "infokit/compress/topk.hpp"

namespace py = pybind11;
namespace ic = infokit::compress;

namespace {

void fail(const std::string& name, const std::string& what) {
  throw std::invalid_argument(name + " must be " + what);
}

template <class T>
const T* data_of(const py::array& a, const char* name, std::size_t size) {
  if (!py::isinstance<py::array_t<T>>(a))
    fail(name, std::string("an array of ") + py::str(py::dtype::of<T>()).cast<std::string>());
  if (!(a.flags() & py::array::c_style)) fail(name, "C-contiguous");
  if (static_cast<std::size_t>(a.size()) != size)
    fail(name, "of size " + std::to_string(size) + ", got " + std::to_string(a.size()));
  return static_cast<const T*>(a.data());
}

template <class T>
T* mutable_data_of(py::array& a, const char* name, std::size_t size) {
  data_of<T>(a, name, size);
  if (!a.writeable()) fail(name, "writeable");
  return static_cast<T*>(a.mutable_data());
}

void check(ic::Status status, const char* what) {
  switch (status) {
    case ic::Status::ok:
      return;
    case ic::Status::non_finite:
      throw std::invalid_argument(std::string(what) + " contains NaN or inf");
    case ic::Status::no_memory:
      throw std::bad_alloc();
    case ic::Status::bad_input:
      break;
  }
  throw std::invalid_argument(std::string("invalid arguments to the ") + what + " kernel");
}

std::size_t as_size(std::int64_t v, const char* name) {
  if (v < 0) fail(name, ">= 0");
  return static_cast<std::size_t>(v);
}

template <class T>
py::tuple topk(const py::array& x, std::int64_t k, int n_threads) {
  const auto n = static_cast<std::size_t>(x.size());
  const T* px = data_of<T>(x, "x", n);
  const std::size_t kk = as_size(k, "k");
  if (kk < 1 || kk > n) fail("k", "in [1, x.size]");
  py::array_t<std::int64_t> index(static_cast<py::ssize_t>(kk));
  py::array_t<T> value(static_cast<py::ssize_t>(kk));
  std::int64_t* pi = index.mutable_data();
  T* pv = value.mutable_data();
  ic::Status status;
  {
    py::gil_scoped_release release;
    status = ic::topk<T>(px, n, kk, pi, pv, n_threads);
  }
  check(status, "x");
  return py::make_tuple(index, value);
}

template <class T>
py::tuple topk_approx(const py::array& x, std::int64_t k, int n_threads) {
  const auto n = static_cast<std::size_t>(x.size());
  const T* px = data_of<T>(x, "x", n);
  const std::size_t kk = as_size(k, "k");
  if (kk < 1 || kk > n) fail("k", "in [1, x.size]");
  std::vector<std::int64_t> kept;
  T threshold = T(0);
  ic::Status status;
  {
    py::gil_scoped_release release;
    status = ic::topk_approx<T>(px, n, kk, &kept, &threshold, n_threads);
  }
  check(status, "x");
  py::array_t<std::int64_t> index(static_cast<py::ssize_t>(kept.size()));
  py::array_t<T> value(static_cast<py::ssize_t>(kept.size()));
  std::int64_t* pi = index.mutable_data();
  T* pv = value.mutable_data();
  for (std::size_t j = 0; j < kept.size(); ++j) {  // kernel indices are < n by construction
    pi[j] = kept[j];
    pv[j] = px[static_cast<std::size_t>(kept[j])];
  }
  return py::make_tuple(index, value, threshold);
}

template <class T>
py::tuple topk_feedback(const py::array& x, py::array residual, std::int64_t k, int n_threads) {
  const auto n = static_cast<std::size_t>(x.size());
  const T* px = data_of<T>(x, "x", n);
  T* pe = mutable_data_of<T>(residual, "residual", n);
  if (static_cast<const void*>(px) == static_cast<const void*>(pe))
    fail("residual", "a different buffer from x");
  const std::size_t kk = as_size(k, "k");
  if (kk < 1 || kk > n) fail("k", "in [1, x.size]");
  py::array_t<std::int64_t> index(static_cast<py::ssize_t>(kk));
  py::array_t<T> value(static_cast<py::ssize_t>(kk));
  std::int64_t* pi = index.mutable_data();
  T* pv = value.mutable_data();
  ic::Status status;
  {
    py::gil_scoped_release release;
    status = ic::topk_feedback<T>(px, pe, n, kk, pi, pv, n_threads);
  }
  check(status, "x + residual");
  return py::make_tuple(index, value);
}

template <class T>
py::tuple qsgd_encode(const py::array& x, std::int64_t bucket, int bits, std::uint64_t seed,
                      int n_threads) {
  const auto n = static_cast<std::size_t>(x.size());
  const T* px = data_of<T>(x, "x", n);
  const std::size_t bk = as_size(bucket, "bucket");
  if (n == 0) fail("x", "non-empty");
  if (bk < 1) fail("bucket", ">= 1");
  if (bits < 2 || bits > 8) fail("bits", "in [2, 8]");
  const std::size_t n_buckets = (n + bk - 1) / bk;
  py::array_t<T> norms(static_cast<py::ssize_t>(n_buckets));
  py::array_t<std::uint8_t> packed(static_cast<py::ssize_t>(ic::qsgd_packed_bytes(n, bits)));
  T* pn = norms.mutable_data();
  std::uint8_t* pp = packed.mutable_data();
  ic::Status status;
  {
    py::gil_scoped_release release;
    status = ic::qsgd_encode<T>(px, n, bk, bits, seed, pn, pp, n_threads);
  }
  check(status, "x");
  return py::make_tuple(norms, packed);
}

template <class T>
py::array_t<T> qsgd_decode(const py::array& norms, const py::array& packed, std::int64_t n,
                           std::int64_t bucket, int bits, int n_threads) {
  const std::size_t nn = as_size(n, "n"), bk = as_size(bucket, "bucket");
  if (nn == 0) fail("n", ">= 1");
  if (bk < 1) fail("bucket", ">= 1");
  if (bits < 2 || bits > 8) fail("bits", "in [2, 8]");
  const T* pn = data_of<T>(norms, "norms", (nn + bk - 1) / bk);
  const std::uint8_t* pp = data_of<std::uint8_t>(packed, "packed", ic::qsgd_packed_bytes(nn, bits));
  py::array_t<T> out(static_cast<py::ssize_t>(nn));
  T* po = out.mutable_data();
  ic::Status status;
  {
    py::gil_scoped_release release;
    status = ic::qsgd_decode<T>(pn, pp, nn, bk, bits, po, n_threads);
  }
  if (status == ic::Status::bad_input) fail("norms", "finite and >= 0");
  check(status, "qsgd_decode");
  return out;
}

py::array_t<std::int64_t> randk_indices(std::int64_t n, std::int64_t k, std::uint64_t seed) {
  const std::size_t nn = as_size(n, "n"), kk = as_size(k, "k");
  if (kk < 1 || kk > nn) fail("k", "in [1, n]");
  if (nn > (std::size_t{1} << 53)) fail("n", "<= 2^53");
  py::array_t<std::int64_t> out(static_cast<py::ssize_t>(kk));
  std::int64_t* po = out.mutable_data();
  ic::Status status;
  {
    py::gil_scoped_release release;
    status = ic::randk_indices(nn, kk, seed, po);
  }
  check(status, "randk_indices");
  return out;
}

}  // namespace

void register_compressors(py::module_& m) {
  m.def("topk_f32", &topk<float>, py::arg("x").noconvert(), py::arg("k"), py::arg("n_threads") = 1,
        "Top-k by |x| (float32): ascending indices and values.");
  m.def("topk_f64", &topk<double>, py::arg("x").noconvert(), py::arg("k"),
        py::arg("n_threads") = 1, "Top-k by |x| (float64): ascending indices and values.");
  m.def("topk_approx_f32", &topk_approx<float>, py::arg("x").noconvert(), py::arg("k"),
        py::arg("n_threads") = 1,
        "Approximate top-k by a sampled threshold (float32): indices, values, threshold.");
  m.def("topk_approx_f64", &topk_approx<double>, py::arg("x").noconvert(), py::arg("k"),
        py::arg("n_threads") = 1,
        "Approximate top-k by a sampled threshold (float64): indices, values, threshold.");
  m.def("topk_feedback_f32", &topk_feedback<float>, py::arg("x").noconvert(),
        py::arg("residual").noconvert(), py::arg("k"), py::arg("n_threads") = 1,
        "Error-feedback top-k step (float32); updates residual in place.");
  m.def("topk_feedback_f64", &topk_feedback<double>, py::arg("x").noconvert(),
        py::arg("residual").noconvert(), py::arg("k"), py::arg("n_threads") = 1,
        "Error-feedback top-k step (float64); updates residual in place.");
  m.def("qsgd_encode_f32", &qsgd_encode<float>, py::arg("x").noconvert(), py::arg("bucket"),
        py::arg("bits"), py::arg("seed"), py::arg("n_threads") = 1,
        "QSGD encode (float32): (bucket norms, packed codes).");
  m.def("qsgd_encode_f64", &qsgd_encode<double>, py::arg("x").noconvert(), py::arg("bucket"),
        py::arg("bits"), py::arg("seed"), py::arg("n_threads") = 1,
        "QSGD encode (float64): (bucket norms, packed codes).");
  m.def("qsgd_decode_f32", &qsgd_decode<float>, py::arg("norms").noconvert(),
        py::arg("packed").noconvert(), py::arg("n"), py::arg("bucket"), py::arg("bits"),
        py::arg("n_threads") = 1, "QSGD decode (float32).");
  m.def("qsgd_decode_f64", &qsgd_decode<double>, py::arg("norms").noconvert(),
        py::arg("packed").noconvert(), py::arg("n"), py::arg("bucket"), py::arg("bits"),
        py::arg("n_threads") = 1, "QSGD decode (float64).");
  m.def("randk_indices", &randk_indices, py::arg("n"), py::arg("k"), py::arg("seed"),
        "k distinct ascending indices of [0, n), uniform over k-subsets, from the seed.");
}
