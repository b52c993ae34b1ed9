#!/usr/bin/env bash
# Builds and runs the chat example: a page with channels at http://localhost:PORT/, served by
# the Socket.IO server itself (in-memory rooms, no other service needed). Arguments go to the
# server: scripts/run-chat.sh --port 3000 --threads 2
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh run
# The page's socket.io-client bundle, from npm (pinned by the example's lock file).
npm ci --prefix examples/chat --no-audit --no-fund --loglevel=error
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DROOMCAST_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target chat
exec build/release/examples/chat/chat "$@"
