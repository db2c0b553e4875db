#include "core/cnn/cnn_family.h"

#include "core/cnn/cnn_model.h"
#include "core/cnn/cnn_trainer.h"
#include "core/families/families.h"

namespace textclf::cnn {
namespace {

const FamilyOps kTextCnn = {v1::TEXT_CNN, &CnnModel::Load, &TrainTextCnn};
const FamilyOps kImageCnn = {v1::IMAGE_CNN, &CnnModel::Load, &TrainImageCnn};

}  // namespace

const FamilyOps* TextCnnFamily() { return &kTextCnn; }
const FamilyOps* ImageCnnFamily() { return &kImageCnn; }

}  // namespace textclf::cnn
