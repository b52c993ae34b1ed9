// Presence: a socket's rooms hear that it left, whatever the reason.
#include <roomcast/roomcast.hpp>

#include <iostream>
#include <string>
#include <string_view>

void add_presence(roomcast::server<>& io) {
    io.on("setName", [](roomcast::socket& s, std::string const& name) {
        s.data() = {{"name", name}};
    });
    // Before the socket leaves its rooms: they still have it, so each can be told.
    io.on_disconnecting([](roomcast::socket& s, std::string_view reason) {
        for (auto const& room : s.rooms())
            if (room != s.id())
                s.to(room).emit("memberLeft", {{"id", s.id()}, {"reason", reason}});
    });
    // After: it has left every room (s.rooms() is empty); its data is still there.
    io.on_disconnect([](roomcast::socket& s, std::string_view reason) {
        std::clog << "socket " << s.id() << ' ' << s.data() << " gone: " << reason << '\n';
    });
    // The server ends a socket. "logout" leaves this namespace ("server namespace disconnect")
    // and keeps the connection for the client's other namespaces; "quit" closes it.
    io.on("logout", [](roomcast::socket& s) { s.disconnect(); });
    io.on("quit", [](roomcast::socket& s) { s.disconnect(true); });
}
