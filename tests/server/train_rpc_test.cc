// Train through the real server: what a good stream publishes, what bad streams are told, and
// that a cancelled or abandoned job leaves nothing behind, in the API or on disk.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/ascii.h"
#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class TrainRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
    small_ = ClickbaitSlice(150);
    ASSERT_EQ(small_.size(), 300u);
  }

  // What the API and the disk show; compared before and after a refused call.
  std::string Snapshot() {
    auto list = ListModels(server_->stub());
    EXPECT_TRUE(list.status.ok()) << Describe(list.status);
    std::string out = list.response.DebugString();
    for (const auto& [path, content] : ReadTree(root_.path())) out += "\n" + path;
    return out;
  }

  // Waits until no job is staging a version and `name` has exactly `versions` on disk.
  void WaitForQuiet(const std::string& name, const std::vector<std::string>& versions) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (DirEntries(root_.path() / ".staging").empty() && DirEntries(root_.path() / name) == versions) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "the server left a staging folder or a version folder behind: .staging has "
                  << DirEntries(root_.path() / ".staging").size() << " entries, " << name << " has "
                  << DirEntries(root_.path() / name).size();
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
  Labeled small_;
};

TEST_F(TrainRpcTest, PublishesVersionOneAndReportsProgress) {
  TrainCall call = Train(server_->stub(), ZestStart("headlines"), small_);
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  ASSERT_TRUE(call.got_result);
  EXPECT_EQ(call.result.version(), 1);
  EXPECT_FALSE(call.result.has_eval_metrics());  // no EVAL split sent
  ASSERT_FALSE(call.progress.empty());
  for (const auto& p : call.progress) {
    EXPECT_FALSE(p.stage().empty());
    EXPECT_GE(p.fraction(), 0.0);
    EXPECT_LE(p.fraction(), 1.0);
  }
  EXPECT_EQ(call.result.model().name(), "headlines");
  ASSERT_EQ(call.result.model().versions_size(), 1);
  EXPECT_EQ(call.result.model().versions(0).state(), v1::LOADED);
  EXPECT_EQ(call.result.model().versions(0).training().train_examples(), 300);
  EXPECT_THAT(DirEntries(root_.path() / "headlines"), ElementsAre("1"));
  EXPECT_TRUE(fs::exists(root_.path() / "headlines" / "1" / "manifest.json"));
  EXPECT_THAT(DirEntries(root_.path() / ".staging"), IsEmpty());
}

TEST_F(TrainRpcTest, UsesDeclaredClassNamesInTheirOrder) {
  v1::TrainStart start = ZestStart("ordered");
  start.add_class_names("news");
  start.add_class_names("clickbait");
  TrainCall call = Train(server_->stub(), start, small_);
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  EXPECT_THAT(call.result.model().classes(), ElementsAre("news", "clickbait"));
}

TEST_F(TrainRpcTest, SkipLoadPublishesWithoutLoading) {
  v1::TrainStart start = ZestStart("shelved");
  start.set_skip_load(true);
  TrainCall call = Train(server_->stub(), start, small_);
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  auto info = GetModel(server_->stub(), "shelved");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  ASSERT_EQ(info.response.versions_size(), 1);
  EXPECT_EQ(info.response.versions(0).state(), v1::AVAILABLE);
}

// --- Refused streams: the exact code, a message that says what to fix, nothing stored. ---

class TrainRejectionTest : public TrainRpcTest {
 protected:
  // "existing", trained on the same examples as small_, is in place before the server starts.
  void SetUp() override {
    ASSERT_TRUE(CopyFixtureModels(kZestExisting, root_.path()));
    TrainRpcTest::SetUp();
    if (HasFatalFailure()) return;
    before_ = Snapshot();
  }
  void TearDown() override {
    if (!before_.empty()) {
      EXPECT_EQ(Snapshot(), before_) << "a refused Train call changed what is stored";
    }
  }
  void ExpectRefused(const TrainCall& call, grpc::StatusCode code, const std::string& substring) {
    EXPECT_EQ(call.status.error_code(), code) << Describe(call.status);
    EXPECT_THAT(call.status.error_message(), HasSubstr(substring));
    EXPECT_FALSE(call.got_result);
  }
  std::string before_;
};

TEST_F(TrainRejectionTest, RejectsASingleClass) {
  Labeled one_class;
  for (size_t i = 0; i < small_.size(); ++i) {
    if (small_.labels[i] == "news") one_class.Add(small_.texts[i], "news");
  }
  ExpectRefused(Train(server_->stub(), ZestStart("existing"), one_class), grpc::StatusCode::INVALID_ARGUMENT,
                "at least two classes");
}

TEST_F(TrainRejectionTest, RejectsADeclaredClassWithoutExamples) {
  v1::TrainStart start = ZestStart("existing");
  for (const char* c : {"clickbait", "news", "sports"}) start.add_class_names(c);
  ExpectRefused(Train(server_->stub(), start, small_), grpc::StatusCode::INVALID_ARGUMENT,
                "class \"sports\" has no training examples");
}

TEST_F(TrainRejectionTest, RejectsAnExampleWithoutALabel) {
  Labeled data = small_;
  data.labels[41].clear();
  ExpectRefused(Train(server_->stub(), ZestStart("existing"), data), grpc::StatusCode::INVALID_ARGUMENT,
                "example 42 has no label");
}

TEST_F(TrainRejectionTest, RejectsAnEmptyText) {
  Labeled data = small_;
  data.texts[9].clear();
  ExpectRefused(Train(server_->stub(), ZestStart("existing"), data), grpc::StatusCode::INVALID_ARGUMENT,
                "example 10 is empty");
}

// The bad text is in the third batch: the server must not train on the two before it.
TEST_F(TrainRejectionTest, RejectsInvalidUtf8) {
  Labeled data = small_;
  data.texts[250] = "bad \xff\xfe bytes";
  ExpectRefused(Train(server_->stub(), ZestStart("existing"), data, {}, /*batch_size=*/100),
                grpc::StatusCode::INVALID_ARGUMENT, "example 251 is not valid UTF-8");
}

TEST_F(TrainRejectionTest, RejectsALabelOutsideTheDeclaredClassNames) {
  v1::TrainStart start = ZestStart("existing");
  start.add_class_names("clickbait");
  start.add_class_names("news");
  Labeled data = small_;
  data.labels[4] = "sport";
  ExpectRefused(Train(server_->stub(), start, data), grpc::StatusCode::INVALID_ARGUMENT,
                "example 5 has label \"sport\", which is not one of the class names");
}

TEST_F(TrainRejectionTest, RejectsAnEvalLabelThatNoTrainingExampleHas) {
  Labeled eval;
  eval.Add("Ten Things You Never Knew About Cats", "memes");
  ExpectRefused(Train(server_->stub(), ZestStart("existing"), small_, eval), grpc::StatusCode::INVALID_ARGUMENT,
                "label \"memes\", which is not one of the classes");
}

TEST_F(TrainRejectionTest, RejectsAStreamThatDoesNotStartWithTrainStart) {
  v1::TrainRequest batch;
  v1::Example* e = batch.mutable_batch()->add_examples();
  e->set_text("a headline");
  e->set_label("news");
  ExpectRefused(TrainRaw(server_->stub(), {batch}), grpc::StatusCode::INVALID_ARGUMENT,
                "first message must be a TrainStart");
}

TEST_F(TrainRejectionTest, RejectsAStreamWithoutAnyMessage) {
  ExpectRefused(TrainRaw(server_->stub(), {}), grpc::StatusCode::INVALID_ARGUMENT, "before a TrainStart");
}

TEST_F(TrainRejectionTest, RejectsASecondTrainStart) {
  v1::TrainRequest start;
  *start.mutable_start() = ZestStart("existing");
  ExpectRefused(TrainRaw(server_->stub(), {start, start}), grpc::StatusCode::INVALID_ARGUMENT,
                "TrainStart may only be the first message");
}

TEST_F(TrainRejectionTest, RejectsAFamilyThisServerDoesNotKnow) {
  v1::TrainStart start = ZestStart("existing");
  start.set_family(static_cast<v1::Family>(99));  // what a newer client might send
  ExpectRefused(Train(server_->stub(), start, small_), grpc::StatusCode::INVALID_ARGUMENT,
                "unknown model family 99");
}

TEST_F(TrainRejectionTest, RejectsAMissingFamily) {
  v1::TrainStart start = ZestStart("existing");
  start.set_family(v1::FAMILY_UNSPECIFIED);
  ExpectRefused(Train(server_->stub(), start, small_), grpc::StatusCode::INVALID_ARGUMENT, "family is not set");
}

TEST_F(TrainRejectionTest, RejectsAConfigForAnotherFamily) {
  v1::TrainStart start = ZestStart("existing");
  start.mutable_config()->mutable_text_cnn();
  ExpectRefused(Train(server_->stub(), start, small_), grpc::StatusCode::INVALID_ARGUMENT,
                "config is for another family");
}

TEST_F(TrainRejectionTest, RejectsInvalidModelNames) {
  for (const std::string& name : std::vector<std::string>{"../escape", "", ".hidden", "has space", "a/b", std::string(129, 'x')}) {
    SCOPED_TRACE(name);
    TrainCall call = Train(server_->stub(), ZestStart(name), small_);
    EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(call.status);
    EXPECT_THAT(call.status.error_message(), ::testing::HasSubstr("model name"));
  }
  EXPECT_FALSE(fs::exists(root_.path().parent_path() / "escape"));
}

// --- Cancellation: no trace in the API or on disk. ---

TEST_F(TrainRpcTest, CancellingWhileTheServerTrainsLeavesNoTrace) {
  ASSERT_TRUE(Train(server_->stub(), ZestStart("cb"), small_).status.ok());
  const Labeled& full = Clickbait().train;  // long enough to cancel mid-training

  grpc::ClientContext context;
  auto stream = server_->stub().Train(&context);
  v1::TrainRequest request;
  *request.mutable_start() = ZestStart("cb");
  ASSERT_TRUE(stream->Write(request));
  request.Clear();
  for (size_t i = 0; i < full.size(); ++i) {
    v1::Example* e = request.mutable_batch()->add_examples();
    e->set_text(full.texts[i]);
    e->set_label(full.labels[i]);
    if (request.batch().examples_size() == 2000 || i + 1 == full.size()) {
      ASSERT_TRUE(stream->Write(request));
      request.Clear();
    }
  }
  ASSERT_TRUE(stream->WritesDone());
  // The first progress message means the job runs: cancel now.
  v1::TrainResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.has_progress());
  EXPECT_NE(response.progress().stage(), "publish");
  context.TryCancel();
  bool got_result = false;
  while (stream->Read(&response)) got_result = got_result || response.has_result();
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << Describe(status);
  EXPECT_FALSE(got_result);

  WaitForQuiet("cb", {"1"});
  auto info = GetModel(server_->stub(), "cb");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  EXPECT_THAT(Versions(info.response), ElementsAre(1));
  EXPECT_EQ(info.response.versions(0).state(), v1::LOADED);
  auto list = ListModels(server_->stub());
  ASSERT_EQ(list.response.models_size(), 1);
  EXPECT_THAT(Versions(list.response.models(0)), ElementsAre(1));
  ClassifyCall classify = Classify(server_->stub(), "cb", {"Is This The Best Pizza In America"});
  ASSERT_TRUE(classify.status.ok()) << Describe(classify.status);
  EXPECT_EQ(classify.response.version(), 1);

  server_->Stop();  // waits for the job; the disk must still be clean afterwards
  EXPECT_THAT(DirEntries(root_.path() / "cb"), ElementsAre("1"));
  EXPECT_THAT(DirEntries(root_.path() / ".staging"), IsEmpty());
}

TEST_F(TrainRpcTest, AClientThatDisconnectsMidUploadLeavesNoTrace) {
  grpc::ClientContext context;
  auto stream = server_->stub().Train(&context);
  v1::TrainRequest request;
  *request.mutable_start() = ZestStart("abandoned");
  ASSERT_TRUE(stream->Write(request));
  request.Clear();
  for (size_t i = 0; i < 200; ++i) {
    v1::Example* e = request.mutable_batch()->add_examples();
    e->set_text(small_.texts[i]);
    e->set_label(small_.labels[i]);
    if (request.batch().examples_size() == 50) {
      ASSERT_TRUE(stream->Write(request));
      request.Clear();
    }
  }
  context.TryCancel();  // before WritesDone
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << Describe(status);

  WaitForQuiet("abandoned", {});
  auto list = ListModels(server_->stub());
  ASSERT_TRUE(list.status.ok()) << Describe(list.status);
  EXPECT_EQ(list.response.models_size(), 0);
  EXPECT_EQ(GetModel(server_->stub(), "abandoned").status.error_code(), grpc::StatusCode::NOT_FOUND);
  server_->Stop();
  EXPECT_FALSE(fs::exists(root_.path() / "abandoned"));
  EXPECT_THAT(DirEntries(root_.path() / ".staging"), IsEmpty());
}

// A client that goes away after the new version was published (while it is evaluated) never
// learns of it: the server takes it back, and the version that served before still serves.
TEST_F(TrainRpcTest, CancellingAfterPublishKeepsThePreviousVersionServing) {
  ASSERT_TRUE(Train(server_->stub(), ZestStart("cb"), small_).status.ok());
  Labeled eval;  // a long evaluation keeps the job busy after publishing
  for (int copy = 0; copy < 3; ++copy) {
    for (size_t i = 0; i < Clickbait().test.size(); ++i) eval.Add(Clickbait().test.texts[i], Clickbait().test.labels[i]);
  }

  grpc::ClientContext context;
  auto stream = server_->stub().Train(&context);
  v1::TrainRequest request;
  *request.mutable_start() = ZestStart("cb");
  ASSERT_TRUE(stream->Write(request));
  for (const auto* part : {&small_, &eval}) {
    request.Clear();
    request.mutable_batch()->set_split(part == &eval ? v1::EVAL : v1::TRAIN);
    for (size_t i = 0; i < part->size(); ++i) {
      v1::Example* e = request.mutable_batch()->add_examples();
      e->set_text(part->texts[i]);
      e->set_label(part->labels[i]);
    }
    ASSERT_TRUE(stream->Write(request));
  }
  ASSERT_TRUE(stream->WritesDone());
  v1::TrainResponse response;
  bool published = false;
  while (!published && stream->Read(&response)) {
    ASSERT_FALSE(response.has_result()) << "the evaluation ended before the test could cancel";
    published = response.progress().stage() == "load" || response.progress().stage() == "evaluate";
  }
  ASSERT_TRUE(published);
  context.TryCancel();
  while (stream->Read(&response)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);

  WaitForQuiet("cb", {"1"});
  auto info = GetModel(server_->stub(), "cb");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  EXPECT_THAT(Versions(info.response), ElementsAre(1));
  EXPECT_EQ(info.response.versions(0).state(), v1::LOADED) << "version 1 no longer serves";
  ClassifyCall classify = Classify(server_->stub(), "cb", {"Is This The Best Pizza In America"});
  EXPECT_TRUE(classify.status.ok()) << Describe(classify.status);
  EXPECT_EQ(classify.response.version(), 1);
}

}  // namespace
}  // namespace textclf::testing
