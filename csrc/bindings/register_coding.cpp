// Bindings for the entropy coders (infokit/coding/*.hpp). Thin: take buffers, check sizes,
// release the GIL, run the coder, turn a decoder status into ValueError. Validation of values
// (probabilities, scales, ranges) is the Python layer's (src/infokit/coding.py).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "infokit/coding/crc32.hpp"
#include "infokit/coding/models.hpp"
#include "infokit/coding/range.hpp"
#include "infokit/coding/rans.hpp"

namespace py = pybind11;
namespace ic = infokit::coding;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

using Words = CArray<std::uint32_t>;
using Values = CArray<std::int64_t>;
using Reals = CArray<double>;

py::array_t<std::uint32_t> to_array(ic::WordBuffer&& v) {
  auto* owned = new ic::WordBuffer(std::move(v));
  py::capsule owner(owned, [](void* p) { delete static_cast<ic::WordBuffer*>(p); });
  return py::array_t<std::uint32_t>(static_cast<py::ssize_t>(owned->size()), owned->data(), owner);
}

py::array_t<std::uint32_t> to_array(std::vector<std::uint32_t>&& v) {
  auto* owned = new std::vector<std::uint32_t>(std::move(v));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<std::uint32_t>*>(p); });
  return py::array_t<std::uint32_t>(static_cast<py::ssize_t>(owned->size()), owned->data(), owner);
}

void check_precision(int precision) {
  if (precision < ic::kMinPrecision || precision > ic::kMaxPrecision)
    throw std::invalid_argument("precision must be in [" + std::to_string(ic::kMinPrecision) +
                                ", " + std::to_string(ic::kMaxPrecision) + "], got " +
                                std::to_string(precision));
}

int checked_precision(int precision) {
  check_precision(precision);
  return precision;
}

void check_alphabet(std::int64_t low, std::int64_t high, int precision) {
  if (low > high) throw std::invalid_argument("low must be <= high");
  if (low < -(std::int64_t{1} << 52) || high > (std::int64_t{1} << 52))
    throw std::invalid_argument("low and high must lie within +-2^52");
  if (static_cast<std::uint64_t>(high - low) + 2 >= (std::uint64_t{1} << precision))
    throw std::invalid_argument("the alphabet high - low + 1 must be below 2^precision - 1");
}

// Per-symbol parameters: one value shared by all (stride 0) or one per symbol (stride 1).
std::size_t stride_of(const Reals& a, std::size_t n, const char* name) {
  if (a.ndim() != 1) throw std::invalid_argument(std::string(name) + " must be 1-D");
  if (a.shape(0) == 1) return 0;
  if (static_cast<std::size_t>(a.shape(0)) != n)
    throw std::invalid_argument(std::string(name) + " must have length 1 or the symbol count");
  return 1;
}

// Runs one model's block through an encoder (GIL released).
template <class Encoder, class Model, class T>
void push_typed(Encoder& enc, const Model& m, const T* v, std::size_t n) {
  py::gil_scoped_release release;
  if constexpr (std::is_same_v<Encoder, ic::RansEncoder> && std::is_same_v<Model, ic::TableModel>)
    enc.encode_table(m, v, n);
  else
    enc.encode(m, v, n);
}

// Symbols: a C-contiguous int32 array is read in place; anything else becomes int64.
template <class Encoder, class Model>
void push_block(Encoder& enc, const Model& m, const py::array& symbols) {
  const auto n = static_cast<std::size_t>(symbols.size());
  if (py::isinstance<CArray<std::int32_t>>(symbols) &&
      (symbols.flags() & py::array::c_style)) {
    const auto a = py::reinterpret_borrow<CArray<std::int32_t>>(symbols);
    push_typed(enc, m, a.data(), n);
    return;
  }
  const auto a = Values::ensure(symbols);
  if (!a) throw py::type_error("symbols must be an integer array");
  push_typed(enc, m, a.data(), n);
}

// The array a decoder writes n symbols into: `out` when given (a writable C-contiguous int64
// array of n entries, e.g. a slice of a larger result), else a new one.
Values output_for(const py::object& out, std::size_t n) {
  if (out.is_none()) return Values(static_cast<py::ssize_t>(n));
  if (!py::isinstance<Values>(out))
    throw py::type_error("out must be a C-contiguous int64 array");
  auto a = py::reinterpret_borrow<Values>(out);
  if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n || !a.writeable())
    throw std::invalid_argument("out must be a writable 1-D array of n entries");
  return a;
}

// Pops one model's block of n symbols from a decoder (GIL released); ValueError if it fails.
template <class Decoder, class Model>
Values pop_block(Decoder& dec, const Model& m, std::size_t n,
                 const py::object& out_arg = py::none()) {
  Values out = output_for(out_arg, n);
  std::int64_t* o = out.mutable_data();
  int status = dec.status();
  if (status == ic::kOk) {
    py::gil_scoped_release release;
    if constexpr (std::is_same_v<Decoder, ic::RangeDecoder>)
      status = dec.decode(m, o, n);
    else if constexpr (std::is_same_v<Model, ic::TableModel>)
      status = dec.decode_table(m, o, n);
    else if constexpr (std::is_same_v<Model, ic::RowsModel> ||
                       std::is_same_v<Model, ic::IndexedTables>)
      status = dec.decode(m, o, n);
    else
      status = dec.decode_staged(m, o, n);
  }
  if (status != ic::kOk) throw py::value_error(ic::status_message(status));
  return out;
}

template <class Model>
py::array_t<std::uint32_t> encode_with(const Model& m, const Values& symbols, int precision) {
  ic::RansEncoder enc(precision, static_cast<std::size_t>(symbols.size()) / 2 + 4 * ic::kLanes);
  push_block(enc, m, symbols);
  return to_array(enc.finish());
}

template <class Model>
Values decode_with(const Model& m, const Words& words, std::size_t n, int precision) {
  ic::RansDecoder dec(words.data(), static_cast<std::size_t>(words.size()), precision, n);
  Values out = pop_block(dec, m, n);
  const int status = dec.finish();
  if (status != ic::kOk) throw py::value_error(ic::status_message(status));
  return out;
}

// The streaming objects: an encoder that takes blocks one at a time and a decoder that pops
// them, each block with its own model. rANS is a stack (the last block pushed is the first
// popped), the range coder a queue.
template <class Coder>
class StreamEncoder {
 public:
  explicit StreamEncoder(int precision) : enc_(checked_precision(precision)) {}
  Coder& get() {
    if (finished_) throw py::value_error("this encoder has finished; start a new one");
    return enc_;
  }
  py::array_t<std::uint32_t> finish() {
    get();
    finished_ = true;
    return to_array(enc_.finish());
  }
  std::uint64_t pushed() const { return enc_.pushed(); }
  int precision() const { return enc_.precision(); }

 private:
  Coder enc_;
  bool finished_ = false;
};

template <class Coder>
class StreamDecoder {
 public:
  StreamDecoder(Words words, std::uint64_t total, int precision)
      : words_(std::move(words)), total_(total), dec_(make(words_, total, precision)) {}
  Coder& get(std::size_t n) {
    if (dec_.popped() + n > total_)
      throw py::value_error("the stream holds " + std::to_string(total_) + " symbols; " +
                            std::to_string(dec_.popped()) + " decoded, " + std::to_string(n) +
                            " more asked");
    return dec_;
  }
  void finish() {
    if (dec_.popped() != total_)
      throw py::value_error("only " + std::to_string(dec_.popped()) + " of the stream's " +
                            std::to_string(total_) + " symbols were decoded");
    const int status = dec_.finish();
    if (status != ic::kOk) throw py::value_error(ic::status_message(status));
  }
  std::uint64_t popped() const { return dec_.popped(); }

 private:
  static Coder make(const Words& w, std::uint64_t total, int precision) {
    const auto n = static_cast<std::size_t>(w.size());
    if constexpr (std::is_same_v<Coder, ic::RansDecoder>)
      return Coder(w.data(), n, checked_precision(precision), total);
    else
      return Coder(w.data(), n, checked_precision(precision));
  }
  Words words_;  // keeps the buffer alive
  std::uint64_t total_;
  Coder dec_;
};

ic::TableModel table_model(const Reals& probs, int precision) {
  check_precision(precision);
  if (probs.ndim() != 1 || probs.shape(0) < 1) throw std::invalid_argument("probs must be 1-D");
  const auto K = static_cast<std::int64_t>(probs.shape(0));
  check_alphabet(0, K - 1, precision);
  return ic::TableModel(probs.data(), static_cast<std::uint32_t>(K), 0, precision);
}

ic::RowsModel rows_model(const Reals& probs, std::size_t n, int precision) {
  check_precision(precision);
  if (probs.ndim() != 2 || static_cast<std::size_t>(probs.shape(0)) != n || probs.shape(1) < 1)
    throw std::invalid_argument("probs must have shape (n, K)");
  const auto K = static_cast<std::int64_t>(probs.shape(1));
  check_alphabet(0, K - 1, precision);
  return ic::RowsModel(probs.data(), static_cast<std::size_t>(K), static_cast<std::uint32_t>(K),
                       precision);
}

ic::ParametricModel parametric_model(int family, const Reals& mean, const Reals& scale,
                                     std::int64_t low, std::int64_t high, std::size_t n,
                                     int precision) {
  check_precision(precision);
  check_alphabet(low, high, precision);
  if (family < 0 || family > 3) throw std::invalid_argument("unknown family");
  return ic::ParametricModel(family, mean.data(), stride_of(mean, n, "mean"), scale.data(),
                             stride_of(scale, n, "scale"), low, high, precision);
}

struct MixtureArgs {
  std::vector<int> families;
  std::size_t stride;
};

MixtureArgs mixture_args(const CArray<std::int32_t>& families, const Reals& means,
                         const Reals& scales, const Reals& weights, std::size_t n) {
  const auto K = static_cast<std::size_t>(families.size());
  if (K < 1 || K > static_cast<std::size_t>(ic::MixtureModel::kMaxComponents))
    throw std::invalid_argument("a mixture takes 1 to 16 components");
  for (const Reals* a : {&means, &scales, &weights})
    if (a->ndim() != 2 || static_cast<std::size_t>(a->shape(1)) != K ||
        a->shape(0) != means.shape(0))
      throw std::invalid_argument("means, scales and weights must have the same shape (n, K)");
  const auto rows = static_cast<std::size_t>(means.shape(0));
  if (rows != 1 && rows != n)
    throw std::invalid_argument("mixture parameters need 1 or n rows");
  MixtureArgs a{std::vector<int>(families.data(), families.data() + K), rows == 1 ? 0 : K};
  for (int f : a.families)
    if (f < 0 || f > 3) throw std::invalid_argument("unknown family");
  return a;
}

ic::IndexedTables indexed_tables(const Reals& weights, const Values& sizes, const Values& offsets,
                                 const Values& index, std::size_t n, int precision) {
  check_precision(precision);
  if (weights.ndim() != 2) throw std::invalid_argument("weights must be 2-D (rows, K)");
  const auto rows = static_cast<std::size_t>(weights.shape(0));
  const auto width = static_cast<std::int64_t>(weights.shape(1));
  if (static_cast<std::size_t>(sizes.size()) != rows ||
      static_cast<std::size_t>(offsets.size()) != rows)
    throw std::invalid_argument("sizes and offsets need one entry per row");
  if (static_cast<std::size_t>(index.size()) != n)
    throw std::invalid_argument("index needs one entry per symbol");
  for (std::size_t r = 0; r < rows; ++r) {
    const std::int64_t K = sizes.data()[r];
    if (K < 1 || K > width) throw std::invalid_argument("row sizes must be in [1, K]");
    check_alphabet(offsets.data()[r], offsets.data()[r] + K - 1, precision);
  }
  for (std::size_t i = 0; i < n; ++i)
    if (index.data()[i] < 0 || static_cast<std::size_t>(index.data()[i]) >= rows)
      throw std::invalid_argument("index out of range");
  return ic::IndexedTables(weights.data(), static_cast<std::size_t>(width), sizes.data(),
                           offsets.data(), rows, index.data(), precision);
}

template <class EncCoder, class DecCoder>
void register_streams(py::module_& m, const char* enc_name, const char* dec_name) {
  using Enc = StreamEncoder<EncCoder>;
  using Dec = StreamDecoder<DecCoder>;
  py::class_<Enc>(m, enc_name)
      .def(py::init<int>(), py::arg("precision"))
      .def_property_readonly("pushed", &Enc::pushed)
      .def_property_readonly("precision", &Enc::precision)
      .def("finish", &Enc::finish)
      .def(
          "encode_categorical",
          [](Enc& e, const Reals& probs, const py::array& symbols) {
            push_block(e.get(), table_model(probs, e.precision()), symbols);
          },
          py::arg("probs"), py::arg("symbols"))
      .def(
          "encode_rows",
          [](Enc& e, const Reals& probs, const py::array& symbols) {
            const auto n = static_cast<std::size_t>(symbols.size());
            push_block(e.get(), rows_model(probs, n, e.precision()), symbols);
          },
          py::arg("probs"), py::arg("symbols"))
      .def(
          "encode_parametric",
          [](Enc& e, int family, const Reals& mean, const Reals& scale,
             std::int64_t low, std::int64_t high, const py::array& symbols) {
            const auto n = static_cast<std::size_t>(symbols.size());
            push_block(e.get(), parametric_model(family, mean, scale, low, high, n, e.precision()),
                       symbols);
          },
          py::arg("family"), py::arg("mean"), py::arg("scale"), py::arg("low"), py::arg("high"),
          py::arg("symbols"))
      .def(
          "encode_mixture",
          [](Enc& e, const CArray<std::int32_t>& families, const Reals& means,
             const Reals& scales, const Reals& weights, std::int64_t low, std::int64_t high,
             const py::array& symbols) {
            check_alphabet(low, high, e.precision());
            const auto n = static_cast<std::size_t>(symbols.size());
            const MixtureArgs a = mixture_args(families, means, scales, weights, n);
            const ic::MixtureModel model(static_cast<int>(a.families.size()), a.families.data(),
                                         means.data(), scales.data(), weights.data(), a.stride,
                                         low, high, e.precision());
            push_block(e.get(), model, symbols);
          },
          py::arg("families"), py::arg("means"), py::arg("scales"), py::arg("weights"),
          py::arg("low"), py::arg("high"), py::arg("symbols"))
      .def(
          "encode_tables",
          [](Enc& e, const Reals& weights, const Values& sizes, const Values& offsets,
             const Values& index, const py::array& symbols) {
            const auto n = static_cast<std::size_t>(symbols.size());
            push_block(e.get(), indexed_tables(weights, sizes, offsets, index, n, e.precision()),
                       symbols);
          },
          py::arg("weights"), py::arg("sizes"), py::arg("offsets"), py::arg("index"),
          py::arg("symbols"));

  py::class_<Dec>(m, dec_name)
      .def(py::init<Words, std::uint64_t, int>(), py::arg("words"), py::arg("total"),
           py::arg("precision"))
      .def_property_readonly("popped", &Dec::popped)
      .def("finish", &Dec::finish)
      .def(
          "decode_categorical",
          [](Dec& d, const Reals& probs, std::size_t n, const py::object& out) {
            auto& dec = d.get(n);
            return pop_block(dec, table_model(probs, dec.precision()), n, out);
          },
          py::arg("probs"), py::arg("n"), py::arg("out") = py::none())
      .def(
          "decode_rows",
          [](Dec& d, const Reals& probs, std::size_t n, const py::object& out) {
            auto& dec = d.get(n);
            return pop_block(dec, rows_model(probs, n, dec.precision()), n, out);
          },
          py::arg("probs"), py::arg("n"), py::arg("out") = py::none())
      .def(
          "decode_parametric",
          [](Dec& d, int family, const Reals& mean, const Reals& scale,
             std::int64_t low, std::int64_t high, std::size_t n, const py::object& out) {
            auto& dec = d.get(n);
            return pop_block(
                dec, parametric_model(family, mean, scale, low, high, n, dec.precision()), n,
                out);
          },
          py::arg("family"), py::arg("mean"), py::arg("scale"), py::arg("low"), py::arg("high"),
          py::arg("n"), py::arg("out") = py::none())
      .def(
          "decode_mixture",
          [](Dec& d, const CArray<std::int32_t>& families, const Reals& means,
             const Reals& scales, const Reals& weights, std::int64_t low, std::int64_t high,
             std::size_t n, const py::object& out) {
            auto& dec = d.get(n);
            check_alphabet(low, high, dec.precision());
            const MixtureArgs a = mixture_args(families, means, scales, weights, n);
            const ic::MixtureModel model(static_cast<int>(a.families.size()), a.families.data(),
                                         means.data(), scales.data(), weights.data(), a.stride,
                                         low, high, dec.precision());
            return pop_block(dec, model, n, out);
          },
          py::arg("families"), py::arg("means"), py::arg("scales"), py::arg("weights"),
          py::arg("low"), py::arg("high"), py::arg("n"), py::arg("out") = py::none())
      .def(
          "decode_tables",
          [](Dec& d, const Reals& weights, const Values& sizes, const Values& offsets,
             const Values& index, std::size_t n, const py::object& out) {
            auto& dec = d.get(n);
            const auto model = indexed_tables(weights, sizes, offsets, index, n, dec.precision());
            return pop_block(dec, model, n, out);
          },
          py::arg("weights"), py::arg("sizes"), py::arg("offsets"), py::arg("index"),
          py::arg("n"), py::arg("out") = py::none());
}

}  // namespace

void register_coding(py::module_& m) {
  m.attr("coding_lanes") = ic::kLanes;

  m.def(
      "crc32",
      [](const py::buffer& data, std::uint32_t value) {
        const py::buffer_info info = data.request();
        if (info.ndim > 1 && info.strides.back() != info.itemsize)
          throw std::invalid_argument("crc32 needs a contiguous buffer");
        const auto* p = static_cast<const unsigned char*>(info.ptr);
        const auto n = static_cast<std::size_t>(info.size * info.itemsize);
        py::gil_scoped_release release;
        return ic::crc32(value, p, n);
      },
      py::arg("data"), py::arg("value") = 0,
      "CRC-32 of a contiguous buffer, continuing `value` (the same as zlib.crc32).");

  m.def(
      "coding_table",
      [](int family) {
        if (family < 0 || family > 3) throw std::invalid_argument("unknown family");
        const ic::Grid& g = ic::family_grid(family);
        return CArray<std::uint64_t>(g.intervals + 1, g.table);
      },
      py::arg("family"), "The integer CDF table of a family (0..3), for the tests.");

  m.def(
      "parametric_cdf",
      [](int family, double mean, double scale, std::int64_t low, std::int64_t high,
         int precision) {
        const Reals mu(1, &mean), sigma(1, &scale);
        const auto model = parametric_model(family, mu, sigma, low, high, 1, precision);
        const auto C = model.cdf(0);
        const std::int64_t n = high - low + 1;
        CArray<std::int64_t> out(n + 2);
        for (std::int64_t k = 0; k <= n; ++k) out.mutable_data()[k] = C(k);
        out.mutable_data()[n + 1] = std::int64_t{1} << precision;
        return out;
      },
      py::arg("family"), py::arg("mean"), py::arg("scale"), py::arg("low"), py::arg("high"),
      py::arg("precision"), "The quantized CDF C(0..n+1) of one parametric symbol.");

  m.def(
      "categorical_cdf",
      [](const Reals& probs, int precision) {
        const auto model = table_model(probs, precision);
        const auto& cum = model.cum();
        CArray<std::int64_t> out(static_cast<py::ssize_t>(cum.size()));
        for (std::size_t k = 0; k < cum.size(); ++k) out.mutable_data()[k] = cum[k];
        return out;
      },
      py::arg("probs"), py::arg("precision"), "The quantized CDF of a categorical row.");

  m.def(
      "rans_encode_categorical",
      [](const Reals& probs, const Values& symbols, int precision) {
        return encode_with(table_model(probs, precision), symbols, precision);
      },
      py::arg("probs"), py::arg("symbols"), py::arg("precision"));
  m.def(
      "rans_decode_categorical",
      [](const Reals& probs, const Words& words, std::size_t n, int precision) {
        return decode_with(table_model(probs, precision), words, n, precision);
      },
      py::arg("probs"), py::arg("words"), py::arg("n"), py::arg("precision"));

  m.def(
      "rans_encode_rows",
      [](const Reals& probs, const Values& symbols, int precision) {
        const auto n = static_cast<std::size_t>(symbols.size());
        return encode_with(rows_model(probs, n, precision), symbols, precision);
      },
      py::arg("probs"), py::arg("symbols"), py::arg("precision"));
  m.def(
      "rans_decode_rows",
      [](const Reals& probs, const Words& words, std::size_t n, int precision) {
        return decode_with(rows_model(probs, n, precision), words, n, precision);
      },
      py::arg("probs"), py::arg("words"), py::arg("n"), py::arg("precision"));

  m.def(
      "rans_encode_tables",
      [](const Reals& weights, const Values& sizes, const Values& offsets, const Values& index,
         const Values& symbols, int precision) {
        const auto n = static_cast<std::size_t>(symbols.size());
        return encode_with(indexed_tables(weights, sizes, offsets, index, n, precision), symbols,
                           precision);
      },
      py::arg("weights"), py::arg("sizes"), py::arg("offsets"), py::arg("index"),
      py::arg("symbols"), py::arg("precision"));
  m.def(
      "rans_decode_tables",
      [](const Reals& weights, const Values& sizes, const Values& offsets, const Values& index,
         const Words& words, std::size_t n, int precision) {
        return decode_with(indexed_tables(weights, sizes, offsets, index, n, precision), words, n,
                           precision);
      },
      py::arg("weights"), py::arg("sizes"), py::arg("offsets"), py::arg("index"),
      py::arg("words"), py::arg("n"), py::arg("precision"));

  m.def(
      "rans_encode_parametric",
      [](int family, const Reals& mean, const Reals& scale, std::int64_t low, std::int64_t high,
         const Values& symbols, int precision) {
        const auto n = static_cast<std::size_t>(symbols.size());
        return encode_with(parametric_model(family, mean, scale, low, high, n, precision), symbols,
                           precision);
      },
      py::arg("family"), py::arg("mean"), py::arg("scale"), py::arg("low"), py::arg("high"),
      py::arg("symbols"), py::arg("precision"));
  m.def(
      "rans_decode_parametric",
      [](int family, const Reals& mean, const Reals& scale, std::int64_t low, std::int64_t high,
         const Words& words, std::size_t n, int precision) {
        return decode_with(parametric_model(family, mean, scale, low, high, n, precision), words,
                           n, precision);
      },
      py::arg("family"), py::arg("mean"), py::arg("scale"), py::arg("low"), py::arg("high"),
      py::arg("words"), py::arg("n"), py::arg("precision"));

  m.def(
      "rans_encode_mixture",
      [](const CArray<std::int32_t>& families, const Reals& means, const Reals& scales,
         const Reals& weights, std::int64_t low, std::int64_t high, const Values& symbols,
         int precision) {
        check_precision(precision);
        check_alphabet(low, high, precision);
        const auto n = static_cast<std::size_t>(symbols.size());
        const MixtureArgs a = mixture_args(families, means, scales, weights, n);
        const ic::MixtureModel model(static_cast<int>(a.families.size()), a.families.data(),
                                     means.data(), scales.data(), weights.data(), a.stride, low,
                                     high, precision);
        return encode_with(model, symbols, precision);
      },
      py::arg("families"), py::arg("means"), py::arg("scales"), py::arg("weights"),
      py::arg("low"), py::arg("high"), py::arg("symbols"), py::arg("precision"));
  m.def(
      "rans_decode_mixture",
      [](const CArray<std::int32_t>& families, const Reals& means, const Reals& scales,
         const Reals& weights, std::int64_t low, std::int64_t high, const Words& words,
         std::size_t n, int precision) {
        check_precision(precision);
        check_alphabet(low, high, precision);
        const MixtureArgs a = mixture_args(families, means, scales, weights, n);
        const ic::MixtureModel model(static_cast<int>(a.families.size()), a.families.data(),
                                     means.data(), scales.data(), weights.data(), a.stride, low,
                                     high, precision);
        return decode_with(model, words, n, precision);
      },
      py::arg("families"), py::arg("means"), py::arg("scales"), py::arg("weights"),
      py::arg("low"), py::arg("high"), py::arg("words"), py::arg("n"), py::arg("precision"));

  register_streams<ic::RansEncoder, ic::RansDecoder>(m, "RansStreamEncoder", "RansStreamDecoder");
  register_streams<ic::RangeEncoder, ic::RangeDecoder>(m, "RangeStreamEncoder",
                                                       "RangeStreamDecoder");
}
