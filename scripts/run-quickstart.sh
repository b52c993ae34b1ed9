#!/usr/bin/env bash
# Builds and runs the quickstart example (in-memory rooms, no other service needed).
# Arguments go to the server: scripts/run-quickstart.sh --port 3000 --threads 2
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DROOMCAST_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target quickstart
exec build/release/examples/quickstart/quickstart "$@"
