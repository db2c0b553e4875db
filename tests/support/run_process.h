// Runs a program of ours (the CLI, the load generator, the server) as a child process and
// collects what it printed and how it exited, for tests of the real binaries.
#pragma once

#include <string>
#include <vector>

namespace textclf::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by one; -1 when it could not start
  std::string out;
  std::string err;
};

// Runs `program` with `args`, feeding `input` on stdin; waits for it to exit.
ProcessResult RunProcess(const std::string& program, const std::vector<std::string>& args,
                         const std::string& input = "");

// Reads a whole file (empty when missing).
std::string ReadWholeFile(const std::string& path);

}  // namespace textclf::testing
