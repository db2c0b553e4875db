// Closed loop: `concurrency` slots, each sending its next request from the previous one's callback.
#include "client/loadgen/load_drivers.h"

namespace textclf::loadgen {

void ClosedLoopDriver::Start() {
  slots_.Add(concurrency_);
  for (int i = 0; i < concurrency_; ++i) SendNext();
}

void ClosedLoopDriver::SendNext() {
  const Clock::time_point sent = Clock::now();
  const Ticket ticket = plan_.Take(sent);
  if (!ticket.send) {
    slots_.Done();
    return;
  }
  sender_.Send(sequence_.fetch_add(1, std::memory_order_relaxed), [this, ticket, sent](const Outcome& outcome) {
    plan_.Answer(ticket, outcome, sent);
    SendNext();
  });
}

void ClosedLoopDriver::Drain(std::chrono::milliseconds grace) {
  if (slots_.WaitForZero(grace)) return;
  sender_.CancelAll();
  // Requests started between the cancel and a slot's retirement finish by their deadline.
  while (!slots_.WaitForZero(std::chrono::milliseconds(100))) sender_.CancelAll();
}

}  // namespace textclf::loadgen
