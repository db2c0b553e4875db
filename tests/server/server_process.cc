#include "tests/server/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace textclf::testing {

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::string& binary, const std::vector<std::string>& args) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  const std::string out = (p->io_.path() / "stdout").string(), err = (p->io_.path() / "stderr").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_strings = {binary, "--host", "127.0.0.1", "--port", "0", "--metrics-port", "0"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int spawned = posix_spawn(&p->pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
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

std::string ServerProcess::log() const {
  std::ifstream in(io_.path() / "stderr", std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  (void)::write(fd, request.data(), request.size());
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) response.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return response;
}

double SumSamples(const std::string& exposition, const std::string& metric,
                  const std::vector<std::string>& label_matchers) {
  double sum = 0;
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(metric + "{", 0) != 0 && line.rfind(metric + " ", 0) != 0) continue;
    const size_t value_at = line.rfind(' ');
    const std::string series = line.substr(0, value_at);
    bool match = true;
    for (const std::string& m : label_matchers) match = match && series.find(m) != std::string::npos;
    if (match) sum += std::stod(line.substr(value_at + 1));
  }
  return sum;
}

}  // namespace textclf::testing
