// Rooms that clients ask to join and leave, and the room every socket is in from the start.
#include <roomcast/roomcast.hpp>

#include <string>

struct room_request {
    std::string room;
};
BOOST_DESCRIBE_STRUCT(room_request, (), (room))

struct direct_message {
    std::string to; // a socket id
    std::string text;
};
BOOST_DESCRIBE_STRUCT(direct_message, (), (to, text))

void add_room_handlers(roomcast::server<>& io) {
    // Client-chosen rooms get a prefix, so that no client can name another socket's id room.
    io.on("join", [&](roomcast::socket& s, room_request const& r) {
        auto const room = "room:" + r.room;
        s.join(room); // joining twice does nothing
        io.to(room).emit("joined", {{"room", r.room}, {"id", s.id()}});
        return s.rooms(); // answers the client's ack: [<its id>, "room:lobby", ...]
    });
    io.on("leave", [&](roomcast::socket& s, room_request const& r) {
        auto const room = "room:" + r.room;
        s.leave(room); // leaving a room one is not in does nothing
        io.to(room).emit("left", {{"room", r.room}, {"id", s.id()}});
    });
    // A socket's id names a room with that socket in it: how one client is reached.
    io.on("dm", [&](roomcast::socket& s, direct_message const& m) {
        if (m.to.starts_with("room:"))
            return; // a room, not a socket
        io.to(m.to).emit("dm", {{"from", s.id()}, {"text", m.text}});
    });
}
