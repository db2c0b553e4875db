// What the load drivers send: one request per call of Send, started on the gRPC callback API so
// that sending never waits for the network, and its outcome reported from a gRPC thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_set>

namespace textclf::loadgen {

struct Outcome {
  grpc::StatusCode code = grpc::StatusCode::OK;
  int texts = 0;            // texts the request carried
  int64_t queue_us = -1;    // the server's queue/compute split, when the response carries it
  int64_t compute_us = -1;
};

using OutcomeCallback = std::function<void(const Outcome&)>;

class RequestSender {
 public:
  virtual ~RequestSender() = default;
  // Starts request number `sequence` (which picks its batch and, in a mix, its kind). `done` runs
  // exactly once, on a gRPC thread, when the request ends.
  virtual void Send(uint64_t sequence, OutcomeCallback done) = 0;
  // Cancels every request still in flight (after Ctrl-C); their callbacks then run promptly.
  virtual void CancelAll() = 0;
};

// The contexts of requests in flight, so that CancelAll can reach them.
class InFlightCalls {
 public:
  void Add(grpc::ClientContext* context);
  // Must run before the context is destroyed.
  void Remove(grpc::ClientContext* context);
  void CancelAll();

 private:
  std::mutex mu_;
  std::unordered_set<grpc::ClientContext*> contexts_;
};

}  // namespace textclf::loadgen
