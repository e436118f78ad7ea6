// Bindings for the calibration kernels (infokit/calibration/*.hpp). Thin: take buffers, check
// sizes, release the GIL, call the kernel, wrap the result. Values are validated in Python.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "infokit/calibration/bins.hpp"
#include "infokit/calibration/temperature.hpp"
#include "infokit/calibration/top_label.hpp"

namespace py = pybind11;
namespace cal = infokit::calibration;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

template <class T>
void check_table(const CArray<T>& x) {
  if (x.ndim() != 2) throw std::invalid_argument("scores must be 2-D (rows, classes)");
}

void check_labels(const CArray<std::int64_t>& labels, py::ssize_t rows) {
  if (labels.ndim() != 1 || labels.shape(0) != rows) {
    throw std::invalid_argument("labels must be 1-D with one entry per row of scores");
  }
}

std::size_t check_edges(const CArray<double>& edges) {
  if (edges.ndim() != 1 || edges.shape(0) < 2) {
    throw std::invalid_argument("edges must be 1-D with at least 2 entries");
  }
  return static_cast<std::size_t>(edges.shape(0) - 1);
}

// (confidence float64, correct bool, entropy float64 or None)
template <class T>
py::tuple top_label(const CArray<T>& x, const CArray<std::int64_t>& labels, bool from_logits,
                    bool want_entropy, int n_threads) {
  check_table(x);
  check_labels(labels, x.shape(0));
  const auto rows = static_cast<std::size_t>(x.shape(0));
  const auto m = static_cast<std::size_t>(x.shape(1));
  if (m == 0) throw std::invalid_argument("scores must have at least one class");
  py::array_t<double> conf(static_cast<py::ssize_t>(rows));
  py::array_t<bool> correct(static_cast<py::ssize_t>(rows));
  py::object entropy = py::none();
  double* ent = nullptr;
  if (want_entropy) {
    py::array_t<double> e(static_cast<py::ssize_t>(rows));
    ent = e.mutable_data();
    entropy = e;
  }
  const T* px = x.data();
  const std::int64_t* pl = labels.data();
  double* pc = conf.mutable_data();
  auto* pk = reinterpret_cast<std::uint8_t*>(correct.mutable_data());
  {
    py::gil_scoped_release release;
    cal::top_label(px, rows, m, from_logits, pl, pc, pk, ent, n_threads);
  }
  return py::make_tuple(conf, correct, entropy);
}

// Predictive entropy only (no labels).
template <class T>
py::array_t<double> entropy_rows(const CArray<T>& x, bool from_logits, int n_threads) {
  check_table(x);
  const auto rows = static_cast<std::size_t>(x.shape(0));
  const auto m = static_cast<std::size_t>(x.shape(1));
  if (m == 0) throw std::invalid_argument("scores must have at least one class");
  py::array_t<double> conf(static_cast<py::ssize_t>(rows));
  py::array_t<double> ent(static_cast<py::ssize_t>(rows));
  const T* px = x.data();
  double* pc = conf.mutable_data();
  double* pe = ent.mutable_data();
  {
    py::gil_scoped_release release;
    cal::top_label<T>(px, rows, m, from_logits, nullptr, pc, nullptr, pe, n_threads);
  }
  return ent;
}

py::tuple bin_stats(const CArray<double>& confidence, const CArray<bool>& correct,
                    const CArray<double>& edges, bool uniform, int n_threads) {
  if (confidence.ndim() != 1 || correct.ndim() != 1 || correct.shape(0) != confidence.shape(0)) {
    throw std::invalid_argument("confidence and correct must be 1-D of the same length");
  }
  const std::size_t n_bins = check_edges(edges);
  const auto n = static_cast<std::size_t>(confidence.shape(0));
  py::array_t<std::int64_t> count(static_cast<py::ssize_t>(n_bins));
  py::array_t<std::int64_t> hits(static_cast<py::ssize_t>(n_bins));
  py::array_t<double> conf_sum(static_cast<py::ssize_t>(n_bins));
  const double* pc = confidence.data();
  const auto* pk = reinterpret_cast<const std::uint8_t*>(correct.data());
  const double* pe = edges.data();
  std::int64_t* oc = count.mutable_data();
  std::int64_t* oh = hits.mutable_data();
  double* os = conf_sum.mutable_data();
  {
    py::gil_scoped_release release;
    cal::bin_stats(pc, pk, n, pe, n_bins, uniform, oc, oh, os, n_threads);
  }
  return py::make_tuple(count, hits, conf_sum);
}

template <class T>
py::tuple classwise_bin_stats(const CArray<T>& x, const CArray<std::int64_t>& labels,
                              bool from_logits, const CArray<double>& edges, bool uniform,
                              int n_threads) {
  check_table(x);
  check_labels(labels, x.shape(0));
  const std::size_t n_bins = check_edges(edges);
  const auto rows = static_cast<std::size_t>(x.shape(0));
  const auto m = static_cast<std::size_t>(x.shape(1));
  const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(m),
                                       static_cast<py::ssize_t>(n_bins)};
  py::array_t<std::int64_t> count(shape), hits(shape);
  py::array_t<double> prob_sum(shape);
  const T* px = x.data();
  const std::int64_t* pl = labels.data();
  const double* pe = edges.data();
  std::int64_t* oc = count.mutable_data();
  std::int64_t* oh = hits.mutable_data();
  double* os = prob_sum.mutable_data();
  {
    py::gil_scoped_release release;
    cal::classwise_bin_stats(px, rows, m, from_logits, pl, pe, n_bins, uniform, oc, oh, os,
                             n_threads);
  }
  return py::make_tuple(count, hits, prob_sum);
}

template <class T>
py::tuple temperature_sums(const CArray<T>& x, const CArray<std::int64_t>& labels, double beta,
                           int n_threads) {
  check_table(x);
  check_labels(labels, x.shape(0));
  const auto rows = static_cast<std::size_t>(x.shape(0));
  const auto m = static_cast<std::size_t>(x.shape(1));
  const T* px = x.data();
  const std::int64_t* pl = labels.data();
  cal::NewtonSums s;
  {
    py::gil_scoped_release release;
    s = cal::temperature_sums(px, rows, m, pl, beta, n_threads);
  }
  return py::make_tuple(s.nll, s.gradient, s.hessian);
}

template <class T>
void register_float_type(py::module_& m) {
  m.def("top_label", &top_label<T>, py::arg("x").noconvert(), py::arg("labels").noconvert(),
        py::arg("from_logits"), py::arg("want_entropy") = false, py::arg("n_threads") = 1,
        "(confidence, correct, entropy|None) of each row of probabilities or logits.");
  m.def("entropy_rows", &entropy_rows<T>, py::arg("x").noconvert(), py::arg("from_logits"),
        py::arg("n_threads") = 1, "Predictive entropy (nats) of each row.");
  m.def("classwise_bin_stats", &classwise_bin_stats<T>, py::arg("x").noconvert(),
        py::arg("labels").noconvert(), py::arg("from_logits"), py::arg("edges").noconvert(),
        py::arg("uniform"), py::arg("n_threads") = 1,
        "(count, hits, prob_sum), each (classes, n_bins), of the class-wise reliability bins.");
  m.def("temperature_sums", &temperature_sums<T>, py::arg("x").noconvert(),
        py::arg("labels").noconvert(), py::arg("beta"), py::arg("n_threads") = 1,
        "(sum nll, sum dnll/dbeta, sum d2nll/dbeta2) of softmax(beta * logits).");
}

}  // namespace

void register_calibration(py::module_& m) {
  register_float_type<float>(m);
  register_float_type<double>(m);
  m.def("bin_stats", &bin_stats, py::arg("confidence").noconvert(), py::arg("correct").noconvert(),
        py::arg("edges").noconvert(), py::arg("uniform"), py::arg("n_threads") = 1,
        "(count, hits, conf_sum) per bin of the top-label confidences.");
}
