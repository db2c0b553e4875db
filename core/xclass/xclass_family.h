// Entry point of the X-Class family for the family table (core/families).
#pragma once

namespace textclf {
struct FamilyOps;
}

namespace textclf::xclass {

// Null while the family is not built.
const FamilyOps* XClassFamily();

}  // namespace textclf::xclass
