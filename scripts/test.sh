#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test: unit tests, wire
# tests, header and layering checks, and real clients against the examples; then the same
# under ASan+UBSan, the multi-shard ones under TSan, and the decoders' fuzz targets.
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

# Sanitizers. ASan and UBSan (g++): the unit and wire tests, and real clients against the
# feature server (every server feature, also over TLS) and the examples with shared state. A leak at exit, a
# memory error or undefined behaviour fails the test (a server must exit with 0). Waits get
# more time, as instrumented programs are slower. Instrumented builds of every example would
# take most of CI's time on two cores; the feature server covers what they use.
export ROOMCAST_WAIT_MS=10000
asan_flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DROOMCAST_BUILD_EXAMPLES=ON \
    -DROOMCAST_BUILD_DOCS=OFF -DCMAKE_CXX_FLAGS="$asan_flags" >/dev/null
cmake --build build/asan --target roomcast_unit_tests roomcast_server_tests features_server \
    multiroom_chat lobby roomcast_redis_tests cluster_node
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan --output-on-failure --timeout 900 -j2 \
    -R '^(unit|server|redis|(features|features_tls|tls|multiroom_chat|lobby)_(node|python).*|cluster_peer_.*)$'

# TSan (clang): what runs on two shards, the wire tests and real clients with two threads.
cmake -S . -B build/tsan -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DROOMCAST_BUILD_EXAMPLES=ON -DROOMCAST_BUILD_DOCS=OFF \
    -DCMAKE_CXX_FLAGS="-O1 -g -fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
    >/dev/null
cmake --build build/tsan --target roomcast_server_tests features_server multiroom_chat lobby \
    roomcast_redis_tests cluster_node
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build/tsan --output-on-failure --timeout 900 -j2 \
    -R '^(server|redis|(features|features_tls|tls|multiroom_chat|lobby)_(node|python)_threads2|cluster_(peer|faults_peer)_.*_threads2)$'

# The decoders under libFuzzer (clang, with ASan and UBSan), each for a bounded time.
scripts/fuzz.sh 60
