#!/usr/bin/env bash
# Benchmarks roomcast against the stock Node.js socket.io server, end to end: installs what is
# missing, builds bench_server, bench_floor and loadgen (Release), runs every scenario against
# roomcast, socket.io and the floor (each run on a fresh server pinned to CPU 0, the load
# generator on CPU 1), and writes docs/benchmarks.md and docs/benchmarks.png. See bench/README.md.
#
#   bench/run.sh [--quick] [--reps N] [--seconds S] [--warmup S] [--connections N]
#                [--rate N] [--window N] [--threads N] [--no-shards] [--no-floor]
#                [--scenarios "fanout fanout-rate echo churn connections"]
#                [--no-install] [--no-docs]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

command_line="bench/run.sh${*:+ }$*"
reps=3 seconds=5 warmup=1 connections=10000 rate=50500 window=32 threads=1 shards=1 install=1
docs=1 quick=0 floor=1
scenarios="fanout fanout-rate echo churn connections"
usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
    case $1 in
    --quick) quick=1 seconds=2 connections=2000 ;;
    --reps) reps=${2:?}; shift ;;
    --seconds) seconds=${2:?}; shift ;;
    --warmup) warmup=${2:?}; shift ;;
    --connections) connections=${2:?}; shift ;;
    --rate) rate=${2:?}; shift ;;
    --window) window=${2:?}; shift ;;
    --no-shards) shards=0 ;;
    --no-floor) floor=0 ;;
    --threads) threads=${2:?}; shift ;;
    --scenarios) scenarios=${2:?}; shift ;;
    --no-install) install=0 ;;
    --no-docs) docs=0 ;;
    *) usage ;;
    esac
    shift
done

build=$root/build/bench
results=$build/results
log() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }

# --- install -----------------------------------------------------------------------------------
if [[ $install == 1 ]]; then
    scripts/install-deps.sh bench # compiler, cmake, ninja, Boost, node and npm, taskset, gnuplot
fi

# --- build -------------------------------------------------------------------------------------
# bench/CMakeLists.txt is a project of its own (roomcast from ../include); once the top-level
# CMakeLists.txt adds bench/ behind ROOMCAST_BUILD_BENCH, the top-level project is used.
if grep -q ROOMCAST_BUILD_BENCH CMakeLists.txt; then
    source_dir=$root bin=$build/bench
    flags=(-DROOMCAST_BUILD_TESTS=OFF -DROOMCAST_BUILD_EXAMPLES=OFF -DROOMCAST_BUILD_BENCH=ON)
else
    source_dir=$root/bench bin=$build flags=(-DROOMCAST_BUILD_BENCH=ON)
fi
if [[ -f $build/CMakeCache.txt ]] &&
    ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$source_dir" "$build/CMakeCache.txt"; then
    rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles" # configured from the other source dir
fi
log "building (Release) in build/bench"
cmake -S "$source_dir" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${flags[@]}" >/dev/null
cmake --build "$build" --target bench_server bench_floor loadgen

# The reference installs into the build directory, so no node_modules lands in the source tree.
ref=$build/reference
mkdir -p "$ref"
cp bench/reference/server.js bench/reference/package.json bench/reference/package-lock.json "$ref/"
if ! cmp -s "$ref/package-lock.json" "$ref/node_modules/.installed-lock.json" 2>/dev/null; then
    log "npm ci (socket.io reference)"
    (cd "$ref" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
    cp "$ref/package-lock.json" "$ref/node_modules/.installed-lock.json"
fi

# --- servers -----------------------------------------------------------------------------------
# Each server runs on CPU 0 and the load generator on CPU 1, so they do not compete for a core.
# Every server started is stopped, also when this script fails or is interrupted.
server_pid="" server_fd="" server_port=""
stop_server() {
    [[ -n $server_pid ]] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$server_pid" 2>/dev/null && { log "server $server_pid ignored SIGTERM: SIGKILL"; kill -KILL "$server_pid" 2>/dev/null || true; }
    fi
    wait "$server_pid" 2>/dev/null || true
    [[ -n $server_fd ]] && exec {server_fd}<&-
    server_pid="" server_fd=""
}
loadgen_pid=""
cleanup() {
    if [[ -n $loadgen_pid ]]; then
        kill -TERM "$loadgen_pid" 2>/dev/null || true # timeout(1) passes it on to the generator
        wait "$loadgen_pid" 2>/dev/null || true
        loadgen_pid=""
    fi
    stop_server
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

server_command() { # name -> the command line, port 0: the server picks a free port and says it
    case $1 in
    roomcast) echo "$bin/bench_server 0 --threads $threads" ;;
    roomcast-2) echo "$bin/bench_server 0 --threads 2" ;;
    roomcast-send) echo "$bin/bench_server 0 --threads $threads --no-io-uring" ;;
    socket.io) echo "node $ref/server.js 0" ;;
    floor) echo "$bin/bench_floor 0" ;;
    esac
}

# Starts server $1 and waits for its "listening" line (no fixed sleeps); sets server_pid/port.
start_server() {
    local fifo line
    fifo=$(mktemp -u "$build/server-fifo.XXXXXX")
    mkfifo "$fifo"
    exec {server_fd}<>"$fifo" # read-write: opening does not wait for the writer
    rm -f "$fifo"
    # shellcheck disable=SC2046
    HOST=127.0.0.1 taskset -c 0 $(server_command "$1") >&"$server_fd" 2>>"$results/$1.log" &
    server_pid=$!
    if ! read -r -t 30 -u "$server_fd" line || [[ ! $line =~ listening\ on\ ([0-9.]+:)?([0-9]+) ]]; then
        log "$1 did not start (see $results/$1.log)"
        return 1
    fi
    server_port=${BASH_REMATCH[2]}
}

loadgen_args() { # scenario -> loadgen flags
    case $1 in
    fanout) echo "--scenario fanout --window $window --seconds $seconds --warmup $warmup" ;;
    fanout-rate) echo "--scenario fanout --rate $rate --seconds $seconds --warmup $warmup" ;;
    echo) echo "--scenario echo --seconds $seconds --warmup $warmup" ;;
    churn) echo "--scenario churn --seconds $seconds --warmup $warmup" ;;
    connections) echo "--scenario connections --clients $connections --seconds 2" ;;
    *) log "unknown scenario $1"; exit 2 ;;
    esac
}

# --- runs --------------------------------------------------------------------------------------
mkdir -p "$results"
rm -f "$results"/*.log "$results/results.jsonl"
hard=$(ulimit -Hn)
[[ $hard == unlimited ]] || ((hard >= connections + 256)) || {
    log "open-file limit $hard: connections lowered to $((hard - 256))"
    connections=$((hard - 256))
}
ulimit -n "$hard" 2>/dev/null || true
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
for rep in $(seq "$reps"); do
    for scenario in $scenarios; do
        servers="roomcast socket.io"
        # The floor, and roomcast writing as the floor does (one send per connection), beside it.
        [[ $floor == 1 ]] && servers+=" floor"
        [[ $floor == 1 && $scenario != connections ]] && servers+=" roomcast-send"
        # Two shards on the same core beside one: what sharding itself costs.
        [[ $shards == 1 && $threads == 1 && $scenario == fanout* ]] && servers+=" roomcast-2"
        for server in $servers; do
            start_server "$server"
            args=$(loadgen_args "$scenario")
            log "run $rep/$reps: $scenario on $server (pid $server_pid, port $server_port)"
            out=$results/run.out
            # shellcheck disable=SC2086
            # In the background, so that a signal to this script is handled at once.
            timeout 300 taskset -c 1 "$bin/loadgen" $args --port "$server_port" \
                --pid "$server_pid" --label "$server" >"$out" 2>"$results/run.err" &
            loadgen_pid=$!
            wait "$loadgen_pid" || true
            loadgen_pid=""
            cat "$results/run.err" >&2
            cat "$results/run.err" >>"$results/loadgen.log"
            line=$(tail -n 1 "$out")
            [[ $line == \{* ]] || line='{"ok":false,"failure":"load generator gave no result"}'
            echo "{\"server\":\"$server\",\"case\":\"$scenario\",\"rep\":$rep,\"result\":$line}" \
                >>"$results/results.jsonl"
            stop_server
        done
    done
done
elapsed=$(($(date +%s) - started))
log "runs done in ${elapsed}s: $results/results.jsonl"
[[ $docs == 1 ]] || exit 0

# --- docs --------------------------------------------------------------------------------------
# Whether roomcast's shards could hand their writes to io_uring (transport option use_io_uring;
# without it, one send per connection). A container's seccomp filter is not seen from here.
io_uring_state() {
    local f=/proc/sys/kernel/io_uring_disabled
    case "$([[ -r $f ]] && cat "$f")" in
        0) echo "allowed (kernel.io_uring_disabled = 0)" ;;
        1) echo "restricted to a group (kernel.io_uring_disabled = 1)" ;;
        2) echo "disabled (kernel.io_uring_disabled = 2): writes use send" ;;
        *) echo "sysctl not present" ;;
    esac
}
cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
export BENCH_RESULTS=$results/results.jsonl BENCH_OUT=$root/docs BENCH_WORK=$results \
    BENCH_CPU="$cpu_model" BENCH_CPUS="$(grep -c '^processor' /proc/cpuinfo)" \
    BENCH_MEM="$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)" \
    BENCH_UNAME="$(uname -srmo)" BENCH_IO_URING="$(io_uring_state)" \
    BENCH_LOAD="$loadavg_start" BENCH_ELAPSED=$elapsed \
    BENCH_GXX="$(g++ --version | head -n 1)" BENCH_NODE="$(node --version)" \
    BENCH_SOCKETIO="$(node -p "require('$ref/node_modules/socket.io/package.json').version")" \
    BENCH_BOOST="$(dpkg-query -W -f='${Version}' libboost1.81-dev 2>/dev/null || echo '?')" \
    BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- include 2>/dev/null || echo ' (include/ modified)')" \
    BENCH_COMMAND="$command_line" BENCH_REPS=$reps BENCH_THREADS=$threads \
    BENCH_SERVER_ROOMCAST="taskset -c 0 $(server_command roomcast | sed "s|$root/||")" \
    BENCH_SERVER_SOCKETIO="taskset -c 0 $(server_command socket.io | sed "s|$root/||")" \
    BENCH_SERVER_ROOMCAST2="taskset -c 0 $(server_command roomcast-2 | sed "s|$root/||")" \
    BENCH_SERVER_FLOOR="taskset -c 0 $(server_command floor | sed "s|$root/||")" \
    BENCH_SERVER_ROOMCAST_SEND="taskset -c 0 $(server_command roomcast-send | sed "s|$root/||")"
for s in $scenarios; do
    export "BENCH_ARGS_${s//-/_}=taskset -c 1 build/bench/loadgen $(loadgen_args "$s") --port PORT --pid PID"
done
node - <<'EOF'
const fs = require('fs');
const env = process.env;
const runs = fs.readFileSync(env.BENCH_RESULTS, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const servers = ['roomcast', 'socket.io'];
const shardRuns = runs.some((r) => r.server === 'roomcast-2');
const floorRuns = runs.some((r) => r.server === 'floor');
const sendRuns = runs.some((r) => r.server === 'roomcast-send');
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const get = (c, server, key) =>
  runs.filter((r) => r.case === c && r.server === server && r.result.ok).map((r) => r.result[key]);
const fmt = (x, digits) => {
  if (!isFinite(x)) return 'n/a';
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
};
const cases = [...new Set(runs.map((r) => r.case))];
// The floor: the same contract with no library (bench/floor/main.cpp), in the same runs.
const floorRows = [['fanout', 'fan-out, saturated: CPU µs per delivery'],
  ['fanout-rate', 'fan-out at a fixed rate: CPU µs per delivery'],
  ['echo', 'echo: CPU µs per round trip'], ['churn', 'join/leave: CPU µs per op']]
  .filter(([c]) => cases.includes(c) && get(c, 'floor', 'server_cpu_us_per_unit').length);
const titles = {
  fanout: 'Fan-out, saturated (closed loop)',
  'fanout-rate': 'Fan-out at a fixed rate',
  echo: 'Echo (ack round trips)',
  churn: 'Join/leave churn',
  connections: 'Idle connections',
};
// [label, key, scale, better, digits]
const metrics = {
  fanout: [
    ['deliveries/s', 'delivered_per_s', 1, 'higher'],
    ['server CPU µs per delivery', 'server_cpu_us_per_unit', 1, 'lower', 2],
    ['server CPU %', 'server_cpu_pct', 1, '', 0],
    ['latency p50 (ms)', 'latency_p50_us', 1e-3, 'lower'],
    ['latency p90 (ms)', 'latency_p90_us', 1e-3, 'lower'],
    ['latency p99 (ms)', 'latency_p99_us', 1e-3, 'lower'],
    ['server RSS at the end (MiB)', 'server_rss_kb_after', 1 / 1024, 'lower'],
    ['load generator CPU %', 'loadgen_cpu_pct', 1, '', 0],
  ],
  echo: [
    ['round trips/s', 'round_trips_per_s', 1, 'higher'],
    ['server CPU µs per round trip', 'server_cpu_us_per_unit', 1, 'lower', 2],
    ['server CPU %', 'server_cpu_pct', 1, '', 0],
    ['latency p50 (ms)', 'latency_p50_us', 1e-3, 'lower'],
    ['latency p99 (ms)', 'latency_p99_us', 1e-3, 'lower'],
    ['load generator CPU %', 'loadgen_cpu_pct', 1, '', 0],
  ],
  churn: [
    ['join/leave ops/s', 'ops_per_s', 1, 'higher'],
    ['server CPU µs per op', 'server_cpu_us_per_unit', 1, 'lower', 2],
    ['server CPU %', 'server_cpu_pct', 1, '', 0],
    ['latency p50 (ms)', 'latency_p50_us', 1e-3, 'lower'],
    ['latency p99 (ms)', 'latency_p99_us', 1e-3, 'lower'],
    ['load generator CPU %', 'loadgen_cpu_pct', 1, '', 0],
  ],
  connections: [
    ['connections held', 'connected', 1, '', 0],
    ['server RSS per connection (KiB)', 'server_rss_bytes_per_connection', 1 / 1024, 'lower'],
    ['server RSS with them (MiB)', 'server_rss_kb_after', 1 / 1024, 'lower'],
    ['server CPU µs per connection (handshake)', 'server_cpu_us_per_unit', 1, 'lower'],
    ['connections opened/s', 'connect_per_s', 1, 'higher'],
  ],
};
metrics['fanout-rate'] = metrics.fanout;

const first = (c) => runs.find((r) => r.case === c && r.result.ok)?.result ?? {};
const describe = (c) => {
  const r = first(c);
  switch (c) {
    case 'fanout': return `${r.clients} connections: ${r.publishers} publishers, one per room, ` +
      `${r.rooms} rooms of ${r.members_per_room} members (publisher included); each publisher ` +
      `keeps ${r.window} of its messages in flight: it sends the next one when one of its own ` +
      'came back to it, so the server always has work. ' +
      `Message: \`{room, p, ts, pad}\` with ${r.pad} bytes of padding.`;
    case 'fanout-rate': return `As above, at a fixed ${fmt(r.rate, 0)} deliveries/s: the same ` +
      'work for both servers, so CPU % and latency compare at equal load.';
    case 'echo': return `${r.clients} clients, each with one \`echo\` request in flight ` +
      `(\`42<id>["echo",{ts,pad}]\` → \`43<id>[…]\`).`;
    case 'churn': return `${r.clients} clients, each alternating \`join\` and \`leave\` with an ack ` +
      `over ${r.rooms} rooms; one op = one acknowledged request.`;
    case 'connections': return `${r.clients} idle connections with the whole handshake (\`0{…}\`, ` +
      `\`40\`, \`40{sid}\`) from ${r.source_addresses} source address` +
      `${r.source_addresses === 1 ? '' : 'es'} (127.0.0.2…), held 2 s; ` +
      'RSS and CPU from before the first connection to the end of the hold.';
  }
  return '';
};

let md = `# Benchmarks: roomcast and the Node.js socket.io server

Written by \`${env.BENCH_COMMAND}\` (bench/run.sh) — do not edit by hand; run it again.
Each figure is the median of ${env.BENCH_REPS} runs (min–max in the detailed tables); every run
starts a fresh server. Both servers implement the same application (bench/reference/server.js,
bench/server/main.cpp; the contract: join, leave, publish to a room, echo) and are driven by the
same load generator (bench/loadgen), which speaks Socket.IO v5 over plain WebSocket.

- Server pinned to CPU 0 (\`taskset -c 0\`), load generator pinned to CPU 1: one core each.
  roomcast runs with ${env.BENCH_THREADS} shard thread(s); Node runs its one event loop (plus
  V8 and libuv helper threads, counted too).
- Server CPU = utime + stime of all the server's threads (\`/proc/PID/stat\`) over the measured
  window, divided by the work done in it; memory = VmRSS (\`/proc/PID/status\`).
- Ratio = roomcast ÷ socket.io; "better" says which direction is an improvement.${floorRows.length ? `
- floor: the same contract served with about the least work a server can do for it in
  uWebSockets' design (bench/floor/main.cpp, no library), in the same runs: see
  [Against this machine's floor](#against-this-machines-floor).` : ''}
- When the load generator's CPU is near 100 %, throughput is bounded by the generator, not the
  server: compare CPU per message then, which does not depend on it.

![server CPU per message and memory per connection](benchmarks.png)

## Summary

| figure | roomcast | socket.io | ratio | better |
| --- | ---: | ---: | ---: | --- |
`;
const summary = [
  ['fanout', 'deliveries/s (saturated)', 'delivered_per_s', 1, 'higher'],
  ['fanout', 'server CPU µs per delivery', 'server_cpu_us_per_unit', 1, 'lower', 2],
  ['fanout-rate', `server CPU % at a fixed rate`, 'server_cpu_pct', 1, 'lower', 1],
  ['fanout-rate', 'delivery latency p99 at a fixed rate (ms)', 'latency_p99_us', 1e-3, 'lower'],
  ['echo', 'echo round trips/s', 'round_trips_per_s', 1, 'higher'],
  ['echo', 'server CPU µs per echo round trip', 'server_cpu_us_per_unit', 1, 'lower', 2],
  ['churn', 'join/leave ops/s', 'ops_per_s', 1, 'higher'],
  ['churn', 'server CPU µs per join/leave', 'server_cpu_us_per_unit', 1, 'lower', 2],
  ['connections', 'server RSS per idle connection (KiB)', 'server_rss_bytes_per_connection', 1 / 1024, 'lower'],
  ['connections', 'server CPU µs per connection handshake', 'server_cpu_us_per_unit', 1, 'lower'],
];
for (const [c, label, key, scale, better, digits] of summary) {
  if (!cases.includes(c)) continue;
  const [a, b] = servers.map((s) => median(get(c, s, key)) * scale);
  md += `| ${label} | ${fmt(a, digits)} | ${fmt(b, digits)} | ${fmt(a / b, 2)}× | ${better} |\n`;
}

// Integrity: lost, reordered, errors, disconnects, failed runs.
let problems = [];
for (const r of runs) {
  const x = r.result;
  const where = `${r.case} on ${r.server}, run ${r.rep}`;
  if (!x.ok) problems.push(`${where}: FAILED (${x.failure ?? 'no result'})`);
  for (const k of ['lost', 'reordered', 'errors', 'disconnects', 'connect_failures'])
    if (x[k]) problems.push(`${where}: ${k} = ${x[k]}${x.first_error ? ` (${x.first_error})` : ''}`);
}
const fanoutRuns = runs.filter((r) => r.case.startsWith('fanout'));
const sum = (k) => fanoutRuns.reduce((t, r) => t + (r.result[k] ?? 0), 0);
md += `\nIntegrity: ${fmt(sum('expected'), 0)} deliveries expected in the fan-out windows, ` +
  `${fmt(sum('received'), 0)} received, ${fmt(sum('lost'), 0)} lost, ` +
  `${fmt(sum('reordered'), 0)} out of order; ` +
  (problems.length ? `**problems**:\n\n${problems.map((p) => `- ${p}`).join('\n')}\n` :
    'no errors, disconnects or failed runs.\n');

for (const c of cases) {
  md += `\n## ${titles[c] ?? c}\n\n${describe(c)}\n\n`;
  md += `\`${env['BENCH_ARGS_' + c.replace(/-/g, '_')] ?? ''}\`\n\n`;
  md += '| figure | roomcast | socket.io | ratio | better |' + (floorRuns ? ' floor |' : '') +
    '\n| --- | ---: | ---: | ---: | --- |' + (floorRuns ? ' ---: |' : '') + '\n';
  for (const [label, key, scale, better, digits] of metrics[c] ?? []) {
    const cell = (s) => {
      const xs = get(c, s, key).map((x) => x * scale);
      if (!xs.length) return 'n/a';
      const lo = Math.min(...xs), hi = Math.max(...xs);
      return `${fmt(median(xs), digits)}` + (xs.length > 1 && lo !== hi ?
        ` (${fmt(lo, digits)}–${fmt(hi, digits)})` : '');
    };
    const [a, b] = servers.map((s) => median(get(c, s, key)) * scale);
    md += `| ${label} | ${cell('roomcast')} | ${cell('socket.io')} | ` +
      `${better ? fmt(a / b, 2) + '×' : ''} | ${better} |` +
      (floorRuns ? ` ${cell('floor')} |` : '') + '\n';
  }
}

// Against the bar of issue 5: the stock socket.io server and a minimal uWebSockets program
// speaking just enough Engine.IO/Socket.IO framing, measured with the same work on this kind of
// machine (2 cores, server on one, generator on the other) outside this project.
const published = [ // case, label, key, socket.io quoted [lo, hi], uWebSockets quoted, target
  ['fanout', 'room fan-out, saturated: CPU µs per delivery', 'server_cpu_us_per_unit',
    [5.4, 6.0], [0.25, 0.29], 'within 1.2× of uWebSockets'],
  ['fanout-rate', 'fan-out at a fixed rate: CPU µs per delivery', 'server_cpu_us_per_unit',
    [16.4, 16.4], [6.2, 6.2], 'within 1.2× of uWebSockets'],
  ['echo', 'ack round trip (echo): CPU µs per round trip', 'server_cpu_us_per_unit',
    [15.9, 15.9], [4.7, 4.7], 'within 1.2× of uWebSockets'],
  ['churn', 'join/leave with ack: CPU µs per operation', 'server_cpu_us_per_unit',
    [17.9, 17.9], [4.7, 4.7], 'within 1.2× of uWebSockets'],
  ['connections', 'idle connection: resident bytes per connection',
    'server_rss_bytes_per_connection', [14000, 16000], [470, 470], 'at most 2,000'],
];
const barRows = published.filter(([c]) => cases.includes(c));
if (barRows.length) {
  md += `
## Against the published bar

The stock socket.io server and a minimal uWebSockets program (no full Socket.IO server; not
part of this project) were measured with the same work on this kind of machine; those figures
are quoted, not measured here. roomcast and socket.io are this run's medians.

The quoted figures come from another machine of this kind, and machines of this kind differ
from day to day. \`÷ uWebSockets\` divides by the quoted figure as it stands. \`÷ uWebSockets,
each against socket.io\` compares the two servers' ratios to socket.io instead: roomcast's
in this run, and uWebSockets' in the quoted one. It holds across machines only as far as
socket.io slows down as the others do: socket.io spends most of its CPU in JavaScript, roomcast
most of its in the kernel's network stack, and a slower machine need not slow both alike.${floorRows.length ? `
[Against this machine's floor](#against-this-machines-floor) measures, in this run, what a
server in uWebSockets' design costs on this machine at the least.` : ''}

| work | roomcast | socket.io here | socket.io quoted | uWebSockets quoted | ÷ uWebSockets |` +
  ` ÷ uWebSockets, each against socket.io | target |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |
`;
  const range = (lo, hi, digits, suffix = '') =>
    fmt(lo, digits) === fmt(hi, digits) ? `${fmt(lo, digits)}${suffix}`
      : `${fmt(lo, digits)}–${fmt(hi, digits)}${suffix}`;
  let saturated = false;
  for (const [c, label, key, [nodeLo, nodeHi], [lo, hi], target] of barRows) {
    const [a, b] = servers.map((s) => median(get(c, s, key)));
    const digits = c === 'connections' ? 0 : 2;
    // socket.io at full CPU fell behind the rate: it did not do the work roomcast did.
    const capped = c === 'fanout-rate' && median(get(c, 'socket.io', 'server_cpu_pct')) >= 98;
    saturated ||= capped;
    // Memory per connection does not change with the machine's speed: nothing to normalise.
    const relative = c === 'connections' ? '—'
      : range((a / b) / (hi / nodeLo), (a / b) / (lo / nodeHi), 2, '×');
    md += `| ${label} | ${fmt(a, digits)} | ${fmt(b, digits)}${capped ? ' *' : ''} | ` +
      `${range(nodeLo, nodeHi, digits)} | ${range(lo, hi, digits)} | ` +
      `${range(a / hi, a / lo, 2, '×')} | ${relative}${capped ? ' *' : ''} | ${target} |\n`;
  }
  if (saturated)
    md += `
\\* socket.io used all of its core at the fixed rate and fell behind it (see its latency above):
the two servers did not do the same work, so this row's ratios against socket.io do not
compare like with like.
`;
}

// Where the CPU goes: the kernel's part (utime against stime) is mostly the network stack
// doing the sends and receives the work needs; the user part is the server's own code.
const splitRows = [['fanout', 'fan-out, saturated', 'delivery'],
  ['fanout-rate', 'fan-out at a fixed rate', 'delivery'], ['echo', 'echo', 'round trip'],
  ['churn', 'join/leave', 'op']].filter(([c]) => cases.includes(c));
if (splitRows.length) {
  md += `
## Where the CPU goes

Each server's CPU per unit of work, split as \`/proc/PID/stat\` splits it: \`stime\` is the kernel
working for the server (the TCP stack sending and receiving, waking the peers, the system
calls), \`utime\` the server's own code (for socket.io, JavaScript, V8 and libuv). The kernel
does about the same work for any server sending the same messages one write per connection at a
time; a server's own design decides its user part, and how many writes and system calls it asks
of the kernel. (The split is sampled at the clock tick: a few percent either way.)

| work | roomcast µs | of it kernel | of it user | socket.io µs | of it kernel | of it user |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
`;
  for (const [c, label, unit] of splitRows) {
    const cells = servers.map((s) => {
      const all = median(get(c, s, 'server_cpu_us_per_unit'));
      const user = median(get(c, s, 'server_user_us_per_unit'));
      const share = (x) => all > 0 ? ` (${fmt(100 * x / all, 0)} %)` : '';
      return `${fmt(all, 2)} | ${fmt(all - user, 2)}${share(all - user)} | ${fmt(user, 2)}${share(user)}`;
    });
    md += `| ${label}, per ${unit} | ${cells.join(' | ')} |\n`;
  }
}

if (floorRows.length) {
  md += `
## Against this machine's floor

\`bench_floor\` (bench/floor/main.cpp) serves the same contract with about the least work a
server can do for it in the design uWebSockets uses: one thread and epoll, one \`recv\` per
readable socket and turn of its loop, each connection's frames gathered and written with one
\`send\` per turn, a broadcast framed once and copied to each member. It checks what any
WebSocket server checks (the upgrade request, masking, UTF-8) and parses no JSON beyond the
event name, the end of the argument and a publish's \`room\`. It is no Socket.IO server (one
namespace, WebSocket only, no binary, no middleware, no limits but on sizes) and no part of
roomcast, of which it borrows only the UTF-8 check and the frame header writer, so that both
pay the same for them. The contract check that bench_server passes in CI passes against it too.
It ran in the same runs as the others, on the same core, driven by the same load generator.

roomcast as configured (\`use_io_uring\`, on by default) hands the writes of a turn of its loop
to the kernel in one io_uring submission, which is outside that design: it spends less in the
kernel than the floor, and more in its own code.${sendRuns ? ` So roomcast also ran with
\`--no-io-uring\` (\`transport.use_io_uring = false\`: one \`send\` per connection, as the floor
writes): that column compares like with like, and its user part above the floor's is
roomcast's own cost per unit of work.` : ''}

| work | roomcast |${sendRuns ? ' roomcast, no io_uring |' : ''} floor | roomcast ÷ floor |` +
  `${sendRuns ? ' no io_uring ÷ floor |' : ''}
| --- | ---: |${sendRuns ? ' ---: |' : ''} ---: | ---: |${sendRuns ? ' ---: |' : ''}
`;
  const cpu = (c, s) => median(get(c, s, 'server_cpu_us_per_unit'));
  for (const [c, label] of floorRows) {
    const [a, n, f] = ['roomcast', 'roomcast-send', 'floor'].map((s) => cpu(c, s));
    md += `| ${label} | ${fmt(a, 2)} |${sendRuns ? ` ${fmt(n, 2)} |` : ''} ${fmt(f, 2)} | ` +
      `${fmt(a / f, 2)}× |${sendRuns ? ` ${fmt(n / f, 2)}× |` : ''}\n`;
  }
  if (cases.includes('connections') && get('connections', 'floor', 'connected').length) {
    const [a, f] = ['roomcast', 'floor'].map((s) =>
      median(get('connections', s, 'server_rss_bytes_per_connection')));
    md += `| idle connection: resident bytes per connection | ${fmt(a, 0)} |` +
      `${sendRuns ? ' |' : ''} ${fmt(f, 0)} | ${fmt(a / f, 2)}× |${sendRuns ? ' |' : ''}\n`;
  }
  md += `
The same CPU split into the kernel's part and the server's own (µs, kernel / user):

| work | roomcast |${sendRuns ? ' roomcast, no io_uring |' : ''} floor |
| --- | ---: |${sendRuns ? ' ---: |' : ''} ---: |
`;
  const split = (c, s) => {
    const all = cpu(c, s), user = median(get(c, s, 'server_user_us_per_unit'));
    return `${fmt(all - user, 2)} / ${fmt(user, 2)}`;
  };
  for (const [c, label] of floorRows)
    md += `| ${label.replace(/: .*/, '')} | ${split(c, 'roomcast')} |` +
      `${sendRuns ? ` ${split(c, 'roomcast-send')} |` : ''} ${split(c, 'floor')} |\n`;
  md += `
The uWebSockets program of the bar works in the floor's design and does at least the floor's
work, through a library. If it costs no less than the floor on a machine, as expected,
roomcast ÷ uWebSockets there is at most roomcast ÷ floor. That is an expectation, not a
measurement: no uWebSockets program ran here.
`;
}

if (shardRuns) {
  md += `
## Shards

The fan-out runs again with \`bench_server --threads 2\`, both shards pinned to CPU 0 beside
the one-shard runs: the same core does the same work, so the difference is what sharding costs
(a broadcast is delivered on its sender's shard and posted once to the other). Each connection
lives on one shard and its own broadcasts reach the other shard's members through that post.

| figure | 1 shard | 2 shards, one core | ratio |
| --- | ---: | ---: | ---: |
`;
  for (const [c, what] of [['fanout', 'saturated'], ['fanout-rate', 'fixed rate']]) {
    if (!cases.includes(c)) continue;
    for (const [label, key, digits] of [['deliveries/s', 'delivered_per_s', 0],
      ['server CPU µs per delivery', 'server_cpu_us_per_unit', 2]]) {
      const one = median(get(c, 'roomcast', key)), two = median(get(c, 'roomcast-2', key));
      md += `| ${label} (${what}) | ${fmt(one, digits)} | ${fmt(two, digits)} | ${fmt(two / one, 2)}× |\n`;
    }
  }
  const perDelivery = median(get('fanout', 'roomcast-2', 'server_cpu_us_per_unit'));
  md += `
On a machine with more cores, each shard gets its own core (\`io.run(N)\`), and the load
generator others. The work of a delivery is done by the recipient's shard: at
${fmt(perDelivery, 2)} µs of CPU per delivery, each shard's core can carry about
${fmt(1e6 / perDelivery, 0)} deliveries per second, so N shards about N times that, less what
the cores share (memory bandwidth, the kernel's network stack). This 2-core machine cannot
show it: the load generator needs the second core.
`;
}

md += `
## Machine

- CPU: ${env.BENCH_CPU}, ${env.BENCH_CPUS} logical CPUs; memory ${env.BENCH_MEM}
- Kernel: ${env.BENCH_UNAME}; io_uring ${env.BENCH_IO_URING}
- Load average when the runs started: ${env.BENCH_LOAD} (other work on the machine adds noise)
- Compiler: ${env.BENCH_GXX}; Boost ${env.BENCH_BOOST}; roomcast at ${env.BENCH_COMMIT}
- Node ${env.BENCH_NODE}; socket.io ${env.BENCH_SOCKETIO} (from bench/reference/package-lock.json)
- Runs took ${env.BENCH_ELAPSED} s in all.

## Commands

\`\`\`sh
${env.BENCH_COMMAND}
# builds: cmake -S bench -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DROOMCAST_BUILD_BENCH=ON
# servers (port 0: each picks a free port and prints it; HOST=127.0.0.1):
${env.BENCH_SERVER_ROOMCAST}
${env.BENCH_SERVER_SOCKETIO}${shardRuns ? '\n' + env.BENCH_SERVER_ROOMCAST2 + '   # the Shards section' : ''}${floorRuns ? '\n' + env.BENCH_SERVER_FLOOR + '   # the floor' : ''}${sendRuns ?
  '\n' + env.BENCH_SERVER_ROOMCAST_SEND + '   # beside the floor' : ''}
# load generator, per scenario:
${cases.map((c) => env['BENCH_ARGS_' + c.replace(/-/g, '_')]).join('\n')}
\`\`\`
`;
fs.writeFileSync(`${env.BENCH_OUT}/benchmarks.md`, md);

// Chart data: server CPU per unit of work, and memory per connection.
const cpuRows = [['fanout', 'per delivery'], ['fanout-rate', 'per delivery\\n(fixed rate)'],
  ['echo', 'per echo'], ['churn', 'per join/leave']].filter(([c]) => cases.includes(c));
// Columns: roomcast, socket.io, then the floor when it ran ("NaN" otherwise: no bar drawn).
const charted = [...servers, 'floor'];
fs.writeFileSync(`${env.BENCH_WORK}/cpu.dat`, cpuRows.map(([c, label]) =>
  `"${label}" ${charted.map((s) => median(get(c, s, 'server_cpu_us_per_unit'))).join(' ')}`).join('\n') + '\n');
fs.writeFileSync(`${env.BENCH_WORK}/mem.dat`, cases.includes('connections') ?
  `"per idle connection" ${charted.map((s) =>
    median(get('connections', s, 'server_rss_bytes_per_connection')) / 1024).join(' ')}\n` : '');
EOF

floor_bars="" # the floor's bars, when it ran
[[ $floor == 1 ]] && floor_bars=', "" using 4 title "floor (no library)" lc rgb "#7a7a7a"'
gnuplot <<EOF
set terminal pngcairo size 1000,420 font "sans,10"
set output "$root/docs/benchmarks.png"
set multiplot layout 1,2 title "roomcast vs Node.js socket.io 4.8 (one core each, median of $reps runs; lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set bmargin 4
set grid ytics
set yrange [0:*]
set key top left
set title "server CPU time per unit of work (µs)"
plot "$results/cpu.dat" using 2:xtic(1) title "roomcast" lc rgb "#2a6fdb", \
     "" using 3 title "socket.io" lc rgb "#e0803a"$floor_bars
set title "server memory per idle connection (KiB)"
set key top right # beside the one group of bars, not over it
$(if [[ -s $results/mem.dat ]]; then
    echo "plot \"$results/mem.dat\" using 2:xtic(1) title \"roomcast\" lc rgb \"#2a6fdb\", \"\" using 3 title \"socket.io\" lc rgb \"#e0803a\"$floor_bars"
else
    echo 'unset key; plot 0 notitle'
fi)
unset multiplot
EOF
log "wrote docs/benchmarks.md and docs/benchmarks.png"
