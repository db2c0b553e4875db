// Entry points of the CNN families for the family table (core/families).
#pragma once

namespace textclf {
struct FamilyOps;
}

namespace textclf::cnn {

const FamilyOps* TextCnnFamily();
const FamilyOps* ImageCnnFamily();

}  // namespace textclf::cnn
