// The data.pkl reader: state dicts as torch.save writes them come out as tensor references;
// crafted pickles are refused by name instead of crashing the process.
#include "core/cnn/state_dict_unpickler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/core/cnn/checkpoint_bytes.h"

namespace textclf::cnn {
namespace {

using ::testing::HasSubstr;
using testing::PickleWriter;

TEST(StateDictUnpickler, ReadsTensorReferencesInFileOrder) {
  auto entries = UnpickleStateDict(testing::StateDictPickle(
      {{.name = "fc.weight", .storage_numel = 6, .shape = {2, 3}, .stride = {3, 1}},
       {.name = "fc.bias", .storage_type = "LongStorage", .key = "1", .location = "cuda:0", .storage_numel = 2,
        .offset = 1, .shape = {1}, .stride = {1}}}));
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].first, "fc.weight");
  EXPECT_EQ((*entries)[0].second.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ((*entries)[0].second.stride, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ((*entries)[1].first, "fc.bias");
  EXPECT_EQ((*entries)[1].second.storage_type, "LongStorage");
  EXPECT_EQ((*entries)[1].second.storage_key, "1");
  EXPECT_EQ((*entries)[1].second.location, "cuda:0");
  EXPECT_EQ((*entries)[1].second.storage_offset, 1);
}

// TUPLE1 right after a MARK once took the value below the mark; the TUPLE that followed then
// copied the stack from beyond its end.
TEST(StateDictUnpickler, TupleOpcodesDoNotTakeValuesBelowTheMark) {
  for (char op : {'\x85', '\x86', '\x87'}) {
    PickleWriter w;
    w.Int(1).Int(2).Int(3).Op('(').Op(op).Op('t');
    auto entries = UnpickleStateDict(w.bytes());
    ASSERT_FALSE(entries.ok());
    EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(entries.status().message(), HasSubstr("stack underflow"));
  }
}

// Half a million nested 1-tuples: destroying them recursed once per level and overflowed the
// stack.
TEST(StateDictUnpickler, DeepNestingIsRefused) {
  PickleWriter tuples;
  tuples.Int(1).Repeat("\x85", 500'000);
  auto entries = UnpickleStateDict(tuples.bytes());
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(), HasSubstr("nested more than 64 deep"));

  PickleWriter lists;  // each list appended into the one below it
  lists.Repeat("]", 500'000).Repeat("a", 499'999);
  entries = UnpickleStateDict(lists.bytes());
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(), HasSubstr("nested more than 64 deep"));
}

// Through the memo a list could be appended to itself, or to a list inside it: a cycle of
// shared pointers that is never freed, and unbounded nesting.
TEST(StateDictUnpickler, ContainersCannotHoldThemselves) {
  PickleWriter direct;
  direct.Op(']').Put(0).Get(0).Op('a');
  auto entries = UnpickleStateDict(direct.bytes());
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(), HasSubstr("holds itself"));

  PickleWriter indirect;  // outer = [inner]; then inner.append(outer)
  indirect.Op(']').Put(0).Op(']').Put(1).Op('a').Get(1).Get(0).Op('a');
  entries = UnpickleStateDict(indirect.bytes());
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(), HasSubstr("APPEND on a list inside another value"));

  PickleWriter dict;  // a dict set as a value of itself
  dict.Op('}').Put(0).Str("key").Get(0).Op('s');
  entries = UnpickleStateDict(dict.bytes());
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(), HasSubstr("holds itself"));
}

// Two bytes of BINGET push one more value: a small pickle could fill gigabytes of stack.
TEST(StateDictUnpickler, NumberOfValuesIsBounded) {
  PickleWriter w;
  w.Int(7).Put(0).Repeat(std::string("h\x00", 2), 2'000'000);
  auto entries = UnpickleStateDict(w.bytes());
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(), HasSubstr("more than 1048576 values"));
}

TEST(StateDictUnpickler, ForeignCallsAndTruncationAreNamed) {
  PickleWriter call;
  call.Global("os", "system").Str("true").Op('\x85').Op('R');
  EXPECT_THAT(UnpickleStateDict(call.bytes()).status().message(), HasSubstr("it calls os.system"));
  const std::string whole = testing::StateDictPickle({{.name = "w", .storage_numel = 1, .shape = {1}, .stride = {1}}});
  EXPECT_THAT(UnpickleStateDict(whole.substr(0, whole.size() - 1)).status().message(), HasSubstr("no STOP"));
  EXPECT_THAT(UnpickleStateDict(whole.substr(0, 40)).status().message(), HasSubstr("truncated"));
}

}  // namespace
}  // namespace textclf::cnn
