// textclf quantize: the real binary against an in-process server trains nothing itself; it
// streams calibration and evaluation CSVs, prints the comparison, and writes the report as JSON
// and as an SVG picture that stands on its own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/server/server_test_support.h"
#include "tests/support/csv_file.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class QuantizeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
  }
  fs::path WriteCsv(const std::string& name, const Labeled& data) {
    return WriteLabeledCsv(files_.path() / name, data.texts, data.labels);
  }
  ProcessResult Run(const std::vector<std::string>& args) { return RunProcess(TEXTCLF_CLI_PATH, args, ""); }

  TempDir root_, files_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(QuantizeCliTest, TrainQuantizeAndDrawWithTheCli) {
  const fs::path train = WriteCsv("train.csv", ClickbaitSlice(300));
  const fs::path calibration = WriteCsv("calibration.csv", ClickbaitSlice(100, 300));
  const fs::path eval = WriteCsv("eval.csv", ClickbaitTestSlice(100));
  ProcessResult trained = Run({"train", "--server", server_->address(), "--name", "cnn", "--family", "text_cnn",
                               "--csv", train.string(), "--text-column", "headline", "--label-column", "label",
                               "--config", R"({"text_cnn": {"embedding_dim": 16, "feature_maps": 16, "training": {"epochs": 2}}})",
                               "--quiet"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;

  const fs::path report = files_.path() / "report.json";
  const fs::path svg = files_.path() / "report.svg";
  ProcessResult quantized = Run({"quantize", "--server", server_->address(), "--name", "cnn", "--weight-bits", "8,4",
                                 "--csv", calibration.string(), "--eval-csv", eval.string(), "--text-column", "headline",
                                 "--label-column", "label", "--report", report.string(), "--svg", svg.string(), "--quiet"});
  ASSERT_EQ(quantized.exit_code, 0) << quantized.err;
  EXPECT_THAT(quantized.out, HasSubstr("W8A8"));
  EXPECT_THAT(quantized.out, HasSubstr("W4A8"));
  EXPECT_THAT(quantized.out, HasSubstr("ECE after T"));

  std::ifstream in(report);
  const nlohmann::json json = nlohmann::json::parse(in);
  ASSERT_EQ(json["variants"].size(), 2u);
  EXPECT_EQ(json["variants"][0]["label"], "W8A8");
  EXPECT_EQ(json["variants"][1]["version"], 3);
  EXPECT_EQ(json["float_model"]["examples"], 200);
  EXPECT_EQ(json["variants"][0]["swap_rate_by_confidence_decile"].size(), 10u);

  std::ifstream svg_in(svg);
  const std::string picture((std::istreambuf_iterator<char>(svg_in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(picture, HasSubstr("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(picture, HasSubstr("Reliability"));
  EXPECT_THAT(picture, HasSubstr("Swapped predictions by float confidence"));
  EXPECT_THAT(picture, HasSubstr("W4A8 (v3)"));
  EXPECT_THAT(picture, HasSubstr("</svg>"));
}

TEST_F(QuantizeCliTest, BadLocalInputIsAnInputError) {
  ProcessResult no_data = Run({"quantize", "--server", server_->address(), "--name", "cnn"});
  EXPECT_EQ(no_data.exit_code, 2);
  EXPECT_THAT(no_data.err, HasSubstr("give calibration data"));
  ProcessResult bad_method = Run({"quantize", "--server", server_->address(), "--name", "cnn", "--calibration", "kl"});
  EXPECT_EQ(bad_method.exit_code, 2);
  EXPECT_THAT(bad_method.err, HasSubstr("minmax, percentile or mse"));
}

}  // namespace
}  // namespace textclf::testing
