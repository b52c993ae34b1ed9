// An admin namespace that asks about the rooms of "/" and acts on them. The queries gather
// their answer from every shard, so they are asynchronous operations: a callback, or
// co_await with boost::asio::use_awaitable.
#include <roomcast/roomcast.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <vector>

void add_admin_queries(roomcast::server<>& io) {
    auto& admin = io.of("/admin"); // guard it with middleware: see the guide

    // The sockets in a room: snapshots of their id, rooms, data and handshake.
    admin.on("members", [&](roomcast::socket&, std::string const& room, roomcast::ack reply) {
        io.in(room).fetch_sockets(
            [reply](boost::system::error_code, std::vector<roomcast::remote_socket> found) mutable {
                boost::json::array members;
                for (auto const& r : found)
                    members.push_back({{"id", r.id()}, {"data", r.data()}});
                reply(members);
            });
    });

    // How many are online, and every room with its size (id rooms included).
    admin.on("stats", [&](roomcast::socket&) -> boost::asio::awaitable<boost::json::object> {
        auto const online = co_await io.all().socket_count(boost::asio::use_awaitable);
        auto const lobby = co_await io.in("lobby").socket_count(boost::asio::use_awaitable);
        boost::json::object rooms;
        for (auto const& r : co_await io.of("/").all_rooms(boost::asio::use_awaitable))
            rooms[r.name] = r.size;
        co_return boost::json::object{{"online", online}, {"lobby", lobby}, {"rooms", rooms}};
    });

    // Moves everyone in one room to another. A broadcast made afterwards by the same caller
    // reaches them in their new room, on every shard.
    admin.on("move", [&](roomcast::socket&, std::string const& from, std::string const& to) {
        io.in(from).sockets_join(to);
        io.in(from).sockets_leave(from);
        io.to(to).emit("moved", to);
    });

    // Ends a room: its members are disconnected from "/".
    admin.on("close",
             [&](roomcast::socket&, std::string const& room) { io.in(room).disconnect_sockets(); });

    // Acts on the sockets one by one, wherever they live.
    admin.on("kick", [&](roomcast::socket&, std::string const& name) {
        io.all().fetch_sockets(
            [name](boost::system::error_code, std::vector<roomcast::remote_socket> found) {
                for (auto const& r : found) {
                    auto const* data = r.data().if_object(); // a copy of its s.data()
                    auto const* n = data ? data->if_contains("name") : nullptr;
                    if (n && n->is_string() && n->get_string() == name) {
                        r.emit("kicked", {{"by", "admin"}});
                        r.disconnect(true); // its whole connection
                    }
                }
            });
    });
}
