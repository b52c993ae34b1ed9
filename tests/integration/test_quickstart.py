#!/usr/bin/python3
"""Real-client integration tests of the roomcast "quickstart" example server,
with python-socketio's synchronous client over the websocket transport.

Run (always with Debian's /usr/bin/python3, which sees python3-socketio):

    # against the C++ quickstart binary (N = 1 or 2 I/O threads, default 1)
    ROOMCAST_SERVER=/path/to/quickstart [ROOMCAST_THREADS=N] /usr/bin/python3 tests/integration/test_quickstart.py
    # against the JavaScript reference on the real `socket.io` package
    ROOMCAST_REFERENCE=1 /usr/bin/python3 tests/integration/test_quickstart.py

Optional: ROOMCAST_WAIT_MS (bound of every single wait, default 4000),
ROOMCAST_STARTUP_MS (bound of server start-up, default 10000),
ROOMCAST_VERBOSE=1 (echo the server's output). Extra arguments go to unittest
(e.g. -v, -k leave).

Needs: python3-socketio (5.7) and python3-websocket. With only the websocket
transport, python-socketio does not need `requests` (which is used for
long-polling only).

Negatives ("X does not receive Y") are proven with a marker: the socket that
would have caused Y afterwards sends a message that X does receive. That needs
X to see its events in arrival order; python-socketio 5.7 dispatches every
incoming Engine.IO message on a new thread (so handlers can run out of order),
hence each Peer makes its client dispatch in the read-loop thread (see
Peer._dispatch_in_order).
"""

import atexit
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

import socketio

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_SCRIPT = os.path.join(HERE, 'reference', 'quickstart.js')

USE_REFERENCE = os.environ.get('ROOMCAST_REFERENCE') == '1'
SERVER_BINARY = os.environ.get('ROOMCAST_SERVER', '')
THREADS = os.environ.get('ROOMCAST_THREADS', '1')
WAIT = float(os.environ.get('ROOMCAST_WAIT_MS', '4000')) / 1000.0
STARTUP = float(os.environ.get('ROOMCAST_STARTUP_MS', '10000')) / 1000.0
STOP = 3.0
VERBOSE = os.environ.get('ROOMCAST_VERBOSE') == '1'


# ---------------------------------------------------------------------------
# Server process management
# ---------------------------------------------------------------------------

class Server:
    proc = None
    port = 0
    url = ''
    output = []
    output_lock = threading.Lock()
    stopping = False

    @classmethod
    def describe(cls):
        if USE_REFERENCE:
            return 'JS reference (node %s)' % REFERENCE_SCRIPT
        return '%s --threads %s' % (SERVER_BINARY, THREADS)

    @classmethod
    def output_tail(cls):
        with cls.output_lock:
            text = ''.join(cls.output)[-4000:]
        if not text:
            return ' (server printed nothing)'
        return '\n--- server output (tail) ---\n%s\n--- end of server output ---' % text

    @classmethod
    def check_alive(cls):
        if cls.proc is not None and not cls.stopping:
            rc = cls.proc.poll()
            if rc is not None:
                raise AssertionError('server %s exited unexpectedly (exit status %s)%s'
                                     % (cls.describe(), rc, cls.output_tail()))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _pump(stream):
    for line in iter(stream.readline, b''):
        text = line.decode('utf-8', 'replace')
        with Server.output_lock:
            Server.output.append(text)
            del Server.output[:-200]
        if VERBOSE:
            sys.stderr.write('[server] ' + text)
    stream.close()


def start_server():
    if USE_REFERENCE:
        node = shutil.which('node')
        if not node:
            raise RuntimeError('ROOMCAST_REFERENCE=1 needs `node` on PATH')
        cmd_of = lambda port: [node, REFERENCE_SCRIPT, '--port', str(port)]
    elif SERVER_BINARY:
        if THREADS not in ('1', '2'):
            raise RuntimeError('ROOMCAST_THREADS must be 1 or 2, got %r' % THREADS)
        cmd_of = lambda port: [SERVER_BINARY, '--port', str(port), '--threads', THREADS]
    else:
        raise RuntimeError('Set ROOMCAST_SERVER=<path of the C++ quickstart binary> '
                           '(optionally ROOMCAST_THREADS=1|2), or ROOMCAST_REFERENCE=1 '
                           'to run against the JavaScript reference.')
    Server.port = free_port()
    Server.url = 'http://127.0.0.1:%d' % Server.port
    Server.proc = subprocess.Popen(cmd_of(Server.port), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    threading.Thread(target=_pump, args=(Server.proc.stdout,), daemon=True).start()

    # Readiness: retry a TCP connect, bounded; never a fixed sleep.
    deadline = time.monotonic() + STARTUP
    while True:
        Server.check_alive()
        try:
            with socket.create_connection(('127.0.0.1', Server.port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError('server %s did not accept TCP connections on 127.0.0.1:%d within %.1f s%s'
                                 % (Server.describe(), Server.port, STARTUP, Server.output_tail()))
        time.sleep(0.05)


def stop_server():
    proc = Server.proc
    if proc is None or proc.poll() is not None:
        return
    Server.stopping = True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP)
    except subprocess.TimeoutExpired:
        sys.stderr.write('\nserver did not exit within %.0f s of SIGTERM; sending SIGKILL\n' % STOP)
        proc.kill()
        proc.wait(timeout=STOP)


def _kill_at_exit():
    if Server.proc is not None and Server.proc.poll() is None:
        Server.proc.kill()


atexit.register(_kill_at_exit)


def setUpModule():
    try:
        start_server()
    except BaseException:
        # tearDownModule does not run when setUpModule fails.
        stop_server()
        raise


def tearDownModule():
    died_early = Server.proc is not None and Server.proc.poll() is not None and not Server.stopping
    tail = Server.output_tail()
    stop_server()
    if died_early:
        raise AssertionError('server %s exited unexpectedly during the tests%s' % (Server.describe(), tail))


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------

_counter = itertools.count(1)


def unique(prefix):
    return '%s-%d-%d' % (prefix, os.getpid(), next(_counter))


def compact(obj):
    """Serialization as JSON.stringify would print it (keeps key order)."""
    return json.dumps(obj, separators=(',', ':'))


class Peer:
    """A python-socketio client that records every event it receives."""

    def __init__(self, name):
        self.name = name
        self.log = []           # dicts: event, args, taken
        self.cond = threading.Condition()
        self.disconnected = False
        self.sio = socketio.Client(reconnection=False, handle_sigint=False,
                                   request_timeout=WAIT)
        self._dispatch_in_order()
        self.sio.on('*', self._record)
        self.sio.on('disconnect', self._on_disconnect)

    def _dispatch_in_order(self):
        # python-socketio 5.7 / python-engineio 4.3 run the handler of every incoming
        # Engine.IO message on a new thread (run_async=True), so two events sent in
        # order may be recorded out of order. Dispatch them synchronously in the
        # read-loop thread instead; our handlers only record and never block.
        eio = self.sio.eio
        original = getattr(eio, '_trigger_event', None)
        if original is None:
            raise RuntimeError('python-engineio internals changed: no Client._trigger_event')

        def in_order(event, *args, **kwargs):
            kwargs['run_async'] = False
            return original(event, *args, **kwargs)
        eio._trigger_event = in_order

    def _record(self, event, *args):
        with self.cond:
            self.log.append({'event': event, 'args': list(args), 'taken': False})
            self.cond.notify_all()

    def _on_disconnect(self):
        with self.cond:
            self.disconnected = True
            self.cond.notify_all()

    def connect(self):
        started = time.monotonic()
        try:
            self.sio.connect(Server.url, transports=['websocket'], wait_timeout=WAIT)
        except Exception as exc:
            Server.check_alive()
            raise AssertionError('%s: cannot connect to %s over websocket (after %.1f s): %r'
                                 % (self.name, Server.url, time.monotonic() - started, exc))
        if self.sio.transport() != 'websocket':
            raise AssertionError('%s: transport is %r, not websocket' % (self.name, self.sio.transport()))
        self.id = self.sio.get_sid()
        if not isinstance(self.id, str):
            raise AssertionError('%s has no socket id after connect' % self.name)

    @property
    def connected(self):
        return self.sio.connected and not self.disconnected

    def _check_can_emit(self, event):
        if not self.connected:
            raise AssertionError('%s cannot emit %r: it is disconnected (by the server?); it received: %s'
                                 % (self.name, event, self.summary()))

    def emit(self, event, *args):
        self._check_can_emit(event)
        # python-socketio: a tuple is sent as several arguments; () is no argument.
        self.sio.emit(event, tuple(args) if len(args) != 1 else args[0])

    def emit_no_payload(self, event):
        self._check_can_emit(event)
        self.sio.emit(event)  # data=None -> the event carries no argument

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()

    def summary(self):
        with self.cond:
            s = '; '.join('%s %s' % (e['event'], json.dumps(e['args'])) for e in self.log)
        s = (s[:1500] + '...') if len(s) > 1500 else (s or '(nothing)')
        return s if self.connected else s + ' [%s is disconnected]' % self.name

    def received(self, event, pred=lambda p: True):
        with self.cond:
            return [e['args'][0] for e in self.log
                    if e['event'] == event and e['args'] and pred(e['args'][0])]

    def count(self, event, pred=lambda p: True):
        return len(self.received(event, pred))

    def events(self):
        with self.cond:
            return [e['event'] for e in self.log]

    def next(self, event, pred=lambda p: True, what=''):
        """Waits (bounded) for the first not-yet-consumed `event` whose payload satisfies
        `pred`; consumes it and returns its payload (the single argument)."""
        deadline = time.monotonic() + WAIT
        with self.cond:
            while True:
                for e in self.log:
                    if not e['taken'] and e['event'] == event and e['args'] and pred(e['args'][0]):
                        e['taken'] = True
                        if len(e['args']) != 1:
                            raise AssertionError("%s: '%s' must carry exactly one argument, got %s"
                                                 % (self.name, event, json.dumps(e['args'])))
                        return e['args'][0]
                Server.check_alive()
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.1))
        raise AssertionError("timed out after %.1f s waiting for %s to receive '%s'%s; it received so far: %s"
                             % (WAIT, self.name, event, ' (%s)' % what if what else '', self.summary()))


def is_text(text):
    return lambda p: isinstance(p, dict) and p.get('text') == text


def has_id(sid):
    return lambda p: isinstance(p, dict) and p.get('id') == sid


class QuickstartTest(unittest.TestCase):
    maxDiff = None
    # After every test a fresh client must still get through a join round trip; once
    # that fails, every later test fails at once instead of running into its own
    # timeouts (keeps a hung server's run short).
    unresponsive = None

    def setUp(self):
        Server.check_alive()
        if QuickstartTest.unresponsive:
            self.fail('not run: the server stopped responding in an earlier test (%s)'
                      % QuickstartTest.unresponsive)
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            try:
                p.close()
            except Exception:
                pass
        Server.check_alive()
        if not QuickstartTest.unresponsive:
            self.probe_server()

    def probe_server(self):
        probe = Peer('probe')
        try:
            probe.connect()
            room = unique('probe')
            probe.emit('joinRoom', {'roomName': room, 'userName': 'probe'})
            probe.next('roomJoined', lambda p: p.get('roomName') == room, 'liveness probe')
        except AssertionError as exc:
            QuickstartTest.unresponsive = str(exc)[:300]
            raise AssertionError('server no longer serves a fresh client: %s' % exc)
        finally:
            probe.close()

    def connect(self, *names):
        peers = []
        for name in names:
            if QuickstartTest.unresponsive:
                self.fail('the server stopped responding (%s)' % QuickstartTest.unresponsive)
            p = Peer(name)
            self.peers.append(p)
            try:
                p.connect()
            except AssertionError as exc:
                QuickstartTest.unresponsive = str(exc)[:300]
                raise
            peers.append(p)
        return peers

    def join(self, peer, room, user_name=None):
        peer.emit('joinRoom', {'roomName': room, 'userName': user_name or peer.name})
        ack = peer.next('roomJoined', lambda p: p.get('roomName') == room, 'join of ' + room)
        self.assertEqual(ack, {'roomName': room})

    def marker(self, sender, room, receivers):
        text = unique('marker')
        sender.emit('message', {'roomName': room, 'text': text})
        for r in receivers:
            r.next('message', is_text(text), 'marker %s in %s' % (text, room))
        return text

    # --- join -----------------------------------------------------------------

    def test_join(self):
        room = unique('join')
        alice, bob = self.connect('alice', 'bob')

        alice.emit('joinRoom', {'roomName': room, 'userName': 'alice'})
        self_joined = alice.next('userJoined')
        self.assertEqual(self_joined, {'userName': 'alice', 'id': alice.id})
        self.assertEqual(compact(self_joined), '{"userName":"alice","id":%s}' % json.dumps(alice.id),
                         'key order of userJoined must be userName, id')
        ack = alice.next('roomJoined')
        self.assertEqual(ack, {'roomName': room})
        self.assertEqual(alice.events(), ['userJoined', 'roomJoined'],
                         'joiner must receive userJoined before roomJoined')

        bob.emit('joinRoom', {'roomName': room, 'userName': 'bob'})
        self.assertEqual(bob.next('userJoined'), {'userName': 'bob', 'id': bob.id})
        self.assertEqual(bob.next('roomJoined'), {'roomName': room})
        self.assertEqual(alice.next('userJoined'), {'userName': 'bob', 'id': bob.id})
        self.assertNotEqual(alice.id, bob.id)

        self.marker(bob, room, [alice, bob])
        self.assertEqual(alice.events(), ['userJoined', 'roomJoined', 'userJoined', 'message'])
        self.assertEqual(bob.events(), ['userJoined', 'roomJoined', 'message'])

    def test_missing_user_name(self):
        room = unique('anon')
        member, anon = self.connect('member', 'anon')
        self.join(member, room)
        anon.emit('joinRoom', {'roomName': room})
        self_joined = anon.next('userJoined')
        self.assertEqual(self_joined, {'id': anon.id})
        self.assertNotIn('userName', self_joined)
        self.assertEqual(member.next('userJoined', has_id(anon.id)), {'id': anon.id})

    # --- broadcast --------------------------------------------------------------

    def test_broadcast(self):
        room = unique('chat')
        other = unique('other')
        a, b, c, outsider, pub = self.connect('a', 'b', 'c', 'outsider', 'publisher')
        for p in (a, b, c):
            self.join(p, room)
        self.join(outsider, other)
        self.join(pub, other)

        a.emit('message', {'roomName': room, 'text': 'hello room'})
        for p in (a, b, c):
            msg = p.next('message', is_text('hello room'))
            self.assertEqual(msg, {'text': 'hello room', 'sender': a.id})
            self.assertEqual(compact(msg), '{"text":"hello room","sender":%s}' % json.dumps(a.id))

        # A non-member can publish to the room; it does not receive its own message.
        pub.emit('message', {'roomName': room, 'text': 'from outside'})
        for p in (a, b, c):
            self.assertEqual(p.next('message', is_text('from outside')),
                             {'text': 'from outside', 'sender': pub.id})

        self.marker(a, room, [a, b, c])
        self.marker(a, other, [outsider, pub])
        self.marker(pub, other, [outsider, pub])
        for p in (a, b, c):
            self.assertEqual(p.count('message', is_text('hello room')), 1, p.name + ' got the message once')
            self.assertEqual(p.count('message', is_text('from outside')), 1)
        for p in (outsider, pub):
            self.assertEqual(p.count('message', is_text('hello room')), 0, p.name + ' got a room message')
            self.assertEqual(p.count('message', is_text('from outside')), 0, p.name + ' got a room message')

    # --- isolation --------------------------------------------------------------

    def test_room_isolation(self):
        room_a = unique('A')
        room_b = unique('B')
        a1, a2, b1, b2 = self.connect('a1', 'a2', 'b1', 'b2')
        self.join(b1, room_b)
        self.join(b2, room_b)
        self.join(a1, room_a)
        self.join(a2, room_a)
        a1.emit('message', {'roomName': room_a, 'text': 'secret of A'})
        for p in (a1, a2):
            p.next('message', is_text('secret of A'))
        self.marker(a1, room_b, [b1, b2])
        self.marker(a2, room_b, [b1, b2])
        for p in (b1, b2):
            self.assertEqual(p.count('message', is_text('secret of A')), 0, p.name + ' got a room-A message')
            self.assertEqual(p.count('userJoined', lambda m: m.get('id') in (a1.id, a2.id)), 0,
                             p.name + ' got a room-A userJoined')

    # --- leave ------------------------------------------------------------------

    def test_leave(self):
        room = unique('leave')
        keep = unique('keep')
        a, b, c = self.connect('a', 'b', 'carol')
        self.join(a, room)
        self.join(b, room)
        self.join(c, room)
        self.join(c, keep)

        c.emit('leaveRoom', {'roomName': room, 'userName': 'carol'})
        self.assertEqual(c.next('roomLeft'), {'roomName': room})
        for p in (a, b):
            left = p.next('userLeft')
            self.assertEqual(left, {'userName': 'carol', 'id': c.id})
            self.assertEqual(compact(left), '{"userName":"carol","id":%s}' % json.dumps(c.id))

        a.emit('message', {'roomName': room, 'text': 'after carol left'})
        for p in (a, b):
            p.next('message', is_text('after carol left'))
        self.marker(a, keep, [c])
        self.assertEqual(c.count('userLeft'), 0, 'the leaver must not get its own userLeft')
        self.assertEqual(c.count('message', is_text('after carol left')), 0,
                         'the leaver still gets room messages')

    # --- disconnect cleanup -----------------------------------------------------

    def test_disconnect_cleanup(self):
        r1 = unique('r1')
        r2 = unique('r2')
        x, m1, m2, m12 = self.connect('x', 'm1', 'm2', 'm12')
        self.join(m1, r1)
        self.join(m12, r1)
        self.join(m2, r2)
        self.join(m12, r2)
        self.join(x, r1)
        self.join(x, r2)
        xid = x.id

        x.close()
        l1 = m1.next('userLeft')
        self.assertEqual(l1, {'id': xid})
        self.assertEqual(compact(l1), '{"id":%s}' % json.dumps(xid))
        self.assertEqual(m2.next('userLeft'), {'id': xid})
        self.assertEqual(m12.next('userLeft'), {'id': xid})
        self.assertEqual(m12.next('userLeft'), {'id': xid}, 'member of both rooms gets one userLeft per room')

        self.marker(m1, r1, [m1, m12])
        self.marker(m2, r2, [m2, m12])
        self.assertEqual(m1.count('userLeft'), 1, 'm1: userLeft exactly once')
        self.assertEqual(m2.count('userLeft'), 1, 'm2: userLeft exactly once')
        self.assertEqual(m12.count('userLeft'), 2, 'm12: userLeft exactly once per room')

        m1.emit('message', {'roomName': r1, 'text': 'after x left'})
        for p in (m1, m12):
            self.assertEqual(p.next('message', is_text('after x left')), {'text': 'after x left', 'sender': m1.id})
        self.assertEqual(x.count('message', is_text('after x left')), 0)
        late, = self.connect('late')
        self.join(late, r1)
        self.assertEqual(m1.next('userJoined', has_id(late.id)), {'userName': 'late', 'id': late.id})

    # --- bad payloads (C++ server only: the JS reference crashes on these) ------

    @unittest.skipIf(USE_REFERENCE, 'the JS reference crashes on malformed payloads')
    def test_bad_payloads(self):
        cases = [
            ('joinRoom', 'no payload', None),
            ('joinRoom', 'a string', lambda room: room),
            ('joinRoom', 'a number as roomName', lambda room: {'roomName': 5, 'userName': 'x'}),
            ('joinRoom', 'a number as userName', lambda room: {'roomName': room, 'userName': 5}),
            ('leaveRoom', 'a number as userName', lambda room: {'roomName': room, 'userName': 5}),
            ('message', 'an array', lambda room: [room, 'hi']),
        ]
        for event, label, make in cases:
            with self.subTest(event=event, payload=label):
                room = unique('bad')
                bad, m1 = self.connect('bad', 'm1')
                self.join(m1, room)
                if make is None:
                    bad.emit_no_payload(event)
                else:
                    bad.emit(event, make(room))
                err = bad.next('error', what='error answer to %s with %s' % (event, label))
                self.assertIsInstance(err, dict, 'error argument must be an object')
                self.assertIsInstance(err.get('message'), str, 'error must have a string message')
                self.assertIn(event, err['message'], 'error message must name the event')
                self.assertTrue(bad.connected, 'the offending socket was disconnected')

                before = self.marker(m1, room, [m1])
                self.join(bad, room)
                self.assertEqual(m1.next('userJoined', has_id(bad.id)), {'userName': 'bad', 'id': bad.id})
                self.marker(bad, room, [bad, m1])
                self.assertTrue(bad.connected)
                self.assertEqual(bad.count('error'), 1, 'exactly one error for one bad packet')
                self.assertEqual(bad.count('roomJoined'), 1, 'the bad packet must not be acknowledged')
                # Delivered to the room before bad's valid join: bad must not have been in it.
                self.assertEqual(bad.count('message', is_text(before)), 0,
                                 'the bad packet must not make the socket join')
                self.assertEqual(m1.count('error'), 0, 'm1 got an error meant for another socket')
                self.assertEqual(m1.count('userLeft'), 0, 'the bad packet must not broadcast userLeft')
                self.assertEqual(m1.count('userJoined', has_id(bad.id)), 1, 'only the valid join is broadcast')
                self.assertEqual(m1.count('message', lambda m: m.get('sender') == bad.id), 1,
                                 'the bad packet must not broadcast a message')
                bad.close()
                m1.close()


if __name__ == '__main__':
    unittest.main()
