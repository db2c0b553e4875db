#include "core/families/families.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/cnn/cnn_family.h"
#include "core/encoder/encoder_family.h"
#include "core/xclass/xclass_family.h"
#include "core/zest/zest_model.h"
#include "core/zest/zest_trainer.h"

namespace textclf {
namespace {

const FamilyOps kZest = {v1::ZEST, &zest::ZestModel::Load, &zest::Train};

// Each family folder says whether it is built: a null entry answers UNIMPLEMENTED.
const FamilyOps* Lookup(v1::Family family) {
  switch (family) {
    case v1::ZEST: return &kZest;
    case v1::TEXT_CNN: return cnn::TextCnnFamily();
    case v1::IMAGE_CNN: return cnn::ImageCnnFamily();
    case v1::XCLASS: return xclass::XClassFamily();
    case v1::ENCODER_MLM: return encoder::EncoderMlmFamily();
    default: return nullptr;
  }
}

}  // namespace

absl::StatusOr<const FamilyOps*> FindFamily(v1::Family family) {
  if (const FamilyOps* ops = Lookup(family)) return ops;
  if (family == v1::FAMILY_UNSPECIFIED) {
    return absl::InvalidArgumentError("the model family is not set");
  }
  if (!v1::Family_IsValid(family)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown model family ", static_cast<int>(family),
                                                   "; this server knows zest, xclass, text_cnn, image_cnn and encoder_mlm"));
  }
  return absl::UnimplementedError(absl::StrCat("the ", std::string(FamilyName(family)),
                                               " family is not built into this server yet"));
}

}  // namespace textclf
