// The Open Inference Protocol over gRPC, through the real server beside textclf.v1.Classifier:
// ModelInfer answers what Classify answers (contents and raw encodings), readiness follows the
// models, and requests the protocol or textclf cannot take get INVALID_ARGUMENT or NOT_FOUND.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "inference/grpc_predict_v2.grpc.pb.h"
#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class OipGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CopyFixtureModels(kZestGood, root_.path()));
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
    oip_ = inference::GRPCInferenceService::NewStub(server_->channel());
    texts_ = ClickbaitTestSlice(20).texts;
  }

  inference::ModelInferRequest TextRequest(bool raw) {
    inference::ModelInferRequest request;
    request.set_model_name("good");
    request.set_id("req-7");
    auto* input = request.add_inputs();
    input->set_name("text");
    input->set_datatype("BYTES");
    input->add_shape(static_cast<int64_t>(texts_.size()));
    std::string bytes;
    for (const std::string& text : texts_) {
      if (raw) {
        const uint32_t length = static_cast<uint32_t>(text.size());
        bytes.append(reinterpret_cast<const char*>(&length), sizeof(length));
        bytes += text;
      } else {
        input->mutable_contents()->add_bytes_contents(text);
      }
    }
    if (raw) request.add_raw_input_contents(bytes);
    return request;
  }

  grpc::Status Infer(const inference::ModelInferRequest& request, inference::ModelInferResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return oip_->ModelInfer(&context, request, response);
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> oip_;
  std::vector<std::string> texts_;
};

const inference::ModelInferResponse::InferOutputTensor* Output(const inference::ModelInferResponse& r,
                                                               const std::string& name) {
  for (const auto& o : r.outputs()) {
    if (o.name() == name) return &o;
  }
  return nullptr;
}

TEST_F(OipGrpcTest, ModelInferAnswersWhatClassifyAnswers) {
  v1::ClassifyRequest classify;
  classify.set_model("good");
  for (const auto& t : texts_) classify.add_texts(t);
  classify.set_all_scores(true);
  ClassifyCall native = Classify(server_->stub(), classify);
  ASSERT_TRUE(native.status.ok()) << Describe(native.status);

  inference::ModelInferRequest request = TextRequest(/*raw=*/false);
  request.add_outputs()->set_name("label");
  request.add_outputs()->set_name("probability");
  request.add_outputs()->set_name("probabilities");
  inference::ModelInferResponse response;
  grpc::Status status = Infer(request, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(response.model_name(), "good");
  EXPECT_EQ(response.model_version(), std::to_string(native.response.version()));
  EXPECT_EQ(response.id(), "req-7");
  const auto* label = Output(response, "label");
  const auto* probability = Output(response, "probability");
  const auto* probabilities = Output(response, "probabilities");
  ASSERT_TRUE(label && probability && probabilities);
  EXPECT_EQ(label->datatype(), "BYTES");
  EXPECT_THAT(label->shape(), ElementsAre(static_cast<int64_t>(texts_.size())));
  EXPECT_THAT(probabilities->shape(), ElementsAre(static_cast<int64_t>(texts_.size()), 2));
  ASSERT_EQ(label->contents().bytes_contents_size(), native.response.predictions_size());
  for (int i = 0; i < native.response.predictions_size(); ++i) {
    const v1::Prediction& p = native.response.predictions(i);
    EXPECT_EQ(label->contents().bytes_contents(i), p.label());
    EXPECT_FLOAT_EQ(probability->contents().fp32_contents(i), static_cast<float>(p.confidence()));
    for (int c = 0; c < 2; ++c) {
      EXPECT_FLOAT_EQ(probabilities->contents().fp32_contents(i * 2 + c), static_cast<float>(p.all_scores(c).probability()));
    }
  }

  // The raw encoding, answered raw.
  inference::ModelInferResponse raw;
  status = Infer(TextRequest(/*raw=*/true), &raw);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(raw.raw_output_contents_size(), 2) << "label and probability, the default outputs";
  const std::string& probs = raw.raw_output_contents(1);
  ASSERT_EQ(probs.size(), texts_.size() * sizeof(float));
  for (size_t i = 0; i < texts_.size(); ++i) {
    float p = 0;
    std::memcpy(&p, probs.data() + i * sizeof(float), sizeof(float));
    EXPECT_FLOAT_EQ(p, static_cast<float>(native.response.predictions(static_cast<int>(i)).confidence()));
  }

  // Counted with the model's requests, as Classify's are: one Classify and two ModelInfer calls.
  grpc::ClientContext stats_context;
  v1::ModelStatisticsRequest stats_request;
  stats_request.set_model("good");
  v1::ModelStatisticsResponse stats;
  ASSERT_TRUE(server_->stub().ModelStatistics(&stats_context, stats_request, &stats).ok());
  ASSERT_EQ(stats.versions_size(), 1);
  EXPECT_EQ(stats.versions(0).requests_by_code().at("OK"), 3);
  EXPECT_EQ(stats.versions(0).inferences(), 3 * static_cast<int64_t>(texts_.size()));
}

TEST_F(OipGrpcTest, ReadinessAndMetadataFollowTheModels) {
  grpc::ClientContext live_context;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(oip_->ServerLive(&live_context, {}, &live).ok());
  EXPECT_TRUE(live.live());

  auto model_ready = [&](const std::string& version) {
    grpc::ClientContext context;
    inference::ModelReadyRequest request;
    request.set_name("good");
    request.set_version(version);
    inference::ModelReadyResponse response;
    grpc::Status status = oip_->ModelReady(&context, request, &response);
    EXPECT_TRUE(status.ok()) << Describe(status);
    return response.ready();
  };
  EXPECT_TRUE(model_ready(""));
  grpc::ClientContext metadata_context;
  inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name("good");
  inference::ModelMetadataResponse metadata;
  ASSERT_TRUE(oip_->ModelMetadata(&metadata_context, metadata_request, &metadata).ok());
  EXPECT_EQ(metadata.platform(), "textclf_zest");
  ASSERT_EQ(metadata.inputs_size(), 1);
  EXPECT_EQ(metadata.inputs(0).name(), "text");
  EXPECT_EQ(metadata.inputs(0).datatype(), "BYTES");
  EXPECT_EQ(metadata.classes_size(), 2);

  ASSERT_TRUE(UnloadModel(server_->stub(), "good", 0).status.ok());
  EXPECT_FALSE(model_ready(""));
  grpc::ClientContext unknown_context;
  inference::ModelReadyRequest unknown;
  unknown.set_name("nothing-here");
  inference::ModelReadyResponse unknown_response;
  EXPECT_EQ(oip_->ModelReady(&unknown_context, unknown, &unknown_response).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext load_context;
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("good");
  inference::RepositoryModelLoadResponse loaded;
  ASSERT_TRUE(oip_->RepositoryModelLoad(&load_context, load, &loaded).ok());
  EXPECT_TRUE(model_ready(""));
}

TEST_F(OipGrpcTest, RefusesWhatItCannotTakeSayingWhatToChange) {
  inference::ModelInferResponse response;
  inference::ModelInferRequest wrong_type = TextRequest(false);
  wrong_type.mutable_inputs(0)->set_datatype("INT64");
  grpc::Status status = Infer(wrong_type, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("BYTES (texts)"));

  inference::ModelInferRequest wrong_shape = TextRequest(false);
  wrong_shape.mutable_inputs(0)->set_shape(0, 3);
  status = Infer(wrong_shape, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("bytes_contents"));

  inference::ModelInferRequest bad_raw = TextRequest(true);
  bad_raw.mutable_raw_input_contents(0)->resize(7);
  status = Infer(bad_raw, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("raw_input_contents"));

  inference::ModelInferRequest unknown = TextRequest(false);
  unknown.set_model_name("nothing-here");
  EXPECT_EQ(Infer(unknown, &response).error_code(), grpc::StatusCode::NOT_FOUND);

  inference::ModelInferRequest bad_text = TextRequest(false);
  bad_text.mutable_inputs(0)->mutable_contents()->set_bytes_contents(0, std::string("\xff\xfe", 2));
  status = Infer(bad_text, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "Classify's own UTF-8 check";

  inference::ModelInferRequest image_for_text = TextRequest(false);
  auto* input = image_for_text.mutable_inputs(0);
  input->Clear();
  input->set_name("image");
  input->set_datatype("FP32");
  for (int64_t d : {1, 1, 2, 2}) input->add_shape(d);
  for (int i = 0; i < 4; ++i) input->mutable_contents()->add_fp32_contents(0.5f);
  status = Infer(image_for_text, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
}

}  // namespace
}  // namespace textclf::testing
