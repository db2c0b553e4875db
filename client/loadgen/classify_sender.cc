// Classify requests: prepared once per distinct batch and shared read-only by every call, so the
// client spends its time on the wire rather than on copying texts.
#include <vector>

#include "client/loadgen/senders.h"

namespace textclf::loadgen {
namespace {

class ClassifySender : public RequestSender {
 public:
  ClassifySender(ChannelPool& pool, const Workload& workload, const SenderSettings& settings)
      : pool_(pool), timeout_s_(settings.timeout_s) {
    const size_t batches = workload.DistinctBatches(settings.batch_size);
    requests_.resize(batches);
    for (size_t b = 0; b < batches; ++b) {
      v1::ClassifyRequest& request = requests_[b];
      request.set_model(settings.model);
      request.set_version(settings.version);
      request.set_priority(settings.priority);
      for (size_t i : workload.BatchIndices(b, settings.batch_size)) request.add_texts(workload.texts[i]);
    }
  }

  void Send(uint64_t sequence, OutcomeCallback done) override {
    Start(requests_[sequence % requests_.size()], pool_.NextIndex(), pool_.size() - 1, std::move(done));
  }

  void CancelAll() override { in_flight_.CancelAll(); }

 private:
  // A replica refuses calls with UNAVAILABLE before running them (it is draining, or gone), and
  // Classify changes nothing, so such a call moves on to the next target, at most once per
  // endpoint: stopping one replica costs the client no request.
  void Start(const v1::ClassifyRequest& request, size_t index, size_t retries_left, OutcomeCallback done) {
    struct Call {
      grpc::ClientContext context;
      v1::ClassifyResponse response;
    };
    auto* call = new Call;
    call->context.set_deadline(DeadlineAfter(timeout_s_));
    in_flight_.Add(&call->context);
    const int texts = request.texts_size();
    pool_.at(index).stub->async()->Classify(
        &call->context, &request, &call->response,
        [this, call, texts, &request, index, retries_left, done = std::move(done)](grpc::Status status) mutable {
          if (status.error_code() == grpc::StatusCode::UNAVAILABLE && retries_left > 0) {
            in_flight_.Remove(&call->context);
            delete call;
            Start(request, (index + 1) % pool_.size(), retries_left - 1, std::move(done));
            return;
          }
          Outcome outcome;
          outcome.code = status.error_code();
          outcome.texts = texts;
          if (status.ok()) {
            outcome.queue_us = call->response.queue_us();
            outcome.compute_us = call->response.compute_us();
          }
          in_flight_.Remove(&call->context);
          delete call;
          done(outcome);
        });
  }

  ChannelPool& pool_;
  const double timeout_s_;
  std::vector<v1::ClassifyRequest> requests_;
  InFlightCalls in_flight_;
};

}  // namespace

std::unique_ptr<RequestSender> MakeClassifySender(ChannelPool& pool, const Workload& workload,
                                                  const SenderSettings& settings) {
  return std::make_unique<ClassifySender>(pool, workload, settings);
}

}  // namespace textclf::loadgen
