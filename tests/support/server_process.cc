#include "tests/support/server_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <regex>
#include <thread>

#include "tests/support/run_process.h"

namespace textclf::testing {

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::string& binary, const std::vector<std::string>& args) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  std::vector<std::string> all_args = {"--host", "127.0.0.1", "--port", "0", "--metrics-port", "0"};
  all_args.insert(all_args.end(), args.begin(), args.end());
  p->pid_ = SpawnWithFiles(binary, all_args, "/dev/null", p->io_.path() / "stdout", p->io_.path() / "stderr");
  if (p->pid_ < 0) {
    ADD_FAILURE() << "cannot start " << binary;
    return nullptr;
  }
  p->running_ = true;
  const std::regex serving(R"(serving .* on port (\d+), metrics on port (\d+))");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < give_up) {
    std::smatch m;
    const std::string log = p->log();
    if (std::regex_search(log, m, serving)) {
      p->port_ = std::stoi(m[1]);
      p->metrics_port_ = std::stoi(m[2]);
      return p;
    }
    if (p->WaitForExit(std::chrono::milliseconds(20)) >= 0) {
      ADD_FAILURE() << binary << " exited with " << p->exit_code_ << " before serving:\n" << p->log();
      return nullptr;
    }
  }
  ADD_FAILURE() << binary << " did not start serving within 60 s:\n" << p->log();
  return nullptr;
}

ServerProcess::~ServerProcess() {
  if (running_) {
    ::kill(pid_, SIGKILL);
    WaitForExit(std::chrono::seconds(10));
  }
}

void ServerProcess::Signal(int signal) const {
  if (running_) ::kill(pid_, signal);
}

int ServerProcess::WaitForExit(std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (running_) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      running_ = false;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= give_up) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_code_;
}

std::string ServerProcess::log() const { return ReadWholeFile(io_.path() / "stderr"); }

}  // namespace textclf::testing
