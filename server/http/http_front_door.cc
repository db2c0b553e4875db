#include "server/http/http_front_door.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <future>

#include "absl/strings/str_cat.h"
#include "core/registry/model_manager.h"
#include "server/auth/authorizer.h"
#include "server/call_gate.h"
#include "server/classifier_service.h"
#include "server/grpc_status.h"
#include "server/http/oip_json.h"
#include "server/logging/log.h"
#include "server/oip/oip_service.h"
#include "server/oip/oip_tensors.h"
#include "server/trace_context.h"

namespace textclf::server {
namespace {

constexpr MethodRule kHttpInfer{"HttpInfer", Role::kClient, false};
constexpr MethodRule kHttpClassify{"HttpClassify", Role::kClient, false};
constexpr MethodRule kModelReady{"ModelReady", Role::kClient, false};
constexpr MethodRule kServerMetadata{"ServerMetadata", Role::kClient, false};
constexpr MethodRule kModelMetadata{"ModelMetadata", Role::kClient, false};

constexpr char kJson[] = "application/json";
// A kept-alive connection holds one of the port's threads; it is closed after this long idle,
// or after this many requests (so that clients reconnect, and spread over replicas added since).
constexpr time_t kKeepAliveSeconds = 5;
constexpr size_t kKeepAliveRequests = 10000;

// The HTTP status of a gRPC code, as gRPC-to-HTTP gateways map them.
int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::FAILED_PRECONDITION: return 409;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::CANCELLED: return 499;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    default: return 500;
  }
}

void Reply(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), kJson);
}

void ReplyError(httplib::Response& res, const grpc::Status& status) {
  Reply(res, HttpStatusOf(status.error_code()), http::ErrorJson(status.error_message()));
}

void ReplyError(httplib::Response& res, const absl::Status& status) { ReplyError(res, ToGrpcStatus(status)); }

std::string PeerOf(const httplib::Request& req) { return absl::StrCat("http:", req.remote_addr, ":", req.remote_port); }

// What the caller presents: a bearer token, and with mutual TLS the verified certificate's
// common names.
PresentedCredentials CredentialsOf(const httplib::Request& req, std::string* authorization) {
  PresentedCredentials presented;
  *authorization = req.get_header_value("Authorization");
  presented.bearer_token = BearerTokenOf(*authorization);
  if (req.ssl != nullptr && SSL_get_verify_result(req.ssl) == X509_V_OK) {
    if (X509* certificate = SSL_get0_peer_certificate(req.ssl); certificate != nullptr) {
      X509_NAME* subject = X509_get_subject_name(certificate);
      for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
           i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
        const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
        presented.certificate_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                                                 static_cast<size_t>(ASN1_STRING_length(data)));
      }
    }
  }
  return presented;
}

// One admitted call: counted as running by the gate until it is answered.
class Admission {
 public:
  Admission(CallGate* gate, const httplib::Request& req, const MethodRule& rule) : gate_(gate) {
    std::string authorization;
    PresentedCredentials presented = CredentialsOf(req, &authorization);
    std::string caller;
    status_ = gate_->AdmitCaller(presented, PeerOf(req), rule, &caller);
  }
  ~Admission() {
    if (status_.ok()) gate_->Left();
  }
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;
  const grpc::Status& status() const { return status_; }

 private:
  CallGate* gate_;
  grpc::Status status_;
};

// The path's model and version ("" when the route has none).
std::string Match(const httplib::Request& req, size_t i) { return i < req.matches.size() ? req.matches[i].str() : ""; }

}  // namespace

absl::StatusOr<std::unique_ptr<HttpFrontDoor>> HttpFrontDoor::Start(const v1::ServerConfig& config,
                                                                    HttpFrontDoorDeps deps) {
  std::unique_ptr<HttpFrontDoor> door(new HttpFrontDoor());
  door->deps_ = std::move(deps);
  const v1::TlsConfig& tls = config.tls();
  if (!tls.cert_file().empty()) {
    auto server = std::make_unique<httplib::SSLServer>(
        tls.cert_file().c_str(), tls.key_file().c_str(),
        tls.client_ca_file().empty() ? nullptr : tls.client_ca_file().c_str());
    if (!server->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat("the HTTP port cannot use the TLS files ", tls.cert_file(), " and ",
                                                     tls.key_file(), " (unreadable, or not a matching PEM pair)"));
    }
    door->server_ = std::move(server);
  } else {
    door->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *door->server_;
  const int threads = config.http_threads();
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // cpp-httplib's default also sets SO_REUSEPORT, with which a second server on a busy port
  // would start and silently share it. Refuse instead, as the gRPC port does.
  auto listening = std::make_shared<socket_t>(INVALID_SOCKET);
  server.set_socket_options([listening](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listening = sock;
  });
  // Small responses: without TCP_NODELAY, Nagle and delayed ACKs add 40 ms to some of them.
  server.set_tcp_nodelay(true);
  server.set_keep_alive_timeout(kKeepAliveSeconds);
  server.set_keep_alive_max_count(kKeepAliveRequests);
  server.set_payload_max_length(static_cast<size_t>(door->deps_.limits.max_http_body_bytes()));
  door->AddRoutes();

  const std::string& host = config.host();
  if (config.http_port() == 0) {
    door->port_ = server.bind_to_any_port(host);
  } else if (server.bind_to_port(host, config.http_port())) {
    door->port_ = config.http_port();
  }
  if (door->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", host, ":", config.http_port(),
                                               " (in use, or not permitted)"));
  }
  // The library's accept backlog is 5 (fixed when Debian built it): more clients connecting at
  // once would wait a second for a SYN retry. Listening again on the bound socket raises it.
  if (*listening != INVALID_SOCKET) ::listen(*listening, SOMAXCONN);
  door->listener_ = std::thread([&server] {
    if (!server.listen_after_bind()) logging::Warning("http_stopped", {{"message", "the HTTP listener failed"}});
  });
  return door;
}

HttpFrontDoor::~HttpFrontDoor() { Stop(); }

void HttpFrontDoor::Stop() {
  if (server_ != nullptr) server_->stop();
  if (listener_.joinable()) listener_.join();
}

void HttpFrontDoor::AddRoutes() {
  httplib::Server& server = *server_;
  const HttpFrontDoorDeps& deps = deps_;

  // Probes carry no token, as with the gRPC health service.
  server.Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) { Reply(res, 200, "{\"live\":true}"); });
  server.Get("/v2/health/ready", [&deps](const httplib::Request&, httplib::Response& res) {
    const bool ready = deps.ready();
    Reply(res, ready ? 200 : 400, ready ? "{\"ready\":true}" : "{\"ready\":false}");
  });

  server.Get("/v2", [&deps](const httplib::Request& req, httplib::Response& res) {
    Admission admission(deps.gate, req, kServerMetadata);
    if (!admission.status().ok()) return ReplyError(res, admission.status());
    inference::ServerMetadataResponse metadata;
    oip::DescribeServer(&metadata);
    Reply(res, 200, http::ServerMetadataJson(metadata));
  });

  auto model_ready = [&deps](const httplib::Request& req, httplib::Response& res) {
    Admission admission(deps.gate, req, kModelReady);
    if (!admission.status().ok()) return ReplyError(res, admission.status());
    absl::StatusOr<bool> ready = oip::ModelIsReady(*deps.models, Match(req, 1), Match(req, 2));
    if (!ready.ok()) return ReplyError(res, ready.status());
    Reply(res, *ready ? 200 : 400, *ready ? "{\"ready\":true}" : "{\"ready\":false}");
  };
  server.Get("/v2/models/([^/]+)/ready", model_ready);
  server.Get("/v2/models/([^/]+)/versions/([^/]+)/ready", model_ready);

  auto model_metadata = [&deps](const httplib::Request& req, httplib::Response& res) {
    Admission admission(deps.gate, req, kModelMetadata);
    if (!admission.status().ok()) return ReplyError(res, admission.status());
    inference::ModelMetadataResponse metadata;
    if (absl::Status s = oip::DescribeModel(*deps.models, Match(req, 1), Match(req, 2), &metadata); !s.ok()) {
      return ReplyError(res, s);
    }
    Reply(res, 200, http::ModelMetadataJson(metadata));
  };
  server.Get("/v2/models/([^/]+)", model_metadata);
  server.Get("/v2/models/([^/]+)/versions/([^/]+)", model_metadata);

  // Both inference routes: admitted by the gate, run through Classify's path, counted like a
  // gRPC call (per method, per model and version) when answered.
  auto classify = [&deps](const httplib::Request& req, httplib::Response& res, const MethodRule& rule,
                          const std::string& model, int64_t version, const v1::ClassifyRequest* request,
                          v1::ClassifyResponse* response, const std::function<void()>& on_success) {
    CallRecord record;
    record.method = std::string(rule.name.data(), rule.name.size());
    record.model = model;
    record.requested_version = version;
    record.peer = PeerOf(req);
    CallContext call;
    call.trace_id = TraceIdOf(req.get_header_value("traceparent"));
    record.trace_id = call.trace_id;
    std::promise<grpc::Status> answered;
    deps.classifier->RunClassify(std::move(call), request, response,
                                 [&answered](const grpc::Status& status) { answered.set_value(status); });
    const grpc::Status status = answered.get_future().get();
    if (status.ok()) {
      record.served_version = response->version();
      on_success();
    } else {
      ReplyError(res, status);
    }
    record.has_status = true;
    record.code = status.error_code();
    deps.gate->CallAnswered(record);
  };
  // A refusal before the work (gate, malformed body) is counted too, as gRPC counts it.
  auto refuse = [&deps](const httplib::Request& req, httplib::Response& res, const MethodRule& rule,
                        const std::string& model, const grpc::Status& status) {
    ReplyError(res, status);
    CallRecord record;
    record.method = std::string(rule.name.data(), rule.name.size());
    record.model = model;
    record.peer = PeerOf(req);
    record.has_status = true;
    record.code = status.error_code();
    deps.gate->CallAnswered(record);
  };

  auto infer = [&deps, classify, refuse](const httplib::Request& req, httplib::Response& res) {
    const std::string model = Match(req, 1);
    Admission admission(deps.gate, req, kHttpInfer);
    if (!admission.status().ok()) return refuse(req, res, kHttpInfer, model, admission.status());
    if (req.has_header("Inference-Header-Content-Length")) {
      return refuse(req, res, kHttpInfer, model,
                    grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "the binary tensor data extension is not supported; send the data as JSON"));
    }
    absl::StatusOr<inference::ModelInferRequest> parsed = http::ParseInferRequest(req.body, model, Match(req, 2));
    if (!parsed.ok()) return refuse(req, res, kHttpInfer, model, ToGrpcStatus(parsed.status()));
    oip::Outputs outputs;
    absl::StatusOr<v1::ClassifyRequest> request = oip::ToClassifyRequest(*parsed, deps.limits, &outputs);
    if (!request.ok()) return refuse(req, res, kHttpInfer, model, ToGrpcStatus(request.status()));
    v1::ClassifyResponse response;
    classify(req, res, kHttpInfer, model, request->version(), &*request, &response, [&] {
      inference::ModelInferResponse answer;
      oip::ToModelInferResponse(*parsed, response, outputs, &answer);
      Reply(res, 200, http::InferResponseJson(answer));
    });
  };
  server.Post("/v2/models/([^/]+)/infer", infer);
  server.Post("/v2/models/([^/]+)/versions/([^/]+)/infer", infer);

  server.Post("/v1/models/([^/:]+):classify", [&deps, classify, refuse](const httplib::Request& req,
                                                                        httplib::Response& res) {
    const std::string model = Match(req, 1);
    Admission admission(deps.gate, req, kHttpClassify);
    if (!admission.status().ok()) return refuse(req, res, kHttpClassify, model, admission.status());
    absl::StatusOr<v1::ClassifyRequest> request = http::ParseClassifyRequest(req.body, model);
    if (!request.ok()) return refuse(req, res, kHttpClassify, model, ToGrpcStatus(request.status()));
    v1::ClassifyResponse response;
    classify(req, res, kHttpClassify, model, request->version(), &*request, &response,
             [&] { Reply(res, 200, http::ClassifyResponseJson(response)); });
  });

  // What cpp-httplib answers itself (no route, a body past the limit, a handler that threw)
  // gets the protocol's error body too.
  const int64_t max_body = deps.limits.max_http_body_bytes();
  server.set_error_handler(httplib::Server::HandlerWithResponse([max_body](const httplib::Request& req,
                                                                          httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message;
    if (res.status == 404) {
      message = absl::StrCat("no route ", req.method, " ", req.path.substr(0, 128),
                             "; see /v2/health/ready, /v2/models/NAME[/versions/V][/ready|/infer], "
                             "/v1/models/NAME:classify");
    } else if (res.status == 413) {
      message = absl::StrCat("the body is larger than the server's limit of ", max_body,
                             " bytes (limits.max_http_body_bytes); send fewer inputs per request");
    } else {
      message = absl::StrCat("HTTP ", res.status);
    }
    res.set_content(http::ErrorJson(message), kJson);
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    logging::Error("http_exception", {{"message", what}});
    Reply(res, 500, http::ErrorJson(absl::StrCat("internal error: ", what)));
  });
}

}  // namespace textclf::server
