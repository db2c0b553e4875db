// RPCs of parts not built yet answer UNIMPLEMENTED, saying what is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

class UnimplementedRpcsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
  }
  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(UnimplementedRpcsTest, QuantizeAnswersUnimplemented) {
  grpc::ClientContext context;
  auto stream = server_->stub().Quantize(&context);
  v1::QuantizeRequest request;
  request.mutable_start()->set_model("cnn");
  stream->Write(request);
  stream->WritesDone();
  v1::QuantizeResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("CNN"));
}

}  // namespace
}  // namespace textclf::testing
