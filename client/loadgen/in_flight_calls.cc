// The registry of in-flight request contexts, for cancelling them all on Ctrl-C.
#include "client/loadgen/request_sender.h"

namespace textclf::loadgen {

void InFlightCalls::Add(grpc::ClientContext* context) {
  std::lock_guard lock(mu_);
  contexts_.insert(context);
}

void InFlightCalls::Remove(grpc::ClientContext* context) {
  std::lock_guard lock(mu_);
  contexts_.erase(context);
}

void InFlightCalls::CancelAll() {
  std::lock_guard lock(mu_);
  for (grpc::ClientContext* context : contexts_) context->TryCancel();
}

}  // namespace textclf::loadgen
