// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_OPTIONS_HPP
#define ROOMCAST_OPTIONS_HPP

#include <roomcast/transport/options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace roomcast {

/// How bad a log line is.
enum class log_level { debug, info, warning, error };

/// A token bucket: `per_second` on average, up to `burst` at once. A `per_second` of zero
/// turns it off; a `burst` of zero means one second's worth (and never less than one).
struct rate_limit {
    double per_second = 0;
    double burst = 0;
};

/// Server options: an aggregate, set with designated initializers
/// (`roomcast::server<> io({.port = 8080});`). Socket.IO's defaults unless noted.
struct options {
    /// Address to listen on.
    std::string address = "0.0.0.0";
    /// Port to listen on; 0 picks a free one (see `server::port()`).
    std::uint16_t port = 3000;
    /// Engine.IO transport settings: path, heartbeat, max payload, write-queue bound.
    transport::options transport = {};
    /// An Engine.IO connection that joins no namespace within this time is closed.
    std::chrono::milliseconds connect_timeout{45000};
    /// Drop a child of a dynamic namespace (`io.of(regex)`) once its last socket has left.
    bool cleanup_empty_child_namespaces = false;
    /// Binary attachments one packet may announce (more closes the connection: parse error).
    std::size_t max_attachments = 10;
    /// Rooms one socket may be in, its own id room included; `socket::join` past it is
    /// refused (returns false, logs a warning).
    std::size_t max_rooms_per_socket = 1000;
    /// Longest room name `socket::join` accepts, in bytes.
    std::size_t max_room_name_bytes = 1024;
    /// Longest event name a client may send, in bytes.
    std::size_t max_event_name_bytes = 256;
    /// Acknowledgements a client may have asked for that the server has not answered yet,
    /// over all of its namespaces (while a coroutine handler runs, or an `ack` waits).
    std::size_t max_acks_in_flight = 256;
    /// Packets a client may send (events, acknowledgements, namespace connects): off by
    /// default.
    rate_limit client_rate = {};
    /// Close the server on SIGINT and SIGTERM while `run()` runs (only when the server owns
    /// its io_contexts).
    bool handle_signals = true;
    /// Where log lines go; empty writes warnings and errors to stderr.
    std::function<void(log_level, std::string_view)> log;
};

} // namespace roomcast

#endif
