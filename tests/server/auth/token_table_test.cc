#include "server/auth/token_table.h"

#include <gtest/gtest.h>

#include "core/common/sha256.h"

namespace textclf::server {
namespace {

TEST(TokenTable, MapsTokensDigestsAndCertificatesToRoles) {
  const std::string admin_token = "admin-token-0123456789";
  const std::string client_token = "client-token-0123456789";
  const std::string text = "# who may call\n"
                           "admin " + admin_token + "\n"
                           "client sha256:" + Sha256Hex(client_token) + "   # stored as a digest\n"
                           "\n"
                           "client cert:reader.example\n"
                           "admin\tcert:ops.example\n";
  auto table = TokenTable::Parse(text, "tokens");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 4u);
  EXPECT_EQ(table->ForToken(admin_token).role, Role::kAdmin);
  EXPECT_EQ(table->ForToken(client_token).role, Role::kClient);
  EXPECT_EQ(table->ForToken("client-token-012345678").role, Role::kNone);
  EXPECT_EQ(table->ForToken("").role, Role::kNone);
  EXPECT_EQ(table->ForCertificate("reader.example").role, Role::kClient);
  EXPECT_EQ(table->ForCertificate("ops.example").role, Role::kAdmin);
  EXPECT_EQ(table->ForCertificate("other").role, Role::kNone);
  // The audit name never holds the token.
  const Identity admin = table->ForToken(admin_token);
  EXPECT_EQ(admin.name.rfind("token:", 0), 0u);
  EXPECT_EQ(admin.name.find(admin_token), std::string::npos);
  EXPECT_EQ(table->ForCertificate("ops.example").name, "cert:ops.example");
}

TEST(TokenTable, RefusesMalformedLinesNamingTheLineNotTheToken) {
  auto role = TokenTable::Parse("root secret-token-0123456789\n", "tokens");
  EXPECT_EQ(role.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(role.status().message().find("tokens:1"), std::string_view::npos) << role.status();
  EXPECT_EQ(role.status().message().find("secret"), std::string_view::npos) << role.status();
  EXPECT_FALSE(TokenTable::Parse("admin\n", "t").ok());
  EXPECT_FALSE(TokenTable::Parse("admin a b\n", "t").ok());
  EXPECT_FALSE(TokenTable::Parse("admin short\n", "t").ok()) << "tokens need 16 characters";
  EXPECT_FALSE(TokenTable::Parse("admin sha256:abc\n", "t").ok());
  EXPECT_FALSE(TokenTable::Parse("admin sha256:" + std::string(64, 'g') + "\n", "t").ok());
  EXPECT_FALSE(TokenTable::Parse("admin cert:\n", "t").ok());
  EXPECT_FALSE(TokenTable::Parse(std::string(2 << 20, '#'), "t").ok()) << "bounded size";
  auto empty = TokenTable::Parse("# nobody\n", "t");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->ForToken("anything-at-all-123").role, Role::kNone);
}

}  // namespace
}  // namespace textclf::server
