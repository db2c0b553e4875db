// Feedback: the true label of an earlier prediction feeds the model version's online accuracy.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/model/input_validation.h"
#include "core/runtime/inference_request.h"
#include "server/classifier_service.h"
#include "server/grpc_status.h"

namespace textclf::server {

grpc::Status ClassifierService::Feedback(grpc::ServerContext* context, const v1::FeedbackRequest* request,
                                         v1::FeedbackResponse* response) {
  if (request->true_label().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("true_label is empty; send the correct class"));
  }
  std::shared_ptr<const Model> model;
  int predicted = -1;
  if (!request->request_id().empty()) {
    auto entry = deps_.predictions->Find(request->request_id());
    if (!entry) {
      return ToGrpcStatus(absl::NotFoundError(absl::StrCat(
          "no recent prediction has request id \"", request->request_id(),
          "\"; it may be too old (feedback_log_texts in the server config), or send the text instead")));
    }
    if (request->index() < 0 || request->index() >= static_cast<int>(entry->predicted.size())) {
      return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
          "index ", request->index(), " is out of range: request ", request->request_id(), " had ",
          entry->predicted.size(), " texts")));
    }
    auto loaded = deps_.models->Get(entry->model, entry->version);
    if (!loaded.ok()) return ToGrpcStatus(loaded.status());
    model = *loaded;
    predicted = entry->predicted[request->index()];
    // The version answering now may not be the one that predicted (a repository written before
    // version numbers stopped being reused); a class index it does not have would read past
    // its class list.
    if (predicted < 0 || static_cast<size_t>(predicted) >= model->num_classes()) {
      return ToGrpcStatus(absl::FailedPreconditionError(absl::StrCat(
          "the prediction of request ", request->request_id(), " came from another model than the one now loaded as "
          "version ", entry->version, " of \"", entry->model, "\"; send the text instead")));
    }
  } else {
    if (absl::Status s = ValidateText(request->text(), deps_.limits.max_text_bytes(), "text"); !s.ok()) {
      return ToGrpcStatus(absl::InvalidArgumentError(
          absl::StrCat(std::string(s.message()), "; name a request_id or send the text")));
    }
    auto loaded = deps_.models->Find(request->model(), request->version());
    if (!loaded.ok()) return ToGrpcStatus(loaded.status());
    model = loaded->model;
    const ModelInput input{request->text(), nullptr};
    ScoreMatrix scores;
    if (absl::Status s = loaded->Score(std::span<const ModelInput>(&input, 1), v1::INTERACTIVE,
                                       [context] { return context->IsCancelled(); }, &scores);
        !s.ok()) {
      return ToGrpcStatus(s);
    }
    predicted = static_cast<int>(scores.Argmax(0));
  }
  const int truth = model->ClassIndex(request->true_label());
  if (truth < 0) {
    return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "true_label \"", request->true_label(), "\" is not a class of the model; its classes are ",
        absl::StrJoin(model->manifest().classes(), ", "))));
  }
  const bool correct = predicted == truth;
  const double accuracy = deps_.predictions->AddOutcome(model->name(), model->version(), correct);
  if (deps_.observer != nullptr) deps_.observer->OnFeedback(*model, correct, accuracy);
  response->set_model(model->name());
  response->set_version(model->version());
  response->set_predicted_label(model->class_name(predicted));
  response->set_correct(correct);
  response->set_online_accuracy(accuracy);
  return grpc::Status::OK;
}

}  // namespace textclf::server
