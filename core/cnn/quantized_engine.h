// Which of libtorch's int8 kernel libraries runs quantized CNNs in this process. libtorch keeps
// the choice in one global setting that prepacking reads, so it is made once, before the first
// int8 model is built, and never changed afterwards. Includes no libtorch.
#pragma once

#include <string>

namespace textclf::cnn {

// The engine chosen for this process: "onednn" (x86), "qnnpack" (ARM, or where oneDNN is
// missing), or "" when libtorch has none. TEXTCLF_QUANTIZED_ENGINE=onednn|qnnpack asks for one
// (benchmarks and tests compare them); a name the build lacks falls back to the preferred one
// (ModelStatistics shows what each version runs on).
const std::string& QuantizedEngine();

}  // namespace textclf::cnn
