// The multi-class Zest model's text normalization, a port of the reference normalize():
// lower-case, then drop punctuation that clings to words.
#pragma once

#include <string>
#include <string_view>

namespace textclf::text {

// Identical (up to lower-casing, see below) to
//   s0 = re.sub(r'\b\W+ | \W+\b', ' ', s.lower());  return re.sub(r'\b[^\w\s]+\b', '', s0)
// computed in one pass over the runs of non-word characters. Lower-casing is Unicode simple
// case mapping, where Python's str.lower() is full: "İ" gives "i", not "i" + U+0307, and a
// final "Σ" gives "σ", not "ς". Invalid UTF-8 bytes come out as U+FFFD.
std::string NormalizeWords(std::string_view text);
// Same; replaces *out, reusing its capacity; `text` must not point into *out.
void NormalizeWords(std::string_view text, std::string* out);

}  // namespace textclf::text
