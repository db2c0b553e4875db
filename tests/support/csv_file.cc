#include "tests/support/csv_file.h"

#include <fstream>

namespace textclf::testing {
namespace {

// RFC 4180: a quoted field doubles its quotes.
std::string Quote(const std::string& field) {
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::filesystem::path WriteLabeledCsv(const std::filesystem::path& path, const std::vector<std::string>& texts,
                                      const std::vector<std::string>& labels) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << "headline,label\n";
  for (size_t i = 0; i < texts.size(); ++i) out << Quote(texts[i]) << "," << Quote(labels[i]) << "\n";
  return path;
}

}  // namespace textclf::testing
