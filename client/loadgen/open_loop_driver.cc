// Open loop: a pacing thread sends each request at its scheduled time, never waiting for answers.
#include "client/loadgen/load_drivers.h"

namespace textclf::loadgen {

OpenLoopDriver::~OpenLoopDriver() {
  stopping_ = true;
  if (pacer_.joinable()) pacer_.join();
}

void OpenLoopDriver::Start() {
  pacer_ = std::thread([this] { Pace(); });
}

void OpenLoopDriver::Pace() {
  for (uint64_t sequence = 0; !stopping_; ++sequence) {
    const Clock::time_point due = start_ + schedule_.Next();
    // Sleep in short slices so that a stop request is seen promptly even at very low rates.
    for (Clock::time_point now = Clock::now(); now < due && !stopping_; now = Clock::now()) {
      std::this_thread::sleep_for(std::min<Clock::duration>(due - now, std::chrono::milliseconds(20)));
    }
    if (stopping_) return;
    const Ticket ticket = plan_.Take(due);
    if (!ticket.send) return;
    in_flight_.Add();
    // Latency counts from `due`: if this thread or the client fell behind, the delay is the
    // server's queue as a real user would see it.
    sender_.Send(sequence, [this, ticket, due](const Outcome& outcome) {
      plan_.Answer(ticket, outcome, due);
      in_flight_.Done();
    });
  }
}

void OpenLoopDriver::Drain(std::chrono::milliseconds grace) {
  stopping_ = true;
  if (pacer_.joinable()) pacer_.join();
  if (in_flight_.WaitForZero(grace)) return;
  sender_.CancelAll();
  in_flight_.WaitForZero(std::chrono::hours(1));
}

}  // namespace textclf::loadgen
