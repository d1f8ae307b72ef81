// Capped gzip inflation with zlib. See gzip.h.
#include "tasks/crawl/gzip.h"

#include <zlib.h>

namespace twinflow {

bool is_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

namespace {

std::string megabytes(size_t bytes) {
  return bytes >= (1u << 20) ? std::to_string(bytes >> 20) + " MB"
                             : std::to_string(bytes) + " bytes";
}

}  // namespace

GunzipResult gunzip_capped(std::string_view bytes, size_t max_bytes) {
  GunzipResult out;
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) {
    out.error = "zlib could not start";
    return out;
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  char buffer[64 * 1024];
  int rc = Z_OK;
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    const size_t produced = sizeof buffer - z.avail_out;
    if (out.data.size() + produced > max_bytes) {
      out.error = "gzip body inflates past " + megabytes(max_bytes) + " (a gzip bomb?)";
      break;
    }
    out.data.append(buffer, produced);
    if (rc == Z_STREAM_END) {
      // Concatenated members: go on while input is left.
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) {
        out.error = "corrupt gzip data";
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      out.error = "truncated gzip data";
      break;
    }
    if (rc != Z_OK) {
      out.error = std::string("corrupt gzip data") + (z.msg ? std::string(" (") + z.msg + ")" : "");
      break;
    }
  }
  inflateEnd(&z);
  if (!out.ok()) out.data.clear();
  return out;
}

}  // namespace twinflow
