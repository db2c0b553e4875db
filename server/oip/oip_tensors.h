// The Open Inference Protocol's tensors in terms of textclf's Classify, both ways: a
// ModelInferRequest becomes a ClassifyRequest (so both front doors share one path: validation,
// queues, limits), and the ClassifyResponse becomes the protocol's output tensors.
//   inputs:  "text"  BYTES [N] or [N, 1]             (text models)
//            any name FP32 or UINT8 [N, C, H, W]     (image models: N tensors [C, H, W])
//   outputs: "label" BYTES [N], "probability" FP32 [N] (the predicted class's), and, when
//            requested, "probabilities" FP32 [N, classes] in the model's class order.
// Each input's elements come from its `contents` or, for all inputs at once, from the request's
// raw_input_contents (little-endian; BYTES elements as a 4-byte little-endian length and the
// bytes), as the protocol requires. No gRPC here, so that it is tested and fuzzed on its own.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "inference/grpc_predict_v2.pb.h"
#include "textclf/v1/server_config.pb.h"
#include "textclf/v1/service.pb.h"

namespace textclf::server::oip {

inline constexpr char kTextInput[] = "text";
inline constexpr char kLabelOutput[] = "label";
inline constexpr char kProbabilityOutput[] = "probability";
inline constexpr char kProbabilitiesOutput[] = "probabilities";

// "" means the latest loaded version (0); otherwise a positive decimal number.
absl::StatusOr<int64_t> ParseVersion(const std::string& version);

// Which outputs the response carries.
struct Outputs {
  bool label = true;
  bool probability = true;
  bool probabilities = false;
};

// INVALID_ARGUMENT, saying what to change, for a request the protocol or textclf cannot take
// (unknown datatype or output, a shape that does not match the elements, more inputs than the
// server's max_texts_per_request). Texts are checked later by ValidateRequest, tensors by the
// model, exactly as Classify's.
absl::StatusOr<v1::ClassifyRequest> ToClassifyRequest(const inference::ModelInferRequest& request,
                                                      const v1::ServerLimits& limits, Outputs* outputs);

// The response of `request` (its id and model echoed) from what Classify answered.
void ToModelInferResponse(const inference::ModelInferRequest& request, const v1::ClassifyResponse& classified,
                          const Outputs& outputs, inference::ModelInferResponse* response);

}  // namespace textclf::server::oip
