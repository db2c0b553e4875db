#include "tests/core/cnn/checkpoint_bytes.h"

#include <zlib.h>

#include <cstring>

namespace textclf::cnn::testing {
namespace {

template <typename T>
void AppendLe(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian, as zip and pickle are
  out->append(bytes, sizeof(T));
}

std::string RawDeflate(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

PickleWriter::PickleWriter() { out_ = "\x80\x02"; }

PickleWriter& PickleWriter::Op(char op) {
  out_.push_back(op);
  return *this;
}

PickleWriter& PickleWriter::Int(int64_t value) {
  out_ += "\x8a\x08";
  AppendLe(&out_, value);
  return *this;
}

PickleWriter& PickleWriter::Str(std::string_view s) {
  out_.push_back('X');
  AppendLe(&out_, static_cast<uint32_t>(s.size()));
  out_ += s;
  return *this;
}

PickleWriter& PickleWriter::Global(std::string_view module, std::string_view name) {
  out_.push_back('c');
  out_ += module;
  out_.push_back('\n');
  out_ += name;
  out_.push_back('\n');
  return *this;
}

PickleWriter& PickleWriter::Put(uint32_t index) {
  out_.push_back('r');
  AppendLe(&out_, index);
  return *this;
}

PickleWriter& PickleWriter::Get(uint32_t index) {
  out_.push_back('j');
  AppendLe(&out_, index);
  return *this;
}

PickleWriter& PickleWriter::Repeat(std::string_view bytes, size_t times) {
  out_.reserve(out_.size() + bytes.size() * times);
  for (size_t i = 0; i < times; ++i) out_ += bytes;
  return *this;
}

std::string StateDictPickle(const std::vector<TensorSpec>& tensors) {
  PickleWriter w;
  w.Global("collections", "OrderedDict").Op(')').Op('R').Op('(');
  for (const TensorSpec& t : tensors) {
    w.Str(t.name).Global("torch._utils", "_rebuild_tensor_v2").Op('(');
    w.Op('(').Str("storage").Global("torch", t.storage_type).Str(t.key).Str(t.location).Int(t.storage_numel).Op('t');
    w.Op('Q').Int(t.offset);
    w.Op('(');
    for (int64_t d : t.shape) w.Int(d);
    w.Op('t').Op('(');
    for (int64_t s : t.stride) w.Int(s);
    w.Op('t').Op('\x89').Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R');
  }
  return w.Op('u').bytes();
}

std::string ZipArchive(const std::vector<ZipMember>& members) {
  std::string out, directory;
  for (const ZipMember& m : members) {
    const std::string stored = m.deflate ? RawDeflate(m.data) : m.data;
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(m.data.data()), static_cast<uInt>(m.data.size())));
    const uint32_t size = m.claimed_size.value_or(static_cast<uint32_t>(m.data.size()));
    const uint32_t compressed = m.claimed_compressed_size.value_or(static_cast<uint32_t>(stored.size()));
    const uint16_t method = m.deflate ? 8 : 0;
    const uint32_t offset = static_cast<uint32_t>(out.size());
    AppendLe<uint32_t>(&out, 0x04034b50);
    for (uint16_t v : {uint16_t{20}, uint16_t{0}, method, uint16_t{0}, uint16_t{0x21}}) AppendLe(&out, v);
    for (uint32_t v : {crc, compressed, size}) AppendLe(&out, v);
    AppendLe<uint16_t>(&out, static_cast<uint16_t>(m.name.size()));
    AppendLe<uint16_t>(&out, 0);
    out += m.name;
    out += stored;

    AppendLe<uint32_t>(&directory, 0x02014b50);
    for (uint16_t v : {uint16_t{20}, uint16_t{20}, uint16_t{0}, method, uint16_t{0}, uint16_t{0x21}}) AppendLe(&directory, v);
    for (uint32_t v : {crc, compressed, size}) AppendLe(&directory, v);
    AppendLe<uint16_t>(&directory, static_cast<uint16_t>(m.name.size()));
    for (uint16_t v : {uint16_t{0}, uint16_t{0}, uint16_t{0}, uint16_t{0}}) AppendLe(&directory, v);  // extra .. attributes
    AppendLe<uint32_t>(&directory, 0);  // external attributes
    AppendLe<uint32_t>(&directory, offset);
    directory += m.name;
  }
  const uint32_t directory_offset = static_cast<uint32_t>(out.size());
  out += directory;
  AppendLe<uint32_t>(&out, 0x06054b50);
  AppendLe<uint16_t>(&out, 0);
  AppendLe<uint16_t>(&out, 0);
  AppendLe<uint16_t>(&out, static_cast<uint16_t>(members.size()));
  AppendLe<uint16_t>(&out, static_cast<uint16_t>(members.size()));
  AppendLe<uint32_t>(&out, static_cast<uint32_t>(directory.size()));
  AppendLe<uint32_t>(&out, directory_offset);
  AppendLe<uint16_t>(&out, 0);
  return out;
}

std::string TorchArchive(const std::string& pickle, const std::vector<std::pair<std::string, std::string>>& storages,
                         const std::string& prefix) {
  std::vector<ZipMember> members = {{.name = prefix + "data.pkl", .data = pickle}};
  for (const auto& [key, bytes] : storages) members.push_back({.name = prefix + "data/" + key, .data = bytes});
  return ZipArchive(members);
}

std::string FloatStorageBytes(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) AppendLe(&out, static_cast<float>(i));
  return out;
}

}  // namespace textclf::cnn::testing
