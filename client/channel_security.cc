// Loading TLS files and the token, and channels that carry them.
#include "client/channel_security.h"

#include <grpcpp/support/client_interceptor.h>

#include <CLI/CLI.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/common/files.h"

namespace textclf::client {
namespace {

// Adds the authorization header to every call. gRPC's own call credentials
// (grpc::AccessTokenCredentials) travel only over TLS, but a server on loopback takes tokens
// without TLS too, so the header goes on here in both cases.
class BearerTokenInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerTokenInterceptor(std::shared_ptr<const std::string> header) : header_(std::move(header)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", *header_});
    }
    methods->Proceed();
  }

 private:
  std::shared_ptr<const std::string> header_;
};

class BearerTokenInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenInterceptorFactory(std::shared_ptr<const std::string> header) : header_(std::move(header)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo*) override {
    return new BearerTokenInterceptor(header_);
  }

 private:
  std::shared_ptr<const std::string> header_;
};

// The file `flag` names, which must hold PEM text with `marker` (a certificate, a key): a file
// that does not is refused here, where the message can name it, not in the handshake.
absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path, const std::string& marker,
                                    const std::string& what) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat(flag, ": ", text.status().message()));
  if (!absl::StrContains(*text, marker)) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, " holds no PEM ", what));
  }
  return text;
}

absl::StatusOr<std::string> ReadToken(const SecurityFlags& flags, const char* environment_token,
                                      std::string* source) {
  std::string token;
  if (!flags.token_file.empty()) {
    *source = "--token-file " + flags.token_file;
    absl::StatusOr<std::string> text = ReadFile(flags.token_file);
    if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat("--token-file: ", text.status().message()));
    token = std::string(absl::StripAsciiWhitespace(*text));
  } else if (environment_token != nullptr) {
    *source = kTokenEnvironmentVariable;
    token = std::string(absl::StripAsciiWhitespace(environment_token));
  } else {
    return std::string();
  }
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(*source, " holds no token"));
  // A header value is visible ASCII; a token with a space or a line break inside is two tokens
  // pasted together or a file that is not a token, and would be refused by gRPC at every call.
  // The message never shows the token.
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the token in ", *source, " has a space, line break or non-ASCII character inside; it must be one word"));
    }
  }
  return token;
}

}  // namespace

void AddSecurityFlags(CLI::App& app, SecurityFlags& f) {
  app.add_flag("--tls", f.tls, "connect with TLS, trusting the system's CAs (implied by --tls-ca and --tls-cert)");
  app.add_option("--tls-ca", f.tls_ca, "connect with TLS, trusting the CA certificate(s) in this PEM file");
  app.add_option("--tls-cert", f.tls_cert, "client certificate chain (PEM) for servers that require one (mutual TLS)");
  app.add_option("--tls-key", f.tls_key, "the private key (PEM) of --tls-cert");
  app.add_option("--token-file", f.token_file,
                 std::string("file holding a bearer token, sent with every call (default: $") + kTokenEnvironmentVariable +
                     ")");
  app.add_option("--server-name", f.server_name,
                 "the name the server's certificate must carry, when it is not the host in the address");
}

ChannelSecurity::ChannelSecurity() : credentials_(grpc::InsecureChannelCredentials()) {}

absl::StatusOr<ChannelSecurity> ChannelSecurity::Load(const SecurityFlags& flags, const char* environment_token) {
  ChannelSecurity s;
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together: the certificate and its private key");
  }
  s.custom_ca_ = !flags.tls_ca.empty();
  s.client_certificate_ = !flags.tls_cert.empty();
  s.tls_ = flags.tls || s.custom_ca_ || s.client_certificate_;
  if (!flags.server_name.empty() && !s.tls_) {
    return absl::InvalidArgumentError("--server-name is the name a TLS certificate must carry: it needs --tls-ca or --tls");
  }
  s.server_name_ = flags.server_name;
  if (s.tls_) {
    grpc::SslCredentialsOptions options;  // empty roots: the system's CAs
    if (s.custom_ca_) {
      absl::StatusOr<std::string> ca = ReadPem("--tls-ca", flags.tls_ca, "-----BEGIN CERTIFICATE-----", "certificate");
      if (!ca.ok()) return ca.status();
      options.pem_root_certs = std::move(*ca);
    }
    if (s.client_certificate_) {
      absl::StatusOr<std::string> cert =
          ReadPem("--tls-cert", flags.tls_cert, "-----BEGIN CERTIFICATE-----", "certificate");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem("--tls-key", flags.tls_key, "PRIVATE KEY-----", "private key");
      if (!key.ok()) return key.status();
      options.pem_cert_chain = std::move(*cert);
      options.pem_private_key = std::move(*key);
    }
    s.credentials_ = grpc::SslCredentials(options);
  }
  absl::StatusOr<std::string> token = ReadToken(flags, environment_token, &s.token_source_);
  if (!token.ok()) return token.status();
  if (!token->empty()) s.token_ = std::make_shared<const std::string>("Bearer " + *token);
  return s;
}

std::shared_ptr<grpc::Channel> ChannelSecurity::CreateChannel(const std::string& target,
                                                              grpc::ChannelArguments args) const {
  if (!server_name_.empty()) args.SetSslTargetNameOverride(server_name_);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  if (token_ != nullptr) interceptors.push_back(std::make_unique<BearerTokenInterceptorFactory>(token_));
  return grpc::experimental::CreateCustomChannelWithInterceptors(target, credentials_, args, std::move(interceptors));
}

bool ChannelSecurity::ExposesTokenTo(const std::string& target) const {
  return token_ != nullptr && !tls_ && !IsLoopbackTarget(target);
}

bool IsLoopbackTarget(const std::string& target) {
  absl::string_view t = target;
  if (absl::StartsWith(t, "unix:") || absl::StartsWith(t, "unix-abstract:")) return true;
  for (absl::string_view scheme : {"dns:///", "dns:", "ipv4:", "ipv6:"}) {
    if (absl::ConsumePrefix(&t, scheme)) break;
  }
  absl::string_view host = t;
  if (absl::ConsumePrefix(&host, "[")) {
    host = host.substr(0, host.find(']'));
  } else if (size_t colon = host.rfind(':'); colon != absl::string_view::npos && host.find(':') == colon) {
    host = host.substr(0, colon);  // one colon: HOST:PORT; more: a bare IPv6 address
  }
  return absl::EqualsIgnoreCase(host, "localhost") || absl::StartsWith(host, "127.") || host == "::1";
}

}  // namespace textclf::client
