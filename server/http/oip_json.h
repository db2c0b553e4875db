// The HTTP port's JSON bodies in terms of the gRPC messages, both ways, so that the HTTP front
// door reuses the gRPC one's conversions (server/oip/oip_tensors.h) and Classify's one path:
//   POST /v2/models/NAME[/versions/V]/infer   the Open Inference Protocol's JSON: inputs with
//       "name", "shape", "datatype" and "data" (BYTES as JSON strings, FP32/UINT8 as numbers,
//       flat or nested row-major), "outputs" by name, "id" echoed;
//   POST /v1/models/NAME:classify             {"texts": ["...", ...]} with optional "version",
//       "top_k" and "all_scores", answered with textclf's ClassifyResponse.
// Bodies are read by a SAX parser straight into the messages: no document tree, so a hostile
// body costs about its own size, whatever its shape. No HTTP here, so that it is tested and
// fuzzed on its own.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "inference/grpc_predict_v2.pb.h"
#include "textclf/v1/service.pb.h"

namespace textclf::server::http {

// INVALID_ARGUMENT, saying where and what, for a body that is not JSON or not the protocol's
// request; what the protocol allows but textclf cannot serve is refused later, by
// oip::ToClassifyRequest, as for gRPC callers.
absl::StatusOr<inference::ModelInferRequest> ParseInferRequest(std::string_view body, std::string_view model,
                                                               std::string_view version);
std::string InferResponseJson(const inference::ModelInferResponse& response);

absl::StatusOr<v1::ClassifyRequest> ParseClassifyRequest(std::string_view body, std::string_view model);
// The response in protobuf's JSON mapping with the proto's field names (int64 fields as strings).
std::string ClassifyResponseJson(const v1::ClassifyResponse& response);

std::string ModelMetadataJson(const inference::ModelMetadataResponse& metadata);
std::string ServerMetadataJson(const inference::ServerMetadataResponse& metadata);
// The protocol's error body: {"error": "..."}.
std::string ErrorJson(std::string_view message);

}  // namespace textclf::server::http
