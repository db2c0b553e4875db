#include "core/encoder/mlm_pretrainer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/common/stopwatch.h"
#include "core/common/thread_pool.h"
#include "core/common/training_heap.h"
#include "core/encoder/encoder_config.h"
#include "core/encoder/encoder_impl.h"
#include "core/encoder/wordpiece_vocabulary.h"
#include "core/torch/fused_adamw.h"
#include "core/torch/intra_op_threads.h"
#include "core/torch/linear_cross_entropy.h"

namespace textclf::encoder {
namespace {

// Steps timed before the time budget (max_seconds) shortens the schedule, and how often the
// estimate is refreshed.
constexpr int64_t kStepsBeforeEstimate = 10;
constexpr int64_t kEstimateEvery = 50;
// Shuffled windows of this many batches are sorted by length so that batches pad little.
constexpr size_t kBatchesPerWindow = 50;
// The masked accuracy is an argmax over the whole vocabulary for every chosen token: measured on
// one step in this many, which is plenty for the average over the last 5% that is reported.
constexpr int64_t kAccuracyEvery = 4;

std::vector<std::vector<int32_t>> MakeTrainingSequences(const BertTokenizer& tokenizer,
                                                        std::span<const std::string> texts, int max_length,
                                                        ThreadPool* pool) {
  std::vector<std::vector<std::vector<int32_t>>> per_text(texts.size());
  const size_t per_sequence = static_cast<size_t>(max_length - 2);
  auto work = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const WordPieces pieces = tokenizer.Tokenize(texts[i]);
      for (size_t b = 0; b < pieces.ids.size(); b += per_sequence) {
        const size_t e = std::min(pieces.ids.size(), b + per_sequence);
        per_text[i].push_back(WrapSequence(tokenizer, std::span<const int32_t>(pieces.ids.data() + b, e - b)));
      }
    }
  };
  if (pool != nullptr) {
    pool->ParallelFor(texts.size(), 256, work);
  } else {
    work(0, texts.size());
  }
  std::vector<std::vector<int32_t>> sequences;
  for (auto& list : per_text) {
    for (auto& s : list) sequences.push_back(std::move(s));
  }
  return sequences;
}

// Batches of sequence indices for one epoch: shuffled, then length-sorted within windows.
std::vector<std::vector<size_t>> EpochBatches(size_t count, const std::vector<std::vector<int32_t>>& sequences,
                                              size_t batch_size, std::mt19937_64& rng) {
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t window = batch_size * kBatchesPerWindow;
  for (size_t begin = 0; begin < count; begin += window) {
    auto first = order.begin() + static_cast<std::ptrdiff_t>(begin);
    auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(count, begin + window));
    std::stable_sort(first, last, [&](size_t a, size_t b) { return sequences[a].size() < sequences[b].size(); });
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t begin = 0; begin < count; begin += batch_size) {
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(begin),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(count, begin + batch_size)));
  }
  std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

struct MaskedBatch {
  torch::Tensor ids;        // inputs with replacements
  torch::Tensor mask;       // attention mask
  torch::Tensor positions;  // flat indices of the chosen tokens
  torch::Tensor labels;     // their original ids
};

MaskedBatch MaskBatch(const BertTokenizer& tokenizer, std::span<const std::vector<int32_t>* const> sequences,
                      double probability, std::mt19937_64& rng) {
  PaddedBatch padded = PadSequences(sequences, tokenizer.pad_id());
  MaskedBatch out;
  out.mask = padded.mask;
  out.ids = padded.ids;
  auto ids = out.ids.accessor<int64_t, 2>();
  const int64_t width = out.ids.size(1);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::uniform_int_distribution<int32_t> random_token(0, tokenizer.vocab_size() - 1);
  std::vector<int64_t> positions, labels;
  int64_t first_candidate = -1;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const auto& s = *sequences[i];
    for (size_t j = 0; j < s.size(); ++j) {
      if (tokenizer.IsSpecial(s[j])) continue;
      const int64_t flat = static_cast<int64_t>(i) * width + static_cast<int64_t>(j);
      if (first_candidate < 0) first_candidate = flat;
      if (uniform(rng) >= probability) continue;
      positions.push_back(flat);
      labels.push_back(s[j]);
      const double r = uniform(rng);
      if (r < 0.8) {
        ids[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = tokenizer.mask_id();
      } else if (r < 0.9) {
        ids[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = random_token(rng);
      }
    }
  }
  // A batch of very short sequences may draw no token at all: predict one anyway.
  if (positions.empty() && first_candidate >= 0) {
    positions.push_back(first_candidate);
    labels.push_back(out.ids.view(-1)[first_candidate].item<int64_t>());
    out.ids.view(-1)[first_candidate] = tokenizer.mask_id();
  }
  out.positions = torch::tensor(positions, torch::kInt64);
  out.labels = torch::tensor(labels, torch::kInt64);
  return out;
}

bool NoDecay(const std::string& name) { return name.ends_with("bias") || name.find("LayerNorm") != std::string::npos; }

// What the stages of PretrainMlm share. One rng, seeded once, draws the batches and the masks.
struct MlmTraining {
  MlmTraining(Encoder::Impl& impl, const v1::EncoderConfig& c, TrainContext& ctx)
      : impl(impl), c(c), ctx(ctx), batch_size(static_cast<size_t>(c.batch_size())), rng(c.seed()) {}

  Encoder::Impl& impl;
  const v1::EncoderConfig& c;
  TrainContext& ctx;
  const size_t batch_size;
  Stopwatch watch;
  std::vector<std::vector<int32_t>> sequences;
  int64_t planned_steps = 0;
  int64_t total_steps = 0;  // the plan, shortened by a time budget
  std::unique_ptr<torch_support::FusedAdamW> optimizer;
  std::mt19937_64 rng;
  PretrainResult result;
  std::vector<double> losses, accuracies;  // per step
  double time_budget_start = 0;
  int64_t step = 0;
};

absl::Status Tokenize(MlmTraining& m, std::span<const std::string> texts) {
  m.ctx.progress("tokenize", 0.0, absl::StrCat("tokenizing ", texts.size(), " texts"));
  m.sequences = MakeTrainingSequences(m.impl.tokenizer, texts, m.c.max_length(), m.ctx.pool);
  size_t with_tokens = 0;
  for (const auto& s : m.sequences) with_tokens += s.size() > 2 ? 1 : 0;
  if (with_tokens == 0) {
    return absl::InvalidArgumentError("the training texts hold no words to learn from");
  }
  return absl::OkStatus();
}

void PlanSteps(MlmTraining& m) {
  const int64_t batches_per_epoch = static_cast<int64_t>((m.sequences.size() + m.batch_size - 1) / m.batch_size);
  m.planned_steps = batches_per_epoch * m.c.epochs();
  if (m.c.max_steps() > 0) m.planned_steps = std::min(m.planned_steps, m.c.max_steps());
  m.total_steps = m.planned_steps;
}

// Weight decay applies to weights, not to biases and LayerNorm parameters.
void CreateOptimizer(MlmTraining& m) {
  const v1::EncoderConfig& c = m.c;
  torch_support::AdamWGroup decay, no_decay;
  decay.weight_decay = c.weight_decay();
  for (torch::nn::Module* module : {static_cast<torch::nn::Module*>(m.impl.model.get()),
                                    static_cast<torch::nn::Module*>(m.impl.mlm_head.get())}) {
    for (auto& p : module->named_parameters(true)) {
      (NoDecay(p.key()) ? no_decay : decay).parameters.push_back(p.value());
    }
  }
  m.optimizer = std::make_unique<torch_support::FusedAdamW>(
      std::vector<torch_support::AdamWGroup>{std::move(decay), std::move(no_decay)},
      torch_support::AdamWSettings{.learning_rate = c.learning_rate(), .eps = 1e-6});
}

void SetLearningRate(MlmTraining& m) {
  const v1::EncoderConfig& c = m.c;
  const int64_t step = m.step, total_steps = m.total_steps;
  const int64_t warmup = std::max<int64_t>(1, static_cast<int64_t>(c.warmup_fraction() * total_steps));
  m.optimizer->set_learning_rate(c.learning_rate() * (step < warmup ? (step + 1.0) / warmup
                                                                    : std::max(0.0, (total_steps - step) /
                                                                                        double(total_steps - warmup + 1))));
}

struct HeadLoss {
  torch::Tensor loss;   // mean cross-entropy over the chosen tokens
  int64_t correct = 0;  // how many of them the head predicts, when asked
};

// The decoder (tied word embeddings and a bias) and the loss are one fused step on the CPU
// (core/torch/linear_cross_entropy.h), which also gives the predictions.
HeadLoss MaskedLmLoss(Encoder::Impl& impl, const torch::Tensor& chosen, const torch::Tensor& labels,
                      bool count_correct) {
  const torch::Tensor transformed = impl.mlm_head->transform(chosen);
  const torch_support::LinearCrossEntropyResult head =
      torch_support::LinearCrossEntropy(transformed, impl.model->word_embeddings(), impl.mlm_head->bias(), labels);
  HeadLoss out{head.loss};
  if (count_correct) out.correct = head.predicted.eq(labels.to(head.predicted.device())).sum().item<int64_t>();
  return out;
}

absl::Status TrainStep(MlmTraining& m, const std::vector<size_t>& indices) {
  Encoder::Impl& impl = m.impl;
  SetLearningRate(m);
  std::vector<const std::vector<int32_t>*> batch;
  for (size_t i : indices) batch.push_back(&m.sequences[i]);
  MaskedBatch masked = MaskBatch(impl.tokenizer, batch, m.c.mask_probability(), m.rng);
  const torch::Tensor ids = masked.ids.to(impl.device);
  const torch::Tensor mask = masked.mask.to(impl.device);
  const torch::Tensor positions = masked.positions.to(impl.device);
  const torch::Tensor labels = masked.labels.to(impl.device);
  BertOutputs out = impl.model->forward(ids, mask);
  const torch::Tensor hidden = out.hidden_states.back();
  const torch::Tensor chosen = hidden.reshape({-1, hidden.size(2)}).index_select(0, positions);
  const bool measure_accuracy = m.step % kAccuracyEvery == 0;
  const HeadLoss head = MaskedLmLoss(impl, chosen, labels, measure_accuracy);
  const torch::Tensor& loss = head.loss;
  // Dropping the gradients (rather than zeroing them) lets backward write each one in place of
  // a fill and an add: the tied word embeddings alone are 30522 x 128 floats.
  m.optimizer->ClearGradients();
  loss.backward();
  m.optimizer->Step(/*max_grad_norm=*/1.0);

  const double loss_value = loss.item<double>();
  if (!std::isfinite(loss_value)) {
    return absl::InternalError(absl::StrCat("pretraining diverged at step ", m.step,
                                            " (loss is not finite); lower encoder.learning_rate"));
  }
  m.losses.push_back(loss_value);
  if (measure_accuracy) m.accuracies.push_back(static_cast<double>(head.correct) / labels.size(0));
  m.result.sequences += static_cast<int64_t>(batch.size());
  ++m.step;
  return absl::OkStatus();
}

// A time budget shortens the schedule (and so its decay) to what fits at the speed measured
// so far; the estimate may grow back (never past the plan) when early steps were slowed
// by other load on the machine.
void FitScheduleToTimeBudget(MlmTraining& m) {
  const v1::EncoderConfig& c = m.c;
  if (c.max_seconds() <= 0) return;
  const int64_t step = m.step;
  if (step == kStepsBeforeEstimate) m.time_budget_start = m.watch.seconds();
  if (step >= kStepsBeforeEstimate && step % kEstimateEvery == kStepsBeforeEstimate % kEstimateEvery) {
    const double per_step = (m.watch.seconds() - m.time_budget_start) / std::max<int64_t>(1, step - kStepsBeforeEstimate);
    const double left = c.max_seconds() - m.watch.seconds();
    const int64_t fits = step + static_cast<int64_t>(std::max(0.0, left) / std::max(per_step, 1e-9));
    m.total_steps = std::max(step, std::min(m.planned_steps, fits));
  }
}

void ReportProgress(const MlmTraining& m, int epoch) {
  if (m.step % 10 != 0 && m.step != m.total_steps) return;
  const size_t tail = std::min<size_t>(m.losses.size(), 50);
  const double recent = std::accumulate(m.losses.end() - static_cast<std::ptrdiff_t>(tail), m.losses.end(), 0.0) / tail;
  m.ctx.progress("pretrain", std::min(1.0, static_cast<double>(m.step) / m.total_steps),
                 absl::StrFormat("step %d/%d, epoch %d, loss %.3f, %.1f sequences/s", m.step, m.total_steps, epoch + 1,
                                 recent, m.result.sequences / std::max(1e-9, m.watch.seconds())));
}

PretrainResult Summarize(MlmTraining& m) {
  PretrainResult& result = m.result;
  // Over the last 5% of the steps (of the sampled ones, for the accuracy).
  const size_t tail = std::max<size_t>(1, m.losses.size() / 20);
  const size_t accuracy_tail = std::max<size_t>(1, m.accuracies.size() / 20);
  result.steps = m.step;
  result.final_loss = std::accumulate(m.losses.end() - static_cast<std::ptrdiff_t>(tail), m.losses.end(), 0.0) / tail;
  result.masked_accuracy = std::accumulate(m.accuracies.end() - static_cast<std::ptrdiff_t>(accuracy_tail),
                                           m.accuracies.end(), 0.0) /
                           accuracy_tail;
  result.seconds = m.watch.seconds();
  return result;
}

}  // namespace

absl::StatusOr<PretrainResult> PretrainMlm(Encoder& encoder, std::span<const std::string> texts,
                                           const v1::EncoderConfig& c, TrainContext& ctx) {
  Encoder::Impl& impl = encoder.impl();
  if (!impl.mlm_head) return absl::InternalError("PretrainMlm needs an encoder made with a masked-LM head");
  MlmTraining m(impl, c, ctx);
  RETURN_IF_ERROR(Tokenize(m, texts));
  const torch_support::ScopedIntraOpThreads threads(ctx.pool != nullptr ? ctx.pool->size() : 1);
  const ScopedTrainingHeap heap;
  RETURN_IF_ERROR(ctx.cancel->Check());
  PlanSteps(m);
  CreateOptimizer(m);
  impl.model->train();
  impl.mlm_head->train();
  for (int epoch = 0; m.step < m.total_steps; ++epoch) {
    const auto batches = EpochBatches(m.sequences.size(), m.sequences, m.batch_size, m.rng);
    for (const auto& indices : batches) {
      if (m.step >= m.total_steps) break;
      RETURN_IF_ERROR(ctx.cancel->Check());
      RETURN_IF_ERROR(TrainStep(m, indices));
      FitScheduleToTimeBudget(m);
      ReportProgress(m, epoch);
    }
  }
  impl.model->eval();
  impl.mlm_head->eval();
  return Summarize(m);
}

absl::StatusOr<PretrainedEncoder> PretrainFromScratch(std::span<const std::string> texts,
                                                      const v1::EncoderConfig& resolved, TrainContext& ctx) {
  absl::StatusOr<std::string> vocab;
  if (resolved.vocab_file().empty()) {
    ctx.progress("vocabulary", 0.0, absl::StrCat("learning a ", resolved.vocab_size(), "-token WordPiece vocabulary"));
    vocab = LearnWordPieceVocabulary(texts, resolved.vocab_size());
  } else {
    vocab = ReadFile(resolved.vocab_file());
    if (!vocab.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("encoder.vocab_file: cannot read ", resolved.vocab_file(),
                                                     " (give the path of a BERT vocab.txt on the server, or none to "
                                                     "learn one from the texts): ",
                                                     vocab.status().message()));
    }
  }
  ASSIGN_OR_RETURN(BertTokenizer tokenizer, BertTokenizer::Create(*vocab));
  const BertConfig bert = BertConfigFor(resolved, tokenizer.vocab_size());
  ASSIGN_OR_RETURN(auto encoder, Encoder::CreateRandom(bert, std::move(tokenizer), resolved.device(), resolved.seed(),
                                                       /*with_mlm_head=*/true));
  ctx.progress("pretrain", 0.0,
               absl::StrCat("pretraining a ", resolved.layers(), "-layer, ", resolved.hidden_size(),
                            "-hidden encoder (", encoder->parameter_count(), " parameters) on ",
                            encoder->device_name()));
  PretrainedEncoder out;
  ASSIGN_OR_RETURN(out.result, PretrainMlm(*encoder, texts, resolved, ctx));
  RETURN_IF_ERROR(ctx.cancel->Check());
  ASSIGN_OR_RETURN(out.checkpoint, encoder->Save());
  out.parameters = encoder->parameter_count();
  out.device = encoder->device_name();
  return out;
}

v1::EncoderState DescribePretrained(const v1::EncoderConfig& resolved, const PretrainedEncoder& pretrained) {
  v1::EncoderState state;
  *state.mutable_resolved() = resolved;
  state.set_config_file(kConfigFile);
  state.set_weights_file(kWeightsFile);
  state.set_vocab_file(kVocabFile);
  state.set_parameters(pretrained.parameters);
  state.set_steps(pretrained.result.steps);
  state.set_sequences(pretrained.result.sequences);
  state.set_final_loss(pretrained.result.final_loss);
  state.set_masked_accuracy(pretrained.result.masked_accuracy);
  state.set_device(pretrained.device);
  return state;
}

}  // namespace textclf::encoder
