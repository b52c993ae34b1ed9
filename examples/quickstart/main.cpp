// roomcast quickstart: rooms with join, leave, messages and disconnect notices.
// Behaves as the JavaScript in the README does on the Node socket.io server, except that a
// malformed payload gets an `error` event instead of crashing the server.
//
//   quickstart [--port 3000] [--threads 1]

#include <roomcast/roomcast.hpp>

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
    std::cerr << "usage: " << self << " [--port N] [--threads N]\n";
    return 2;
}

int main(int argc, char** argv) try {
    unsigned long port = 3000, threads = 1;
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg = argv[i];
        if ((arg == "--port" || arg == "--threads") && i + 1 < argc) {
            char* end = nullptr;
            auto const n = std::strtoul(argv[++i], &end, 10);
            if (*end != '\0' || (arg == "--port" && n > 65535) || (arg == "--threads" && n < 1))
                return usage(argv[0]);
            (arg == "--port" ? port : threads) = n;
        } else {
            return usage(argv[0]);
        }
    }

    roomcast::server<> io({.port = static_cast<std::uint16_t>(port)});

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

    std::cout << "quickstart listening on port " << io.port() << " with " << threads
              << (threads == 1 ? " thread" : " threads") << std::endl;
    io.run(threads);
} catch (std::exception const& e) { // e.g. "roomcast: cannot listen on 127.0.0.1:3000: ..."
    std::cerr << "quickstart: " << e.what() << '\n';
    return 1;
}
