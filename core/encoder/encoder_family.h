// Entry point of the ENCODER_MLM family (BERT encoders pretrained by masked language modelling)
// for the family table (core/families): Train pretrains an encoder from scratch on unlabeled
// texts; the version holds config.json, model.safetensors and vocab.txt, and XCLASS models name
// it as their encoder.
#pragma once

namespace textclf {
struct FamilyOps;
}

namespace textclf::encoder {

const FamilyOps* EncoderMlmFamily();

}  // namespace textclf::encoder
