// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_CLUSTER_HPP
#define ROOMCAST_DETAIL_CLUSTER_HPP

#include <roomcast/adapter/member.hpp>
#include <roomcast/convert.hpp>
#include <roomcast/detail/fwd.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace roomcast {
struct room_info;
} // namespace roomcast

namespace roomcast::detail {

using fetch_handler = boost::asio::any_completion_handler<void(boost::system::error_code,
                                                               std::vector<remote_socket>)>;
using rooms_handler =
    boost::asio::any_completion_handler<void(boost::system::error_code, std::vector<room_info>)>;
using count_handler =
    boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
using responses_handler =
    boost::asio::any_completion_handler<void(boost::system::error_code, boost::json::array)>;

/// What the local part of a broadcast with acknowledgements reports, from any shard.
struct local_ack_callbacks {
    std::function<void(std::size_t clients)> client_count; ///< once, when every shard sent
    std::function<void(boost::json::value answer)> answer; ///< each client's first argument
    std::function<void()> gone; ///< a recipient disconnected or its packet was dropped
};

/// What the other nodes of a broadcast with acknowledgements report, as they report it.
/// Called on the cluster's thread.
struct remote_ack_callbacks {
    std::function<void(std::size_t servers)> server_count; ///< every node, this one included
    std::function<void(std::size_t clients)> client_count; ///< once per other node
    std::function<void(boost::json::value answer)> answer; ///< each client's first argument
};

/// The node of a cluster adapter (Redis): what the API layer asks of the other servers of a
/// cluster. The namespace operations call it after doing their local part, and never for an
/// operation flagged `local`; it delivers what other nodes send through the namespaces'
/// local operations.
///
/// Threads: callable from any thread; implementations post to their own executor. Handlers
/// complete on the server's home executor of the calling thread's shard, or on the cluster's.
class cluster {
public:
    virtual ~cluster() = default;

    /// A namespace exists on this node now (a static one, or a dynamic child just made):
    /// traffic for it is to be received from now on.
    virtual void add_namespace(std::shared_ptr<name_space> const& nsp) = 0;
    /// A dynamic child namespace was dropped.
    virtual void remove_namespace(std::string const& name) = 0;

    /// Sends a broadcast to the other nodes. `p.args` starts with the event name.
    virtual void publish(name_space& nsp, payload const& p,
                         adapter::broadcast_options const& opt) = 0;

    enum class action { join, leave, disconnect, disconnect_close };
    /// Makes the sockets of other nodes that `opt` selects join or leave `rooms`, or
    /// disconnect.
    virtual void sockets_action(name_space& nsp, adapter::broadcast_options const& opt, action a,
                                std::vector<std::string> const& rooms) = 0;

    /// Completes `h` with `local` and the sockets of the other nodes that `opt` selects.
    virtual void fetch_sockets(name_space& nsp, adapter::broadcast_options const& opt,
                               std::vector<remote_socket> local, fetch_handler h) = 0;
    /// Completes `h` with `local` and the rooms of the other nodes.
    virtual void all_rooms(name_space& nsp, std::vector<room_info> local, rooms_handler h) = 0;
    /// Completes `h` with the number of servers of the cluster, this one included.
    virtual void server_count(name_space& nsp, count_handler h) = 0;

    /// Sends `p` (event name first) to the server-side handlers of the other nodes.
    virtual void server_side_emit(name_space& nsp, payload const& p) = 0;
    /// The same, completing `h` with each other node's answer.
    virtual void server_side_emit_with_ack(name_space& nsp, payload const& p,
                                           responses_handler h) = 0;

    /// Sends a broadcast whose recipients on other nodes acknowledge; see
    /// `remote_ack_callbacks`. Reports stop after `timeout`.
    virtual void broadcast_with_ack(name_space& nsp, payload const& p,
                                    adapter::broadcast_options const& opt,
                                    std::chrono::milliseconds timeout,
                                    remote_ack_callbacks callbacks) = 0;

    /// Disconnects from the cluster: pending requests complete with what they have, and the
    /// node holds no more work on its executor. Called when the server closes.
    virtual void close() = 0;
};

} // namespace roomcast::detail

#endif
