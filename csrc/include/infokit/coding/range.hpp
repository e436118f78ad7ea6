// A range coder (Martin 1979; the arithmetic of Schindler's byte-oriented coders, here with a
// 64-bit low/range and 32-bit output words): a queue, symbols decode in the order they were
// encoded, which suits autoregressive models that are evaluated while encoding.
//
//   encode (c, f):  r = range >> P; low += r c (a carry ripples into the words already written);
//                   range = r f; while range < 2^32: emit the top word of low, shift both by 32
//   decode:         r = range >> P; slot = point / r (point = code - low, the decoder's offset);
//                   find the symbol; point -= r c; range = r f; refill while range < 2^32
//
// The encoder finishes by writing low's two words, so a valid stream ends with point = 0 and
// every word read; a damaged stream or a different model fails that check or runs out of words.
// The top r (2^P - M') sliver of each range is unused; the loss is about 2^P / range bits per
// symbol (range is at least 2^32), a few 1e-5 bits at P = 24. Escapes are coded as in rans.hpp,
// in forward order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/coding/rans.hpp"

namespace infokit::coding {

constexpr u64 kRangeMin = u64{1} << 32;

class RangeEncoder {
 public:
  explicit RangeEncoder(int precision, std::size_t reserve = 0) : P_(precision) {
    words_.reserve(reserve);
  }

  int precision() const { return P_; }
  u64 pushed() const { return pushed_; }

  void put(u32 start, u32 freq) {
    const u64 r = range_ >> P_;
    const u64 next = low_ + r * start;
    if (next < low_) carry();
    low_ = next;
    range_ = r * freq;
    while (range_ < kRangeMin) {
      words_.push_back(static_cast<u32>(low_ >> 32));
      low_ <<= 32;
      range_ <<= 32;
    }
  }

  void put_bits(u32 value, int bits) { put(value << (P_ - bits), u32{1} << (P_ - bits)); }

  void put_escape(i64 v, i64 low, i64 high) {
    const Escape esc = escape_of(v, low, high);
    const int len = static_cast<int>(esc.header & 0x7f);
    const int chunks = (len + 15) / 16;
    put(static_cast<u32>((u64{1} << P_) - 1), 1);
    put_bits(esc.header, 8);
    for (int c = 0; c < chunks; ++c) {
      const int bits = c == chunks - 1 ? len - 16 * c : 16;
      put_bits(static_cast<u32>((esc.excess >> (16 * c)) & 0xffff), bits);
    }
  }

  template <class Model, class T>
  void encode(const Model& m, const T* values, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i, ++pushed_) {
      Interval iv;
      if (m.encode_interval(i, values[i], iv))
        put(iv.start, iv.freq);
      else
        put_escape(values[i], m.low(i), m.high(i));
    }
  }

  std::vector<u32> finish() {
    words_.push_back(static_cast<u32>(low_ >> 32));
    words_.push_back(static_cast<u32>(low_));
    return std::move(words_);
  }

 private:
  // low overflowed 2^64: add one to the words already written (a run of all-ones words turns
  // to zeros). It cannot run past the first word: the coded interval never exceeds [0, 2^64)
  // at the top level.
  void carry() {
    for (std::size_t i = words_.size(); i-- > 0;)
      if (++words_[i] != 0) return;
  }

  int P_;
  u64 low_ = 0;
  u64 range_ = ~u64{0};
  u64 pushed_ = 0;
  std::vector<u32> words_;
};

class RangeDecoder {
 public:
  RangeDecoder(const u32* words, std::size_t n_words, int precision)
      : words_(words), n_(n_words), P_(precision) {
    if (n_words < 2) {
      status_ = kTruncated;
      return;
    }
    point_ = (static_cast<u64>(words_[0]) << 32) | words_[1];
    pos_ = 2;
  }

  int status() const { return status_; }
  int precision() const { return P_; }
  u64 popped() const { return popped_; }

  // The slot of the next symbol; a point outside the coded range is a damaged stream.
  bool slot(u32& s) {
    r_ = range_ >> P_;
    const u64 q = point_ / r_;
    if (q >= (u64{1} << P_)) {
      status_ = kNotFinished;
      return false;
    }
    s = static_cast<u32>(q);
    return true;
  }

  void advance(Interval iv) {
    point_ -= r_ * iv.start;
    range_ = r_ * iv.freq;
    while (range_ < kRangeMin) {
      if (pos_ >= n_) {
        status_ = kTruncated;
        range_ = ~u64{0};
        return;
      }
      point_ = (point_ << 32) | words_[pos_++];
      range_ <<= 32;
    }
  }

  bool get_bits(int bits, u32& value) {
    u32 s;
    if (!slot(s)) return false;
    value = s >> (P_ - bits);
    advance({value << (P_ - bits), u32{1} << (P_ - bits)});
    return status_ == kOk;
  }

  bool get_escape(i64 low, i64 high, i64& v) {
    u32 header;
    if (!get_bits(8, header)) return false;
    const int len = static_cast<int>(header & 0x7f);
    if (len > 64) return false;
    const int chunks = (len + 15) / 16;
    u64 e = 0;
    for (int c = 0; c < chunks; ++c) {
      u32 part;
      if (!get_bits(c == chunks - 1 ? len - 16 * c : 16, part)) return false;
      e |= static_cast<u64>(part) << (16 * c);
    }
    return escaped_value(header, e, low, high, v);
  }

  template <class Model>
  int decode(const Model& m, i64* out, std::size_t n) {
    for (std::size_t i = 0; i < n && status_ == kOk; ++i, ++popped_) {
      u32 s;
      if (!slot(s)) break;
      Interval iv;
      i64 v;
      const bool in_range = m.decode_symbol(i, s, v, iv);
      advance(iv);
      if (status_ != kOk) break;
      if (in_range) {
        out[i] = v;
      } else if (!get_escape(m.low(i), m.high(i), out[i])) {
        if (status_ == kOk) status_ = kBadEscape;
      }
    }
    return status_;
  }

  int finish() {
    if (status_ != kOk) return status_;
    if (point_ != 0 || pos_ != n_) return status_ = kNotFinished;
    return kOk;
  }

 private:
  const u32* words_;
  std::size_t n_, pos_ = 0;
  int P_;
  int status_ = kOk;
  u64 point_ = 0, range_ = ~u64{0}, r_ = 1;
  u64 popped_ = 0;
};

}  // namespace infokit::coding
