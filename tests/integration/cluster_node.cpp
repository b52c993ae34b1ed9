// roomcast cluster test node: a server on the Redis adapter exposing the cluster-wide
// operations to cluster.test.mjs and cluster_faults.test.mjs, which run it beside another
// node (roomcast, or tests/integration/reference/cluster_node.js on Node's socket.io and
// @socket.io/redis-adapter). Both follow the contract written at the top of
// reference/cluster_node.js; in short (every event acknowledged):
//
//   cluster_node --port P --redis HOST:PORT [--name NAME] [--threads N]
//
//   joinRoom, leaveRoom, message, disconnect notices   as the quickstart
//   whoami                 -> {id, node}
//   servers                -> number of servers in the cluster
//   emit {rooms?, except?, event, args, self?, local?, binary?}  -> "ok"
//   fetch {rooms?, except?} -> {sockets: [{id, rooms (sorted)}] sorted by id} | {error}
//   socketsJoin / socketsLeave {rooms?, except?, target}          -> "ok"
//   disconnectSockets {rooms?, except?, close?}  -> "ok" (sent before the disconnects)
//   allRooms               -> sorted room names of the cluster
//   ask {rooms?, except?, timeout} -> {error, responses (sorted)}: emit_with_ack "question"
//   serverEmit {event, args}      -> "ok"; every node handles "hello" with a local emit
//                                    of "serverHello" {node, args}
//   serverAsk              -> {error, responses (sorted)} of server_side_emit_with_ack
//                             "whoareyou"; every node answers with its name
//
// Prints "cluster node NAME ready" once it listens and is connected to Redis.

#include <roomcast/redis.hpp>
#include <roomcast/roomcast.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct room_request {
    std::string roomName;
    std::optional<std::string> userName;
};
BOOST_DESCRIBE_STRUCT(room_request, (), (roomName, userName))

struct chat_message {
    std::string roomName;
    std::optional<std::string> text;
};
BOOST_DESCRIBE_STRUCT(chat_message, (), (roomName, text))

struct user_event {
    std::optional<std::string> userName;
    std::string id;
};
BOOST_DESCRIBE_STRUCT(user_event, (), (userName, id))

struct room_reply {
    std::string roomName;
};
BOOST_DESCRIBE_STRUCT(room_reply, (), (roomName))

struct message_event {
    std::optional<std::string> text;
    std::string sender;
};
BOOST_DESCRIBE_STRUCT(message_event, (), (text, sender))

struct selection {
    std::optional<std::vector<std::string>> rooms;
    std::optional<std::vector<std::string>> except;
};
BOOST_DESCRIBE_STRUCT(selection, (), (rooms, except))

struct emit_request : selection {
    std::string event;
    std::optional<boost::json::array> args;
    std::optional<bool> self;
    std::optional<bool> local;
    std::optional<bool> binary;
};
BOOST_DESCRIBE_STRUCT(emit_request, (selection), (event, args, self, local, binary))

struct target_request : selection {
    std::string target;
};
BOOST_DESCRIBE_STRUCT(target_request, (selection), (target))

struct disconnect_request : selection {
    std::optional<bool> close;
};
BOOST_DESCRIBE_STRUCT(disconnect_request, (selection), (close))

struct ask_request : selection {
    std::int64_t timeout = 0;
};
BOOST_DESCRIBE_STRUCT(ask_request, (selection), (timeout))

struct server_emit_request {
    std::string event;
    std::optional<boost::json::array> args;
};
BOOST_DESCRIBE_STRUCT(server_emit_request, (), (event, args))

/// `op.to(rooms).except(except)`.
roomcast::broadcast_operator select(roomcast::broadcast_operator op, selection const& s) {
    for (auto const& r : s.rooms.value_or(std::vector<std::string>{}))
        op = op.to(r);
    for (auto const& r : s.except.value_or(std::vector<std::string>{}))
        op = op.except(r);
    return op;
}

boost::json::array sorted(boost::json::array a) {
    std::sort(a.begin(), a.end(), [](boost::json::value const& x, boost::json::value const& y) {
        return boost::json::serialize(x) < boost::json::serialize(y);
    });
    return a;
}

/// As the reference answers: its `emitWithAck` promises reject on a timeout, so an error
/// comes with no responses.
boost::json::object answers(boost::system::error_code ec, boost::json::array responses) {
    if (ec)
        return {{"error", ec.message()}, {"responses", boost::json::array{}}};
    return {{"error", nullptr}, {"responses", sorted(std::move(responses))}};
}

int usage(char const* self) {
    std::cerr << "usage: " << self << " --port N --redis HOST:PORT [--name NAME] [--threads N]\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    unsigned long port = 0, threads = 1;
    std::string name = "cpp";
    roomcast::redis_options redis;
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg = argv[i];
        if (i + 1 >= argc)
            return usage(argv[0]);
        std::string_view const value = argv[++i];
        if (arg == "--redis") {
            auto const colon = value.rfind(':');
            unsigned n = 0;
            auto const digits = value.substr(colon == std::string_view::npos ? 0 : colon + 1);
            auto const [rest, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), n);
            if (colon == std::string_view::npos || ec != std::errc() ||
                rest != digits.data() + digits.size() || n == 0 || n > 65535)
                return usage(argv[0]);
            redis.host = std::string(value.substr(0, colon));
            redis.port = static_cast<std::uint16_t>(n);
        } else if (arg == "--name") {
            name = std::string(value);
        } else if (arg == "--port" || arg == "--threads") {
            char* end = nullptr;
            auto const n = std::strtoul(argv[i], &end, 10);
            if (*end != '\0' || n > 65535 || (arg == "--threads" && n < 1))
                return usage(argv[0]);
            (arg == "--port" ? port : threads) = n;
        } else {
            return usage(argv[0]);
        }
    }

    std::uint16_t listening = 0;
    redis.on_state = [&](bool connected, boost::system::error_code ec) {
        if (connected)
            std::cout << "cluster node " << name << " ready on port " << listening << std::endl;
        else
            std::cout << "cluster node " << name << " lost Redis: " << ec.message() << std::endl;
    };
    roomcast::server<roomcast::transport::websocket, roomcast::redis_adapter> io(
        {.address = "127.0.0.1", .port = static_cast<std::uint16_t>(port)}, redis);
    listening = io.port();

    // The quickstart.
    io.on("joinRoom", [&](roomcast::socket& s, room_request const& r) {
        s.join(r.roomName);
        io.to(r.roomName).emit("userJoined", user_event{r.userName, s.id()});
        s.emit("roomJoined", room_reply{r.roomName});
    });
    io.on("leaveRoom", [&](roomcast::socket& s, room_request const& r) {
        s.leave(r.roomName);
        io.to(r.roomName).emit("userLeft", user_event{r.userName, s.id()});
        s.emit("roomLeft", room_reply{r.roomName});
    });
    io.on("message", [&](roomcast::socket& s, chat_message const& m) {
        io.to(m.roomName).emit("message", message_event{m.text, s.id()});
    });
    io.on_disconnecting([&](roomcast::socket& s, std::string_view) {
        for (auto const& room : s.rooms())
            if (room != s.id())
                io.to(room).emit("userLeft", user_event{std::nullopt, s.id()});
    });

    // The cluster-wide operations.
    io.on("whoami", [&](roomcast::socket& s) {
        return boost::json::object{{"id", s.id()}, {"node", name}};
    });
    io.on("servers", [&](roomcast::socket&, roomcast::ack reply) {
        io.server_count([reply](boost::system::error_code, std::size_t n) mutable { reply(n); });
    });
    io.on("emit", [&](roomcast::socket& s, emit_request const& r) {
        auto op = select(r.self.value_or(false) ? io.all() : s.broadcast(), r);
        if (r.local.value_or(false))
            op = op.local();
        roomcast::arguments args(r.args.value_or(boost::json::array{}));
        if (r.binary.value_or(false))
            op.emit(r.event, args, roomcast::binary(std::vector<std::uint8_t>{1, 2, 3}));
        else
            op.emit(r.event, args);
        return "ok";
    });
    io.on("fetch", [&](roomcast::socket&, selection const& r, roomcast::ack reply) {
        select(io.all(), r)
            .fetch_sockets([reply](boost::system::error_code ec,
                                   std::vector<roomcast::remote_socket> found) mutable {
                if (ec)
                    return reply(boost::json::object{{"error", ec.message()}});
                std::sort(found.begin(), found.end(),
                          [](auto const& a, auto const& b) { return a.id() < b.id(); });
                boost::json::array list;
                for (auto const& f : found) {
                    auto rooms = f.rooms();
                    std::sort(rooms.begin(), rooms.end());
                    list.push_back(
                        boost::json::object{{"id", f.id()}, {"rooms", roomcast::to_json(rooms)}});
                }
                reply(boost::json::object{{"sockets", std::move(list)}});
            });
    });
    io.on("socketsJoin", [&](roomcast::socket&, target_request const& r) {
        select(io.all(), r).sockets_join(r.target);
        return "ok";
    });
    io.on("socketsLeave", [&](roomcast::socket&, target_request const& r) {
        select(io.all(), r).sockets_leave(r.target);
        return "ok";
    });
    io.on("disconnectSockets",
          [&](roomcast::socket&, disconnect_request const& r, roomcast::ack reply) {
              reply("ok");
              select(io.all(), r).disconnect_sockets(r.close.value_or(false));
          });
    io.on("allRooms", [&](roomcast::socket&, roomcast::ack reply) {
        io.of("/").all_rooms(
            [reply](boost::system::error_code ec, std::vector<roomcast::room_info> rooms) mutable {
                if (ec)
                    return reply(boost::json::object{{"error", ec.message()}});
                boost::json::array names;
                for (auto const& r : rooms)
                    names.emplace_back(r.name);
                reply(sorted(std::move(names)));
            });
    });
    io.on("ask", [&](roomcast::socket&, ask_request const& r, roomcast::ack reply) {
        select(io.all(), r)
            .timeout(std::chrono::milliseconds(r.timeout))
            .emit_with_ack(
                "question", name,
                [reply](boost::system::error_code ec, boost::json::array responses) mutable {
                    reply(answers(ec, std::move(responses)));
                });
    });
    io.on("serverEmit", [&](roomcast::socket&, server_emit_request const& r) {
        io.server_side_emit(r.event, roomcast::arguments(r.args.value_or(boost::json::array{})));
        return "ok";
    });
    io.on("serverAsk", [&](roomcast::socket&, roomcast::ack reply) {
        io.server_side_emit_with_ack("whoareyou", [reply](boost::system::error_code ec,
                                                          boost::json::array responses) mutable {
            reply(answers(ec, std::move(responses)));
        });
    });
    io.on_server_side_emit("hello", [&](boost::json::array const& args, roomcast::server_reply) {
        io.all().local().emit("serverHello", boost::json::object{{"node", name}, {"args", args}});
    });
    io.on_server_side_emit("whoareyou",
                           [&](boost::json::array const&, roomcast::server_reply reply) {
                               if (reply)
                                   reply(boost::json::value(name));
                           });

    io.run(threads);
}
