// Where the real data sets live: the one setting TEXTCLF_DATA, by default the shared data folder
// beside the checkout (../shared/data). Tests and benchmarks both ask here.
#pragma once

#include <filesystem>

namespace textclf::data {

std::filesystem::path DataDir();

}  // namespace textclf::data
