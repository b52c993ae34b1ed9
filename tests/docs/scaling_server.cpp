// One server of a cluster: several of these processes on one Redis are one Socket.IO server to
// their clients, and a room's members may be connected to any of them.
#include <roomcast/redis.hpp>
#include <roomcast/roomcast.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

using cluster_server = roomcast::server<roomcast::transport::websocket, roomcast::redis_adapter>;

roomcast::redis_options cluster_redis() {
    using namespace std::chrono_literals;
    return {
        .host = "10.0.0.5", // every server of the cluster uses the same Redis...
        .port = 6379,
        .key = "socket.io", // ...and the same key (this is the default, as in Node's adapter)
        .requests_timeout = 2s,
        // On the first shard's thread, when the cluster connection comes up or goes down.
        .on_state =
            [](bool connected, boost::system::error_code ec) {
                if (!connected)
                    std::clog << "Redis lost (" << ec.message() << "): serving locally\n";
            },
    };
}

void add_chat(cluster_server& io) {
    io.on("join", [&](roomcast::socket& s, std::string const& room) {
        s.join(room);                       // this server's part of the room
        io.to(room).emit("joined", s.id()); // the room's members on every server
    });
    io.on("say", [](roomcast::socket& s, std::string const& room, std::string const& text) {
        s.to(room).emit("said", s.id(), text); // every member but the sender, on every server
    });
    io.on("typing", [](roomcast::socket& s, std::string const& room) {
        s.to(room).local().emit("typing", s.id()); // this server's members only
    });
}

int run_cluster_member(std::uint16_t port) {
    // The adapter's options come second. Redis need not be up: the server serves its own
    // clients at once and joins the cluster when Redis answers.
    cluster_server io({.port = port}, cluster_redis());
    add_chat(io);
    io.run(4);
    return 0;
}
