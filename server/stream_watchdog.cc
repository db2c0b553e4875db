#include "server/stream_watchdog.h"

#include <grpcpp/server_context.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace textclf::server {

StreamWatchdog::StreamWatchdog(std::chrono::milliseconds idle_timeout)
    : idle_timeout_(idle_timeout), thread_([this] { Loop(); }) {}

StreamWatchdog::~StreamWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::unique_ptr<StreamWatchdog::Watch> StreamWatchdog::Arm(grpc::ServerContextBase* context) {
  std::unique_ptr<Watch> watch(new Watch(this, context));
  std::lock_guard<std::mutex> lock(mu_);
  watches_.insert(watch.get());
  return watch;
}

StreamWatchdog::Watch::~Watch() {
  // Under the watchdog's lock: once this returns, it never touches the context again.
  std::lock_guard<std::mutex> lock(dog_->mu_);
  dog_->watches_.erase(this);
}

void StreamWatchdog::Loop() {
  // Checking a few times per timeout bounds how late a cancellation comes.
  const auto tick = std::clamp<std::chrono::milliseconds>(idle_timeout_ / 4, std::chrono::milliseconds(10),
                                                          std::chrono::milliseconds(1000));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, tick, [this] { return stopping_; });
    const Clock::rep now = Clock::now().time_since_epoch().count();
    const Clock::rep limit = std::chrono::duration_cast<Clock::duration>(idle_timeout_).count();
    for (Watch* watch : watches_) {
      if (!watch->fired_.load() && !watch->paused_.load() && now - watch->last_.load() > limit) {
        watch->fired_.store(true);
        watch->context_->TryCancel();
      }
    }
  }
}

grpc::Status StreamEnded(const StreamWatchdog::Watch& watch, std::chrono::milliseconds idle_timeout,
                         grpc::Status otherwise) {
  if (!watch.fired()) return otherwise;
  return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                      absl::StrCat("the stream sent nothing for ", idle_timeout.count() / 1000.0,
                                   " s (stream_idle_timeout_s in the server config); it was cancelled"));
}

}  // namespace textclf::server
