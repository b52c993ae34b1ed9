// Bytes travel as Socket.IO binary attachments: a Buffer, ArrayBuffer or Blob in JavaScript,
// bytes in Python.
#include <roomcast/roomcast.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// The host's own.
std::vector<std::uint8_t> load_avatar(std::string_view user);

struct shared_file {
    std::string room;
    std::string name;
    roomcast::binary data; // an attachment, wherever it sits in the payload
};
BOOST_DESCRIBE_STRUCT(shared_file, (), (room, name, data))

void add_file_sharing(roomcast::server<>& io) {
    // Client: socket.emit("share", {room, name, data: fileBuffer}, (size) => ...)
    io.on("share", [](roomcast::socket& s, shared_file const& f) {
        if (f.data.size() > 256 * 1024)
            throw std::length_error("file too large"); // reported to on_error and the ack
        s.to(f.room).emit("fileShared", f);            // the bytes go on as an attachment
        return f.data.size();
    });

    // A binary value built by the server.
    io.on("avatar", [](roomcast::socket&, std::string const& user) {
        return roomcast::binary(load_avatar(user)); // the ack carries an attachment
    });

    // Forwards whatever followed the room name, attachments included, without decoding it.
    io.on("relay", [](roomcast::socket& s, std::string const& room, roomcast::arguments rest) {
        s.to(room).emit("relayed", s.id(), rest);
    });
}
