// The table of model families: how to train each and how to load a trained one.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/model/family_names.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/model/training.h"
#include "textclf/v1/model.pb.h"
#include "textclf/v1/service.pb.h"

namespace textclf {

struct FamilyOps {
  v1::Family family;
  absl::StatusOr<std::unique_ptr<Model>> (*load)(v1::Manifest manifest, const ModelFiles& files);
  absl::StatusOr<v1::Manifest> (*train)(const v1::TrainStart& start, const TrainingSet& data,
                                        TrainContext& ctx);
};

// INVALID_ARGUMENT when the family is not set or is a value this server does not know (a newer
// client's); UNIMPLEMENTED naming the family where a build leaves one out.
absl::StatusOr<const FamilyOps*> FindFamily(v1::Family family);

}  // namespace textclf
