#!/usr/bin/python3
"""The lobby example with python-socketio's synchronous client over WebSocket: a game from
creation to its deletion, listGames' acknowledgement, and a private room.

    ROOMCAST_SERVER=/path/to/lobby [ROOMCAST_THREADS=N] /usr/bin/python3 tests/integration/test_lobby.py

(Debian's /usr/bin/python3, which sees python3-socketio.) The full contract is in
lobby.test.mjs; this checks that a second client library sees the same wire.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ServerProcess, unique  # noqa: E402

SERVER_BINARY = os.environ.get('ROOMCAST_SERVER', '')
THREADS = os.environ.get('ROOMCAST_THREADS', '1')


def server_command(port):
    if not SERVER_BINARY:
        raise RuntimeError('Set ROOMCAST_SERVER to the lobby binary')
    return [SERVER_BINARY, '--port', str(port), '--threads', THREADS, '--max-players', '2']


SERVER = ServerProcess(server_command)
setUpModule, tearDownModule = harness.module_fixtures(SERVER)


class Player(harness.Peer):
    """A client on "/" whose events carry one argument: next() gives it."""

    def __init__(self, name):
        super().__init__(SERVER, name)

    def connect(self):
        super().connect()
        self.id = self.sio.get_sid()
        return self

    def emit(self, event, payload):
        self.sio.emit(event, payload)

    def next(self, event):
        return self.take(lambda e: e['event'] == event, "to receive '%s'" % event)['args'][0]

    def call(self, event):
        return self.sio.call(event, timeout=harness.WAIT)


class LobbyTest(unittest.TestCase):
    def setUp(self):
        self.players = []

    def tearDown(self):
        for p in self.players:
            p.close()

    def player(self):
        p = Player('player#%d' % (len(self.players) + 1))
        self.players.append(p)
        return p.connect()

    def test_a_game_from_creation_to_deletion(self):
        host, guest, late = self.player(), self.player(), self.player()
        game = unique('game')
        host.emit('createGame', {'gameId': game})
        self.assertEqual(host.next('gameCreated'), {'gameId': game})
        guest.emit('joinGame', {'gameId': game})
        for p in (host, guest):
            self.assertEqual(p.next('playerJoined'), {'playerId': guest.id, 'totalPlayers': 2})
        late.emit('joinGame', {'gameId': game})
        self.assertEqual(late.next('error'), {'message': 'Game full'})
        self.assertIn({'gameId': game, 'players': 2, 'status': 'waiting', 'maxPlayers': 2},
                      late.call('listGames'))
        guest.emit('startGame', {'gameId': game})
        self.assertEqual(guest.next('error'), {'message': 'Only the host can start'})
        host.emit('startGame', {'gameId': game})
        started = guest.next('gameStarted')
        self.assertEqual(host.next('gameStarted'), started)
        self.assertIsInstance(started['timestamp'], int)
        host.emit('leaveGame', {'gameId': game})
        self.assertEqual(guest.next('playerLeft'), {'playerId': host.id, 'totalPlayers': 1})
        self.assertEqual(guest.next('hostChanged'), {'host': guest.id})
        guest.close()
        deadline = time.monotonic() + harness.WAIT
        while any(g['gameId'] == game for g in late.call('listGames')):
            self.assertLess(time.monotonic(), deadline, 'the empty game is never deleted')
            time.sleep(0.02)

    def test_a_private_room_admits_only_its_participants(self):
        a, b, c = self.player(), self.player(), self.player()
        a.emit('createPrivateRoom', {'participants': [b.id]})
        room = a.next('privateRoomCreated')['roomId']
        self.assertTrue(room.startswith('private:'))
        self.assertEqual(b.next('invitation'), {'roomId': room, 'from': a.id})
        b.emit('joinPrivateRoom', {'roomId': room})
        self.assertEqual(b.next('privateRoomJoined'), {'roomId': room})
        c.emit('joinPrivateRoom', {'roomId': room})
        self.assertEqual(c.next('error'), {'message': 'Access denied'})


if __name__ == '__main__':
    unittest.main()
