// The ENSEMBLE family's descriptor (core/model/family.h).
#pragma once

#include "core/model/family.h"

namespace textclf::ensemble {

const FamilyDescriptor* EnsembleFamily();

}  // namespace textclf::ensemble
