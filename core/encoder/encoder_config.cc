#include "core/encoder/encoder_config.h"

#include "absl/strings/str_cat.h"

namespace textclf::encoder {

absl::StatusOr<v1::EncoderConfig> ResolveEncoderConfig(const v1::EncoderConfig& config) {
  v1::EncoderConfig c = config;
  auto positive = [](const char* field, double value) -> absl::Status {
    if (value < 0) return absl::InvalidArgumentError(absl::StrCat("encoder.", field, " must not be negative"));
    return absl::OkStatus();
  };
  for (auto [field, value] : {std::pair{"layers", 1.0 * c.layers()}, std::pair{"hidden_size", 1.0 * c.hidden_size()},
                              std::pair{"heads", 1.0 * c.heads()}, std::pair{"intermediate_size", 1.0 * c.intermediate_size()},
                              std::pair{"max_length", 1.0 * c.max_length()}, std::pair{"epochs", 1.0 * c.epochs()},
                              std::pair{"max_steps", 1.0 * c.max_steps()}, std::pair{"max_seconds", c.max_seconds()},
                              std::pair{"batch_size", 1.0 * c.batch_size()}, std::pair{"learning_rate", c.learning_rate()},
                              std::pair{"warmup_fraction", c.warmup_fraction()},
                              std::pair{"weight_decay", c.weight_decay()},
                              std::pair{"mask_probability", c.mask_probability()}}) {
    if (absl::Status s = positive(field, value); !s.ok()) return s;
  }
  if (c.layers() == 0) c.set_layers(4);
  if (c.hidden_size() == 0) c.set_hidden_size(256);
  if (c.heads() == 0) c.set_heads(4);
  if (c.intermediate_size() == 0) c.set_intermediate_size(4 * c.hidden_size());
  if (c.max_length() == 0) c.set_max_length(128);
  if (c.epochs() == 0) c.set_epochs(1);
  if (c.batch_size() == 0) c.set_batch_size(32);
  if (c.learning_rate() == 0) c.set_learning_rate(5e-4);
  if (c.warmup_fraction() == 0) c.set_warmup_fraction(0.06);
  if (c.weight_decay() == 0) c.set_weight_decay(0.01);
  if (c.mask_probability() == 0) c.set_mask_probability(0.15);
  if (c.dropout() == 0) c.set_dropout(0.1);
  if (c.dropout() < 0) c.set_dropout(0.0);
  if (c.seed() == 0) c.set_seed(42);
  if (c.device().empty()) c.set_device("auto");
  if (c.vocab_file().empty() && c.vocab_size() == 0) c.set_vocab_size(kDefaultLearnedVocabSize);
  if (c.vocab_file().empty() && (c.vocab_size() < kMinLearnedVocabSize || c.vocab_size() > kMaxLearnedVocabSize)) {
    return absl::InvalidArgumentError(absl::StrCat("encoder.vocab_size must be in [", kMinLearnedVocabSize, ", ",
                                                   kMaxLearnedVocabSize, "], got ", c.vocab_size()));
  }
  if (c.hidden_size() % c.heads() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("encoder.hidden_size ", c.hidden_size(),
                                                   " must be a multiple of encoder.heads ", c.heads()));
  }
  if (c.max_length() < 8 || c.max_length() > 512) {
    return absl::InvalidArgumentError(absl::StrCat("encoder.max_length must be in [8, 512], got ", c.max_length()));
  }
  if (c.mask_probability() >= 1) return absl::InvalidArgumentError("encoder.mask_probability must be below 1");
  if (c.warmup_fraction() >= 1) return absl::InvalidArgumentError("encoder.warmup_fraction must be below 1");
  if (c.dropout() >= 1) return absl::InvalidArgumentError("encoder.dropout must be below 1");
  return c;
}

BertConfig BertConfigFor(const v1::EncoderConfig& c, int vocab_size) {
  BertConfig b;
  b.vocab_size = vocab_size;
  b.hidden_size = c.hidden_size();
  b.num_hidden_layers = c.layers();
  b.num_attention_heads = c.heads();
  b.intermediate_size = c.intermediate_size();
  // Positions beyond the training length stay untrained; X-Class runs documents in chunks of
  // at most this many tokens.
  b.max_position_embeddings = c.max_length();
  b.hidden_dropout_prob = c.dropout();
  b.attention_probs_dropout_prob = c.dropout();
  return b;
}

}  // namespace textclf::encoder
