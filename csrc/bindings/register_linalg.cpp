// Bindings for the packed single-precision product (infokit/linalg/gemm.hpp). Private: the
// cross-entropy engine packs its operands once and multiplies tiles of them. Thin: check every
// shape, stride and dtype (the kernel trusts them), release the GIL, call the kernel.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <stdexcept>
#include <string>

#include "infokit/linalg/gemm.hpp"

namespace py = pybind11;
namespace la = infokit::linalg;

namespace {

void fail(const std::string& name, const std::string& what) {
  throw std::invalid_argument(name + " must be " + what);
}

void require_float32(const py::array& a, const char* name, py::ssize_t ndim) {
  if (!py::isinstance<py::array_t<float>>(a))
    throw py::type_error(std::string(name) + " must be a float32 array");
  if (a.ndim() != ndim) fail(name, std::to_string(ndim) + "-D");
  if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(float) != 0)
    fail(name, "aligned to float32 (its data starts at an odd byte offset)");
}

// [first, last) bytes an array's elements span (empty for an empty array).
std::pair<std::uintptr_t, std::uintptr_t> extent(const py::array& a) {
  auto lo = reinterpret_cast<std::uintptr_t>(a.data()), hi = lo;
  if (a.size() == 0) return {lo, lo};
  for (py::ssize_t axis = 0; axis < a.ndim(); ++axis) {
    const py::ssize_t span = (a.shape(axis) - 1) * a.strides(axis);
    if (span < 0)
      lo -= static_cast<std::uintptr_t>(-span);
    else
      hi += static_cast<std::uintptr_t>(span);
  }
  return {lo, hi + static_cast<std::uintptr_t>(a.itemsize())};
}

// The kernels write `out` while reading `in` (from several threads): they must not overlap.
void require_apart(const py::array& out, const py::array& in, const char* in_name) {
  const auto [a0, a1] = extent(out);
  const auto [b0, b1] = extent(in);
  if (a0 < b1 && b0 < a1) fail("out", std::string("separate from ") + in_name + " (they overlap)");
}

// Stride of axis `axis` in elements (numpy strides are bytes; float32 views always divide).
std::ptrdiff_t stride_of(const py::array& a, py::ssize_t axis, const char* name) {
  const py::ssize_t s = a.strides(axis);
  if (s % static_cast<py::ssize_t>(sizeof(float)) != 0) fail(name, "aligned to float32 elements");
  return static_cast<std::ptrdiff_t>(s / static_cast<py::ssize_t>(sizeof(float)));
}

la::Packed packed_of(const py::array& p, const char* name, std::size_t width, std::size_t panels) {
  require_float32(p, name, 3);
  const auto k = static_cast<std::size_t>(p.shape(1));
  const bool strided = p.size() > 0;  // numpy may give empty arrays zero strides
  if (static_cast<std::size_t>(p.shape(2)) != width || (strided && stride_of(p, 2, name) != 1) ||
      (strided && k > 1 && stride_of(p, 1, name) != static_cast<std::ptrdiff_t>(width)))
    fail(name, "a packed operand of width " + std::to_string(width) +
                   " (from linalg_pack, sliced by panels or by k only)");
  if (static_cast<std::size_t>(p.shape(0)) != panels)
    fail(name, "packed into " + std::to_string(panels) + " panels here, got " +
                   std::to_string(p.shape(0)));
  const std::ptrdiff_t panel_stride =
      panels > 1 && strided ? stride_of(p, 0, name) : static_cast<std::ptrdiff_t>(k * width);
  if (panel_stride < static_cast<std::ptrdiff_t>(k * width))
    fail(name, "made of non-overlapping panels");
  return {static_cast<const float*>(p.data()), panels, k, static_cast<std::size_t>(panel_stride),
          width};
}

// side "lhs": x is (m, k), packed by rows into (panels(m, kMr), k, kMr);
// side "rhs": x is (k, n), packed by columns into (panels(n, kNr), k, kNr).
// Into `out` when given (a packed operand of that shape, possibly a k-range of a larger one).
py::array pack(const py::array& x, const std::string& side, const py::object& out) {
  require_float32(x, "x", 2);
  const bool lhs = side == "lhs";
  if (!lhs && side != "rhs") fail("side", "'lhs' or 'rhs'");
  const py::ssize_t outer_axis = lhs ? 0 : 1, inner_axis = lhs ? 1 : 0;
  const auto outer = static_cast<std::size_t>(x.shape(outer_axis));
  const auto k = static_cast<std::size_t>(x.shape(inner_axis));
  const std::size_t width = lhs ? la::kMr : la::kNr;
  const std::size_t n_panels = la::panels(outer, width);
  py::array dst = out.is_none()
                      ? py::array_t<float>({static_cast<py::ssize_t>(n_panels),
                                            static_cast<py::ssize_t>(k),
                                            static_cast<py::ssize_t>(width)})
                      : out.cast<py::array>();
  const la::Packed target = packed_of(dst, "out", width, n_panels);
  if (target.k != k)
    fail("out", "packed with inner size " + std::to_string(k) + ", got " + std::to_string(target.k));
  if (!dst.writeable()) fail("out", "writeable");
  require_apart(dst, x, "x");
  const auto s_outer = stride_of(x, outer_axis, "x"), s_inner = stride_of(x, inner_axis, "x");
  const float* px = static_cast<const float*>(x.data());
  float* po = static_cast<float*>(dst.mutable_data());
  {
    py::gil_scoped_release release;
    la::pack(px, outer, s_outer, k, s_inner, width, po, target.panel_stride);
  }
  return dst;
}

void gemm_packed(py::array out, const py::array& a, const py::array& b, bool accumulate,
                 int n_threads) {
  require_float32(out, "out", 2);
  if (!out.writeable()) fail("out", "writeable");
  const auto m = static_cast<std::size_t>(out.shape(0)), n = static_cast<std::size_t>(out.shape(1));
  const bool strided = out.size() > 0;  // numpy may give empty arrays zero strides
  if (strided && n > 1 && stride_of(out, 1, "out") != 1) fail("out", "contiguous along its rows");
  const std::ptrdiff_t ldc =
      strided && m > 1 ? stride_of(out, 0, "out") : static_cast<std::ptrdiff_t>(n);
  if (ldc < static_cast<std::ptrdiff_t>(n)) fail("out", "made of non-overlapping rows");
  const la::Packed pa = packed_of(a, "a", la::kMr, la::panels(m, la::kMr));
  const la::Packed pb = packed_of(b, "b", la::kNr, la::panels(n, la::kNr));
  require_apart(out, a, "a");
  require_apart(out, b, "b");
  if (pa.k != pb.k)
    fail("b", "packed with the same inner size as a (" + std::to_string(pa.k) + "), got " +
                  std::to_string(pb.k));
  float* pc = static_cast<float*>(out.mutable_data());
  py::gil_scoped_release release;
  la::gemm_packed(m, n, pa, pb, pc, static_cast<std::size_t>(ldc), accumulate, n_threads);
}

}  // namespace

void register_linalg(py::module_& m) {
  m.def("linalg_pack", &pack, py::arg("x"), py::arg("side"), py::arg("out") = py::none(),
        "Pack a float32 matrix for linalg_gemm_packed: 'lhs' (m, k) by rows, 'rhs' (k, n) by "
        "columns.");
  m.def("linalg_gemm_packed", &gemm_packed, py::arg("out"), py::arg("a"), py::arg("b"),
        py::arg("accumulate"), py::arg("n_threads") = 1,
        "out = a @ b (or out += a @ b) from packed operands, in float32.");
  m.def("linalg_fast_kernel", &la::fast_kernel,
        "Whether products run on the AVX-512 micro-kernel here (under the instruction-set cap).");
  m.def("linalg_panel_widths", [] { return py::make_tuple(la::kMr, la::kNr); },
        "(rows per left panel, columns per right panel).");
}
