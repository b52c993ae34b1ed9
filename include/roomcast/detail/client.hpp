// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_CLIENT_HPP
#define ROOMCAST_DETAIL_CLIENT_HPP

#include <roomcast/adapter/member.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/handshake.hpp>
#include <roomcast/protocol/socketio.hpp>
#include <roomcast/transport/connection.hpp>

#include <algorithm>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomcast::detail {

/// The Socket.IO side of one Engine.IO connection (Socket.IO's `Client`): decodes packets,
/// multiplexes namespaces, owns the sockets. Lives on its connection's shard.
class client final : public transport::connection_handler,
                     public std::enable_shared_from_this<client> {
public:
    client(server_core& server, shard& home, std::shared_ptr<transport::connection> conn);

    /// Registers with the shard and arms the connect timeout.
    void start();

    void on_message(std::string_view data, bool binary) override;
    void on_close(std::string_view why) override;

    /// Queues an encoded message on the connection.
    transport::send_status send(transport::message_ptr m, bool is_volatile = false);

    /// Forgets the socket of `nsp` (it disconnected); returns it so the caller can keep it
    /// alive until it is done with it.
    std::shared_ptr<socket> remove(std::string_view nsp);

    /// Disconnects every socket ("server namespace disconnect"), then closes the connection.
    void disconnect_all();
    /// Closes every socket with `why` and the connection (server shutdown).
    void shutdown(std::string_view why);

    /// An acknowledgement the client asked for is held by the server, and answered (or
    /// dropped); from any thread.
    void ack_taken() noexcept { acks_in_flight_.fetch_add(1, std::memory_order_relaxed); }
    void ack_answered() noexcept { acks_in_flight_.fetch_sub(1, std::memory_order_relaxed); }

    transport::connection& connection() noexcept { return *conn_; }
    shard& home() noexcept { return *home_; }

private:
    void dispatch(protocol::socketio::packet p);
    void connect(protocol::socketio::packet const& p);
    void fail(std::string_view why, std::string_view detail);
    /// The client broke a limit: tells it why with an `error` event on namespace `nsp` (if it
    /// is connected there), then disconnects every socket and closes the connection.
    void refuse(std::string_view nsp, std::string message);
    /// Takes a token for one packet (options::client_rate); false when none is left.
    bool take_token();
    /// A copy of the sockets, for loops whose steps remove sockets from the map.
    std::vector<std::shared_ptr<socket>> sockets_snapshot() const;

    server_core* server_;
    shard* home_;
    std::shared_ptr<transport::connection> conn_;
    using socket_list = std::vector<std::pair<std::string, std::shared_ptr<socket>>>;
    socket_list::iterator find(std::string_view nsp) noexcept {
        return std::find_if(sockets_.begin(), sockets_.end(),
                            [nsp](auto const& e) { return e.first == nsp; });
    }

    // By namespace name. A list: a connection uses one namespace or a few, and an idle
    // connection should cost little memory.
    socket_list sockets_;
    // The handshake of the first namespace connected: the HTTP request, taken over from the
    // connection, is copied from here into the handshakes of later namespaces.
    std::shared_ptr<handshake_info const> first_handshake_;
    protocol::socketio::binary_assembler assembler_;
    std::unique_ptr<boost::asio::steady_timer> connect_timer_; // until a namespace connects
    std::atomic<std::uint32_t> acks_in_flight_{0};
    double tokens_ = -1; // options::client_rate's bucket; below zero until first used
    std::chrono::steady_clock::time_point refilled_;
    bool closed_ = false;
    bool refused_ = false; // broke a limit: nothing more it sends is dispatched
};

} // namespace roomcast::detail

#include <roomcast/impl/core.hpp>

#endif
