#!/usr/bin/python3
"""HTTP long-polling with python-socketio (transports=['polling']), and its default
(polling, then the upgrade to websocket), against the conformance example.

    ROOMCAST_SERVER=/path/to/conformance /usr/bin/python3 tests/integration/test_polling.py

Run with Debian's /usr/bin/python3 (python3-socketio 5.7; polling needs python3-requests).
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import WAIT, ServerProcess  # noqa: E402

SERVER_BINARY = os.environ.get('ROOMCAST_SERVER', '')


def server_command(port):
    if not SERVER_BINARY:
        raise RuntimeError('Set ROOMCAST_SERVER to the conformance binary')
    return [SERVER_BINARY, '--port', str(port)]


SERVER = ServerProcess(server_command)
setUpModule, tearDownModule = harness.module_fixtures(SERVER)


class Polling(unittest.TestCase):
    def setUp(self):
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.close()

    def peer(self, transports, namespaces=('/',)):
        p = harness.Peer(SERVER, 'peer%d' % len(self.peers), namespaces=namespaces,
                         transports=transports)
        self.peers.append(p)
        return p.connect()

    def next(self, p, event, nsp='/'):
        return p.take(lambda e: e['event'] == event and e['nsp'] == nsp,
                      'to receive %r on %s' % (event, nsp))['args']

    def test_polling_only(self):
        p = self.peer(['polling'], namespaces=('/', '/custom'))
        self.assertEqual(p.sio.transport(), 'polling')
        self.assertEqual(self.next(p, 'auth'), [{}])
        self.assertEqual(self.next(p, 'auth', '/custom'), [{}])
        p.sio.emit('message', ({'k': [1, 'é']}, b'\x00\x01bytes'))
        self.assertEqual(self.next(p, 'message-back'), [{'k': [1, 'é']}, b'\x00\x01bytes'])
        self.assertEqual(p.sio.call('message-with-ack', (7, b'\xff'), timeout=WAIT), (7, b'\xff'))
        # Several ping intervals (300 ms) pass: pings and pongs cross polling.
        time.sleep(1.0)
        self.assertTrue(p.sio.connected)
        p.sio.emit('message', 'still')
        self.assertEqual(self.next(p, 'message-back'), ['still'])

    def test_default_upgrades(self):
        p = self.peer(['polling', 'websocket'])
        self.assertEqual(self.next(p, 'auth'), [{}])
        deadline = time.monotonic() + WAIT
        while p.sio.transport() != 'websocket' and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(p.sio.transport(), 'websocket')
        p.sio.emit('message', ('after', b'\x02'))
        self.assertEqual(self.next(p, 'message-back'), ['after', b'\x02'])


if __name__ == '__main__':
    unittest.main()
