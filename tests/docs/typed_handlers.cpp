// The handler's parameter list is the schema of the event: each parameter after the socket
// is one argument the client sent.
#include <roomcast/roomcast.hpp>

#include <algorithm>
#include <iostream>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct unit {
    std::string id;
    int strength;
};
BOOST_DESCRIBE_STRUCT(unit, (), (id, strength))

struct move_order {
    std::string gameId;
    int x;
    int y;
    std::vector<unit> units;
    std::optional<std::string> note; // may be missing, or null
};
BOOST_DESCRIBE_STRUCT(move_order, (), (gameId, x, y, units, note))

void add_game_handlers(roomcast::server<>& io) {
    // socket.emit("move", {gameId: "g1", x: 3, y: 4, units: [{id: "u1", strength: 7}]})
    io.on("move", [&](roomcast::socket&, move_order const& m) {
        io.to("game:" + m.gameId).emit("moved", m); // the same struct goes out as JSON
    });

    // Several arguments: socket.emit("rename", "g1", "Friday night")
    io.on("rename", [&](roomcast::socket&, std::string const& game, std::string const& title) {
        io.to("game:" + game).emit("renamed", title);
    });

    // An optional argument may be left out: socket.emit("roll", cb) or ("roll", 20, cb)
    io.on("roll", [](roomcast::socket&, std::optional<int> sides) {
        thread_local std::mt19937 dice{std::random_device{}()}; // one per shard thread
        return std::uniform_int_distribution(1, std::max(sides.value_or(6), 2))(dice);
    });

    // Every incoming event, handled or not, before its handler (Socket.IO's onAny).
    io.on_any(
        [](roomcast::socket& s, std::string_view event, std::span<boost::json::value const> args) {
            std::clog << s.id() << " sent " << event << " with " << args.size() << " arguments\n";
        });

    // Payloads that do not convert, and handlers that throw, come here instead, e.g.
    // event "move": argument 1: field .units[0].strength: expected integer, got string
    io.on_error([](roomcast::socket& s, roomcast::handler_error const& e) {
        s.emit("error", {{"event", e.event}, {"message", e.message}});
    });
}
