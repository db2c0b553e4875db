// The LINEAR family's descriptor (core/model/family.h).
#pragma once

#include "core/model/family.h"

namespace textclf::linear {

const FamilyDescriptor* LinearFamily();

}  // namespace textclf::linear
