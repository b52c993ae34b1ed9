// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_HTTP_HPP
#define ROOMCAST_TRANSPORT_HTTP_HPP

// The HTTP side of the transport that a host sees: the requests that are not Engine.IO's
// (the "front door"), and the cross-origin rules of Engine.IO's polling answers.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::transport {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// Answers an HTTP request that is not for the Engine.IO path: static files, a health check,
/// metrics. Called on the shard that accepted the connection; it must not block.
using http_handler = std::function<http_response(http_request const&)>;

/// Cross-origin rules for Engine.IO's HTTP answers (long-polling and its errors), as
/// Socket.IO's `cors` option. With no origin allowed (the default) no CORS header is sent, and
/// browsers let only pages of the server's own origin poll it. WebSocket handshakes are not
/// subject to CORS: check their `Origin` with `allow_request`.
struct cors_options {
    /// Allowed origins: `{"*"}` allows any; otherwise the exact `Origin` values allowed.
    std::vector<std::string> origin;
    /// Decides origins that `origin` does not list.
    std::function<bool(std::string_view origin)> allow_origin;
    /// Sends `Access-Control-Allow-Credentials: true` (the origin is then echoed, never `*`).
    bool credentials = false;
    /// Methods a preflight allows.
    std::vector<std::string> methods = {"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"};
    /// Request headers a preflight allows; empty allows those the browser asks for.
    std::vector<std::string> allowed_headers;
};

} // namespace roomcast::transport

#endif
