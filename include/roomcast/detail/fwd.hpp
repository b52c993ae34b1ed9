// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_FWD_HPP
#define ROOMCAST_DETAIL_FWD_HPP

namespace roomcast {
class socket;
class ack;
class name_space;
class broadcast_operator;
class timed_broadcast;
class remote_socket;
namespace detail {
class client;
class server_core;
class nsp_shard_base;
struct shard;
} // namespace detail
} // namespace roomcast

#endif
