#include "core/cnn/cnn_family.h"

namespace textclf::cnn {

const FamilyOps* TextCnnFamily() { return nullptr; }
const FamilyOps* ImageCnnFamily() { return nullptr; }

}  // namespace textclf::cnn
