// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_WEBSOCKET_HPP
#define ROOMCAST_TRANSPORT_WEBSOCKET_HPP

// Engine.IO v4 on Boost.Asio and Beast: WebSocket and HTTP long-polling with the upgrade
// between them, the request checks and error answers, the open packet, the server-driven
// heartbeat, the bounded write queue, the close, CORS, and the front door for other HTTP
// requests. (The name is the transport's first: the listener serves both.) Beast serves HTTP
// and answers the WebSocket handshake; WebSocket frames are then read and written by the
// session itself (protocol/websocket.hpp), so that a connection's queued messages leave in
// one write and an idle connection holds no buffer.
// Spec: https://socket.io/docs/v4/engine-io-protocol/ (§"Handshake", §"Heartbeat",
// §"Upgrade", §"Payload").

#include <roomcast/transport/config.hpp>
#include <roomcast/transport/connection.hpp>
#include <roomcast/transport/options.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace roomcast::transport {

namespace detail {
class session_registry;
}

/// Accepts TCP connections and serves Engine.IO on them: sessions over WebSocket and over
/// HTTP long-polling (with upgrades to WebSocket), Engine.IO's error answers, and the front
/// door for other requests. Connections are spread over executors (shards) round robin; a
/// session lives on the executor of the connection that opened it. Runs on the executor of
/// its acceptor.
class websocket_listener {
public:
    using executor_picker = std::function<boost::asio::any_io_executor()>;
    using open_handler = std::function<void(std::shared_ptr<connection>)>;

    /// Binds and listens at once, so that a bad address or a port in use throws here.
    ROOMCAST_DECL websocket_listener(boost::asio::io_context& ctx,
                                     boost::asio::ip::tcp::endpoint ep, options const& opt);

    /// The bound port (useful when 0 was asked for).
    ROOMCAST_DECL std::uint16_t port() const;

    /// Starts accepting; new sessions live on the executors `pick` returns: one executor per
    /// io_context (its `get_executor()`), each io_context run by one thread.
    ROOMCAST_DECL void start(executor_picker pick, open_handler on_open);

    /// Marks the listener as stopping, from any thread: connections serve no further
    /// request, and closing polling sessions wait for no further poll.
    ROOMCAST_DECL void begin_stop() noexcept;
    /// Stops accepting and ends idle HTTP connections. Must run on the acceptor's executor.
    ROOMCAST_DECL void stop();

private:
    ROOMCAST_DECL void accept();

    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_; // backs off after a failed accept (out of descriptors)
    options const* opt_;
    executor_picker pick_;
    open_handler on_open_;
    std::shared_ptr<detail::session_registry> registry_; // sessions by id, for polling
};

/// The default transport policy: Engine.IO over plain HTTP (long-polling and WebSocket).
struct websocket {
    using listener = websocket_listener;
};

} // namespace roomcast::transport

#if defined(ROOMCAST_HEADER_ONLY)
#include <roomcast/transport/impl/websocket.ipp>
#endif

#endif
