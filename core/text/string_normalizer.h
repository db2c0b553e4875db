// The binary Zest model's text normalization, a port of the reference StringNormalizer: numbers
// become "##" / "###" buckets, punctuation becomes tokens (or goes), everything else one space.
#pragma once

#include <string>
#include <string_view>

namespace textclf::text {

struct StringNormalizerOptions {
  enum class Punctuation {
    kTokens,  // "..." -> "___", "?" -> "_?_", "!" -> "_!_", "#" -> "_#_"  (no_punct=False)
    kRemove,  // ¿ ? # ! ¡ _ and "..." become spaces                        (no_punct=True)
    kKeep,    // ? ! # _ stay as they are                                    (keep_punct=True)
  };
  Punctuation punctuation = Punctuation::kTokens;
  // Unicode simple lower-casing before anything else (the reference lower-cases the whole text
  // with str.lower() first).
  bool lowercase = false;
};

// Identical to the reference's chain of nine re.sub calls, fused into one pass: what survives
// is \w characters, * & | and the punctuation tokens; a digit run, joined across '_' and spaces,
// becomes "##" (1-2 digits) or "###"; tokens are separated by single spaces, none at the ends.
// Invalid UTF-8 bytes are treated as U+FFFD (punctuation), so the output is always valid UTF-8.
std::string NormalizeString(std::string_view text, const StringNormalizerOptions& options);
// Same; replaces *out, reusing its capacity; `text` must not point into *out.
void NormalizeString(std::string_view text, const StringNormalizerOptions& options,
                     std::string* out);

// The number of maximal \w runs: len(re.findall(r'\W*(\w+)', text)).
int CountWords(std::string_view normalized);

}  // namespace textclf::text
