#include "core/cnn/torch_checkpoint.h"

#include <minizip/unzip.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/cnn/state_dict_unpickler.h"
#include "core/common/status_macros.h"

namespace textclf::cnn {
namespace {

struct ZipCloser {
  void operator()(void* zip) const { unzClose(zip); }
};
using Zip = std::unique_ptr<void, ZipCloser>;

// The archive's member names, in archive order.
absl::StatusOr<std::vector<std::string>> ListMembers(unzFile zip) {
  std::vector<std::string> names;
  for (int rc = unzGoToFirstFile(zip); rc == UNZ_OK; rc = unzGoToNextFile(zip)) {
    unz_file_info64 info;
    char name[1024];
    if (unzGetCurrentFileInfo64(zip, &info, name, sizeof name, nullptr, 0, nullptr, 0) != UNZ_OK) {
      return absl::InvalidArgumentError("the zip directory of the checkpoint is damaged");
    }
    names.emplace_back(name);
  }
  return names;
}

absl::StatusOr<std::string> ReadMember(unzFile zip, const std::string& name) {
  if (unzLocateFile(zip, name.c_str(), /*case sensitive=*/1) != UNZ_OK) {
    return absl::InvalidArgumentError(absl::StrCat("the checkpoint has no member ", name));
  }
  unz_file_info64 info;
  if (unzGetCurrentFileInfo64(zip, &info, nullptr, 0, nullptr, 0, nullptr, 0) != UNZ_OK ||
      unzOpenCurrentFile(zip) != UNZ_OK) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open ", name, " in the checkpoint"));
  }
  if (info.uncompressed_size > (uint64_t{1} << 34)) {
    unzCloseCurrentFile(zip);
    return absl::InvalidArgumentError(absl::StrCat(name, " in the checkpoint is larger than 16 GiB"));
  }
  std::string data(static_cast<size_t>(info.uncompressed_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(data.size() - done, 1 << 30));
    const int n = unzReadCurrentFile(zip, data.data() + done, chunk);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  // unzCloseCurrentFile checks the CRC once the whole member was read.
  const int closed = unzCloseCurrentFile(zip);
  if (done != data.size() || closed != UNZ_OK) {
    return absl::InvalidArgumentError(absl::StrCat(name, " in the checkpoint is truncated or fails its CRC"));
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

// Copies a strided view of `storage` into a contiguous float tensor.
absl::StatusOr<CheckpointTensor> Materialise(const std::string& name, const PickledTensor& t, const std::string& storage) {
  const size_t element = ElementSize(t.storage_type);
  if (element == 0) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " has storage type ", t.storage_type,
                                                   ", which is not a number type"));
  }
  const int64_t available = static_cast<int64_t>(storage.size() / element);
  CheckpointTensor out;
  out.shape = t.shape;
  out.dtype = t.storage_type;
  out.location = t.location;
  int64_t numel = 1;
  int64_t last = t.storage_offset;
  for (size_t d = 0; d < t.shape.size(); ++d) {
    if (t.shape[d] < 0 || t.stride[d] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " has a negative size or stride"));
    }
    numel *= t.shape[d];
    if (t.shape[d] > 0) last += (t.shape[d] - 1) * t.stride[d];
  }
  if (numel > 0 && (t.storage_offset < 0 || last >= available)) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " reaches element ", last, " of storage ",
                                                   t.storage_key, ", which holds ", available));
  }
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

}  // namespace

absl::StatusOr<std::map<std::string, CheckpointTensor>> ReadTorchCheckpoint(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat("checkpoint ", path.string(), " is not a readable file"));
  }
  Zip zip(unzOpen64(path.c_str()));
  if (zip == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        path.string(), " is not a zip archive: save it with torch.save from PyTorch 1.6 or later "
                       "(the legacy format is not supported)"));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> members, ListMembers(zip.get()));
  std::string prefix;
  bool found = false;
  for (const std::string& m : members) {
    if (m.size() >= 8 && m.compare(m.size() - 8, 8, "data.pkl") == 0 &&
        (m.size() == 8 || m[m.size() - 9] == '/')) {
      prefix = m.substr(0, m.size() - 8);
      found = true;
      break;
    }
  }
  if (!found) return absl::InvalidArgumentError(absl::StrCat(path.string(), " has no data.pkl: it is not a torch.save archive"));
  ASSIGN_OR_RETURN(std::string pickle, ReadMember(zip.get(), prefix + "data.pkl"));
  auto entries = UnpickleStateDict(pickle);
  if (!entries.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", std::string(entries.status().message())));
  }
  std::map<std::string, std::string> storages;
  std::map<std::string, CheckpointTensor> tensors;
  for (const auto& [name, t] : *entries) {
    auto it = storages.find(t.storage_key);
    if (it == storages.end()) {
      ASSIGN_OR_RETURN(std::string bytes, ReadMember(zip.get(), prefix + "data/" + t.storage_key));
      it = storages.emplace(t.storage_key, std::move(bytes)).first;
    }
    ASSIGN_OR_RETURN(CheckpointTensor tensor, Materialise(name, t, it->second));
    tensors[name] = std::move(tensor);
  }
  return tensors;
}

}  // namespace textclf::cnn
