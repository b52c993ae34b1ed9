// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_REDIS_OPTIONS_HPP
#define ROOMCAST_REDIS_OPTIONS_HPP

#include <roomcast/adapter/redis/connection.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace roomcast {

/// Options of the Redis adapter and of the Redis emitter. Defaults are those of Node's
/// `@socket.io/redis-adapter` unless noted.
struct redis_options {
    /// The Redis server.
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    /// Credentials for `AUTH`, sent when `password` is set (`username` for Redis 6 ACLs).
    std::string username;
    std::string password;
    /// The prefix of every channel: servers share a cluster when they use the same key.
    std::string key = "socket.io";
    /// How long a request to the other servers (fetch sockets, all rooms, server-side emit
    /// with acknowledgements) waits for their answers.
    std::chrono::milliseconds requests_timeout{5000};
    /// Ask other nodes to answer on this node's own response channel. Node's default is
    /// false; either works with either.
    bool publish_on_specific_response_channel = false;
    /// Delays between reconnection attempts: the first, doubled after each failure, up to
    /// the last.
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{5000};
    /// Binary attachments a message from another server may hold.
    std::size_t max_attachments = 10;
    /// Called on the first shard's thread when the connection to the cluster comes up
    /// (`connected`, once both of its Redis connections are up and subscribed) or goes down
    /// (with the error). The log gets a line too.
    std::function<void(bool connected, boost::system::error_code ec)> on_state;
};

namespace detail {
/// The options of each Redis connection of the adapter and of the emitter.
inline adapter::redis::connection_options connection_options_of(redis_options const& o) {
    adapter::redis::connection_options co;
    co.server = {o.host, o.port};
    co.username = o.username;
    co.password = o.password;
    co.initial_backoff = o.initial_backoff;
    co.max_backoff = o.max_backoff;
    return co;
}
} // namespace detail

} // namespace roomcast

#endif
