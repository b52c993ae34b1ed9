#!/usr/bin/python3
"""TLS with python-socketio: https:// long-polling against the features server, the client
trusting the certificate made by the test run (and no other).

    ROOMCAST_SERVER=/path/to/features_server ROOMCAST_TLS_CERT=cert.pem \\
        ROOMCAST_TLS_KEY=key.pem /usr/bin/python3 tests/integration/test_tls.py

Run with Debian's /usr/bin/python3 (python3-socketio 5.7, python3-requests).

python-socketio's WebSocket transport is left out over TLS: its reader and writer threads use
one ssl socket at the same time, which OpenSSL does not allow, and about one connection in a
hundred then loses its WebSocket right after it opens, against Node's socket.io server as
against roomcast. wss:// is tested with socket.io-client (tls.test.mjs, features_tls_node_*)
and with Beast (tests/server/tls.cpp).
"""

import os
import sys
import unittest

import requests
import socketio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import WAIT, ServerProcess  # noqa: E402

SERVER_BINARY = os.environ.get('ROOMCAST_SERVER', '')
THREADS = os.environ.get('ROOMCAST_THREADS', '1')


def server_command(port):
    if not SERVER_BINARY or not harness.TLS_CERT:
        raise RuntimeError('Set ROOMCAST_SERVER (features_server), ROOMCAST_TLS_CERT and '
                           'ROOMCAST_TLS_KEY')
    return [SERVER_BINARY, '--port', str(port), '--threads', THREADS]


SERVER = ServerProcess(server_command,
                       ready_line=lambda port: 'features listening on port %d' % port)
setUpModule, tearDownModule = harness.module_fixtures(SERVER)


class Tls(unittest.TestCase):
    def setUp(self):
        self.peers = []

    def tearDown(self):
        for p in self.peers:
            p.close()

    def peer(self):
        p = harness.Peer(SERVER, 'peer%d' % len(self.peers), transports=['polling'])
        self.peers.append(p)
        return p.connect()

    def test_polling_over_https(self):
        self.assertTrue(SERVER.url.startswith('https://'))
        a, b = self.peer(), self.peer()
        self.assertEqual(a.sio.transport(), 'polling')
        self.assertIs(a.sio.call('secure', timeout=WAIT), True)
        big = 'p' * (200 * 1024)
        self.assertEqual(a.sio.call('echo', big, timeout=WAIT), big)
        self.assertEqual(a.sio.call('binSingle', b'\x00\x01\x02', timeout=WAIT), 3)
        room = harness.unique('tls-room')
        for p in (a, b):
            p.sio.call('join', room, timeout=WAIT)
        a.sio.call('bcast', {'room': room, 'event': 'news', 'data': 'over tls'}, timeout=WAIT)
        for p in (a, b):
            got = p.take(lambda e: e['event'] == 'news', 'to receive news')
            self.assertEqual(got['args'], ['over tls'])

    def test_a_client_that_does_not_trust_the_certificate_fails(self):
        untrusting = requests.Session()
        untrusting.trust_env = False  # the system's authorities only
        client = socketio.Client(reconnection=False, http_session=untrusting)
        with self.assertRaises(socketio.exceptions.ConnectionError):
            client.connect(SERVER.url, transports=['polling'], wait_timeout=WAIT)
        # The server goes on serving clients that trust it.
        self.assertIs(self.peer().sio.call('secure', timeout=WAIT), True)


if __name__ == '__main__':
    unittest.main()
