#!/usr/bin/python3
"""Real-client integration tests of the Socket.IO server features of roomcast, with
python-socketio's synchronous client over the websocket transport, against the test server
tests/integration/features_server.cpp (its header lists the events it exposes).

Run (always with Debian's /usr/bin/python3, which sees python3-socketio 5.7):

    ROOMCAST_SERVER=/path/to/features_server [ROOMCAST_THREADS=1|2] /usr/bin/python3 tests/integration/test_features.py

Optional: ROOMCAST_WAIT_MS (bound of every single wait, default 4000),
ROOMCAST_STARTUP_MS (bound of server start-up, default 10000),
ROOMCAST_VERBOSE=1 (echo the server's output). Extra arguments go to unittest.

Conventions, as in test_quickstart.py: every client records every event it receives, in
arrival order (python-socketio 5.7 dispatches each message on a new thread; each Peer makes
it dispatch in the read-loop thread); every wait is bounded and fails at once if the server
exits; negatives are proven with markers. If the server dies, the running test fails with
its output and the next test starts a fresh server.

python-socketio 5.7 has no public way to leave a server's acknowledgement unanswered (it
acks every event that asks, with the handler's return value) nor to leave one namespace of
a connection; the Peer does both through the client's packet methods, marked below.
"""

import json
import os
import sys
import time
import unittest

import socketio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import WAIT, ServerProcess, unique  # noqa: E402

SERVER_BINARY = os.environ.get('ROOMCAST_SERVER', '')
THREADS = os.environ.get('ROOMCAST_THREADS', '1')


# ---------------------------------------------------------------------------
# Server process (harness.py)
# ---------------------------------------------------------------------------

def server_command(port):
    if not SERVER_BINARY:
        raise RuntimeError('Set ROOMCAST_SERVER=<path of the features_server binary> '
                           '(optionally ROOMCAST_THREADS=1|2)')
    if THREADS not in ('1', '2'):
        raise RuntimeError('ROOMCAST_THREADS must be 1 or 2, got %r' % THREADS)
    return [SERVER_BINARY, '--port', str(port), '--threads', THREADS]


# Readiness: the server prints this line once it listens; never a fixed sleep.
SERVER = ServerProcess(server_command, ready_line=lambda port: 'features listening on port %d' % port)
setUpModule, tearDownModule = harness.module_fixtures(SERVER)


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------

NO_ANSWER = object()  # in Peer.answers: leave the server's acknowledgement unanswered


class Peer(harness.Peer):
    """The harness's Peer (one Engine.IO connection) on one or more namespaces, with `auth`;
    log entries have an ack_id too (see _allow_unanswered). Predicates get the argument list;
    next() and received() give argument lists."""

    def __init__(self, name, namespaces=('/',), auth=None):
        super().__init__(SERVER, name, namespaces)
        self.auth = auth
        self.outcome = {}        # nsp -> ('connect', None) or ('connect_error', data)
        # (nsp, event) -> function(*args) returning the reply's argument list, or NO_ANSWER
        self.answers = {}
        self._allow_unanswered()
        for ns in self.namespaces:
            self.sio.on('connect', self._on(ns, 'connect'), namespace=ns)
            self.sio.on('connect_error', self._on(ns, 'connect_error'), namespace=ns)

    def _allow_unanswered(self):
        # python-socketio 5.7 answers every event that asks for an acknowledgement. For events
        # whose answer is NO_ANSWER, hand the event over without its id (so no ACK is sent)
        # and keep the id in the log, for a late answer (answer_late).
        original = getattr(self.sio, '_handle_event', None)
        if original is None:
            raise RuntimeError('python-socketio internals changed: no Client._handle_event')

        def handle_event(namespace, id, data):
            ns = namespace or '/'
            if id is not None and self.answers.get((ns, data[0])) is NO_ANSWER:
                self._held_id = id
                id = None
            return original(namespace, id, data)
        self._held_id = None
        self.sio._handle_event = handle_event

    def _received(self, ns, event, args):
        answer = self.answers.get((ns, event))
        held, self._held_id = self._held_id, None
        super()._received(ns, event, args, ack_id=held)
        if answer is None or answer is NO_ANSWER:
            return None
        return tuple(answer(*args))  # a tuple: one ACK argument per element

    def _on(self, ns, what):
        def handler(*args):
            with self.cond:
                self.outcome.setdefault(ns, (what, args[0] if args else None))
                self.cond.notify_all()
        return handler

    # --- waiting ---------------------------------------------------------------------

    def next_entry(self, event, pred=lambda args: True, ns='/', what=''):
        return self.take(lambda e: e['nsp'] == ns and e['event'] == event and pred(e['args']),
                         "to receive '%s' on %s%s" % (event, ns, ' (%s)' % what if what else ''))

    def next(self, event, pred=lambda args: True, ns='/', what=''):
        """The argument list of the first not-yet-consumed `event` matching `pred`."""
        return self.next_entry(event, pred, ns, what)['args']

    def received(self, event, pred=lambda args: True, ns='/'):
        with self.cond:
            return [e['args'] for e in self.log
                    if e['nsp'] == ns and e['event'] == event and pred(e['args'])]

    def count(self, event, pred=lambda args: True, ns='/'):
        return len(self.received(event, pred, ns))

    # --- connecting ----------------------------------------------------------------------

    def open(self):
        """Opens the connection and asks for every namespace; waits for no answer."""
        try:
            # wait=False: python-socketio would otherwise wait its full wait_timeout for a
            # refused namespace; outcomes are awaited (bounded) per namespace instead.
            self.sio.connect(self.server.url, transports=['websocket'], namespaces=self.namespaces,
                             auth=self.auth, wait=False)
        except Exception as exc:
            self.server.check_alive()
            raise AssertionError('%s: cannot connect to %s over websocket: %r' % (self.name, self.server.url, exc))
        self.check_websocket()
        return self

    def wait_outcome(self, ns):
        return self.until(lambda: self.outcome.get(ns), 'the outcome of connecting to %s' % ns)

    def connect(self):
        self.open()
        for ns in self.namespaces:
            what, data = self.wait_outcome(ns)
            if what != 'connect':
                raise AssertionError('%s: connect_error on %s: %r' % (self.name, ns, data))
        return self

    def sid(self, ns='/'):
        sid = self.sio.get_sid(ns)
        if not isinstance(sid, str):
            raise AssertionError('%s has no socket id on %s' % (self.name, ns))
        return sid

    @property
    def id(self):
        return self.sid('/')

    def connected(self, ns='/'):
        return self.sio.connected and ns in self.sio.namespaces and ns not in self.disconnected

    def wait_disconnect(self, ns='/'):
        return self.until(lambda: ns in self.disconnected, 'to be disconnected from %s' % ns)

    def leave_namespace(self, ns):
        # python-socketio 5.7 can only disconnect every namespace at once; this is the
        # DISCONNECT packet a newer client sends for one namespace.
        self.sio._send_packet(self.sio.packet_class(socketio.packet.DISCONNECT, namespace=ns))
        del self.sio.namespaces[ns]

    # --- sending ---------------------------------------------------------------------------

    def emit(self, event, *args, ns='/'):
        if not self.connected(ns):
            raise AssertionError('%s cannot emit %r on %s: not connected; it received: %s'
                                 % (self.name, event, ns, self.summary()))
        # python-socketio: a tuple is sent as several arguments; None is no argument.
        self.sio.emit(event, tuple(args) if len(args) != 1 else args[0], namespace=ns)

    def call(self, event, *args, ns='/'):
        """Emits with an acknowledgement; returns the answer's argument list."""
        if not self.connected(ns):
            raise AssertionError('%s cannot call %r on %s: not connected; it received: %s'
                                 % (self.name, event, ns, self.summary()))
        box = []

        def callback(*reply):
            with self.cond:
                box.append(list(reply))
                self.cond.notify_all()
        data = tuple(args) if len(args) != 1 else args[0]
        self.sio.emit(event, data, namespace=ns, callback=callback)
        return self.until(lambda: box[0] if box else None,
                          "to get the acknowledgement of '%s' %s" % (event, json.dumps(args, default=repr)))

    def answer_late(self, ns, ack_id, *reply):
        self.sio._send_packet(self.sio.packet_class(socketio.packet.ACK, namespace=ns, id=ack_id,
                                                    data=list(reply)))


def by_id(items):
    return sorted(items, key=lambda x: x['id'])


class FeaturesTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if SERVER.died():
            # An earlier test crashed the server (and failed for it): start a fresh one.
            sys.stderr.write('\n(server died in an earlier test: exit status %s; restarting it)\n'
                             % SERVER.proc.poll())
            SERVER.start()
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.close()
        if not SERVER.death_reported:  # a death the test itself did not see
            SERVER.check_alive()

    def peer(self, name, namespaces=('/',), auth=None):
        p = Peer(name, namespaces, auth)
        self.peers.append(p)
        return p

    def connect(self, *names):
        """Connects peers on "/", one after the other (consecutive connections: with two
        threads they alternate shards)."""
        return [self.peer(n).connect() for n in names]

    def join(self, p, room, ns='/'):
        rooms = p.call('join', room, ns=ns)
        self.assertEqual(rooms, [[p.sid(ns), room]])

    def bcast(self, sender, room, event, data, nsp=None, ns='/'):
        req = {'room': room, 'event': event, 'data': data}
        if nsp:
            req['nsp'] = nsp
        self.assertEqual(sender.call('bcast', req, ns=ns), [True])

    def refused(self, p, ns):
        p.open()
        what, data = p.wait_outcome(ns)
        self.assertEqual(what, 'connect_error', '%s: connecting to %s must be refused' % (p.name, ns))
        return data

    # --- 1. namespaces ---------------------------------------------------------------------

    def test_namespaces_multiplexed(self):
        p = self.peer('both', ('/', '/admin')).connect()
        self.assertNotEqual(p.sid('/'), p.sid('/admin'), 'each namespace has its own socket id')
        self.assertEqual(p.call('whoami'), [{'nsp': '/', 'id': p.sid('/')}])
        self.assertEqual(p.call('whoami', ns='/admin'), [{'nsp': '/admin', 'id': p.sid('/admin'), 'admin': True}])
        self.assertEqual(p.call('join', 'r', ns='/admin'), [[p.sid('/admin'), 'r']])
        self.assertEqual(p.call('join', 'r'), [[p.sid('/'), 'r']])

    def test_namespaces_rooms_are_separate(self):
        room = unique('r')
        both = self.peer('both', ('/', '/admin')).connect()
        main_member, = self.connect('mainMember')
        admin_member = self.peer('adminMember', ('/admin',)).connect()
        self.join(both, room, ns='/admin')  # its "/" socket stays out of "/" room r
        self.join(main_member, room)
        self.join(admin_member, room, ns='/admin')

        self.bcast(main_member, room, 'msg', 'main-r')
        self.assertEqual(main_member.next('msg'), ['main-r'])
        self.bcast(main_member, room, 'msg', 'admin-marker', nsp='/admin')
        for p in (both, admin_member):
            self.assertEqual(p.next('msg', ns='/admin'), ['admin-marker'])

        self.bcast(admin_member, room, 'msg', 'admin-r', ns='/admin')
        for p in (both, admin_member):
            self.assertEqual(p.next('msg', ns='/admin'), ['admin-r'])
        self.bcast(admin_member, room, 'msg', 'main-marker', nsp='/', ns='/admin')
        self.assertEqual(main_member.next('msg'), ['main-marker'])

        self.assertEqual(main_member.received('msg'), [['main-r'], ['main-marker']],
                         'a "/" member got a /admin broadcast')
        for p in (both, admin_member):
            self.assertEqual(p.received('msg', ns='/admin'), [['admin-marker'], ['admin-r']],
                             p.name + ' got a "/" broadcast on /admin')
        self.assertEqual(both.received('msg'), [], 'a "/" socket not in "/" room r got a broadcast')

    def test_namespaces_leave_one_keep_other(self):
        p = self.peer('both', ('/', '/admin')).connect()
        admin_id = p.sid('/admin')
        p.leave_namespace('/admin')
        # Same connection, processed in order: the /admin DISCONNECT is handled before these.
        self.assertEqual(p.call('count', {'nsp': '/admin', 'room': admin_id}), [0])
        self.assertEqual(p.call('count', {'room': p.id}), [1])
        self.assertEqual(p.call('echo', {'still': 'here'}), [{'still': 'here'}])
        self.assertEqual(p.call('whoami'), [{'nsp': '/', 'id': p.id}])

    def test_namespaces_invalid(self):
        self.assertEqual(self.refused(self.peer('nope', ('/nope',)), '/nope'),
                         {'message': 'Invalid namespace'})
        # On a multiplexed connection the refusal does not disturb the other namespace.
        p = self.peer('mixed', ('/', '/admin2'))
        self.assertEqual(self.refused(p, '/admin2'), {'message': 'Invalid namespace'})
        self.assertEqual(p.wait_outcome('/'), ('connect', None))
        self.assertEqual(p.call('echo', 1), [1])

    # --- 2. connection middleware (auth) ------------------------------------------------------

    def test_auth_accepted(self):
        p = self.peer('authorized', ('/secure',), auth={'token': 'let-me-in'}).connect()
        self.assertEqual(p.call('whoami', ns='/secure'),
                         [{'user': 'alice', 'auth': {'token': 'let-me-in'}}])

    def test_auth_refused(self):
        for label, auth in (('a wrong token', {'token': 'guess'}), ('no auth', None),
                            ('a number token', {'token': 401})):
            with self.subTest(auth=label):
                p = self.peer('intruder', ('/secure',), auth=auth)
                self.assertEqual(self.refused(p, '/secure'),
                                 {'message': 'not authorized', 'data': {'code': 401}})
                p.close()

    def test_auth_guards_secure_only(self):
        p = self.peer('mixed', ('/', '/secure'))
        self.assertEqual(self.refused(p, '/secure'), {'message': 'not authorized', 'data': {'code': 401}})
        self.assertEqual(p.wait_outcome('/'), ('connect', None))
        self.assertEqual(p.call('echo', 'ok'), ['ok'])

    # --- 3. acknowledgements -------------------------------------------------------------------

    def test_ack_client_to_server(self):
        a, = self.connect('a')
        v = {'s': 'x', 'n': 1.5, 'b': False, 'z': None, 'arr': [1, 'two', {'three': 3}]}
        self.assertEqual(a.call('echo', v), [v])
        self.assertEqual(a.call('pair', 'word', 7), [7, 'word'])

    def test_ack_server_to_client_answered(self):
        a, = self.connect('a')
        a.answers[('/', 'ask')] = lambda q: ['answer to ' + q, 42]
        a.emit('askMe', {'question': 'q1', 'timeoutMs': int(WAIT * 1000)})
        self.assertEqual(a.next('ask'), ['q1'])
        self.assertEqual(a.next('result'), [{'reply': ['answer to q1', 42]}])

    def test_ack_server_to_client_timeout(self):
        a, = self.connect('a')
        a.answers[('/', 'ask')] = NO_ANSWER
        started = time.monotonic()
        a.emit('askMe', {'question': 'q2', 'timeoutMs': 300})
        ask = a.next_entry('ask')
        self.assertEqual(ask['args'], ['q2'])
        self.assertIsNotNone(ask['ack_id'], 'the server must ask for an acknowledgement')
        self.assertEqual(a.next('result'), [{'error': 'operation has timed out', 'code': 'timeout'}])
        self.assertGreaterEqual(time.monotonic() - started, 0.299, 'the timeout fired early')
        a.answer_late('/', ask['ack_id'], 'too late')
        self.assertEqual(a.call('echo', 'marker'), ['marker'])
        self.assertEqual(a.count('result'), 1, 'a late answer must not produce a second result')

    def test_ack_conversion_error(self):
        a, = self.connect('a')
        message = 'event "slowDouble": argument 1: value: expected integer, got string'
        self.assertEqual(a.call('slowDouble', 'x'), [{'error': message}])
        self.assertEqual(a.next('error'), [{'message': message}])

    # --- 4. binary -------------------------------------------------------------------------------

    def test_binary_single(self):
        a, = self.connect('a')
        self.assertEqual(a.call('binSingle', bytes([0, 1, 2, 255])), [4])
        self.assertEqual(a.next('bin'), ['single', bytes([255, 2, 1, 0])])

    def test_binary_in_object(self):
        a, = self.connect('a')
        reply = a.call('binObject', {'name': 'file.bin', 'data': bytes([1, 2, 3]),
                                     'parts': [bytes([9]), b'', bytes([7, 8])]})
        self.assertEqual(reply, [{'name': 'file.bin', 'size': 3, 'partSizes': [1, 0, 2]}])
        label, obj = a.next('bin')
        self.assertEqual(label, 'object')
        self.assertEqual(list(obj), ['name', 'data', 'parts'])
        self.assertEqual(obj, {'name': 'file.bin', 'data': bytes([3, 2, 1]),
                               'parts': [bytes([9]), b'', bytes([8, 7])]})

    def test_binary_in_array(self):
        a, = self.connect('a')
        self.assertEqual(a.call('binArray', [bytes([1, 2]), bytes([0]), bytes([5, 6, 7])]), [[2, 1, 3]])
        self.assertEqual(a.next('bin'), ['array', [bytes([2, 1]), bytes([0]), bytes([7, 6, 5])]])

    def test_binary_ack(self):
        a, = self.connect('a')
        self.assertEqual(a.call('binAck', 'héllo'), ['héllo'.encode('utf-8')])

    def test_binary_expected_but_string(self):
        a, = self.connect('a')
        message = 'event "binSingle": argument 1: value: expected binary, got string'
        self.assertEqual(a.call('binSingle', 'not bytes'), [{'error': message}])
        self.assertEqual(a.next('error'), [{'message': message}])
        self.assertEqual(a.call('binSingle', b'\x01'), [1])

    # --- 5. volatile -----------------------------------------------------------------------------

    def test_volatile(self):
        room = unique('vol')
        idle, sender = self.connect('idle', 'sender')
        self.join(idle, room)
        self.assertEqual(sender.call('volatileTo', {'room': room, 'data': {'n': 1, 's': 'v'}}), [True])
        self.assertEqual(idle.next('vol'), [{'n': 1, 's': 'v'}])
        self.assertEqual(sender.count('vol'), 0)

    # --- 6. server-side utilities across shards --------------------------------------------------

    def test_shards_alternate(self):
        a, b = self.connect('a', 'b')
        ta, = a.call('thread')
        tb, = b.call('thread')
        self.assertIsInstance(ta, int)
        self.assertIsInstance(tb, int)
        if THREADS == '2':
            self.assertNotEqual(ta, tb, 'consecutive connections must alternate shards')
        else:
            self.assertEqual(ta, tb)

    def test_fetch_sockets(self):
        room = unique('fetch')
        a, b, c = self.connect('a', 'b', 'c')
        self.join(a, room)
        self.join(b, room)
        self.assertEqual(a.call('setData', {'who': 'a', 'n': 1}), [True])
        self.assertEqual(b.call('setData', ['b']), [True])
        expected = by_id([{'id': a.id, 'rooms': [a.id, room], 'data': {'who': 'a', 'n': 1}},
                          {'id': b.id, 'rooms': [b.id, room], 'data': ['b']}])
        self.assertEqual(c.call('fetch', room), [expected])
        self.assertEqual(c.call('fetch', unique('empty')), [[]])

    def test_remote_socket(self):
        room = unique('remote')
        target = unique('target')
        a, b, c = self.connect('a', 'b', 'c')
        self.join(a, room)
        self.join(b, room)

        self.assertEqual(c.call('remote', {'room': room, 'action': 'emit', 'event': 'remoteHello',
                                           'data': {'x': 1}}), [2])
        for p in (a, b):
            self.assertEqual(p.next('remoteHello'), [{'x': 1}])

        self.assertEqual(c.call('remote', {'room': room, 'action': 'join', 'target': target}), [2])
        self.bcast(c, target, 'inTarget', 't1')
        for p in (a, b):
            self.assertEqual(p.next('inTarget'), ['t1'])
        self.assertEqual(c.call('count', {'room': target}), [2])

        self.assertEqual(c.call('remote', {'room': room, 'action': 'leave', 'target': target}), [2])
        self.assertEqual(c.call('count', {'room': target}), [0])
        self.bcast(c, target, 'inTarget', 't2')
        self.bcast(c, room, 'marker', 'm1')
        for p in (a, b):
            self.assertEqual(p.next('marker'), ['m1'])
            self.assertEqual(p.received('inTarget'), [['t1']], p.name + ' got a broadcast to the room it left')
            self.assertEqual(p.received('remoteHello'), [[{'x': 1}]], p.name + ' got remoteHello twice')

        self.assertEqual(c.call('remote', {'room': room, 'action': 'disconnect'}), [2])
        for p in (a, b):
            p.wait_disconnect()
        self.assertEqual(c.call('count', {'room': room}), [0])
        self.assertTrue(c.connected())

    def test_sockets_join_leave(self):
        room = unique('sj')
        target = room + '-t'
        a, b, c = self.connect('a', 'b', 'c')
        self.join(a, room)
        self.join(b, room)
        self.assertEqual(c.call('socketsJoin', {'room': room, 'target': target}), [True])
        self.bcast(c, target, 'inTarget', 'joined')
        for p in (a, b):
            self.assertEqual(p.next('inTarget'), ['joined'])
        self.assertEqual(c.call('count', {'room': target}), [2])
        self.assertEqual(c.call('allRooms', room), [[{'name': room, 'size': 2}, {'name': target, 'size': 2}]])

        self.assertEqual(c.call('socketsLeave', {'room': room, 'target': target}), [True])
        self.assertEqual(c.call('count', {'room': target}), [0])
        self.assertEqual(c.call('allRooms', room), [[{'name': room, 'size': 2}]])
        self.bcast(c, target, 'inTarget', 'after leave')
        self.bcast(c, room, 'marker', 'm')
        for p in (a, b):
            self.assertEqual(p.next('marker'), ['m'])
            self.assertEqual(p.received('inTarget'), [['joined']], p.name + ' got a broadcast after sockets_leave')

    def test_disconnect_sockets(self):
        room = unique('ds')
        a, b, c = self.connect('a', 'b', 'c')
        self.join(a, room)
        self.join(b, room)
        self.assertEqual(c.call('disconnectSockets', room), [True])
        for p in (a, b):
            p.wait_disconnect()
        self.assertEqual(c.call('count', {'room': room}), [0])
        self.assertEqual(c.call('echo', 'alive'), ['alive'])
        self.assertTrue(c.connected())

    def test_count_and_all_rooms(self):
        prefix = unique('ar')
        a, b, c = self.connect('a', 'b', 'c')
        self.join(a, prefix + '-1')
        self.assertEqual(a.call('join', prefix + '-2'), [[a.id, prefix + '-1', prefix + '-2']])
        self.join(b, prefix + '-2')
        self.assertEqual(c.call('count', {'room': prefix + '-1'}), [1])
        self.assertEqual(c.call('count', {'room': prefix + '-2'}), [2])
        self.assertEqual(c.call('count', {'room': prefix + '-none'}), [0])
        self.assertEqual(c.call('allRooms', prefix),
                         [[{'name': prefix + '-1', 'size': 1}, {'name': prefix + '-2', 'size': 2}]])
        self.assertEqual(c.call('allRooms', a.id), [[{'name': a.id, 'size': 1}]])
        self.assertEqual(a.call('leave', prefix + '-2'), [[a.id, prefix + '-1']])
        self.assertEqual(c.call('allRooms', prefix),
                         [[{'name': prefix + '-1', 'size': 1}, {'name': prefix + '-2', 'size': 1}]])

    # --- 7. catch-alls -----------------------------------------------------------------------------

    def test_catch_alls(self):
        spy = self.peer('spy', ('/spy',)).connect()
        spy.answers[('/spy', 'spyAsk')] = lambda x: ['A:' + x]
        spy.emit('ping', 1, ns='/spy')
        self.assertEqual(spy.next('pong', ns='/spy'), [1])
        spy.emit('shoutMe', 'hey', ns='/spy')
        self.assertEqual(spy.next('shouted', ns='/spy'), ['hey'])
        spy.emit('nohandler', 'a', 2, ns='/spy')
        spy.emit('askBack', 'q', ns='/spy')
        self.assertEqual(spy.next('spyAsk', ns='/spy'), ['q'])
        self.assertEqual(spy.next('spyAnswer', ns='/spy'), ['A:q'])
        self.assertEqual(spy.call('report', ns='/spy'), [{
            'in': [['ping', 1], ['shoutMe', 'hey'], ['nohandler', 'a', 2], ['askBack', 'q'], ['report']],
            'out': [['pong', 1], ['shouted', 'hey'], ['spyAsk', 'q'], ['spyAnswer', 'A:q']],
        }])

    # --- 8. packet middleware -------------------------------------------------------------------

    def test_packet_middleware_refuses(self):
        g = self.peer('guarded', ('/guarded',)).connect()
        g.emit('forbidden', 'x', ns='/guarded')
        self.assertEqual(g.next('error', ns='/guarded'), [{'message': 'forbidden event', 'event': 'forbidden'}])
        self.assertEqual(g.call('allowed', {'v': 1}, ns='/guarded'), [{'v': 1}])
        self.assertEqual(g.count('ranForbidden', ns='/guarded'), 0, 'the handler of a refused event ran')
        # With an acknowledgement asked: refused all the same, never answered.
        answered = []
        g.sio.emit('forbidden', 'y', namespace='/guarded', callback=lambda *a: answered.append(a))
        self.assertEqual(g.next('error', ns='/guarded'), [{'message': 'forbidden event', 'event': 'forbidden'}])
        self.assertEqual(g.call('allowed', 2, ns='/guarded'), [2])
        self.assertEqual(answered, [], 'a refused event was acknowledged')
        self.assertEqual(g.count('ranForbidden', ns='/guarded'), 0)
        self.assertEqual(g.count('error', ns='/guarded'), 2)

    def test_packet_middleware_rewrites(self):
        g = self.peer('guarded', ('/guarded',)).connect()
        self.assertEqual(g.call('rewrite', 'original', ns='/guarded'), ['rewritten by middleware'])
        self.assertEqual(g.count('error', ns='/guarded'), 0)

    # --- 9. dynamic namespaces ------------------------------------------------------------------

    def test_dynamic_namespaces(self):
        room = unique('dr')
        a = self.peer('a', ('/dyn-1',)).connect()
        b = self.peer('b', ('/dyn-2',)).connect()
        c = self.peer('c', ('/dyn-1',)).connect()
        for p, ns in ((a, '/dyn-1'), (b, '/dyn-2'), (c, '/dyn-1')):
            p.ns = ns
            self.assertEqual(p.next('welcome', ns=ns), [{'nsp': ns}])
            self.assertEqual(p.call('join', room, ns=ns), [[p.sid(ns), room]])

        self.assertEqual(a.call('dynBcast', {'room': room, 'data': 'one'}, ns=a.ns), [True])
        for p in (a, c):
            self.assertEqual(p.next('dynMsg', ns=p.ns), [{'nsp': '/dyn-1', 'data': 'one'}])
        # Marker from the same sender through the parent: reaches the room in every child.
        self.assertEqual(a.call('dynBcastAll', {'room': room, 'data': 'all'}, ns=a.ns), [True])
        for p in (a, b, c):
            self.assertEqual(p.next('dynMsg', lambda x: x[0]['nsp'] == '*', ns=p.ns), [{'nsp': '*', 'data': 'all'}])
        self.assertEqual(b.received('dynMsg', ns=b.ns), [[{'nsp': '*', 'data': 'all'}]],
                         '/dyn-2 got a /dyn-1 room broadcast')

        self.assertEqual(b.call('dynBcast', {'room': room, 'data': 'two'}, ns=b.ns), [True])
        self.assertEqual(b.next('dynMsg', ns=b.ns), [{'nsp': '/dyn-2', 'data': 'two'}])
        self.assertEqual(b.call('dynBcastAll', {'room': room, 'data': 'all2'}, ns=b.ns), [True])
        for p in (a, c):
            p.next('dynMsg', lambda x: x[0]['data'] == 'all2', ns=p.ns)
            self.assertEqual(p.count('dynMsg', lambda x: x[0]['data'] == 'two', ns=p.ns), 0,
                             p.name + ' got a /dyn-2 room broadcast')

    def test_dynamic_namespace_no_match(self):
        for ns in ('/dyn-x', '/dyn-', '/dyn-1/sub'):
            with self.subTest(nsp=ns):
                p = self.peer('bad', (ns,))
                self.assertEqual(self.refused(p, ns), {'message': 'Invalid namespace'})
                p.close()

    # --- 10. coroutine handler ------------------------------------------------------------------

    def test_coroutine_handler(self):
        a, = self.connect('a')
        started = time.monotonic()
        self.assertEqual(a.call('slowDouble', 21), [42])
        self.assertGreaterEqual(time.monotonic() - started, 0.049, 'answered before its 50 ms timer could fire')
        self.assertEqual(a.call('slowDouble', -4), [-8])
        self.assertEqual(a.count('error'), 0)

    # --- 6b. broadcast with acknowledgements (named to run last) ---------------------------------

    def test_zz_broadcast_ack_all_answer(self):
        room = unique('poll')
        a, b, c = self.connect('a', 'b', 'c')
        a.answers[('/', 'poll')] = lambda q: ['a:' + q]
        b.answers[('/', 'poll')] = lambda q: ['b:' + q]
        self.join(a, room)
        self.join(b, room)
        r, = c.call('startPoll', {'room': room, 'question': 'q', 'timeoutMs': int(WAIT * 1000) - 1000})
        self.assertEqual(sorted(r), ['error', 'responses'])
        self.assertIsNone(r['error'])
        self.assertEqual(sorted(r['responses']), ['a:q', 'b:q'])
        for p in (a, b):
            self.assertEqual(p.received('poll'), [['q']])
        self.assertEqual(c.count('poll'), 0)

    def test_zz_broadcast_ack_timeout(self):
        room = unique('poll')
        a, b, c = self.connect('a', 'b', 'c')
        a.answers[('/', 'poll')] = lambda q: ['a:' + q]
        b.answers[('/', 'poll')] = NO_ANSWER
        self.join(a, room)
        self.join(b, room)
        # Long enough for a's answer to come back on a busy machine, well inside the call's wait.
        timeout_ms = int(WAIT * 250)
        self.assertEqual(c.call('startPoll', {'room': room, 'question': 'q', 'timeoutMs': timeout_ms}),
                         [{'responses': ['a:q'], 'error': 'operation has timed out'}])

    def test_zz_broadcast_ack_empty_room(self):
        c, = self.connect('c')
        self.assertEqual(c.call('startPoll', {'room': unique('nobody'), 'question': 'q',
                                              'timeoutMs': int(WAIT * 2000)}),
                         [{'responses': [], 'error': None}])


if __name__ == '__main__':
    unittest.main()
