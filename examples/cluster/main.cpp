// roomcast cluster: the quickstart's server (same events, same behaviour) with the Redis
// adapter, so that several of these processes (and Node.js Socket.IO servers using
// @socket.io/redis-adapter on the same Redis) are one Socket.IO cluster: a room spans them.
//
//   cluster [--port 3000] [--redis 127.0.0.1:6379] [--threads 1]
//
// Events, as in the quickstart: `joinRoom` {roomName, userName?} -> `userJoined` {userName?,
// id} to the room and `roomJoined` {roomName} to the sender; `leaveRoom` {roomName,
// userName?} -> `userLeft` {userName?, id} to the room and `roomLeft` {roomName} to the
// sender; `message` {roomName, text?} -> `message` {text?, sender} to the room; on
// disconnect, `userLeft` {id} to each of its rooms; a malformed payload -> `error` {message}.
// "The room" means its members on every server of the cluster.

#include <roomcast/redis.hpp>
#include <roomcast/roomcast.hpp>

#include <charconv>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

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

struct user_event { // userJoined / userLeft; a missing userName is left out, as in JavaScript
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

struct error_event {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(error_event, (), (message))

static int usage(char const* self) {
    std::cerr << "usage: " << self << " [--port N] [--redis HOST:PORT] [--threads N]\n";
    return 2;
}

int main(int argc, char** argv) try {
    unsigned long port = 3000, threads = 1;
    roomcast::redis_options redis;
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg = argv[i];
        if (arg == "--redis" && i + 1 < argc) {
            std::string_view const where = argv[++i];
            auto const colon = where.rfind(':');
            unsigned n = 0;
            auto const digits = where.substr(colon == std::string_view::npos ? 0 : colon + 1);
            auto const [rest, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), n);
            if (colon == std::string_view::npos || colon == 0 || ec != std::errc() ||
                rest != digits.data() + digits.size() || n == 0 || n > 65535)
                return usage(argv[0]);
            redis.host = std::string(where.substr(0, colon));
            redis.port = static_cast<std::uint16_t>(n);
        } else if ((arg == "--port" || arg == "--threads") && i + 1 < argc) {
            char* end = nullptr;
            auto const n = std::strtoul(argv[++i], &end, 10);
            if (*end != '\0' || (arg == "--port" && n > 65535) || (arg == "--threads" && n < 1))
                return usage(argv[0]);
            (arg == "--port" ? port : threads) = n;
        } else {
            return usage(argv[0]);
        }
    }

    redis.on_state = [](bool connected, boost::system::error_code ec) {
        if (connected)
            std::cout << "cluster connected to Redis" << std::endl;
        else
            std::cerr << "cluster lost Redis: " << ec.message() << std::endl;
    };
    roomcast::server<roomcast::transport::websocket, roomcast::redis_adapter> io(
        {.port = static_cast<std::uint16_t>(port)}, redis);

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
    io.on_error([](roomcast::socket& s, roomcast::handler_error const& e) {
        s.emit("error", error_event{e.message});
    });

    std::cout << "cluster listening on port " << io.port() << " with " << threads
              << (threads == 1 ? " thread" : " threads") << std::endl;
    io.run(threads);
} catch (std::exception const& e) { // e.g. "roomcast: cannot listen on 127.0.0.1:3000: ..."
    std::cerr << "cluster: " << e.what() << '\n';
    return 1;
}
