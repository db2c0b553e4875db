#include "core/cnn/training_loop.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/status_macros.h"
#include "core/common/stopwatch.h"
#include "core/common/training_heap.h"

namespace textclf::cnn {
namespace {

constexpr int64_t kEvalBatch = 256;

double Accuracy(const Architecture& arch, const TensorMap& p, const Examples& data, const torch::Device& device) {
  if (data.size() == 0) return 0;
  torch::NoGradGuard no_grad;
  std::mt19937_64 unused;
  int64_t correct = 0;
  std::vector<size_t> rows;
  for (size_t begin = 0; begin < data.size(); begin += kEvalBatch) {
    rows.clear();
    for (size_t i = begin; i < std::min(data.size(), begin + kEvalBatch); ++i) rows.push_back(i);
    torch::Tensor predicted = arch.Forward(p, data.Batch(rows, false, unused).to(device), {}).argmax(1).to(torch::kCPU);
    const int64_t* pr = predicted.data_ptr<int64_t>();
    for (size_t k = 0; k < rows.size(); ++k) correct += pr[k] == data.label(rows[k]) ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

void SetLearningRate(torch::optim::Optimizer& optimizer, v1::CnnTraining::Optimizer kind, double lr) {
  for (auto& group : optimizer.param_groups()) {
    if (kind == v1::CnnTraining::SGD) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    } else {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
  }
}

// What the stages of RunTraining share. The generator (dropout) and rng (shuffles,
// augmentation) are seeded once, so a seed gives one model.
struct TrainingLoop {
  TrainingLoop(const Architecture& arch, const Examples& train, const Examples& validation, const v1::CnnTraining& t,
               const torch::Device& device, TrainContext& ctx)
      : arch(arch),
        train(train),
        validation(validation),
        t(t),
        device(device),
        ctx(ctx),
        generator(at::detail::createCPUGenerator(t.seed())),
        rng(t.seed()),
        batch_size(static_cast<size_t>(t.batch_size())) {
    training.training = true;
    training.generator = &generator;
  }

  const Architecture& arch;
  const Examples& train;
  const Examples& validation;
  const v1::CnnTraining& t;
  const torch::Device& device;
  TrainContext& ctx;

  TensorMap params;  // on `device`
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  at::Generator generator;
  std::mt19937_64 rng;
  ForwardOptions training;  // dropout masks from `generator`
  const size_t batch_size;
  size_t batches = 0;  // per epoch
  double total_steps = 0;
  std::vector<size_t> order;  // of the training examples, shuffled every epoch
  int64_t step = 0;
  double best_accuracy = -1;
  int since_best = 0;  // epochs
  LoopResult result;
};

// Sums over one epoch's batches.
struct EpochTotals {
  double loss_sum = 0;
  int64_t correct = 0;
  int64_t seen = 0;
};

void CreateOptimizer(TrainingLoop& loop, TensorMap params) {
  const v1::CnnTraining& t = loop.t;
  loop.params = MoveTo(params, loop.device);
  std::vector<torch::Tensor> trainable;
  for (auto& [name, tensor] : loop.params) {
    if (IsTrainable(name)) {
      tensor.set_requires_grad(true);
      trainable.push_back(tensor);
    }
  }
  if (t.optimizer() == v1::CnnTraining::SGD) {
    loop.optimizer = std::make_unique<torch::optim::SGD>(
        trainable, torch::optim::SGDOptions(t.learning_rate()).momentum(0.9).nesterov(true).weight_decay(t.weight_decay()));
  } else {
    loop.optimizer = std::make_unique<torch::optim::Adam>(
        trainable, torch::optim::AdamOptions(t.learning_rate()).weight_decay(t.weight_decay()));
  }
}

void PlanBatches(TrainingLoop& loop) {
  const v1::CnnTraining& t = loop.t;
  loop.batches = (loop.train.size() + loop.batch_size - 1) / loop.batch_size;
  if (t.max_batches_per_epoch() > 0) loop.batches = std::min(loop.batches, static_cast<size_t>(t.max_batches_per_epoch()));
  loop.total_steps = static_cast<double>(loop.batches) * t.epochs();
  loop.order.resize(loop.train.size());
  std::iota(loop.order.begin(), loop.order.end(), 0);
}

absl::Status TrainBatch(TrainingLoop& loop, int epoch, size_t b, EpochTotals& totals) {
  const v1::CnnTraining& t = loop.t;
  const size_t batch_size = loop.batch_size;
  std::span<const size_t> rows(loop.order.data() + b * batch_size, std::min(batch_size, loop.order.size() - b * batch_size));
  std::vector<int64_t> labels;
  for (size_t r : rows) labels.push_back(loop.train.label(r));
  const double lr = 0.5 * t.learning_rate() * (1 + std::cos(M_PI * static_cast<double>(loop.step) / loop.total_steps));
  SetLearningRate(*loop.optimizer, t.optimizer(), lr);
  torch::Tensor input = loop.train.Batch(rows, /*augment=*/true, loop.rng).to(loop.device);
  torch::Tensor target = torch::tensor(labels, torch::kLong).to(loop.device);
  torch::Tensor logits = loop.arch.Forward(loop.params, input, loop.training);
  torch::Tensor loss = torch::nn::functional::cross_entropy(logits, target);
  loop.optimizer->zero_grad();
  loss.backward();
  loop.optimizer->step();
  ++loop.step;
  const double batch_loss = loss.item<double>();
  if (!std::isfinite(batch_loss)) {
    return absl::FailedPreconditionError(absl::StrCat("the training loss diverged in epoch ", epoch,
                                                      "; lower training.learning_rate (now ", t.learning_rate(), ")"));
  }
  totals.loss_sum += batch_loss * static_cast<double>(rows.size());
  totals.correct += logits.argmax(1).eq(target).sum().item<int64_t>();
  totals.seen += static_cast<int64_t>(rows.size());
  return absl::OkStatus();
}

absl::StatusOr<EpochTotals> TrainEpoch(TrainingLoop& loop, int epoch) {
  const v1::CnnTraining& t = loop.t;
  std::shuffle(loop.order.begin(), loop.order.end(), loop.rng);
  EpochTotals totals;
  for (size_t b = 0; b < loop.batches; ++b) {
    RETURN_IF_ERROR(loop.ctx.cancel->Check());
    RETURN_IF_ERROR(TrainBatch(loop, epoch, b, totals));
    if (loop.batches >= 20 && (b + 1) % (loop.batches / 10) == 0 && b + 1 < loop.batches) {
      loop.ctx.progress("train", 0.05 + 0.85 * static_cast<double>(loop.step) / loop.total_steps,
                        absl::StrFormat("epoch %d/%d: %d/%d batches, loss %.4f", epoch, t.epochs(), b + 1, loop.batches,
                                        totals.loss_sum / static_cast<double>(totals.seen)));
    }
  }
  return totals;
}

// Validates the epoch, records it, and keeps its parameters when they are the best so far.
void FinishEpoch(TrainingLoop& loop, int epoch, const EpochTotals& totals, const Stopwatch& watch) {
  const v1::CnnTraining& t = loop.t;
  const Examples& validation = loop.validation;
  const double validation_accuracy = Accuracy(loop.arch, loop.params, validation, loop.device);
  v1::EpochRecord record;
  record.set_epoch(epoch);
  record.set_loss(totals.seen > 0 ? totals.loss_sum / static_cast<double>(totals.seen) : 0);
  record.set_train_accuracy(totals.seen > 0 ? static_cast<double>(totals.correct) / static_cast<double>(totals.seen) : 0);
  record.set_validation_accuracy(validation_accuracy);
  record.set_seconds(watch.seconds());
  loop.result.epochs.push_back(record);
  std::string message = absl::StrFormat("epoch %d/%d: loss %.4f, train accuracy %.4f", epoch, t.epochs(), record.loss(),
                                        record.train_accuracy());
  if (validation.size() > 0) absl::StrAppend(&message, absl::StrFormat(", validation accuracy %.4f", validation_accuracy));
  absl::StrAppend(&message, absl::StrFormat(" (%.1f s)", record.seconds()));
  // Without a validation split every epoch counts as the best so far: the last one is kept.
  if (validation.size() == 0 || validation_accuracy > loop.best_accuracy) {
    loop.best_accuracy = validation_accuracy;
    loop.result.best = CloneToCpu(loop.params);
    loop.result.best_epoch = epoch;
    loop.since_best = 0;
  } else {
    ++loop.since_best;
  }
  loop.ctx.progress("epoch", 0.05 + 0.85 * static_cast<double>(loop.step) / loop.total_steps, message);
}

bool StopsEarly(const TrainingLoop& loop, int epoch) {
  const v1::CnnTraining& t = loop.t;
  if (t.patience() < 0 || loop.validation.size() == 0 || loop.since_best < t.patience() || epoch >= t.epochs()) {
    return false;
  }
  loop.ctx.progress("epoch", 0.9, absl::StrCat("early stop: no better validation accuracy for ", loop.since_best,
                                               " epochs; keeping epoch ", loop.result.best_epoch));
  return true;
}

}  // namespace

absl::StatusOr<LoopResult> RunTraining(const Architecture& arch, TensorMap params, const Examples& train,
                                       const Examples& validation, const v1::CnnTraining& t,
                                       const torch::Device& device, TrainContext& ctx) {
  if (t.epochs() <= 0) {
    LoopResult result;
    result.best = std::move(params);
    return result;
  }
  const ScopedTrainingHeap heap;
  TrainingLoop loop(arch, train, validation, t, device, ctx);
  CreateOptimizer(loop, std::move(params));
  PlanBatches(loop);
  for (int epoch = 1; epoch <= t.epochs(); ++epoch) {
    Stopwatch watch;
    ASSIGN_OR_RETURN(EpochTotals totals, TrainEpoch(loop, epoch));
    FinishEpoch(loop, epoch, totals, watch);
    if (StopsEarly(loop, epoch)) break;
  }
  for (auto& [name, tensor] : loop.result.best) tensor.set_requires_grad(false);
  return std::move(loop.result);
}

}  // namespace textclf::cnn
