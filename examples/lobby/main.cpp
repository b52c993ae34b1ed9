// roomcast lobby: a multiplayer game lobby whose games live in the server.
//
//   lobby [--port 3000] [--threads 1] [--max-players 4] [--max-rooms 10]
//
// Game `g` is the room `game:g`; a player is a socket, named by its id. A game is
// {host, status ("waiting" or "playing"), players (in the order they joined)}.
// Events ("the room" includes the sender unless a line says otherwise):
//   createGame {gameId}
//                    creates the game with the creator as host and only player, and joins
//                    `game:<gameId>`; the creator gets `gameCreated` {gameId}
//   joinGame {gameId}
//                    adds the player and joins; the room gets `playerJoined`
//                    {playerId, totalPlayers}
//   startGame {gameId}
//                    host only; the status becomes "playing"; the room gets `gameStarted`
//                    {timestamp} (milliseconds since the epoch)
//   leaveGame {gameId}
//                    removes the player and leaves; the rest of the room gets `playerLeft`
//                    {playerId, totalPlayers}; if the host left, the next player becomes host
//                    and the room then gets `hostChanged` {host}; an empty game is deleted
//   on disconnect    as leaveGame, for every game the socket was in
//   listGames (ack)  answers [{gameId, players, status, maxPlayers}] for every game, where
//                    `players` is the number of players, in the order the games were created
//   createPrivateRoom {participants: [socket ids]}
//                    creates the room `private:<ms since the epoch>:<random UUID>`; the
//                    creator joins it and gets `privateRoomCreated` {roomId}; each
//                    participant gets `invitation` {roomId, from: <the creator's id>}
//   joinPrivateRoom {roomId}
//                    a listed participant joins and gets `privateRoomJoined` {roomId}
//
// Refusals change nothing and get an `error` event {message}, sent to the requester only:
//   "Room exists"            createGame with the id of an existing game
//   "No such game"           joinGame, startGame or leaveGame of an unknown game
//   "Game full"              joinGame of a game with --max-players players
//   "Game already started"   joinGame or startGame of a game that is playing
//   "Already in game"        joinGame of a game the socket is in
//   "Not in game"            leaveGame of a game the socket is not in
//   "Only the host can start"
//   "Maximum rooms reached"  createGame, joinGame, createPrivateRoom or joinPrivateRoom by a
//                            socket already in --max-rooms rooms (its own id room not counted)
//   "Access denied"          joinPrivateRoom by anyone not listed, or of an unknown room
// and a payload that does not fit the fields above, or an empty gameId, gets its own message
// (e.g. "event \"joinGame\": argument 1: field .gameId: expected string, got number").
// A private room is forgotten when its last member has gone.
//
// With --threads N, the sockets spread over N shards and the games are shared by all of them
// under one mutex; events are emitted under it too, so every client sees a game's events in
// the order its state changed.

#include <roomcast/roomcast.hpp>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct game_request { // createGame / joinGame / startGame / leaveGame
    std::string gameId;
};
BOOST_DESCRIBE_STRUCT(game_request, (), (gameId))

struct private_room_request {
    std::vector<std::string> participants;
};
BOOST_DESCRIBE_STRUCT(private_room_request, (), (participants))

struct room_request { // joinPrivateRoom; privateRoomCreated / privateRoomJoined
    std::string roomId;
};
BOOST_DESCRIBE_STRUCT(room_request, (), (roomId))

struct player_event { // playerJoined / playerLeft
    std::string playerId;
    std::size_t totalPlayers;
};
BOOST_DESCRIBE_STRUCT(player_event, (), (playerId, totalPlayers))

struct host_changed {
    std::string host;
};
BOOST_DESCRIBE_STRUCT(host_changed, (), (host))

struct game_started {
    std::int64_t timestamp;
};
BOOST_DESCRIBE_STRUCT(game_started, (), (timestamp))

struct game_summary { // one entry of listGames' answer
    std::string gameId;
    std::size_t players;
    std::string status;
    std::size_t maxPlayers;
};
BOOST_DESCRIBE_STRUCT(game_summary, (), (gameId, players, status, maxPlayers))

struct invitation {
    std::string roomId;
    std::string from;
};
BOOST_DESCRIBE_STRUCT(invitation, (), (roomId, from))

struct error_event {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(error_event, (), (message))

struct game {
    std::string host;
    std::string status = "waiting";
    std::vector<std::string> players;
    std::uint64_t created; // creation order, for listGames
};

struct private_room {
    std::set<std::string> participants; // who may join
    std::set<std::string> members;      // who is in it
};

std::string game_room(std::string_view id) {
    return "game:" + std::string(id);
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// `private:<ms>:<uuid>`: a version 4 UUID from the operating system's random source.
std::string new_private_room_id() {
    thread_local boost::uuids::random_generator uuids; // not thread-safe: one per shard
    return "private:" + std::to_string(now_ms()) + ':' + boost::uuids::to_string(uuids());
}

/// The lobby's state, shared by every shard.
class lobby {
public:
    lobby(roomcast::server<>& io, std::size_t max_players, std::size_t max_rooms)
        : io_(io)
        , max_players_(max_players)
        , max_rooms_(max_rooms) {}

    void create_game(roomcast::socket& s, std::string const& id) {
        std::scoped_lock lock(mutex_);
        if (id.empty())
            return fail(s, "gameId must not be empty");
        if (games_.contains(id))
            return fail(s, "Room exists");
        if (at_room_limit(s))
            return fail(s, "Maximum rooms reached");
        games_.emplace(id, game{s.id(), "waiting", {s.id()}, next_game_++});
        s.join(game_room(id));
        s.emit("gameCreated", game_request{id});
    }

    void join_game(roomcast::socket& s, std::string const& id) {
        std::scoped_lock lock(mutex_);
        auto it = games_.find(id);
        if (it == games_.end())
            return fail(s, "No such game");
        auto& g = it->second;
        if (std::ranges::find(g.players, s.id()) != g.players.end())
            return fail(s, "Already in game");
        if (g.players.size() >= max_players_)
            return fail(s, "Game full");
        if (g.status != "waiting")
            return fail(s, "Game already started");
        if (at_room_limit(s))
            return fail(s, "Maximum rooms reached");
        g.players.push_back(s.id());
        s.join(game_room(id));
        io_.to(game_room(id)).emit("playerJoined", player_event{s.id(), g.players.size()});
    }

    void start_game(roomcast::socket& s, std::string const& id) {
        std::scoped_lock lock(mutex_);
        auto it = games_.find(id);
        if (it == games_.end())
            return fail(s, "No such game");
        auto& g = it->second;
        if (g.host != s.id())
            return fail(s, "Only the host can start");
        if (g.status != "waiting")
            return fail(s, "Game already started");
        g.status = "playing";
        io_.to(game_room(id)).emit("gameStarted", game_started{now_ms()});
    }

    void leave_game(roomcast::socket& s, std::string const& id) {
        std::scoped_lock lock(mutex_);
        auto it = games_.find(id);
        if (it == games_.end())
            return fail(s, "No such game");
        if (std::ranges::find(it->second.players, s.id()) == it->second.players.end())
            return fail(s, "Not in game");
        s.leave(game_room(id));
        remove_player(it, s.id());
    }

    std::vector<game_summary> list_games() {
        std::scoped_lock lock(mutex_);
        std::vector<std::pair<std::uint64_t, game_summary>> found;
        for (auto const& [id, g] : games_)
            found.push_back({g.created, {id, g.players.size(), g.status, max_players_}});
        std::ranges::sort(found, {}, [](auto const& e) { return e.first; });
        std::vector<game_summary> list;
        for (auto& e : found)
            list.push_back(std::move(e.second));
        return list;
    }

    void create_private_room(roomcast::socket& s, std::vector<std::string> const& participants) {
        std::scoped_lock lock(mutex_);
        if (at_room_limit(s))
            return fail(s, "Maximum rooms reached");
        auto const id = new_private_room_id();
        auto& room = private_rooms_[id];
        room.participants.insert(participants.begin(), participants.end());
        room.participants.erase(s.id());
        room.members.insert(s.id());
        s.join(id);
        s.emit("privateRoomCreated", room_request{id});
        for (auto const& p : room.participants)
            io_.to(p).emit("invitation", invitation{id, s.id()});
    }

    void join_private_room(roomcast::socket& s, std::string const& id) {
        std::scoped_lock lock(mutex_);
        auto it = private_rooms_.find(id);
        if (it == private_rooms_.end() || !it->second.participants.contains(s.id()))
            return fail(s, "Access denied");
        if (it->second.members.contains(s.id()))
            return s.emit("privateRoomJoined", room_request{id});
        if (at_room_limit(s))
            return fail(s, "Maximum rooms reached");
        it->second.members.insert(s.id());
        s.join(id);
        s.emit("privateRoomJoined", room_request{id});
    }

    /// The socket has gone: it leaves its games as with leaveGame, and its private rooms.
    void disconnected(std::string const& sid) {
        std::scoped_lock lock(mutex_);
        for (auto it = games_.begin(); it != games_.end();) {
            auto const next = std::next(it);
            if (std::ranges::find(it->second.players, sid) != it->second.players.end())
                remove_player(it, sid);
            it = next;
        }
        for (auto it = private_rooms_.begin(); it != private_rooms_.end();) {
            it->second.participants.erase(sid);
            it->second.members.erase(sid);
            it = it->second.members.empty() ? private_rooms_.erase(it) : std::next(it);
        }
    }

private:
    using game_iterator = std::map<std::string, game>::iterator;

    static void fail(roomcast::socket& s, std::string message) {
        s.emit("error", error_event{std::move(message)});
    }

    /// Whether the socket is in --max-rooms rooms already, its own id room not counted.
    bool at_room_limit(roomcast::socket const& s) const {
        auto const rooms = s.rooms();
        return std::ranges::count_if(rooms, [&](auto const& r) { return r != s.id(); }) >=
               static_cast<std::ptrdiff_t>(max_rooms_);
    }

    /// Removes a player who has left the game's room, and tells the room.
    void remove_player(game_iterator it, std::string const& sid) {
        auto const room = game_room(it->first);
        auto& g = it->second;
        std::erase(g.players, sid);
        io_.to(room).emit("playerLeft", player_event{sid, g.players.size()});
        if (g.players.empty()) {
            games_.erase(it);
        } else if (g.host == sid) {
            g.host = g.players.front();
            io_.to(room).emit("hostChanged", host_changed{g.host});
        }
    }

    roomcast::server<>& io_;
    std::size_t const max_players_;
    std::size_t const max_rooms_;
    std::mutex mutex_;
    std::map<std::string, game> games_;
    std::uint64_t next_game_ = 0;
    std::map<std::string, private_room> private_rooms_;
};

int usage(char const* self) {
    std::cerr << "usage: " << self
              << " [--port N] [--threads N] [--max-players N] [--max-rooms N]\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) try {
    unsigned long port = 3000, threads = 1, max_players = 4, max_rooms = 10;
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg = argv[i];
        unsigned long* target = arg == "--port"          ? &port
                                : arg == "--threads"     ? &threads
                                : arg == "--max-players" ? &max_players
                                : arg == "--max-rooms"   ? &max_rooms
                                                         : nullptr;
        if (!target || i + 1 == argc)
            return usage(argv[0]);
        char* end = nullptr;
        *target = std::strtoul(argv[++i], &end, 10);
        if (*end != '\0' || port > 65535 || threads < 1 || max_players < 1)
            return usage(argv[0]);
    }

    roomcast::server<> io({.port = static_cast<std::uint16_t>(port)});
    lobby games(io, max_players, max_rooms);
    using roomcast::socket;

    io.on("createGame", [&](socket& s, game_request const& r) { games.create_game(s, r.gameId); });
    io.on("joinGame", [&](socket& s, game_request const& r) { games.join_game(s, r.gameId); });
    io.on("startGame", [&](socket& s, game_request const& r) { games.start_game(s, r.gameId); });
    io.on("leaveGame", [&](socket& s, game_request const& r) { games.leave_game(s, r.gameId); });
    io.on("listGames", [&](socket&) { return games.list_games(); });
    io.on("createPrivateRoom", [&](socket& s, private_room_request const& r) {
        games.create_private_room(s, r.participants);
    });
    io.on("joinPrivateRoom",
          [&](socket& s, room_request const& r) { games.join_private_room(s, r.roomId); });
    io.on_disconnect([&](socket& s, std::string_view /*reason*/) { games.disconnected(s.id()); });
    io.on_error([](socket& s, roomcast::handler_error const& e) {
        s.emit("error", error_event{e.message});
    });

    std::cout << "lobby listening on port " << io.port() << " with " << threads
              << (threads == 1 ? " thread" : " threads") << std::endl;
    io.run(threads);
} catch (std::exception const& e) { // e.g. "roomcast: cannot listen on 127.0.0.1:3000: ..."
    std::cerr << "lobby: " << e.what() << '\n';
    return 1;
}
