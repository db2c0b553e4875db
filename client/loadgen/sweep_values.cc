// Parsing sweep items and stepping through ranges.
#include "client/loadgen/sweep_values.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace textclf::loadgen {
namespace {

bool ParseNumber(absl::string_view text, double* value) {
  text = absl::StripAsciiWhitespace(text);
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, *value);
  return !text.empty() && error == std::errc() && stop == end && std::isfinite(*value);
}

// One item's values appended to `out`.
absl::Status Expand(const std::string& item, const std::string& flag, std::vector<double>* out) {
  const std::vector<absl::string_view> parts = absl::StrSplit(item, ':');
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": \"", item, "\" ", why));
  };
  if (parts.size() == 1) {
    double value = 0;
    if (!ParseNumber(parts[0], &value)) return bad("is not a number");
    out->push_back(value);
    return absl::OkStatus();
  }
  if (parts.size() != 3) return bad("is not a number or a range START:END:STEP (or START:END:xFACTOR)");
  double start = 0, end = 0;
  if (!ParseNumber(parts[0], &start) || !ParseNumber(parts[1], &end)) return bad("needs numbers for START and END");
  if (start > end) return bad("starts above its end");
  absl::string_view step_text = absl::StripAsciiWhitespace(parts[2]);
  const bool geometric = absl::ConsumePrefix(&step_text, "x") || absl::ConsumeSuffix(&step_text, "x");
  double step = 0;
  if (!ParseNumber(step_text, &step)) return bad("needs a number for its STEP (or xFACTOR)");
  if (geometric && !(step > 1)) return bad("needs a FACTOR above 1");
  if (geometric && !(start > 0)) return bad("needs a START above 0 to multiply");
  if (!geometric && !(step > 0)) return bad("needs a STEP above 0");
  // The tolerance keeps END itself when floating-point steps land a hair above it (0.1 steps).
  const double last = end + 1e-9 * std::max(1.0, std::abs(end));
  for (int i = 0;; ++i) {
    const double value = geometric ? start * std::pow(step, i) : start + i * step;
    if (value > last) break;
    if (out->size() >= kMaxSweepValues) return bad(absl::StrCat("gives more than ", kMaxSweepValues, " values"));
    out->push_back(value);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<double>> ExpandSweep(const std::vector<std::string>& items, const std::string& flag) {
  std::vector<double> values;
  for (const std::string& item : items) {
    if (absl::Status s = Expand(item, flag, &values); !s.ok()) return s;
  }
  return values;
}

}  // namespace textclf::loadgen
