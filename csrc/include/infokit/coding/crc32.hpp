// CRC-32 (the zlib / IEEE 802.3 polynomial, reflected 0xEDB88320): the streams' checksum, the
// same values as Python's zlib.crc32, which the numpy path uses. On x86-64 CPUs with PCLMULQDQ
// (chosen at run time) whole 16-byte blocks are folded with carry-less multiplications (Gopal et
// al., 2009, "Fast CRC computation for generic polynomials using PCLMULQDQ instruction", Intel
// white paper 323102), about ten times faster than tables; the rest, and other CPUs, use eight
// lookup tables ("slicing-by-8").
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define INFOKIT_CRC32_CLMUL 1
#endif

namespace infokit::coding {

struct Crc32Tables {
  std::uint32_t t[8][256];
  Crc32Tables() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
      t[0][i] = c;
    }
    for (int k = 1; k < 8; ++k)
      for (int i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
  }
};

inline const Crc32Tables& crc32_tables() {
  static const Crc32Tables tables;
  return tables;
}

#ifdef INFOKIT_CRC32_CLMUL
// The CRC register c (not inverted) over n bytes, n >= 64 and a multiple of 16: four 128-bit
// accumulators folded 64 bytes at a time, merged into one, folded 16 bytes at a time, then
// reduced to 32 bits (Barrett). The constants are x^k mod P for the reflected polynomial.
#define INFOKIT_CLMUL_TARGET __attribute__((target("pclmul,sse4.1")))
INFOKIT_CLMUL_TARGET inline __m128i crc32_load(const unsigned char* q) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
}
// acc * x^k (the two 64-bit halves of k are the shifts for acc's halves) + data
INFOKIT_CLMUL_TARGET inline __m128i crc32_fold16(__m128i acc, __m128i k, __m128i data) {
  const __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
  const __m128i hi = _mm_clmulepi64_si128(acc, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(lo, hi), data);
}
INFOKIT_CLMUL_TARGET inline std::uint32_t crc32_fold(std::uint32_t c, const unsigned char* p,
                                                     std::size_t n) {
  const auto load = crc32_load;
  const auto fold = crc32_fold16;
  const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);  // fold by 512 bits
  const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);  // fold by 128 bits
  const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124);               // fold by 64 bits
  const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);  // P' and mu (Barrett)
  __m128i x1 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(c)));
  __m128i x2 = load(p + 16), x3 = load(p + 32), x4 = load(p + 48);
  p += 64, n -= 64;
  for (; n >= 64; p += 64, n -= 64) {
    x1 = fold(x1, k1k2, load(p));
    x2 = fold(x2, k1k2, load(p + 16));
    x3 = fold(x3, k1k2, load(p + 32));
    x4 = fold(x4, k1k2, load(p + 48));
  }
  x1 = fold(x1, k3k4, x2);
  x1 = fold(x1, k3k4, x3);
  x1 = fold(x1, k3k4, x4);
  for (; n >= 16; p += 16, n -= 16) x1 = fold(x1, k3k4, load(p));
  // 128 -> 64 bits
  const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);
  __m128i x2b = _mm_clmulepi64_si128(x1, k3k4, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2b);
  x2b = _mm_srli_si128(x1, 4);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00), x2b);
  // Barrett reduction to 32 bits
  x2b = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10);
  x2b = _mm_clmulepi64_si128(_mm_and_si128(x2b, low32), poly, 0x00);
  return static_cast<std::uint32_t>(_mm_extract_epi32(_mm_xor_si128(x1, x2b), 1));
}

inline bool crc32_has_clmul() {
  static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return has;
}
#endif

// crc32(previous, bytes): continues a running CRC as zlib.crc32(data, previous) does.
inline std::uint32_t crc32(std::uint32_t previous, const unsigned char* p, std::size_t n) {
  const auto& T = crc32_tables().t;
  std::uint32_t c = ~previous;
#ifdef INFOKIT_CRC32_CLMUL
  if (n >= 64 && crc32_has_clmul()) {
    const std::size_t whole = n & ~std::size_t{15};
    c = crc32_fold(c, p, whole);
    p += whole, n -= whole;
  }
#endif
  auto le32 = [](const unsigned char* q) {
    return static_cast<std::uint32_t>(q[0]) | (static_cast<std::uint32_t>(q[1]) << 8) |
           (static_cast<std::uint32_t>(q[2]) << 16) | (static_cast<std::uint32_t>(q[3]) << 24);
  };
  for (; n >= 8; p += 8, n -= 8) {
    const std::uint32_t a = le32(p) ^ c, b = le32(p + 4);
    c = T[7][a & 0xff] ^ T[6][(a >> 8) & 0xff] ^ T[5][(a >> 16) & 0xff] ^ T[4][a >> 24] ^
        T[3][b & 0xff] ^ T[2][(b >> 8) & 0xff] ^ T[1][(b >> 16) & 0xff] ^ T[0][b >> 24];
  }
  for (; n > 0; ++p, --n) c = T[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return ~c;
}

}  // namespace infokit::coding
