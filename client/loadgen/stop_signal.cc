// The SIGINT/SIGTERM handler behind a clean stop.
#include "client/loadgen/stop_signal.h"

#include <csignal>

namespace textclf::loadgen {
namespace {

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the flag is set from a signal handler");

extern "C" void OnStopSignal(int signal_number) {
  if (stop_requested.exchange(true)) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
  }
}

}  // namespace

const std::atomic<bool>& InstallStopSignal() {
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  return stop_requested;
}

}  // namespace textclf::loadgen
