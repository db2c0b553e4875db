#include "tests/support/word_count_family.h"

#include <cctype>
#include <cmath>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"

namespace textclf::testing {
namespace {

constexpr std::string_view kCountsFile = "counts.tsv";

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

class WordCountModel final : public Model {
 public:
  WordCountModel(v1::Manifest manifest, std::vector<std::map<std::string, double, std::less<>>> counts)
      : Model(std::move(manifest)), counts_(std::move(counts)) {
    for (const auto& c : counts_) {
      double total = 0;
      for (const auto& [word, n] : c) total += n;
      totals_.push_back(total);
    }
  }

  absl::Status ValidateInput(const ModelInput& input) const override {
    if (input.tensor != nullptr) return absl::InvalidArgumentError("this model classifies texts, not tensors");
    return absl::OkStatus();
  }

  absl::Status Run(std::span<const ModelInput> batch, const Device&, ScoreMatrix* out) const override {
    out->Resize(batch.size(), num_classes());
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::vector<std::string> words = Words(batch[i].text);
      float* scores = out->score_row(i);
      double best = -1e300;
      for (size_t c = 0; c < num_classes(); ++c) {
        double log_likelihood = 0;
        for (const std::string& w : words) {
          auto it = counts_[c].find(w);
          // Add-one smoothing over a nominal vocabulary of 10,000 words.
          log_likelihood += std::log(((it == counts_[c].end() ? 0 : it->second) + 1) / (totals_[c] + 1e4));
        }
        scores[c] = static_cast<float>(log_likelihood);
        best = std::max(best, log_likelihood);
      }
      double sum = 0;
      for (size_t c = 0; c < num_classes(); ++c) sum += std::exp(scores[c] - best);
      for (size_t c = 0; c < num_classes(); ++c) out->probability_row(i)[c] = static_cast<float>(std::exp(scores[c] - best) / sum);
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::map<std::string, double, std::less<>>> counts_;
  std::vector<double> totals_;
};

absl::StatusOr<std::unique_ptr<Model>> Load(v1::Manifest manifest, const ModelFiles& files) {
  ASSIGN_OR_RETURN(std::string_view text, files.Get(kCountsFile));
  std::vector<std::map<std::string, double, std::less<>>> counts(manifest.classes_size());
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    size_t c = 0;
    std::string word;
    double n = 0;
    if (!(fields >> c >> word >> n) || c >= counts.size()) {
      return absl::DataLossError(absl::StrCat(std::string(kCountsFile), ": malformed line \"", line, "\""));
    }
    counts[c][word] = n;
  }
  return std::unique_ptr<Model>(new WordCountModel(std::move(manifest), std::move(counts)));
}

absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx) {
  std::vector<std::map<std::string, double>> counts(data.classes.size());
  for (size_t i = 0; i < data.texts.size(); ++i) {
    if (i % 256 == 0) RETURN_IF_ERROR(ctx.cancel->Check());
    for (const std::string& w : Words(data.texts[i])) counts[static_cast<size_t>(data.labels[i])][w] += 1;
  }
  ctx.progress("count", 0.5, absl::StrCat("counted the words of ", data.texts.size(), " texts"));
  std::ostringstream out;
  for (size_t c = 0; c < counts.size(); ++c) {
    for (const auto& [word, n] : counts[c]) out << c << '\t' << word << '\t' << n << '\n';
  }
  RETURN_IF_ERROR(WriteFileDurably(ctx.output_dir / kCountsFile, out.str()));
  v1::Manifest manifest;
  manifest.set_family(kWordCountFamilyId);
  for (const std::string& c : data.classes) manifest.add_classes(c);
  *manifest.mutable_config() = start.config();
  return manifest;
}

FamilyDescriptor Describe() {
  FamilyDescriptor d;
  d.id = kWordCountFamilyId;
  d.name = "word_count";
  d.load = &Load;
  d.train = &Train;
  return d;
}

}  // namespace

const FamilyDescriptor* WordCountFamily() {
  static const FamilyDescriptor descriptor = Describe();
  return &descriptor;
}

const FamilyTable& WordCountOnly() {
  static const FamilyTable table({WordCountFamily()});
  return table;
}

}  // namespace textclf::testing
