// Resident memory per idle connection, plain and over TLS, of a roomcast program that takes
// `--port N` and `--tls-cert FILE --tls-key FILE` (tests/integration/features_server does):
//
//   node bench/tls_idle.mjs build/tests/integration/features_server [connections=2000]
//
// For each mode it starts the program on a free loopback port, opens the connections with
// socket.io-client over WebSocket (ws:// or wss://, trusting a certificate made for the run
// with `openssl req`), waits until all are connected and a second more, and reports the
// server's resident memory growth (VmRSS) per connection. The clients run in this process.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';

const [binary, countArg] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node bench/tls_idle.mjs <server binary> [connections]');
  process.exit(2);
}
const count = Number(countArg || 2000);
const sleep = ms => new Promise(r => setTimeout(r, ms));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomcast-tls-'));
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
  '-nodes', '-days', '1', '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert],
{ stdio: 'ignore' });

function freePort() {
  return new Promise(resolve => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function rssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

async function measure(tls) {
  const port = await freePort();
  const args = ['--port', String(port), ...(tls ? ['--tls-cert', cert, '--tls-key', key] : [])];
  const server = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    server.stdout.on('data', d => { if (String(d).includes('listening')) resolve(); });
    server.once('exit', code => reject(new Error(`server exited with ${code}`)));
  });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const options = { transports: ['websocket'], reconnection: false, forceNew: true,
    ...(tls ? { ca: fs.readFileSync(cert) } : {}) };
  // One connection first, so that what every server allocates once is in the baseline.
  const first = io(url, options);
  await new Promise(r => first.once('connect', r));
  await sleep(500);
  const before = rssKiB(server.pid);
  const sockets = [];
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => io(url, options));
    await Promise.all(batch.map(s => new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    })));
    sockets.push(...batch);
  }
  await sleep(1000);
  const after = rssKiB(server.pid);
  for (const s of [first, ...sockets]) s.close();
  server.kill('SIGTERM');
  await new Promise(r => server.once('exit', r));
  return (after - before) / count;
}

const plain = await measure(false);
const tls = await measure(true);
console.log(`${count} idle WebSocket connections: ${plain.toFixed(2)} KiB each plain, ` +
            `${tls.toFixed(2)} KiB each over TLS`);
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);
