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

# The same library under clang: the unit and wire tests, and a real client against the
# quickstart with two shards.
cmake -S . -B build/test-clang -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    >/dev/null
cmake --build build/test-clang --target roomcast_unit_tests roomcast_server_tests quickstart
ctest --test-dir build/test-clang --output-on-failure --timeout 600 \
    -R '^(unit|server|quickstart_node_threads2)$'
