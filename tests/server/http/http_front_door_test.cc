// The HTTP/REST port through the real server on loopback: the Open Inference Protocol's JSON
// inference and the native classify route answer what Classify answers (a Zest model here, the
// CNNs in http_cnn_test.cc), readiness follows load and unload, bad requests get {"error": ...} with the right HTTP
// status, and the gRPC port's drain, tokens, roles and mutual TLS hold here too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/server.h"
#include "tests/server/http/http_test_client.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

class HttpZestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CopyFixtureModels(kZestGood, root_.path()));
    server_ = StartWithHttp(root_.path());
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(server_->server().http_port(), 0);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", server_->server().http_port());
    texts_ = ClickbaitTestSlice(10).texts;
  }

  v1::ClassifyResponse Native() {
    v1::ClassifyRequest request;
    request.set_model("good");
    for (const auto& t : texts_) request.add_texts(t);
    request.set_all_scores(true);
    ClassifyCall call = Classify(server_->stub(), request);
    EXPECT_TRUE(call.status.ok()) << Describe(call.status);
    return call.response;
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<httplib::Client> http_;
  std::vector<std::string> texts_;
};

TEST_F(HttpZestTest, InferAndClassifyAnswerWhatClassifyAnswers) {
  const v1::ClassifyResponse native = Native();
  for (bool nested : {false, true}) {
    SCOPED_TRACE(nested ? "data nested as [N, 1]" : "flat data");
    HttpAnswer infer = Post(*http_, "/v2/models/good/infer", TextInferBody(texts_, nested).dump());
    ASSERT_EQ(infer.status, 200) << infer.body.dump();
    EXPECT_EQ(infer.body["model_name"], "good");
    EXPECT_EQ(infer.body["model_version"], std::to_string(native.version()));
    EXPECT_EQ(infer.body["id"], "req-42");
    ExpectSamePredictions(infer.body, native);
  }
  HttpAnswer versioned = Post(*http_, "/v2/models/good/versions/" + std::to_string(native.version()) + "/infer",
                              TextInferBody(texts_, false).dump());
  ASSERT_EQ(versioned.status, 200) << versioned.body.dump();
  ExpectSamePredictions(versioned.body, native);

  // Without "outputs", the protocol's defaults: label and probability.
  Json defaults = TextInferBody(texts_, false);
  defaults.erase("outputs");
  HttpAnswer plain = Post(*http_, "/v2/models/good/infer", defaults.dump());
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body["outputs"].size(), 2u);
  EXPECT_EQ(Output(plain.body, "probabilities"), nullptr);

  Json classify = {{"texts", texts_}, {"top_k", 2}, {"all_scores", true}};
  HttpAnswer classified = Post(*http_, "/v1/models/good:classify", classify.dump());
  ASSERT_EQ(classified.status, 200) << classified.body.dump();
  EXPECT_EQ(classified.body["model"], "good");
  ASSERT_EQ(classified.body["predictions"].size(), texts_.size());
  for (size_t i = 0; i < texts_.size(); ++i) {
    const Json& p = classified.body["predictions"][i];
    EXPECT_EQ(p["label"], native.predictions(static_cast<int>(i)).label());
    EXPECT_FLOAT_EQ(p["confidence"].get<float>(), native.predictions(static_cast<int>(i)).confidence());
    EXPECT_EQ(p["top"].size(), 2u);
  }

  // Counted with the model's requests, as gRPC calls are: one Classify, five over HTTP.
  grpc::ClientContext context;
  v1::ModelStatisticsRequest stats_request;
  stats_request.set_model("good");
  v1::ModelStatisticsResponse stats;
  ASSERT_TRUE(server_->stub().ModelStatistics(&context, stats_request, &stats).ok());
  ASSERT_EQ(stats.versions_size(), 1);
  EXPECT_EQ(stats.versions(0).requests_by_code().at("OK"), 6);
}

TEST_F(HttpZestTest, ReadinessAndMetadataFollowTheModels) {
  HttpAnswer live = Get(*http_, "/v2/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(Get(*http_, "/v2/health/ready").status, 200);
  EXPECT_EQ(Get(*http_, "/v2/models/good/ready").status, 200);
  EXPECT_EQ(Get(*http_, "/v2/models/good/versions/1/ready").status, 200);

  HttpAnswer server = Get(*http_, "/v2");
  EXPECT_EQ(server.body["name"], "textclf");
  HttpAnswer metadata = Get(*http_, "/v2/models/good");
  ASSERT_EQ(metadata.status, 200);
  EXPECT_EQ(metadata.body["platform"], "textclf_zest");
  EXPECT_EQ(metadata.body["inputs"][0]["name"], "text");
  EXPECT_EQ(metadata.body["inputs"][0]["datatype"], "BYTES");
  EXPECT_EQ(metadata.body["inputs"][0]["shape"], Json::array({-1}));
  EXPECT_EQ(metadata.body["classes"].size(), 2u);
  EXPECT_EQ(Get(*http_, "/v2/models/good/versions/1").status, 200);

  ASSERT_TRUE(UnloadModel(server_->stub(), "good", 0).status.ok());
  HttpAnswer unloaded = Get(*http_, "/v2/models/good/ready");
  EXPECT_EQ(unloaded.status, 400) << "the protocol's 4xx for false";
  EXPECT_EQ(unloaded.body["ready"], false);
  EXPECT_NE(Post(*http_, "/v2/models/good/infer", TextInferBody(texts_, false).dump()).status, 200);
  ASSERT_TRUE(LoadModel(server_->stub(), "good", 0).status.ok());
  EXPECT_EQ(Get(*http_, "/v2/models/good/ready").status, 200);

  HttpAnswer unknown = Get(*http_, "/v2/models/nothing-here/ready");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body["error"].get<std::string>(), HasSubstr("nothing-here"));
  EXPECT_EQ(Get(*http_, "/v2/models/good/versions/9/ready").status, 404);
}

TEST_F(HttpZestTest, BadRequestsGetTheProtocolsErrorAndStatus) {
  struct Case {
    std::string name, path, body;
    int status;
    std::string says;
  };
  Json wrong_type = TextInferBody(texts_, false);
  wrong_type["inputs"][0]["datatype"] = "INT64";
  Json numbers_for_text = TextInferBody({"a"}, false);
  numbers_for_text["inputs"][0]["data"] = Json::array({1});
  Json wrong_shape = TextInferBody(texts_, false);
  wrong_shape["inputs"][0]["shape"] = Json::array({texts_.size() + 1});
  Json unknown_key = TextInferBody(texts_, false);
  unknown_key["inptus"] = Json::array();
  Json unknown_output = TextInferBody(texts_, false);
  unknown_output["outputs"] = Json::array({{{"name", "logits"}}});
  const std::vector<Case> cases = {
      {"malformed JSON", "/v2/models/good/infer", "{\"inputs\": [", 400, "not JSON"},
      {"not an object", "/v2/models/good/infer", "[1, 2]", 400, "JSON object"},
      {"wrong datatype", "/v2/models/good/infer", wrong_type.dump(), 400, "BYTES (texts)"},
      {"numbers for texts", "/v2/models/good/infer", numbers_for_text.dump(), 400, "JSON strings"},
      {"wrong shape", "/v2/models/good/infer", wrong_shape.dump(), 400, "shape"},
      {"unknown key", "/v2/models/good/infer", unknown_key.dump(), 400, "inptus"},
      {"unknown output", "/v2/models/good/infer", unknown_output.dump(), 400, "logits"},
      {"unknown model", "/v2/models/nothing-here/infer", TextInferBody(texts_, false).dump(), 404, "nothing-here"},
      {"bad version", "/v2/models/good/versions/x1/infer", TextInferBody(texts_, false).dump(), 400, "version"},
      {"empty text", "/v1/models/good:classify", R"({"texts": [""]})", 400, "empty"},
      {"texts not strings", "/v1/models/good:classify", R"({"texts": [7]})", 400, "holds strings"},
      {"classify typo", "/v1/models/good:classify", R"({"text": ["a"]})", 400, "unknown key"},
      {"no route", "/v3/anything", "{}", 404, "no route"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpAnswer answer = Post(*http_, c.path, c.body);
    EXPECT_EQ(answer.status, c.status) << answer.body.dump();
    ASSERT_TRUE(answer.body.contains("error")) << answer.body.dump();
    EXPECT_THAT(answer.body["error"].get<std::string>(), HasSubstr(c.says));
  }
  // Invalid UTF-8 inside a JSON string is malformed JSON.
  HttpAnswer bad_utf8 = Post(*http_, "/v1/models/good:classify", std::string("{\"texts\": [\"\xff\xfe\"]}"));
  EXPECT_EQ(bad_utf8.status, 400);
  // The server still answers after all of them.
  EXPECT_EQ(Post(*http_, "/v2/models/good/infer", TextInferBody(texts_, false).dump()).status, 200);
}

TEST(HttpFrontDoor, ABodyPastTheLimitGets413BeforeItIsRead) {
  TempDir root;
  ASSERT_TRUE(CopyFixtureModels(kZestGood, root.path()));
  auto server = StartWithHttp(root.path(), [](v1::ServerConfig& c) { c.mutable_limits()->set_max_http_body_bytes(4096); });
  ASSERT_NE(server, nullptr);
  httplib::Client http("127.0.0.1", server->server().http_port());
  const std::vector<std::string> texts(200, "Twenty things you did not know about JSON");
  HttpAnswer big = Post(http, "/v2/models/good/infer", TextInferBody(texts, false).dump());
  EXPECT_EQ(big.status, 413);
  EXPECT_THAT(big.body["error"].get<std::string>(), HasSubstr("max_http_body_bytes"));
  EXPECT_EQ(Post(http, "/v2/models/good/infer", TextInferBody({"a short one"}, false).dump()).status, 200);
}

TEST(HttpFrontDoor, TokensAndRolesHoldAsOnTheGrpcPort) {
  TempDir root;
  ASSERT_TRUE(CopyFixtureModels(kZestGood, root.path() / "models"));
  WriteTestFile(root.path() / "tokens", "client client-token-0123456789\n");
  auto server = StartWithHttp(root.path() / "models",
                              [&](v1::ServerConfig& c) { c.set_auth_tokens_file((root.path() / "tokens").string()); });
  ASSERT_NE(server, nullptr);
  httplib::Client http("127.0.0.1", server->server().http_port());
  const std::string body = TextInferBody({"Ten cats that look like famous people"}, false).dump();
  HttpAnswer anonymous = Post(http, "/v2/models/good/infer", body);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_THAT(anonymous.body["error"].get<std::string>(), HasSubstr("Bearer"));
  EXPECT_EQ(Get(http, "/v2/models/good").status, 401);
  // Probes need no token.
  EXPECT_EQ(Get(http, "/v2/health/ready").status, 200);
  http.set_bearer_token_auth("not-this-one");
  EXPECT_EQ(Post(http, "/v2/models/good/infer", body).status, 401);
  http.set_bearer_token_auth("client-token-0123456789");
  EXPECT_EQ(Post(http, "/v2/models/good/infer", body).status, 200);
  EXPECT_EQ(Post(http, "/v1/models/good:classify", R"({"texts": ["Senate passes the budget"]})").status, 200);
}

TEST(HttpFrontDoor, MutualTlsNamesTheCallerByItsCertificate) {
  TempDir root;
  ASSERT_TRUE(CopyFixtureModels(kZestGood, root.path() / "models"));
  TestCa ca;
  const PemPair server_pair = ca.Server();
  const PemPair reader = ca.Client("reader"), nobody = ca.Client("nobody");
  WriteTestFile(root.path() / "server.crt", server_pair.certificate);
  WriteTestFile(root.path() / "server.key", server_pair.key);
  WriteTestFile(root.path() / "ca.crt", ca.certificate());
  for (const auto& [name, pair] : {std::pair{"reader", &reader}, std::pair{"nobody", &nobody}}) {
    WriteTestFile(root.path() / (std::string(name) + ".crt"), pair->certificate);
    WriteTestFile(root.path() / (std::string(name) + ".key"), pair->key);
  }
  WriteTestFile(root.path() / "tokens", "client cert:reader\n");
  auto server = StartWithHttp(root.path() / "models", [&](v1::ServerConfig& c) {
    c.mutable_tls()->set_cert_file((root.path() / "server.crt").string());
    c.mutable_tls()->set_key_file((root.path() / "server.key").string());
    c.mutable_tls()->set_client_ca_file((root.path() / "ca.crt").string());
    c.set_auth_tokens_file((root.path() / "tokens").string());
  });
  ASSERT_NE(server, nullptr);
  auto as = [&](const std::string& who) {
    auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", server->server().http_port(),
                                                       (root.path() / (who + ".crt")).string(),
                                                       (root.path() / (who + ".key")).string());
    client->set_ca_cert_path((root.path() / "ca.crt").string().c_str());
    client->enable_server_certificate_verification(true);
    return client;
  };
  const std::string body = TextInferBody({"Senate passes the budget"}, false).dump();
  EXPECT_EQ(Post(*as("reader"), "/v2/models/good/infer", body).status, 200);
  EXPECT_EQ(Post(*as("nobody"), "/v2/models/good/infer", body).status, 401) << "a valid certificate the file does not name";
  // Without a client certificate the handshake itself fails.
  httplib::SSLClient anonymous("127.0.0.1", server->server().http_port());
  anonymous.set_ca_cert_path((root.path() / "ca.crt").string().c_str());
  EXPECT_FALSE(anonymous.Post("/v2/models/good/infer", body, kJsonType));
}

TEST(HttpFrontDoor, ADrainingServerRefusesWith503AndASecondServerCannotTakeThePort) {
  TempDir root;
  ASSERT_TRUE(CopyFixtureModels(kZestGood, root.path()));
  auto server = StartWithHttp(root.path());
  ASSERT_NE(server, nullptr);
  const int port = server->server().http_port();
  {
    v1::ServerConfig config = TestConfig(root.path());
    config.set_http_port(port);
    auto clash = server::Server::Start(std::move(config));
    ASSERT_FALSE(clash.ok());
    EXPECT_EQ(clash.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(std::string(clash.status().message()), HasSubstr(std::to_string(port)));
  }
  httplib::Client http("127.0.0.1", port);
  ASSERT_TRUE(server->server().Drain(1.0));
  HttpAnswer refused = Post(http, "/v2/models/good/infer", TextInferBody({"a"}, false).dump());
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.body["error"].get<std::string>(), HasSubstr("shutting down"));
  EXPECT_EQ(Get(http, "/v2/health/ready").status, 400);
}

}  // namespace
}  // namespace textclf::testing
