// Authentication and roles for every RPC of textclf.v1.Classifier, checked by the server's gate
// before any work or buffering. Callers present `authorization: Bearer TOKEN` metadata, or (with
// mutual TLS) a client certificate whose common name the token file maps to a role. The token
// file is re-read when it changes (Kubernetes swaps a Secret's files in place), at most once a
// second; a file that no longer parses keeps the previous table and says so.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/auth/token_table.h"

namespace grpc {
class ServerContextBase;
}

namespace textclf::server {

// What a caller presents, whatever the protocol: a bearer token (empty: none) and the common
// names of a client certificate that the TLS layer verified.
struct PresentedCredentials {
  std::string_view bearer_token;
  std::vector<std::string> certificate_names;
};

// The token of an `authorization` header or metadata value "Bearer TOKEN" (any case); empty when
// it is something else.
std::string_view BearerTokenOf(std::string_view authorization);

class Authorizer {
 public:
  using LogFn = std::function<void(const std::string& line)>;

  // An empty path turns authentication off: every caller is an admin (loopback use, or TLS with
  // client certificates as the only gate).
  static absl::StatusOr<std::unique_ptr<Authorizer>> Create(const std::filesystem::path& tokens_path, LogFn log = {});

  bool enabled() const { return !path_.empty(); }

  // The caller's identity when it may call `method`, which needs `needed`; UNAUTHENTICATED when
  // it presents nothing the token file knows, PERMISSION_DENIED when its role is too low.
  absl::StatusOr<Identity> Authorize(const grpc::ServerContextBase& context, Role needed, std::string_view method);
  // The same for a caller of another protocol (the HTTP port).
  absl::StatusOr<Identity> Authorize(const PresentedCredentials& presented, Role needed, std::string_view method);

  // The identity of `token` / a certificate name under the current table (for tests).
  Identity ForToken(std::string_view token);

 private:
  Authorizer(std::filesystem::path path, LogFn log) : path_(std::move(path)), log_(std::move(log)) {}
  absl::Status Load();
  std::shared_ptr<const TokenTable> Current();

  const std::filesystem::path path_;
  LogFn log_;
  std::mutex mu_;
  std::shared_ptr<const TokenTable> table_;
  struct ::stat loaded_{};  // what the file was when it was last read
  std::chrono::steady_clock::time_point checked_;
};

}  // namespace textclf::server
