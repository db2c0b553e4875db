// The textclf command-line tool: the real binary, run as a child process against an in-process
// server, with its stdout, stderr and exit code checked separately.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/server/server_test_support.h"
#include "tests/support/csv_file.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using CliResult = ProcessResult;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
    train_csv_ = WriteCsv("train.csv", ClickbaitSlice(150));
    test_csv_ = WriteCsv("test.csv", ClickbaitTestSlice(60));
  }

  fs::path WriteCsv(const std::string& name, const Labeled& data) {
    return WriteLabeledCsv(files_.path() / name, data.texts, data.labels);
  }

  fs::path WriteFile(const std::string& name, const std::string& content) {
    const fs::path path = files_.path() / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Runs `textclf args...` with `input` on stdin.
  CliResult Run(const std::vector<std::string>& args, const std::string& input = "") {
    return RunProcess(TEXTCLF_CLI_PATH, args, input);
  }

  CliResult TrainCli(const std::string& name, const fs::path& csv, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"train", "--server", server_->address(), "--name", name, "--family", "zest",
                                     "--csv", csv.string(), "--text-column", "headline", "--label-column", "label",
                                     "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }

  // Trains "cli" through the CLI; the tests that need a model start here.
  void TrainModel() {
    CliResult r = TrainCli("cli", train_csv_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::vector<nlohmann::json> JsonLines(const std::string& out) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
    }
    return lines;
  }

  TempDir root_;
  TempDir files_;
  std::unique_ptr<TestServer> server_;
  fs::path train_csv_;
  fs::path test_csv_;
};

TEST_F(CliTest, TrainPublishesAVersionFromACsv) {
  CliResult r = TrainCli("cli", train_csv_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("trained cli version 1"));
  auto info = GetModel(server_->stub(), "cli");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  ASSERT_EQ(info.response.versions_size(), 1);
  EXPECT_EQ(info.response.versions(0).state(), v1::LOADED);
  EXPECT_EQ(info.response.versions(0).training().train_examples(), 300);
  EXPECT_THAT(info.response.classes(), ElementsAre("clickbait", "news"));
}

TEST_F(CliTest, TrainWithAnEvalCsvPrintsTheResultAsJson) {
  CliResult r = TrainCli("cli", train_csv_, {"--eval-csv", test_csv_.string(), "--eval-dataset", "heldout", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const nlohmann::json& result = lines[0];
  EXPECT_EQ(result["version"], "1");  // int64 in proto JSON is a string
  EXPECT_EQ(result["eval_metrics"]["dataset"], "heldout");
  EXPECT_EQ(result["eval_metrics"]["examples"], "120");
  EXPECT_GT(result["eval_metrics"]["accuracy"].get<double>(), 0.6);
  auto info = GetModel(server_->stub(), "cli");
  ASSERT_TRUE(info.status.ok());
  EXPECT_TRUE(info.response.versions(0).metrics().contains("heldout"));
}

TEST_F(CliTest, TrainsAnEnsembleFromMembersAndACalibrationCsv) {
  ASSERT_EQ(TrainCli("z", train_csv_).exit_code, 0);
  CliResult lin = Run({"train", "--server", server_->address(), "--name", "lin", "--family", "linear", "--csv",
                       train_csv_.string(), "--text-column", "headline", "--label-column", "label", "--config",
                       R"({"linear": {"hashBits": 16}})", "--quiet"});
  ASSERT_EQ(lin.exit_code, 0) << lin.err;
  // The latest of "z", pinned to its number; "lin" named by version; --csv is the calibration split.
  CliResult r = Run({"train", "--server", server_->address(), "--name", "ens", "--family", "ensemble", "--member", "z",
                     "--member", "lin:1", "--combination", "weighted", "--csv", test_csv_.string(), "--text-column",
                     "headline", "--label-column", "label", "--json", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const nlohmann::json& config = lines[0]["model"]["versions"][0]["config"]["ensemble"];
  EXPECT_EQ(config["members"][0]["name"], "z");
  EXPECT_EQ(config["members"][0]["version"], "1");
  EXPECT_EQ(config["combination"], "WEIGHTED");
  auto info = GetModel(server_->stub(), "ens");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  EXPECT_EQ(info.response.versions(0).training().train_examples(), 0)
      << "an ensemble trains nothing; the CSV went as calibration examples";
  CliResult classify = Run({"classify", "--server", server_->address(), "--model", "ens", "--json", "some headline"});
  EXPECT_EQ(classify.exit_code, 0) << classify.err;

  CliResult bad = Run({"train", "--server", server_->address(), "--name", "ens", "--family", "ensemble", "--member",
                       "z:latest", "--member", "lin", "--quiet"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("must be a positive number"));
  CliResult stray = TrainCli("z", train_csv_, {"--member", "lin"});
  EXPECT_EQ(stray.exit_code, 2) << stray.err;
  EXPECT_THAT(stray.err, HasSubstr("--family ensemble"));
}

TEST_F(CliTest, ClassifyAnswersTextsGivenAsArguments) {
  TrainModel();
  const std::vector<std::string> texts = {"You Will Not Believe These Cute Animals", "Oil prices fall in Asia trading"};
  CliResult table = Run({"classify", "--server", server_->address(), "--model", "cli", texts[0], texts[1]});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr(texts[0]));
  EXPECT_THAT(table.out, HasSubstr(texts[1]));
  EXPECT_THAT(table.out, HasSubstr("label"));

  CliResult json = Run({"classify", "--server", server_->address(), "--model", "cli", "--json", "--top-k", "2",
                        texts[0], texts[1]});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto lines = JsonLines(json.out);
  ASSERT_EQ(lines.size(), 2u) << json.out;
  ClassifyCall direct = Classify(server_->stub(), "cli", texts);
  ASSERT_TRUE(direct.status.ok());
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(lines[i]["text"], texts[i]);
    EXPECT_EQ(lines[i]["model"], "cli");
    EXPECT_EQ(lines[i]["version"], 1);
    EXPECT_EQ(lines[i]["label"], direct.response.predictions(i).label());
    EXPECT_EQ(lines[i]["top"].size(), 2u);
  }
}

TEST_F(CliTest, ClassifyReadsOneTextPerStdinLine) {
  TrainModel();
  CliResult r = Run({"classify", "--server", server_->address(), "--model", "cli", "--json", "--batch-size", "2"},
                    "First Headline Here\nsecond headline\n\nThird One You Must See\r\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0]["text"], "First Headline Here");
  EXPECT_EQ(lines[1]["text"], "second headline");
  EXPECT_EQ(lines[2]["text"], "Third One You Must See");
  for (const auto& line : lines) EXPECT_TRUE(line["label"] == "clickbait" || line["label"] == "news") << line;
}

TEST_F(CliTest, EvaluatePrintsMetricsAsJson) {
  TrainModel();
  CliResult r = Run({"evaluate", "--server", server_->address(), "--model", "cli", "--csv", test_csv_.string(),
                     "--text-column", "headline", "--label-column", "label", "--dataset", "cli-test", "--json",
                     "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const nlohmann::json& m = lines[0];
  ASSERT_TRUE(m.is_object());
  for (const char* key : {"accuracy", "macro_f1", "auc"}) {
    ASSERT_TRUE(m.contains(key)) << key << " missing in " << r.out;
    ASSERT_TRUE(m[key].is_number()) << key;
    EXPECT_GE(m[key].get<double>(), 0.0) << key;
    EXPECT_LE(m[key].get<double>(), 1.0) << key;
  }
  EXPECT_GT(m["accuracy"].get<double>(), 0.6);
  auto info = GetModel(server_->stub(), "cli");
  ASSERT_TRUE(info.status.ok());
  ASSERT_TRUE(info.response.versions(0).metrics().contains("cli-test"));
  EXPECT_DOUBLE_EQ(info.response.versions(0).metrics().at("cli-test").accuracy(), m["accuracy"].get<double>());
}

TEST_F(CliTest, EvaluatePrintsAReadableReport) {
  TrainModel();
  CliResult r = Run({"evaluate", "--server", server_->address(), "--model", "cli", "--csv", test_csv_.string(),
                     "--text-column", "headline", "--label-column", "label", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("accuracy"));
  EXPECT_THAT(r.out, HasSubstr("ROC AUC"));
  EXPECT_THAT(r.out, HasSubstr("clickbait"));
}

TEST_F(CliTest, ModelsCommandsListGetLoadUnloadAndDelete) {
  TrainModel();
  const std::string addr = server_->address();
  CliResult list = Run({"models", "list", "--server", addr});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("cli"));
  EXPECT_THAT(list.out, HasSubstr("zest"));
  CliResult list_json = Run({"models", "list", "--server", addr, "--json"});
  ASSERT_EQ(list_json.exit_code, 0) << list_json.err;
  auto listed = nlohmann::json::parse(list_json.out);
  ASSERT_EQ(listed["models"].size(), 1u);
  EXPECT_EQ(listed["models"][0]["name"], "cli");

  CliResult get = Run({"models", "get", "cli", "--server", addr});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_THAT(get.out, HasSubstr("loaded"));
  CliResult get_json = Run({"models", "get", "cli", "--server", addr, "--json"});
  ASSERT_EQ(get_json.exit_code, 0) << get_json.err;
  EXPECT_EQ(nlohmann::json::parse(get_json.out)["versions"][0]["state"], "LOADED");

  CliResult unload = Run({"models", "unload", "cli", "--server", addr});
  ASSERT_EQ(unload.exit_code, 0) << unload.err;
  EXPECT_THAT(unload.out, HasSubstr("available"));
  EXPECT_EQ(GetModel(server_->stub(), "cli").response.versions(0).state(), v1::AVAILABLE);

  CliResult load = Run({"models", "load", "cli", "--version", "1", "--server", addr});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  EXPECT_THAT(load.out, HasSubstr("loaded"));
  EXPECT_EQ(GetModel(server_->stub(), "cli").response.versions(0).state(), v1::LOADED);

  CliResult del = Run({"models", "delete", "cli", "--version", "1", "--server", addr});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_THAT(del.out, HasSubstr("deleted cli versions 1"));
  EXPECT_FALSE(fs::exists(root_.path() / "cli"));
  EXPECT_EQ(GetModel(server_->stub(), "cli").status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CliTest, TrainRejectsARecordWithTheWrongNumberOfFields) {
  const fs::path csv = WriteFile("bad-fields.csv",
                                 "headline,label\n\"One\",news\n\"Two\",clickbait\n\"Three\",news,extra\n\"Four\",news\n");
  CliResult r = TrainCli("cli", csv);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(csv.string() + ":4:"));
  EXPECT_THAT(r.err, HasSubstr("expected 2 fields, found 3"));
  EXPECT_EQ(ListModels(server_->stub()).response.models_size(), 0);
}

TEST_F(CliTest, TrainRejectsAnUnterminatedQuote) {
  const fs::path csv = WriteFile("bad-quote.csv",
                                 "headline,label\n\"One\",news\n\"Two\",clickbait\n\"Three,news\nFour,news\n");
  CliResult r = TrainCli("cli", csv);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(csv.string() + ":4:"));
  EXPECT_THAT(r.err, HasSubstr("unterminated quoted field"));
  EXPECT_EQ(ListModels(server_->stub()).response.models_size(), 0);
}

TEST_F(CliTest, TrainRejectsAMissingColumnOrFile) {
  CliResult column = Run({"train", "--server", server_->address(), "--name", "cli", "--csv", train_csv_.string(),
                          "--text-column", "body", "--label-column", "label", "--quiet"});
  EXPECT_EQ(column.exit_code, 2) << column.err;
  EXPECT_THAT(column.err, HasSubstr("no column \"body\""));
  CliResult file = TrainCli("cli", files_.path() / "absent.csv");
  EXPECT_EQ(file.exit_code, 2) << file.err;
  EXPECT_THAT(file.err, HasSubstr("absent.csv"));
}

TEST_F(CliTest, TrainRejectsAnUnknownFamilyLocally) {
  CliResult r = Run({"train", "--server", server_->address(), "--name", "cli", "--family", "bayes", "--csv",
                     train_csv_.string(), "--text-column", "headline", "--label-column", "label", "--quiet"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("unknown family \"bayes\""));
}

TEST_F(CliTest, AServerErrorExitsOneWithTheCodeAndMessage) {
  CliResult classify = Run({"classify", "--server", server_->address(), "--model", "nosuch", "some text"});
  EXPECT_EQ(classify.exit_code, 1);
  EXPECT_THAT(classify.err, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(classify.err, HasSubstr("no model named \"nosuch\""));
  CliResult get = Run({"models", "get", "nosuch", "--server", server_->address()});
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_THAT(get.err, HasSubstr("NOT_FOUND"));
  CliResult name = Run({"train", "--server", server_->address(), "--name", "has space", "--csv",
                        train_csv_.string(), "--text-column", "headline", "--label-column", "label", "--quiet"});
  EXPECT_EQ(name.exit_code, 1) << name.err;
  EXPECT_THAT(name.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(name.err, HasSubstr("has space"));
}

TEST_F(CliTest, AnUnreachableServerExitsOne) {
  CliResult r = Run({"classify", "--server", "127.0.0.1:1", "--model", "cli", "--timeout", "5", "some text"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  CliResult r = Run({"classify", "--server", server_->address(), "some text"});  // no --model
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--model"));
}

// The joined text is "<a> <b>": the server's size check sees exactly 40000 + 1 + 40000 bytes.
TEST_F(CliTest, TrainJoinsARepeatedTextColumnWithASpace) {
  const std::string a(40000, 'a');
  const std::string b(40000, 'b');
  const fs::path csv = WriteFile("two-columns.csv", "a,b,label\n" + a + "," + b + ",x\nshort,text,y\n");
  const std::vector<std::string> base = {"train", "--server", server_->address(), "--name", "joined", "--csv",
                                         csv.string(), "--label-column", "label", "--quiet", "--text-column", "a"};
  std::vector<std::string> both = base;
  both.insert(both.end(), {"--text-column", "b"});
  CliResult joined = Run(both);
  EXPECT_EQ(joined.exit_code, 1) << joined.err;
  EXPECT_THAT(joined.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(joined.err, HasSubstr("example 1 has 80001 bytes; the limit is 65536"));
  CliResult single = Run(base);
  EXPECT_THAT(single.err, Not(HasSubstr("bytes; the limit")));
}

}  // namespace
}  // namespace textclf::testing
