#include "core/cnn/zip_in_memory.h"

#include <algorithm>
#include <cstring>

namespace textclf::cnn {
namespace {

// One open "file": minizip opens the archive once per unzOpen2_64 and closes it in unzClose.
struct Cursor {
  std::string_view bytes;
  ZPOS64_T pos = 0;
};

voidpf Open(voidpf /*opaque*/, const void* bytes, int mode) {
  if ((mode & ZLIB_FILEFUNC_MODE_READWRITEFILTER) != ZLIB_FILEFUNC_MODE_READ) return nullptr;
  return new Cursor{*static_cast<const std::string_view*>(bytes)};
}

uLong Read(voidpf /*opaque*/, voidpf stream, void* buffer, uLong size) {
  auto* c = static_cast<Cursor*>(stream);
  const ZPOS64_T left = c->pos < c->bytes.size() ? c->bytes.size() - c->pos : 0;
  const uLong n = static_cast<uLong>(std::min<ZPOS64_T>(size, left));
  if (n > 0) std::memcpy(buffer, c->bytes.data() + c->pos, n);
  c->pos += n;
  return n;
}

uLong Write(voidpf, voidpf, const void*, uLong) { return 0; }

ZPOS64_T Tell(voidpf /*opaque*/, voidpf stream) { return static_cast<Cursor*>(stream)->pos; }

// Offsets come from the archive itself; any beyond its end is refused, as a seek past the end
// of a file would be followed by a failed read.
long Seek(voidpf /*opaque*/, voidpf stream, ZPOS64_T offset, int origin) {
  auto* c = static_cast<Cursor*>(stream);
  ZPOS64_T base = 0;
  switch (origin) {
    case ZLIB_FILEFUNC_SEEK_SET: base = 0; break;
    case ZLIB_FILEFUNC_SEEK_CUR: base = c->pos; break;
    case ZLIB_FILEFUNC_SEEK_END: base = c->bytes.size(); break;
    default: return -1;
  }
  if (offset > c->bytes.size() || base > c->bytes.size() - offset) return -1;
  c->pos = base + offset;
  return 0;
}

int Close(voidpf /*opaque*/, voidpf stream) {
  delete static_cast<Cursor*>(stream);
  return 0;
}

int Error(voidpf, voidpf) { return 0; }

}  // namespace

unzFile OpenZipInMemory(std::string_view bytes) {
  zlib_filefunc64_def functions{Open, Read, Write, Tell, Seek, Close, Error, nullptr};
  // minizip passes the "path" to Open only, during this call.
  return unzOpen2_64(&bytes, &functions);
}

}  // namespace textclf::cnn
