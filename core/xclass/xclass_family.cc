#include "core/xclass/xclass_family.h"

#include "core/families/families.h"
#include "core/xclass/xclass_model.h"
#include "core/xclass/xclass_trainer.h"

namespace textclf::xclass {
namespace {

absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx) {
  return TrainXClass(start, data, ctx);
}

const FamilyOps kXClass = {v1::XCLASS, &XClassModel::Load, &Train};

}  // namespace

const FamilyOps* XClassFamily() { return &kXClass; }

}  // namespace textclf::xclass
