// Runs a program of ours (the CLI, the load generator, the server) as a child process and
// collects what it printed and how it exited, for tests of the real binaries.
#pragma once

#include <sys/types.h>

#include <filesystem>
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

// Starts `program` with `args`, its stdin, stdout and stderr the files at those paths (files,
// not pipes: no pipe can fill up and stall the child), and returns its pid without waiting;
// -1 when it could not start.
pid_t SpawnWithFiles(const std::string& program, const std::vector<std::string>& args,
                     const std::filesystem::path& stdin_path, const std::filesystem::path& stdout_path,
                     const std::filesystem::path& stderr_path);

// Reads a whole file (empty when missing).
std::string ReadWholeFile(const std::string& path);

}  // namespace textclf::testing
