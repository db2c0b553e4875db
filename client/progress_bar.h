// A one-line progress bar on stderr for long commands; on a non-terminal it prints a line per
// stage change instead, so logs stay readable.
#pragma once

#include <string>

namespace textclf::client {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  void Update(const std::string& stage, double fraction, const std::string& message);
  void Finish();

 private:
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  std::string last_stage_;
};

}  // namespace textclf::client
