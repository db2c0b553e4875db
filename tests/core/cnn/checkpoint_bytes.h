// Builders of PyTorch checkpoint bytes for tests: the pickle opcodes torch.save writes, and zip
// archives written by hand, so that a test can make any field lie.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace textclf::cnn::testing {

// Pickle opcodes, appended in the order given; bytes() adds STOP.
class PickleWriter {
 public:
  PickleWriter();
  PickleWriter& Op(char op);
  PickleWriter& Int(int64_t value);  // LONG1, 8 bytes: any int64
  PickleWriter& Str(std::string_view s);
  PickleWriter& Global(std::string_view module, std::string_view name);
  PickleWriter& Put(uint32_t index);  // LONG_BINPUT
  PickleWriter& Get(uint32_t index);  // LONG_BINGET
  PickleWriter& Repeat(std::string_view bytes, size_t times);
  std::string bytes() const { return out_ + "."; }

 private:
  std::string out_;
};

struct TensorSpec {
  std::string name;
  std::string storage_type = "FloatStorage";
  std::string key = "0";
  std::string location = "cpu";
  int64_t storage_numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
};

// An OrderedDict of _rebuild_tensor_v2 calls, as torch.save writes a state dict.
std::string StateDictPickle(const std::vector<TensorSpec>& tensors);

struct ZipMember {
  std::string name;
  std::string data;
  bool deflate = false;
  // What the headers claim, when not the truth.
  std::optional<uint32_t> claimed_size = std::nullopt;
  std::optional<uint32_t> claimed_compressed_size = std::nullopt;
};

std::string ZipArchive(const std::vector<ZipMember>& members);

// A torch.save archive: <prefix>data.pkl and data/<key> for each storage given.
std::string TorchArchive(const std::string& pickle, const std::vector<std::pair<std::string, std::string>>& storages,
                         const std::string& prefix = "archive/");

// `count` floats 0, 1, 2, ... as a FloatStorage's bytes.
std::string FloatStorageBytes(int count);

}  // namespace textclf::cnn::testing
