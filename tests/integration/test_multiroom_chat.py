#!/usr/bin/python3
"""The multiroom_chat example's event contract, driven by python-socketio.

    ROOMCAST_SERVER=/path/to/multiroom_chat [ROOMCAST_THREADS=N] /usr/bin/python3 tests/integration/test_multiroom_chat.py

Run with Debian's /usr/bin/python3 (python3-socketio 5.7, websocket transport).
Every wait is bounded; the server is started on a free port, waited for by TCP
connects, and stopped (SIGTERM, then SIGKILL) whatever happens.
"""

import os
import socket
import subprocess
import threading
import time
import unittest

import socketio

SERVER_BINARY = os.environ.get('ROOMCAST_SERVER', '')
THREADS = os.environ.get('ROOMCAST_THREADS', '1')
WAIT = float(os.environ.get('ROOMCAST_WAIT_MS', '4000')) / 1000.0


class Server:
    proc = None
    url = ''


def free_port():
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


def start_server():
    if not SERVER_BINARY:
        raise RuntimeError('Set ROOMCAST_SERVER to the multiroom_chat binary')
    port = free_port()
    Server.url = 'http://127.0.0.1:%d' % port
    Server.proc = subprocess.Popen([SERVER_BINARY, '--port', str(port), '--threads', THREADS],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        if Server.proc.poll() is not None:
            raise RuntimeError('server exited with %s' % Server.proc.returncode)
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError('server did not start')
            time.sleep(0.05)


def stop_server():
    if Server.proc is None or Server.proc.poll() is not None:
        return
    Server.proc.terminate()
    try:
        Server.proc.wait(3)
    except subprocess.TimeoutExpired:
        Server.proc.kill()
        Server.proc.wait()
        raise AssertionError('server did not stop on SIGTERM')


class Peer:
    """A python-socketio client on one namespace that records the events it gets."""

    EVENTS = ('notification', 'roomChanged', 'message', 'error', 'stats')

    def __init__(self, nsp='/chat'):
        self.nsp = nsp
        self.log = []  # (event, payload)
        self.cond = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        for event in self.EVENTS:
            self.sio.on(event, self._recorder(event), namespace=nsp)

    def _recorder(self, event):
        def record(*args):
            with self.cond:
                self.log.append((event, args[0] if args else None))
                self.cond.notify_all()
        return record

    def connect(self):
        self.sio.connect(Server.url, namespaces=[self.nsp], transports=['websocket'],
                         wait_timeout=WAIT)
        return self

    @property
    def id(self):
        return self.sio.get_sid(self.nsp)

    def emit(self, event, *args):
        self.sio.emit(event, args[0] if len(args) == 1 else args or None, namespace=self.nsp)

    def call(self, event):
        return self.sio.call(event, namespace=self.nsp, timeout=WAIT)

    def next(self, event, pred=lambda p: True):
        """Waits for and removes the first recorded `event` whose payload satisfies `pred`."""
        deadline = time.monotonic() + WAIT
        with self.cond:
            while True:
                for i, (e, p) in enumerate(self.log):
                    if e == event and pred(p):
                        del self.log[i]
                        return p
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError('no %r within %ss; got %r' % (event, WAIT, self.log))
                self.cond.wait(left)

    def count(self, event, pred=lambda p: True):
        with self.cond:
            return sum(1 for e, p in self.log if e == event and pred(p))

    def close(self):
        self.sio.disconnect()


class MultiroomChat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_server()

    @classmethod
    def tearDownClass(cls):
        stop_server()

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
    try:
        unittest.main()
    finally:
        stop_server()
