// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ADAPTER_CONCEPT_HPP
#define ROOMCAST_ADAPTER_CONCEPT_HPP

#include <roomcast/adapter/member.hpp>

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>

namespace roomcast::adapter {

namespace detail {
struct visit_member {
    void operator()(member&) const {}
};
struct visit_room {
    void operator()(std::string const&, std::size_t) const {}
};
} // namespace detail

/// A room adapter: the room <-> member maps of one namespace on one shard, and the walk that
/// finds a broadcast's recipients. `memory` is the model; cluster adapters extend it.
template<class A>
concept room_adapter = std::default_initializable<A> &&
    requires(A& a, A const& ca, member& m, std::string_view room, broadcast_options const& opt) {
    a.join(m, room);
    a.leave(m, room);
    a.leave_all(m);
    ca.rooms_of(m);
    { ca.has_room(room) } -> std::convertible_to<bool>;
    { ca.room_size(room) } -> std::convertible_to<std::size_t>;
    ca.for_each(opt, detail::visit_member{});
    ca.for_each_room(detail::visit_room{});
    { a.hooks() } -> std::same_as<room_hooks&>;
};

} // namespace roomcast::adapter

#endif
