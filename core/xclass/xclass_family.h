// The X-Class family's descriptor (core/model/family.h): class names and unlabeled documents in,
// a served classifier out (see core/xclass/README.md).
#pragma once

#include "core/model/family.h"

namespace textclf::xclass {

const FamilyDescriptor* XClassFamily();

}  // namespace textclf::xclass
