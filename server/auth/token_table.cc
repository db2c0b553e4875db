#include "server/auth/token_table.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace textclf::server {
namespace {

// Bounds on what a token file may hold: it is read on every change, and a line is a secret or
// a name, not a document.
constexpr size_t kMaxFileBytes = 1 << 20;
constexpr size_t kMaxEntries = 10000;
constexpr size_t kMaxFieldBytes = 4096;

std::array<unsigned char, 32> DigestOf(std::string_view data) {
  std::array<unsigned char, 32> out;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kClient: return "client";
    case Role::kAdmin: return "admin";
    default: return "none";
  }
}

absl::StatusOr<TokenTable> TokenTable::Parse(std::string_view text, std::string_view source) {
  if (text.size() > kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source), " is larger than ", kMaxFileBytes, " bytes"));
  }
  TokenTable table;
  int line_number = 0;
  // abseil's string functions take absl::string_view, which is not std::string_view here.
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_number;
    const std::string where = absl::StrCat(std::string(source), ":", line_number, ": ");
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 2) return absl::InvalidArgumentError(absl::StrCat(where, "expected ROLE TOKEN"));
    Role role = Role::kNone;
    if (fields[0] == "client") role = Role::kClient;
    if (fields[0] == "admin") role = Role::kAdmin;
    if (role == Role::kNone) {
      return absl::InvalidArgumentError(absl::StrCat(where, "the role must be client or admin"));
    }
    absl::string_view value = fields[1];
    if (value.size() > kMaxFieldBytes) return absl::InvalidArgumentError(absl::StrCat(where, "the entry is too long"));
    if (table.size() >= kMaxEntries) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(source), " has more than ", kMaxEntries, " entries"));
    }
    if (absl::ConsumePrefix(&value, "cert:")) {
      if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(where, "cert: needs a common name"));
      table.certificates_.push_back({role, std::string(value)});
    } else if (absl::ConsumePrefix(&value, "sha256:")) {
      std::string bytes;
      if (value.size() != 64 || !absl::c_all_of(value, [](char c) { return absl::ascii_isxdigit(c); })) {
        return absl::InvalidArgumentError(absl::StrCat(where, "sha256: needs 64 hex digits"));
      }
      bytes = absl::HexStringToBytes(absl::AsciiStrToLower(value));
      TokenEntry entry{role, {}};
      std::copy(bytes.begin(), bytes.end(), entry.digest.begin());
      table.tokens_.push_back(entry);
    } else {
      if (value.size() < 16) {
        return absl::InvalidArgumentError(absl::StrCat(where, "a token needs at least 16 characters"));
      }
      table.tokens_.push_back({role, DigestOf(std::string_view(value.data(), value.size()))});
    }
  }
  return table;
}

Identity TokenTable::ForToken(std::string_view token) const {
  const Digest digest = DigestOf(token);
  // Every entry is compared, in constant time, whatever matched: the time taken says nothing of
  // which entry (or how much of one) a guess matched.
  Role role = Role::kNone;
  for (const TokenEntry& entry : tokens_) {
    const bool match = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    if (match && entry.role > role) role = entry.role;
  }
  if (role == Role::kNone) return {};
  return {role, absl::StrCat("token:", absl::BytesToHexString(absl::string_view(
                                           reinterpret_cast<const char*>(digest.data()), 4)))};
}

Identity TokenTable::ForCertificate(std::string_view common_name) const {
  Role role = Role::kNone;
  for (const CertificateEntry& entry : certificates_) {
    if (entry.common_name == common_name && entry.role > role) role = entry.role;
  }
  if (role == Role::kNone) return {};
  return {role, absl::StrCat("cert:", std::string(common_name))};
}

}  // namespace textclf::server
