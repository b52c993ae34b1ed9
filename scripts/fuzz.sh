#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang and runs each for a bounded time:
# `scripts/fuzz.sh [seconds-per-target]` (60 by default). Needs clang and libclang-rt-14-dev
# (`scripts/install-deps.sh test`). Each target starts from a copy of its seed corpus in
# build/fuzz/run/<target>/, where what it discovers stays: the source tree is never written.
# Fails if any target crashes, breaks an invariant, leaks, times out (10 s for one input), runs
# out of memory (2 GiB) or reports a sanitizer error, and prints the input that reproduces it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
targets=(engineio socketio convert websocket msgpack)
build=build/fuzz

cmake -S . -B $build -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DROOMCAST_BUILD_FUZZERS=ON \
    -DROOMCAST_BUILD_TESTS=OFF -DROOMCAST_BUILD_EXAMPLES=OFF -DROOMCAST_BUILD_BENCH=OFF \
    -DROOMCAST_BUILD_DOCS=OFF \
    >/dev/null
cmake --build $build --target "${targets[@]/#/roomcast_fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
    run=$PWD/$build/run/$t
    rm -rf "$run"
    mkdir -p "$run/corpus"
    cp tests/fuzz/corpus/$t/* "$run/corpus/"
    echo "fuzzing $t for ${seconds}s"
    status=0
    # Inputs up to 8 KiB: long enough for polling payloads of many packets and for frames with
    # a 16-bit length.
    "$build/tests/fuzz/roomcast_fuzz_$t" "$run/corpus" -max_total_time="$seconds" \
        -rss_limit_mb=2048 -timeout=10 -detect_leaks=1 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$run/" >"$run/log" 2>&1 || status=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|peak_rss_mb)' \
        "$run/log" | sed "s/^/  $t: /" || true
    if ((status != 0)); then
        failed+=("$t")
        echo "FAILED: $t (exit $status), log in $run/log"
        grep -E 'ERROR: |runtime error|invariant broken' "$run/log" | head -n 5 |
            sed 's/^/  /' || true
        grep -E 'Test unit written to' "$run/log" |
            sed 's/.*Test unit written to /  reproducer: /' || true
    fi
done

if ((${#failed[@]})); then
    echo "fuzzing failed: ${failed[*]}; reproduce with" \
        "$build/tests/fuzz/roomcast_fuzz_<target> <reproducer>"
    exit 1
fi
echo "fuzzing passed: ${targets[*]}, ${seconds}s each"
