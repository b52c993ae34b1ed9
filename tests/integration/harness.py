"""Shared harness of the python-socketio integration tests (tests/integration/test_*.py).

A ServerProcess runs a server program on a free loopback port and waits until it is ready
(it accepts a TCP connection, or it has printed a given line; never a fixed sleep). Its
output is kept for failure messages; check_alive() fails at once, with that output, if it
has died; stop() sends SIGTERM, then SIGKILL, and fails unless it exits with status 0 on
SIGTERM; whatever is still running at exit is killed.

A Peer is a python-socketio client that records every event it receives, in arrival order
(see dispatch_in_order), from before it connects; every wait is bounded and fails at once if
the server has died.

The test files import it with
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
and are run with Debian's /usr/bin/python3 (python3-socketio 5.7).

Environment: ROOMCAST_WAIT_MS (bound of every single wait, default 4000),
ROOMCAST_STARTUP_MS (bound of server start-up, default 10000),
ROOMCAST_VERBOSE=1 (echo the server's output). With ROOMCAST_TLS_CERT and ROOMCAST_TLS_KEY
(PEM files), server programs are given them (--tls-cert, --tls-key) and reached over
https:// and wss://, and clients trust that certificate and no other.
"""

import atexit
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import requests
import socketio

WAIT = float(os.environ.get('ROOMCAST_WAIT_MS', '4000')) / 1000.0
STARTUP = float(os.environ.get('ROOMCAST_STARTUP_MS', '10000')) / 1000.0
STOP = 3.0
VERBOSE = os.environ.get('ROOMCAST_VERBOSE') == '1'
TLS_CERT = os.environ.get('ROOMCAST_TLS_CERT')
TLS_KEY = os.environ.get('ROOMCAST_TLS_KEY')

_counter = itertools.count(1)


def unique(prefix):
    """A name no other test of this run uses."""
    return '%s-%d-%d' % (prefix, os.getpid(), next(_counter))


# How a server that could not bind its port says so (Node, Boost.Asio, redis-server).
PORT_TAKEN = re.compile(r'EADDRINUSE|address already in use', re.IGNORECASE)
# Servers that lose their port to another process are started again on another port.
PORT_ATTEMPTS = 4


def free_port():
    """A port nothing listens on now; another process may still take it before the caller
    binds it (ServerProcess.start() then tries another)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


# ---------------------------------------------------------------------------
# Server process
# ---------------------------------------------------------------------------

_running = set()


def _kill_at_exit():
    # Last resort if the tests end without stopping their servers.
    for server in list(_running):
        if server.proc.poll() is None:
            server.proc.kill()


atexit.register(_kill_at_exit)


class ServerProcess:
    """A server program: command(port) is its command line for `port`. With
    ready_line(port), it is ready once it prints that line; else once it accepts a TCP
    connection. start() may be called again after the process died (a fresh server)."""

    def __init__(self, command, ready_line=None):
        self.command = command
        self.ready_line = ready_line
        self.proc = None
        self.port = 0
        self.url = ''
        self.what = ''
        self.output = []
        self.output_lock = threading.Lock()
        self.stopping = False
        self.death_reported = False  # check_alive() already failed for the current process
        self.killed_unready = False  # the current process was killed for not getting ready

    def start(self):
        """Starts the program on a free port and waits until it is ready. A program that
        lost its port to another process (between free_port() and its bind) is started
        again on another port."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                self._start()
                return
            except AssertionError:
                if not (attempt < PORT_ATTEMPTS and self._lost_port_race()):
                    raise

    def _lost_port_race(self):
        """Whether the last attempt's process exited on its own, saying its port was taken."""
        if self.proc is None or self.proc.poll() is None or self.killed_unready:
            return False
        self.pump.join(STOP)  # its last words may still be in the pipe
        with self.output_lock:
            return PORT_TAKEN.search(''.join(self.output)) is not None

    def _start(self):
        self.port = free_port()
        self.url = '%s://127.0.0.1:%d' % ('https' if TLS_CERT else 'http', self.port)
        self.stopping = False
        self.death_reported = False
        self.killed_unready = False
        output = []  # this attempt's: a pump of an earlier one never writes here
        with self.output_lock:
            self.output = output
        argv = self.command(self.port)
        if TLS_CERT:
            argv = argv + ['--tls-cert', TLS_CERT, '--tls-key', TLS_KEY]
        self.what = ' '.join(argv)
        ready_text = self.ready_line(self.port) if self.ready_line else None
        ready = threading.Event()
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT)
        except OSError as exc:
            self.proc = None
            raise AssertionError('cannot start server %s: %s' % (self.what, exc))
        _running.add(self)
        self.pump = threading.Thread(target=self._pump,
                                     args=(self.proc.stdout, output, ready_text, ready),
                                     daemon=True)
        self.pump.start()
        try:
            self._wait_ready(ready_text, ready)
        except BaseException:
            self.stopping = True  # not ready: do not leave it running
            if self.proc.poll() is None:
                self.killed_unready = True
                self.proc.kill()
                self.proc.wait()
            raise

    def _wait_ready(self, ready_text, ready):
        deadline = time.monotonic() + STARTUP
        while True:
            self.check_alive()
            if ready_text is not None:
                if ready.wait(0.05):
                    return
            else:
                try:
                    with socket.create_connection(('127.0.0.1', self.port), timeout=0.5):
                        return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                waited = ('print %r' % ready_text if ready_text is not None
                          else 'accept TCP connections on 127.0.0.1:%d' % self.port)
                raise AssertionError('server %s did not %s within %.1f s%s'
                                     % (self.what, waited, STARTUP, self.output_tail()))
            if ready_text is None:
                time.sleep(0.05)

    def _pump(self, stream, output, ready_text, ready):
        for line in iter(stream.readline, b''):
            text = line.decode('utf-8', 'replace')
            with self.output_lock:
                output.append(text)
                del output[:-200]
            if text.strip() == ready_text:
                ready.set()
            if VERBOSE:
                sys.stderr.write('[server] ' + text)
        stream.close()

    def output_tail(self):
        with self.output_lock:
            text = ''.join(self.output)[-4000:]
        if not text:
            return ' (server printed nothing)'
        return '\n--- server output (tail) ---\n%s\n--- end of server output ---' % text

    def died(self):
        """Whether the process has exited without being stopped."""
        return self.proc is not None and not self.stopping and self.proc.poll() is not None

    def check_alive(self):
        if self.died():
            self.death_reported = True
            raise AssertionError('server %s exited unexpectedly (exit status %s)%s'
                                 % (self.what, self.proc.poll(), self.output_tail()))

    def stop(self):
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        self.stopping = True
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP)
            raise AssertionError('server %s did not exit within %.0f s of SIGTERM (killed)%s'
                                 % (self.what, STOP, self.output_tail()))
        finally:
            _running.discard(self)
        if proc.returncode != 0:
            raise AssertionError('server %s exited with status %s on SIGTERM%s'
                                 % (self.what, proc.returncode, self.output_tail()))


def module_fixtures(server):
    """unittest's (setUpModule, tearDownModule) for `server`: started before the tests,
    stopped after them; a death that no test reported fails the run."""

    def set_up_module():
        server.start()

    def tear_down_module():
        died_unseen = server.died() and not server.death_reported
        tail = server.output_tail()
        server.stop()
        if died_unseen:
            raise AssertionError('server %s exited unexpectedly during the tests%s' % (server.what, tail))

    return set_up_module, tear_down_module


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------

def dispatch_in_order(client):
    """Makes a python-socketio Client handle incoming messages in arrival order.

    python-socketio 5.7 / python-engineio 4.3 run the handler of every incoming Engine.IO
    message on a new thread (run_async=True), so two events sent in order may be recorded
    out of order. This makes `client` dispatch them synchronously in its read-loop thread
    instead; the handlers of a Peer only record and never block."""
    eio = client.eio
    original = getattr(eio, '_trigger_event', None)
    if original is None:
        raise RuntimeError('python-engineio internals changed: no Client._trigger_event')

    def in_order(event, *args, **kwargs):
        kwargs['run_async'] = False
        return original(event, *args, **kwargs)
    eio._trigger_event = in_order


def client_tls():
    """socketio.Client arguments that trust the server's test certificate (and no other)
    when the suite runs over TLS. python-engineio 4.3 verifies the WebSocket's certificate
    with the http_session's `verify`; its polling requests pass `verify=True` themselves, so
    requests takes the authorities from REQUESTS_CA_BUNDLE (set at import, below)."""
    if not TLS_CERT:
        return {}
    session = requests.Session()
    session.verify = TLS_CERT
    return {'http_session': session}


if TLS_CERT:
    os.environ['REQUESTS_CA_BUNDLE'] = TLS_CERT


class Peer:
    """A python-socketio client (one Engine.IO connection) of `server` on `namespaces`, that
    records every event it receives, in arrival order: log entries {nsp, event, args, taken}
    (plus what a subclass's _received adds). The namespaces it was disconnected from are in
    `disconnected`."""

    def __init__(self, server, name, namespaces=('/',), transports=('websocket',)):
        self.server = server
        self.transports = list(transports)
        self.name = name
        self.namespaces = list(namespaces)
        self.log = []
        self.cond = threading.Condition()
        self.disconnected = set()
        self.sio = socketio.Client(reconnection=False, handle_sigint=False, request_timeout=WAIT,
                                   **client_tls())
        dispatch_in_order(self.sio)
        for ns in self.namespaces:
            self.sio.on('*', self._catch_all(ns), namespace=ns)
            self.sio.on('disconnect', self._on_disconnect(ns), namespace=ns)

    def _catch_all(self, ns):
        def handler(event, *args):
            return self._received(ns, event, list(args))
        return handler

    def _received(self, ns, event, args, **extra):
        """Records an event; returns the answer to its acknowledgement, if it asks for one."""
        with self.cond:
            self.log.append(dict(nsp=ns, event=event, args=args, taken=False, **extra))
            self.cond.notify_all()

    def _on_disconnect(self, ns):
        def handler():
            with self.cond:
                self.disconnected.add(ns)
                self.cond.notify_all()
        return handler

    def until(self, cond, what):
        """Waits (bounded) until cond() (called under the lock) is truthy; returns it."""
        deadline = time.monotonic() + WAIT
        with self.cond:
            while True:
                v = cond()
                if v:
                    return v
                self.server.check_alive()
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.1))
        raise AssertionError('timed out after %.1f s waiting for %s %s; it received so far: %s'
                             % (WAIT, self.name, what, self.summary()))

    def take(self, match, what):
        """Waits (bounded) for the first not-yet-consumed entry that satisfies `match`;
        consumes it and returns it."""
        def find():
            for e in self.log:
                if not e['taken'] and match(e):
                    e['taken'] = True
                    return e
            return None
        return self.until(find, what)

    def summary(self):
        with self.cond:
            s = '; '.join('%s%s %s' % ('' if e['nsp'] == '/' else e['nsp'] + ' ', e['event'],
                                       json.dumps(e['args'], default=repr)) for e in self.log)
        s = (s[:1500] + '...') if len(s) > 1500 else (s or '(nothing)')
        return s + (' [%s is disconnected from %s]' % (self.name, sorted(self.disconnected))
                    if self.disconnected else '')

    def connect(self):
        """Connects with its transports (websocket only by default) to every namespace,
        waiting (bounded) for them."""
        started = time.monotonic()
        try:
            self.sio.connect(self.server.url, namespaces=self.namespaces,
                             transports=self.transports, wait_timeout=WAIT)
        except Exception as exc:
            self.server.check_alive()
            raise AssertionError('%s: cannot connect to %s over %s (after %.1f s): %r'
                                 % (self.name, self.server.url, self.transports,
                                    time.monotonic() - started, exc))
        if self.transports == ['websocket']:
            self.check_websocket()
        return self

    def check_websocket(self):
        if self.sio.transport() != 'websocket':
            raise AssertionError('%s: transport is %r, not websocket' % (self.name, self.sio.transport()))

    def close(self):
        try:
            if self.sio.connected:
                self.sio.disconnect()
            elif self.sio.eio.state == 'connected':
                self.sio.eio.disconnect(abort=True)
        except Exception:
            pass
