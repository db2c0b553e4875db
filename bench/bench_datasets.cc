#include "bench/bench_datasets.h"

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/text/char_filter.h"
#include "core/text/string_normalizer.h"

namespace textclf::bench {
namespace {

data::Dataset StudyProtocol(const data::LabeledSet& all) {
  std::vector<std::string_view> views(all.texts.begin(), all.texts.end());
  text::CharFilter filter = text::CharFilter::Learn(views, 0.005);
  text::StringNormalizerOptions no_punct;
  no_punct.punctuation = text::StringNormalizerOptions::Punctuation::kRemove;
  std::vector<std::vector<size_t>> kept(all.classes.size());
  for (size_t i = 0; i < all.texts.size(); ++i) {
    const std::string filtered = filter.Apply(all.texts[i]);
    if (filtered.size() >= 20 && text::CountWords(text::NormalizeString(filtered, no_punct)) >= 6) {
      kept[all.labels[i]].push_back(i);
    }
  }
  data::Dataset d;
  d.classes = all.classes;
  for (size_t c = 0; c < kept.size(); ++c) {
    const size_t test = kept[c].size() / 4;
    for (size_t k = 0; k < kept[c].size(); ++k) {
      const size_t i = kept[c][k];
      if (k < test) {
        d.test_texts.push_back(all.texts[i]);
        d.test_labels.push_back(all.labels[i]);
      } else {
        d.train_texts.push_back(all.texts[i]);
        d.train_labels.push_back(all.labels[i]);
      }
    }
  }
  return d;
}

// Tuning never looks at the test files: it holds out a fifth of the training file instead.
data::Dataset ValidationSplit(const data::Dataset& d) {
  data::LabeledSet train{d.classes, d.train_texts, d.train_labels};
  return data::RandomSplit(train, 0.2, 11);
}

}  // namespace

absl::StatusOr<data::Dataset> LoadBenchDataset(const std::filesystem::path& data_dir,
                                               const std::string& name, const std::string& protocol) {
  if (name == "clickbait") {
    ASSIGN_OR_RETURN(data::LabeledSet all, data::LoadClickbait(data_dir));
    if (protocol == "study") return StudyProtocol(all);
    if (protocol == "split") return data::RandomSplit(all, 0.2, 7);
    if (protocol == "validation") {
      data::Dataset study = StudyProtocol(all);
      return ValidationSplit(study);
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown protocol ", protocol, "; use study or split"));
  }
  if (name == "agnews" || name == "dbpedia14") {
    ASSIGN_OR_RETURN(data::Dataset d, name == "agnews" ? data::LoadAgNews(data_dir) : data::LoadDbpedia14(data_dir));
    if (protocol == "validation") return ValidationSplit(d);
    return d;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown dataset ", name, "; use clickbait, agnews or dbpedia14"));
}

}  // namespace textclf::bench
