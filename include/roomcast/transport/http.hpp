// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_HTTP_HPP
#define ROOMCAST_TRANSPORT_HTTP_HPP

// The HTTP side of the transport that a host sees: the requests that are not Engine.IO's
// (the "front door").

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>

namespace roomcast::transport {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// Answers an HTTP request that is not for the Engine.IO path: static files, a health check,
/// metrics. Called on the shard that accepted the connection; it must not block.
using http_handler = std::function<http_response(http_request const&)>;

} // namespace roomcast::transport

#endif
