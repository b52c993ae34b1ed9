#!/usr/bin/python3
"""The multiroom_chat example's event contract, driven by python-socketio.

    ROOMCAST_SERVER=/path/to/multiroom_chat [ROOMCAST_THREADS=N] /usr/bin/python3 tests/integration/test_multiroom_chat.py

Run with Debian's /usr/bin/python3 (python3-socketio 5.7, websocket transport).
Every wait is bounded; the server is started on a free port, waited for by TCP
connects, and stopped (SIGTERM, then SIGKILL) whatever happens (harness.py).
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import WAIT, ServerProcess  # noqa: E402

SERVER_BINARY = os.environ.get('ROOMCAST_SERVER', '')
THREADS = os.environ.get('ROOMCAST_THREADS', '1')


def server_command(port):
    if not SERVER_BINARY:
        raise RuntimeError('Set ROOMCAST_SERVER to the multiroom_chat binary')
    return [SERVER_BINARY, '--port', str(port), '--threads', THREADS]


SERVER = ServerProcess(server_command)
setUpModule, tearDownModule = harness.module_fixtures(SERVER)


class Peer(harness.Peer):
    """The harness's Peer on one namespace. Payloads are the events' single argument (None
    without one); next() removes what it returns from what count() counts."""

    def __init__(self, nsp='/chat'):
        super().__init__(SERVER, nsp, namespaces=(nsp,))
        self.nsp = nsp

    @property
    def id(self):
        return self.sio.get_sid(self.nsp)

    def emit(self, event, *args):
        self.sio.emit(event, args[0] if len(args) == 1 else args or None, namespace=self.nsp)

    def call(self, event):
        return self.sio.call(event, namespace=self.nsp, timeout=WAIT)

    def next(self, event, pred=lambda p: True):
        """Waits for and consumes the first recorded `event` whose payload satisfies `pred`."""
        e = self.take(lambda e: e['event'] == event and pred(e['args'][0] if e['args'] else None),
                      'to receive %r' % event)
        return e['args'][0] if e['args'] else None

    def count(self, event, pred=lambda p: True):
        """How many `event`s satisfying `pred` were received and not consumed."""
        with self.cond:
            return sum(1 for e in self.log if not e['taken'] and e['event'] == event
                       and pred(e['args'][0] if e['args'] else None))


class MultiroomChat(unittest.TestCase):
    def setUp(self):
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.close()
        # Wait until the server has seen them go.
        admin = self.peer('/admin')
        deadline = time.monotonic() + WAIT
        while admin.call('getStats')['chatUsers'] != 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        admin.close()

    def peer(self, nsp='/chat'):
        p = Peer(nsp).connect()
        self.peers.append(p)
        return p

    def test_join_switch_message_and_leave(self):
        a = self.peer()
        self.assertEqual(a.next('notification'), 'New user joined general')
        b = self.peer()
        self.assertEqual(a.next('notification'), 'New user joined general')
        self.assertEqual(b.next('notification'), 'New user joined general')
        self.assertEqual(sorted(a.call('listUsers')), sorted([a.id, b.id]))

        a.emit('switchRoom', 'tech')
        self.assertEqual(a.next('notification'), 'User joined tech')
        self.assertEqual(a.next('roomChanged'), 'tech')
        self.assertEqual(b.next('notification'), 'User left general')

        a.emit('message', 'hi tech')
        self.assertEqual(a.next('message'), {'room': 'tech', 'sender': a.id, 'message': 'hi tech'})
        b.emit('message', 'hi general')
        self.assertEqual(b.next('message'),
                         {'room': 'general', 'sender': b.id, 'message': 'hi general'})
        self.assertEqual(a.count('message'), 0)
        self.assertEqual(a.call('listUsers'), [a.id])

        b.emit('switchRoom', 'tech')
        self.assertEqual(a.next('notification'), 'User joined tech')
        b.close()
        self.assertEqual(a.next('notification'), 'User left tech')

    def test_unknown_room(self):
        a = self.peer()
        a.emit('switchRoom', 'cellar')
        self.assertEqual(a.next('error'), {'message': 'Unknown room'})
        self.assertEqual(a.count('roomChanged'), 0)

    def test_stats(self):
        chatters = [self.peer() for _ in range(3)]
        chatters[0].emit('switchRoom', 'random')
        chatters[0].next('roomChanged')
        admin = self.peer('/admin')
        admin.emit('getStats')
        self.assertEqual(admin.next('stats'), {
            'chatUsers': 3, 'adminUsers': 1, 'rooms': {'general': 2, 'tech': 0, 'random': 1}})


if __name__ == '__main__':
    unittest.main()
