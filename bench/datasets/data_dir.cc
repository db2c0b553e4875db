#include "bench/datasets/data_dir.h"

#include <cstdlib>

namespace textclf::data {

std::filesystem::path DataDir() {
  if (const char* env = std::getenv("TEXTCLF_DATA"); env != nullptr && *env != '\0') return env;
  return TEXTCLF_DEFAULT_DATA_DIR;
}

}  // namespace textclf::data
