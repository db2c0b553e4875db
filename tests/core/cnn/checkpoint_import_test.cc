// Import of the study's real PyTorch checkpoints (saved on cuda:0): every key mapped, the model
// published into a registry loads and gives finite, deterministic, varied predictions; damaged
// or foreign checkpoints are refused by name.
#include "core/cnn/checkpoint_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <minizip/unzip.h>
#include <minizip/zip.h>

#include <cmath>
#include <set>

#include "core/cnn/torch_checkpoint.h"
#include "core/common/files.h"
#include "bench/datasets/data_dir.h"
#include "core/families/families.h"
#include "core/registry/repository.h"
#include "tests/support/test_support.h"

namespace textclf::cnn {
namespace {

using ::testing::HasSubstr;

// ../shared/models beside the data folder (TEXTCLF_MODELS overrides).
std::filesystem::path ModelsDir() {
  if (const char* env = std::getenv("TEXTCLF_MODELS"); env != nullptr && *env != '\0') return env;
  return data::DataDir().parent_path() / "models";
}

std::filesystem::path Checkpoint(const std::string& name) { return ModelsDir() / name; }

// Varied CIFAR-like inputs: random noise, flat colours and gradients.
std::vector<v1::Tensor> VariedImages(int n) {
  std::vector<v1::Tensor> images;
  for (int i = 0; i < n; ++i) {
    v1::Tensor t;
    for (int d : {3, 32, 32}) t.add_shape(d);
    t.set_dtype(v1::UINT8);
    std::string data(3 * 32 * 32, '\0');
    uint32_t state = 2654435761u * static_cast<uint32_t>(i + 1);
    for (size_t k = 0; k < data.size(); ++k) {
      state = state * 1664525u + 1013904223u;
      const int c = static_cast<int>(k / 1024), y = static_cast<int>(k % 1024) / 32, x = static_cast<int>(k % 32);
      int v;
      switch (i % 4) {
        case 0: v = static_cast<int>(state >> 24); break;
        case 1: v = (i * 37 + c * 80) % 256; break;
        case 2: v = (x * 8 + i * 11 + c * 50) % 256; break;
        default: v = ((y / (1 + i % 7)) % 2) * 200 + c * 20; break;
      }
      data[k] = static_cast<char>(v);
    }
    t.set_data(std::move(data));
    images.push_back(std::move(t));
  }
  return images;
}

void ImportsAndServes(const std::string& file, int depth) {
  const auto path = Checkpoint(file);
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: the shared models folder must be beside the data";
  auto raw = ReadTorchCheckpoint(path);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->at("conv1.weight").location, "cuda:0");
  auto imported = ReadResNetCheckpoint(path);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->depth, depth);
  EXPECT_EQ(imported->channels, 3);
  EXPECT_EQ(imported->classes, 100);
  // Every key is mapped: all but the num_batches_tracked counters become tensors of the model.
  size_t counters = 0;
  for (const auto& [name, t] : *raw) counters += name.ends_with("num_batches_tracked") ? 1 : 0;
  EXPECT_EQ(imported->tensors.size(), raw->size() - counters);
  EXPECT_GT(counters, 0u);
  for (const auto& [name, t] : *raw) {
    if (!name.ends_with("num_batches_tracked")) {
      ASSERT_TRUE(imported->tensors.contains(name)) << name;
      EXPECT_EQ(imported->tensors.at(name).sizes().vec(), t.shape) << name;
    }
  }

  // Into a registry, then loaded the way the server loads it.
  testing::TempDir root;
  registry::Repository repository(root.path());
  ASSERT_TRUE(repository.Initialize().ok());
  auto staging = repository.CreateStagingDir("cifar");
  ASSERT_TRUE(staging.ok());
  ImportOptions options;
  options.mean = {0.5071f, 0.4867f, 0.4408f};
  options.std = {0.2675f, 0.2565f, 0.2761f};
  auto manifest = ImportCheckpoint(path, options, *staging);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  auto published = repository.Publish(*staging, "cifar", *manifest);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->config().image_cnn().depth(), depth);
  auto files = repository.ReadVerifiedFiles(*published);
  ASSERT_TRUE(files.ok()) << files.status();
  auto family = FindFamily(v1::IMAGE_CNN);
  ASSERT_TRUE(family.ok());
  auto model = (*family)->load(*published, *files);
  ASSERT_TRUE(model.ok()) << model.status();

  const std::vector<v1::Tensor> images = VariedImages(48);
  std::vector<ModelInput> inputs;
  for (const auto& t : images) {
    inputs.push_back(ModelInput{{}, &t});
    ASSERT_TRUE((*model)->ValidateInput(inputs.back()).ok());
  }
  ScoreMatrix first, second;
  ASSERT_TRUE((*model)->Run(inputs, Device{}, &first).ok());
  ASSERT_TRUE((*model)->Run(inputs, Device{}, &second).ok());
  EXPECT_EQ(first.scores, second.scores);  // deterministic
  std::set<size_t> predicted;
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (size_t c = 0; c < first.cols; ++c) ASSERT_TRUE(std::isfinite(first.score_row(i)[c]));
    predicted.insert(first.Argmax(i));
  }
  // Not degenerate: varied inputs get varied classes.
  EXPECT_GE(predicted.size(), 5u);
}

TEST(CheckpointImport, ResNet20FromTheStudyImportsAndServes) { ImportsAndServes("cifar_resnet20_cifar100.pth", 20); }
TEST(CheckpointImport, ResNet56FromTheStudyImportsAndServes) { ImportsAndServes("cifar_resnet56_cifar100.pth", 56); }

// Copies a zip archive, replacing `from` by `to` (same length) in data.pkl.
void RewriteCheckpoint(const std::filesystem::path& in, const std::filesystem::path& out, const std::string& from,
                       const std::string& to) {
  ASSERT_EQ(from.size(), to.size());
  unzFile src = unzOpen64(in.c_str());
  ASSERT_NE(src, nullptr);
  zipFile dst = zipOpen64(out.c_str(), APPEND_STATUS_CREATE);
  ASSERT_NE(dst, nullptr);
  for (int rc = unzGoToFirstFile(src); rc == UNZ_OK; rc = unzGoToNextFile(src)) {
    unz_file_info64 info;
    char name[512];
    ASSERT_EQ(unzGetCurrentFileInfo64(src, &info, name, sizeof name, nullptr, 0, nullptr, 0), UNZ_OK);
    std::string data(info.uncompressed_size, '\0');
    ASSERT_EQ(unzOpenCurrentFile(src), UNZ_OK);
    ASSERT_EQ(unzReadCurrentFile(src, data.data(), static_cast<unsigned>(data.size())), static_cast<int>(data.size()));
    unzCloseCurrentFile(src);
    if (std::string(name).ends_with("data.pkl")) {
      const size_t at = data.find(from);
      ASSERT_NE(at, std::string::npos);
      data.replace(at, from.size(), to);
    }
    zip_fileinfo zi{};
    ASSERT_EQ(zipOpenNewFileInZip64(dst, name, &zi, nullptr, 0, nullptr, 0, nullptr, 0, 0, 1), ZIP_OK);
    ASSERT_EQ(zipWriteInFileInZip(dst, data.data(), static_cast<unsigned>(data.size())), ZIP_OK);
    zipCloseFileInZip(dst);
  }
  unzClose(src);
  zipClose(dst, nullptr);
}

TEST(CheckpointImport, MissingAndUnexpectedKeysAreNamed) {
  testing::TempDir dir;
  const auto bad = dir.path() / "renamed.pth";
  RewriteCheckpoint(Checkpoint("cifar_resnet20_cifar100.pth"), bad, "layer2.1.bn1.running_var", "layer2.1.bn1.running_VAR");
  auto imported = ReadResNetCheckpoint(bad);
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(imported.status().message(), HasSubstr("missing keys: layer2.1.bn1.running_var"));
  EXPECT_THAT(imported.status().message(), HasSubstr("unexpected keys: layer2.1.bn1.running_VAR"));
}

TEST(CheckpointImport, NonArchivesAndAbsentFilesAreRefusedClearly) {
  testing::TempDir dir;
  const auto text = dir.path() / "model.pth";
  ASSERT_TRUE(WriteFileDurably(text, "not a zip").ok());
  auto not_zip = ReadResNetCheckpoint(text);
  ASSERT_FALSE(not_zip.ok());
  EXPECT_THAT(not_zip.status().message(), HasSubstr("not a zip archive"));
  auto absent = ReadResNetCheckpoint(dir.path() / "absent.pth");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace textclf::cnn
