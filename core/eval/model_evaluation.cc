#include "core/eval/model_evaluation.h"

#include <algorithm>
#include <vector>

#include "core/common/status_macros.h"

namespace textclf::eval {

MetricsAccumulator AccumulatorFor(const Model& model) {
  std::vector<std::string> classes(model.manifest().classes().begin(), model.manifest().classes().end());
  return MetricsAccumulator(std::move(classes), model.positive_class());
}

absl::Status AddPredictions(const Model& model, std::span<const std::string> texts,
                            std::span<const int> labels, const Device& device, size_t batch_size,
                            MetricsAccumulator* metrics) {
  std::vector<ModelInput> inputs;
  inputs.reserve(texts.size());
  for (const std::string& text : texts) inputs.push_back(ModelInput{text, nullptr});
  return AddPredictions(model, std::span<const ModelInput>(inputs), labels, device, batch_size, metrics);
}

absl::Status AddPredictions(const Model& model, std::span<const ModelInput> inputs,
                            std::span<const int> labels, const Device& device, size_t batch_size,
                            MetricsAccumulator* metrics) {
  return AddPredictions(
      model, inputs, labels,
      [&](std::span<const ModelInput> chunk, ScoreMatrix* out) { return model.Run(chunk, device, out); }, batch_size,
      metrics);
}

absl::Status AddPredictions(const Model& model, std::span<const ModelInput> inputs, std::span<const int> labels,
                            const ScoreFn& score, size_t chunk, MetricsAccumulator* metrics) {
  ScoreMatrix out;
  const int positive = model.positive_class();
  chunk = std::max<size_t>(chunk, 1);
  for (size_t begin = 0; begin < inputs.size(); begin += chunk) {
    const size_t end = std::min(inputs.size(), begin + chunk);
    RETURN_IF_ERROR(score(inputs.subspan(begin, end - begin), &out));
    for (size_t i = 0; i < end - begin; ++i) {
      const float* p = out.probability_row(i);
      metrics->Add(labels[begin + i], static_cast<int>(out.Argmax(i)), std::span<const float>(p, out.cols),
                   positive >= 0 ? out.score_row(i)[positive] : 0.0);
    }
  }
  return absl::OkStatus();
}

}  // namespace textclf::eval
