// The standard grpc.health.v1 service and server reflection, called over loopback by method path
// (this gRPC package ships no client stubs for either).
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/server/reflection_probe.pb.h"
#include "tests/server/server_test_support.h"
#include "tests/support/health_probe.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::Contains;

constexpr char kReflection[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
  }
  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(HealthTest, ReportsServingForTheClassifierServiceAndTheWholeServer) {
  for (const std::string service : {"textclf.v1.Classifier", ""}) {
    health::HealthCheckResponse response;
    grpc::Status status = CheckHealth(server_->channel().get(), service, &response);
    ASSERT_TRUE(status.ok()) << "service \"" << service << "\": " << Describe(status);
    EXPECT_EQ(response.status(), HealthStatus::SERVING) << "service \"" << service << "\"";
  }
}

TEST_F(HealthTest, AnswersNotFoundForAnUnknownService) {
  health::HealthCheckResponse response;
  grpc::Status status = CheckHealth(server_->channel().get(), "no.such.Service", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
}

TEST_F(HealthTest, TurnsNotServingWhenShutdownBegins) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto watch = WatchHealth(server_->channel().get(), &context, "textclf.v1.Classifier");
  health::HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthStatus::SERVING);

  // Shutdown waits (up to its grace period) for the open Watch, so it runs on another thread.
  std::thread shutdown([&] { server_->server().Shutdown(/*grace_seconds=*/5.0); });
  bool saw_not_serving = false;
  while (watch->Read(&response)) {
    if (response.status() == HealthStatus::NOT_SERVING) {
      saw_not_serving = true;
      break;
    }
  }
  context.TryCancel();
  (void)watch->Finish();
  shutdown.join();
  EXPECT_TRUE(saw_not_serving) << "the Watch never reported NOT_SERVING during shutdown";
}

TEST_F(HealthTest, ReflectionListsTheClassifierServiceAndServesItsDescriptor) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::unique_ptr<grpc::ClientReaderWriter<testprobe::ServerReflectionRequest, testprobe::ServerReflectionResponse>>
      stream(grpc::internal::ClientReaderWriterFactory<testprobe::ServerReflectionRequest,
                                                       testprobe::ServerReflectionResponse>::
                 Create(server_->channel().get(),
                        grpc::internal::RpcMethod(kReflection, grpc::internal::RpcMethod::BIDI_STREAMING), &context));
  testprobe::ServerReflectionRequest request;
  request.set_list_services("*");
  ASSERT_TRUE(stream->Write(request));
  testprobe::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.has_list_services_response()) << response.DebugString();
  std::vector<std::string> services;
  for (const auto& s : response.list_services_response().service()) services.push_back(s.name());
  EXPECT_THAT(services, Contains("textclf.v1.Classifier"));
  EXPECT_THAT(services, Contains("grpc.health.v1.Health"));

  request.set_file_containing_symbol("textclf.v1.Classifier");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(response.has_file_descriptor_response()) << response.DebugString();
  bool found = false;
  for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    for (const auto& service : file.service()) {
      if (file.package() == "textclf.v1" && service.name() == "Classifier") {
        found = true;
        std::vector<std::string> methods;
        for (const auto& m : service.method()) methods.push_back(m.name());
        EXPECT_THAT(methods, Contains("Classify"));
        EXPECT_THAT(methods, Contains("Train"));
      }
    }
  }
  EXPECT_TRUE(found) << "no descriptor of textclf.v1.Classifier among the files served";
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace textclf::testing
