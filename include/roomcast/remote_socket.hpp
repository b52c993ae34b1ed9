// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_REMOTE_SOCKET_HPP
#define ROOMCAST_REMOTE_SOCKET_HPP

#include <roomcast/convert.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/handshake.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_ref.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomcast {

/// A socket as `fetch_sockets()` found it, wherever it lives (Socket.IO's `RemoteSocket`):
/// a snapshot of its id, rooms, data and handshake, and actions that reach the socket itself.
///
/// Threads: a `remote_socket` is a value; use and copy it anywhere. Its actions post to the
/// socket's shard and do nothing if the socket has disconnected meanwhile; for a socket of
/// another server of a cluster, they reach it through the cluster.
class remote_socket {
public:
    remote_socket(std::string id, std::vector<std::string> rooms, boost::json::value data,
                  std::shared_ptr<handshake_info const> hs, std::weak_ptr<socket> s,
                  boost::asio::any_io_executor ex)
        : id_(std::move(id))
        , rooms_(std::move(rooms))
        , data_(std::move(data))
        , handshake_(std::move(hs))
        , socket_(std::move(s))
        , ex_(std::move(ex)) {}
    /// A socket of another server of the cluster, found in `nsp`: its actions go through the
    /// cluster.
    remote_socket(std::string id, std::vector<std::string> rooms, boost::json::value data,
                  std::shared_ptr<handshake_info const> hs, std::shared_ptr<name_space> nsp)
        : id_(std::move(id))
        , rooms_(std::move(rooms))
        , data_(std::move(data))
        , handshake_(std::move(hs))
        , nsp_(std::move(nsp)) {}

    std::string const& id() const noexcept { return id_; }
    /// The rooms it was in when fetched, its own id room included.
    std::vector<std::string> const& rooms() const noexcept { return rooms_; }
    /// A copy of its `data()` when fetched.
    boost::json::value const& data() const noexcept { return data_; }
    handshake_info const& handshake() const noexcept { return *handshake_; }

    /// Sends an event to this socket.
    template<class... Args>
    void emit(std::string_view event, Args const&... args) const {
        send_event(detail::make_payload(event, args...));
    }
    void emit(std::string_view event, std::initializer_list<boost::json::value_ref> arg) const {
        send_event(detail::event_payload(event, boost::json::value(arg)));
    }
    /// Makes the socket join or leave a room.
    void join(std::string_view room) const;
    void leave(std::string_view room) const;
    /// Disconnects the socket (with `close`, its whole connection).
    void disconnect(bool close = false) const;

private:
    void send_event(detail::payload p) const;
    /// Runs `f` on the socket's shard, if the socket is still there.
    void act(std::function<void(socket&)> f) const;

    std::string id_;
    std::vector<std::string> rooms_;
    boost::json::value data_;
    std::shared_ptr<handshake_info const> handshake_;
    std::weak_ptr<socket> socket_;
    boost::asio::any_io_executor ex_;
    std::shared_ptr<name_space> nsp_; // set for a socket of another server
};

} // namespace roomcast

#include <roomcast/impl/core.hpp>

#endif
