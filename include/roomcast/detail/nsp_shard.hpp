// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_DETAIL_NSP_SHARD_HPP
#define ROOMCAST_DETAIL_NSP_SHARD_HPP

#include <roomcast/adapter/concept.hpp>
#include <roomcast/adapter/member.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/transport/connection.hpp>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::detail {

/// One namespace on one shard: the adapter that holds its rooms there. Touched only from
/// that shard's thread.
class nsp_shard_base {
public:
    explicit nsp_shard_base(boost::asio::io_context& ctx) noexcept
        : ctx_(&ctx) {}
    virtual ~nsp_shard_base() = default;

    boost::asio::io_context& context() const noexcept { return *ctx_; }

    /// Adds `m` to `room` unless that would put it in more than `max_rooms` rooms; true if
    /// `m` is in the room afterwards.
    virtual bool join(adapter::member& m, std::string_view room, std::size_t max_rooms) = 0;
    virtual void leave(adapter::member& m, std::string_view room) = 0;
    virtual void leave_all(adapter::member& m) = 0;
    virtual std::vector<std::string> rooms_of(adapter::member const& m) const = 0;
    virtual std::size_t room_size(std::string_view room) const = 0;
    virtual std::size_t member_count() const = 0;
    /// Installs room lifecycle hooks on this shard's adapter.
    virtual void set_room_hooks(adapter::room_hooks const& h) = 0;
    /// Queues `m` on every local socket `opt` selects.
    virtual void deliver(transport::message_ptr const& m,
                         adapter::broadcast_options const& opt) = 0;
    /// Calls `f` for every local socket `opt` selects. `f` must not join or leave rooms.
    virtual void visit(adapter::broadcast_options const& opt,
                       std::function<void(adapter::member&)> const& f) const = 0;
    /// Calls `f(room, size)` for every local room.
    virtual void
    visit_rooms(std::function<void(std::string const&, std::size_t)> const& f) const = 0;

private:
    boost::asio::io_context* ctx_;
};

/// The model of nsp_shard_base for an adapter type. `Deliver` queues on one socket.
template<adapter::room_adapter Adapter, class Deliver>
class nsp_shard final : public nsp_shard_base {
public:
    explicit nsp_shard(boost::asio::io_context& ctx)
        : nsp_shard_base(ctx) {}

    bool join(adapter::member& m, std::string_view room, std::size_t max_rooms) override {
        auto const& mine = adapter_.rooms_of(m);
        if (static_cast<std::size_t>(std::ranges::distance(mine)) >= max_rooms &&
            std::ranges::find(mine, room) == std::ranges::end(mine))
            return false;
        adapter_.join(m, room);
        return true;
    }
    void leave(adapter::member& m, std::string_view room) override { adapter_.leave(m, room); }
    void leave_all(adapter::member& m) override { adapter_.leave_all(m); }
    std::vector<std::string> rooms_of(adapter::member const& m) const override {
        auto const r = adapter_.rooms_of(m);
        return {r.begin(), r.end()};
    }
    std::size_t room_size(std::string_view room) const override { return adapter_.room_size(room); }
    std::size_t member_count() const override { return adapter_.member_count(); }
    void set_room_hooks(adapter::room_hooks const& h) override { adapter_.hooks() = h; }
    void deliver(transport::message_ptr const& m, adapter::broadcast_options const& opt) override {
        adapter_.for_each(opt, [&](adapter::member& s) { Deliver{}(s, m, opt.is_volatile); });
    }
    void visit(adapter::broadcast_options const& opt,
               std::function<void(adapter::member&)> const& f) const override {
        adapter_.for_each(opt, f);
    }
    void visit_rooms(std::function<void(std::string const&, std::size_t)> const& f) const override {
        adapter_.for_each_room(f);
    }

    Adapter& adapter() noexcept { return adapter_; }

private:
    Adapter adapter_;
};

} // namespace roomcast::detail

#endif
