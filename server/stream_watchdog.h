// Cancels streaming calls that stop sending. A Train, Quantize or Evaluate stream holds a server
// thread (and an upload's memory) while the server waits for its next message; a client that
// opens one and sends nothing more would hold them forever. Each such call arms a Watch while it
// reads, touches it whenever a message arrives, and the watchdog cancels (TryCancel) the calls
// idle for longer than the timeout, which ends their pending Read.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <grpcpp/support/status.h>

namespace grpc {
class ServerContextBase;
}

namespace textclf::server {

class StreamWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit StreamWatchdog(std::chrono::milliseconds idle_timeout);
  ~StreamWatchdog();
  StreamWatchdog(const StreamWatchdog&) = delete;
  StreamWatchdog& operator=(const StreamWatchdog&) = delete;

  // One call's registration; unregisters when destroyed (before the call's context goes).
  class Watch {
   public:
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    // A message arrived (or the server finished the work it asked for): the idle time restarts.
    void Touch() { last_.store(Clock::now().time_since_epoch().count()); }
    // Whether the watchdog cancelled the call for being idle.
    bool fired() const { return fired_.load(); }
    // While the server works for the call (a batch of an Evaluate runs), its client is not idle.
    void Pause() { paused_.store(true); }
    void Resume() {
      Touch();
      paused_.store(false);
    }

   private:
    friend class StreamWatchdog;
    Watch(StreamWatchdog* dog, grpc::ServerContextBase* context) : dog_(dog), context_(context) { Touch(); }
    StreamWatchdog* dog_;
    grpc::ServerContextBase* context_;
    std::atomic<Clock::rep> last_{0};
    std::atomic<bool> fired_{false};
    std::atomic<bool> paused_{false};
  };

  std::unique_ptr<Watch> Arm(grpc::ServerContextBase* context);
  std::chrono::milliseconds idle_timeout() const { return idle_timeout_; }

 private:
  void Loop();

  const std::chrono::milliseconds idle_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<Watch*> watches_;
  bool stopping_ = false;
  std::thread thread_;
};

// The status of a call whose stream ended before the server had what it needed: DEADLINE_EXCEEDED
// saying so when the watchdog cut it for being idle (the client may never see it, as the call
// is cancelled, but the server's logs and metrics do), else `otherwise`.
grpc::Status StreamEnded(const StreamWatchdog::Watch& watch, std::chrono::milliseconds idle_timeout,
                         grpc::Status otherwise);

}  // namespace textclf::server
