#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test: unit tests, wire
# tests, header and layering checks, and real clients against the examples.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" >/dev/null  # assertions stay on
cmake --build build/test
ctest --test-dir build/test --output-on-failure --timeout 600 -j2
