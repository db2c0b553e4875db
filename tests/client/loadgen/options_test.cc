// Flag combinations: what loadgen accepts, and the usage errors it gives before sending anything.
#include <CLI/CLI.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/loadgen/channel_pool.h"
#include "client/loadgen/options.h"

namespace textclf::loadgen {
namespace {

using ::testing::HasSubstr;

// Parses `args` as the command line would; returns Finalize's message ("" when usable).
std::string Parse(std::vector<std::string> args, Options* options) {
  CLI::App app;
  AddFlags(app, *options);
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments back to front
  app.parse(args);
  return Finalize(*options);
}

TEST(Options, ReadsCommaSeparatedTargetsAndConcurrencySweep) {
  Options o;
  EXPECT_EQ(Parse({"--target", "a:1,b:2", "--model", "m", "--text-file", "t.txt", "--concurrency", "1,8,32"}, &o), "");
  EXPECT_EQ(o.targets, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(o.concurrency, (std::vector<int>{1, 8, 32}));
  EXPECT_FALSE(o.open_loop());
}

TEST(Options, ExpandsConcurrencyAndRateRanges) {
  Options closed;
  EXPECT_EQ(Parse({"--health", "--concurrency", "1:9:4,16:64:x2"}, &closed), "");
  EXPECT_EQ(closed.concurrency, (std::vector<int>{1, 5, 9, 16, 32, 64}));
  Options open;
  EXPECT_EQ(Parse({"--health", "--rate", "100:300:100"}, &open), "");
  EXPECT_EQ(open.rates, (std::vector<double>{100, 200, 300}));
}

TEST(Options, RefusesConcurrencyRangesThatAreNotWholeNumbers) {
  Options o;
  EXPECT_THAT(Parse({"--health", "--concurrency", "1:4:x1.5"}, &o), HasSubstr("whole numbers; 1.5"));
  Options bad_range;
  EXPECT_THAT(Parse({"--health", "--concurrency", "8:1:1"}, &bad_range), HasSubstr("--concurrency: \"8:1:1\""));
}

TEST(Options, DefaultsToOneRequestInFlight) {
  Options o;
  EXPECT_EQ(Parse({"--model", "m", "--text-file", "t.txt"}, &o), "");
  EXPECT_EQ(o.concurrency, std::vector<int>{1});
}

TEST(Options, RefusesConcurrencyAndRateTogether) {
  Options o;
  EXPECT_THAT(Parse({"--model", "m", "--text-file", "t", "--concurrency", "4", "--rate", "100"}, &o),
              HasSubstr("not both"));
}

TEST(Options, NeedsAModelAndTextsExceptForHealthChecks) {
  Options o;
  EXPECT_THAT(Parse({"--text-file", "t"}, &o), HasSubstr("--model"));
  Options no_texts;
  EXPECT_THAT(Parse({"--model", "m"}, &no_texts), HasSubstr("--csv"));
  Options health;
  EXPECT_EQ(Parse({"--health", "--rate", "50"}, &health), "");
  EXPECT_TRUE(health.open_loop());
}

TEST(Options, NeedsALabelColumnForEvaluateRequests) {
  Options o;
  EXPECT_THAT(Parse({"--model", "m", "--csv", "f.csv", "--mix", "classify=90,evaluate=10"}, &o),
              HasSubstr("--label-column"));
}

TEST(Options, RefusesAnUnknownArrivalProcess) {
  Options o;
  EXPECT_THAT(Parse({"--health", "--rate", "5", "--arrivals", "bursty"}, &o), HasSubstr("--arrivals"));
}

TEST(ParseMix, ReadsNamedWeights) {
  std::string error;
  const MixWeights mix = ParseMix("classify=90,evaluate=10", &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(mix.classify, 90);
  EXPECT_EQ(mix.evaluate, 10);
}

TEST(ParseMix, NamesWhatIsWrong) {
  std::string error;
  ParseMix("classify=ninety", &error);
  EXPECT_THAT(error, HasSubstr("classify=ninety"));
  error.clear();
  ParseMix("train=5", &error);
  EXPECT_THAT(error, HasSubstr("unknown request kind \"train\""));
  error.clear();
  ParseMix("classify=0", &error);
  EXPECT_THAT(error, HasSubstr("zero"));
}

TEST(ChannelPool, HandsOutEveryChannelInTurn) {
  ChannelPool pool({"127.0.0.1:1", "127.0.0.1:2"}, 2);
  ASSERT_EQ(pool.size(), 4u);
  std::vector<size_t> order;
  for (int i = 0; i < 8; ++i) order.push_back(pool.NextIndex());
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 0, 1, 2, 3}));
}

}  // namespace
}  // namespace textclf::loadgen
