// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_BROADCAST_HPP
#define ROOMCAST_BROADCAST_HPP

#include <roomcast/adapter/member.hpp>
#include <roomcast/convert.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/detail/initiate.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_ref.hpp>

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomcast {

/// Selects recipients and emits to them: Socket.IO's BroadcastOperator. Made by `io.to(room)`,
/// `socket.to(room)`, `nsp.except(room)`...; each call returns a new operator, so
/// `io.to("a").to("b").except("c")` reads as in JavaScript.
///
/// Recipients: members of any `to` room (everyone in the namespace when none is named), minus
/// members of any `except` room, each at most once, on every shard. `emit` encodes the packet
/// once and shares the bytes with every recipient. Callable from any thread: off the shards
/// it posts to each of them; on a shard, local recipients are served in place.
class broadcast_operator {
public:
    explicit broadcast_operator(name_space& nsp) noexcept
        : nsp_(&nsp) {}

    broadcast_operator to(std::string_view room) const {
        auto c = *this;
        c.opt_.rooms.emplace_back(room);
        return c;
    }
    broadcast_operator in(std::string_view room) const { return to(room); }
    broadcast_operator except(std::string_view room) const {
        auto c = *this;
        c.opt_.except.emplace_back(room);
        return c;
    }
    /// Marks the packet as droppable for clients that are not ready to receive it.
    broadcast_operator volatile_() const {
        auto c = *this;
        c.opt_.is_volatile = true;
        return c;
    }
    /// Restricts the broadcast to this node (meaningful with a cluster adapter).
    broadcast_operator local() const {
        auto c = *this;
        c.opt_.local = true;
        return c;
    }
    /// Accepted for compatibility with Socket.IO; frames are not compressed.
    broadcast_operator compress(bool on) const {
        auto c = *this;
        c.opt_.compress = on;
        return c;
    }

    /// Emits `event` with `args` (each converted with `roomcast::to_json`).
    template<class... Args>
    void emit(std::string_view event, Args const&... args) const {
        send_event(detail::make_payload(event, args...));
    }
    void emit(std::string_view event, std::initializer_list<boost::json::value_ref> arg) const {
        send_event(detail::event_payload(event, boost::json::value(arg)));
    }

    /// The sockets this operator selects, on every shard: Socket.IO's `fetchSockets()`.
    /// Completion signature `void(boost::system::error_code, std::vector<remote_socket>)`.
    template<class Token>
    auto fetch_sockets(Token&& token) const {
        using sig = void(boost::system::error_code, std::vector<remote_socket>);
        return boost::asio::async_initiate<Token, sig>(
            [self = *this](auto h) {
                self.start_fetch(boost::asio::any_completion_handler<sig>(std::move(h)));
            },
            token);
    }
    /// How many sockets this operator selects, on every shard (`io.in(room)` counts a room).
    /// Completion signature `void(boost::system::error_code, std::size_t)`.
    template<class Token>
    auto socket_count(Token&& token) const {
        using sig = void(boost::system::error_code, std::size_t);
        return boost::asio::async_initiate<Token, sig>(
            [self = *this](auto h) {
                self.start_count(boost::asio::any_completion_handler<sig>(std::move(h)));
            },
            token);
    }

    /// Makes the selected sockets join `rooms` (Socket.IO's `socketsJoin`), on every shard.
    /// Sockets on the calling shard have joined when this returns; others join in order
    /// before anything this caller broadcasts afterwards reaches them.
    void sockets_join(std::vector<std::string> rooms) const;
    void sockets_join(std::string_view room) const {
        sockets_join(std::vector<std::string>{std::string(room)});
    }
    /// Makes the selected sockets leave `rooms` (Socket.IO's `socketsLeave`).
    void sockets_leave(std::vector<std::string> rooms) const;
    void sockets_leave(std::string_view room) const {
        sockets_leave(std::vector<std::string>{std::string(room)});
    }
    /// Disconnects the selected sockets (with `close`, their whole connections).
    void disconnect_sockets(bool close = false) const;

    /// A broadcast whose recipients each acknowledge (see `timed_broadcast`).
    timed_broadcast timeout(std::chrono::milliseconds d) const;

    adapter::broadcast_options const& options() const noexcept { return opt_; }

private:
    friend class remote_socket;
    void send_event(detail::payload p) const;
    void start_fetch(boost::asio::any_completion_handler<void(boost::system::error_code,
                                                              std::vector<remote_socket>)>
                         h) const;
    void start_count(
        boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)> h) const;
    friend class timed_broadcast;
    void start_ack(
        detail::payload p, std::chrono::milliseconds timeout,
        boost::asio::any_completion_handler<void(boost::system::error_code, boost::json::array)> h)
        const;

    name_space* nsp_;
    adapter::broadcast_options opt_;
};

/// A broadcast whose recipients each acknowledge: `io.to(r).timeout(5s).emit_with_ack(
/// "question", args..., token)`. Completion signature `void(boost::system::error_code,
/// boost::json::array responses)`: each recipient's answer (its first argument) in the order
/// they came; `error::timeout` with the answers so far when some did not answer in time. A
/// recipient that disconnects, or for which a volatile packet was dropped, is no longer
/// waited for.
class timed_broadcast {
public:
    template<class... ArgsThenToken>
    auto emit_with_ack(std::string_view event, ArgsThenToken&&... args_then_token) const {
        using sig = void(boost::system::error_code, boost::json::array);
        return detail::initiate_emit<sig>(
            [op = op_, t = timeout_](auto h, detail::payload args) {
                op.start_ack(std::move(args), t,
                             boost::asio::any_completion_handler<sig>(std::move(h)));
            },
            event, std::forward<ArgsThenToken>(args_then_token)...);
    }

private:
    friend class broadcast_operator;
    timed_broadcast(broadcast_operator op, std::chrono::milliseconds t)
        : op_(std::move(op))
        , timeout_(t) {}
    broadcast_operator op_;
    std::chrono::milliseconds timeout_;
};

inline timed_broadcast broadcast_operator::timeout(std::chrono::milliseconds d) const {
    return timed_broadcast(*this, d);
}

} // namespace roomcast

#include <roomcast/impl/core.hpp>

#endif
