// Sentence splitting for training corpora, as the reference: re.split(r'[.?!]\s+|\n', text),
// keeping only pieces longer than two characters.
#pragma once

#include <string_view>
#include <vector>

namespace textclf::text {

// Pieces between separators ('.', '?' or '!' followed by whitespace, or a newline), dropped
// separators, of more than two code points. The views point into `text`.
std::vector<std::string_view> SplitSentences(std::string_view text);
// Same; replaces *out, reusing its capacity.
void SplitSentences(std::string_view text, std::vector<std::string_view>* out);

}  // namespace textclf::text
