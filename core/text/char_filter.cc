// Learning and applying the character filter.
#include "core/text/char_filter.h"

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "core/text/utf8.h"

namespace textclf::text {
namespace {

constexpr char32_t kInvertedQuestion = 0xBF;     // ¿
constexpr char32_t kInvertedExclamation = 0xA1;  // ¡

bool IsCandidate(char32_t cp) {
  if (IsWordChar(cp)) return true;
  if (cp < 128) return std::string_view(" .,:;?!_*+/|#").find(static_cast<char>(cp)) !=
                       std::string_view::npos;
  return cp == kInvertedQuestion || cp == kInvertedExclamation;
}

// Document frequency with each sample counted once: `last_sample` remembers the last sample
// (1-based) that counted the character.
struct DocumentFrequency {
  uint32_t samples = 0;
  uint32_t last_sample = 0;

  void Count(uint32_t sample) {
    if (last_sample == sample) return;
    last_sample = sample;
    ++samples;
  }
};

}  // namespace

CharFilter CharFilter::Learn(std::span<const std::string_view> samples, double df_threshold,
                             size_t max_samples) {
  const size_t used = std::min(samples.size(), max_samples);
  if (used == 0) return CharFilter();

  std::array<DocumentFrequency, 128> ascii_df{};
  absl::flat_hash_map<char32_t, DocumentFrequency> non_ascii_df;
  for (size_t i = 0; i < used; ++i) {
    const std::string_view sample = samples[i];
    const auto sample_number = static_cast<uint32_t>(i + 1);
    size_t pos = 0;
    while (pos < sample.size()) {
      char32_t cp = 0;
      pos += DecodeUtf8(sample, pos, &cp);
      if (cp < 128) {
        ascii_df[cp].Count(sample_number);  // candidates are checked once, below
      } else if (IsCandidate(cp)) {
        non_ascii_df[cp].Count(sample_number);
      }
    }
  }

  const double min_samples = df_threshold * static_cast<double>(used);
  CharFilter filter;
  filter.allows_everything_ = false;
  bool any = false;
  for (char32_t cp = 0; cp < 128; ++cp) {
    const bool allowed = ascii_df[cp].samples > 0 && IsCandidate(cp) &&
                         static_cast<double>(ascii_df[cp].samples) >= min_samples;
    filter.ascii_allowed_[cp] = allowed;
    any = any || allowed;
  }
  for (const auto& [cp, df] : non_ascii_df) {
    if (static_cast<double>(df.samples) >= min_samples) filter.non_ascii_allowed_.push_back(cp);
  }
  std::sort(filter.non_ascii_allowed_.begin(), filter.non_ascii_allowed_.end());
  if (!any && filter.non_ascii_allowed_.empty()) return CharFilter();
  return filter;
}

CharFilter CharFilter::FromAllowed(std::string_view allowed_utf8) {
  CharFilter filter;
  if (allowed_utf8.empty()) return filter;
  filter.allows_everything_ = false;
  size_t pos = 0;
  while (pos < allowed_utf8.size()) {
    char32_t cp = 0;
    pos += DecodeUtf8(allowed_utf8, pos, &cp);
    if (cp < 128) {
      filter.ascii_allowed_[cp] = true;
    } else {
      filter.non_ascii_allowed_.push_back(cp);
    }
  }
  auto& non_ascii = filter.non_ascii_allowed_;
  std::sort(non_ascii.begin(), non_ascii.end());
  non_ascii.erase(std::unique(non_ascii.begin(), non_ascii.end()), non_ascii.end());
  return filter;
}

std::string CharFilter::allowed() const {
  std::string out;
  if (allows_everything_) return out;
  for (char32_t cp = 0; cp < 128; ++cp) {
    if (ascii_allowed_[cp]) out.push_back(static_cast<char>(cp));
  }
  for (char32_t cp : non_ascii_allowed_) AppendUtf8(cp, &out);
  return out;
}

bool CharFilter::IsAllowedNonAscii(char32_t cp) const {
  return std::binary_search(non_ascii_allowed_.begin(), non_ascii_allowed_.end(), cp);
}

std::string CharFilter::Apply(std::string_view text) const {
  std::string out;
  Apply(text, &out);
  return out;
}

void CharFilter::Apply(std::string_view text, std::string* out) const {
  out->clear();
  out->reserve(text.size());
  bool in_whitespace = false;  // the last character kept was whitespace
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    const size_t length = DecodeUtf8(text, pos, &cp);
    const size_t begin = pos;
    pos += length;
    if (!IsAllowed(cp)) continue;  // removed before folding, so it can join two runs of spaces
    if (IsSpaceChar(cp)) {
      if (!in_whitespace) out->push_back(' ');
      in_whitespace = true;
      continue;
    }
    in_whitespace = false;
    if (cp == kReplacementChar && length == 1) {
      AppendUtf8(cp, out);  // an invalid byte
    } else {
      out->append(text.substr(begin, length));
    }
  }
}

}  // namespace textclf::text
