// ModelInfer requests of the Open Inference Protocol (--protocol oip-grpc): the same texts and
// batches as Classify's, sent as a BYTES input "text", so the two front doors are measured side
// by side. Prepared once per distinct batch, like Classify's.
#include <vector>

#include "client/loadgen/senders.h"
#include "inference/grpc_predict_v2.grpc.pb.h"

namespace textclf::loadgen {
namespace {

class ModelInferSender : public RequestSender {
 public:
  ModelInferSender(ChannelPool& pool, const Workload& workload, const SenderSettings& settings)
      : pool_(pool), timeout_s_(settings.timeout_s) {
    for (size_t i = 0; i < pool.size(); ++i) stubs_.push_back(inference::GRPCInferenceService::NewStub(pool.at(i).channel));
    const size_t batches = workload.DistinctBatches(settings.batch_size);
    requests_.resize(batches);
    for (size_t b = 0; b < batches; ++b) {
      inference::ModelInferRequest& request = requests_[b];
      request.set_model_name(settings.model);
      if (settings.version > 0) request.set_model_version(std::to_string(settings.version));
      auto* input = request.add_inputs();
      input->set_name("text");
      input->set_datatype("BYTES");
      for (size_t i : workload.BatchIndices(b, settings.batch_size)) {
        input->mutable_contents()->add_bytes_contents(workload.texts[i]);
      }
      input->add_shape(input->contents().bytes_contents_size());
    }
  }

  void Send(uint64_t sequence, OutcomeCallback done) override {
    struct Call {
      grpc::ClientContext context;
      inference::ModelInferResponse response;
    };
    const inference::ModelInferRequest& request = requests_[sequence % requests_.size()];
    auto* call = new Call;
    call->context.set_deadline(DeadlineAfter(timeout_s_));
    in_flight_.Add(&call->context);
    const int texts = request.inputs(0).contents().bytes_contents_size();
    stubs_[pool_.NextIndex()]->async()->ModelInfer(&call->context, &request, &call->response,
                                                   [this, call, texts, done = std::move(done)](grpc::Status status) {
                                                     Outcome outcome;
                                                     outcome.code = status.error_code();
                                                     outcome.texts = texts;
                                                     in_flight_.Remove(&call->context);
                                                     delete call;
                                                     done(outcome);
                                                   });
  }

  void CancelAll() override { in_flight_.CancelAll(); }

 private:
  ChannelPool& pool_;
  const double timeout_s_;
  std::vector<std::unique_ptr<inference::GRPCInferenceService::Stub>> stubs_;
  std::vector<inference::ModelInferRequest> requests_;
  InFlightCalls in_flight_;
};

}  // namespace

std::unique_ptr<RequestSender> MakeModelInferSender(ChannelPool& pool, const Workload& workload,
                                                    const SenderSettings& settings) {
  return std::make_unique<ModelInferSender>(pool, workload, settings);
}

}  // namespace textclf::loadgen
