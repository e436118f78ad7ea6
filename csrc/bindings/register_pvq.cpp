// Bindings for pyramid vector quantization (infokit/pvq/*.hpp). Thin: check shapes and ranges,
// build the V(n, k) table, release the GIL, call the kernel, turn a bad row into ValueError.
// The Python layer (infokit.pvq) validates kinds and values and words the user-facing errors;
// the checks here keep the kernels in bounds whatever they are given.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "infokit/pvq/enumeration.hpp"
#include "infokit/pvq/multiword.hpp"
#include "infokit/pvq/search.hpp"

namespace py = pybind11;
namespace pvq = infokit::pvq;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

// Largest table the kernels build: (N + 1) * (K + 1) entries of 8 bytes (32 MiB).
constexpr std::int64_t kMaxTableEntries = std::int64_t{1} << 22;

void check_dims(std::int64_t N, std::int64_t K, std::int64_t min_N) {
  if (N < min_N)
    throw std::invalid_argument("N must be >= " + std::to_string(min_N) + ", got " +
                                std::to_string(N));
  if (K < 0) throw std::invalid_argument("K must be >= 0, got " + std::to_string(K));
  if (N > kMaxTableEntries || K > kMaxTableEntries || (N + 1) * (K + 1) > kMaxTableEntries)
    throw std::invalid_argument(
        "(N + 1) * (K + 1) must be <= 2^22 for the V(n, k) table, got N = " + std::to_string(N) +
        ", K = " + std::to_string(K));
}

std::vector<std::uint64_t> build_table(std::int64_t N, std::int64_t K) {
  std::vector<std::uint64_t> table(static_cast<std::size_t>((N + 1) * (K + 1)));
  pvq::size_table(static_cast<std::size_t>(N), static_cast<std::size_t>(K), table.data());
  return table;
}

// The 64-bit codebook of (N, K), tables built without the GIL; ValueError when V(N, K) >= 2^64.
std::unique_ptr<pvq::Codebook> codebook_64(std::int64_t N, std::int64_t K) {
  check_dims(N, K, 1);
  std::unique_ptr<pvq::Codebook> cb;
  {
    py::gil_scoped_release release;
    const std::vector<std::uint64_t> table = build_table(N, K);
    if (table.back() != pvq::kSaturated)
      cb = std::make_unique<pvq::Codebook>(table.data(), static_cast<std::size_t>(N),
                                           static_cast<std::size_t>(K));
  }
  if (!cb)
    throw std::invalid_argument("V(N, K) >= 2^64 for N = " + std::to_string(N) +
                                ", K = " + std::to_string(K) + ": use the multi-word path");
  return cb;
}

CArray<std::uint64_t> size_table(std::int64_t N, std::int64_t K) {
  check_dims(N, K, 0);
  CArray<std::uint64_t> out({N + 1, K + 1});
  std::uint64_t* p = out.mutable_data();
  {
    py::gil_scoped_release release;
    pvq::size_table(static_cast<std::size_t>(N), static_cast<std::size_t>(K), p);
  }
  return out;
}

template <class P>
CArray<std::uint64_t> encode(const CArray<P>& pulses, std::int64_t K, int n_threads) {
  if (pulses.ndim() != 2) throw std::invalid_argument("vectors must be 2-D (m, N)");
  const std::int64_t m = pulses.shape(0), N = pulses.shape(1);
  const std::unique_ptr<pvq::Codebook> cb = codebook_64(N, K);
  CArray<std::uint64_t> out(m);
  const P* px = pulses.data();
  std::uint64_t* po = out.mutable_data();
  std::int64_t bad;
  {
    py::gil_scoped_release release;
    bad = pvq::encode(px, static_cast<std::size_t>(m), *cb, po, n_threads);
  }
  if (bad >= 0)
    throw std::invalid_argument(
        "vectors[" + std::to_string(bad) +
        "] is not a codeword: its L1 norm must be K = " + std::to_string(K));
  return out;
}

CArray<std::int32_t> decode(const CArray<std::uint64_t>& indices, std::int64_t N, std::int64_t K,
                            int n_threads) {
  if (indices.ndim() != 1) throw std::invalid_argument("indices must be 1-D");
  if (K > INT32_MAX) throw std::invalid_argument("K must be < 2^31");
  const std::unique_ptr<pvq::Codebook> cb = codebook_64(N, K);
  const std::int64_t m = indices.shape(0);
  CArray<std::int32_t> out({m, N});
  const std::uint64_t* pi = indices.data();
  std::int32_t* po = out.mutable_data();
  std::int64_t bad;
  {
    py::gil_scoped_release release;
    bad = pvq::decode(pi, static_cast<std::size_t>(m), *cb, po, n_threads);
  }
  if (bad >= 0)
    throw std::invalid_argument(
        "indices[" + std::to_string(bad) + "] = " + std::to_string(pi[bad]) +
        " is out of range: must be < V(N, K) = " + std::to_string(cb->total()));
  return out;
}

template <class T>
CArray<std::int32_t> search(const CArray<T>& x, std::int64_t K, int n_threads) {
  if (x.ndim() != 2) throw std::invalid_argument("vectors must be 2-D (m, N)");
  if (K < 0 || K > INT32_MAX) throw std::invalid_argument("K must be in [0, 2^31)");
  const std::int64_t m = x.shape(0), N = x.shape(1);
  if (N < 1) throw std::invalid_argument("vectors must have N >= 1 columns");
  CArray<std::int32_t> out({m, N});
  const T* px = x.data();
  std::int32_t* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    pvq::search(px, static_cast<std::size_t>(m), static_cast<std::size_t>(N), K, po, n_threads);
  }
  return out;
}

// The W-word codebook, tables built without the GIL; ValueError when they would be too large or
// V(N, K) does not fit in W words.
std::unique_ptr<pvq::WideCodebook> wide_codebook(std::int64_t N, std::int64_t K, std::int64_t W) {
  check_dims(N, K, 1);
  if (W < 1 || W > kMaxTableEntries || (N + 1) * (K + 1) * W > kMaxTableEntries)
    throw std::invalid_argument(
        "(N + 1) * (K + 1) * W must be <= 2^22 words for the tables, got W = " + std::to_string(W));
  std::unique_ptr<pvq::WideCodebook> cb;
  {
    py::gil_scoped_release release;
    cb = std::make_unique<pvq::WideCodebook>(
        static_cast<std::size_t>(N), static_cast<std::size_t>(K), static_cast<std::size_t>(W));
  }
  if (!cb->fits())
    throw std::invalid_argument("V(N, K) does not fit in W = " + std::to_string(W) + " words");
  return cb;
}

// (words (m, W), first row whose L1 norm is not K or -1): the caller words the error.
template <class P>
py::tuple encode_words(const CArray<P>& pulses, std::int64_t K, std::int64_t W, int n_threads) {
  if (pulses.ndim() != 2) throw std::invalid_argument("vectors must be 2-D (m, N)");
  const std::int64_t m = pulses.shape(0), N = pulses.shape(1);
  const std::unique_ptr<pvq::WideCodebook> cb = wide_codebook(N, K, W);
  CArray<std::uint64_t> out({m, W});
  const P* px = pulses.data();
  std::uint64_t* po = out.mutable_data();
  std::int64_t bad;
  {
    py::gil_scoped_release release;
    bad = pvq::encode_wide(px, static_cast<std::size_t>(m), *cb, po, n_threads);
  }
  return py::make_tuple(out, bad);
}

// (codewords (m, N) int32, first row whose index is >= V(N, K) or -1).
py::tuple decode_words(const CArray<std::uint64_t>& words, std::int64_t N, std::int64_t K,
                       int n_threads) {
  if (words.ndim() != 2) throw std::invalid_argument("words must be 2-D (m, W)");
  if (K > INT32_MAX) throw std::invalid_argument("K must be < 2^31");
  const std::int64_t m = words.shape(0), W = words.shape(1);
  const std::unique_ptr<pvq::WideCodebook> cb = wide_codebook(N, K, W);
  CArray<std::int32_t> out({m, N});
  const std::uint64_t* pw = words.data();
  std::int32_t* po = out.mutable_data();
  std::int64_t bad;
  {
    py::gil_scoped_release release;
    bad = pvq::decode_wide(pw, static_cast<std::size_t>(m), *cb, po, n_threads);
  }
  return py::make_tuple(out, bad);
}

}  // namespace

void register_pvq(py::module_& m) {
  m.def("pvq_size_table", &size_table, py::arg("N"), py::arg("K"),
        "(N+1, K+1) uint64 table of V(n, k), saturated at 2^64 - 1 where it does not fit.");
  m.def("pvq_encode", &encode<std::int32_t>, py::arg("pulses").noconvert(), py::arg("K"),
        py::arg("n_threads") = 1, "RFC 6716 index of each row of an (m, N) int32 codeword array.");
  m.def("pvq_encode", &encode<std::int64_t>, py::arg("pulses").noconvert(), py::arg("K"),
        py::arg("n_threads") = 1, "RFC 6716 index of each row of an (m, N) int64 codeword array.");
  m.def("pvq_decode", &decode, py::arg("indices").noconvert(), py::arg("N"), py::arg("K"),
        py::arg("n_threads") = 1, "(m, N) int32 codewords of uint64 RFC 6716 indices.");
  m.def("pvq_encode_words", &encode_words<std::int32_t>, py::arg("pulses").noconvert(),
        py::arg("K"), py::arg("W"), py::arg("n_threads") = 1,
        "(W-word little-endian indices (m, W), first bad row or -1) of int32 codewords.");
  m.def("pvq_encode_words", &encode_words<std::int64_t>, py::arg("pulses").noconvert(),
        py::arg("K"), py::arg("W"), py::arg("n_threads") = 1,
        "(W-word little-endian indices (m, W), first bad row or -1) of int64 codewords.");
  m.def("pvq_decode_words", &decode_words, py::arg("words").noconvert(), py::arg("N"), py::arg("K"),
        py::arg("n_threads") = 1,
        "((m, N) int32 codewords, first out-of-range row or -1) of W-word indices.");
  m.def("pvq_search", &search<double>, py::arg("x").noconvert(), py::arg("K"),
        py::arg("n_threads") = 1, "Greedy PVQ pulse search, one int32 codeword per row.");
  m.def("pvq_search", &search<float>, py::arg("x").noconvert(), py::arg("K"),
        py::arg("n_threads") = 1, "Greedy PVQ pulse search, one int32 codeword per row.");
}
