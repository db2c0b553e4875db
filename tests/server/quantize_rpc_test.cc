// Quantize through the real server: a TEXT_CNN trained on clickbait and a ResNet-8 trained on a
// slice of Fashion-MNIST are quantized to W8A8 and W4A8; the stored files, the predictions served
// by Classify and the report agree. Bad requests are refused clearly and leave nothing behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>
#include <thread>

#include "core/eval/calibration.h"
#include "tests/server/server_test_support.h"
#include "tests/support/fashion_mnist.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct QuantizeCall {
  grpc::Status status;
  bool got_result = false;
  v1::QuantizeResult result;
  std::vector<v1::TrainProgress> progress;
};

QuantizeCall Quantize(v1::Classifier::Stub& stub, const v1::QuantizeStart& start,
                      const std::vector<v1::ExampleBatch>& batches, bool cancel_on_progress = false) {
  QuantizeCall call;
  grpc::ClientContext context;
  auto stream = stub.Quantize(&context);
  v1::QuantizeRequest request;
  *request.mutable_start() = start;
  bool open = stream->Write(request);
  for (const auto& batch : batches) {
    if (!open) break;
    request.Clear();
    *request.mutable_batch() = batch;
    open = stream->Write(request);
  }
  stream->WritesDone();
  v1::QuantizeResponse response;
  while (stream->Read(&response)) {
    if (response.has_progress()) {
      call.progress.push_back(response.progress());
      if (cancel_on_progress) context.TryCancel();
    } else {
      call.result = response.result();
      call.got_result = true;
    }
  }
  call.status = stream->Finish();
  return call;
}

v1::ExampleBatch TextBatch(const Labeled& data, v1::Split split) {
  v1::ExampleBatch batch;
  batch.set_split(split);
  for (size_t i = 0; i < data.size(); ++i) {
    v1::Example* e = batch.add_examples();
    e->set_text(data.texts[i]);
    e->set_label(data.labels[i]);
  }
  return batch;
}

// What Classify serves for `request`'s inputs against the labels: accuracy and ECE.
struct Served {
  double accuracy = 0;
  double ece = 0;
  std::vector<std::string> labels;
};

Served Serve(v1::Classifier::Stub& stub, v1::ClassifyRequest request, const std::vector<std::string>& truth) {
  Served s;
  ClassifyCall call = Classify(stub, request);
  EXPECT_TRUE(call.status.ok()) << Describe(call.status);
  std::vector<double> confidence;
  std::vector<uint8_t> correct;
  for (int i = 0; i < call.response.predictions_size(); ++i) {
    const auto& p = call.response.predictions(i);
    s.labels.push_back(p.label());
    confidence.push_back(p.confidence());
    correct.push_back(p.label() == truth[static_cast<size_t>(i)] ? 1 : 0);
  }
  s.accuracy = correct.empty() ? 0 : std::accumulate(correct.begin(), correct.end(), 0.0) / correct.size();
  s.ece = eval::ComputeCalibration(confidence, correct, 15).ece;
  return s;
}

// One server for the suite, serving a copy of the TEXT_CNN and the ResNet-8 that CTest trained
// once for every test process.
class QuantizeRpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new TempDir();
    ASSERT_TRUE(CopyFixtureModels(kQuantizableCnns, root_->path()));
    server_ = TestServer::Start(root_->path()).release();
    ASSERT_NE(server_, nullptr);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete root_;
  }

  // ModelStatistics' account of how a served version computes.
  static std::string ExecutionOf(const std::string& name, int64_t version) {
    grpc::ClientContext context;
    v1::ModelStatisticsRequest request;
    request.set_model(name);
    v1::ModelStatisticsResponse response;
    EXPECT_TRUE(server_->stub().ModelStatistics(&context, request, &response).ok());
    for (const v1::VersionStatistics& v : response.versions()) {
      if (v.version() == version) return v.execution();
    }
    return "(not listed)";
  }

  static std::vector<int64_t> VersionsOf(const std::string& name) {
    auto info = GetModel(server_->stub(), name);
    return info.status.ok() ? Versions(info.response) : std::vector<int64_t>{};
  }

  // Stored files, served predictions and report agree for every variant of `result`.
  static void ExpectServedMatchesReport(const std::string& name, const v1::QuantizeResult& result,
                                        const v1::ClassifyRequest& inputs, const std::vector<std::string>& truth) {
    const v1::QuantizeReport& report = result.report();
    v1::ClassifyRequest request = inputs;
    request.set_model(name);
    request.set_version(report.source_version());
    const Served served_float = Serve(server_->stub(), request, truth);
    EXPECT_DOUBLE_EQ(served_float.accuracy, report.float_model().top1());
    EXPECT_EQ(ExecutionOf(name, report.source_version()), "float");
    ASSERT_EQ(report.variants_size(), result.versions_size());
    for (int v = 0; v < report.variants_size(); ++v) {
      const v1::VariantReport& r = report.variants(v);
      EXPECT_EQ(r.version(), result.versions(v));
      const fs::path weights = root_->path() / name / std::to_string(r.version()) / "weights.tcw";
      ASSERT_TRUE(fs::exists(weights)) << weights;
      EXPECT_EQ(fs::file_size(weights), r.file_bytes());
      const fs::path float_weights = root_->path() / name / std::to_string(report.source_version()) / "weights.tcw";
      EXPECT_NEAR(r.file_fraction(), static_cast<double>(r.file_bytes()) / fs::file_size(float_weights), 1e-12);
      EXPECT_LE(r.file_fraction(), r.weight_bits() == 8 ? 0.30 : 0.16) << r.label();
      request.set_version(r.version());
      const Served served = Serve(server_->stub(), request, truth);
      EXPECT_DOUBLE_EQ(served.accuracy, r.top1()) << r.label();
      // Served on int8 kernels, which the report evaluated too.
      EXPECT_THAT(ExecutionOf(name, r.version()), ::testing::StartsWith("int8 kernels (")) << r.label();
      EXPECT_NEAR(served.ece, r.ece_after_temperature(), 1e-5) << r.label();
      ASSERT_EQ(r.swaps_by_confidence_size(), 10);
      ASSERT_EQ(r.swap_rate_by_confidence_decile_size(), 10);
      int64_t swapped = 0;
      for (const auto& b : r.swaps_by_confidence()) swapped += b.swapped();
      EXPECT_EQ(swapped, r.swapped());
      // Swaps counted in the report are the served label changes.
      int64_t changed = 0;
      for (size_t i = 0; i < truth.size(); ++i) changed += served.labels[i] != served_float.labels[i] ? 1 : 0;
      EXPECT_EQ(changed, r.swapped()) << r.label();
    }
  }

  static TempDir* root_;
  static TestServer* server_;
};

TempDir* QuantizeRpcTest::root_ = nullptr;
TestServer* QuantizeRpcTest::server_ = nullptr;

v1::QuantizeStart Sweep(const std::string& model, std::vector<int> bits) {
  v1::QuantizeStart start;
  start.set_model(model);
  for (int b : bits) start.add_weight_bits(b);
  start.set_sweep(bits.size() > 1);
  return start;
}

TEST_F(QuantizeRpcTest, TextCnnW8A8AndW4A8AgreeAcrossFilesServingAndReport) {
  const Labeled calibration = ClickbaitSlice(150, 600);
  const Labeled eval = ClickbaitTestSlice(200);
  const std::vector<int64_t> before = VersionsOf("headlines");
  QuantizeCall call = Quantize(server_->stub(), Sweep("headlines", {8, 4}),
                               {TextBatch(calibration, v1::CALIBRATION), TextBatch(eval, v1::EVAL)});
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  ASSERT_TRUE(call.got_result);
  ASSERT_EQ(call.result.versions_size(), 2);
  EXPECT_EQ(VersionsOf("headlines").size(), before.size() + 2);
  const v1::QuantizeReport& report = call.result.report();
  EXPECT_EQ(report.dataset(), "eval");
  EXPECT_EQ(report.eval_examples(), 400);
  EXPECT_GE(report.float_model().top1(), 0.8);
  EXPECT_NEAR(report.variants(0).top1(), report.float_model().top1(), 0.02);
  EXPECT_EQ(report.variants(0).label(), "W8A8");
  EXPECT_EQ(report.variants(1).label(), "W4A8");
  bool quantize_progress = false;
  for (const auto& p : call.progress) quantize_progress |= p.stage() == "quantize";
  EXPECT_TRUE(quantize_progress);
  v1::ClassifyRequest request;
  for (const auto& t : eval.texts) request.add_texts(t);
  ExpectServedMatchesReport("headlines", call.result, request, eval.labels);
}

TEST_F(QuantizeRpcTest, ResNet8OnFashionMnistW8A8AndW4A8AgreeAcrossFilesServingAndReport) {
  const Images calibration = FashionSlice("train", 3000, 300);
  const Images eval = FashionSlice("t10k", 0, 400);
  std::vector<v1::ExampleBatch> batches = TensorBatches(calibration, v1::CALIBRATION);
  for (auto& b : TensorBatches(eval, v1::EVAL)) batches.push_back(std::move(b));
  QuantizeCall call = Quantize(server_->stub(), Sweep("fashion", {8, 4}), batches);
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  ASSERT_TRUE(call.got_result);
  const v1::QuantizeReport& report = call.result.report();
  EXPECT_GE(report.float_model().top1(), 0.6);
  ASSERT_TRUE(report.float_model().has_top5());
  EXPECT_GE(report.float_model().top5(), report.float_model().top1());
  EXPECT_NEAR(report.variants(0).top1(), report.float_model().top1(), 0.03);
  v1::ClassifyRequest request;
  for (const auto& t : eval.tensors) *request.add_tensors() = t;
  ExpectServedMatchesReport("fashion", call.result, request, eval.labels);
}

// Evaluate takes what the model's family takes: tensors for an image CNN, scored through the
// same queue as Classify, so its accuracy is what Classify serves on the same images.
TEST_F(QuantizeRpcTest, EvaluateTakesTensorsForAnImageModelAndAgreesWithClassify) {
  const Images eval = FashionSlice("t10k", 400, 200);
  EvaluateCall call = Evaluate(server_->stub(), "fashion", 1, "fashion_t10k", TensorBatches(eval, v1::TRAIN, 64));
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  EXPECT_EQ(call.response.metrics().examples(), 200);
  v1::ClassifyRequest request;
  request.set_model("fashion");
  request.set_version(1);
  for (const auto& t : eval.tensors) *request.add_tensors() = t;
  EXPECT_DOUBLE_EQ(call.response.metrics().accuracy(), Serve(server_->stub(), request, eval.labels).accuracy);

  EvaluateCall text = Evaluate(server_->stub(), "fashion", 1, "texts", {TextBatch(ClickbaitSlice(2), v1::EVAL)});
  EXPECT_EQ(text.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(text.status.error_message(), HasSubstr("example 1 has no tensor"));
}

TEST_F(QuantizeRpcTest, QuantizingAZestModelIsRefusedSayingWhichFamiliesApply) {
  TrainCall zest = Train(server_->stub(), ZestStart("zesty"), ClickbaitSlice(50));
  ASSERT_TRUE(zest.status.ok()) << Describe(zest.status);
  QuantizeCall call = Quantize(server_->stub(), Sweep("zesty", {8}), {TextBatch(ClickbaitSlice(10), v1::CALIBRATION)});
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(call.status);
  EXPECT_THAT(call.status.error_message(), HasSubstr("families (text_cnn, image_cnn)"));
  EXPECT_THAT(call.status.error_message(), HasSubstr("zest"));
  EXPECT_EQ(VersionsOf("zesty").size(), 1u);
}

TEST_F(QuantizeRpcTest, BadRequestsAreRefusedAndLeaveNothing) {
  const std::vector<int64_t> before = VersionsOf("fashion");
  const auto calibration = TensorBatches(FashionSlice("train", 3000, 20), v1::CALIBRATION);

  QuantizeCall bits = Quantize(server_->stub(), Sweep("fashion", {9}), calibration);
  EXPECT_EQ(bits.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bits.status.error_message(), HasSubstr("between 2 and 8, got 9"));

  QuantizeCall empty = Quantize(server_->stub(), Sweep("fashion", {8}), {});
  EXPECT_EQ(empty.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(empty.status.error_message(), HasSubstr("no CALIBRATION examples"));

  std::vector<v1::ExampleBatch> wrong_shape = calibration;
  v1::Tensor* t = wrong_shape[0].mutable_examples(1)->mutable_tensor();
  t->clear_shape();
  for (int d : {1, 14, 56}) t->add_shape(d);
  QuantizeCall shape = Quantize(server_->stub(), Sweep("fashion", {8}), wrong_shape);
  EXPECT_EQ(shape.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(shape.status.error_message(), HasSubstr("example 2"));
  EXPECT_THAT(shape.status.error_message(), HasSubstr("1x28x28"));

  std::vector<v1::ExampleBatch> wrong_dtype = calibration;
  wrong_dtype[0].mutable_examples(0)->mutable_tensor()->set_dtype(v1::FLOAT32);
  QuantizeCall dtype = Quantize(server_->stub(), Sweep("fashion", {8}), wrong_dtype);
  EXPECT_EQ(dtype.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(dtype.status.error_message(), HasSubstr("FLOAT32 needs 3136"));

  QuantizeCall text = Quantize(server_->stub(), Sweep("fashion", {8}), {TextBatch(ClickbaitSlice(2), v1::CALIBRATION)});
  EXPECT_EQ(text.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(text.status.error_message(), HasSubstr("has no tensor"));

  if (before.size() > 1) {  // the ResNet test published quantized versions after the float one
    v1::QuantizeStart again = Sweep("fashion", {8});
    again.set_version(before.back());
    QuantizeCall quantized = Quantize(server_->stub(), again, calibration);
    EXPECT_EQ(quantized.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(quantized.status);
    EXPECT_THAT(quantized.status.error_message(), HasSubstr("already quantized"));
    EXPECT_THAT(quantized.status.error_message(), HasSubstr("quantize its float source, fashion version 1"));
  }

  QuantizeCall unknown = Quantize(server_->stub(), Sweep("nobody", {8}), calibration);
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::NOT_FOUND);

  EXPECT_EQ(VersionsOf("fashion"), before);
  EXPECT_TRUE(DirEntries(root_->path() / ".staging").empty());
}

TEST_F(QuantizeRpcTest, ACancelledCallPublishesNothing) {
  const std::vector<int64_t> before = VersionsOf("fashion");
  QuantizeCall call = Quantize(server_->stub(), Sweep("fashion", {8, 6, 4, 3, 2}),
                               TensorBatches(FashionSlice("train", 3000, 2000), v1::CALIBRATION),
                               /*cancel_on_progress=*/true);
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::CANCELLED) << Describe(call.status);
  // The job stops at its next check and discards its staging folders.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline && !DirEntries(root_->path() / ".staging").empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(DirEntries(root_->path() / ".staging").empty());
  EXPECT_EQ(VersionsOf("fashion"), before);
}

}  // namespace
}  // namespace textclf::testing
