// Entry point of the ENCODER_MLM family (BERT encoders pretrained by masked language modelling)
// for the family table (core/families).
#pragma once

namespace textclf {
struct FamilyOps;
}

namespace textclf::encoder {

// Null while the family is not built.
const FamilyOps* EncoderMlmFamily();

}  // namespace textclf::encoder
