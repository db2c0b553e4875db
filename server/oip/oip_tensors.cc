#include "server/oip/oip_tensors.h"

#include <bit>
#include <cstring>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace textclf::server::oip {
namespace {

// Tensor data is little-endian on the wire and in textclf's Tensor; copying it as is needs a
// little-endian host (every platform textclf is built for).
static_assert(std::endian::native == std::endian::little, "oip_tensors copies little-endian data as is");

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

std::string ShapeText(const google::protobuf::RepeatedField<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// The product of the dimensions, refusing negative ones and products past `limit`.
absl::StatusOr<int64_t> ElementCount(const google::protobuf::RepeatedField<int64_t>& shape, int64_t limit) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) return Invalid(absl::StrCat("shape ", ShapeText(shape), " has a negative dimension"));
    if (d != 0 && count > limit / d) return Invalid(absl::StrCat("shape ", ShapeText(shape), " is too large"));
    count *= d;
  }
  return count;
}

absl::Status ParseOutputs(const inference::ModelInferRequest& request, Outputs* outputs) {
  if (request.outputs().empty()) return absl::OkStatus();  // the defaults
  *outputs = Outputs{false, false, false};
  for (const auto& out : request.outputs()) {
    if (out.name() == kLabelOutput) {
      outputs->label = true;
    } else if (out.name() == kProbabilityOutput) {
      outputs->probability = true;
    } else if (out.name() == kProbabilitiesOutput) {
      outputs->probabilities = true;
    } else {
      return Invalid(absl::StrCat("unknown output \"", out.name().substr(0, 64), "\"; the outputs are ", kLabelOutput,
                                  ", ", kProbabilityOutput, " and ", kProbabilitiesOutput));
    }
  }
  return absl::OkStatus();
}

// BYTES elements of a raw buffer: each a 4-byte little-endian length and that many bytes.
absl::Status SplitRawBytes(const std::string& raw, int64_t count, v1::ClassifyRequest* out) {
  size_t at = 0;
  for (int64_t i = 0; i < count; ++i) {
    uint32_t length = 0;
    if (raw.size() - at < sizeof(length)) {
      return Invalid(absl::StrCat("raw_input_contents ends inside element ", i, " of ", count));
    }
    std::memcpy(&length, raw.data() + at, sizeof(length));
    at += sizeof(length);
    if (raw.size() - at < length) {
      return Invalid(absl::StrCat("raw_input_contents element ", i, " claims ", length, " bytes; fewer are left"));
    }
    out->add_texts(raw.substr(at, length));
    at += length;
  }
  if (at != raw.size()) return Invalid("raw_input_contents has bytes after the last element the shape allows");
  return absl::OkStatus();
}

absl::Status AddTexts(const inference::ModelInferRequest::InferInputTensor& input, const std::string* raw,
                      const v1::ServerLimits& limits, v1::ClassifyRequest* out) {
  const auto& shape = input.shape();
  if (!(shape.size() == 1 || (shape.size() == 2 && shape[1] == 1))) {
    return Invalid(absl::StrCat("input \"", input.name().substr(0, 64), "\" has shape ", ShapeText(shape),
                                "; texts are BYTES of shape [N] or [N, 1]"));
  }
  if (shape[0] < 0 || shape[0] > limits.max_texts_per_request()) {
    return Invalid(absl::StrCat("input \"", input.name().substr(0, 64), "\" holds ", shape[0], " texts; at most ",
                                limits.max_texts_per_request(), " (max_texts_per_request in the server config)"));
  }
  const int64_t n = shape[0];
  if (raw != nullptr) return SplitRawBytes(*raw, n, out);
  if (input.contents().bytes_contents_size() != n) {
    return Invalid(absl::StrCat("input \"", input.name().substr(0, 64), "\" has shape ", ShapeText(shape), " but ",
                                input.contents().bytes_contents_size(), " data elements (bytes_contents; JSON \"data\")"));
  }
  for (const std::string& text : input.contents().bytes_contents()) out->add_texts(text);
  return absl::OkStatus();
}

absl::Status AddImages(const inference::ModelInferRequest::InferInputTensor& input, const std::string* raw,
                       const v1::ServerLimits& limits, v1::ClassifyRequest* out) {
  const auto& shape = input.shape();
  const bool fp32 = input.datatype() == "FP32";
  if (shape.size() != 4) {
    return Invalid(absl::StrCat("input \"", input.name().substr(0, 64), "\" has shape ", ShapeText(shape),
                                "; images are ", input.datatype(), " of shape [N, C, H, W]"));
  }
  if (shape[0] > limits.max_texts_per_request()) {
    return Invalid(absl::StrCat("input \"", input.name().substr(0, 64), "\" holds ", shape[0], " images; at most ",
                                limits.max_texts_per_request(), " (max_texts_per_request in the server config)"));
  }
  const size_t element_bytes = fp32 ? sizeof(float) : 1;
  // The request already fits in memory, so its element count cannot pass a message's size.
  absl::StatusOr<int64_t> total = ElementCount(shape, std::numeric_limits<int32_t>::max());
  if (!total.ok()) return total.status();
  const int64_t n = shape[0];
  const size_t image_bytes = n == 0 ? 0 : static_cast<size_t>(*total / n) * element_bytes;
  std::string data;
  if (raw != nullptr) {
    if (raw->size() != static_cast<size_t>(*total) * element_bytes) {
      return Invalid(absl::StrCat("raw_input_contents of \"", input.name().substr(0, 64), "\" has ", raw->size(),
                                  " bytes; shape ", ShapeText(shape), " of ", input.datatype(), " needs ",
                                  static_cast<size_t>(*total) * element_bytes));
    }
    data = *raw;
  } else if (fp32) {
    if (input.contents().fp32_contents_size() != *total) {
      return Invalid(absl::StrCat("input \"", input.name().substr(0, 64), "\" has shape ", ShapeText(shape), " but ",
                                  input.contents().fp32_contents_size(), " data elements (fp32_contents; JSON \"data\")"));
    }
    data.resize(static_cast<size_t>(*total) * sizeof(float));
    if (!data.empty()) std::memcpy(data.data(), input.contents().fp32_contents().data(), data.size());
  } else {
    if (input.contents().uint_contents_size() != *total) {
      return Invalid(absl::StrCat("input \"", input.name().substr(0, 64), "\" has shape ", ShapeText(shape), " but ",
                                  input.contents().uint_contents_size(), " data elements (uint_contents; JSON \"data\")"));
    }
    data.reserve(static_cast<size_t>(*total));
    for (uint32_t v : input.contents().uint_contents()) {
      if (v > 255) return Invalid(absl::StrCat("UINT8 input \"", input.name().substr(0, 64), "\" holds ", v));
      data.push_back(static_cast<char>(v));
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    v1::Tensor* tensor = out->add_tensors();
    tensor->set_dtype(fp32 ? v1::FLOAT32 : v1::UINT8);
    tensor->add_shape(shape[1]);
    tensor->add_shape(shape[2]);
    tensor->add_shape(shape[3]);
    tensor->set_data(data.substr(static_cast<size_t>(i) * image_bytes, image_bytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> ParseVersion(const std::string& version) {
  if (version.empty()) return 0;
  int64_t v = 0;
  if (version.size() > 18 || !absl::SimpleAtoi(version, &v) || v <= 0) {
    return Invalid(absl::StrCat("model_version \"", version.substr(0, 32),
                                "\" is not a version number; leave it empty for the latest loaded"));
  }
  return v;
}

absl::StatusOr<v1::ClassifyRequest> ToClassifyRequest(const inference::ModelInferRequest& request,
                                                      const v1::ServerLimits& limits, Outputs* outputs) {
  v1::ClassifyRequest out;
  out.set_model(request.model_name());
  absl::StatusOr<int64_t> version = ParseVersion(request.model_version());
  if (!version.ok()) return version.status();
  out.set_version(*version);
  *outputs = Outputs{};
  if (absl::Status s = ParseOutputs(request, outputs); !s.ok()) return s;
  out.set_all_scores(outputs->probabilities);
  if (request.inputs_size() != 1) {
    return Invalid(absl::StrCat("the request has ", request.inputs_size(),
                                " inputs; send one: \"text\" (BYTES [N]) or an image tensor (FP32 or UINT8 [N, C, H, W])"));
  }
  const auto& input = request.inputs(0);
  const std::string* raw = nullptr;
  if (request.raw_input_contents_size() > 0) {
    if (request.raw_input_contents_size() != request.inputs_size()) {
      return Invalid(absl::StrCat("raw_input_contents has ", request.raw_input_contents_size(),
                                  " entries; it needs one per input (", request.inputs_size(), ")"));
    }
    if (input.has_contents()) return Invalid("an input sent raw must have no contents; send one or the other");
    raw = &request.raw_input_contents(0);
  }
  if (input.datatype() == "BYTES") {
    if (absl::Status s = AddTexts(input, raw, limits, &out); !s.ok()) return s;
    return out;
  }
  if (input.datatype() == "FP32" || input.datatype() == "UINT8") {
    if (absl::Status s = AddImages(input, raw, limits, &out); !s.ok()) return s;
    return out;
  }
  return Invalid(absl::StrCat("input \"", input.name().substr(0, 64), "\" has datatype \"",
                              input.datatype().substr(0, 16),
                              "\"; textclf takes BYTES (texts) or FP32 and UINT8 (images)"));
}

void ToModelInferResponse(const inference::ModelInferRequest& request, const v1::ClassifyResponse& classified,
                          const Outputs& outputs, inference::ModelInferResponse* response) {
  response->set_model_name(classified.model());
  response->set_model_version(absl::StrCat(classified.version()));
  response->set_id(request.id());
  const bool raw = request.raw_input_contents_size() > 0;  // answered the way it asked
  const int64_t n = classified.predictions_size();
  if (outputs.label) {
    auto* t = response->add_outputs();
    t->set_name(kLabelOutput);
    t->set_datatype("BYTES");
    t->add_shape(n);
    std::string bytes;
    for (const auto& p : classified.predictions()) {
      if (raw) {
        const uint32_t length = static_cast<uint32_t>(p.label().size());
        bytes.append(reinterpret_cast<const char*>(&length), sizeof(length));
        bytes += p.label();
      } else {
        t->mutable_contents()->add_bytes_contents(p.label());
      }
    }
    if (raw) response->add_raw_output_contents(std::move(bytes));
  }
  auto add_floats = [&](const char* name, std::vector<float> values, int64_t cols) {
    auto* t = response->add_outputs();
    t->set_name(name);
    t->set_datatype("FP32");
    t->add_shape(n);
    if (cols > 0) t->add_shape(cols);
    if (raw) {
      std::string bytes(values.size() * sizeof(float), '\0');
      if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
      response->add_raw_output_contents(std::move(bytes));
    } else {
      t->mutable_contents()->mutable_fp32_contents()->Add(values.begin(), values.end());
    }
  };
  if (outputs.probability) {
    std::vector<float> values;
    values.reserve(static_cast<size_t>(n));
    for (const auto& p : classified.predictions()) values.push_back(static_cast<float>(p.confidence()));
    add_floats(kProbabilityOutput, std::move(values), 0);
  }
  if (outputs.probabilities) {
    const int64_t classes = n > 0 ? classified.predictions(0).all_scores_size() : 0;
    std::vector<float> values;
    values.reserve(static_cast<size_t>(n * classes));
    for (const auto& p : classified.predictions()) {
      for (const auto& s : p.all_scores()) values.push_back(static_cast<float>(s.probability()));
    }
    add_floats(kProbabilitiesOutput, std::move(values), classes);
  }
}

}  // namespace textclf::server::oip
