#!/usr/bin/env bash
# scripts/check-build-deps must catch a package the build needs but the list lacks: with each of
# a few real build dependencies taken out of scripts/packages-build.txt it has to fail and name
# that package. (scripts/test runs the check itself on the full list.)
#   check_build_deps_test.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
# Packages that nothing else on the list pulls in, each read by a different part of the build:
# minizip (core/cnn's checkpoint reader) and CLI11 (the command lines).
for pkg in libminizip-dev libcli11-dev; do
  grep -v -x -e "$pkg" "$root/scripts/packages-build.txt" > "$work/packages.txt"
  if TEXTCLF_BUILD_PACKAGES="$work/packages.txt" "$root/scripts/check-build-deps" "$build" > "$work/out" 2>&1; then
    echo "FAIL: check-build-deps passed with $pkg removed from the list"; failures=1
  elif ! grep -q "of $pkg (e.g. /" "$work/out"; then
    echo "FAIL: check-build-deps failed without naming $pkg:"; cat "$work/out"; failures=1
  else
    echo "ok: without $pkg: $(grep "of $pkg" "$work/out")"
  fi
done
exit $failures
