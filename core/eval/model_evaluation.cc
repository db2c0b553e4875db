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
  ScoreMatrix out;
  const int positive = model.positive_class();
  for (size_t begin = 0; begin < inputs.size(); begin += batch_size) {
    const size_t end = std::min(inputs.size(), begin + batch_size);
    RETURN_IF_ERROR(model.Run(inputs.subspan(begin, end - begin), device, &out));
    for (size_t i = 0; i < end - begin; ++i) {
      const float* p = out.probability_row(i);
      metrics->Add(labels[begin + i], static_cast<int>(out.Argmax(i)),
                   std::span<const float>(p, out.cols),
                   positive >= 0 ? out.score_row(i)[positive] : 0.0);
    }
  }
  return absl::OkStatus();
}

}  // namespace textclf::eval
