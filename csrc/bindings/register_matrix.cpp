// Bindings for the tiled Gaussian kernel sums (infokit/matrix/gaussian_sums.hpp). Thin: take
// C-contiguous 2-D float32/float64 buffers, check shapes, release the GIL, call the kernel.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "infokit/matrix/gaussian_sums.hpp"

namespace py = pybind11;
namespace mk = infokit::matrix;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

struct Shape {
  std::size_t n, d;
};

template <class T>
Shape shape_2d(const CArray<T>& x, const char* name) {
  if (x.ndim() != 2) throw std::invalid_argument(std::string(name) + " must be 2-D (n, d)");
  return {static_cast<std::size_t>(x.shape(0)), static_cast<std::size_t>(x.shape(1))};
}

void check_gamma(double gamma, const char* name) {
  if (!(gamma >= 0.0) || !std::isfinite(gamma))
    throw std::invalid_argument(std::string(name) + " must be finite and >= 0");
}

template <class T>
double cross_sum(const CArray<T>& x, const CArray<T>& y, double gamma, int n_threads) {
  const Shape sx = shape_2d(x, "x"), sy = shape_2d(y, "y");
  if (sx.d != sy.d) throw std::invalid_argument("x and y must have the same number of columns");
  check_gamma(gamma, "gamma");
  const T* px = x.data();
  const T* py_ = y.data();
  py::gil_scoped_release release;
  return mk::gaussian_cross_sum(px, sx.n, py_, sy.n, sx.d, gamma, n_threads);
}

template <class T>
double self_sum(const CArray<T>& x, double gamma, int n_threads) {
  const Shape sx = shape_2d(x, "x");
  check_gamma(gamma, "gamma");
  const T* px = x.data();
  py::gil_scoped_release release;
  return mk::gaussian_self_sum(px, sx.n, sx.d, gamma, n_threads);
}

template <class T>
py::tuple two_sample_sums(const CArray<T>& x, const CArray<T>& y, double gamma, int n_threads) {
  const Shape sx = shape_2d(x, "x"), sy = shape_2d(y, "y");
  if (sx.d != sy.d) throw std::invalid_argument("x and y must have the same number of columns");
  check_gamma(gamma, "gamma");
  const T* px = x.data();
  const T* py_ = y.data();
  mk::TwoSampleSums s;
  {
    py::gil_scoped_release release;
    s = mk::gaussian_two_sample_sums(px, sx.n, py_, sy.n, sx.d, gamma, n_threads);
  }
  return py::make_tuple(s.xx, s.yy, s.xy);
}

template <class T>
py::tuple paired_sums(const CArray<T>& x, const CArray<T>& y, double gamma_x, double gamma_y,
                      int n_threads) {
  const Shape sx = shape_2d(x, "x"), sy = shape_2d(y, "y");
  if (sx.n != sy.n) throw std::invalid_argument("x and y must have the same number of rows");
  check_gamma(gamma_x, "gamma_x");
  check_gamma(gamma_y, "gamma_y");
  const auto rows = static_cast<py::ssize_t>(sx.n);
  py::array_t<double> k_rows(rows), l_rows(rows);
  const T* px = x.data();
  const T* py_ = y.data();
  double* pk = k_rows.mutable_data();
  double* pl = l_rows.mutable_data();
  mk::PairedSums s;
  {
    py::gil_scoped_release release;
    s = mk::gaussian_paired_sums(px, sx.d, py_, sy.d, sx.n, gamma_x, gamma_y, pk, pl, n_threads);
  }
  return py::make_tuple(s.kl, s.kk, s.ll, k_rows, l_rows);
}

template <class T>
py::array_t<double> gram(const CArray<T>& x, double gamma, int n_threads) {
  const Shape sx = shape_2d(x, "x");
  check_gamma(gamma, "gamma");
  py::array_t<double> out({static_cast<py::ssize_t>(sx.n), static_cast<py::ssize_t>(sx.n)});
  const T* px = x.data();
  double* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    mk::gaussian_gram(px, sx.n, sx.d, gamma, po, n_threads);
  }
  return out;
}

template <class T>
py::array_t<double> matvec(const CArray<T>& x, const CArray<double>& v, double gamma,
                           int n_threads) {
  const Shape sx = shape_2d(x, "x"), sv = shape_2d(v, "v");
  if (sv.n != sx.n) throw std::invalid_argument("v must have as many rows as x");
  check_gamma(gamma, "gamma");
  py::array_t<double> out({static_cast<py::ssize_t>(sv.n), static_cast<py::ssize_t>(sv.d)});
  const T* px = x.data();
  const double* pv = v.data();
  double* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    mk::gaussian_matvec(px, sx.n, sx.d, gamma, pv, sv.d, po, n_threads);
  }
  return out;
}

template <class T>
void register_real_type(py::module_& m) {
  m.def("gaussian_matvec", &matvec<T>, py::arg("x").noconvert(), py::arg("v").noconvert(),
        py::arg("gamma"), py::arg("n_threads") = 1,
        "K @ v for the Gaussian Gram K of x and v (n, p) float64, without forming K.");
  m.def("gaussian_cross_sum", &cross_sum<T>, py::arg("x").noconvert(), py::arg("y").noconvert(),
        py::arg("gamma"), py::arg("n_threads") = 1,
        "sum_ij exp(-gamma ||x_i - y_j||^2), tiled, O(n d) memory.");
  m.def("gaussian_self_sum", &self_sum<T>, py::arg("x").noconvert(), py::arg("gamma"),
        py::arg("n_threads") = 1,
        "sum_ij exp(-gamma ||x_i - x_j||^2) over all ordered pairs, diagonal included.");
  m.def("gaussian_two_sample_sums", &two_sample_sums<T>, py::arg("x").noconvert(),
        py::arg("y").noconvert(), py::arg("gamma"), py::arg("n_threads") = 1,
        "(sum K_xx, sum K_yy, sum K_xy) in one pass: the three sums of MMD and CS divergence.");
  m.def("gaussian_paired_sums", &paired_sums<T>, py::arg("x").noconvert(),
        py::arg("y").noconvert(), py::arg("gamma_x"), py::arg("gamma_y"), py::arg("n_threads") = 1,
        "(sum K*L, sum K*K, sum L*L, row sums of K, row sums of L) of two Gaussian Grams.");
  m.def("gaussian_gram", &gram<T>, py::arg("x").noconvert(), py::arg("gamma"),
        py::arg("n_threads") = 1, "The n x n Gaussian Gram matrix (float64).");
}

}  // namespace

void register_matrix(py::module_& m) {
  register_real_type<double>(m);
  register_real_type<float>(m);
}
