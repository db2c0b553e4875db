#include "core/encoder/encoder_family.h"

namespace textclf::encoder {

const FamilyOps* EncoderMlmFamily() { return nullptr; }

}  // namespace textclf::encoder
