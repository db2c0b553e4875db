// The reference CharCounter filter: keeps the characters common enough in the training samples,
// so rare symbols do not waste dictionary space or add noise to compression scores.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace textclf::text {

class CharFilter {
 public:
  // Allows every character: "no filter".
  CharFilter() = default;

  // A character is a candidate if it is \w or one of " .,:;¿?¡!_*+/|#"; it is allowed if the
  // number of samples containing it is >= df_threshold * (samples used). Uses the first
  // max_samples samples. With no samples, or when no character qualifies, the result is the
  // pass-through filter: a filter that deletes every character is never useful, and this keeps
  // FromAllowed(allowed()) an exact round trip.
  static CharFilter Learn(std::span<const std::string_view> samples, double df_threshold,
                          size_t max_samples = 50000);

  // The inverse of allowed(); "" gives the pass-through filter.
  static CharFilter FromAllowed(std::string_view allowed_utf8);

  // The allowed characters in UTF-8, sorted by code point; "" for the pass-through filter.
  std::string allowed() const;
  bool allows_everything() const { return allows_everything_; }

  bool IsAllowed(char32_t cp) const {
    if (allows_everything_) return true;
    if (cp < 128) return ascii_allowed_[cp];
    return IsAllowedNonAscii(cp);
  }

  // Removes every character that is not allowed, then folds each run of \s into one space, as
  // re.sub(r'\s+', ' ', ...). Invalid UTF-8 bytes are U+FFFD, allowed or not like any other.
  std::string Apply(std::string_view text) const;
  // Same; replaces *out, reusing its capacity; `text` must not point into *out.
  void Apply(std::string_view text, std::string* out) const;

 private:
  bool IsAllowedNonAscii(char32_t cp) const;

  bool allows_everything_ = true;
  std::array<bool, 128> ascii_allowed_{};
  std::vector<char32_t> non_ascii_allowed_;  // sorted
};

}  // namespace textclf::text
