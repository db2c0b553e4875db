// Fuzzes an Open Inference Protocol ModelInferRequest as the server takes it: the message parsed
// from the input bytes, turned into a Classify request (shapes, raw encodings, outputs), checked
// as Classify checks, and answered with a made-up prediction per input.
#include <cstddef>
#include <cstdint>

#include "server/oip/oip_tensors.h"
#include "server/request_validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  inference::ModelInferRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  textclf::v1::ServerLimits limits;
  limits.set_max_texts_per_request(4096);
  limits.set_max_text_bytes(65536);
  textclf::server::oip::Outputs outputs;
  auto classify = textclf::server::oip::ToClassifyRequest(request, limits, &outputs);
  if (!classify.ok()) return 0;
  (void)textclf::server::ValidateRequest(*classify, limits);
  textclf::v1::ClassifyResponse classified;
  for (int i = 0; i < classify->texts_size() + classify->tensors_size(); ++i) {
    auto* p = classified.add_predictions();
    p->set_label("a");
    p->set_confidence(0.5);
    if (classify->all_scores()) p->add_all_scores()->set_probability(0.5);
  }
  inference::ModelInferResponse response;
  textclf::server::oip::ToModelInferResponse(request, classified, outputs, &response);
  return 0;
}
