// roomcast multiroom_chat: a chat with fixed rooms, and an admin namespace that watches it.
//
//   multiroom_chat [--port 3000] [--threads 1]
//
// Namespace /chat:
//   on connection        the socket joins `general`; `general` gets
//                        `notification` "New user joined general" (the newcomer included)
//   switchRoom <room>    room is one of general, tech, random (else `error`
//                        {"message":"Unknown room"}): the socket leaves its rooms, each of
//                        which gets `notification` "User left <room>"; it joins <room>, which
//                        gets "User joined <room>" (the switcher included); the switcher
//                        gets `roomChanged` <room>
//   message <text>       every room the socket is in gets `message`
//                        {"room":<room>,"sender":<socket id>,"message":<text>}
//   listUsers (ack)      answers the ids of the sockets in the caller's room
//   on disconnect        the socket's rooms get `notification` "User left <room>"
// Namespace /admin:
//   getStats             the asker gets `stats` {"chatUsers":n,"adminUsers":n,
//                        "rooms":{"general":n,"tech":n,"random":n}} (also as the ack, if asked)
//
// Rooms of /chat and /admin are independent. With --threads N the sockets spread over N
// shards; the counts and lists are gathered from all of them.

#include <roomcast/roomcast.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::array<std::string_view, 3> chat_rooms{"general", "tech", "random"};

struct chat_line {
    std::string room;
    std::string sender;
    std::string message;
};
BOOST_DESCRIBE_STRUCT(chat_line, (), (room, sender, message))

struct error_event {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(error_event, (), (message))

struct stats {
    std::size_t chatUsers;
    std::size_t adminUsers;
    std::map<std::string, std::size_t> rooms;
};
BOOST_DESCRIBE_STRUCT(stats, (), (chatUsers, adminUsers, rooms))

/// The rooms a socket is in, but its own id room.
std::vector<std::string> chat_rooms_of(roomcast::socket const& s) {
    auto rooms = s.rooms();
    std::erase(rooms, s.id());
    return rooms;
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
    auto& chat = io.of("/chat");
    auto& admin = io.of("/admin");
    using roomcast::socket;

    chat.on_connection([&](socket& s) {
        s.join("general");
        chat.to("general").emit("notification", "New user joined general");
    });

    chat.on("switchRoom", [&](socket& s, boost::json::value const& room) {
        auto const* name = room.if_string();
        if (!name || std::find(chat_rooms.begin(), chat_rooms.end(), *name) == chat_rooms.end())
            return s.emit("error", error_event{"Unknown room"});
        for (auto const& old : chat_rooms_of(s)) {
            s.leave(old);
            chat.to(old).emit("notification", "User left " + old);
        }
        std::string const next(*name);
        s.join(next);
        chat.to(next).emit("notification", "User joined " + next);
        s.emit("roomChanged", next);
    });

    chat.on("message", [&](socket& s, std::string const& text) {
        for (auto const& room : chat_rooms_of(s))
            chat.to(room).emit("message", chat_line{room, s.id(), text});
    });

    chat.on("listUsers", [&](socket& s) -> boost::asio::awaitable<std::vector<std::string>> {
        std::vector<std::string> ids;
        auto const rooms = chat_rooms_of(s);
        if (rooms.empty())
            co_return ids;
        for (auto const& r :
             co_await chat.in(rooms.front()).fetch_sockets(boost::asio::use_awaitable))
            ids.push_back(r.id());
        co_return ids;
    });

    chat.on_disconnecting([&](socket& s, std::string_view) {
        for (auto const& room : chat_rooms_of(s))
            chat.to(room).except(s.id()).emit("notification", "User left " + room);
    });

    admin.on("getStats", [&](socket& s, roomcast::ack a) -> boost::asio::awaitable<void> {
        stats st{};
        for (auto r : chat_rooms)
            st.rooms[std::string(r)] = 0;
        for (auto const& r : co_await chat.all_rooms(boost::asio::use_awaitable))
            if (st.rooms.contains(r.name))
                st.rooms[r.name] = r.size;
        st.chatUsers = co_await chat.all().socket_count(boost::asio::use_awaitable);
        st.adminUsers = co_await admin.all().socket_count(boost::asio::use_awaitable);
        s.emit("stats", st);
        a(st);
    });

    auto const report = [](socket& s, roomcast::handler_error const& e) {
        s.emit("error", error_event{e.message});
    };
    chat.on_error(report);
    admin.on_error(report);

    std::cout << "multiroom_chat listening on port " << io.port() << " with " << threads
              << (threads == 1 ? " thread" : " threads") << std::endl;
    io.run(threads);
} catch (std::exception const& e) { // e.g. "roomcast: cannot listen on 127.0.0.1:3000: ..."
    std::cerr << "multiroom_chat: " << e.what() << '\n';
    return 1;
}
