// textclf-import: imports a PyTorch CIFAR ResNet checkpoint (torch.save of a state dict) into a
// model repository as a new IMAGE_CNN model version. Offline, like a backup restore: a running
// server serves it after `textclf models load NAME` (or a restart).
#include <iostream>

#include <CLI/CLI.hpp>

#include "core/cnn/checkpoint_import.h"
#include "core/common/files.h"
#include "core/registry/repository.h"

int main(int argc, char** argv) {
  CLI::App app{"textclf-import: import a PyTorch CIFAR ResNet checkpoint as an image_cnn model"};
  std::string models_dir, name, checkpoint, classes_file;
  textclf::cnn::ImportOptions options;
  app.add_option("--models-dir", models_dir, "the server's model repository")->required();
  app.add_option("--name", name, "model name; a new version is added to it")->required();
  app.add_option("--checkpoint", checkpoint, "the .pth file")->required();
  app.add_option("--classes", options.classes, "class names in output order (default 0, 1, ...)")->delimiter(',');
  app.add_option("--classes-file", classes_file, "class names, one per line");
  app.add_option("--height", options.height, "input height")->capture_default_str();
  app.add_option("--width", options.width, "input width")->capture_default_str();
  app.add_option("--mean", options.mean, "per-channel mean of inputs in [0, 1]")->delimiter(',');
  app.add_option("--std", options.std, "per-channel standard deviation")->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  if (!classes_file.empty()) {
    auto text = textclf::ReadFile(classes_file);
    if (!text.ok()) {
      std::cerr << "textclf-import: " << text.status().message() << "\n";
      return 2;
    }
    std::string line;
    for (char c : *text + "\n") {
      if (c == '\n') {
        if (!line.empty()) options.classes.push_back(line);
        line.clear();
      } else if (c != '\r') {
        line.push_back(c);
      }
    }
  }
  textclf::registry::Repository repository(models_dir);
  auto fail = [](const absl::Status& s) {
    std::cerr << "textclf-import: " << s.message() << "\n";
    return 1;
  };
  if (absl::Status s = textclf::registry::ValidateModelName(name); !s.ok()) return fail(s);
  // Not Initialize(): its clean-up of leftovers would delete the staging folders of a server's
  // trainings in progress on this repository.
  if (absl::Status s = repository.EnsureLayout(); !s.ok()) return fail(s);
  auto staging = repository.CreateStagingDir(name);
  if (!staging.ok()) return fail(staging.status());
  auto manifest = textclf::cnn::ImportCheckpoint(checkpoint, options, *staging);
  if (!manifest.ok()) {
    repository.DiscardStagingDir(*staging);
    return fail(manifest.status());
  }
  auto published = repository.Publish(*staging, name, std::move(*manifest));
  repository.DiscardStagingDir(*staging);
  if (!published.ok()) return fail(published.status());
  std::cout << "imported " << checkpoint << " as " << name << " version " << published->version() << ": ResNet-"
            << published->config().image_cnn().depth() << ", " << published->classes_size() << " classes\n";
  return 0;
}
