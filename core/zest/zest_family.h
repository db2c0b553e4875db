// The Zest family's descriptor (core/model/family.h): per-class zstd dictionaries, trained on
// labelled texts, served on CPU threads.
#pragma once

#include "core/model/family.h"

namespace textclf::zest {

const FamilyDescriptor* ZestFamily();

}  // namespace textclf::zest
