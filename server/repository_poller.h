// Poll mode: rescans the model repository every interval and applies the version policy, so a
// replica serves what a training job or another replica published to a shared volume, and stops
// serving what was deleted there. Publishing renames whole folders into place, so a scan sees a
// version complete or not at all.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace textclf::registry {
class ModelManager;
}

namespace textclf::server {

class RepositoryPoller {
 public:
  // `log` hears each load failure once when it first appears and once when it clears, not at
  // every poll.
  using LogFn = std::function<void(const std::string&)>;

  // Starts the polling thread; `interval` must be positive.
  RepositoryPoller(registry::ModelManager* models, std::chrono::milliseconds interval, LogFn log);
  // Stops the thread; a scan in progress finishes first.
  ~RepositoryPoller();
  RepositoryPoller(const RepositoryPoller&) = delete;
  RepositoryPoller& operator=(const RepositoryPoller&) = delete;

  void Stop();
  // Scans finished so far (tests wait on it rather than on the clock).
  int64_t scans() const;

 private:
  void Run();
  void ScanOnce();

  registry::ModelManager* models_;
  const std::chrono::milliseconds interval_;
  LogFn log_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  int64_t scans_ = 0;
  std::set<std::string> reported_;  // failures already logged; only the polling thread uses it
  std::thread thread_;
};

}  // namespace textclf::server
