// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ADAPTER_MEMORY_HPP
#define ROOMCAST_ADAPTER_MEMORY_HPP

#include <roomcast/adapter/concept.hpp>
#include <roomcast/adapter/detail/member_set.hpp>
#include <roomcast/adapter/member.hpp>

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::adapter {

/// The in-memory room adapter: Socket.IO's two maps, `rooms` (room -> members) and `sids`
/// (member -> rooms), kept consistent, and the broadcast walk over them.
///
/// One instance per namespace per shard, touched only from that shard's thread: no locks.
/// Invariants after every call: a member is in room R exactly when R is in its room list;
/// no room is empty (an emptied room is deleted).
class memory {
public:
    memory() = default;
    memory(memory const&) = delete;
    memory& operator=(memory const&) = delete;

    /// Adds `m` to `room`; joining a room twice is a no-op.
    void join(member& m, std::string_view room) {
        auto& mine = sids_[&m];
        if (std::find(mine.begin(), mine.end(), room) != mine.end())
            return;
        mine.emplace_back(room);
        auto it = rooms_.find(room);
        bool const created = it == rooms_.end();
        if (created)
            it = rooms_.emplace(std::string(room), detail::member_set{}).first;
        it->second.insert(&m);
        if (created && hooks_.create_room)
            hooks_.create_room(it->first);
        if (hooks_.join_room)
            hooks_.join_room(it->first, m);
    }

    void join(member& m, std::span<std::string const> rooms) {
        for (auto const& r : rooms)
            join(m, r);
    }

    /// Removes `m` from `room`; leaving a room one is not in is a no-op.
    void leave(member& m, std::string_view room) {
        auto s = sids_.find(&m);
        if (s == sids_.end())
            return;
        auto& mine = s->second;
        auto pos = std::find(mine.begin(), mine.end(), room);
        if (pos == mine.end())
            return;
        std::string name = std::move(*pos);
        mine.erase(pos);
        if (mine.empty())
            sids_.erase(s);
        remove_from_room(m, name);
    }

    /// Removes `m` from every room (a disconnect).
    void leave_all(member& m) {
        auto s = sids_.find(&m);
        if (s == sids_.end())
            return;
        auto mine = std::move(s->second);
        sids_.erase(s);
        for (auto const& name : mine)
            remove_from_room(m, name);
    }

    /// The rooms `m` is in, in the order it joined them.
    std::span<std::string const> rooms_of(member const& m) const {
        auto s = sids_.find(const_cast<member*>(&m));
        if (s == sids_.end())
            return {};
        return s->second;
    }

    bool has_room(std::string_view room) const { return rooms_.contains(room); }

    std::size_t room_size(std::string_view room) const {
        auto it = rooms_.find(room);
        return it == rooms_.end() ? 0 : it->second.size();
    }

    /// Number of rooms (including each member's own id room).
    std::size_t room_count() const noexcept { return rooms_.size(); }

    /// Number of members that are in at least one room.
    std::size_t member_count() const noexcept { return sids_.size(); }

    /// Calls `f(room_name, size)` for every room.
    template<class F>
    void for_each_room(F&& f) const {
        for (auto const& [name, set] : rooms_)
            f(name, set.size());
    }

    /// Calls `f(member&)` once for every member `opt` selects: the union of `opt.rooms`
    /// (everyone when empty) minus the members of `opt.except`.
    /// `f` must not join or leave rooms of this adapter.
    template<class F>
    void for_each(broadcast_options const& opt, F&& f) const {
        lookup_set excluded;
        for (auto const& r : opt.except)
            if (auto it = rooms_.find(r); it != rooms_.end())
                it->second.for_each([&](member* m) { excluded.insert(m); });
        auto const visit = [&](member* m) {
            if (excluded.empty() || !excluded.contains(m))
                f(*m);
        };
        if (opt.rooms.empty()) {
            for (auto const& [m, _] : sids_)
                visit(m);
        } else if (opt.rooms.size() == 1) {
            if (auto it = rooms_.find(opt.rooms.front()); it != rooms_.end())
                it->second.for_each(visit);
        } else {
            lookup_set seen;
            for (auto const& r : opt.rooms)
                if (auto it = rooms_.find(r); it != rooms_.end())
                    it->second.for_each([&](member* m) {
                        if (seen.insert(m).second)
                            visit(m);
                    });
        }
    }

    /// Lifecycle hooks; set them before members join.
    room_hooks& hooks() noexcept { return hooks_; }

private:
    using lookup_set = boost::unordered_flat_set<member*>; // a broadcast's scratch sets

    void remove_from_room(member& m, std::string const& name) {
        auto it = rooms_.find(name);
        if (it == rooms_.end())
            return;
        it->second.erase(&m);
        if (hooks_.leave_room)
            hooks_.leave_room(name, m);
        if (it->second.empty()) {
            rooms_.erase(it);
            if (hooks_.delete_room)
                hooks_.delete_room(name);
        }
    }

    boost::unordered_flat_map<std::string, detail::member_set, detail::string_hash, std::equal_to<>>
        rooms_;
    boost::unordered_flat_map<member*, std::vector<std::string>> sids_;
    room_hooks hooks_;
};

static_assert(room_adapter<memory>);

} // namespace roomcast::adapter

#endif
