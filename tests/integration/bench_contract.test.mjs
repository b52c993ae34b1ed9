// The benchmark servers keep the benchmark contract (join, leave, publish, echo; see
// bench/README.md): bench/contract-check.mjs, which bench/run.sh relies on, run against the one
// in ROOMCAST_SERVER (bench_server, with ROOMCAST_THREADS shards; or bench_floor).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ServerProcess, TEST_TIMEOUT_MS } from './harness.mjs';

const server = process.env.ROOMCAST_SERVER;
const threads = process.env.ROOMCAST_THREADS;
const name = path.basename(server);

test(`${name} passes the contract check`, { timeout: TEST_TIMEOUT_MS }, async () => {
  const srv = await ServerProcess.start(
    port => [server, String(port), ...(threads ? ['--threads', threads] : [])],
    [], { readyLine: port => `listening on ${port}` });
  const check = spawn(process.execPath, ['bench/contract-check.mjs', String(srv.port)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let output = '';
    check.stdout.on('data', d => { output += d; });
    check.stderr.on('data', d => { output += d; });
    const code = await new Promise(resolve => check.once('exit', resolve));
    assert.equal(code, 0, `contract check failed:\n${output}`);
    assert.match(output, /all checks passed/);
  } finally {
    if (check.exitCode === null) check.kill('SIGKILL');
    await srv.stop();
  }
});
