// Reads the data.pkl of a PyTorch torch.save archive holding a state dict: the subset of Python's
// pickle protocol (2 to 5) that torch.save writes for an OrderedDict of tensors. Tensors come out
// as references into the archive's storages (torch._utils._rebuild_tensor_v2 with persistent ids
// ('storage', torch.FloatStorage, key, location, numel)); their device is ignored, so tensors
// saved on 'cuda:0' read like CPU ones. Anything outside that subset is refused by name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::cnn {

struct PickledTensor {
  std::string storage_type;  // "FloatStorage", "LongStorage", ...
  std::string storage_key;   // the archive member data/<key>
  std::string location;      // "cpu", "cuda:0", ...
  int64_t storage_numel = 0;
  int64_t storage_offset = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
};

// The state dict's entries in file order.
absl::StatusOr<std::vector<std::pair<std::string, PickledTensor>>> UnpickleStateDict(std::string_view pickle);

}  // namespace textclf::cnn
