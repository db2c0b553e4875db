#include "core/cnn/quantized_engine.h"

#include <ATen/Context.h>

#include <algorithm>
#include <cstdlib>
#include <vector>


namespace textclf::cnn {
namespace {

struct Candidate {
  const char* name;
  at::QEngine engine;
};

// Preference order: x86's oneDNN (VNNI where the CPU has it), then QNNPACK (built for ARM,
// correct but slower on x86).
const std::vector<Candidate>& Candidates() {
  static const std::vector<Candidate> candidates = {
      {"onednn", at::QEngine::ONEDNN},
      {"qnnpack", at::QEngine::QNNPACK},
  };
  return candidates;
}

std::string Choose() {
  const auto& supported = at::globalContext().supportedQEngines();
  auto available = [&](const Candidate& c) {
    return std::find(supported.begin(), supported.end(), c.engine) != supported.end();
  };
  const char* wanted = std::getenv("TEXTCLF_QUANTIZED_ENGINE");
  const Candidate* chosen = nullptr;
  if (wanted != nullptr && *wanted != '\0') {
    for (const Candidate& c : Candidates()) {
      if (std::string_view(wanted) == c.name && available(c)) chosen = &c;
    }
  }
  for (const Candidate& c : Candidates()) {
    if (chosen == nullptr && available(c)) chosen = &c;
  }
  if (chosen == nullptr) return "";
  at::globalContext().setQEngine(chosen->engine);
  return chosen->name;
}

}  // namespace

const std::string& QuantizedEngine() {
  static const std::string engine = Choose();
  return engine;
}

}  // namespace textclf::cnn
