// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_REDIS_HPP
#define ROOMCAST_REDIS_HPP

#include <roomcast/adapter/memory.hpp>
#include <roomcast/detail/redis_node.hpp>
#include <roomcast/redis_options.hpp>

namespace roomcast {

/// The Redis adapter: rooms kept in memory as by `adapter::memory`, plus a cluster bus on
/// Redis that makes several servers one Socket.IO cluster, as Node's
/// `@socket.io/redis-adapter` 8.x does, and with the same messages, so that roomcast servers
/// and Node.js Socket.IO servers using that adapter (with the same key) can share a cluster.
///
/// `roomcast::server<roomcast::transport::websocket, roomcast::redis_adapter> io(opt,
/// {.host = "10.0.0.5", .port = 6379});`
///
/// Broadcasts, `fetch_sockets`, `socket_count`, `sockets_join`, `sockets_leave`,
/// `disconnect_sockets`, `all_rooms`, broadcasts with acknowledgements and server-side
/// events span every server; `local()` keeps a broadcast on this one. The server connects to
/// Redis with two connections (publishing and subscribing), driven by its first shard's
/// thread, and reconnects with backoff; while Redis is unreachable, everything local keeps
/// working, what was meant for other servers is dropped, and `redis_options::on_state` and
/// the log say so.
struct redis_adapter : adapter::memory {
    using options = redis_options;
    using node = detail::redis_node;
};
static_assert(adapter::room_adapter<redis_adapter>);

} // namespace roomcast

#endif
