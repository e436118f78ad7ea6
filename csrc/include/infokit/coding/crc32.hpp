// CRC-32 (the zlib / IEEE 802.3 polynomial, reflected 0xEDB88320), eight bytes per step with
// eight lookup tables ("slicing-by-8"): the streams' checksum, several times faster than a
// byte-at-a-time loop. Same values as Python's zlib.crc32, which the numpy path uses.
#pragma once

#include <cstddef>
#include <cstdint>

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

// crc32(previous, bytes): continues a running CRC as zlib.crc32(data, previous) does.
inline std::uint32_t crc32(std::uint32_t previous, const unsigned char* p, std::size_t n) {
  const auto& T = crc32_tables().t;
  std::uint32_t c = ~previous;
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
