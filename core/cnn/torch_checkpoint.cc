#include "core/cnn/torch_checkpoint.h"

#include <minizip/unzip.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/cnn/state_dict_unpickler.h"
#include "core/cnn/zip_in_memory.h"
#include "core/common/status_macros.h"

namespace textclf::cnn {
namespace {

// Deflate expands at most 1032-fold (258-byte matches coded in 2 bits); a member claiming more
// than that of its compressed size is lying about one of the two.
constexpr uint64_t kMaxDeflateRatio = 1032;
// Weights of any network have a handful of dimensions; torch's own kernels stop at 25.
constexpr size_t kMaxRank = 16;

struct ZipCloser {
  void operator()(void* zip) const { unzClose(zip); }
};
using Zip = std::unique_ptr<void, ZipCloser>;

// What one read may still take, the names its messages use, and where each member is.
struct ArchiveReader {
  unzFile zip;
  std::string_view name;     // the file, in messages
  uint64_t archive_bytes;    // size of the whole zip: no member's compressed data exceeds it
  uint64_t budget;           // CheckpointLimits::max_bytes, less what is held already
  std::map<std::string, unz64_file_pos> members = {};  // the first of each name
  std::string pickle = {};   // the first <prefix>data.pkl in archive order, if any

  absl::Status Bad(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(std::string(name), ": ", std::string(what)));
  }
  absl::Status Take(uint64_t bytes, std::string_view what) {
    if (bytes > budget) {
      return Bad(absl::StrCat(std::string(what), " needs ", bytes, " bytes, more than the ", budget,
                              " left of the reader's memory limit"));
    }
    budget -= bytes;
    return absl::OkStatus();
  }
};

// One pass over the zip directory. Names are read whole (a zip allows 64 KiB; minizip's own
// unzLocateFile stops at 255 bytes), so members are found by position afterwards.
absl::Status IndexMembers(ArchiveReader& r) {
  int rc = unzGoToFirstFile(r.zip);
  for (; rc == UNZ_OK; rc = unzGoToNextFile(r.zip)) {
    unz_file_info64 info;
    if (unzGetCurrentFileInfo64(r.zip, &info, nullptr, 0, nullptr, 0, nullptr, 0) != UNZ_OK) break;
    std::string m(info.size_filename + 1, '\0');
    unz64_file_pos pos;
    if (unzGetCurrentFileInfo64(r.zip, &info, m.data(), m.size(), nullptr, 0, nullptr, 0) != UNZ_OK ||
        unzGetFilePos64(r.zip, &pos) != UNZ_OK) {
      break;
    }
    m.resize(info.size_filename);
    RETURN_IF_ERROR(r.Take(m.size() + sizeof pos, "the zip directory"));
    if (r.pickle.empty() && m.ends_with("data.pkl") && (m.size() == 8 || m[m.size() - 9] == '/')) r.pickle = m;
    r.members.emplace(std::move(m), pos);
  }
  if (rc != UNZ_END_OF_LIST_OF_FILE) return r.Bad("the zip directory of the checkpoint is damaged");
  if (r.pickle.empty()) return r.Bad("it has no data.pkl: it is not a torch.save archive");
  return absl::OkStatus();
}

// One member, decompressed. Memory grows with the data that really arrives, so a member that
// claims a size it does not have costs nothing; the claim is still checked first, against what
// its compressed bytes can hold and against the reader's budget.
absl::StatusOr<std::string> ReadMember(ArchiveReader& r, const std::string& member) {
  auto at = r.members.find(member);
  if (at == r.members.end()) return r.Bad(absl::StrCat("the checkpoint has no member ", member));
  unz_file_info64 info;
  if (unzGoToFilePos64(r.zip, &at->second) != UNZ_OK ||
      unzGetCurrentFileInfo64(r.zip, &info, nullptr, 0, nullptr, 0, nullptr, 0) != UNZ_OK) {
    return r.Bad(absl::StrCat("cannot open ", member, " in the checkpoint"));
  }
  const uint64_t size = info.uncompressed_size;
  if (info.compressed_size > r.archive_bytes) {
    return r.Bad(absl::StrCat(member, " claims ", info.compressed_size, " compressed bytes in an archive of ",
                              r.archive_bytes));
  }
  if ((info.compression_method == 0 && size != info.compressed_size) ||
      (info.compression_method != 0 && size / kMaxDeflateRatio > info.compressed_size)) {
    return r.Bad(absl::StrCat(member, " claims ", size, " bytes, which its ", info.compressed_size,
                              " stored bytes cannot hold"));
  }
  RETURN_IF_ERROR(r.Take(size, member));
  if (unzOpenCurrentFile(r.zip) != UNZ_OK) return r.Bad(absl::StrCat("cannot open ", member, " in the checkpoint"));
  std::string data;
  constexpr unsigned kChunk = 1 << 16;
  std::unique_ptr<char[]> chunk(new char[kChunk]);
  int n = 0;
  // minizip never returns more than the member's declared size.
  while ((n = unzReadCurrentFile(r.zip, chunk.get(), kChunk)) > 0) data.append(chunk.get(), static_cast<size_t>(n));
  // unzCloseCurrentFile checks the CRC once the whole member was read.
  const int closed = unzCloseCurrentFile(r.zip);
  if (n < 0 || data.size() != size || closed != UNZ_OK) {
    return r.Bad(absl::StrCat(member, " in the checkpoint is truncated or fails its CRC"));
  }
  return data;
}

size_t ElementSize(const std::string& type) {
  if (type == "FloatStorage" || type == "IntStorage") return 4;
  if (type == "DoubleStorage" || type == "LongStorage") return 8;
  if (type == "HalfStorage" || type == "BFloat16Storage" || type == "ShortStorage") return 2;
  if (type == "ByteStorage" || type == "CharStorage" || type == "BoolStorage") return 1;
  return 0;
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exponent = 127 - 15 + 1;
      while ((mantissa & 0x400) == 0) {
        mantissa <<= 1;
        --exponent;
      }
      bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

float Element(const std::string& type, const char* p) {
  if (type == "FloatStorage") { float x; std::memcpy(&x, p, 4); return x; }
  if (type == "DoubleStorage") { double x; std::memcpy(&x, p, 8); return static_cast<float>(x); }
  if (type == "LongStorage") { int64_t x; std::memcpy(&x, p, 8); return static_cast<float>(x); }
  if (type == "IntStorage") { int32_t x; std::memcpy(&x, p, 4); return static_cast<float>(x); }
  if (type == "ShortStorage") { int16_t x; std::memcpy(&x, p, 2); return static_cast<float>(x); }
  if (type == "HalfStorage") { uint16_t x; std::memcpy(&x, p, 2); return HalfToFloat(x); }
  if (type == "BFloat16Storage") {
    uint16_t x;
    std::memcpy(&x, p, 2);
    const uint32_t bits = static_cast<uint32_t>(x) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  if (type == "CharStorage") return static_cast<float>(static_cast<int8_t>(*p));
  return static_cast<float>(static_cast<uint8_t>(*p));
}

// Copies a strided view of `storage` into a contiguous float tensor. Sizes, strides and the
// offset come from the file, so every product and sum is checked: wrapped around, they would
// pass the bounds check and index anywhere.
absl::StatusOr<CheckpointTensor> Materialise(ArchiveReader& r, const std::string& name, const PickledTensor& t,
                                             const std::string& storage) {
  const std::string tensor = absl::StrCat("tensor ", name);
  const size_t element = ElementSize(t.storage_type);
  if (element == 0) return r.Bad(absl::StrCat(tensor, " has storage type ", t.storage_type, ", which is not a number type"));
  if (t.shape.size() > kMaxRank) return r.Bad(absl::StrCat(tensor, " has ", t.shape.size(), " dimensions"));
  if (t.storage_offset < 0) return r.Bad(absl::StrCat(tensor, " starts at a negative storage offset"));
  const int64_t available = static_cast<int64_t>(storage.size() / element);
  int64_t numel = 1;
  int64_t extent = 1;               // the sizes' product with zeros as ones: what strides of the
                                    // shape multiply up to, in libtorch too
  int64_t last = t.storage_offset;  // the furthest element the view reaches
  for (size_t d = 0; d < t.shape.size(); ++d) {
    if (t.shape[d] < 0 || t.stride[d] < 0) return r.Bad(absl::StrCat(tensor, " has a negative size or stride"));
    int64_t span = 0;
    if (__builtin_mul_overflow(numel, t.shape[d], &numel) ||
        __builtin_mul_overflow(extent, std::max<int64_t>(t.shape[d], 1), &extent) ||
        (t.shape[d] > 0 && (__builtin_mul_overflow(t.shape[d] - 1, t.stride[d], &span) ||
                            __builtin_add_overflow(last, span, &last)))) {
      return r.Bad(absl::StrCat(tensor, " has sizes and strides that overflow 64 bits"));
    }
  }
  // Distinct elements need distinct storage (an expanded view, stride 0, is no weight to save).
  if (numel > available) {
    return r.Bad(absl::StrCat(tensor, " has ", numel, " elements; its storage ", t.storage_key, " holds ", available));
  }
  if (numel > 0 && last >= available) {
    return r.Bad(absl::StrCat(tensor, " reaches element ", last, " of storage ", t.storage_key, ", which holds ",
                              available));
  }
  RETURN_IF_ERROR(r.Take(static_cast<uint64_t>(numel) * sizeof(float), tensor));
  CheckpointTensor out;
  out.shape = t.shape;
  out.dtype = t.storage_type;
  out.location = t.location;
  out.values.resize(static_cast<size_t>(numel));
  std::vector<int64_t> index(t.shape.size(), 0);
  for (int64_t i = 0; i < numel; ++i) {
    int64_t offset = t.storage_offset;
    for (size_t d = 0; d < index.size(); ++d) offset += index[d] * t.stride[d];
    out.values[static_cast<size_t>(i)] = Element(t.storage_type, storage.data() + offset * static_cast<int64_t>(element));
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

absl::StatusOr<std::map<std::string, CheckpointTensor>> ReadArchive(ArchiveReader& r) {
  RETURN_IF_ERROR(IndexMembers(r));
  const std::string prefix = r.pickle.substr(0, r.pickle.size() - 8);  // the folder torch.save names after the file
  ASSIGN_OR_RETURN(std::string pickle, ReadMember(r, r.pickle));
  auto entries = UnpickleStateDict(pickle);
  if (!entries.ok()) return r.Bad(std::string(entries.status().message()));
  std::map<std::string, std::string> storages;
  std::map<std::string, CheckpointTensor> tensors;
  for (const auto& [name, t] : *entries) {
    auto it = storages.find(t.storage_key);
    if (it == storages.end()) {
      ASSIGN_OR_RETURN(std::string bytes, ReadMember(r, prefix + "data/" + t.storage_key));
      it = storages.emplace(t.storage_key, std::move(bytes)).first;
    }
    ASSIGN_OR_RETURN(CheckpointTensor tensor, Materialise(r, name, t, it->second));
    tensors[name] = std::move(tensor);
  }
  return tensors;
}

absl::Status NotAZip(std::string_view name) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(name),
                                                 " is not a zip archive: save it with torch.save from PyTorch 1.6 or "
                                                 "later (the legacy format is not supported)"));
}

}  // namespace

absl::StatusOr<std::map<std::string, CheckpointTensor>> ReadTorchCheckpoint(const std::filesystem::path& path,
                                                                            const CheckpointLimits& limits) {
  std::error_code ec;
  uint64_t size = 0;
  if (std::filesystem::is_regular_file(path, ec)) size = std::filesystem::file_size(path, ec);
  if (ec || !std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat("checkpoint ", path.string(), " is not a readable file"));
  }
  // minizip reads the file as it goes, so a large checkpoint is never held whole.
  Zip zip(unzOpen64(path.c_str()));
  if (zip == nullptr) return NotAZip(path.string());
  const std::string name = path.string();
  ArchiveReader reader{zip.get(), name, size, limits.max_bytes};
  return ReadArchive(reader);
}

absl::StatusOr<std::map<std::string, CheckpointTensor>> ParseTorchCheckpoint(std::string_view archive,
                                                                             std::string_view name,
                                                                             const CheckpointLimits& limits) {
  Zip zip(OpenZipInMemory(archive));
  if (zip == nullptr) return NotAZip(name);
  ArchiveReader reader{zip.get(), name, archive.size(), limits.max_bytes};
  return ReadArchive(reader);
}

}  // namespace textclf::cnn
