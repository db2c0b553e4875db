// Classify: validates the batch, runs it on the requested model version, and shapes the scores
// into predictions.
#include <algorithm>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/runtime/inference_request.h"
#include "server/classifier_service.h"
#include "server/grpc_status.h"
#include "server/request_validation.h"
#include "server/trace_context.h"

namespace textclf::server {

namespace {

void FillPrediction(const Model& model, const ScoreMatrix& out, size_t row, int top_k,
                    bool all_scores, v1::Prediction* prediction) {
  const size_t classes = out.cols;
  const float* scores = out.score_row(row);
  const float* probabilities = out.probability_row(row);
  const size_t best = out.Argmax(row);
  prediction->set_label(model.class_name(best));
  prediction->set_score(scores[best]);
  prediction->set_confidence(probabilities[best]);
  const size_t k = std::min<size_t>(classes, top_k <= 0 ? 1 : static_cast<size_t>(top_k));
  thread_local std::vector<size_t> order;
  order.resize(classes);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](size_t a, size_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); });
  for (size_t j = 0; j < k; ++j) {
    v1::ClassScore* cs = prediction->add_top();
    cs->set_label(model.class_name(order[j]));
    cs->set_score(scores[order[j]]);
    cs->set_probability(probabilities[order[j]]);
  }
  if (all_scores) {
    for (size_t c = 0; c < classes; ++c) {
      v1::ClassScore* cs = prediction->add_all_scores();
      cs->set_label(model.class_name(c));
      cs->set_score(scores[c]);
      cs->set_probability(probabilities[c]);
    }
  }
}

}  // namespace

std::string ClassifierService::NextRequestId(const std::string& trace_id) {
  static const uint64_t process_tag = std::random_device{}();
  // With a trace id the request id starts with it, so the id a client keeps finds its trace (and
  // the counter keeps it unique: one trace may hold many calls).
  if (!trace_id.empty()) return absl::StrCat(trace_id, "-", ++request_counter_);
  return absl::StrCat(absl::Hex(process_tag & 0xffffff, absl::kZeroPad6), "-", ++request_counter_);
}

grpc::ServerUnaryReactor* ClassifierService::Classify(grpc::CallbackServerContext* context,
                                                      const v1::ClassifyRequest* request,
                                                      v1::ClassifyResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  RunClassify(CallContext::Of(context), request, response, [reactor](const grpc::Status& status) { reactor->Finish(status); });
  return reactor;
}

CallContext CallContext::Of(grpc::CallbackServerContext* context) {
  CallContext call;
  call.deadline = context->deadline();
  call.is_cancelled = [context] { return context->IsCancelled(); };
  call.trace_id = TraceIdOf(*context);
  return call;
}

void ClassifierService::RunClassify(CallContext call, const v1::ClassifyRequest* request,
                                    v1::ClassifyResponse* response, std::function<void(const grpc::Status&)> finish) {
  auto fail = [&finish](const absl::Status& s) { finish(ToGrpcStatus(s)); };
  if (absl::Status s = ValidateRequest(*request, deps_.limits); !s.ok()) return fail(s);
  auto loaded = deps_.models->Find(request->model(), request->version());
  if (!loaded.ok()) return fail(loaded.status());
  std::shared_ptr<const Model> m = loaded->model;

  auto job = std::make_shared<runtime::InferenceRequest>();
  job->inputs.reserve(request->texts_size() + request->text_strings_size() + request->tensors_size());
  for (const std::string& text : request->texts()) job->inputs.push_back(ModelInput{text, nullptr});
  for (const std::string& text : request->text_strings()) job->inputs.push_back(ModelInput{text, nullptr});
  for (const v1::Tensor& tensor : request->tensors()) job->inputs.push_back(ModelInput{{}, &tensor});
  for (size_t i = 0; i < job->inputs.size(); ++i) {
    if (absl::Status s = m->ValidateInput(job->inputs[i]); !s.ok()) {
      return fail(absl::InvalidArgumentError(absl::StrCat("input ", i, ": ", std::string(s.message()))));
    }
  }

  job->priority = request->priority();
  if (call.deadline != std::chrono::system_clock::time_point::max()) {
    job->deadline = runtime::Clock::now() +
                    std::chrono::duration_cast<runtime::Clock::duration>(call.deadline - std::chrono::system_clock::now());
  }
  if (call.is_cancelled) job->is_cancelled = std::move(call.is_cancelled);
  job->trace_id = std::move(call.trace_id);
  // Runs on a runtime thread once every text is scored (or the request failed); the request and
  // response messages live until Finish.
  job->on_done = [this, finish, request, response, m](runtime::InferenceRequest& done) {
    if (!done.status.ok()) {
      finish(ToGrpcStatus(done.status));
      return;
    }
    response->set_model(m->name());
    response->set_version(m->version());
    response->set_request_id(NextRequestId(done.trace_id));
    response->set_queue_us(done.queue_us);
    response->set_compute_us(done.compute_us);
    runtime::PredictionLog::Entry entry{m->name(), m->version(), {}};
    entry.predicted.reserve(done.inputs.size());
    for (size_t i = 0; i < done.inputs.size(); ++i) {
      FillPrediction(*m, done.results, i, request->top_k(), request->all_scores(), response->add_predictions());
      entry.predicted.push_back(static_cast<int>(done.results.Argmax(i)));
    }
    if (deps_.predictions != nullptr) deps_.predictions->Record(response->request_id(), std::move(entry));
    finish(grpc::Status::OK);
  };
  if (absl::Status s = deps_.runtime->Enqueue(*loaded, job); !s.ok()) fail(s);
}

}  // namespace textclf::server
