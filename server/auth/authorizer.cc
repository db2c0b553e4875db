#include "server/auth/authorizer.h"

#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace textclf::server {
namespace {

constexpr auto kRecheckEvery = std::chrono::seconds(1);
constexpr off_t kMaxFileBytes = 1 << 20;

bool SameFile(const struct ::stat& a, const struct ::stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

std::string_view BearerTokenOf(std::string_view authorization) {
  absl::string_view value(authorization.data(), authorization.size());
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) return {};
  absl::string_view token = absl::StripLeadingAsciiWhitespace(value.substr(7));
  return std::string_view(token.data(), token.size());
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Create(const std::filesystem::path& tokens_path, LogFn log) {
  std::unique_ptr<Authorizer> authorizer(new Authorizer(tokens_path, std::move(log)));
  if (!authorizer->enabled()) return authorizer;
  if (absl::Status s = authorizer->Load(); !s.ok()) return s;
  return authorizer;
}

absl::Status Authorizer::Load() {
  struct ::stat now {};
  if (::stat(path_.c_str(), &now) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read the token file ", path_.string()));
  }
  if (!S_ISREG(now.st_mode) || now.st_size > kMaxFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the token file ", path_.string(), " must be a regular file of at most ", kMaxFileBytes, " bytes"));
  }
  std::ifstream in(path_, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the token file ", path_.string()));
  auto table = TokenTable::Parse(text.str(), path_.string());
  if (!table.ok()) return table.status();
  std::lock_guard<std::mutex> lock(mu_);
  table_ = std::make_shared<const TokenTable>(std::move(*table));
  loaded_ = now;
  return absl::OkStatus();
}

std::shared_ptr<const TokenTable> Authorizer::Current() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - checked_ < kRecheckEvery) return table_;
    checked_ = now;
    struct ::stat current {};
    if (::stat(path_.c_str(), &current) == 0 && SameFile(current, loaded_)) return table_;
  }
  // Changed (or gone): read it again; a bad file keeps the table that worked.
  if (absl::Status s = Load(); !s.ok()) {
    if (log_) log_(absl::StrCat("the token file could not be reloaded, the previous one stays in force: ", std::string(s.message())));
  } else if (log_) {
    log_(absl::StrCat("reloaded the token file ", path_.string()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

Identity Authorizer::ForToken(std::string_view token) { return Current()->ForToken(token); }

absl::StatusOr<Identity> Authorizer::Authorize(const grpc::ServerContextBase& context, Role needed,
                                               std::string_view method) {
  if (!enabled()) return Identity{Role::kAdmin, "anonymous"};
  PresentedCredentials presented;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    presented.bearer_token = BearerTokenOf(std::string_view(it->second.data(), it->second.size()));
  }
  if (auto auth = context.auth_context(); auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& cn : auth->FindPropertyValues("x509_common_name")) {
      presented.certificate_names.emplace_back(cn.data(), cn.size());
    }
  }
  return Authorize(presented, needed, method);
}

absl::StatusOr<Identity> Authorizer::Authorize(const PresentedCredentials& presented, Role needed,
                                               std::string_view method) {
  if (!enabled()) return Identity{Role::kAdmin, "anonymous"};
  std::shared_ptr<const TokenTable> table = Current();
  Identity identity;
  if (!presented.bearer_token.empty()) identity = table->ForToken(presented.bearer_token);
  if (identity.role == Role::kNone) {
    // A verified client certificate (mutual TLS) may name a role too.
    for (const std::string& cn : presented.certificate_names) {
      Identity by_cert = table->ForCertificate(cn);
      if (by_cert.role > identity.role) identity = by_cert;
    }
  }
  if (identity.role == Role::kNone) {
    return absl::UnauthenticatedError(absl::StrCat(
        std::string(method), " needs credentials: send `authorization: Bearer TOKEN` (textclf --token-file, or TEXTCLF_TOKEN) "
                "with a token the server's --auth-tokens file lists"));
  }
  if (identity.role < needed) {
    return absl::PermissionDeniedError(absl::StrCat(std::string(method), " needs the ", std::string(RoleName(needed)), " role; ",
                                                    identity.name, " has the ", std::string(RoleName(identity.role)), " role"));
  }
  return identity;
}

}  // namespace textclf::server
