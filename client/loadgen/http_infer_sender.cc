// Open Inference Protocol requests over HTTP/JSON (--protocol oip-http): the same texts and
// batches as Classify's, POSTed to /v2/models/NAME[/versions/V]/infer on the server's HTTP port,
// so the three front doors are measured side by side. HTTP/1.1 has one request in flight per
// connection, so a fixed set of workers, each with its own kept-alive connection, takes the
// requests Send queues; the bodies are built once per distinct batch.
#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/loadgen/senders.h"

namespace textclf::loadgen {
namespace {

// The gRPC code a client would see for an HTTP status (the server's mapping, reversed).
grpc::StatusCode CodeOf(int http_status) {
  switch (http_status) {
    case 200: return grpc::StatusCode::OK;
    case 400: return grpc::StatusCode::INVALID_ARGUMENT;
    case 401: return grpc::StatusCode::UNAUTHENTICATED;
    case 403: return grpc::StatusCode::PERMISSION_DENIED;
    case 404: return grpc::StatusCode::NOT_FOUND;
    case 409: return grpc::StatusCode::FAILED_PRECONDITION;
    case 413:
    case 429: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case 499: return grpc::StatusCode::CANCELLED;
    case 503: return grpc::StatusCode::UNAVAILABLE;
    case 504: return grpc::StatusCode::DEADLINE_EXCEEDED;
    default: return grpc::StatusCode::INTERNAL;
  }
}

class HttpInferSender : public RequestSender {
 public:
  HttpInferSender(const std::string& target, const Workload& workload, const SenderSettings& settings, int workers)
      : timeout_s_(settings.timeout_s) {
    const size_t colon = target.rfind(':');
    host_ = target.substr(0, colon);
    port_ = colon == std::string::npos ? 80 : std::stoi(target.substr(colon + 1));
    path_ = "/v2/models/" + settings.model +
            (settings.version > 0 ? "/versions/" + std::to_string(settings.version) : "") + "/infer";
    const size_t batches = workload.DistinctBatches(settings.batch_size);
    for (size_t b = 0; b < batches; ++b) {
      std::vector<std::string> texts;
      for (size_t i : workload.BatchIndices(b, settings.batch_size)) texts.push_back(workload.texts[i]);
      nlohmann::json input = {{"name", "text"}, {"datatype", "BYTES"}, {"shape", {texts.size()}}, {"data", texts}};
      bodies_.push_back({nlohmann::json{{"inputs", {input}}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                         static_cast<int>(texts.size())});
    }
    for (int w = 0; w < workers; ++w) workers_.emplace_back([this] { Work(); });
  }

  ~HttpInferSender() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& w : workers_) w.join();
  }

  void Send(uint64_t sequence, OutcomeCallback done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back({sequence, std::move(done)});
    }
    ready_.notify_one();
  }

  // Requests not yet sent end CANCELLED at once; those on the wire are cut by closing their
  // connections.
  void CancelAll() override {
    std::deque<Job> dropped;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      dropped.swap(queue_);
      for (httplib::Client* client : clients_) client->stop();
    }
    for (Job& job : dropped) job.done(Outcome{grpc::StatusCode::CANCELLED, 0, -1, -1});
  }

 private:
  struct Job {
    uint64_t sequence;
    OutcomeCallback done;
  };
  struct Body {
    std::string json;
    int texts;
  };

  void Work() {
    httplib::Client client(host_, port_);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    const auto timeout = std::chrono::microseconds(static_cast<int64_t>(timeout_s_ * 1e6));
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_connection_timeout(timeout);
    {
      std::lock_guard<std::mutex> lock(mu_);
      clients_.push_back(&client);
    }
    for (;;) {
      Job job;
      bool cancelled = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) break;
        job = std::move(queue_.front());
        queue_.pop_front();
        cancelled = cancelled_;
      }
      const Body& body = bodies_[job.sequence % bodies_.size()];
      Outcome outcome;
      outcome.texts = body.texts;
      if (cancelled) {
        outcome.code = grpc::StatusCode::CANCELLED;
      } else if (httplib::Result result = client.Post(path_, body.json, "application/json"); result) {
        outcome.code = CodeOf(result->status);
      } else {
        outcome.code = result.error() == httplib::Error::Read ? grpc::StatusCode::DEADLINE_EXCEEDED
                                                               : grpc::StatusCode::UNAVAILABLE;
      }
      job.done(outcome);
    }
    std::lock_guard<std::mutex> lock(mu_);
    std::erase(clients_, &client);
  }

  const double timeout_s_;
  std::string host_;
  int port_ = 0;
  std::string path_;
  std::vector<Body> bodies_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  std::vector<httplib::Client*> clients_;
  bool stopping_ = false;
  bool cancelled_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

std::unique_ptr<RequestSender> MakeHttpInferSender(const std::string& target, const Workload& workload,
                                                   const SenderSettings& settings, int workers) {
  return std::make_unique<HttpInferSender>(target, workload, settings, workers);
}

}  // namespace textclf::loadgen
