// The Open Inference Protocol's tensors as Classify requests and back, without a server: the
// encodings, the shapes, and every refusal naming what to change.
#include "server/oip/oip_tensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace textclf::server::oip {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::ServerLimits Limits() {
  v1::ServerLimits limits;
  limits.set_max_texts_per_request(8);
  limits.set_max_text_bytes(1024);
  return limits;
}

std::string LengthPrefixed(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    const uint32_t n = static_cast<uint32_t>(s.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof(n));
    out += s;
  }
  return out;
}

inference::ModelInferRequest Texts(const std::vector<std::string>& texts, std::vector<int64_t> shape = {}) {
  inference::ModelInferRequest r;
  r.set_model_name("m");
  auto* input = r.add_inputs();
  input->set_name("text");
  input->set_datatype("BYTES");
  if (shape.empty()) shape = {static_cast<int64_t>(texts.size())};
  for (int64_t d : shape) input->add_shape(d);
  for (const auto& t : texts) input->mutable_contents()->add_bytes_contents(t);
  return r;
}

TEST(OipTensors, TextsInContentsOrRawBecomeTheSameClassifyRequest) {
  Outputs outputs;
  auto from_contents = ToClassifyRequest(Texts({"a b", "c"}), Limits(), &outputs);
  ASSERT_TRUE(from_contents.ok()) << from_contents.status();
  EXPECT_THAT(from_contents->texts(), ElementsAre("a b", "c"));
  EXPECT_TRUE(outputs.label && outputs.probability && !outputs.probabilities);

  inference::ModelInferRequest raw = Texts({});
  raw.mutable_inputs(0)->clear_contents();
  raw.mutable_inputs(0)->set_shape(0, 2);
  raw.add_raw_input_contents(LengthPrefixed({"a b", "c"}));
  auto from_raw = ToClassifyRequest(raw, Limits(), &outputs);
  ASSERT_TRUE(from_raw.ok()) << from_raw.status();
  EXPECT_THAT(from_raw->texts(), ElementsAre("a b", "c"));

  auto column = ToClassifyRequest(Texts({"x", "y"}, {2, 1}), Limits(), &outputs);
  EXPECT_TRUE(column.ok()) << "[N, 1] is taken like [N]";
}

TEST(OipTensors, ImagesSplitIntoOneTensorEach) {
  inference::ModelInferRequest r;
  r.set_model_name("m");
  r.set_model_version("3");
  auto* input = r.add_inputs();
  input->set_name("image");
  input->set_datatype("UINT8");
  for (int64_t d : {2, 1, 2, 2}) input->add_shape(d);
  for (uint32_t v : {1, 2, 3, 4, 5, 6, 7, 8}) input->mutable_contents()->add_uint_contents(v);
  Outputs outputs;
  auto request = ToClassifyRequest(r, Limits(), &outputs);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->version(), 3);
  ASSERT_EQ(request->tensors_size(), 2);
  EXPECT_THAT(request->tensors(1).shape(), ElementsAre(1, 2, 2));
  EXPECT_EQ(request->tensors(1).dtype(), v1::UINT8);
  EXPECT_EQ(request->tensors(1).data(), std::string("\x05\x06\x07\x08", 4));

  input->set_datatype("FP32");
  input->clear_contents();
  for (int i = 0; i < 8; ++i) input->mutable_contents()->add_fp32_contents(0.25f * i);
  request = ToClassifyRequest(r, Limits(), &outputs);
  ASSERT_TRUE(request.ok()) << request.status();
  float second = 0;
  std::memcpy(&second, request->tensors(0).data().data() + sizeof(float), sizeof(float));
  EXPECT_FLOAT_EQ(second, 0.25f);
}

TEST(OipTensors, RefusalsSayWhatToChange) {
  Outputs outputs;
  auto message = [&](const inference::ModelInferRequest& r) {
    auto result = ToClassifyRequest(r, Limits(), &outputs);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(result.status().message());
  };
  EXPECT_THAT(message(Texts({"a"}, {2})), HasSubstr("has shape [2] but 1 data elements (bytes_contents"));
  EXPECT_THAT(message(Texts({"a"}, {1, 2})), HasSubstr("[N] or [N, 1]"));
  EXPECT_THAT(message(Texts(std::vector<std::string>(9, "a"))), HasSubstr("max_texts_per_request"));
  inference::ModelInferRequest version = Texts({"a"});
  version.set_model_version("latest");
  EXPECT_THAT(message(version), HasSubstr("not a version number"));
  inference::ModelInferRequest output = Texts({"a"});
  output.add_outputs()->set_name("logits");
  EXPECT_THAT(message(output), HasSubstr("unknown output \"logits\""));
  inference::ModelInferRequest two = Texts({"a"});
  *two.add_inputs() = two.inputs(0);
  EXPECT_THAT(message(two), HasSubstr("has 2 inputs"));
  inference::ModelInferRequest both = Texts({"a"});
  both.add_raw_input_contents(LengthPrefixed({"a"}));
  EXPECT_THAT(message(both), HasSubstr("one or the other"));
  inference::ModelInferRequest lying = Texts({});
  lying.mutable_inputs(0)->clear_contents();
  lying.mutable_inputs(0)->set_shape(0, 1);
  std::string claim = LengthPrefixed({"abc"});
  claim[0] = 100;  // claims 100 bytes, has 3
  lying.add_raw_input_contents(claim);
  EXPECT_THAT(message(lying), HasSubstr("claims 100 bytes"));
  inference::ModelInferRequest huge;
  huge.set_model_name("m");
  auto* image = huge.add_inputs();
  image->set_datatype("FP32");
  for (int64_t d : {int64_t{1}, int64_t{1} << 40, int64_t{1} << 40, int64_t{1}}) image->add_shape(d);
  EXPECT_THAT(message(huge), HasSubstr("too large"));
  inference::ModelInferRequest negative = huge;
  negative.mutable_inputs(0)->set_shape(1, -3);
  EXPECT_THAT(message(negative), HasSubstr("negative dimension"));
}

TEST(OipTensors, TheResponseCarriesTheRequestedOutputsInTheRequestsEncoding) {
  v1::ClassifyResponse classified;
  classified.set_model("m");
  classified.set_version(4);
  for (const char* label : {"spam", "ham"}) {
    auto* p = classified.add_predictions();
    p->set_label(label);
    p->set_confidence(0.75);
    for (double q : {0.75, 0.25}) p->add_all_scores()->set_probability(q);
  }
  inference::ModelInferRequest request = Texts({"x", "y"});
  request.set_id("abc");
  Outputs outputs{true, false, true};
  inference::ModelInferResponse response;
  ToModelInferResponse(request, classified, outputs, &response);
  EXPECT_EQ(response.model_version(), "4");
  EXPECT_EQ(response.id(), "abc");
  ASSERT_EQ(response.outputs_size(), 2);
  EXPECT_THAT(response.outputs(0).contents().bytes_contents(), ElementsAre("spam", "ham"));
  EXPECT_THAT(response.outputs(1).shape(), ElementsAre(2, 2));
  EXPECT_THAT(response.outputs(1).contents().fp32_contents(), ElementsAre(0.75f, 0.25f, 0.75f, 0.25f));

  request.add_raw_input_contents("anything");
  inference::ModelInferResponse raw;
  ToModelInferResponse(request, classified, outputs, &raw);
  ASSERT_EQ(raw.raw_output_contents_size(), 2);
  EXPECT_EQ(raw.raw_output_contents(0), LengthPrefixed({"spam", "ham"}));
  EXPECT_EQ(raw.raw_output_contents(1).size(), 4 * sizeof(float));
  EXPECT_FALSE(raw.outputs(0).has_contents());
}

}  // namespace
}  // namespace textclf::server::oip
