// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_REDIS_EMITTER_HPP
#define ROOMCAST_REDIS_EMITTER_HPP

#include <roomcast/adapter/redis/connection.hpp>
#include <roomcast/adapter/redis/wire.hpp>
#include <roomcast/convert.hpp>
#include <roomcast/detail/complete.hpp>
#include <roomcast/redis_options.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>

#include <cstddef>
#include <deque>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomcast {

namespace detail {
/// What every `redis_emitter` made from one another shares: one Redis connection and what
/// waits for it. Touched on the connection's executor only.
struct emitter_link : std::enable_shared_from_this<emitter_link> {
    emitter_link(boost::asio::any_io_executor ex, redis_options o)
        : opt(std::move(o))
        , conn(std::make_shared<adapter::redis::connection>(std::move(ex),
                                                            connection_options_of(opt))) {}

    // The last emitter gone without close(): the connection must not go on reconnecting.
    ~emitter_link() {
        boost::asio::post(conn->get_executor(), [c = conn] { c->close(); });
    }
    emitter_link(emitter_link const&) = delete;
    emitter_link& operator=(emitter_link const&) = delete;

    void start() {
        boost::asio::dispatch(conn->get_executor(), [self = shared_from_this()] {
            self->conn->on_state(
                [weak = std::weak_ptr<emitter_link>(self)](bool up, boost::system::error_code ec) {
                    if (auto s = weak.lock())
                        s->on_state(up, ec);
                });
            self->conn->start();
        });
    }

    /// Publishes now if connected, else once connected (up to `max_waiting_bytes`).
    void publish(std::string channel, std::string msg) {
        boost::asio::dispatch(
            conn->get_executor(),
            [self = shared_from_this(), c = std::move(channel), m = std::move(msg)]() mutable {
                if (self->closed)
                    return;
                if (self->conn->connected() && self->waiting.empty())
                    return self->conn->command({"PUBLISH", std::move(c), std::move(m)});
                if (self->waiting_bytes + c.size() + m.size() > max_waiting_bytes)
                    return; // Redis has been away too long: dropped, as the adapter drops
                self->waiting_bytes += c.size() + m.size();
                self->waiting.push_back({std::move(c), std::move(m)});
            });
    }

    void on_state(bool up, boost::system::error_code ec) {
        if (up) {
            for (auto& w : waiting)
                conn->command({"PUBLISH", std::move(w.first), std::move(w.second)});
            waiting.clear();
            waiting_bytes = 0;
            auto done = std::move(flushes);
            flushes.clear();
            for (auto& f : done)
                flush_now(std::move(f));
        }
        if (opt.on_state)
            opt.on_state(up, ec);
    }

    using flush_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

    /// Completes once everything published before has been taken by Redis.
    void flush_now(std::shared_ptr<flush_handler> h) {
        // Redis answers in order: once PING is answered, every PUBLISH before it was taken.
        conn->command({"PING"}, [h, ex = conn->get_executor()](boost::system::error_code ec,
                                                               adapter::redis::reply const&) {
            complete_on(ex, std::move(*h), ec);
        });
    }

    void flush(flush_handler h) {
        auto shared = std::make_shared<flush_handler>(std::move(h));
        boost::asio::dispatch(conn->get_executor(), [self = shared_from_this(), shared] {
            if (self->closed)
                return complete_on(self->conn->get_executor(), std::move(*shared),
                                   adapter::redis::make_error_code(adapter::redis::error::closed));
            if (!self->conn->connected())
                return self->flushes.push_back(shared); // after the messages waiting
            self->flush_now(shared);
        });
    }

    void close() {
        boost::asio::dispatch(conn->get_executor(), [self = shared_from_this()] {
            if (self->closed)
                return;
            self->closed = true;
            auto pending = std::move(self->flushes);
            self->flushes.clear();
            for (auto& f : pending)
                complete_on(self->conn->get_executor(), std::move(*f),
                            adapter::redis::make_error_code(adapter::redis::error::closed));
            self->waiting.clear();
            self->conn->close();
        });
    }

    static constexpr std::size_t max_waiting_bytes = 64 * 1024 * 1024;
    redis_options opt;
    std::shared_ptr<adapter::redis::connection> conn;
    std::deque<std::pair<std::string, std::string>> waiting; // while not connected
    std::size_t waiting_bytes = 0;
    std::vector<std::shared_ptr<flush_handler>> flushes;
    bool closed = false;
};
} // namespace detail

/// Sends into a Socket.IO cluster on Redis from a process that has no clients (a game
/// backend, a cron job), as `@socket.io/redis-emitter` does: broadcasts to rooms, and
/// `sockets_join`, `sockets_leave`, `disconnect_sockets` and `server_side_emit` requests,
/// which roomcast servers on `redis_adapter` and Node.js servers on
/// `@socket.io/redis-adapter` carry out.
///
/// `roomcast::redis_emitter em(ctx.get_executor(), {.host = "10.0.0.5"});
///  em.to("room-1").emit("news", "hello"); em.flush([&](auto) { em.close(); }); ctx.run();`
///
/// Its connection is driven by `ex` and reconnects with backoff. What is emitted before it is
/// connected waits for the connection (up to 64 MiB, then it is dropped). `flush` completes
/// once Redis has taken everything emitted before it. An emitter is a value: `to`, `of` and
/// the rest return new ones sharing the connection; `close()` closes it for all of them.
///
/// Threads: callable from any thread; the connection's work runs on `ex`, which must run
/// its handlers one at a time (an io_context on one thread, or a strand).
class redis_emitter {
public:
    explicit redis_emitter(boost::asio::any_io_executor ex, redis_options opt = {})
        : link_(std::make_shared<detail::emitter_link>(std::move(ex), std::move(opt))) {
        link_->start();
    }

    /// The same emitter, for namespace `nsp` ("/chat").
    redis_emitter of(std::string_view nsp) const {
        auto e = *this;
        e.nsp_ = (nsp.empty() || nsp.front() != '/' ? "/" : "") + std::string(nsp);
        e.opt_ = {};
        return e;
    }
    redis_emitter to(std::string_view room) const {
        auto e = *this;
        e.opt_.rooms.emplace_back(room);
        return e;
    }
    redis_emitter in(std::string_view room) const { return to(room); }
    redis_emitter except(std::string_view room) const {
        auto e = *this;
        e.opt_.except.emplace_back(room);
        return e;
    }
    redis_emitter volatile_() const {
        auto e = *this;
        e.opt_.is_volatile = true;
        return e;
    }

    /// Broadcasts `event` with `args` to the selected sockets of every server.
    template<class... Args>
    void emit(std::string_view event, Args const&... args) const {
        auto p = detail::make_payload(event, args...);
        link_->publish(
            channels().broadcast_for(opt_.rooms),
            adapter::redis::encode_broadcast("emitter", nsp_, p.args, p.attachments, opt_));
    }
    void emit(std::string_view event, std::initializer_list<boost::json::value_ref> arg) const {
        auto p = detail::event_payload(event, boost::json::value(arg));
        link_->publish(channels().broadcast_for(opt_.rooms),
                       adapter::redis::encode_broadcast("emitter", nsp_, p.args, {}, opt_));
    }

    /// Makes the selected sockets of every server join or leave `rooms`, or disconnect.
    void sockets_join(std::vector<std::string> rooms) const {
        request(adapter::redis::request_type::remote_join, "rooms",
                adapter::redis::room_array(rooms));
    }
    void sockets_join(std::string_view room) const {
        sockets_join(std::vector<std::string>{std::string(room)});
    }
    void sockets_leave(std::vector<std::string> rooms) const {
        request(adapter::redis::request_type::remote_leave, "rooms",
                adapter::redis::room_array(rooms));
    }
    void sockets_leave(std::string_view room) const {
        sockets_leave(std::vector<std::string>{std::string(room)});
    }
    void disconnect_sockets(bool close = false) const {
        request(adapter::redis::request_type::remote_disconnect, "close", close);
    }

    /// Sends a server-side event (JSON only) to every server's `on_server_side_emit` handler.
    template<class... Args>
    void server_side_emit(std::string_view event, Args const&... args) const {
        auto p = detail::make_payload(event, args...);
        if (!p.attachments.empty())
            throw std::invalid_argument("roomcast: server_side_emit carries JSON only");
        link_->publish(
            channels().request,
            boost::json::serialize(boost::json::object{
                {"uid", "emitter"},
                {"type", static_cast<std::int64_t>(adapter::redis::request_type::server_side_emit)},
                {"data", std::move(p.args)}}));
    }

    /// Completes once Redis has taken everything emitted before this call. Completion
    /// signature `void(boost::system::error_code)`.
    template<class Token>
    auto flush(Token&& token) const {
        return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
            [link = link_](auto h) {
                link->flush(detail::emitter_link::flush_handler(std::move(h)));
            },
            token);
    }

    /// Closes the connection (for every emitter sharing it); what waits is dropped.
    void close() const { link_->close(); }

private:
    adapter::redis::channels channels() const { return {link_->opt.key, nsp_}; }

    void request(adapter::redis::request_type type, std::string_view key,
                 boost::json::value what) const {
        boost::json::object req{{"uid", "emitter"},
                                {"type", static_cast<std::int64_t>(type)},
                                {"opts", adapter::redis::selection(opt_)}};
        req.emplace(key, std::move(what));
        link_->publish(channels().request, boost::json::serialize(req));
    }

    std::shared_ptr<detail::emitter_link> link_;
    std::string nsp_ = "/";
    adapter::broadcast_options opt_;
};

} // namespace roomcast

#endif
