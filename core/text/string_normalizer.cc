// One-pass port of the reference StringNormalizer's regular-expression chain.
#include "core/text/string_normalizer.h"

#include <array>
#include <cstdint>

#include "core/text/utf8.h"

namespace textclf::text {
namespace {

using Punctuation = StringNormalizerOptions::Punctuation;

constexpr char32_t kInvertedQuestion = 0xBF;     // ¿
constexpr char32_t kInvertedExclamation = 0xA1;  // ¡

// What the substitutions up to and including `[^\w\d?!_*&|#]+ -> ' '` make of a character.
enum class Role : uint8_t {
  kGap,       // becomes (part of) a space
  kKept,      // survives as itself
  kDigit,     // survives, then its run becomes "##" or "###"
  kDot,       // a run of three or more is one "___" token, shorter runs a gap
  kQuestion,  // '?' or '¿': a run is one "_?_" token
  kBang,      // '!' or '¡': a run is one "_!_" token
  kHash,      // '#': each one is a "_#_" token
};

Role AsciiRole(char c, Punctuation mode) {
  if (c >= '0' && c <= '9') return Role::kDigit;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return Role::kKept;
  switch (c) {
    case '*': case '&': case '|':
      return Role::kKept;
    case '_':
      return mode == Punctuation::kRemove ? Role::kGap : Role::kKept;
    case '.':
      return mode == Punctuation::kTokens ? Role::kDot : Role::kGap;
    case '?':
      return mode == Punctuation::kTokens ? Role::kQuestion
             : mode == Punctuation::kKeep ? Role::kKept : Role::kGap;
    case '!':
      return mode == Punctuation::kTokens ? Role::kBang
             : mode == Punctuation::kKeep ? Role::kKept : Role::kGap;
    case '#':
      return mode == Punctuation::kTokens ? Role::kHash
             : mode == Punctuation::kKeep ? Role::kKept : Role::kGap;
    default:
      return Role::kGap;
  }
}

using AsciiRoles = std::array<Role, 128>;

AsciiRoles MakeAsciiRoles(Punctuation mode) {
  AsciiRoles roles;
  for (int c = 0; c < 128; ++c) roles[c] = AsciiRole(static_cast<char>(c), mode);
  return roles;
}

const AsciiRoles& AsciiRolesFor(Punctuation mode) {
  static const AsciiRoles kTokens = MakeAsciiRoles(Punctuation::kTokens);
  static const AsciiRoles kRemove = MakeAsciiRoles(Punctuation::kRemove);
  static const AsciiRoles kKeep = MakeAsciiRoles(Punctuation::kKeep);
  switch (mode) {
    case Punctuation::kRemove: return kRemove;
    case Punctuation::kKeep: return kKeep;
    case Punctuation::kTokens: break;
  }
  return kTokens;
}

Role RoleOf(char32_t cp, Punctuation mode, const AsciiRoles& ascii_roles) {
  if (cp < 128) return ascii_roles[cp];
  if (mode == Punctuation::kTokens) {
    if (cp == kInvertedQuestion) return Role::kQuestion;
    if (cp == kInvertedExclamation) return Role::kBang;
  }
  if (IsDigitChar(cp)) return Role::kDigit;
  return IsWordChar(cp) ? Role::kKept : Role::kGap;
}

// Applies the reference's last four substitutions to the surviving characters as they arrive:
// '_' and spaces between two digits vanish (pass 6), each digit run becomes " ## " or " ### "
// (passes 7 and 8), and gaps become single spaces with none at either end (pass 9 and the strip).
class TokenWriter {
 public:
  explicit TokenWriter(std::string* out) : out_(out) { out_->clear(); }

  void Gap() { gap_pending_ = true; }

  void Kept(std::string_view utf8, bool is_underscore) {
    // Only '_' and spaces can sit between two digits that pass 6 joins.
    if (!is_underscore) digits_ = 0;
    if (gap_pending_ && !out_->empty()) out_->push_back(' ');
    gap_pending_ = false;
    out_->append(utf8);
  }

  void Digit() {
    if (digits_ > 0) {
      out_->resize(run_end_);  // the run goes on: drop the '_' and spaces written since
      if (digits_ < 3 && ++digits_ == 3) out_->push_back('#');
    } else {
      if (!out_->empty()) out_->push_back(' ');
      out_->append("##");
      digits_ = 1;
    }
    run_end_ = out_->size();
    gap_pending_ = true;
  }

 private:
  std::string* out_;
  bool gap_pending_ = false;
  int digits_ = 0;      // digits in the current run (capped at 3); 0 outside a run
  size_t run_end_ = 0;  // out_->size() just after the current run's token
};

void WriteToken(std::string_view token, TokenWriter* writer) {
  writer->Gap();
  for (char c : token) writer->Kept(std::string_view(&c, 1), c == '_');
  writer->Gap();
}

}  // namespace

std::string NormalizeString(std::string_view text, const StringNormalizerOptions& options) {
  std::string out;
  NormalizeString(text, options, &out);
  return out;
}

void NormalizeString(std::string_view text, const StringNormalizerOptions& options,
                     std::string* out) {
  const Punctuation mode = options.punctuation;
  const AsciiRoles& ascii_roles = AsciiRolesFor(mode);
  out->reserve(text.size());
  TokenWriter writer(out);
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    const size_t length = DecodeUtf8(text, pos, &cp);
    const char32_t original = cp;
    if (options.lowercase) cp = ToLowerChar(cp);
    const Role role = RoleOf(cp, mode, ascii_roles);
    switch (role) {
      case Role::kGap:
        writer.Gap();
        break;
      case Role::kDigit:
        writer.Digit();
        break;
      case Role::kKept:
        if (cp == original) {
          writer.Kept(text.substr(pos, length), cp == '_');
        } else if (cp < 128) {
          const char ascii = static_cast<char>(cp);
          writer.Kept(std::string_view(&ascii, 1), false);
        } else {
          std::string encoded;  // short-string buffer: no heap allocation
          AppendUtf8(cp, &encoded);
          writer.Kept(encoded, false);
        }
        break;
      case Role::kDot: {
        size_t end = pos;
        while (end < text.size() && text[end] == '.') ++end;
        if (end - pos >= 3) {
          WriteToken("___", &writer);
        } else {
          writer.Gap();
        }
        pos = end;
        continue;
      }
      case Role::kQuestion:
      case Role::kBang: {
        size_t end = pos + length;
        char32_t next = 0;
        for (size_t next_length; (next_length = DecodeUtf8(text, end, &next)) != 0 &&
                                 RoleOf(next, mode, ascii_roles) == role;) {
          end += next_length;
        }
        WriteToken(role == Role::kQuestion ? "_?_" : "_!_", &writer);
        pos = end;
        continue;
      }
      case Role::kHash:
        WriteToken("_#_", &writer);
        break;
    }
    pos += length;
  }
}

int CountWords(std::string_view normalized) {
  int words = 0;
  bool in_word = false;
  size_t pos = 0;
  while (pos < normalized.size()) {
    char32_t cp = 0;
    pos += DecodeUtf8(normalized, pos, &cp);
    const bool is_word = IsWordChar(cp);
    if (is_word && !in_word) ++words;
    in_word = is_word;
  }
  return words;
}

}  // namespace textclf::text
