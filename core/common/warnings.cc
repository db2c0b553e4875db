#include "core/common/warnings.h"

#include <atomic>
#include <iostream>

namespace textclf {
namespace {

std::atomic<WarningSink> sink{nullptr};

}  // namespace

void SetWarningSink(WarningSink s) { sink.store(s); }

void Warn(std::string_view event, std::string_view message) {
  if (WarningSink s = sink.load(); s != nullptr) {
    s(event, message);
    return;
  }
  std::cerr << "textclf: " << event << ": " << message << std::endl;
}

}  // namespace textclf
