// Entry point of the X-Class family (XCLASS) for the family table (core/families): class names
// and unlabeled documents in, a served classifier out (see core/xclass/README.md).
#pragma once

namespace textclf {
struct FamilyOps;
}

namespace textclf::xclass {

const FamilyOps* XClassFamily();

}  // namespace textclf::xclass
