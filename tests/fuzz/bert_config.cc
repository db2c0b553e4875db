// Fuzzes the reader of an encoder checkpoint's config.json (nlohmann JSON, numbers narrowed to
// int); an accepted configuration must be one the model can be built from.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/encoder/bert_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = textclf::encoder::ParseBertConfig(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!config.ok()) return 0;
  if (config->num_attention_heads < 1 || config->hidden_size % config->num_attention_heads != 0) __builtin_trap();
  return 0;
}
