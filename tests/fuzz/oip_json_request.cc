// Fuzzes the HTTP port's JSON bodies as the server takes them: an Open Inference Protocol infer
// body read by the SAX reader, turned into a Classify request and checked as Classify checks,
// answered with a made-up prediction per input and printed back as JSON; and the same bytes as
// a /v1 classify body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/http/oip_json.h"
#include "server/oip/oip_tensors.h"
#include "server/request_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  textclf::v1::ServerLimits limits;
  limits.set_max_texts_per_request(4096);
  limits.set_max_text_bytes(65536);
  if (auto classify = textclf::server::http::ParseClassifyRequest(body, "news"); classify.ok()) {
    (void)textclf::server::ValidateRequest(*classify, limits);
  }
  auto request = textclf::server::http::ParseInferRequest(body, "news", "");
  if (!request.ok()) {
    const auto message = request.status().message();
    (void)textclf::server::http::ErrorJson(std::string_view(message.data(), message.size()));
    return 0;
  }
  textclf::server::oip::Outputs outputs;
  auto classify = textclf::server::oip::ToClassifyRequest(*request, limits, &outputs);
  if (!classify.ok()) return 0;
  (void)textclf::server::ValidateRequest(*classify, limits);
  textclf::v1::ClassifyResponse classified;
  for (int i = 0; i < classify->texts_size() + classify->tensors_size(); ++i) {
    auto* p = classified.add_predictions();
    p->set_label("a\xff");  // invalid UTF-8 must still print as JSON
    p->set_confidence(0.5);
    if (classify->all_scores()) p->add_all_scores()->set_probability(0.5);
  }
  inference::ModelInferResponse response;
  textclf::server::oip::ToModelInferResponse(*request, classified, outputs, &response);
  (void)textclf::server::http::InferResponseJson(response);
  (void)textclf::server::http::ClassifyResponseJson(classified);
  return 0;
}
