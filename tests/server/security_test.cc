// Who may reach the server and what they may do, through the real server on loopback: TLS and
// mutual TLS with certificates made here, roles from a token file (each RPC with no token, a
// client token and an admin token), --read-only, --import-dir, and the reload of tokens and
// certificates without a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "core/common/files.h"
#include "inference/grpc_predict_v2.grpc.pb.h"
#include "tests/server/server_test_support.h"
#include "tests/support/health_probe.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr char kAdminToken[] = "admin-token-5f1c9a0e7b";
constexpr char kClientToken[] = "client-token-93d2c1b0aa";

std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& ca, const PemPair* client = nullptr) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca;
  if (client != nullptr) {
    options.pem_cert_chain = client->certificate;
    options.pem_private_key = client->key;
  }
  return grpc::SslCredentials(options);
}

// ListModels over `channel`: the cheapest call that needs a working connection.
grpc::Status Ping(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Classifier::NewStub(channel);
  return ListModels(*stub).status;
}

void WriteTokens(const fs::path& path, const std::string& content) { WriteTestFile(path, content); }

std::string TokenFile() {
  return std::string("admin ") + kAdminToken + "\nclient " + kClientToken + "\n";
}

TEST(Security, TlsNeedsTheRightCaAndMutualTlsNeedsAClientCertificate) {
  TempDir root;
  TestCa ca, other_ca("another CA");
  const PemPair server_pair = ca.Server();
  WriteTestFile(root.path() / "server.crt", server_pair.certificate);
  WriteTestFile(root.path() / "server.key", server_pair.key);
  WriteTestFile(root.path() / "ca.crt", ca.certificate());
  auto tls = TestServer::Start(root.path() / "models", [&](v1::ServerConfig& c) {
    c.mutable_tls()->set_cert_file((root.path() / "server.crt").string());
    c.mutable_tls()->set_key_file((root.path() / "server.key").string());
  });
  ASSERT_NE(tls, nullptr);
  EXPECT_FALSE(Ping(grpc::CreateChannel(tls->address(), grpc::InsecureChannelCredentials())).ok())
      << "plaintext reached a TLS server";
  EXPECT_FALSE(Ping(grpc::CreateChannel(tls->address(), Tls(other_ca.certificate()))).ok())
      << "a CA that did not sign the server's certificate was accepted";
  grpc::Status right = Ping(grpc::CreateChannel(tls->address(), Tls(ca.certificate())));
  EXPECT_TRUE(right.ok()) << Describe(right);
  tls->Stop();

  auto mutual = TestServer::Start(root.path() / "models", [&](v1::ServerConfig& c) {
    c.mutable_tls()->set_cert_file((root.path() / "server.crt").string());
    c.mutable_tls()->set_key_file((root.path() / "server.key").string());
    c.mutable_tls()->set_client_ca_file((root.path() / "ca.crt").string());
  });
  ASSERT_NE(mutual, nullptr);
  EXPECT_FALSE(Ping(grpc::CreateChannel(mutual->address(), Tls(ca.certificate()))).ok())
      << "mutual TLS let in a client without a certificate";
  const PemPair stranger = other_ca.Client("stranger");
  EXPECT_FALSE(Ping(grpc::CreateChannel(mutual->address(), Tls(ca.certificate(), &stranger))).ok())
      << "mutual TLS let in a certificate another CA signed";
  const PemPair client = ca.Client("reader");
  grpc::Status with_cert = Ping(grpc::CreateChannel(mutual->address(), Tls(ca.certificate(), &client)));
  EXPECT_TRUE(with_cert.ok()) << Describe(with_cert);
}

// One row per RPC: a minimal call, and whether it needs the admin role.
struct RpcCase {
  std::string name;
  bool admin;
  std::function<grpc::Status(v1::Classifier::Stub&)> call;
};

std::vector<RpcCase> EveryRpc() {
  return {
      {"Classify", false, [](v1::Classifier::Stub& s) { return Classify(s, "model", {"a headline"}).status; }},
      {"Evaluate", false,
       [](v1::Classifier::Stub& s) { return Evaluate(s, "model", 0, "holdout", ClickbaitTestSlice(5)).status; }},
      {"Feedback", false,
       [](v1::Classifier::Stub& s) {
         grpc::ClientContext context;
         v1::FeedbackRequest request;
         request.set_model("model");
         request.set_text("a headline");
         request.set_true_label("news");
         v1::FeedbackResponse response;
         return s.Feedback(&context, request, &response);
       }},
      {"ModelStatistics", false,
       [](v1::Classifier::Stub& s) {
         grpc::ClientContext context;
         v1::ModelStatisticsRequest request;
         v1::ModelStatisticsResponse response;
         return s.ModelStatistics(&context, request, &response);
       }},
      {"ListModels", false, [](v1::Classifier::Stub& s) { return ListModels(s).status; }},
      {"GetModel", false, [](v1::Classifier::Stub& s) { return GetModel(s, "model").status; }},
      {"Train", true,
       [](v1::Classifier::Stub& s) { return Train(s, ZestStart("trained"), ClickbaitSlice(50)).status; }},
      {"Quantize", true,
       [](v1::Classifier::Stub& s) {
         v1::QuantizeRequest start;
         start.mutable_start()->set_model("model");
         start.mutable_start()->set_target_model("model-w8");
         grpc::ClientContext context;
         auto stream = s.Quantize(&context);
         stream->Write(start);
         stream->WritesDone();
         v1::QuantizeResponse response;
         while (stream->Read(&response)) {
         }
         return stream->Finish();
       }},
      {"LoadModel", true, [](v1::Classifier::Stub& s) { return LoadModel(s, "model", 1).status; }},
      {"UnloadModel", true, [](v1::Classifier::Stub& s) { return UnloadModel(s, "model", 1).status; }},
      {"DeleteModel", true, [](v1::Classifier::Stub& s) { return DeleteModel(s, "model", 1).status; }},
  };
}

// A repository with a Zest model "model", served with the admin and client tokens of
// TokenFile(); null (with gtest failures) when that fails.
std::unique_ptr<TestServer> StartWithTokens(const TempDir& root) {
  {
    auto open = TestServer::Start(root.path() / "models");
    if (open == nullptr) return nullptr;
    TrainCall trained = Train(open->stub(), ZestStart("model"), ClickbaitSlice(100));
    EXPECT_TRUE(trained.status.ok()) << Describe(trained.status);
    if (!trained.status.ok()) return nullptr;
  }
  WriteTokens(root.path() / "tokens", TokenFile());
  return TestServer::Start(root.path() / "models", [&](v1::ServerConfig& c) {
    c.set_auth_tokens_file((root.path() / "tokens").string());
  });
}

bool IsAuthRefusal(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAUTHENTICATED || s.error_code() == grpc::StatusCode::PERMISSION_DENIED;
}

TEST(Security, EveryRpcChecksTheCallersRoleBeforeAnyWork) {
  TempDir root;
  auto server = StartWithTokens(root);
  ASSERT_NE(server, nullptr);
  auto anonymous = v1::Classifier::NewStub(grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  auto wrong = v1::Classifier::NewStub(ChannelWithToken(server->address(), "not-a-token-of-this-server"));
  auto client = v1::Classifier::NewStub(ChannelWithToken(server->address(), kClientToken));
  for (const RpcCase& rpc : EveryRpc()) {
    SCOPED_TRACE(rpc.name);
    grpc::Status none = rpc.call(*anonymous);
    EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(none);
    EXPECT_THAT(none.error_message(), HasSubstr("authorization: Bearer"));
    EXPECT_EQ(rpc.call(*wrong).error_code(), grpc::StatusCode::UNAUTHENTICATED);
    grpc::Status as_client = rpc.call(*client);
    if (rpc.admin) {
      EXPECT_EQ(as_client.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(as_client);
      EXPECT_THAT(as_client.error_message(), HasSubstr("admin role"));
    } else {
      EXPECT_FALSE(IsAuthRefusal(as_client)) << Describe(as_client);
    }
  }
  // Nothing a refused caller sent changed the repository.
  EXPECT_EQ(DirEntries(root.path() / "models" / "model"), std::vector<std::string>{"1"});
  EXPECT_TRUE(DirEntries(root.path() / "models" / "trained").empty());
  // The admin may do everything (the delete last: the other calls need the model).
  auto admin = v1::Classifier::NewStub(ChannelWithToken(server->address(), kAdminToken));
  for (const RpcCase& rpc : EveryRpc()) {
    SCOPED_TRACE(rpc.name);
    grpc::Status as_admin = rpc.call(*admin);
    EXPECT_FALSE(IsAuthRefusal(as_admin)) << Describe(as_admin);
  }
  // grpc.health.v1 stays open for probes.
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  health::HealthCheckResponse response;
  grpc::Status health = CheckHealth(channel.get(), "", &response);
  EXPECT_TRUE(health.ok()) << Describe(health);
  EXPECT_EQ(response.status(), HealthStatus::SERVING);
}

// The Open Inference Protocol's front door has the same gate: inference needs a known caller,
// the repository extension's load and unload the admin role; liveness and readiness stay open
// for probes.
TEST(Security, TheOpenInferenceProtocolPassesTheSameGate) {
  TempDir root;
  auto server = StartWithTokens(root);
  ASSERT_NE(server, nullptr);
  auto infer = [](const std::shared_ptr<grpc::Channel>& channel) {
    inference::ModelInferRequest request;
    request.set_model_name("model");
    auto* input = request.add_inputs();
    input->set_name("text");
    input->set_datatype("BYTES");
    input->add_shape(1);
    input->mutable_contents()->add_bytes_contents("You Will Not Believe What Happened Next");
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    return inference::GRPCInferenceService::NewStub(channel)->ModelInfer(&context, request, &response);
  };
  auto unload = [](const std::shared_ptr<grpc::Channel>& channel) {
    inference::RepositoryModelUnloadRequest request;
    request.set_model_name("model");
    grpc::ClientContext context;
    inference::RepositoryModelUnloadResponse response;
    return inference::GRPCInferenceService::NewStub(channel)->RepositoryModelUnload(&context, request, &response);
  };
  auto anonymous = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  auto client = ChannelWithToken(server->address(), kClientToken);
  auto admin = ChannelWithToken(server->address(), kAdminToken);
  EXPECT_EQ(infer(anonymous).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status as_client = infer(client);
  EXPECT_TRUE(as_client.ok()) << Describe(as_client);
  EXPECT_EQ(unload(client).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext live_context;
  inference::ServerLiveResponse live;
  EXPECT_TRUE(inference::GRPCInferenceService::NewStub(anonymous)->ServerLive(&live_context, {}, &live).ok());
  EXPECT_TRUE(live.live());
  grpc::Status as_admin = unload(admin);
  EXPECT_TRUE(as_admin.ok()) << Describe(as_admin);
}

TEST(Security, ACertificateNameCanCarryARole) {
  TempDir root;
  TestCa ca;
  const PemPair server_pair = ca.Server();
  WriteTestFile(root.path() / "server.crt", server_pair.certificate);
  WriteTestFile(root.path() / "server.key", server_pair.key);
  WriteTestFile(root.path() / "ca.crt", ca.certificate());
  WriteTokens(root.path() / "tokens", "admin cert:ops\nclient cert:reader\n");
  auto server = TestServer::Start(root.path() / "models", [&](v1::ServerConfig& c) {
    c.mutable_tls()->set_cert_file((root.path() / "server.crt").string());
    c.mutable_tls()->set_key_file((root.path() / "server.key").string());
    c.mutable_tls()->set_client_ca_file((root.path() / "ca.crt").string());
    c.set_auth_tokens_file((root.path() / "tokens").string());
  });
  ASSERT_NE(server, nullptr);
  const PemPair reader = ca.Client("reader"), ops = ca.Client("ops"), nobody = ca.Client("nobody");
  auto as = [&](const PemPair& who) {
    return v1::Classifier::NewStub(grpc::CreateChannel(server->address(), Tls(ca.certificate(), &who)));
  };
  EXPECT_TRUE(ListModels(*as(reader)).status.ok());
  EXPECT_EQ(DeleteModel(*as(reader), "model", 1).status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(DeleteModel(*as(ops), "model", 1).status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ListModels(*as(nobody)).status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(Security, AReadOnlyServerRefusesEveryChangeAndLeavesTheDiskAlone) {
  TempDir root;
  {
    auto writer = TestServer::Start(root.path());
    ASSERT_NE(writer, nullptr);
    ASSERT_TRUE(Train(writer->stub(), ZestStart("model"), ClickbaitSlice(100)).status.ok());
  }
  const auto before = ReadTree(root.path());
  auto server = TestServer::Start(root.path(), [](v1::ServerConfig& c) { c.set_read_only(true); });
  ASSERT_NE(server, nullptr);
  // Evaluate answers, and records nothing (checked with the disk below).
  EvaluateCall evaluated = Evaluate(server->stub(), "model", 0, "holdout", ClickbaitTestSlice(20));
  EXPECT_TRUE(evaluated.status.ok()) << Describe(evaluated.status);
  for (const RpcCase& rpc : EveryRpc()) {
    SCOPED_TRACE(rpc.name);
    grpc::Status s = rpc.call(server->stub());
    if (rpc.name == "Train" || rpc.name == "Quantize" || rpc.name == "DeleteModel") {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
      EXPECT_THAT(s.error_message(), HasSubstr("--read-only"));
    } else {
      EXPECT_NE(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
    }
  }
  EXPECT_EQ(ReadTree(root.path()), before);
}

// A server file named in a config resolves only under --import-dir, and the answer for a path
// outside it is the one for a path that does not exist.
TEST(Security, ServerPathsInConfigsResolveOnlyUnderTheImportFolder) {
  TempDir root;
  fs::create_directories(root.path() / "imports");
  auto train_with = [&](TestServer& server, const std::string& path) {
    v1::TrainStart start;
    start.set_model("x");
    start.set_family(v1::XCLASS);
    start.add_class_names("a");
    start.add_class_names("b");
    start.mutable_config()->mutable_xclass()->set_encoder_path(path);
    v1::TrainRequest first;
    *first.mutable_start() = start;
    return TrainRaw(server.stub(), {first}).status;
  };
  auto without = TestServer::Start(root.path() / "models");
  ASSERT_NE(without, nullptr);
  grpc::Status none = train_with(*without, (root.path() / "imports").string());
  EXPECT_EQ(none.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(none.error_message(), HasSubstr("--import-dir"));
  without->Stop();

  auto server = TestServer::Start(root.path() / "models", [&](v1::ServerConfig& c) {
    c.set_import_dir((root.path() / "imports").string());
  });
  ASSERT_NE(server, nullptr);
  auto message_for = [&](const std::string& path) {
    grpc::Status s = train_with(*server, path);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << path;
    std::string m = s.error_message();
    const size_t at = m.find(path);
    if (at != std::string::npos) m.replace(at, path.size(), "PATH");
    return m;
  };
  fs::create_symlink("/etc", root.path() / "imports" / "escape");
  const std::string outside_existing = message_for("/etc/passwd");
  EXPECT_EQ(message_for("/etc/no-such-file"), outside_existing);
  EXPECT_EQ(message_for((root.path() / "imports" / "missing").string()), outside_existing);
  EXPECT_EQ(message_for("../models"), outside_existing);
  EXPECT_EQ(message_for("escape/passwd"), outside_existing) << "a symlink out of the folder";
  EXPECT_THAT(outside_existing, HasSubstr("--import-dir"));
}

TEST(Security, TheTokenFileIsReloadedWhenItChanges) {
  TempDir root;
  WriteTokens(root.path() / "tokens", TokenFile());
  auto server = TestServer::Start(root.path() / "models", [&](v1::ServerConfig& c) {
    c.set_auth_tokens_file((root.path() / "tokens").string());
  });
  ASSERT_NE(server, nullptr);
  auto old_token = v1::Classifier::NewStub(ChannelWithToken(server->address(), kAdminToken));
  ASSERT_TRUE(ListModels(*old_token).status.ok());
  const std::string rotated = "admin-token-rotated-77aa01";
  WriteTokens(root.path() / "tokens", std::string("admin ") + rotated + "\n");
  auto new_token = v1::Classifier::NewStub(ChannelWithToken(server->address(), rotated));
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ListModels(*new_token).status.ok() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(ListModels(*new_token).status.ok());
  EXPECT_EQ(ListModels(*old_token).status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // A broken file keeps the table that worked.
  WriteTokens(root.path() / "tokens", "superuser " + rotated + "\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(ListModels(*new_token).status.ok());
}

TEST(Security, ARotatedCertificateIsServedWithoutARestart) {
  TempDir root;
  TestCa first("first CA"), second("second CA");
  const PemPair one = first.Server(), two = second.Server();
  WriteTestFile(root.path() / "server.crt", one.certificate);
  WriteTestFile(root.path() / "server.key", one.key);
  auto server = TestServer::Start(root.path() / "models", [&](v1::ServerConfig& c) {
    c.mutable_tls()->set_cert_file((root.path() / "server.crt").string());
    c.mutable_tls()->set_key_file((root.path() / "server.key").string());
    c.mutable_tls()->set_reload_interval_s(1);
  });
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(Ping(grpc::CreateChannel(server->address(), Tls(first.certificate()))).ok());
  // The key first, then the certificate: gRPC re-reads both and keeps the last good pair.
  WriteTestFile(root.path() / "server.key", two.key);
  WriteTestFile(root.path() / "server.crt", two.certificate);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  bool rotated = false;
  while (!rotated && std::chrono::steady_clock::now() < give_up) {
    // A new channel each time: a new handshake sees the certificate served now.
    rotated = Ping(grpc::CreateChannel(server->address(), Tls(second.certificate()))).ok();
    if (!rotated) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(rotated) << "the server still presents the first certificate";
}

}  // namespace
}  // namespace textclf::testing
