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
dispatch_in_order in harness.py, the shared harness of these tests).
"""

import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ServerProcess, unique  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_SCRIPT = os.path.join(HERE, 'reference', 'quickstart.js')

USE_REFERENCE = os.environ.get('ROOMCAST_REFERENCE') == '1'
SERVER_BINARY = os.environ.get('ROOMCAST_SERVER', '')
THREADS = os.environ.get('ROOMCAST_THREADS', '1')


# ---------------------------------------------------------------------------
# Server process (harness.py)
# ---------------------------------------------------------------------------

def server_command(port):
    if USE_REFERENCE:
        node = shutil.which('node')
        if not node:
            raise RuntimeError('ROOMCAST_REFERENCE=1 needs `node` on PATH')
        return [node, REFERENCE_SCRIPT, '--port', str(port)]
    if SERVER_BINARY:
        if THREADS not in ('1', '2'):
            raise RuntimeError('ROOMCAST_THREADS must be 1 or 2, got %r' % THREADS)
        return [SERVER_BINARY, '--port', str(port), '--threads', THREADS]
    raise RuntimeError('Set ROOMCAST_SERVER=<path of the C++ quickstart binary> '
                       '(optionally ROOMCAST_THREADS=1|2), or ROOMCAST_REFERENCE=1 '
                       'to run against the JavaScript reference.')


SERVER = ServerProcess(server_command)
setUpModule, tearDownModule = harness.module_fixtures(SERVER)


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------

def compact(obj):
    """Serialization as JSON.stringify would print it (keeps key order)."""
    return json.dumps(obj, separators=(',', ':'))


class Peer(harness.Peer):
    """The harness's Peer on "/", for this protocol where every event carries exactly one
    argument: next() and received() give that argument (the payload)."""

    def __init__(self, name):
        super().__init__(SERVER, name)

    def connect(self):
        super().connect()
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
        e = self.take(lambda e: e['event'] == event and e['args'] and pred(e['args'][0]),
                      "to receive '%s'%s" % (event, ' (%s)' % what if what else ''))
        if len(e['args']) != 1:
            raise AssertionError("%s: '%s' must carry exactly one argument, got %s"
                                 % (self.name, event, json.dumps(e['args'])))
        return e['args'][0]


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
        SERVER.check_alive()
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
        SERVER.check_alive()
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
