// roomcast chat: a chat page with channels, served on the same port as its Socket.IO server.
//
//   chat [--port 3000] [--threads 1] [--public DIR] [--client-bundle FILE]
//
// Open http://localhost:3000/ in a few browser tabs, pick a name and a channel, and chat.
// `--public` is the page's folder (default: `public` next to this file); `--client-bundle` is
// socket.io-client's browser bundle, served at /vendor/socket.io.min.js (default: the first
// of `node_modules/socket.io-client/dist/socket.io.min.js` in this folder and in the roomcast
// source tree that exists; `npm install` in this folder fetches it).
//
// Events (channel `x` is the room `channel:x`, so that channels never meet sockets' own
// rooms):
//   joinChannel {channelName, username}
//                    the socket joins the channel and is known as `username` from now on
//                    (one name per socket: the latest joinChannel's); the channel, the joiner
//                    included, gets `userJoined` {username}
//   sendMessage {channel, message}
//                    the channel, the sender included, gets `newMessage`
//                    {from: <the sender's username>, text: <message>, timestamp: <ms since
//                    the epoch>}
//   leaveChannel {channelName}
//                    the socket leaves; the rest of the channel gets `userLeft` {username}
//   on disconnect    every channel the socket was in gets `userLeft` {username}
//
// Malformed requests change nothing and get an `error` event {message} back, sent to the
// requester only:
//   - a payload that is not an object with the fields above as strings (unknown fields are
//     ignored), e.g. "event \"sendMessage\": argument 1: field .message: expected string,
//     got number";
//   - an empty channelName, channel, username or message;
//   - sendMessage or leaveChannel for a channel the socket is not in (no posting into, or
//     announcing departures from, a channel one has not joined).

#include <roomcast/roomcast.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct join_channel {
    std::string channelName;
    std::string username;
};
BOOST_DESCRIBE_STRUCT(join_channel, (), (channelName, username))

struct send_message {
    std::string channel;
    std::string message;
};
BOOST_DESCRIBE_STRUCT(send_message, (), (channel, message))

struct leave_channel {
    std::string channelName;
};
BOOST_DESCRIBE_STRUCT(leave_channel, (), (channelName))

struct user_event { // userJoined / userLeft
    std::string username;
};
BOOST_DESCRIBE_STRUCT(user_event, (), (username))

struct new_message {
    std::string from;
    std::string text;
    std::int64_t timestamp; // milliseconds since the epoch, as JavaScript's Date.now()
};
BOOST_DESCRIBE_STRUCT(new_message, (), (from, text, timestamp))

struct error_event {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(error_event, (), (message))

constexpr std::string_view channel_prefix = "channel:";
constexpr std::string_view bundle_url = "/vendor/socket.io.min.js";

std::string room_of(std::string_view channel) {
    return std::string(channel_prefix) + std::string(channel);
}

bool in_room(roomcast::socket const& s, std::string const& room) {
    auto const rooms = s.rooms();
    return std::find(rooms.begin(), rooms.end(), room) != rooms.end();
}

/// The name the socket gave in its latest joinChannel (kept in `s.data()`).
std::string username_of(roomcast::socket const& s) {
    auto const* name = s.data().if_string();
    return name ? std::string(*name) : std::string();
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Where `npm install` puts the browser bundle under `dir`.
std::filesystem::path bundle_under(std::filesystem::path const& dir) {
    return dir / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js";
}

/// The bundle's default places: this folder's node_modules, then the roomcast tree's.
std::vector<std::filesystem::path> bundle_candidates() {
    std::vector<std::filesystem::path> c{bundle_under(CHAT_SOURCE_DIR)};
#ifdef CHAT_ROOMCAST_SOURCE_DIR
    c.push_back(bundle_under(CHAT_ROOMCAST_SOURCE_DIR));
#endif
    return c;
}

int usage(char const* self) {
    std::cerr << "usage: " << self
              << " [--port N] [--threads N] [--public DIR] [--client-bundle FILE]\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) try {
    unsigned long port = 3000, threads = 1;
    std::filesystem::path public_dir = std::filesystem::path(CHAT_SOURCE_DIR) / "public";
    std::filesystem::path bundle;
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg = argv[i];
        if ((arg == "--port" || arg == "--threads") && i + 1 < argc) {
            char* end = nullptr;
            auto const n = std::strtoul(argv[++i], &end, 10);
            if (*end != '\0' || (arg == "--port" && n > 65535) || (arg == "--threads" && n < 1))
                return usage(argv[0]);
            (arg == "--port" ? port : threads) = n;
        } else if (arg == "--public" && i + 1 < argc) {
            public_dir = argv[++i];
        } else if (arg == "--client-bundle" && i + 1 < argc) {
            bundle = argv[++i];
        } else {
            return usage(argv[0]);
        }
    }

    std::error_code ec;
    if (!std::filesystem::is_regular_file(public_dir / "index.html", ec)) {
        std::cerr << "chat: no index.html in " << public_dir
                  << "; pass the page's folder with --public DIR\n";
        return 1;
    }
    if (bundle.empty()) {
        auto const candidates = bundle_candidates();
        for (auto const& c : candidates)
            if (std::filesystem::is_regular_file(c, ec)) {
                bundle = c;
                break;
            }
        if (bundle.empty()) {
            std::cerr << "chat: the Socket.IO browser client is missing. Run `npm install` in "
                      << CHAT_SOURCE_DIR << " (or pass --client-bundle FILE). Looked for:\n";
            for (auto const& c : candidates)
                std::cerr << "  " << c.string() << '\n';
            return 1;
        }
    } else if (!std::filesystem::is_regular_file(bundle, ec)) {
        std::cerr << "chat: no Socket.IO browser client at " << bundle << ". Run `npm install` in "
                  << CHAT_SOURCE_DIR << " to get it.\n";
        return 1;
    }

    roomcast::server<> io({.port = static_cast<std::uint16_t>(port)});
    using roomcast::socket;

    // The page and the client library; /socket.io/ itself is the Engine.IO path.
    roomcast::static_files files(public_dir);
    files.alias(std::string(bundle_url), bundle);
    files.alias(std::string(bundle_url) + ".map", bundle.string() + ".map");
    io.on_http(std::move(files));

    auto const refuse = [](socket& s, std::string message) {
        s.emit("error", error_event{std::move(message)});
    };

    io.on("joinChannel", [&](socket& s, join_channel const& j) {
        if (j.channelName.empty() || j.username.empty())
            return refuse(s, "joinChannel: channelName and username must not be empty");
        auto const room = room_of(j.channelName);
        s.data() = j.username;
        s.join(room);
        io.to(room).emit("userJoined", user_event{j.username});
    });

    io.on("sendMessage", [&](socket& s, send_message const& m) {
        if (m.channel.empty() || m.message.empty())
            return refuse(s, "sendMessage: channel and message must not be empty");
        auto const room = room_of(m.channel);
        if (!in_room(s, room))
            return refuse(s, "sendMessage: not in channel \"" + m.channel + "\"; join it first");
        io.to(room).emit("newMessage", new_message{username_of(s), m.message, now_ms()});
    });

    io.on("leaveChannel", [&](socket& s, leave_channel const& l) {
        auto const room = room_of(l.channelName);
        if (l.channelName.empty() || !in_room(s, room))
            return refuse(s, "leaveChannel: not in channel \"" + l.channelName + "\"");
        s.leave(room);
        io.to(room).emit("userLeft", user_event{username_of(s)});
    });

    io.on_disconnecting([&](socket& s, std::string_view) {
        for (auto const& room : s.rooms())
            if (room.starts_with(channel_prefix))
                io.to(room).except(s.id()).emit("userLeft", user_event{username_of(s)});
    });

    io.on_error([&](socket& s, roomcast::handler_error const& e) { refuse(s, e.message); });

    std::cout << "chat listening on port " << io.port() << " with " << threads
              << (threads == 1 ? " thread" : " threads") << " (open http://localhost:" << io.port()
              << "/)" << std::endl;
    io.run(threads);
} catch (std::exception const& e) { // e.g. "roomcast: cannot listen on 127.0.0.1:3000: ..."
    std::cerr << "chat: " << e.what() << '\n';
    return 1;
}
