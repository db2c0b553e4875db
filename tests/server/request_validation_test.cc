// Classify's request checks on their own: each refusal says what to change.
#include "server/request_validation.h"

#include <gtest/gtest.h>

namespace textclf::server {
namespace {

v1::ServerLimits Limits() {
  v1::ServerLimits limits;
  limits.set_max_texts_per_request(2);
  limits.set_max_text_bytes(5);
  return limits;
}

v1::ClassifyRequest Request(std::initializer_list<std::string> texts) {
  v1::ClassifyRequest r;
  r.set_model("news");
  for (const std::string& t : texts) r.add_texts(t);
  return r;
}

std::string Refusal(const v1::ClassifyRequest& r) {
  absl::Status s = ValidateRequest(r, Limits());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

TEST(RequestValidation, AcceptsTextsWithinTheLimits) {
  EXPECT_TRUE(ValidateRequest(Request({"hello", "é"}), Limits()).ok());
}

TEST(RequestValidation, RefusalsSayWhatToChange) {
  v1::ClassifyRequest unnamed = Request({"a"});
  unnamed.clear_model();
  EXPECT_EQ(Refusal(unnamed), "model is empty; name the model to use");
  EXPECT_NE(Refusal(Request({})).find("no texts"), std::string::npos);
  EXPECT_NE(Refusal(Request({"a", "b", "c"})).find("the limit is 2"), std::string::npos);
  EXPECT_NE(Refusal(Request({"a", "toolong"})).find("texts[1] has 7 bytes"), std::string::npos);
  EXPECT_NE(Refusal(Request({""})).find("texts[0] is empty"), std::string::npos);
  EXPECT_NE(Refusal(Request({"\xff"})).find("not valid UTF-8"), std::string::npos);
  v1::ClassifyRequest negative = Request({"a"});
  negative.set_version(-1);
  EXPECT_NE(Refusal(negative).find("version"), std::string::npos);
  negative.set_version(0);
  negative.set_top_k(-1);
  EXPECT_NE(Refusal(negative).find("top_k"), std::string::npos);
}

// JSON clients send plain strings; the same checks apply to them.
TEST(RequestValidation, TextStringsPassTheSameChecks) {
  v1::ClassifyRequest strings;
  strings.set_model("news");
  strings.add_text_strings("hello");
  EXPECT_TRUE(ValidateRequest(strings, Limits()).ok());
  strings.add_text_strings("toolong");
  EXPECT_NE(Refusal(strings).find("text_strings[1] has 7 bytes"), std::string::npos);
  v1::ClassifyRequest both = Request({"a"});
  both.add_text_strings("b");
  EXPECT_NE(Refusal(both).find("both texts and text_strings"), std::string::npos);
  v1::ClassifyRequest many;
  many.set_model("news");
  for (int i = 0; i < 3; ++i) many.add_text_strings("x");
  EXPECT_NE(Refusal(many).find("the limit is 2"), std::string::npos);
}

}  // namespace
}  // namespace textclf::server
