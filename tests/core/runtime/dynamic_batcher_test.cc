#include "core/runtime/dynamic_batcher.h"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/core/runtime/fake_model.h"

namespace textclf::runtime {
namespace {

using std::chrono::milliseconds;

// A request whose inputs are the numbers [first, first + n), with a future for its end.
struct Pending {
  std::vector<std::string> texts;
  std::shared_ptr<InferenceRequest> request = std::make_shared<InferenceRequest>();
  std::promise<void> done;
  std::future<void> finished = done.get_future();

  Pending(int first, int n, v1::Priority priority = v1::INTERACTIVE) {
    for (int i = 0; i < n; ++i) texts.push_back(std::to_string(first + i));
    for (const auto& t : texts) request->inputs.push_back(ModelInput{t, nullptr});
    request->priority = priority;
    request->on_done = [this](InferenceRequest&) { done.set_value(); };
  }
  bool Wait(milliseconds timeout = milliseconds(5000)) {
    return finished.wait_for(timeout) == std::future_status::ready;
  }
};

BatchingPolicy Policy(int max_batch, int64_t delay_us) {
  BatchingPolicy p;
  p.max_batch_size = max_batch;
  p.max_queue_delay_us = delay_us;
  return p;
}

class DynamicBatcherTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakeModel> model_ = std::make_shared<FakeModel>();
};

TEST_F(DynamicBatcherTest, BatchesNeverExceedMaxBatchSize) {
  DynamicBatcher batcher(model_, Policy(8, 1000), {Device{}}, nullptr);
  std::vector<std::unique_ptr<Pending>> requests;
  model_->Hold();
  for (int r = 0; r < 10; ++r) {
    requests.push_back(std::make_unique<Pending>(r * 100, 1 + r % 5));
    ASSERT_TRUE(batcher.Enqueue(requests.back()->request).ok());
  }
  model_->Release();
  for (auto& p : requests) ASSERT_TRUE(p->Wait());
  size_t total = 0;
  for (size_t size : model_->batch_sizes()) {
    EXPECT_LE(size, 8u);
    total += size;
  }
  EXPECT_EQ(total, 30u);
}

TEST_F(DynamicBatcherTest, SplitsALargeRequestAndKeepsItsOrder) {
  DynamicBatcher batcher(model_, Policy(4, 0), {Device{}}, nullptr);
  Pending p(1000, 10);
  ASSERT_TRUE(batcher.Enqueue(p.request).ok());
  ASSERT_TRUE(p.Wait());
  ASSERT_TRUE(p.request->status.ok());
  EXPECT_EQ(model_->batch_sizes(), (std::vector<size_t>{4, 4, 2}));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p.request->results.score_row(i)[0], 1000 + i);
}

TEST_F(DynamicBatcherTest, MergesRequestsThatWaitTogether) {
  DynamicBatcher batcher(model_, Policy(64, 1000), {Device{}}, nullptr);
  model_->Hold();
  Pending first(0, 1);
  ASSERT_TRUE(batcher.Enqueue(first.request).ok());
  while (model_->batch_sizes().empty()) std::this_thread::sleep_for(milliseconds(1));
  // While the only instance is busy, three requests queue up and then leave together.
  Pending a(10, 3), b(20, 5), c(30, 2);
  for (Pending* p : {&a, &b, &c}) ASSERT_TRUE(batcher.Enqueue(p->request).ok());
  model_->Release();
  for (Pending* p : {&first, &a, &b, &c}) ASSERT_TRUE(p->Wait());
  EXPECT_EQ(model_->batch_sizes(), (std::vector<size_t>{1, 10}));
  EXPECT_EQ(b.request->results.score_row(4)[0], 24);
  EXPECT_EQ(c.request->results.score_row(0)[0], 30);
}

TEST_F(DynamicBatcherTest, ALoneRequestWaitsAboutTheQueueDelay) {
  DynamicBatcher batcher(model_, Policy(64, 30000), {Device{}}, nullptr);
  Pending p(0, 1);
  const auto start = Clock::now();
  ASSERT_TRUE(batcher.Enqueue(p.request).ok());
  ASSERT_TRUE(p.Wait());
  const auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  EXPECT_GE(waited, 29);
  EXPECT_LE(waited, 30 + 100);  // the delay plus scheduling slack on a busy 2-core machine
  EXPECT_GE(p.request->queue_us, 29000);
}

TEST_F(DynamicBatcherTest, ZeroDelayRunsTheFirstRequestAlone) {
  DynamicBatcher batcher(model_, Policy(64, 0), {Device{}}, nullptr);
  Pending p(0, 1);
  ASSERT_TRUE(batcher.Enqueue(p.request).ok());
  ASSERT_TRUE(p.Wait(milliseconds(1000)));
  EXPECT_EQ(model_->batch_sizes(), (std::vector<size_t>{1}));
}

TEST_F(DynamicBatcherTest, APreferredSizeLeavesWithoutWaitingForTheDelay) {
  BatchingPolicy policy = Policy(64, 10'000'000);  // 10 s: the test would time out waiting for it
  policy.preferred_batch_sizes = {4};
  Pending p(0, 5);  // outlives the batcher, which runs the fifth input when it stops
  DynamicBatcher batcher(model_, policy, {Device{}}, nullptr);
  ASSERT_TRUE(batcher.Enqueue(p.request).ok());
  while (model_->batch_sizes().empty()) std::this_thread::sleep_for(milliseconds(1));
  EXPECT_EQ(model_->batch_sizes()[0], 4u);
}

TEST_F(DynamicBatcherTest, AFullQueueRejectsAtOnceAndSaysSo) {
  BatchingPolicy policy = Policy(2, 0);
  policy.max_queue_size = 5;
  DynamicBatcher batcher(model_, policy, {Device{}}, nullptr);
  model_->Hold();
  Pending running(0, 2);
  ASSERT_TRUE(batcher.Enqueue(running.request).ok());
  while (model_->batch_sizes().empty()) std::this_thread::sleep_for(milliseconds(1));
  Pending queued(10, 5), refused(20, 1);
  ASSERT_TRUE(batcher.Enqueue(queued.request).ok());
  absl::Status full = batcher.Enqueue(refused.request);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("max_queue_size"), std::string_view::npos);
  model_->Release();
  ASSERT_TRUE(queued.Wait());
}

TEST_F(DynamicBatcherTest, ExpiredRequestsAreDroppedBeforeCompute) {
  DynamicBatcher batcher(model_, Policy(64, 0), {Device{}}, nullptr);
  model_->Hold();
  Pending running(0, 1);
  ASSERT_TRUE(batcher.Enqueue(running.request).ok());
  while (model_->batch_sizes().empty()) std::this_thread::sleep_for(milliseconds(1));
  Pending late(500, 3);
  late.request->deadline = Clock::now() + milliseconds(20);
  ASSERT_TRUE(batcher.Enqueue(late.request).ok());
  std::this_thread::sleep_for(milliseconds(40));
  model_->Release();
  ASSERT_TRUE(late.Wait());
  EXPECT_EQ(late.request->status.code(), absl::StatusCode::kDeadlineExceeded);
  for (const auto& text : model_->computed()) EXPECT_NE(text.rfind("50", 0), 0u) << text << " was computed";
}

TEST_F(DynamicBatcherTest, CancelledRequestsAreDroppedBeforeCompute) {
  DynamicBatcher batcher(model_, Policy(64, 0), {Device{}}, nullptr);
  model_->Hold();
  Pending running(0, 1);
  ASSERT_TRUE(batcher.Enqueue(running.request).ok());
  while (model_->batch_sizes().empty()) std::this_thread::sleep_for(milliseconds(1));
  std::atomic<bool> cancelled{false};
  Pending gone(700, 2);
  gone.request->is_cancelled = [&] { return cancelled.load(); };
  ASSERT_TRUE(batcher.Enqueue(gone.request).ok());
  cancelled = true;
  model_->Release();
  ASSERT_TRUE(gone.Wait());
  EXPECT_EQ(gone.request->status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(model_->computed(), (std::vector<std::string>{"0"}));
}

TEST_F(DynamicBatcherTest, AModelErrorFailsEveryRequestOfTheBatch) {
  model_->set_fail(true);
  DynamicBatcher batcher(model_, Policy(64, 0), {Device{}}, nullptr);
  Pending p(0, 3);
  ASSERT_TRUE(batcher.Enqueue(p.request).ok());
  ASSERT_TRUE(p.Wait());
  EXPECT_EQ(p.request->status.code(), absl::StatusCode::kInternal);
}

// A request split over several batches, one of which fails, is answered once, after none of its
// slices is queued or running: the answer frees the caller's message (here the texts), and a
// slice still queued would read freed memory (a SIGSEGV in the server before this was fixed).
TEST_F(DynamicBatcherTest, ASplitRequestWithAFailedSliceIsAnsweredOnceAfterItsLastSlice) {
  model_->set_fail_on("1");
  DynamicBatcher batcher(model_, Policy(2, 0), {Device{}}, nullptr);
  auto texts = std::make_unique<std::vector<std::string>>();
  for (int i = 0; i < 12; ++i) texts->push_back(std::to_string(i));
  auto request = std::make_shared<InferenceRequest>();
  for (const auto& t : *texts) request->inputs.push_back(ModelInput{t, nullptr});
  std::atomic<int> answers{0};
  std::atomic<size_t> computed_when_answered{0};
  std::promise<void> done;
  request->on_done = [&](InferenceRequest& r) {
    computed_when_answered = model_->computed().size();
    ++answers;
    texts.reset();  // what gRPC does with the request message once it is answered
    r.inputs.clear();
    done.set_value();
  };
  model_->Hold();  // the whole request queues before its first batch fails
  ASSERT_TRUE(batcher.Enqueue(request).ok());
  model_->Release();
  ASSERT_EQ(done.get_future().wait_for(milliseconds(5000)), std::future_status::ready);
  EXPECT_EQ(request->status.code(), absl::StatusCode::kInternal);
  Pending after(100, 3);  // the batcher still serves, and ran nothing more of the failed request
  ASSERT_TRUE(batcher.Enqueue(after.request).ok());
  ASSERT_TRUE(after.Wait());
  EXPECT_TRUE(after.request->status.ok());
  EXPECT_EQ(answers.load(), 1);
  EXPECT_EQ(model_->computed().size(), computed_when_answered.load() + 3);
  EXPECT_EQ(computed_when_answered.load(), 2u) << "only the failed first batch ran";
}

// The same when several requests share batches: each is answered exactly once, the failing one
// with the error and the others with their results.
TEST_F(DynamicBatcherTest, FailedSlicesAmongOtherRequestsAnswerEachOnce) {
  model_->set_fail_on("205");
  DynamicBatcher batcher(model_, Policy(3, 0), {Device{}}, nullptr);
  std::vector<std::unique_ptr<Pending>> requests;
  model_->Hold();
  for (int r = 0; r < 6; ++r) {
    requests.push_back(std::make_unique<Pending>(r * 100, 7));
    ASSERT_TRUE(batcher.Enqueue(requests.back()->request).ok());
  }
  model_->Release();
  for (int r = 0; r < 6; ++r) {
    ASSERT_TRUE(requests[r]->Wait());
    if (r == 2) {
      EXPECT_EQ(requests[r]->request->status.code(), absl::StatusCode::kInternal);
    } else {
      EXPECT_TRUE(requests[r]->request->status.ok()) << r << ": " << requests[r]->request->status;
      EXPECT_EQ(requests[r]->request->results.score_row(6)[0], r * 100 + 6);
    }
  }
}

// An exception from model code is a failed batch, not a dead runtime thread.
TEST_F(DynamicBatcherTest, AnExceptionInTheModelFailsTheBatchAndTheInstanceCarriesOn) {
  model_->set_throw_on("7");
  DynamicBatcher batcher(model_, Policy(4, 0), {Device{}}, nullptr);
  Pending thrown(7, 1);
  ASSERT_TRUE(batcher.Enqueue(thrown.request).ok());
  ASSERT_TRUE(thrown.Wait());
  EXPECT_EQ(thrown.request->status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(thrown.request->status.message().find("threw on 7"), std::string_view::npos) << thrown.request->status;
  Pending fine(10, 2);
  ASSERT_TRUE(batcher.Enqueue(fine.request).ok());
  ASSERT_TRUE(fine.Wait());
  EXPECT_TRUE(fine.request->status.ok());
}

// A device context that cannot be made (e.g. a CUDA stream) fails that instance's batches with
// the reason instead of terminating the process.
TEST_F(DynamicBatcherTest, AnInstanceWhoseDeviceCannotStartFailsItsBatchesWithTheReason) {
  DynamicBatcher batcher(model_, Policy(4, 0), {Device{}}, nullptr,
                         [](const Device&) -> std::unique_ptr<DeviceContext> { throw std::runtime_error("no stream"); });
  Pending p(0, 2);
  ASSERT_TRUE(batcher.Enqueue(p.request).ok());
  ASSERT_TRUE(p.Wait());
  EXPECT_EQ(p.request->status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(p.request->status.message().find("no stream"), std::string_view::npos) << p.request->status;
}

TEST_F(DynamicBatcherTest, DisabledBatchingRunsEachRequestAsItIs) {
  BatchingPolicy policy = Policy(4, 1000);
  policy.enabled = false;
  DynamicBatcher batcher(model_, policy, {Device{}}, nullptr);
  model_->Hold();
  Pending first(0, 1);
  ASSERT_TRUE(batcher.Enqueue(first.request).ok());
  while (model_->batch_sizes().empty()) std::this_thread::sleep_for(milliseconds(1));
  Pending a(10, 6), b(20, 2);
  ASSERT_TRUE(batcher.Enqueue(a.request).ok());
  ASSERT_TRUE(batcher.Enqueue(b.request).ok());
  model_->Release();
  ASSERT_TRUE(a.Wait());
  ASSERT_TRUE(b.Wait());
  EXPECT_EQ(model_->batch_sizes(), (std::vector<size_t>{1, 6, 2}));
}

TEST_F(DynamicBatcherTest, BulkWaitsWhileInteractiveWorkQueues) {
  DynamicBatcher batcher(model_, Policy(1, 0), {Device{}}, nullptr);
  model_->Hold();
  Pending running(0, 1);
  ASSERT_TRUE(batcher.Enqueue(running.request).ok());
  while (model_->batch_sizes().empty()) std::this_thread::sleep_for(milliseconds(1));
  Pending bulk(100, 1, v1::BULK), interactive(200, 1, v1::INTERACTIVE);
  ASSERT_TRUE(batcher.Enqueue(bulk.request).ok());
  ASSERT_TRUE(batcher.Enqueue(interactive.request).ok());
  model_->Release();
  ASSERT_TRUE(bulk.Wait());
  ASSERT_TRUE(interactive.Wait());
  EXPECT_EQ(model_->computed(), (std::vector<std::string>{"0", "200", "100"}));
}

TEST_F(DynamicBatcherTest, StarvedBulkWorkGoesFirst) {
  BatchingPolicy policy = Policy(1, 0);
  policy.bulk_starvation_us = 10000;
  DynamicBatcher batcher(model_, policy, {Device{}}, nullptr);
  model_->Hold();
  Pending running(0, 1);
  ASSERT_TRUE(batcher.Enqueue(running.request).ok());
  while (model_->batch_sizes().empty()) std::this_thread::sleep_for(milliseconds(1));
  Pending bulk(100, 1, v1::BULK);
  ASSERT_TRUE(batcher.Enqueue(bulk.request).ok());
  std::this_thread::sleep_for(milliseconds(30));
  Pending interactive(200, 1, v1::INTERACTIVE);
  ASSERT_TRUE(batcher.Enqueue(interactive.request).ok());
  model_->Release();
  ASSERT_TRUE(bulk.Wait());
  ASSERT_TRUE(interactive.Wait());
  EXPECT_EQ(model_->computed(), (std::vector<std::string>{"0", "100", "200"}));
}

TEST_F(DynamicBatcherTest, EightProducersLoseAndDuplicateNothing) {
  model_->set_delay(milliseconds(0));
  DynamicBatcher batcher(model_, Policy(16, 200), {Device{}, Device{}}, nullptr);
  constexpr int kProducers = 8, kRequests = 200;
  std::vector<std::thread> producers;
  std::atomic<int> failures{0}, wrong{0};
  for (int t = 0; t < kProducers; ++t) {
    producers.emplace_back([&, t] {
      for (int r = 0; r < kRequests; ++r) {
        const int first = (t * kRequests + r) * 10;
        Pending p(first, 1 + r % 7);
        if (!batcher.Enqueue(p.request).ok() || !p.Wait() || !p.request->status.ok()) {
          ++failures;
          continue;
        }
        for (size_t i = 0; i < p.texts.size(); ++i) {
          if (p.request->results.score_row(i)[0] != first + static_cast<int>(i)) ++wrong;
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  std::vector<std::string> computed = model_->computed();
  std::set<std::string> unique(computed.begin(), computed.end());
  EXPECT_EQ(unique.size(), computed.size()) << "an input was computed twice";
  size_t expected = 0;
  for (int r = 0; r < kRequests; ++r) expected += 1 + r % 7;
  EXPECT_EQ(computed.size(), expected * kProducers);
}

TEST_F(DynamicBatcherTest, DestroyingTheBatcherFinishesQueuedWork) {
  auto batcher = std::make_unique<DynamicBatcher>(model_, Policy(2, 50000), std::vector<Device>{Device{}}, nullptr);
  Pending a(0, 3), b(10, 3);
  ASSERT_TRUE(batcher->Enqueue(a.request).ok());
  ASSERT_TRUE(batcher->Enqueue(b.request).ok());
  batcher.reset();
  EXPECT_TRUE(a.Wait(milliseconds(0)));
  EXPECT_TRUE(b.Wait(milliseconds(0)));
  EXPECT_TRUE(b.request->status.ok());
  EXPECT_EQ(b.request->results.score_row(2)[0], 12);
}

}  // namespace
}  // namespace textclf::runtime
