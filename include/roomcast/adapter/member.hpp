// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ADAPTER_MEMBER_HPP
#define ROOMCAST_ADAPTER_MEMBER_HPP

#include <boost/container_hash/hash.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::adapter {

/// What an adapter knows of a socket: its id. The API layer's sockets derive from it.
/// Adapters hold `member*` without owning it: a socket is removed from its adapter
/// (leave_all) before it is destroyed.
class member {
public:
    explicit member(std::string id)
        : id_(std::move(id)) {}
    member(member const&) = delete;
    member& operator=(member const&) = delete;

    std::string const& id() const noexcept { return id_; }

protected:
    ~member() = default;

private:
    std::string id_;
};

/// Who a broadcast reaches: members of any room in `rooms` (everyone in the namespace when
/// empty), minus the members of any room in `except`. Flags as in Socket.IO.
struct broadcast_options {
    std::vector<std::string> rooms;
    std::vector<std::string> except;
    bool is_volatile = false; ///< may be dropped for a recipient that is not ready to write
    bool local = false;       ///< this node only (meaningful for cluster adapters)
    bool compress = true;     ///< accepted for compatibility; frames are not compressed
};

/// Room lifecycle notifications, as Socket.IO adapters emit them.
struct room_hooks {
    std::function<void(std::string const& room)> create_room;
    std::function<void(std::string const& room)> delete_room;
    std::function<void(std::string const& room, member const&)> join_room;
    std::function<void(std::string const& room, member const&)> leave_room;
};

namespace detail {
/// Transparent string hash so that lookups by string_view do not allocate.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return boost::hash_range(s.begin(), s.end());
    }
};
} // namespace detail

} // namespace roomcast::adapter

#endif
