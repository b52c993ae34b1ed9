// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_HANDSHAKE_HPP
#define ROOMCAST_HANDSHAKE_HPP

#include <roomcast/transport/options.hpp>

#include <boost/json/object.hpp>

namespace roomcast {

/// What a client sent when it connected: the HTTP request of its Engine.IO session and the
/// auth payload of its Socket.IO CONNECT packet.
struct handshake_info : transport::request_info {
    boost::json::object auth;
};

} // namespace roomcast

#endif
