// What a busy or hostile client can hold of the server: a stream takes its job's place before
// its examples are read, streams are bounded, an idle stream is cut, and a training config that
// could never fit in memory is refused before anything runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;
using std::chrono::seconds;
using std::chrono::steady_clock;

// An open Train stream that has sent its TrainStart and holds its place.
struct OpenTrain {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::TrainRequest, v1::TrainResponse>> stream;

  OpenTrain(v1::Classifier::Stub& stub, const v1::TrainStart& start) {
    context.set_deadline(std::chrono::system_clock::now() + seconds(60));
    stream = stub.Train(&context);
    v1::TrainRequest first;
    *first.mutable_start() = start;
    EXPECT_TRUE(stream->Write(first));
  }
  // Sends the examples, half-closes and reads to the end.
  grpc::Status Finish(const Labeled& examples) {
    v1::TrainRequest batch;
    for (size_t i = 0; i < examples.size(); ++i) {
      v1::Example* e = batch.mutable_batch()->add_examples();
      e->set_text(examples.texts[i]);
      e->set_label(examples.labels[i]);
    }
    stream->Write(batch);
    stream->WritesDone();
    v1::TrainResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  }
};

// A stream that the job pool could never run is refused when it starts, before the server reads
// (and buffers) its examples: with one job slot and one queued place held by two uploads in
// progress, a third is told at once.
TEST(Admission, AStreamTakesItsJobPlaceBeforeItsExamplesAreRead) {
  TempDir root;
  auto server = TestServer::Start(root.path(), [](v1::ServerConfig& c) {
    c.mutable_limits()->set_max_concurrent_jobs(1);
    c.mutable_limits()->set_max_queued_jobs(1);
  });
  ASSERT_NE(server, nullptr);
  OpenTrain first(server->stub(), ZestStart("first"));
  OpenTrain second(server->stub(), ZestStart("second"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // their places are taken
  const auto started = steady_clock::now();
  // Only the TrainStart: the refusal cannot depend on examples the server never needed to read.
  TrainCall third = TrainRaw(server->stub(), {[] {
                               v1::TrainRequest r;
                               *r.mutable_start() = ZestStart("third");
                               return r;
                             }()});
  EXPECT_EQ(third.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(third.status);
  EXPECT_THAT(third.status.error_message(), HasSubstr("uploading"));
  EXPECT_LT(steady_clock::now() - started, seconds(5));
  grpc::Status done = first.Finish(ClickbaitSlice(100));
  EXPECT_TRUE(done.ok()) << Describe(done);
  done = second.Finish(ClickbaitSlice(100));
  EXPECT_TRUE(done.ok()) << Describe(done);
  // The places are free again.
  TrainCall fourth = Train(server->stub(), ZestStart("fourth"), ClickbaitSlice(100));
  EXPECT_TRUE(fourth.status.ok()) << Describe(fourth.status);
}

// A client that opens a Train stream and sends nothing more holds a thread and a job place; the
// watchdog cancels it after stream_idle_timeout_s, freeing both.
TEST(Admission, AnIdleStreamIsCancelledAndItsPlaceComesBack) {
  TempDir root;
  auto server = TestServer::Start(root.path(), [](v1::ServerConfig& c) {
    c.mutable_limits()->set_max_concurrent_jobs(1);
    c.mutable_limits()->set_max_queued_jobs(1);
    c.mutable_limits()->set_stream_idle_timeout_s(1);
  });
  ASSERT_NE(server, nullptr);
  const auto started = steady_clock::now();
  // Two idle uploads take both places (one running, one queued).
  OpenTrain idle(server->stub(), ZestStart("idle"));
  OpenTrain idle_too(server->stub(), ZestStart("idle_too"));
  for (OpenTrain* o : {&idle, &idle_too}) {
    v1::TrainResponse response;
    EXPECT_FALSE(o->stream->Read(&response));  // ends when the server cuts the call
    EXPECT_FALSE(o->stream->Finish().ok());
  }
  EXPECT_GE(steady_clock::now() - started, std::chrono::milliseconds(900));
  EXPECT_LT(steady_clock::now() - started, seconds(20));
  TrainCall next = Train(server->stub(), ZestStart("next"), ClickbaitSlice(100));
  EXPECT_TRUE(next.status.ok()) << Describe(next.status);
}

// Streams beyond max_concurrent_streams are refused before anything is read; Classify is not a
// stream and still runs.
TEST(Admission, StreamsBeyondTheLimitAreRefused) {
  TempDir root;
  auto server = TestServer::Start(root.path(), [](v1::ServerConfig& c) {
    c.mutable_limits()->set_max_concurrent_streams(2);
    c.mutable_limits()->set_max_concurrent_jobs(4);
  });
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Train(server->stub(), ZestStart("model"), ClickbaitSlice(100)).status.ok());
  std::vector<std::unique_ptr<OpenTrain>> open;
  for (int i = 0; i < 2; ++i) open.push_back(std::make_unique<OpenTrain>(server->stub(), ZestStart("held")));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EvaluateCall refused = Evaluate(server->stub(), "model", 0, "holdout", ClickbaitTestSlice(10));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(refused.status);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("max_concurrent_streams"));
  EXPECT_TRUE(Classify(server->stub(), "model", {"You won't believe this"}).status.ok());
  for (auto& o : open) o->context.TryCancel();
  open.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EvaluateCall later = Evaluate(server->stub(), "model", 0, "holdout", ClickbaitTestSlice(10));
  EXPECT_TRUE(later.status.ok()) << Describe(later.status);
}

// batch x tokens x embedding beyond the job memory budget: refused before the upload.
TEST(Admission, ATrainingConfigThatCannotFitInMemoryIsRefusedAtTheStart) {
  TempDir root;
  auto server = TestServer::Start(root.path());
  ASSERT_NE(server, nullptr);
  v1::TrainStart start;
  start.set_model("huge");
  start.set_family(v1::TEXT_CNN);
  v1::TextCnnConfig* cnn = start.mutable_config()->mutable_text_cnn();
  cnn->set_embedding_dim(4096);
  cnn->set_max_tokens(100000);
  cnn->mutable_training()->set_batch_size(65536);
  v1::TrainRequest first;
  *first.mutable_start() = start;
  TrainCall call = TrainRaw(server->stub(), {first});
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(call.status);
  EXPECT_THAT(call.status.error_message(), HasSubstr("max_job_memory_bytes"));
}

}  // namespace
}  // namespace textclf
