#include "client/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace textclf::client {

ProgressBar::ProgressBar(bool enabled) : enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(const std::string& stage, double fraction, const std::string& message) {
  if (!enabled_) return;
  fraction = std::clamp(fraction, 0.0, 1.0);
  if (!tty_) {
    if (stage != last_stage_) std::fprintf(stderr, "[%3.0f%%] %s: %s\n", 100 * fraction, stage.c_str(), message.c_str());
    last_stage_ = stage;
    return;
  }
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth + 0.5);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::string line = "[" + bar + "] " + std::to_string(static_cast<int>(100 * fraction)) + "% " + stage;
  if (!message.empty()) line += ": " + message;
  if (line.size() > 100) line.resize(100);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace textclf::client
