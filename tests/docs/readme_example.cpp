#include <roomcast/roomcast.hpp>

struct join_room {
    std::string roomName;
    std::string userName;
};
BOOST_DESCRIBE_STRUCT(join_room, (), (roomName, userName))

int main() {
    roomcast::server<> io({.port = 3000}); // server<Transport, Adapter> with defaults

    io.on("joinRoom", [&](roomcast::socket& s, join_room const& d) { // typed payload
        s.join(d.roomName);
        io.to(d.roomName).emit("userJoined", {{"userName", d.userName}, {"id", s.id()}});
        s.emit("roomJoined", {{"roomName", d.roomName}});
    });
    io.on("echo", [](roomcast::socket&, boost::json::value v) { return v; }); // return = ack
    io.on_disconnecting([&](roomcast::socket& s, std::string_view /*reason*/) {
        for (auto const& room : s.rooms())
            io.to(room).emit("userLeft", {{"id", s.id()}});
    });
    io.run(); // until SIGINT/SIGTERM; or construct on the host's io_context
}
