// The ENCODER_MLM family's descriptor (core/model/family.h): BERT encoders pretrained by masked
// language modelling. Train pretrains an encoder from scratch on unlabeled texts; the version
// holds config.json, model.safetensors and vocab.txt, and XCLASS models name it as their encoder.
#pragma once

#include "core/model/family.h"

namespace textclf::encoder {

const FamilyDescriptor* EncoderMlmFamily();

// What pretraining an encoder with `config` holds in memory at its peak (X-Class pretrains one
// when none is named).
double EncoderTrainingBytes(const v1::EncoderConfig& config);

}  // namespace textclf::encoder
