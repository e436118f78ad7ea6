// Interleaved rANS (Duda 2013; the interleaving of Giesen 2014): kLanes 64-bit states share one
// stream of 32-bit words, consecutive symbols going to consecutive lanes, so they are independent
// and their arithmetic overlaps in the CPU. Lanes follow the encoder's push count g (lane
// 7 - g % 8), which the decoder recovers from its pop count h and the total T as (h - T) mod 8, so
// blocks pushed one at a time (the streaming objects) make the same stream as one batch.
// State x in [L, 2^63), L = 2^31; precision P <= 30.
//
//   encode (f, c):  while x >= ((L >> P) << 32) f: emit the low word, x >>= 32   (at most once)
//                   x = floor(x / f) 2^P + (x mod f) + c
//   decode:         slot = x mod 2^P; find the symbol with c <= slot < c + f
//                   x = f (x >> P) + slot - c; if x < L: x = (x << 32) | next word   (at most once)
//
// Encoding runs backwards over the symbols (rANS is a stack), so the decoder reads the word array
// from its end.
//
// Fixed costs, kept to a few dozen bits (stream version 2). A lane starting at the known state L
// wastes its 31 bits, and a raw 64-bit final state wastes about 16; so:
//  - The tail: the first kTail pushes (the last kTail symbols decoded) go to lane 0 alone, which
//    starts at 1 (below L: it emits no word until its state passes 2^33 or so; in the tail the
//    decoder refills lane 0 only while words remain, which is exact with one lane). Then lanes
//    1..k (k <= 7) start at 2^32 + w_j, w_1..w_k being the first words lane 0 emitted, taken
//    out of the stream ("bits back"): a lane costs under one bit instead of 31. Lanes k+1..7 (a
//    tail that emitted fewer words) start at L; if lane 0 is still below L (no word emitted),
//    it moves up by L and lane 1 starts at L + 1 to say so. The decoder, on reaching the tail,
//    reads the k words back out of the lanes' states and lane 0 reads them after the stream's
//    first word.
//  - The end: the final states of lanes 7..1 are pushed into lane 0 as their bit length (5
//    bits) and the bits below the leading one; lane 0's state is flushed as one word when it is
//    in [L, 2^32) (its top bit set), else as its low word then its high word (top bit clear, as
//    the state is < 2^63; 0 for a short stream's state below L).
// After the last symbol lane 0 must be back at 1, every word consumed and the other lanes at a
// carried word or L: a wrong model or a damaged stream fails that check (or runs out of words)
// and the decoder reports it; it never reads out of bounds and its loops are bounded by the
// symbol count.
//
// Out-of-range values: the escape bin [M - 1, M), then an 8-bit uniform header (bit 7: above high;
// bits 0-6: the bit length of the excess e >= 0), then e in 16-bit uniform chunks, low chunk first,
// the top chunk only as wide as it needs. The value is high + 1 + e or low - 1 - e.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "infokit/coding/models.hpp"

namespace infokit::coding {

constexpr int kLanes = 8;
constexpr u64 kRansL = u64{1} << 31;
constexpr u64 kTail = 256;  // pushes to lane 0 alone before the lanes start (a multiple of kLanes)
constexpr u64 kTailStart = 1;  // lane 0's initial state
static_assert(kTail % kLanes == 0, "the lanes start aligned");

enum Status : int {
  kOk = 0,
  kTruncated = 1,    // the words ran out before the last symbol
  kBadState = 2,     // lane 0's flushed state is not one the encoder writes
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

// Large word buffers freed recently, for the next encoder to reuse. Fresh memory is touched page
// by page as words are written, and on virtual machines a page fault costs a microsecond or more
// (a fifth of the time of encoding 10^7 symbols); glibc hands out every large block as fresh
// memory (mmap). At most kSlots buffers are kept, each holding only the pages it touched.
class BufferPool {
 public:
  static constexpr std::size_t kMinWords = std::size_t{1} << 18;  // 1 MiB
  static constexpr int kSlots = 4;

  // A kept buffer of at least `words` words (its capacity in `words`), or nullptr.
  static u32* take(std::size_t& words) {
    if (words < kMinWords) return nullptr;
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.mutex);
    for (auto& slot : p.slots)
      if (slot.data && slot.words >= words) {
        words = std::exchange(slot.words, 0);
        return std::exchange(slot.data, nullptr);
      }
    return nullptr;
  }

  // Keeps a buffer (replacing a smaller one), or frees it.
  static void give(u32* data, std::size_t words) {
    if (data && words >= kMinWords) {
      Pool& p = pool();
      std::lock_guard<std::mutex> lock(p.mutex);
      Slot* smallest = &p.slots[0];
      for (auto& slot : p.slots)
        if (slot.words < smallest->words) smallest = &slot;
      if (smallest->words < words) {
        std::swap(smallest->data, data);
        std::swap(smallest->words, words);
      }
    }
    std::free(data);
  }

 private:
  struct Slot {
    u32* data = nullptr;
    std::size_t words = 0;
  };
  struct Pool {
    std::mutex mutex;
    Slot slots[kSlots];
  };
  static Pool& pool() {
    static Pool* p = new Pool;  // never destroyed: buffers may be freed at interpreter exit
    return *p;
  }
};

// A growable array of words that does not zero what it reserves (the branch-free encoder writes a
// word at every step and keeps it only when emitted).
class WordBuffer {
 public:
  WordBuffer() = default;
  WordBuffer(WordBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        cap_(std::exchange(o.cap_, 0)) {}
  WordBuffer& operator=(WordBuffer&& o) noexcept {
    if (this != &o) {
      BufferPool::give(data_, cap_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      cap_ = std::exchange(o.cap_, 0);
    }
    return *this;
  }
  WordBuffer(const WordBuffer&) = delete;
  WordBuffer& operator=(const WordBuffer&) = delete;
  ~WordBuffer() { BufferPool::give(data_, cap_); }

  void reserve_more(std::size_t k) {
    if (size_ + k <= cap_) return;
    std::size_t cap = std::max(size_ + k, 2 * cap_ + 64);
    u32* grown = BufferPool::take(cap);
    if (!grown) {
      grown = static_cast<u32*>(std::malloc(cap * sizeof(u32)));
      if (!grown) throw std::bad_alloc();
    }
    if (size_) std::copy(data_, data_ + size_, grown);
    BufferPool::give(data_, cap_);
    data_ = grown;
    cap_ = cap;
  }
  void push_back(u32 w) {
    reserve_more(1);
    data_[size_++] = w;
  }
  u32* end() { return data_ + size_; }
  // Removes the first k words (k <= size).
  void drop_front(std::size_t k) {
    if (k == 0) return;
    std::copy(data_ + k, data_ + size_, data_);  // forwards: the ranges overlap safely
    size_ -= k;
  }
  void set_end(const u32* e) { size_ = static_cast<std::size_t>(e - data_); }
  const u32* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  u32* data_ = nullptr;
  std::size_t size_ = 0, cap_ = 0;
};

// The value an escape header and excess stand for; false if it would leave int64.
inline bool escaped_value(u32 header, u64 e, i64 low, i64 high, i64& v) {
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

class RansEncoder {
 public:
  explicit RansEncoder(int precision, std::size_t reserve = 0) : P_(precision) {
    for (auto& x : x_) x = kRansL;
    x_[0] = kTailStart;
    words_.reserve_more(reserve);
  }

  int precision() const { return P_; }
  u64 pushed() const { return pushed_; }
  // Push g goes to lane 0 while g < kTail, then to lane 7 - g % 8; the lanes start at push kTail.
  int next_lane() {
    if (pushed_ < kTail) return ++pushed_, 0;
    if (pushed_ == kTail) start_lanes();
    return kLanes - 1 - static_cast<int>(pushed_++ % kLanes);
  }

  // Lanes 1..k start at 2^32 + the first k words lane 0 emitted, which leave the stream.
  void start_lanes() {
    const std::size_t k = std::min<std::size_t>(kLanes - 1, words_.size());
    for (std::size_t j = 1; j <= k; ++j) x_[j] = (u64{1} << 32) | words_.data()[j - 1];
    words_.drop_front(k);
    if (x_[0] < kRansL) {  // no word emitted yet (k = 0): lane 0 moves up by L, lane 1 says so
      x_[0] += kRansL;
      x_[1] = kRansL + 1;
    }
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

  // Branch-free: the word is written whether or not it is emitted (the slot is reserved), and
  // the write position advances by the comparison, so the unpredictable renormalisation costs no
  // mispredictions.
  static void put_fast(u64& x, const TableModel::EncSymbol& s, u32*& out) {
    const bool emit = x >= s.x_max;
    *out = static_cast<u32>(x);
    out += emit;
    x = emit ? x >> 32 : x;
    const u64 q = mulhi64(x, s.rcp) >> s.shift;
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

  // Pushes values[n - 1], ..., values[0] (so values[0] decodes first); model index i for values[i].
  template <class Model, class T>
  void encode(const Model& m, const T* values, std::size_t n) {
    for (std::size_t i = n; i-- > 0;) {
      const int lane = next_lane();
      Interval iv;
      if (m.encode_interval(i, values[i], iv))
        put(lane, iv.start, iv.freq);
      else
        put_escape(lane, values[i], m.low(i), m.high(i));
    }
  }

  // T: int32 or int64 symbols, read as they are (no widening copy).
  template <class T>
  void encode_table(const TableModel& m, const T* values, std::size_t n) {
    const i64 low = m.low(0);
    const u64 K = m.alphabet();
    auto in_range = [&](i64 v) { return static_cast<u64>(v) - static_cast<u64>(low) < K; };
    // The tail and the push that starts the lanes, on the general path (the fast paths below
    // hold a pointer into the words, which starting the lanes moves).
    if (pushed_ <= kTail) {
      const std::size_t k = std::min<std::size_t>(n, kTail + 1 - pushed_);
      encode(m, values + (n - k), k);
      n -= k;
    }
    std::size_t i = n;
    while (i > 0) {
      // In-range symbols go through the branch-free paths into reserved space (at most one word
      // per symbol): whole blocks of kLanes symbols once the lanes are aligned, single symbols
      // around them; an escape drops to the general path.
      words_.reserve_more(i);
      u32* out = words_.end();
      for (;;) {
        if (pushed_ % kLanes == 0 && i >= kLanes) {
          const std::size_t done = encode_table_blocks(m, values, i, out);
          i -= done;
          if (done > 0) continue;
        }
        if (i == 0 || !in_range(values[i - 1])) break;
        --i;
        const u64 k = static_cast<u64>(values[i]) - static_cast<u64>(low);
        put_fast(x_[next_lane()], m.enc(static_cast<u32>(k)), out);
      }
      words_.set_end(out);
      if (i > 0) {
        --i;
        put_escape(next_lane(), values[i], low, m.high(0));
      }
    }
  }

  // Whole blocks of kLanes in-range symbols, pushed backwards from values[i - 1] (lane
  // kLanes - 1) to values[i - kLanes] (lane 0), states in locals (registers, the lane loop
  // unrolled). Stops before a block holding an escape. Returns the symbols pushed.
  template <class T>
  std::size_t encode_table_blocks(const TableModel& m, const T* values, std::size_t i,
                                  u32*& out) {
    const u64 low = static_cast<u64>(m.low(0));
    const u64 K = m.alphabet();
    u64 x[kLanes];
    for (int j = 0; j < kLanes; ++j) x[j] = x_[j];
    u32* const base = out;
    std::size_t w = 0;  // words written
    const std::size_t first = i;
    for (; i >= kLanes; i -= kLanes) {
      const T* v = values + i - kLanes;
      // The symbols are read backwards, which hardware prefetchers follow less eagerly.
      constexpr std::size_t kAhead = 8192 / sizeof(T);
      if (i >= kLanes + kAhead) __builtin_prefetch(v - kAhead);
      // No escape in the block: the OR of the offsets bounds their maximum (exact for an
      // alphabet of 2^b symbols); only when it reaches K are the offsets checked one by one.
      u64 bound = 0;
      for (int j = 0; j < kLanes; ++j) bound |= static_cast<u64>(v[j]) - low;
      if (bound >= K) {
        u64 escapes = 0;
        for (int j = 0; j < kLanes; ++j) escapes |= static_cast<u64>(v[j]) - low >= K;
        if (escapes) break;
      }
#pragma GCC unroll 8
      for (int j = kLanes - 1; j >= 0; --j) {
        const TableModel::EncSymbol& e = m.enc(static_cast<u32>(static_cast<u64>(v[j]) - low));
        u64 y = x[j];
        base[w] = static_cast<u32>(y);
        y = emit_select(y, e.x_max, w);
        const u64 q = mulhi64(y, e.rcp) >> e.shift;
        x[j] = y + e.bias + q * e.cmpl;
      }
    }
    for (int j = 0; j < kLanes; ++j) x_[j] = x[j];
    out = base + w;
    pushed_ += first - i;
    return first - i;
  }

  // x >= x_max ? x >> 32 : x, and w + 1 when so (the low word, already stored at w, is kept):
  // a conditional move and an add with carry on x86-64 (see select_refill), masks elsewhere.
  static u64 emit_select(u64 x, u64 x_max, std::size_t& w) {
#if defined(__x86_64__) && defined(__GNUC__)
    const u64 shifted = x >> 32;
    asm("cmpq %[m], %[x]\n\t"
        "cmovaeq %[s], %[x]\n\t"
        "sbbq $-1, %[w]"
        : [x] "+r"(x), [w] "+r"(w)
        : [m] "r"(x_max), [s] "r"(shifted)
        : "cc");
    return x;
#else
    const u64 emit = x >= x_max;
    w += emit;
    return emit ? x >> 32 : x;
#endif
  }

  // The word stream: everything emitted, then (once the lanes started) the states of lanes 7..1
  // pushed into lane 0, then lane 0's state in one or two words.
  WordBuffer finish() {
    if (pushed_ > kTail)
      for (int j = kLanes - 1; j >= 1; --j) put_state(x_[j]);
    const u64 x = x_[0];
    words_.push_back(static_cast<u32>(x));
    if (x >> 32 || x < kRansL) words_.push_back(static_cast<u32>(x >> 32));
    return std::move(words_);
  }

  // A state s in [L, 2^63) into lane 0: the bits below its leading one (31 to 62 of them) in
  // 16-bit chunks, top chunk first, then their count - 31 in 5 bits (the decoder reads it first).
  void put_state(u64 s) {
    const int len = bit_length(s) - 1;
    const int chunks = (len + 15) / 16;
    for (int c = chunks - 1; c >= 0; --c) {
      const int bits = c == chunks - 1 ? len - 16 * c : 16;
      put_bits(0, static_cast<u32>((s >> (16 * c)) & ((u64{1} << bits) - 1)), bits);
    }
    put_bits(0, static_cast<u32>(len - 31), 5);
  }

 private:
  int P_;
  u64 pushed_ = 0;
  u64 x_[kLanes];
  WordBuffer words_;
};

class RansDecoder {
 public:
  // total: the number of symbols the encoder pushed (the stream header's count).
  RansDecoder(const u32* words, std::size_t n_words, int precision, u64 total)
      : words_(words),
        pos_(static_cast<std::ptrdiff_t>(n_words)),
        P_(precision),
        mask_((u32{1} << precision) - 1),
        offset_(static_cast<int>((kLanes - total % kLanes) % kLanes)),
        tail_start_(total > kTail ? total - kTail : 0),
        tail_(total <= kTail) {
    for (auto& x : x_) x = kRansL;
    // lane 0: one word with its top bit set, or a high word with its top bit clear after its low
    if (pos_ < 1) {
      status_ = kTruncated;
      return;
    }
    u64 x = words_[--pos_];
    if (!(x >> 31)) {
      if (pos_ < 1) {
        status_ = kTruncated;
        return;
      }
      x = (x << 32) | words_[--pos_];
      // canonical: a high word of 0 only below L (a short stream's lane 0), and never 0
      if (x == 0 || (x >> 31 == 1) || (!tail_ && x < kRansL)) {
        status_ = kBadState;
        return;
      }
    }
    x_[0] = x;
    if (!tail_)
      for (int j = 1; j < kLanes && status_ == kOk; ++j) x_[j] = get_state();
  }

  int status() const { return status_; }
  int precision() const { return P_; }
  int lane() const {
    return popped_ >= tail_start_ ? 0 : static_cast<int>((popped_ + offset_) % kLanes);
  }

  // Symbols from popped_ on that the lanes decode before the tail, at most n.
  std::size_t before_tail(std::size_t n) const {
    return popped_ >= tail_start_ ? 0 : std::min<std::size_t>(n, tail_start_ - popped_);
  }

  // A lane state pushed by RansEncoder::put_state.
  u64 get_state() {
    const int len = static_cast<int>(get_bits(0, 5)) + 31;
    const int chunks = (len + 15) / 16;
    u64 s = 0;
    for (int c = 0; c < chunks; ++c) {
      const int bits = c == chunks - 1 ? len - 16 * c : 16;
      s |= static_cast<u64>(get_bits(0, bits)) << (16 * c);
    }
    return s | (u64{1} << len);
  }

  // At the tail: lanes 1..k hold the words lane 0 reads after the stream's first word, the
  // others L.
  void enter_tail() {
    tail_ = true;
    if (x_[1] == kRansL + 1) {  // lane 0 was below L when the lanes started: no words carried
      for (int j = 2; j < kLanes; ++j)
        if (x_[j] != kRansL && status_ == kOk) status_ = kNotFinished;
      if (x_[0] <= kRansL || x_[0] >= 2 * kRansL) status_ = kNotFinished;
      x_[0] -= kRansL;
      return;
    }
    int k = 0;
    while (k < kLanes - 1 && (x_[k + 1] >> 32) == 1) carried_[k] = static_cast<u32>(x_[k + 1]), ++k;
    for (int j = k + 1; j < kLanes; ++j)
      if (x_[j] != kRansL && status_ == kOk) status_ = kNotFinished;
    carried_left_ = k;
  }
  u64 popped() const { return popped_; }

  u32 slot(int lane) const { return static_cast<u32>(x_[lane]) & mask_; }

  void advance(int lane, u32 slot, Interval iv) {
    u64& x = x_[lane];
    x = iv.freq * (x >> P_) + slot - iv.start;
    if (x < kRansL) {
      if (pos_ > 0) {
        x = (x << 32) | words_[--pos_];
      } else if (carried_left_ > 0) {
        x = (x << 32) | carried_[--carried_left_];  // the tail, after the stream's first word
      } else if (!tail_) {
        status_ = kTruncated;
        x = kRansL;  // keep going harmlessly; the caller stops at the status
      }
    }
  }

  // Branch-free refill for the hot loop: the word under the read position is loaded whether or
  // not it is needed (index clamped, so never out of bounds); running out shows as pos_ < 0.
  void advance_fast(int lane, u32 slot, Interval iv) {
    u64& x = x_[lane];
    x = iv.freq * (x >> P_) + slot - iv.start;
    const bool refill = x < kRansL;
    const std::ptrdiff_t at = pos_ - 1 < 0 ? 0 : pos_ - 1;
    const u64 refilled = (x << 32) | words_[at];
    x = refill ? refilled : x;
    pos_ -= refill;
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
    return escaped_value(header, e, low, high, v);
  }

  // One symbol on the general path: model index `index`, the next lane.
  template <class Model>
  void decode_one(const Model& m, std::size_t index, i64& out) {
    if (!tail_ && popped_ == tail_start_) enter_tail();
    const int j = lane();
    ++popped_;
    const u32 s = slot(j);
    Interval iv;
    i64 v;
    const bool in_range = m.decode_symbol(index, s, v, iv);
    advance(j, s, iv);
    if (in_range)
      out = v;
    else if (!get_escape(j, m.low(index), m.high(index), out) && status_ == kOk)
      status_ = kBadEscape;
  }

  // Pops n symbols into out[0..n), model index first + i for out[i].
  template <class Model>
  int decode(const Model& m, i64* out, std::size_t n, std::size_t first = 0) {
    for (std::size_t i = 0; i < n && status_ == kOk; ++i) decode_one(m, first + i, out[i]);
    return status_;
  }

  int decode_table(const TableModel& m, i64* out, std::size_t n) {
    std::size_t i = 0;
    while (i < n && status_ == kOk && lane() != 0) decode_one(m, 0, out[i++]);  // align
    if (status_ == kOk) i = decode_table_blocks(m, out, i, i + before_tail(n - i));
    if (status_ != kOk) return status_;
    return decode(m, out + i, n - i);
  }

  // The most words one symbol can read: its own refill, then for an escape the header's and up
  // to four 16-bit chunks' (get_escape).
  static constexpr std::ptrdiff_t kMaxWordsPerSymbol = 6;

  // The hot loop of a shared categorical: whole blocks of kLanes symbols (lane j is symbol
  // i + j), states and read position in locals (registers, once the lane loop is unrolled),
  // refills without branches (a data-dependent branch here mispredicts about every other
  // symbol). An escape reads its payload in place, in stream order, through the bounds-checked
  // general path. Returns the index of the first symbol not decoded (status_ set on failure).
  std::size_t decode_table_blocks(const TableModel& m, i64* out, std::size_t i, std::size_t n) {
    u64 x[kLanes];
    for (int j = 0; j < kLanes; ++j) x[j] = x_[j];
    std::ptrdiff_t pos = pos_;
    const std::size_t start = i;
    // While a block cannot read past the first word, the refill needs no clamp. The default
    // precision gets its own copy of the loop with constant shifts (fewer instructions).
    const std::ptrdiff_t safe = kLanes * kMaxWordsPerSymbol;
    if (P_ == 24 && m.bucket_shift() == 24 - TableModel::kBucketBits && m.low(0) == 0)
      for (; i + kLanes <= n && pos >= safe && status_ == kOk; i += kLanes)
        table_block<false, 24>(m, x, pos, out + i);
    for (; i + kLanes <= n && pos >= safe && status_ == kOk; i += kLanes)
      table_block<false, 0>(m, x, pos, out + i);
    // The last blocks, near the start of the words: clamp the read index (an overrun shows as
    // pos < 0, reported as truncation).
    for (; i + kLanes <= n && pos >= 0 && status_ == kOk; i += kLanes)
      table_block<true, 0>(m, x, pos, out + i);
    for (int j = 0; j < kLanes; ++j) x_[j] = x[j];
    pos_ = pos;
    popped_ += i - start;
    if (pos_ < 0 && status_ == kOk) status_ = kTruncated;
    return i;
  }

  // y < L ? refilled : y, and pos - 1 on a refill: a conditional move and a subtract with
  // borrow on x86-64 (compilers turn the portable form into a branch, which mispredicts about
  // every other symbol), masks elsewhere.
  static u64 select_refill(u64 y, u64 refilled, std::ptrdiff_t& pos) {
#if defined(__x86_64__) && defined(__GNUC__)
    u64 x = y;
    asm("cmpq %[L], %[y]\n\t"
        "cmovbq %[r], %[x]\n\t"
        "sbbq $0, %[pos]"
        : [x] "+r"(x), [pos] "+r"(pos)
        : [y] "r"(y), [r] "r"(refilled), [L] "r"(kRansL)
        : "cc");
    return x;
#else
    const u64 refill = y < kRansL;
    const u64 keep = refill - 1;  // all ones when no refill
    pos -= static_cast<std::ptrdiff_t>(refill);
    return (y & keep) | (refilled & ~keep);
#endif
  }

  // One block; Precision > 0: that precision as a constant (with the default bucket table and
  // symbols from 0, a shared Categorical).
  template <bool Clamp, int Precision>
  void table_block(const TableModel& m, u64* x, std::ptrdiff_t& pos, i64* out) {
    const i64 low = Precision > 0 ? 0 : m.low(0);  // the constant-precision copy: low = 0
    const u32 K = m.alphabet();
    const int P = Precision > 0 ? Precision : P_;
    const u32 mask = Precision > 0 ? (u32{1} << Precision) - 1 : mask_;
    const int shift = Precision > 0 ? Precision - TableModel::kBucketBits : m.bucket_shift();
    const u32* const words = words_;
    // Lane j decodes symbol k from slot s: the state update and the refill.
    auto step = [&](int j, u32 s, u32 k) {
      const TableModel::DecSymbol d = m.dec(k);
      const u64 y = d.freq * (x[j] >> P) + s - d.start;
      std::ptrdiff_t at = pos - 1;
      if constexpr (Clamp) at = at < 0 ? 0 : at;
      const u64 refilled = (y << 32) | words[at];
      x[j] = select_refill(y, refilled, pos);
      out[j] = low + static_cast<i64>(k);
    };
#pragma GCC unroll 8
    for (int j = 0; j < kLanes; ++j) {
      const u32 s = static_cast<u32>(x[j]) & mask;
      const u32 b = m.bucket(s >> shift);
      if (__builtin_expect((b & TableModel::kScan) == 0, 1)) {
        step(j, s, b);  // inside one symbol's interval: never the escape bin (a slot of its own)
        continue;
      }
      const u32 k = m.scan(b & ~TableModel::kScan, s);
      step(j, s, k);
      if (k >= K) {
        // the escape bin: its payload now, before the next lane reads a word
        x_[j] = x[j], pos_ = pos;
        if (!get_escape(j, low, m.high(0), out[j]) && status_ == kOk) status_ = kBadEscape;
        x[j] = x_[j], pos = pos_;
      }
    }
  }

  // Models with a CDF per symbol (parametric, mixture): each block of kLanes symbols runs in
  // stages across the lanes (guess, two CDF evaluations, a gallop when the guess missed) so that
  // the lanes' long arithmetic chains overlap; words are read only in the last stage, in lane
  // order, exactly as the encoder wrote them.
  template <class Model>
  int decode_staged(const Model& m, i64* out, std::size_t n) {
    const u64 esc = m.escape_slot();
    const i64 low = m.low_value();
    std::size_t i = 0;
    while (i < n && status_ == kOk && lane() != 0) decode_one(m, i, out[i]), ++i;  // align
    const std::size_t lanes_end = i + before_tail(n - i);
    for (; i + kLanes <= lanes_end && status_ == kOk; i += kLanes) {
      u32 s[kLanes], lo[kLanes], hi[kLanes];
      i64 k[kLanes];
      typename Model::Cdf C[kLanes];
      for (int j = 0; j < kLanes; ++j) {
        s[j] = slot(j);
        C[j] = m.cdf(i + j);
      }
      // the quantile guess, the CDF at the guess and the next symbol, rare corrections
      for (int j = 0; j < kLanes; ++j) k[j] = m.guess(C[j], s[j]);
      for (int j = 0; j < kLanes; ++j) {
        lo[j] = C[j](k[j]);
        hi[j] = C[j](k[j] + 1);
      }
      for (int j = 0; j < kLanes; ++j)
        if (s[j] < esc && !(lo[j] <= s[j] && s[j] < hi[j]))
          k[j] = bracket(C[j], s[j], m.alphabet(), k[j], lo[j], hi[j]);
      for (int j = 0; j < kLanes; ++j) {
        ++popped_;
        if (s[j] >= esc) {
          advance(j, s[j], {static_cast<u32>(esc), 1});
          if (!get_escape(j, low, m.high(i + j), out[i + j])) {
            status_ = kBadEscape;
            break;
          }
        } else {
          advance(j, s[j], {lo[j], hi[j] - lo[j]});
          out[i + j] = low + k[j];
        }
      }
    }
    if (status_ != kOk) return status_;
    return decode(m, out + i, n - i, i);
  }

  // Lane 0 back at its start and every word read (the other lanes were checked at the tail).
  int finish() {
    if (status_ != kOk) return status_;
    if (!tail_ || x_[0] != kTailStart || pos_ != 0 || carried_left_ != 0)
      return status_ = kNotFinished;
    return kOk;
  }

 private:
  const u32* words_;
  std::ptrdiff_t pos_;  // words not yet read; below 0 only after a branch-free overrun
  int P_;
  u32 mask_;
  int status_ = kOk;
  int offset_;
  u64 tail_start_;  // the first symbol of the tail (lane 0 alone)
  bool tail_;
  int carried_left_ = 0;
  u32 carried_[kLanes - 1] = {};
  u64 popped_ = 0;
  u64 x_[kLanes];
};

}  // namespace infokit::coding
