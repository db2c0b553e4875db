// Health checks only: the cheapest unary call the server answers, so their throughput is the
// transport ceiling of this machine (gRPC, TCP loopback and the client) with no model work.
#include <grpcpp/generic/generic_stub.h>

#include <vector>

#include "client/loadgen/senders.h"
#include "textclf/health/health.pb.h"

namespace textclf::loadgen {
namespace {

// This gRPC package ships no generated health stubs; the method is called by its path with
// wire-compatible messages.
constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";

using HealthStub = grpc::TemplatedGenericStub<health::HealthCheckRequest, health::HealthCheckResponse>;

class HealthSender : public RequestSender {
 public:
  HealthSender(ChannelPool& pool, double timeout_s) : pool_(pool), timeout_s_(timeout_s) {
    for (size_t i = 0; i < pool.size(); ++i) stubs_.push_back(std::make_unique<HealthStub>(pool.at(i).channel));
    request_.set_service("");  // the whole server
  }

  void Send(uint64_t sequence, OutcomeCallback done) override {
    struct Call {
      grpc::ClientContext context;
      health::HealthCheckResponse response;
    };
    auto* call = new Call;
    call->context.set_deadline(DeadlineAfter(timeout_s_));
    in_flight_.Add(&call->context);
    stubs_[pool_.NextIndex()]->UnaryCall(&call->context, kHealthCheck, grpc::StubOptions(), &request_,
                                         &call->response, [this, call, done = std::move(done)](grpc::Status status) {
                                           Outcome outcome;
                                           outcome.code = status.error_code();
                                           in_flight_.Remove(&call->context);
                                           delete call;
                                           done(outcome);
                                         });
  }

  void CancelAll() override { in_flight_.CancelAll(); }

 private:
  ChannelPool& pool_;
  const double timeout_s_;
  std::vector<std::unique_ptr<HealthStub>> stubs_;
  health::HealthCheckRequest request_;
  InFlightCalls in_flight_;
};

}  // namespace

std::unique_ptr<RequestSender> MakeHealthSender(ChannelPool& pool, double timeout_s) {
  return std::make_unique<HealthSender>(pool, timeout_s);
}

}  // namespace textclf::loadgen
