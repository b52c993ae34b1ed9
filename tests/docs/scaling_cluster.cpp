// An admin namespace on a cluster: queries that gather every server's answer, actions that
// reach sockets wherever they are connected, and events between the servers themselves.
#include <roomcast/redis.hpp>
#include <roomcast/roomcast.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <string>
#include <vector>

using cluster_server = roomcast::server<roomcast::transport::websocket, roomcast::redis_adapter>;

// The host's own.
void reload_bans();

void add_cluster_admin(cluster_server& io) {
    using boost::asio::as_tuple;
    using boost::asio::use_awaitable;
    auto& admin = io.of("/admin"); // guard it with middleware: see the guide

    // Counts of the whole cluster. A server that did not answer in time is error::timeout with
    // what the others answered: as_tuple takes both instead of throwing.
    admin.on("stats", [&](roomcast::socket&) -> boost::asio::awaitable<boost::json::object> {
        auto const [ec1, servers] = co_await io.server_count(as_tuple(use_awaitable));
        auto const [ec2, online] = co_await io.all().socket_count(as_tuple(use_awaitable));
        auto const [ec3, rooms] = co_await io.of("/").all_rooms(as_tuple(use_awaitable));
        boost::json::object sizes;
        for (auto const& r : rooms)
            sizes[r.name] = r.size; // members on this server; 0 for a room only elsewhere
        co_return boost::json::object{{"servers", servers},
                                      {"online", online},
                                      {"rooms", sizes},
                                      {"complete", !ec1 && !ec2 && !ec3}};
    });

    // Acts on a user's sockets one by one, on whichever server each one is.
    admin.on("kick", [&](roomcast::socket&, std::string const& user) {
        auto const room = "user:" + user; // where the guide's middleware puts their sockets
        io.in(room).fetch_sockets(
            [](boost::system::error_code, std::vector<roomcast::remote_socket> found) {
                for (auto const& r : found) {
                    r.emit("kicked", {{"by", "admin"}});
                    r.disconnect(true); // through Redis for a socket of another server
                }
            });
    });

    // Moves a room's members, on every server, then tells them in their new room.
    admin.on("move", [&](roomcast::socket&, std::string const& from, std::string const& to) {
        io.in(from).sockets_join(to);
        io.in(from).sockets_leave(from);
        io.to(to).emit("moved", to);
    });

    // Server-side events: messages between the servers that no client sees. Each server
    // answers "load" with the number of its own clients.
    io.on_server_side_emit("load", [&io](boost::json::array const&, roomcast::server_reply reply) {
        if (!reply)
            return; // the sender does not wait for answers
        io.all().local().socket_count(
            [reply](boost::system::error_code, std::size_t n) { reply(n); });
    });
    admin.on("load", [&io](roomcast::socket&, roomcast::ack answer) {
        io.server_side_emit_with_ack(
            "load", [answer](boost::system::error_code ec, boost::json::array loads) mutable {
                answer(loads, ec == roomcast::error::timeout); // the other servers' answers
            });
    });

    // Without answers: the other servers reload the ban list too (the sender's own handler is
    // not called).
    io.on_server_side_emit("bansChanged", [](boost::json::array const&, roomcast::server_reply) {
        reload_bans(); // on the first shard's thread: keep it short
    });
    admin.on("bansChanged", [&io](roomcast::socket&) {
        reload_bans();
        io.server_side_emit("bansChanged");
    });
}
