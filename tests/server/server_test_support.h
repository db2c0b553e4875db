// Helpers for tests that talk to a real textclf server over loopback gRPC: start a server on a
// model root, call it through the generated stub, train from vectors of texts, look at the disk.
#pragma once

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/server.h"
#include "textclf/v1/server_config.pb.h"
#include "textclf/v1/service.grpc.pb.h"

namespace textclf::testing {

// Texts with string labels, as a client sends them.
struct Labeled {
  std::vector<std::string> texts;
  std::vector<std::string> labels;
  size_t size() const { return texts.size(); }
  void Add(std::string text, std::string label) {
    texts.push_back(std::move(text));
    labels.push_back(std::move(label));
  }
};

// The real clickbait data ("news" / "clickbait"), split 80/20 stratified with a fixed seed;
// loaded once per process. Aborts the test (ASSERT in the caller) when the data is missing.
struct ClickbaitSplit {
  Labeled train;
  Labeled test;
};
const ClickbaitSplit& Clickbait();
// `per_class` examples of each class from the clickbait training side, starting at the
// `offset`-th example of each class, each at most `max_bytes` long; in alternating class order.
Labeled ClickbaitSlice(size_t per_class, size_t offset = 0, size_t max_bytes = 1 << 20);
// The same from the held-out side.
Labeled ClickbaitTestSlice(size_t per_class, size_t offset = 0);
// The same from any labelled set.
Labeled Interleave(const Labeled& from, size_t per_class, size_t offset = 0, size_t max_bytes = 1 << 20);

// A loopback configuration: port 0, 127.0.0.1, 2 threads, the given model root.
v1::ServerConfig TestConfig(const std::filesystem::path& models_dir);

// An in-process server and a client channel to it.
class TestServer {
 public:
  // Starts a server (port 0 picks a free one); on failure returns null and records a gtest
  // failure.
  static std::unique_ptr<TestServer> Start(const std::filesystem::path& models_dir,
                                           const std::function<void(v1::ServerConfig&)>& adjust = {});
  static std::unique_ptr<TestServer> Start(v1::ServerConfig config, server::ServeOptions options = {});
  ~TestServer();

  server::Server& server() { return *server_; }
  std::string address() const;
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  v1::Classifier::Stub& stub() { return *stub_; }
  // Shuts the server down (grace period in seconds) and destroys it; idempotent.
  void Stop(double grace_seconds = 1.0);

 private:
  TestServer() = default;
  std::unique_ptr<server::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Classifier::Stub> stub_;
};

// A channel to `address` whose every call carries `authorization: Bearer <token>` (added by a
// client interceptor, so every helper below works with it, over plaintext as over TLS).
std::shared_ptr<grpc::Channel> ChannelWithToken(const std::string& address, const std::string& token,
                                                std::shared_ptr<grpc::ChannelCredentials> credentials =
                                                    grpc::InsecureChannelCredentials(),
                                                const grpc::ChannelArguments& args = {});

// A TrainStart for a Zest model named `name`.
v1::TrainStart ZestStart(const std::string& name);

struct TrainCall {
  grpc::Status status;
  bool got_result = false;
  v1::TrainResult result;
  std::vector<v1::TrainProgress> progress;
};
// Runs one Train call: the start, then the TRAIN examples and the EVAL examples in batches,
// then reads every response. Writes that fail (the server answered early) stop the upload.
TrainCall Train(v1::Classifier::Stub& stub, const v1::TrainStart& start, const Labeled& train,
                const Labeled& eval = {}, int batch_size = 500);
// Sends raw requests as they are (for malformed streams).
TrainCall TrainRaw(v1::Classifier::Stub& stub, const std::vector<v1::TrainRequest>& requests);

struct ClassifyCall {
  grpc::Status status;
  v1::ClassifyResponse response;
};
ClassifyCall Classify(v1::Classifier::Stub& stub, const v1::ClassifyRequest& request);
ClassifyCall Classify(v1::Classifier::Stub& stub, const std::string& model,
                      const std::vector<std::string>& texts, int64_t version = 0);

struct EvaluateCall {
  grpc::Status status;
  v1::EvaluateResponse response;
};
EvaluateCall Evaluate(v1::Classifier::Stub& stub, const std::string& model, int64_t version,
                      const std::string& dataset, const Labeled& examples, int batch_size = 1000);
// Any example batches (e.g. tensors), as given.
EvaluateCall Evaluate(v1::Classifier::Stub& stub, const std::string& model, int64_t version,
                      const std::string& dataset, const std::vector<v1::ExampleBatch>& batches);

// Unary calls answering {status, response}.
template <typename Response>
struct Call {
  grpc::Status status;
  Response response;
};
Call<v1::ListModelsResponse> ListModels(v1::Classifier::Stub& stub);
Call<v1::ModelInfo> GetModel(v1::Classifier::Stub& stub, const std::string& name);
Call<v1::ModelInfo> LoadModel(v1::Classifier::Stub& stub, const std::string& name, int64_t version);
Call<v1::ModelInfo> UnloadModel(v1::Classifier::Stub& stub, const std::string& name, int64_t version);
Call<v1::DeleteModelResponse> DeleteModel(v1::Classifier::Stub& stub, const std::string& name,
                                          int64_t version);

// The VersionInfo of `version` in `info`, or null.
const v1::VersionInfo* FindVersion(const v1::ModelInfo& info, int64_t version);
// Version numbers listed in `info`, ascending as the server lists them.
std::vector<int64_t> Versions(const v1::ModelInfo& info);

// Disk: the names of the entries directly inside `dir` (sorted; empty when `dir` is missing).
std::vector<std::string> DirEntries(const std::filesystem::path& dir);
// Every regular file under `root` (relative path) with its content.
std::map<std::string, std::string> ReadTree(const std::filesystem::path& root);

// "<code>: <message>" for failure output.
std::string Describe(const grpc::Status& status);

}  // namespace textclf::testing
