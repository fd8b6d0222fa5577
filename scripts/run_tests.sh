#!/usr/bin/env bash
# Runs every registered test of the build in $1 (default: build). CTest prints the closing
# "N% tests passed, N tests failed out of N" line.
set -euo pipefail
BUILD_DIR=${1:-build}
cd "$(dirname "$0")/.."
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600
