// The descriptors of the CNN families (core/model/family.h): TEXT_CNN on tokenized texts and
// IMAGE_CNN (a CIFAR ResNet) on image tensors, both trained by libtorch and both quantizable.
#pragma once

#include "core/model/family.h"

namespace textclf::cnn {

const FamilyDescriptor* TextCnnFamily();
const FamilyDescriptor* ImageCnnFamily();

}  // namespace textclf::cnn
