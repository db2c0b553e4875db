#include "core/families/families.h"

#include "core/cnn/cnn_family.h"
#include "core/encoder/encoder_family.h"
#include "core/ensemble/ensemble_family.h"
#include "core/linear/linear_family.h"
#include "core/xclass/xclass_family.h"
#include "core/zest/zest_family.h"

namespace textclf {

const FamilyTable& BuiltInFamilies() {
  static const FamilyTable table({
      zest::ZestFamily(),
      xclass::XClassFamily(),
      cnn::TextCnnFamily(),
      cnn::ImageCnnFamily(),
      encoder::EncoderMlmFamily(),
      linear::LinearFamily(),
      ensemble::EnsembleFamily(),
  });
  return table;
}

absl::StatusOr<const FamilyDescriptor*> FindFamily(v1::Family family) { return BuiltInFamilies().Find(family); }

}  // namespace textclf
