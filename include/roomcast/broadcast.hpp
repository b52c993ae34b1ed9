// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_BROADCAST_HPP
#define ROOMCAST_BROADCAST_HPP

#include <roomcast/adapter/member.hpp>
#include <roomcast/convert.hpp>
#include <roomcast/detail/fwd.hpp>

#include <boost/json/value.hpp>
#include <boost/json/value_ref.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

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

    adapter::broadcast_options const& options() const noexcept { return opt_; }

private:
    void send_event(detail::payload p) const;

    name_space* nsp_;
    adapter::broadcast_options opt_;
};

} // namespace roomcast

#include <roomcast/impl/core.hpp>

#endif
