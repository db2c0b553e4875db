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
  ScoreMatrix out;
  const int positive = model.positive_class();
  for (size_t begin = 0; begin < texts.size(); begin += batch_size) {
    const size_t end = std::min(texts.size(), begin + batch_size);
    inputs.clear();
    for (size_t i = begin; i < end; ++i) inputs.push_back(ModelInput{texts[i], nullptr});
    RETURN_IF_ERROR(model.Run(inputs, device, &out));
    for (size_t i = 0; i < inputs.size(); ++i) {
      const float* p = out.probability_row(i);
      metrics->Add(labels[begin + i], static_cast<int>(out.Argmax(i)),
                   std::span<const float>(p, out.cols),
                   positive >= 0 ? out.score_row(i)[positive] : 0.0);
    }
  }
  return absl::OkStatus();
}

}  // namespace textclf::eval
