// Evaluate requests: one client stream per request carrying the EvaluateStart and one labelled
// batch, written through a callback reactor so that no thread waits on the stream.
#include <vector>

#include "client/loadgen/senders.h"

namespace textclf::loadgen {
namespace {

// One Evaluate call; deletes itself when gRPC reports it done.
class EvaluateCall : public grpc::ClientWriteReactor<v1::EvaluateRequest> {
 public:
  EvaluateCall(v1::Classifier::Stub& stub, const v1::EvaluateRequest& start, const v1::EvaluateRequest& batch,
               double timeout_s, InFlightCalls& in_flight, OutcomeCallback done)
      : start_(start), batch_(batch), in_flight_(in_flight), done_(std::move(done)) {
    context_.set_deadline(DeadlineAfter(timeout_s));
    in_flight_.Add(&context_);
    stub.async()->Evaluate(&context_, &response_, this);
    StartWrite(&start_);
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    // A failed write means the call is over; OnDone brings the status.
    if (ok && !sent_batch_) {
      sent_batch_ = true;
      StartWriteLast(&batch_, grpc::WriteOptions());
    }
  }

  void OnDone(const grpc::Status& status) override {
    Outcome outcome;
    outcome.code = status.error_code();
    outcome.texts = batch_.batch().examples_size();
    in_flight_.Remove(&context_);
    OutcomeCallback done = std::move(done_);
    delete this;
    done(outcome);
  }

 private:
  grpc::ClientContext context_;
  const v1::EvaluateRequest& start_;
  const v1::EvaluateRequest& batch_;
  v1::EvaluateResponse response_;
  InFlightCalls& in_flight_;
  OutcomeCallback done_;
  bool sent_batch_ = false;
};

class EvaluateSender : public RequestSender {
 public:
  EvaluateSender(ChannelPool& pool, const Workload& workload, const SenderSettings& settings)
      : pool_(pool), timeout_s_(settings.timeout_s) {
    v1::EvaluateStart* start = start_.mutable_start();
    start->set_model(settings.model);
    start->set_version(settings.version);
    start->set_dataset(settings.evaluate_dataset);
    const size_t batches = workload.DistinctBatches(settings.batch_size);
    batches_.resize(batches);
    for (size_t b = 0; b < batches; ++b) {
      v1::ExampleBatch* batch = batches_[b].mutable_batch();
      batch->set_split(v1::EVAL);
      for (size_t i : workload.BatchIndices(b, settings.batch_size)) {
        v1::Example* example = batch->add_examples();
        example->set_text(workload.texts[i]);
        if (i < workload.labels.size()) example->set_label(workload.labels[i]);
      }
    }
  }

  void Send(uint64_t sequence, OutcomeCallback done) override {
    new EvaluateCall(*pool_.Next().stub, start_, batches_[sequence % batches_.size()], timeout_s_, in_flight_,
                     std::move(done));
  }

  void CancelAll() override { in_flight_.CancelAll(); }

 private:
  ChannelPool& pool_;
  const double timeout_s_;
  v1::EvaluateRequest start_;
  std::vector<v1::EvaluateRequest> batches_;
  InFlightCalls in_flight_;
};

}  // namespace

std::unique_ptr<RequestSender> MakeEvaluateSender(ChannelPool& pool, const Workload& workload,
                                                  const SenderSettings& settings) {
  return std::make_unique<EvaluateSender>(pool, workload, settings);
}

}  // namespace textclf::loadgen
