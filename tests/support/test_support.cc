#include "tests/support/test_support.h"

#include <random>
#include <string>

namespace textclf::testing {

TempDir::TempDir() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  path_ = std::filesystem::temp_directory_path() / ("textclf-test-" + std::to_string(rng()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace textclf::testing
