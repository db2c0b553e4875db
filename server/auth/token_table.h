// Who may call: the identities of --auth-tokens FILE, one a line:
//   ROLE TOKEN          a bearer token, as clients send it (authorization: Bearer TOKEN)
//   ROLE sha256:HEX     the SHA-256 (hex) of a token, so that a config map need not hold it
//   ROLE cert:CN        a client certificate's subject common name (with mutual TLS)
// ROLE is `client` (classify, evaluate, feedback, read the registry) or `admin` (everything).
// '#' starts a comment. Tokens are kept only as digests and compared in constant time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::server {

enum class Role { kNone = 0, kClient = 1, kAdmin = 2 };

std::string_view RoleName(Role role);

// A caller as the audit log names it: the role, and which entry matched ("token:1a2b3c4d", the
// start of the token's digest, or "cert:CN"); never the token itself.
struct Identity {
  Role role = Role::kNone;
  std::string name;
};

class TokenTable {
 public:
  // `source` names the file in error messages (which say the line, never the token).
  static absl::StatusOr<TokenTable> Parse(std::string_view text, std::string_view source);

  Identity ForToken(std::string_view token) const;
  Identity ForCertificate(std::string_view common_name) const;
  size_t size() const { return tokens_.size() + certificates_.size(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  struct TokenEntry {
    Role role;
    Digest digest;
  };
  struct CertificateEntry {
    Role role;
    std::string common_name;
  };
  std::vector<TokenEntry> tokens_;
  std::vector<CertificateEntry> certificates_;
};

}  // namespace textclf::server
