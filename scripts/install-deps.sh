#!/usr/bin/env bash
# Installs what roomcast needs on Debian 12: `install-deps.sh build` for building the library
# and examples, `install-deps.sh run` with Node's npm as well (the chat page's client bundle),
# `install-deps.sh test` for the tests as well, `install-deps.sh bench` for bench/run.sh (real clients: Node
# socket.io-client from the committed lock file, python3-socketio from Debian; the chat
# page's browser test drives Debian's chromium through playwright-core, which downloads no
# browser of its own).
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-build} # build: the library and examples; run: and npm for the chat page; test; bench
packages=(g++ cmake ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev libhiredis-dev
          libssl-dev)
if [[ $what == run || $what == test || $what == bench ]]; then
    command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi
if [[ $what == bench ]]; then
    packages+=(util-linux gnuplot-nox) # taskset, and the chart of docs/benchmarks.md
fi
if [[ $what == test ]]; then
    packages+=(catch2 clang python3-socketio python3-websocket python3-requests clang-format chromium
               doxygen libclang-rt-14-dev redis-server openssl)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

if [[ $what == test ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
