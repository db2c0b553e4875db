# Every library and tool textclf builds with, found in one place. A missing one stops configure
# with the Debian package that provides it, so a fresh machine fails here and not halfway through
# the compile. scripts/packages-build.txt lists the same packages (scripts/install-deps installs
# them), and scripts/check-build-deps checks after a build that nothing else was read.

# textclf_require(<found-var> <debian-package> <what>): stops configure unless <found-var> is set.
function(textclf_require found package what)
  if(NOT ${found})
    message(FATAL_ERROR
      "textclf: ${what} not found. Install the Debian package '${package}' "
      "(scripts/install-deps installs every package of scripts/packages-build.txt).")
  endif()
endfunction()

find_package(Threads REQUIRED)

find_package(Protobuf QUIET)
textclf_require(Protobuf_FOUND libprotobuf-dev "Protobuf (headers and library)")
textclf_require(Protobuf_PROTOC_EXECUTABLE protobuf-compiler "protoc")
find_package(gRPC CONFIG QUIET)
textclf_require(gRPC_FOUND libgrpc++-dev "gRPC C++ (gRPCConfig.cmake)")
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin)
textclf_require(GRPC_CPP_PLUGIN protobuf-compiler-grpc "grpc_cpp_plugin")
find_package(absl CONFIG QUIET)
textclf_require(absl_FOUND libabsl-dev "abseil (abslConfig.cmake)")
find_package(OpenSSL QUIET)
textclf_require(OpenSSL_FOUND libssl-dev "OpenSSL")
find_package(nlohmann_json CONFIG QUIET)
textclf_require(nlohmann_json_FOUND nlohmann-json3-dev "nlohmann_json")
find_package(ZLIB QUIET)
textclf_require(ZLIB_FOUND zlib1g-dev "zlib")

# What only the full build needs: the fuzz build (TEXTCLF_FUZZ) compiles no model, server or
# client code, and in particular nothing that includes libtorch.
if(NOT TEXTCLF_FUZZ)
  find_package(prometheus-cpp CONFIG QUIET)
  textclf_require(prometheus-cpp_FOUND prometheus-cpp-dev "prometheus-cpp")
  find_package(CLI11 CONFIG QUIET)
  textclf_require(CLI11_FOUND libcli11-dev "CLI11")
  find_package(spdlog CONFIG QUIET)
  textclf_require(spdlog_FOUND libspdlog-dev "spdlog")
  find_package(Eigen3 3.3 QUIET NO_MODULE)
  textclf_require(Eigen3_FOUND libeigen3-dev "Eigen 3.3+")
  # libtorch: Debian's libtorch-dev, or a CUDA build of libtorch 2.x named by CMAKE_PREFIX_PATH.
  find_package(Torch QUIET)
  textclf_require(Torch_FOUND "libtorch-dev (or a libtorch named by CMAKE_PREFIX_PATH)" "libtorch (TorchConfig.cmake)")
  separate_arguments(TORCH_CXX_FLAGS_LIST UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  # The Fortran BLAS (sgemm_) that core/torch's fused attention calls directly. Linking the
  # generic libblas.so keeps the SONAME libblas.so.3, which Debian's alternatives point at the
  # fastest BLAS installed (OpenBLAS: libopenblas0-openmp), the same one libtorch calls.
  set(BLA_VENDOR Generic)
  # OpenMP, which libtorch's at::parallel_for needs in the code that calls it (core/torch).
  find_package(OpenMP QUIET)
  textclf_require(OpenMP_CXX_FOUND g++ "OpenMP (GCC's -fopenmp and libgomp)")
  find_package(BLAS QUIET)
  textclf_require(BLAS_FOUND libblas-dev "a BLAS library (libblas.so)")
endif()

find_package(PkgConfig QUIET)
textclf_require(PKG_CONFIG_FOUND pkg-config "pkg-config")
pkg_check_modules(ZSTD QUIET IMPORTED_TARGET libzstd)
textclf_require(ZSTD_FOUND libzstd-dev "zstd (libzstd.pc)")
pkg_check_modules(UTF8PROC QUIET IMPORTED_TARGET libutf8proc)
textclf_require(UTF8PROC_FOUND libutf8proc-dev "utf8proc (libutf8proc.pc)")
if(NOT TEXTCLF_FUZZ)
  # The HTTP/REST front door (server/http) and its load generator: built with OpenSSL (TLS),
  # zlib and brotli, which its pkg-config file turns on; std::thread workers with their default
  # stacks, unlike civetweb's.
  pkg_check_modules(HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
  textclf_require(HTTPLIB_FOUND libcpp-httplib-dev "cpp-httplib (cpp-httplib.pc)")
endif()

# minizip (reads the zip container of PyTorch checkpoints). Its pkg-config file adds
# /usr/include/minizip to the include path, and that folder holds a crypt.h which hides the C
# library's <crypt.h>; so the target carries the parent folder only and code includes
# <minizip/unzip.h>.
pkg_check_modules(MINIZIP QUIET minizip)
get_filename_component(minizip_parent "${MINIZIP_INCLUDEDIR}" DIRECTORY)
find_path(MINIZIP_PARENT_INCLUDE_DIR minizip/unzip.h HINTS ${minizip_parent})
find_library(MINIZIP_LIBRARY NAMES minizip HINTS ${MINIZIP_LIBDIR})
if(MINIZIP_PARENT_INCLUDE_DIR AND MINIZIP_LIBRARY)
  set(TEXTCLF_MINIZIP_FOUND TRUE)
endif()
textclf_require(TEXTCLF_MINIZIP_FOUND libminizip-dev "minizip (minizip/unzip.h and libminizip)")
add_library(textclf::minizip INTERFACE IMPORTED)
set_target_properties(textclf::minizip PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${MINIZIP_PARENT_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${MINIZIP_LIBRARY};ZLIB::ZLIB")

if(TEXTCLF_BUILD_TESTS AND NOT TEXTCLF_FUZZ)
  find_package(GTest QUIET)
  textclf_require(GTest_FOUND "libgtest-dev and libgmock-dev" "GoogleTest")
endif()
