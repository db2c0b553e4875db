// Entry points of the CNN families for the family table (core/families).
#pragma once

namespace textclf {
struct FamilyOps;
}

namespace textclf::cnn {

// Null while the family is not built.
const FamilyOps* TextCnnFamily();
const FamilyOps* ImageCnnFamily();

}  // namespace textclf::cnn
