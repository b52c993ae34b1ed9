// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_OPTIONS_HPP
#define ROOMCAST_TRANSPORT_OPTIONS_HPP

#include <roomcast/transport/field_list.hpp>
#include <roomcast/transport/http.hpp>
#include <roomcast/transport/tls_layer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomcast::transport {

struct request_info;

/// Engine.IO transport options. Defaults are Engine.IO's unless a comment says otherwise.
struct options {
    /// The path Engine.IO answers on; other paths get 404.
    std::string path = "/socket.io/";
    /// How often the server pings (Engine.IO v4: the server pings, the client answers).
    std::chrono::milliseconds ping_interval{25000};
    /// How long a ping may wait for its pong before the connection is closed ("ping timeout").
    std::chrono::milliseconds ping_timeout{20000};
    /// Largest message a client may send, in bytes; a larger WebSocket frame closes with 1009.
    std::size_t max_payload = 1'000'000;
    /// Bytes queued for one connection and not yet written. Past it the client is a slow
    /// consumer and is disconnected ("transport error"); volatile messages are dropped before
    /// that, as soon as the client stops taking what is written (its socket's kernel buffer is
    /// full; over polling, while no GET waits). Protects the server's memory from clients that
    /// stop reading.
    std::size_t max_queue_bytes = 4 * 1024 * 1024;
    /// Engine.IO sessions open at once, over all shards; a handshake past it is refused with
    /// HTTP 503 `{"code":4,"message":"Too many connections"}`.
    std::size_t max_connections = 100'000;
    /// Time a client has to send its HTTP request (its TLS handshake included), and to finish
    /// a WebSocket close handshake.
    std::chrono::milliseconds handshake_timeout{10000};
    /// Largest HTTP request header block accepted, in bytes.
    std::size_t max_header_bytes = 8 * 1024;
    /// The transports clients may use: HTTP long-polling (where Socket.IO clients start by
    /// default) and WebSocket.
    struct transport_set {
        bool polling = true;
        bool websocket = true;
    } transports = {};
    /// Whether a polling session may upgrade to WebSocket.
    bool allow_upgrades = true;
    /// How long an upgrade may take, from the WebSocket's opening to its `5` packet.
    std::chrono::milliseconds upgrade_timeout{10000};
    /// Cross-origin rules of Engine.IO's HTTP answers (see cors_options).
    cors_options cors = {};
    /// Decides, before a handshake, whether a request may open a session (an Origin check,
    /// say); refused requests get 403 `{"code":4,"message":"Forbidden"}`. Empty allows all.
    std::function<bool(request_info const&)> allow_request;
    /// Answers requests off the Engine.IO path; without it they get 404.
    http_handler on_http;
    /// On Linux, whether the writes a shard makes at the end of a turn of its event loop, to
    /// two connections or more, are handed to the kernel in one io_uring submission rather
    /// than one `send` each: the same bytes and results, fewer system calls (a broadcast to a
    /// room costs one instead of one per member). Where the kernel refuses io_uring (before
    /// 5.18, disabled by sysctl, filtered by a container's seccomp policy), or with false,
    /// every connection is written with `send`. (roomcast's own: Engine.IO has no such
    /// option.)
    bool use_io_uring = true;
    /// Serves TLS (`https://` polling, `wss://`) instead of plain HTTP on the port when set:
    /// `roomcast::tls(...)` from <roomcast/tls.hpp> makes it. Every connection then starts
    /// with a TLS handshake; one that is not TLS is dropped.
    std::shared_ptr<tls_factory const> tls;
};

/// What a connection's HTTP request said, kept for the Socket.IO handshake.
struct request_info {
    std::string url;     ///< request target
    field_list headers;  ///< names lowercased
    field_list query;    ///< percent-decoded
    std::string address; ///< remote IP address
    bool secure = false; ///< arrived over TLS

    /// The first value of header `name` (lowercase), or empty.
    std::string_view header(std::string_view name) const noexcept { return headers.find(name); }
    /// The first value of query parameter `name`, or empty.
    std::string_view query_param(std::string_view name) const noexcept { return query.find(name); }
};

/// Engine.IO's close reasons, as Socket.IO reports them in `disconnect`.
namespace reason {
inline constexpr std::string_view transport_close = "transport close";
inline constexpr std::string_view transport_error = "transport error";
inline constexpr std::string_view ping_timeout = "ping timeout";
inline constexpr std::string_view parse_error = "parse error";
inline constexpr std::string_view forced_close = "forced close";
inline constexpr std::string_view server_shutting_down = "server shutting down";
} // namespace reason

} // namespace roomcast::transport

#endif
