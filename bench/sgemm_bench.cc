// Single-precision GEMM of each BLAS that Debian can put behind libblas.so.3 (the library
// libtorch's CPU kernels call), measured the same way, to choose the one scripts/packages-*.txt
// install. Each library runs in a child process of its own (its threads and thread-count
// variables stay apart), loaded with dlopen and called through the reference BLAS interface
// (sgemm_). One JSON object per library and shape:
//   {"blas": PATH, "threads": T, "m": M, "n": N, "k": K, "gflops": G, "seconds": S, "checksum": C}
//   build/bench/sgemm_bench [--threads 1] [--blas PATH ...]
// Without --blas, every /usr/lib/<triplet>/*/libblas.so.3 found (reference, BLIS, OpenBLAS, ...).
#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace {

using Sgemm = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                       const int*, const float*, const int*, const float*, float*, const int*);

struct Shape {
  int m, n, k;
};

// Square products, and the shapes of an encoder layer's projections at batch 32 x 64 tokens
// (hidden 128, feed-forward 512) that MLM pretraining runs.
const std::vector<Shape> kShapes = {{512, 512, 512}, {1024, 1024, 1024}, {2048, 128, 128}, {2048, 512, 128},
                                    {2048, 128, 512}};

int Measure(const std::string& path, int threads) {
  const std::string count = std::to_string(threads);
  // Read when the library loads: each BLAS has its own variable.
  for (const char* variable : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS", "MKL_NUM_THREADS"}) {
    setenv(variable, count.c_str(), 1);
  }
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    std::fprintf(stderr, "sgemm_bench: cannot load %s: %s\n", path.c_str(), dlerror());
    return 1;
  }
  auto sgemm = reinterpret_cast<Sgemm>(dlsym(library, "sgemm_"));
  if (sgemm == nullptr) {
    std::fprintf(stderr, "sgemm_bench: %s has no sgemm_\n", path.c_str());
    return 1;
  }
  for (const Shape& s : kShapes) {
    std::vector<float> a(static_cast<size_t>(s.m) * s.k), b(static_cast<size_t>(s.k) * s.n),
        c(static_cast<size_t>(s.m) * s.n);
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 7) * 0.1f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 5) * 0.1f;
    const float one = 1, zero = 0;
    auto run = [&] { sgemm("N", "N", &s.m, &s.n, &s.k, &one, a.data(), &s.m, b.data(), &s.k, &zero, c.data(), &s.m); };
    run();  // warm-up: first-touch, thread start
    int reps = 0;
    const auto start = std::chrono::steady_clock::now();
    double seconds = 0;
    while (seconds < 0.5) {
      run();
      ++reps;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    double checksum = 0;
    for (float v : c) checksum += v;
    const double flops = 2.0 * s.m * s.n * s.k * reps;
    nlohmann::json line = {{"blas", path}, {"threads", threads}, {"m", s.m},          {"n", s.n},
                           {"k", s.k},     {"gflops", flops / seconds / 1e9}, {"seconds", seconds}, {"checksum", checksum}};
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

std::vector<std::string> SystemBlases() {
  std::vector<std::string> found;
  const std::filesystem::path lib = "/usr/lib/x86_64-linux-gnu";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(lib, ec)) {
    const auto candidate = entry.path() / "libblas.so.3";
    if (entry.is_directory(ec) && std::filesystem::exists(candidate, ec)) found.push_back(candidate.string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("sgemm of each BLAS behind libblas.so.3, one JSON line per library and shape");
  int threads = 1;
  std::vector<std::string> blases;
  app.add_option("--threads", threads, "threads each BLAS may use")->capture_default_str();
  app.add_option("--blas", blases, "libblas.so.3 files to measure (default: every one installed)");
  CLI11_PARSE(app, argc, argv);
  if (threads < 1 || threads > 256) {
    std::fprintf(stderr, "sgemm_bench: --threads must be in [1, 256]\n");
    return 2;
  }
  if (blases.empty()) blases = SystemBlases();
  if (blases.empty()) {
    std::fprintf(stderr, "sgemm_bench: no libblas.so.3 found; pass --blas PATH\n");
    return 2;
  }
  int failures = 0;
  for (const std::string& path : blases) {
    const pid_t child = fork();
    if (child == 0) _exit(Measure(path, threads));
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  return failures == 0 ? 0 : 1;
}
