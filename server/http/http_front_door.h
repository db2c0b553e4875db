// The HTTP/REST port (--http-port): the Open Inference Protocol's REST routes and a native
// classify route, for KServe v2 clients and for a person with curl.
//   GET  /v2/health/live, /v2/health/ready            200, or 400 when not ready (no token needed)
//   GET  /v2                                          server metadata
//   GET  /v2/models/NAME[/versions/V]/ready           200, or 400 when the version does not serve
//   GET  /v2/models/NAME[/versions/V]                 model metadata (inputs, outputs, classes)
//   POST /v2/models/NAME[/versions/V]/infer           the protocol's JSON inference (oip_json.h)
//   POST /v1/models/NAME:classify                     {"texts": [...]} -> textclf's predictions
// A third front door, not a third path: every call passes the gRPC port's gate (drain, tokens
// from `Authorization: Bearer`, client certificates with mutual TLS, roles), inference runs
// through ClassifierService::RunClassify (validation, queues, limits, per-model metrics as
// rpc="HttpInfer"/"HttpClassify"), and failures come back as {"error": "..."} with the HTTP
// status of their gRPC code. TLS uses the gRPC port's files, read at start.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "textclf/v1/server_config.pb.h"

namespace httplib {
class Server;
}

namespace textclf::registry {
class ModelManager;
}

namespace textclf::server {

class CallGate;
class ClassifierService;

struct HttpFrontDoorDeps {
  CallGate* gate = nullptr;
  ClassifierService* classifier = nullptr;
  registry::ModelManager* models = nullptr;
  std::function<bool()> ready;  // whether the server takes traffic (the health service's view)
  v1::ServerLimits limits;
};

class HttpFrontDoor {
 public:
  // Listens on config.host():config.http_port() (0 picks a free port) with config.http_threads()
  // threads; UNAVAILABLE when the port cannot be bound, INVALID_ARGUMENT for unusable TLS files.
  static absl::StatusOr<std::unique_ptr<HttpFrontDoor>> Start(const v1::ServerConfig& config, HttpFrontDoorDeps deps);
  ~HttpFrontDoor();

  int port() const { return port_; }
  // Stops listening and waits for the requests being answered.
  void Stop();

 private:
  HttpFrontDoor() = default;
  void AddRoutes();

  HttpFrontDoorDeps deps_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;
};

}  // namespace textclf::server
