// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_SOCKET_HPP
#define ROOMCAST_SOCKET_HPP

#include <roomcast/adapter/member.hpp>
#include <roomcast/convert.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/transport/connection.hpp>
#include <roomcast/transport/options.hpp>

#include <boost/json/value.hpp>
#include <boost/json/value_ref.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast {

/// What a client sent when it connected: the HTTP request of its Engine.IO session and the
/// auth payload of its Socket.IO CONNECT packet.
struct handshake_info : transport::request_info {
    boost::json::object auth;
};

/// Socket.IO's disconnect reasons (the server side's names).
namespace reason {
using namespace transport::reason;
inline constexpr std::string_view client_namespace_disconnect = "client namespace disconnect";
inline constexpr std::string_view server_namespace_disconnect = "server namespace disconnect";
inline constexpr std::string_view forced_server_close = "forced server close";
} // namespace reason

/// One client connected to one namespace: Socket.IO's server-side `socket`.
///
/// Lifetime and threads: a socket lives on one shard and every handler that receives it runs
/// there. Use the reference inside the handler call; do not keep it beyond. Member functions
/// must be called on the socket's shard (from its handlers).
class socket : public adapter::member {
public:
    socket(std::string id, name_space& nsp, detail::nsp_shard_base& local,
           std::shared_ptr<detail::client> const& c, std::shared_ptr<handshake_info const> hs);

    // id() comes from adapter::member.

    /// The namespace this socket is connected to.
    name_space& nsp() const noexcept { return *nsp_; }

    /// The rooms this socket is in, its own id room included.
    std::vector<std::string> rooms() const;

    /// Joins a room. Joining a room twice is a no-op.
    void join(std::string_view room);
    void join(std::initializer_list<std::string_view> rooms);
    void join(std::vector<std::string> const& rooms);

    /// Leaves a room. Leaving a room one is not in is a no-op.
    void leave(std::string_view room);

    /// Sends an event to this client. Arguments convert with `roomcast::to_json`.
    /// A disconnected socket ignores it.
    template<class... Args>
    void emit(std::string_view event, Args const&... args);
    void emit(std::string_view event, std::initializer_list<boost::json::value_ref> arg);

    /// A broadcast to `room` that excludes this socket (Socket.IO's `socket.to(room)`).
    broadcast_operator to(std::string_view room) const;
    broadcast_operator in(std::string_view room) const;
    /// A broadcast to everyone in the namespace but this socket, except `room`'s members.
    broadcast_operator except(std::string_view room) const;
    /// A broadcast to everyone in the namespace but this socket.
    broadcast_operator broadcast() const;

    /// Disconnects from this namespace (the client gets `disconnect` with
    /// "io server disconnect"); with `close`, closes the whole connection.
    void disconnect(bool close = false);

    /// False once disconnected.
    bool connected() const noexcept { return connected_; }

    /// The handshake of this connection.
    handshake_info const& handshake() const noexcept { return *handshake_; }

    /// Free-form data of the host's, kept for the socket's life (Socket.IO's `socket.data`).
    boost::json::value& data() noexcept { return data_; }
    boost::json::value const& data() const noexcept { return data_; }

    /// Delivers an encoded message (internal: broadcasts and acks use it).
    transport::send_status deliver(transport::message_ptr const& m, bool is_volatile = false);

    /// Runs the disconnect sequence once: disconnecting hook (rooms still populated), leave
    /// every room, disconnect hook (internal).
    void on_close(std::string_view why);

    /// Sends an EVENT packet whose data is `args` (internal).
    void send_event(boost::json::array args);

    /// The connection's Socket.IO client (internal: acks use it).
    std::weak_ptr<detail::client> client_weak() const noexcept { return client_; }

private:
    std::string_view nsp_name() const noexcept;

    name_space* nsp_;
    detail::nsp_shard_base* local_;
    std::weak_ptr<detail::client> client_;
    std::shared_ptr<handshake_info const> handshake_;
    boost::json::value data_;
    bool connected_ = true;
};

} // namespace roomcast

#include <roomcast/impl/core.hpp>

#endif
