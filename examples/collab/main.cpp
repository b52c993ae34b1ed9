// roomcast collab: the notifications of a collaborative editor (who opened a document, who
// changed it, where their cursor is).
//
//   collab [--port 3000] [--threads 1]
//
// Document `x` is the room `doc:x`; a user is a socket, named by its id.
// Events:
//   openDocument {docId}
//                    the socket joins `doc:<docId>`; the room, the opener included, gets
//                    `userJoined` {userId, timestamp}
//   edit {docId, changes}
//                    the room, the editor included, gets `documentChanged`
//                    {userId, changes, timestamp}; `changes` is passed through as any JSON
//   cursor {docId, position}
//                    the room, the sender included, gets `cursorMoved` {userId, position};
//                    `position` is passed through as any JSON
//   closeDocument {docId}
//                    the socket leaves; the rest of the room gets `userLeft` {userId}
//   on disconnect    every document the socket had open gets `userLeft` {userId}
// `timestamp` is in milliseconds since the epoch, as JavaScript's Date.now().
//
// Malformed requests change nothing and get an `error` event {message}, sent to the
// requester only: `edit`, `cursor` or `closeDocument` on a document the socket has not
// opened ("Document not open"), an empty docId, or a payload that does not fit the fields
// above (e.g. "event \"edit\": argument 1: field .docId: expected string, got nothing").

#include <roomcast/roomcast.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace {

struct document_request { // openDocument / closeDocument
    std::string docId;
};
BOOST_DESCRIBE_STRUCT(document_request, (), (docId))

struct edit_request {
    std::string docId;
    boost::json::value changes;
};
BOOST_DESCRIBE_STRUCT(edit_request, (), (docId, changes))

struct cursor_request {
    std::string docId;
    boost::json::value position;
};
BOOST_DESCRIBE_STRUCT(cursor_request, (), (docId, position))

struct user_joined {
    std::string userId;
    std::int64_t timestamp;
};
BOOST_DESCRIBE_STRUCT(user_joined, (), (userId, timestamp))

struct document_changed {
    std::string userId;
    boost::json::value changes;
    std::int64_t timestamp;
};
BOOST_DESCRIBE_STRUCT(document_changed, (), (userId, changes, timestamp))

struct cursor_moved {
    std::string userId;
    boost::json::value position;
};
BOOST_DESCRIBE_STRUCT(cursor_moved, (), (userId, position))

struct user_left {
    std::string userId;
};
BOOST_DESCRIBE_STRUCT(user_left, (), (userId))

struct error_event {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(error_event, (), (message))

constexpr std::string_view doc_prefix = "doc:";

std::string room_of(std::string_view doc) {
    return std::string(doc_prefix) + std::string(doc);
}

bool has_open(roomcast::socket const& s, std::string const& room) {
    auto const rooms = s.rooms();
    return std::find(rooms.begin(), rooms.end(), room) != rooms.end();
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int usage(char const* self) {
    std::cerr << "usage: " << self << " [--port N] [--threads N]\n";
    return 2;
}

} // namespace

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
    using roomcast::socket;
    auto const not_open = [](socket& s) { s.emit("error", error_event{"Document not open"}); };
    auto const empty_id = [](socket& s) {
        s.emit("error", error_event{"docId must not be empty"});
    };

    io.on("openDocument", [&](socket& s, document_request const& r) {
        if (r.docId.empty())
            return empty_id(s);
        auto const room = room_of(r.docId);
        s.join(room);
        io.to(room).emit("userJoined", user_joined{s.id(), now_ms()});
    });

    io.on("edit", [&](socket& s, edit_request const& r) {
        auto const room = room_of(r.docId);
        if (!has_open(s, room))
            return not_open(s);
        io.to(room).emit("documentChanged", document_changed{s.id(), r.changes, now_ms()});
    });

    io.on("cursor", [&](socket& s, cursor_request const& r) {
        auto const room = room_of(r.docId);
        if (!has_open(s, room))
            return not_open(s);
        io.to(room).emit("cursorMoved", cursor_moved{s.id(), r.position});
    });

    io.on("closeDocument", [&](socket& s, document_request const& r) {
        auto const room = room_of(r.docId);
        if (!has_open(s, room))
            return not_open(s);
        s.leave(room);
        io.to(room).emit("userLeft", user_left{s.id()});
    });

    // Still in its rooms here; the leaving socket itself is not told.
    io.on_disconnecting([&](socket& s, std::string_view /*reason*/) {
        for (auto const& room : s.rooms())
            if (room.starts_with(doc_prefix))
                io.to(room).except(s.id()).emit("userLeft", user_left{s.id()});
    });

    io.on_error([](socket& s, roomcast::handler_error const& e) {
        s.emit("error", error_event{e.message});
    });

    std::cout << "collab listening on port " << io.port() << " with " << threads
              << (threads == 1 ? " thread" : " threads") << std::endl;
    io.run(threads);
} catch (std::exception const& e) { // e.g. "roomcast: cannot listen on 127.0.0.1:3000: ..."
    std::cerr << "collab: " << e.what() << '\n';
    return 1;
}
