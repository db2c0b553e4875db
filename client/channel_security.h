// How textclf and textclf-loadgen reach a server that asks for credentials: TLS (the CA to trust,
// a client certificate for mutual TLS, a target-name override) and a bearer token on every call,
// from the same flags in both binaries. Every file is read here, before any call, so that a
// missing or unreadable one is a usage error naming it rather than a failed handshake later.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace CLI {
class App;
}

namespace textclf::client {

// The flags as given.
struct SecurityFlags {
  bool tls = false;               // TLS, trusting the system's CAs
  std::string tls_ca;             // TLS, trusting this CA (PEM) instead
  std::string tls_cert, tls_key;  // a client certificate chain and its key (PEM): mutual TLS
  std::string token_file;         // a bearer token (the file's content, trimmed)
  std::string server_name;        // the name the server's certificate must carry, if not the target's host
};

// Registers --tls, --tls-ca, --tls-cert, --tls-key, --token-file and --server-name on `app`.
void AddSecurityFlags(CLI::App& app, SecurityFlags& flags);

// The environment variable a token may come from when --token-file is not given.
inline constexpr char kTokenEnvironmentVariable[] = "TEXTCLF_TOKEN";

// Credentials loaded from the flags; default-constructed: plaintext, no token.
class ChannelSecurity {
 public:
  ChannelSecurity();

  // Reads every file the flags name; `environment_token` is $TEXTCLF_TOKEN (null when unset),
  // used when there is no --token-file. An error names the flag and the file.
  static absl::StatusOr<ChannelSecurity> Load(const SecurityFlags& flags, const char* environment_token);

  // A channel to `target` with these credentials; `args` are the caller's own settings.
  std::shared_ptr<grpc::Channel> CreateChannel(const std::string& target, grpc::ChannelArguments args) const;

  bool tls() const { return tls_; }
  bool custom_ca() const { return custom_ca_; }
  bool client_certificate() const { return client_certificate_; }
  bool token() const { return token_ != nullptr; }
  // Where the token came from: "--token-file FILE" or "TEXTCLF_TOKEN"; empty without one.
  const std::string& token_source() const { return token_source_; }
  // True when a token would cross a network in the clear: no TLS and a target not on loopback.
  bool ExposesTokenTo(const std::string& target) const;

 private:
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string server_name_;
  std::shared_ptr<const std::string> token_;  // the whole header value, "Bearer TOKEN"
  std::string token_source_;
  bool tls_ = false;
  bool custom_ca_ = false;
  bool client_certificate_ = false;
};

// "localhost:50051", "127.0.0.1:1", "[::1]:5", "unix:/path": addresses that never leave this
// machine.
bool IsLoopbackTarget(const std::string& target);

}  // namespace textclf::client
