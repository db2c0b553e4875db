// Word hashing for the Zest "word_hashing" option: each word becomes a short byte string, so the
// compressor sees a vocabulary of symbols instead of spellings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace textclf::text {

// FNV-1a 64 over the bytes, then the splitmix64 finaliser to spread FNV's weak high bits. Fixed
// forever: models store hashed text, so this must give the same value on every run and machine.
// It replaces the reference's Python hash(), which is salted per process (PYTHONHASHSEED), so the
// reference's hashed models could not be reproduced in another process anyway.
uint64_t StableHash64(std::string_view s);

// For each word of text.split() (runs of \s separate words), appends the hash's base-255 digits,
// least significant first, each plus 1 (bytes 1..255; a hash of 0 has no digits), then a 0 byte.
void AppendHashedWords(std::string_view text, std::string* out);

}  // namespace textclf::text
