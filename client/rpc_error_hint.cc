// The advice for each failure, from its status code and, for a failed connection, gRPC's
// message: a TLS failure reaches the client as UNAVAILABLE whose text names the handshake.
#include "client/rpc_error_hint.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace textclf::client {
namespace {

std::string Seconds(double s) {
  std::string text = absl::StrCat(s);
  return text + (s == 1 ? " second" : " seconds");
}

bool MentionsAny(const std::string& message, std::initializer_list<const char*> words) {
  const std::string lower = absl::AsciiStrToLower(message);
  for (const char* word : words) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

std::string ConnectionHint(const std::string& message, const ChannelSecurity& security) {
  // Something accepted the connection but never spoke HTTP/2: a hung process, or not gRPC.
  if (MentionsAny(message, {"settings frame"})) {
    return "something listens at --server but does not answer as a gRPC server: a hung server, or another "
           "service on that port";
  }
  if (!security.tls()) {
    // A plaintext client on a TLS port sees the server close the connection during set-up.
    if (MentionsAny(message, {"socket closed", "connection reset"})) {
      return "if the server uses TLS, connect with --tls-ca FILE (its CA) or --tls";
    }
    return "";
  }
  if (MentionsAny(message, {"not in peer certificate", "peer name"})) {
    return "the server's certificate does not name the host in --server; give the name it carries with "
           "--server-name";
  }
  if (MentionsAny(message, {"certificate verify failed", "certificate_verify_failed"})) {
    return security.custom_ca() ? "the server's certificate is not signed by --tls-ca"
                                : "the server's certificate is not signed by a CA this machine trusts; give its CA "
                                  "with --tls-ca";
  }
  if (MentionsAny(message, {"wrong version number", "wrong_version_number"})) {
    return "the server does not speak TLS: connect without --tls, --tls-ca and --tls-cert";
  }
  // With TLS 1.3 the client's half of the handshake ends before the server checks the client's
  // certificate, so a refused (or missing) one shows as a connection the server closed.
  if (MentionsAny(message, {"socket closed", "connection reset", "certificate required", "alert"})) {
    return security.client_certificate()
               ? "the server closed the TLS connection: is --tls-cert signed by the CA the server trusts (its "
                 "--tls-client-ca)?"
               : "the server closed the TLS connection; if it requires client certificates (mutual TLS), give one "
                 "with --tls-cert and --tls-key";
  }
  if (MentionsAny(message, {"handshake", "ssl"})) {
    return "the TLS handshake failed: does the server speak TLS, and is its certificate signed by " +
           std::string(security.custom_ca() ? "--tls-ca?" : "a CA this machine trusts (else --tls-ca)?");
  }
  return "";
}

}  // namespace

std::string RpcErrorHint(const grpc::Status& status, const ChannelSecurity& security, double timeout_s) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      if (security.token()) {
        return "the server does not know the token from " + security.token_source() +
               "; check it against the server's --auth-tokens file";
      }
      return std::string("send a token: --token-file or ") + kTokenEnvironmentVariable +
             (security.client_certificate() ? " (or have the server's --auth-tokens file name your certificate, "
                                              "cert:CN)"
                                            : "");
    case grpc::StatusCode::PERMISSION_DENIED:
      return std::string(security.token() ? "the token's" : "your certificate's") +
             " role is too low for this call: it needs one that the server's --auth-tokens file gives the role "
             "named above";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      if (timeout_s <= 0) return "";
      return "no answer within --timeout " + Seconds(timeout_s) +
             "; a slow call may need a larger --timeout, a hung server a restart";
    case grpc::StatusCode::UNAVAILABLE:
      return ConnectionHint(status.error_message(), security);
    default:
      return "";
  }
}

}  // namespace textclf::client
