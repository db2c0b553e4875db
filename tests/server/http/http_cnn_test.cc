// The CNN families through both of the Open Inference Protocol's front doors (HTTP/JSON and
// gRPC): a text CNN's texts and an image CNN's UINT8 [N, C, H, W] tensors get what Classify
// answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "inference/grpc_predict_v2.grpc.pb.h"
#include "tests/server/http/http_test_client.h"
#include "tests/support/fashion_mnist.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

class HttpCnnTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new TempDir();
    ASSERT_TRUE(CopyFixtureModels(kQuantizableCnns, root_->path()));
    server_ = StartWithHttp(root_->path()).release();
    ASSERT_NE(server_, nullptr);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete root_;
  }
  static v1::ClassifyResponse Native(v1::ClassifyRequest request) {
    request.set_all_scores(true);
    ClassifyCall call = Classify(server_->stub(), request);
    EXPECT_TRUE(call.status.ok()) << Describe(call.status);
    return call.response;
  }
  // The same request through gRPC's ModelInfer, as JSON like the HTTP answer, to compare alike.
  static Json GrpcInfer(const inference::ModelInferRequest& request) {
    auto stub = inference::GRPCInferenceService::NewStub(server_->channel());
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    grpc::Status status = stub->ModelInfer(&context, request, &response);
    EXPECT_TRUE(status.ok()) << Describe(status);
    Json out = {{"outputs", Json::array()}};
    for (const auto& o : response.outputs()) {
      Json tensor = {{"name", o.name()}, {"datatype", o.datatype()}, {"shape", o.shape()}};
      if (o.datatype() == "BYTES") {
        tensor["data"] = std::vector<std::string>(o.contents().bytes_contents().begin(), o.contents().bytes_contents().end());
      } else {
        tensor["data"] = std::vector<float>(o.contents().fp32_contents().begin(), o.contents().fp32_contents().end());
      }
      out["outputs"].push_back(tensor);
    }
    return out;
  }
  static TempDir* root_;
  static TestServer* server_;
};

TempDir* HttpCnnTest::root_ = nullptr;
TestServer* HttpCnnTest::server_ = nullptr;

TEST_F(HttpCnnTest, ATextCnnAnswersWhatClassifyAnswers) {
  const std::vector<std::string> texts = ClickbaitTestSlice(8).texts;
  v1::ClassifyRequest request;
  request.set_model("headlines");
  for (const auto& t : texts) request.add_texts(t);
  const v1::ClassifyResponse native = Native(request);
  httplib::Client http("127.0.0.1", server_->server().http_port());
  HttpAnswer infer = Post(http, "/v2/models/headlines/infer", TextInferBody(texts, false).dump());
  ASSERT_EQ(infer.status, 200) << infer.body.dump();
  ExpectSamePredictions(infer.body, native);

  inference::ModelInferRequest grpc_request;
  grpc_request.set_model_name("headlines");
  auto* input = grpc_request.add_inputs();
  input->set_name("text");
  input->set_datatype("BYTES");
  input->add_shape(static_cast<int64_t>(texts.size()));
  for (const auto& t : texts) input->mutable_contents()->add_bytes_contents(t);
  for (const char* o : {"label", "probability", "probabilities"}) grpc_request.add_outputs()->set_name(o);
  ExpectSamePredictions(GrpcInfer(grpc_request), native);
}

TEST_F(HttpCnnTest, AnImageCnnTakesUint8TensorsAndAnswersWhatClassifyAnswers) {
  const Images images = FashionSlice("t10k", 0, 6);
  ASSERT_EQ(images.tensors.size(), 6u);
  v1::ClassifyRequest request;
  request.set_model("fashion");
  for (const auto& t : images.tensors) *request.add_tensors() = t;
  const v1::ClassifyResponse native = Native(request);

  const v1::Tensor& first = images.tensors[0];
  ASSERT_EQ(first.dtype(), v1::UINT8);
  Json shape = Json::array({images.tensors.size()});
  for (int64_t d : first.shape()) shape.push_back(d);
  Json pixels = Json::array();
  for (const auto& t : images.tensors) {
    for (unsigned char byte : t.data()) pixels.push_back(static_cast<int>(byte));
  }
  Json body = {{"inputs", Json::array({{{"name", "image"}, {"shape", shape}, {"datatype", "UINT8"}, {"data", pixels}}})},
               {"outputs", Json::array({{{"name", "label"}}, {{"name", "probability"}}, {{"name", "probabilities"}}})}};
  httplib::Client http("127.0.0.1", server_->server().http_port());
  HttpAnswer infer = Post(http, "/v2/models/fashion/infer", body.dump());
  ASSERT_EQ(infer.status, 200) << infer.body.dump();
  ExpectSamePredictions(infer.body, native);

  // The same images as UINT8 through gRPC.
  inference::ModelInferRequest grpc_request;
  grpc_request.set_model_name("fashion");
  auto* input = grpc_request.add_inputs();
  input->set_name("image");
  input->set_datatype("UINT8");
  for (const Json& d : shape) input->add_shape(d.get<int64_t>());
  for (const Json& p : pixels) input->mutable_contents()->add_uint_contents(p.get<uint32_t>());
  for (const char* o : {"label", "probability", "probabilities"}) grpc_request.add_outputs()->set_name(o);
  ExpectSamePredictions(GrpcInfer(grpc_request), native);

  // A pixel that is no byte is refused, saying so.
  body["inputs"][0]["data"][0] = 256;
  HttpAnswer bad = Post(http, "/v2/models/fashion/infer", body.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body["error"].get<std::string>(), HasSubstr("[0, 255]"));
}

}  // namespace
}  // namespace textclf::testing
