#include "core/cnn/quantize_options.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/model/names.h"

namespace textclf::cnn {

std::string VariantLabel(int weight_bits, int activation_bits) {
  return absl::StrCat("W", weight_bits, "A", activation_bits);
}

absl::StatusOr<v1::QuantizeStart> ResolveQuantizeStart(const v1::QuantizeStart& start) {
  v1::QuantizeStart s = start;
  if (s.model().empty()) return absl::InvalidArgumentError("model is empty; name the model to quantize");
  if (s.version() < 0) return absl::InvalidArgumentError("version must be positive, or 0 for the latest");
  if (s.target_model().empty()) s.set_target_model(s.model());
  if (s.weight_bits_size() == 0) s.add_weight_bits(8);
  std::set<int> seen;
  for (int bits : s.weight_bits()) {
    if (bits < 2 || bits > 8) {
      return absl::InvalidArgumentError(absl::StrCat("weight_bits must be between 2 and 8, got ", bits));
    }
    if (!seen.insert(bits).second) return absl::InvalidArgumentError(absl::StrCat("weight_bits lists ", bits, " twice"));
  }
  if (s.weight_bits_size() > 1 && !s.sweep()) {
    return absl::InvalidArgumentError(
        absl::StrCat("weight_bits lists ", s.weight_bits_size(), " bit-widths; set sweep to quantize to several in one call"));
  }
  if (s.activation_bits() == 0) s.set_activation_bits(8);
  if (s.activation_bits() != kFloatBits && (s.activation_bits() < 2 || s.activation_bits() > 8)) {
    return absl::InvalidArgumentError(absl::StrCat("activation_bits must be between 2 and 8, or 32 for float activations, got ",
                                                   s.activation_bits()));
  }
  if (s.calibration() == v1::QuantizeStart::CALIBRATION_AUTO) s.set_calibration(v1::QuantizeStart::PERCENTILE);
  if (s.percentile() == 0) s.set_percentile(99.99);
  if (!(s.percentile() > 50) || s.percentile() > 100) {
    return absl::InvalidArgumentError(absl::StrCat("percentile must be in (50, 100], got ", s.percentile()));
  }
  if (s.first_last_bits() == 0) s.set_first_last_bits(8);
  if (s.first_last_bits() > 0 && (s.first_last_bits() < 2 || s.first_last_bits() > 8)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "first_last_bits must be between 2 and 8, or negative for the same bits as the other layers, got ",
        s.first_last_bits()));
  }
  if (!s.has_temperature_scaling()) s.set_temperature_scaling(true);
  if (s.eval_dataset().empty()) s.set_eval_dataset("eval");
  // The name is stored with the quantized version's report.
  RETURN_IF_ERROR(ValidateDatasetName(s.eval_dataset()));
  return s;
}

}  // namespace textclf::cnn
