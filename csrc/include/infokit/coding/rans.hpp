// Interleaved rANS (Duda 2013; the interleaving of Giesen 2014): kLanes 64-bit states share one
// stream of 32-bit words, symbol i going to lane i % kLanes, so consecutive symbols are independent
// and their arithmetic overlaps in the CPU. State x in [L, 2^63), L = 2^31; precision P <= 30.
//
//   encode (f, c):  while x >= ((L >> P) << 32) f: emit the low word, x >>= 32   (at most once)
//                   x = floor(x / f) 2^P + (x mod f) + c
//   decode:         slot = x mod 2^P; find the symbol with c <= slot < c + f
//                   x = f (x >> P) + slot - c; if x < L: x = (x << 32) | next word   (at most once)
//
// Encoding runs backwards over the symbols (rANS is a stack); the encoder's final states are
// flushed as two words each, so the decoder reads the word array from its end. After the last
// symbol every decoder state must be back at L and every word consumed: a wrong model or a damaged
// stream fails that check (or runs out of words) and the decoder reports it; it never reads out of
// bounds and its loops are bounded by the symbol count.
//
// Out-of-range values: the escape bin [M - 1, M), then an 8-bit uniform header (bit 7: above high;
// bits 0-6: the bit length of the excess e >= 0), then e in 16-bit uniform chunks, low chunk first,
// the top chunk only as wide as it needs. The value is high + 1 + e or low - 1 - e.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "infokit/coding/models.hpp"

namespace infokit::coding {

constexpr int kLanes = 8;
constexpr u64 kRansL = u64{1} << 31;

enum Status : int {
  kOk = 0,
  kTruncated = 1,    // the words ran out before the last symbol
  kBadState = 2,     // an initial state outside [L, 2^63)
  kBadEscape = 3,    // an escape that decodes to no valid value
  kNotFinished = 4,  // symbols decoded, but the states or the word count do not close
};

inline const char* status_message(int status) {
  switch (status) {
    case kTruncated:
      return "the stream ended before the last symbol (truncated, corrupt, or a different model)";
    case kBadState:
      return "the stream's final coder states are invalid (corrupt stream)";
    case kBadEscape:
      return "an escaped value does not decode (corrupt stream or a different model)";
    case kNotFinished:
      return "the stream does not decode to its own end under this model (a different model, "
             "or a corrupt stream)";
    default:
      return "ok";
  }
}

// The bit length of e (0 for e = 0).
inline int bit_length(u64 e) {
  int n = 0;
  while (e) ++n, e >>= 1;
  return n;
}

// Escape payload of value v outside [low, high]: the header byte and the excess.
struct Escape {
  u32 header;
  u64 excess;
};
inline Escape escape_of(i64 v, i64 low, i64 high) {
  const bool above = v > high;
  const u64 e = above ? static_cast<u64>(v) - static_cast<u64>(high) - 1
                      : static_cast<u64>(low) - static_cast<u64>(v) - 1;
  return {(above ? 0x80u : 0u) | static_cast<u32>(bit_length(e)), e};
}

class RansEncoder {
 public:
  explicit RansEncoder(int precision, std::size_t reserve = 0) : P_(precision) {
    for (auto& x : x_) x = kRansL;
    words_.reserve(reserve);
  }

  void put(int lane, u32 start, u32 freq) {
    u64& x = x_[lane];
    const u64 x_max = ((kRansL >> P_) << 32) * freq;
    if (x >= x_max) {
      words_.push_back(static_cast<u32>(x));
      x >>= 32;
    }
    x = ((x / freq) << P_) + (x % freq) + start;
  }

  void put_fast(int lane, const TableModel::EncSymbol& s) {
    u64& x = x_[lane];
    if (x >= s.x_max) {
      words_.push_back(static_cast<u32>(x));
      x >>= 32;
    }
    const u64 q =
        static_cast<u64>((static_cast<unsigned __int128>(x) * s.rcp) >> 64) >> s.shift;
    x += s.bias + q * s.cmpl;
  }

  void put_bits(int lane, u32 value, int bits) {
    put(lane, value << (P_ - bits), u32{1} << (P_ - bits));
  }

  // Pushes value v's escape in reverse (the decoder reads it forwards).
  void put_escape(int lane, i64 v, i64 low, i64 high) {
    const Escape esc = escape_of(v, low, high);
    const int len = static_cast<int>(esc.header & 0x7f);
    const int chunks = (len + 15) / 16;
    for (int c = chunks - 1; c >= 0; --c) {
      const int bits = c == chunks - 1 ? len - 16 * c : 16;
      put_bits(lane, static_cast<u32>((esc.excess >> (16 * c)) & 0xffff), bits);
    }
    put_bits(lane, esc.header, 8);
    put(lane, static_cast<u32>((u64{1} << P_) - 1), 1);
  }

  template <class Model>
  void encode(const Model& m, const i64* values, std::size_t n, std::size_t first_index = 0) {
    for (std::size_t i = n; i-- > 0;) {
      const int lane = static_cast<int>((first_index + i) % kLanes);
      Interval iv;
      if (m.encode_interval(first_index + i, values[i], iv))
        put(lane, iv.start, iv.freq);
      else
        put_escape(lane, values[i], m.low(first_index + i), m.high(first_index + i));
    }
  }

  void encode_table(const TableModel& m, const i64* values, std::size_t n) {
    const i64 low = m.low(0);
    const u64 K = m.alphabet();
    for (std::size_t i = n; i-- > 0;) {
      const int lane = static_cast<int>(i % kLanes);
      const u64 k = static_cast<u64>(values[i]) - static_cast<u64>(low);
      if (values[i] >= low && k < K)
        put_fast(lane, m.enc(static_cast<u32>(k)));
      else
        put_escape(lane, values[i], low, m.high(0));
    }
  }

  // The word stream: everything emitted, then each lane's state as (low word, high word), lane
  // kLanes - 1 first, so the decoder pops lane 0's state first.
  std::vector<u32> finish() {
    std::vector<u32> out = std::move(words_);
    for (int j = kLanes - 1; j >= 0; --j) {
      out.push_back(static_cast<u32>(x_[j]));
      out.push_back(static_cast<u32>(x_[j] >> 32));
    }
    return out;
  }

 private:
  int P_;
  u64 x_[kLanes];
  std::vector<u32> words_;
};

class RansDecoder {
 public:
  RansDecoder(const u32* words, std::size_t n_words, int precision)
      : words_(words), pos_(n_words), P_(precision), mask_((u32{1} << precision) - 1) {
    if (n_words < 2 * kLanes) {
      status_ = kTruncated;
      return;
    }
    for (int j = 0; j < kLanes; ++j) {
      const u64 hi = words_[--pos_];
      const u64 lo = words_[--pos_];
      x_[j] = (hi << 32) | lo;
      if (x_[j] < kRansL || x_[j] >= (u64{1} << 63)) status_ = kBadState;
    }
  }

  int status() const { return status_; }

  u32 slot(int lane) const { return static_cast<u32>(x_[lane]) & mask_; }

  void advance(int lane, u32 slot, Interval iv) {
    u64& x = x_[lane];
    x = iv.freq * (x >> P_) + slot - iv.start;
    if (x < kRansL) {
      if (pos_ == 0) {
        status_ = kTruncated;
        x = kRansL;  // keep going harmlessly; the caller stops at the status
        return;
      }
      x = (x << 32) | words_[--pos_];
    }
  }

  u32 get_bits(int lane, int bits) {
    const u32 s = slot(lane);
    const u32 value = s >> (P_ - bits);
    advance(lane, s, {value << (P_ - bits), u32{1} << (P_ - bits)});
    return value;
  }

  // After the escape bin: the header and the excess, turned back into a value.
  bool get_escape(int lane, i64 low, i64 high, i64& v) {
    const u32 header = get_bits(lane, 8);
    const int len = static_cast<int>(header & 0x7f);
    if (len > 64) return false;
    const int chunks = (len + 15) / 16;
    u64 e = 0;
    for (int c = 0; c < chunks; ++c) {
      const int bits = c == chunks - 1 ? len - 16 * c : 16;
      e |= static_cast<u64>(get_bits(lane, bits)) << (16 * c);
    }
    if (header & 0x80) {
      const u64 room = static_cast<u64>(INT64_MAX) - static_cast<u64>(high);  // values above high
      if (high == INT64_MAX || e >= room) return false;
      v = static_cast<i64>(static_cast<u64>(high) + 1 + e);
    } else {
      const u64 room = static_cast<u64>(low) - static_cast<u64>(INT64_MIN);  // values below low
      if (low == INT64_MIN || e >= room) return false;
      v = static_cast<i64>(static_cast<u64>(low) - 1 - e);
    }
    return true;
  }

  template <class Model>
  int decode(const Model& m, i64* out, std::size_t n, std::size_t first_index = 0) {
    for (std::size_t i = 0; i < n && status_ == kOk; ++i) {
      const std::size_t index = first_index + i;
      const int lane = static_cast<int>(index % kLanes);
      const u32 s = slot(lane);
      Interval iv;
      i64 v;
      const bool in_range = m.decode_symbol(index, s, v, iv);
      advance(lane, s, iv);
      if (!in_range && !get_escape(lane, m.low(index), m.high(index), out[i])) {
        status_ = kBadEscape;
        break;
      }
      if (in_range) out[i] = v;
    }
    return status_;
  }

  int decode_table(const TableModel& m, i64* out, std::size_t n) {
    const std::size_t blocks = n / kLanes;
    // The hot loop: whole blocks of kLanes symbols, one per lane, escapes taken out of line.
    for (std::size_t b = 0; b < blocks && status_ == kOk; ++b) {
      for (int j = 0; j < kLanes; ++j) {
        const u32 s = slot(j);
        Interval iv;
        i64 v;
        const bool in_range = m.decode_symbol(0, s, v, iv);
        advance(j, s, iv);
        if (in_range) {
          out[b * kLanes + j] = v;
        } else if (!get_escape(j, m.low(0), m.high(0), out[b * kLanes + j])) {
          status_ = kBadEscape;
        }
      }
    }
    if (status_ != kOk) return status_;
    return decode(m, out + blocks * kLanes, n - blocks * kLanes, blocks * kLanes);
  }

  // Every lane back at the encoder's initial state and every word read.
  int finish() {
    if (status_ != kOk) return status_;
    for (int j = 0; j < kLanes; ++j)
      if (x_[j] != kRansL) return status_ = kNotFinished;
    if (pos_ != 0) return status_ = kNotFinished;
    return kOk;
  }

 private:
  const u32* words_;
  std::size_t pos_;
  int P_;
  u32 mask_;
  int status_ = kOk;
  u64 x_[kLanes];
};

}  // namespace infokit::coding
