#include "tests/server/server_test_support.h"

#include <grpcpp/support/client_interceptor.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "bench/datasets/data_dir.h"
#include "bench/datasets/datasets.h"

namespace textclf::testing {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kClickbaitSeed = 20240607;

Labeled ToLabeled(const std::vector<std::string>& classes, const std::vector<std::string>& texts,
                  const std::vector<int>& labels) {
  Labeled out;
  for (size_t i = 0; i < texts.size(); ++i) out.Add(texts[i], classes[labels[i]]);
  return out;
}

std::chrono::system_clock::time_point Deadline(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

}  // namespace

const ClickbaitSplit& Clickbait() {
  static const ClickbaitSplit* split = [] {
    auto* s = new ClickbaitSplit();
    auto set = data::LoadClickbait(data::DataDir());
    if (!set.ok()) {
      ADD_FAILURE() << "cannot load clickbait from " << data::DataDir() << ": " << set.status();
      return s;
    }
    data::Dataset d = data::RandomSplit(*set, 0.2, kClickbaitSeed);
    s->train = ToLabeled(d.classes, d.train_texts, d.train_labels);
    s->test = ToLabeled(d.classes, d.test_texts, d.test_labels);
    return s;
  }();
  return *split;
}

Labeled ClickbaitSlice(size_t per_class, size_t offset, size_t max_bytes) {
  return Interleave(Clickbait().train, per_class, offset, max_bytes);
}

Labeled ClickbaitTestSlice(size_t per_class, size_t offset) { return Interleave(Clickbait().test, per_class, offset); }

Labeled Interleave(const Labeled& train, size_t per_class, size_t offset, size_t max_bytes) {
  std::map<std::string, std::vector<size_t>> by_class;
  std::map<std::string, size_t> skipped;
  for (size_t i = 0; i < train.size(); ++i) {
    const std::string& label = train.labels[i];
    if (train.texts[i].size() > max_bytes || by_class[label].size() >= per_class) continue;
    if (skipped[label] < offset) {
      ++skipped[label];
      continue;
    }
    by_class[label].push_back(i);
  }
  Labeled out;
  for (size_t k = 0; k < per_class; ++k) {
    for (const auto& [label, rows] : by_class) {
      if (k < rows.size()) out.Add(train.texts[rows[k]], label);
    }
  }
  return out;
}

v1::ServerConfig TestConfig(const fs::path& models_dir) {
  v1::ServerConfig config;
  config.set_models_dir(models_dir.string());
  config.set_port(0);
  // Off unless a test asks: a port fewer for each of the many servers tests start.
  config.set_metrics_port(-1);
  config.set_host("127.0.0.1");
  config.set_threads(2);
  return config;
}

std::unique_ptr<TestServer> TestServer::Start(const fs::path& models_dir,
                                              const std::function<void(v1::ServerConfig&)>& adjust) {
  v1::ServerConfig config = TestConfig(models_dir);
  if (adjust) adjust(config);
  return Start(std::move(config));
}

std::unique_ptr<TestServer> TestServer::Start(v1::ServerConfig config, server::ServeOptions options) {
  auto started = server::Server::Start(std::move(config), options);
  if (!started.ok()) {
    ADD_FAILURE() << "the server did not start: " << started.status();
    return nullptr;
  }
  std::unique_ptr<TestServer> t(new TestServer());
  t->server_ = std::move(*started);
  t->port_ = t->server_->port();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  t->channel_ = grpc::CreateCustomChannel(t->address(), grpc::InsecureChannelCredentials(), args);
  t->stub_ = v1::Classifier::NewStub(t->channel_);
  return t;
}

TestServer::~TestServer() { Stop(); }

std::string TestServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

void TestServer::Stop(double grace_seconds) {
  if (server_ == nullptr) return;
  server_->Shutdown(grace_seconds);
  server_->Wait();
  server_.reset();
}

namespace {

class BearerInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(std::string token) : token_(std::move(token)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", "Bearer " + token_});
    }
    methods->Proceed();
  }

 private:
  std::string token_;
};

class BearerInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(std::string token) : token_(std::move(token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo*) override {
    return new BearerInterceptor(token_);
  }

 private:
  std::string token_;
};

}  // namespace

std::shared_ptr<grpc::Channel> ChannelWithToken(const std::string& address, const std::string& token,
                                                std::shared_ptr<grpc::ChannelCredentials> credentials,
                                                const grpc::ChannelArguments& args) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<BearerInterceptorFactory>(token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args, std::move(interceptors));
}

v1::TrainStart ZestStart(const std::string& name) {
  v1::TrainStart start;
  start.set_model(name);
  start.set_family(v1::ZEST);
  return start;
}

namespace {

// Writes `requests` until one fails, half-closes, reads everything, finishes.
TrainCall RunTrainStream(v1::Classifier::Stub& stub, const std::function<bool(
                             grpc::ClientReaderWriter<v1::TrainRequest, v1::TrainResponse>*)>& write_all) {
  TrainCall call;
  grpc::ClientContext context;
  context.set_deadline(Deadline(120));
  auto stream = stub.Train(&context);
  write_all(stream.get());
  stream->WritesDone();
  v1::TrainResponse response;
  while (stream->Read(&response)) {
    if (response.has_progress()) call.progress.push_back(response.progress());
    if (response.has_result()) {
      call.result = response.result();
      call.got_result = true;
    }
  }
  call.status = stream->Finish();
  return call;
}

bool WriteExamples(grpc::ClientReaderWriter<v1::TrainRequest, v1::TrainResponse>* stream, const Labeled& data,
                   v1::Split split, int batch_size) {
  v1::TrainRequest request;
  for (size_t i = 0; i < data.size(); ++i) {
    v1::Example* e = request.mutable_batch()->add_examples();
    e->set_text(data.texts[i]);
    e->set_label(data.labels[i]);
    if (request.batch().examples_size() == batch_size || i + 1 == data.size()) {
      request.mutable_batch()->set_split(split);
      if (!stream->Write(request)) return false;
      request.Clear();
    }
  }
  return true;
}

}  // namespace

TrainCall Train(v1::Classifier::Stub& stub, const v1::TrainStart& start, const Labeled& train,
                const Labeled& eval, int batch_size) {
  return RunTrainStream(stub, [&](auto* stream) {
    v1::TrainRequest first;
    *first.mutable_start() = start;
    return stream->Write(first) && WriteExamples(stream, train, v1::TRAIN, batch_size) &&
           WriteExamples(stream, eval, v1::EVAL, batch_size);
  });
}

TrainCall TrainRaw(v1::Classifier::Stub& stub, const std::vector<v1::TrainRequest>& requests) {
  return RunTrainStream(stub, [&](auto* stream) {
    for (const auto& r : requests) {
      if (!stream->Write(r)) return false;
    }
    return true;
  });
}

ClassifyCall Classify(v1::Classifier::Stub& stub, const v1::ClassifyRequest& request) {
  ClassifyCall call;
  grpc::ClientContext context;
  context.set_deadline(Deadline(30));
  call.status = stub.Classify(&context, request, &call.response);
  return call;
}

ClassifyCall Classify(v1::Classifier::Stub& stub, const std::string& model, const std::vector<std::string>& texts,
                      int64_t version) {
  v1::ClassifyRequest request;
  request.set_model(model);
  request.set_version(version);
  for (const auto& t : texts) request.add_texts(t);
  return Classify(stub, request);
}

EvaluateCall Evaluate(v1::Classifier::Stub& stub, const std::string& model, int64_t version,
                      const std::string& dataset, const Labeled& examples, int batch_size) {
  std::vector<v1::ExampleBatch> batches;
  for (size_t i = 0; i < examples.size(); ++i) {
    if (batches.empty() || batches.back().examples_size() == batch_size) batches.emplace_back();
    v1::Example* e = batches.back().add_examples();
    e->set_text(examples.texts[i]);
    e->set_label(examples.labels[i]);
  }
  return Evaluate(stub, model, version, dataset, batches);
}

EvaluateCall Evaluate(v1::Classifier::Stub& stub, const std::string& model, int64_t version,
                      const std::string& dataset, const std::vector<v1::ExampleBatch>& batches) {
  EvaluateCall call;
  grpc::ClientContext context;
  context.set_deadline(Deadline(60));
  auto writer = stub.Evaluate(&context, &call.response);
  v1::EvaluateRequest request;
  request.mutable_start()->set_model(model);
  request.mutable_start()->set_version(version);
  request.mutable_start()->set_dataset(dataset);
  bool open = writer->Write(request);
  for (size_t i = 0; open && i < batches.size(); ++i) {
    request.Clear();
    *request.mutable_batch() = batches[i];
    open = writer->Write(request);
  }
  writer->WritesDone();
  call.status = writer->Finish();
  return call;
}

Call<v1::ListModelsResponse> ListModels(v1::Classifier::Stub& stub) {
  Call<v1::ListModelsResponse> call;
  grpc::ClientContext context;
  context.set_deadline(Deadline(30));
  call.status = stub.ListModels(&context, v1::ListModelsRequest(), &call.response);
  return call;
}

Call<v1::ModelInfo> GetModel(v1::Classifier::Stub& stub, const std::string& name) {
  Call<v1::ModelInfo> call;
  grpc::ClientContext context;
  context.set_deadline(Deadline(30));
  v1::GetModelRequest request;
  request.set_name(name);
  call.status = stub.GetModel(&context, request, &call.response);
  return call;
}

Call<v1::ModelInfo> LoadModel(v1::Classifier::Stub& stub, const std::string& name, int64_t version) {
  Call<v1::ModelInfo> call;
  grpc::ClientContext context;
  context.set_deadline(Deadline(30));
  v1::LoadModelRequest request;
  request.set_name(name);
  request.set_version(version);
  call.status = stub.LoadModel(&context, request, &call.response);
  return call;
}

Call<v1::ModelInfo> UnloadModel(v1::Classifier::Stub& stub, const std::string& name, int64_t version) {
  Call<v1::ModelInfo> call;
  grpc::ClientContext context;
  context.set_deadline(Deadline(30));
  v1::UnloadModelRequest request;
  request.set_name(name);
  request.set_version(version);
  call.status = stub.UnloadModel(&context, request, &call.response);
  return call;
}

Call<v1::DeleteModelResponse> DeleteModel(v1::Classifier::Stub& stub, const std::string& name, int64_t version) {
  Call<v1::DeleteModelResponse> call;
  grpc::ClientContext context;
  context.set_deadline(Deadline(30));
  v1::DeleteModelRequest request;
  request.set_name(name);
  request.set_version(version);
  call.status = stub.DeleteModel(&context, request, &call.response);
  return call;
}

const v1::VersionInfo* FindVersion(const v1::ModelInfo& info, int64_t version) {
  for (const auto& v : info.versions()) {
    if (v.version() == version) return &v;
  }
  return nullptr;
}

std::vector<int64_t> Versions(const v1::ModelInfo& info) {
  std::vector<int64_t> out;
  for (const auto& v : info.versions()) out.push_back(v.version());
  return out;
}

std::vector<std::string> DirEntries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(it->path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::string> ReadTree(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    out[fs::relative(it->path(), root).generic_string()] = content.str();
  }
  return out;
}

std::string Describe(const grpc::Status& status) {
  return absl::StrCat(static_cast<int>(status.error_code()), ": ", status.error_message());
}

}  // namespace textclf::testing
