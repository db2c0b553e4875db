// SHA-256 digests (OpenSSL) for the checksums stored in model manifests.
#pragma once

#include <string>
#include <string_view>

namespace textclf {

// Lower-case hex digest of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace textclf
