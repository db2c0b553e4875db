#include "core/xclass/xclass_family.h"

namespace textclf::xclass {

const FamilyOps* XClassFamily() { return nullptr; }

}  // namespace textclf::xclass
