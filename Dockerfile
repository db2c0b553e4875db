# syntax=docker/dockerfile:1.4
# textclf container image: textclf-server (the entry point), the textclf CLI (health checks,
# training Jobs) and textclf-train-and-publish. Build from the repository root:
#   docker build -t textclf .                                  (CPU, Debian's libtorch)
#   docker build -t textclf:cuda --build-arg VARIANT=cuda \
#     --build-context libtorch=/path/to/libtorch-cuda .        (CUDA, see deploy/README.md)
# Both stages take their Debian packages from the lists in scripts/, through scripts/install-deps,
# exactly as a developer machine and CI do.

ARG VARIANT=cpu

# The CUDA libtorch (an unpacked libtorch-cxx11-abi-shared-with-deps-*-cu*.zip). Empty for the
# CPU variant; `--build-context libtorch=DIR` replaces this stage with DIR.
FROM scratch AS libtorch

FROM debian:bookworm AS build
ARG VARIANT
COPY scripts/install-deps scripts/packages-build.txt /src/scripts/
RUN /src/scripts/install-deps /src/scripts/packages-build.txt
COPY --from=libtorch / /opt/libtorch/
COPY . /src
# The CUDA variant finds the given libtorch first through CMAKE_PREFIX_PATH.
RUN set -eu; \
    prefix=""; \
    if [ "$VARIANT" = cuda ]; then \
      test -f /opt/libtorch/share/cmake/Torch/TorchConfig.cmake || { echo "VARIANT=cuda needs --build-context libtorch=DIR" >&2; exit 1; }; \
      prefix="-DCMAKE_PREFIX_PATH=/opt/libtorch"; \
    fi; \
    cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release $prefix; \
    cmake --build /build --target textclf-server textclf

FROM debian:bookworm-slim AS runtime
ARG VARIANT
COPY scripts/install-deps scripts/packages-runtime.txt /tmp/textclf/
RUN set -eu; \
    list=/tmp/textclf/packages-runtime.txt; \
    if [ "$VARIANT" = cuda ]; then grep -v '^libtorch' "$list" > /tmp/textclf/list && list=/tmp/textclf/list; fi; \
    /tmp/textclf/install-deps "$list"; \
    rm -rf /var/lib/apt/lists/* /tmp/textclf
# CUDA: libtorch's libraries, with the CUDA runtime they bundle; the NVIDIA container runtime
# mounts the driver (NVIDIA_VISIBLE_DEVICES is set by the device plugin or --gpus).
COPY --from=libtorch / /opt/libtorch/
RUN set -eu; \
    if [ "$VARIANT" = cuda ]; then \
      find /opt/libtorch -mindepth 1 -maxdepth 1 ! -name lib -exec rm -rf {} +; \
      echo /opt/libtorch/lib > /etc/ld.so.conf.d/libtorch.conf; ldconfig; \
    else rm -rf /opt/libtorch; fi; \
    groupadd --system --gid 10001 textclf; \
    useradd --system --uid 10001 --gid textclf --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin textclf; \
    mkdir -p /models; chown textclf:textclf /models
ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility
COPY --from=build /build/server/textclf-server /build/client/textclf /usr/local/bin/
COPY deploy/docker/textclf-train-and-publish /usr/local/bin/
USER 10001:10001
VOLUME ["/models"]
# gRPC, HTTP/REST (Open Inference Protocol, /v1 classify), Prometheus /metrics
EXPOSE 50051 8080 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["textclf", "health", "--server", "127.0.0.1:50051", "--quiet"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["textclf-server"]
CMD ["--models", "/models", "--port", "50051", "--http-port", "8080", "--metrics-port", "9464", "--poll-interval", "10", "--drain-timeout", "20"]
