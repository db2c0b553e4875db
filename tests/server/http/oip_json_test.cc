// The HTTP port's JSON bodies on their own: what the SAX readers take and refuse, and what the
// writers print.
#include "server/http/oip_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace textclf::server::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string ErrorOf(std::string_view body) {
  auto parsed = ParseInferRequest(body, "m", "");
  EXPECT_FALSE(parsed.ok()) << body;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(OipJson, ReadsTextsNestedDataImagesOutputsAndSkipsParameters) {
  auto texts = ParseInferRequest(R"({"id": "r1", "parameters": {"a": [1, {"b": null}], "c": true},
      "inputs": [{"name": "text", "shape": [2, 1], "datatype": "BYTES", "parameters": {"x": 1},
                  "data": [["caf\u00e9"], ["two"]]}],
      "outputs": [{"name": "probabilities", "parameters": {"binary_data": false}}]})",
                                 "news", "3");
  ASSERT_TRUE(texts.ok()) << texts.status();
  EXPECT_EQ(texts->model_name(), "news");
  EXPECT_EQ(texts->model_version(), "3");
  EXPECT_EQ(texts->id(), "r1");
  ASSERT_EQ(texts->inputs_size(), 1);
  EXPECT_THAT(texts->inputs(0).shape(), ElementsAre(2, 1));
  EXPECT_THAT(texts->inputs(0).contents().bytes_contents(), ElementsAre("caf\xc3\xa9", "two"));
  ASSERT_EQ(texts->outputs_size(), 1);
  EXPECT_EQ(texts->outputs(0).name(), "probabilities");

  auto image = ParseInferRequest(
      R"({"inputs": [{"name": "image", "shape": [1, 1, 2, 2], "datatype": "UINT8", "data": [[[[0, 7], [128, 255]]]]}]})",
      "m", "");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_THAT(image->inputs(0).contents().uint_contents(), ElementsAre(0, 7, 128, 255));
  auto floats = ParseInferRequest(
      R"({"inputs": [{"datatype": "FP32", "name": "image", "data": [0.5, -1, 2e3], "shape": [3]}]})", "m", "");
  ASSERT_TRUE(floats.ok()) << floats.status();
  EXPECT_THAT(floats->inputs(0).contents().fp32_contents(), ElementsAre(0.5f, -1.0f, 2000.0f));
}

TEST(OipJson, RefusesWhatIsNotTheProtocolsRequestSayingWhere) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("not JSON"));
  EXPECT_THAT(ErrorOf("{\"inputs\": [}"), HasSubstr("line 1"));
  EXPECT_THAT(ErrorOf("\"text\""), HasSubstr("JSON object"));
  EXPECT_THAT(ErrorOf(R"({"inputs": [{"name": "t", "shape": [1], "datatype": "BYTES", "data": ["a"]}]} trailing)"),
              HasSubstr("not JSON"));
  EXPECT_THAT(ErrorOf(R"({"input": []})"), HasSubstr("unknown key \"input\""));
  EXPECT_THAT(ErrorOf(R"({"inputs": [{"name": "t", "shape": [1], "data": ["a"]}]})"), HasSubstr("no \"datatype\""));
  EXPECT_THAT(ErrorOf(R"({"inputs": [{"name": "t", "shape": [-1], "datatype": "BYTES", "data": ["a"]}]})"),
              HasSubstr("integers >= 0"));
  EXPECT_THAT(ErrorOf(R"({"inputs": [{"name": "t", "shape": [1], "datatype": "UINT8", "data": [1.5]}]})"),
              HasSubstr("[0, 255]"));
  EXPECT_THAT(ErrorOf(R"({"inputs": [{"name": "t", "shape": [1], "datatype": "FP32", "data": ["a"]}]})"),
              HasSubstr("numbers, not strings"));
  EXPECT_THAT(ErrorOf(R"({"inputs": [{"name": "t", "shape": [1], "datatype": "BYTES", "data": [true]}]})"),
              HasSubstr("did not expect a boolean in \"data\""));
  EXPECT_THAT(ErrorOf(R"({"id": 7})"), HasSubstr("at \"id\""));
  // Nesting is bounded in data and in skipped parameters: deep input costs no recursion.
  const std::string deep_data = R"({"inputs": [{"name": "t", "shape": [1], "datatype": "BYTES", "data": )" +
                                std::string(9, '[') + "\"a\"" + std::string(9, ']') + "}]}";
  EXPECT_THAT(ErrorOf(deep_data), HasSubstr("deeper than 8"));
  std::string deep_parameters = "{\"parameters\": ";
  for (int i = 0; i < 100000; ++i) deep_parameters += "{\"a\": ";
  EXPECT_THAT(ErrorOf(deep_parameters), HasSubstr("deeper than 32"));
}

TEST(OipJson, ReadsClassifyBodiesStrictly) {
  auto ok = ParseClassifyRequest(R"({"texts": ["a", "b"], "top_k": 2, "all_scores": true, "version": 4})", "news");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->model(), "news");
  EXPECT_THAT(ok->text_strings(), ElementsAre("a", "b"));
  EXPECT_EQ(ok->top_k(), 2);
  EXPECT_TRUE(ok->all_scores());
  EXPECT_EQ(ok->version(), 4);
  for (const char* bad : {R"({"texts": "a"})", R"({"texts": [["a"]]})", R"({"top_k": -1})", R"({"version": 1.5})",
                          R"({"texts": ["a"], "model": "x"})", "[]", R"({"texts": [null]})"}) {
    EXPECT_FALSE(ParseClassifyRequest(bad, "news").ok()) << bad;
  }
}

TEST(OipJson, WritesValidJsonWhateverTheStrings) {
  inference::ModelInferResponse response;
  response.set_model_name("m\"1");
  response.set_model_version("2");
  auto* label = response.add_outputs();
  label->set_name("label");
  label->set_datatype("BYTES");
  label->add_shape(2);
  label->mutable_contents()->add_bytes_contents("caf\xc3\xa9");
  label->mutable_contents()->add_bytes_contents(std::string("\xff\n", 2));
  auto* probability = response.add_outputs();
  probability->set_name("probability");
  probability->set_datatype("FP32");
  probability->add_shape(2);
  probability->mutable_contents()->add_fp32_contents(0.1f);
  probability->mutable_contents()->add_fp32_contents(1.0f);
  const Json printed = Json::parse(InferResponseJson(response));
  EXPECT_EQ(printed["model_name"], "m\"1");
  EXPECT_FALSE(printed.contains("id")) << "no id asked, none echoed";
  EXPECT_EQ(printed["outputs"][0]["data"][0], "caf\xc3\xa9");
  EXPECT_EQ(printed["outputs"][0]["shape"], Json::array({2}));
  // The shortest text that reads back as the same float.
  EXPECT_EQ(printed["outputs"][1]["data"][0].get<float>(), 0.1f);
  EXPECT_NE(InferResponseJson(response).find("0.1,1"), std::string::npos) << InferResponseJson(response);
  EXPECT_EQ(Json::parse(ErrorJson("bad \"x\"\n"))["error"], "bad \"x\"\n");
}

}  // namespace
}  // namespace textclf::server::http
