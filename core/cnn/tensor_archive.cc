#include "core/cnn/tensor_archive.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace textclf::cnn {
namespace {

constexpr char kMagic[] = "TXCNNW01";
constexpr size_t kMagicSize = 8;
constexpr int kMaxRank = 8;

template <typename T>
void Put(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // the format is little-endian, as are our targets
  out->append(bytes, sizeof(T));
}

class Reader {
 public:
  Reader(std::string_view bytes, std::string_view file) : bytes_(bytes), file_(file) {}

  template <typename T>
  absl::StatusOr<T> Get(std::string_view what) {
    if (bytes_.size() - pos_ < sizeof(T)) return Truncated(what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  absl::StatusOr<std::string_view> Bytes(uint64_t n, std::string_view what) {
    if (bytes_.size() - pos_ < n) return Truncated(what);
    std::string_view s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool done() const { return pos_ == bytes_.size(); }
  absl::Status Error(std::string_view what) const {
    return absl::DataLossError(absl::StrCat("weights file ", std::string(file_), " is corrupt: ", std::string(what)));
  }

 private:
  absl::Status Truncated(std::string_view what) const {
    return Error(absl::StrCat("it ends inside ", std::string(what), " (truncated?)"));
  }
  std::string_view bytes_;
  std::string_view file_;
  size_t pos_ = 0;
};

}  // namespace

int64_t ArchiveTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

absl::StatusOr<std::vector<float>> ArchiveTensor::Floats() const {
  if (bits == 32) return values;
  QuantizedWeights q;
  q.bits = bits;
  q.scales = scales;
  ASSIGN_OR_RETURN(q.values, UnpackBits(packed, numel(), bits));
  return Dequantize(q);
}

ArchiveTensor FloatTensor(std::string name, std::vector<int64_t> shape, std::vector<float> values) {
  ArchiveTensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.values = std::move(values);
  return t;
}

ArchiveTensor PackedTensor(std::string name, std::vector<int64_t> shape, const QuantizedWeights& q) {
  ArchiveTensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.bits = q.bits;
  t.scales = q.scales;
  t.packed = PackBits(q.values, q.bits);
  return t;
}

std::string SerializeArchive(const std::vector<ArchiveTensor>& tensors) {
  std::string out(kMagic, kMagicSize);
  Put<uint32_t>(&out, static_cast<uint32_t>(tensors.size()));
  for (const ArchiveTensor& t : tensors) {
    Put<uint16_t>(&out, static_cast<uint16_t>(t.name.size()));
    out += t.name;
    Put<uint8_t>(&out, static_cast<uint8_t>(t.bits));
    Put<uint8_t>(&out, static_cast<uint8_t>(t.shape.size()));
    for (int64_t d : t.shape) Put<int64_t>(&out, d);
    if (t.bits == 32) {
      Put<uint64_t>(&out, t.values.size() * sizeof(float));
      out.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
    } else {
      Put<uint32_t>(&out, static_cast<uint32_t>(t.scales.size()));
      for (float scale : t.scales) {  // bfloat16: the high half of the float (exact for quantizer scales)
        const float rounded = RoundScale(scale);
        uint32_t bits;
        std::memcpy(&bits, &rounded, sizeof(bits));
        Put<uint16_t>(&out, static_cast<uint16_t>(bits >> 16));
      }
      Put<uint64_t>(&out, t.packed.size());
      out += t.packed;
    }
  }
  return out;
}

absl::StatusOr<std::vector<ArchiveTensor>> ParseArchive(std::string_view bytes, std::string_view file) {
  Reader r(bytes, file);
  ASSIGN_OR_RETURN(std::string_view magic, r.Bytes(kMagicSize, "the header"));
  if (magic != std::string_view(kMagic, kMagicSize)) return r.Error("it does not start with TXCNNW01");
  ASSIGN_OR_RETURN(uint32_t count, r.Get<uint32_t>("the tensor count"));
  std::vector<ArchiveTensor> tensors;
  for (uint32_t k = 0; k < count; ++k) {
    const std::string what = absl::StrCat("tensor ", k);
    ArchiveTensor t;
    ASSIGN_OR_RETURN(uint16_t name_size, r.Get<uint16_t>(what));
    ASSIGN_OR_RETURN(std::string_view name, r.Bytes(name_size, what));
    t.name = std::string(name);
    const std::string named = absl::StrCat("tensor ", t.name);
    ASSIGN_OR_RETURN(uint8_t bits, r.Get<uint8_t>(named));
    ASSIGN_OR_RETURN(uint8_t rank, r.Get<uint8_t>(named));
    t.bits = bits;
    if (t.bits != 32 && (t.bits < 2 || t.bits > 8)) {
      return r.Error(absl::StrCat(named, " has ", t.bits, "-bit values; 32 or 2..8 are valid"));
    }
    if (rank > kMaxRank) return r.Error(absl::StrCat(named, " has rank ", rank));
    // The sizes' product bounds the values; with zeros counted as ones it also bounds what the
    // strides of the shape multiply up to (libtorch computes them), so an empty tensor cannot
    // carry sizes whose product overflows either.
    constexpr int64_t kMaxExtent = int64_t{1} << 40;
    int64_t numel = 1, extent = 1;
    for (int d = 0; d < rank; ++d) {
      ASSIGN_OR_RETURN(int64_t dim, r.Get<int64_t>(named));
      if (dim < 0 || dim > kMaxExtent || extent > kMaxExtent / std::max<int64_t>(dim, 1)) {
        return r.Error(absl::StrCat(named, " has an impossible shape"));
      }
      t.shape.push_back(dim);
      numel *= dim;
      extent *= std::max<int64_t>(dim, 1);
    }
    if (t.bits == 32) {
      ASSIGN_OR_RETURN(uint64_t size, r.Get<uint64_t>(named));
      if (size != static_cast<uint64_t>(numel) * sizeof(float)) {
        return r.Error(absl::StrCat(named, " has ", size, " bytes of data for ", numel, " floats"));
      }
      ASSIGN_OR_RETURN(std::string_view data, r.Bytes(size, named));
      t.values.resize(static_cast<size_t>(numel));
      if (!data.empty()) std::memcpy(t.values.data(), data.data(), data.size());  // an empty vector's data() may be null
    } else {
      ASSIGN_OR_RETURN(uint32_t scales, r.Get<uint32_t>(named));
      const int64_t channels = t.shape.empty() ? 1 : t.shape[0];
      if (scales != 1 && scales != channels) {
        return r.Error(absl::StrCat(named, " has ", scales, " scales for ", channels, " channels"));
      }
      ASSIGN_OR_RETURN(std::string_view scale_bytes, r.Bytes(uint64_t{scales} * sizeof(uint16_t), named));
      t.scales.resize(scales);
      for (uint32_t k = 0; k < scales; ++k) {
        uint16_t half;
        std::memcpy(&half, scale_bytes.data() + k * sizeof(uint16_t), sizeof(half));
        const uint32_t bits = static_cast<uint32_t>(half) << 16;
        std::memcpy(&t.scales[k], &bits, sizeof(float));
      }
      for (float s : t.scales) {
        if (!std::isfinite(s) || s < 0) return r.Error(absl::StrCat(named, " has a scale of ", s));
      }
      ASSIGN_OR_RETURN(uint64_t size, r.Get<uint64_t>(named));
      const uint64_t expected = (static_cast<uint64_t>(numel) * static_cast<uint64_t>(t.bits) + 7) / 8;
      if (size != expected) {
        return r.Error(absl::StrCat(named, " has ", size, " bytes of codes; ", numel, " values of ", t.bits,
                                    " bits need ", expected));
      }
      ASSIGN_OR_RETURN(std::string_view data, r.Bytes(size, named));
      t.packed = std::string(data);
    }
    tensors.push_back(std::move(t));
  }
  if (!r.done()) return r.Error("bytes follow the last tensor");
  return tensors;
}

}  // namespace textclf::cnn
