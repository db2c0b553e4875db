// The real textclf-server binary as a child process, for tests of what only a process shows:
// signals, exit codes, several replicas sharing one repository. Its output goes to files (no pipe
// can fill up and stall it); the ports it picked are read from its "serving" line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace textclf::testing {

class ServerProcess {
 public:
  // Starts `binary` with `args` plus --host 127.0.0.1 --port 0 --metrics-port 0, and waits until
  // it serves. On failure returns null and records a gtest failure with its output.
  static std::unique_ptr<ServerProcess> Start(const std::string& binary, const std::vector<std::string>& args);
  // Kills the process if it still runs.
  ~ServerProcess();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void Signal(int signal) const;
  // Waits for the exit; returns the exit code (128 + signal when killed), or -1 on timeout.
  int WaitForExit(std::chrono::milliseconds timeout);
  bool running() const { return running_; }
  // Everything it wrote to stderr so far.
  std::string log() const;

 private:
  ServerProcess() = default;
  TempDir io_;
  pid_t pid_ = -1;
  bool running_ = false;
  int exit_code_ = -1;
  int port_ = 0;
  int metrics_port_ = 0;
};

}  // namespace textclf::testing
