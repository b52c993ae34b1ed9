// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_MIDDLEWARE_HPP
#define ROOMCAST_MIDDLEWARE_HPP

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace roomcast {

/// Refuses a connection or a packet from middleware. For a connection, the client's
/// `connect_error` handler receives an Error whose `message` is `message` and whose `data` is
/// `data` (left out when null). For a packet, the namespace's error hook gets `message`.
struct connect_error {
    std::string message;
    boost::json::value data = nullptr;
};

/// Continues or refuses: what middleware receives beside the socket. `n()` passes to the next
/// middleware (then to the connection or the event's handler), `n(connect_error{...})`
/// refuses. Call it once; later calls do nothing. It may be called later (after a database
/// lookup, say) and from any thread: the rest runs on the socket's shard. A middleware that
/// never calls it holds the connection (or the packet) until the client goes.
class next {
public:
    using continuation = std::function<void(std::optional<connect_error>)>;

    next(boost::asio::any_io_executor ex, continuation k)
        : state_(std::make_shared<state>(std::move(ex), std::move(k))) {}

    void operator()() const { finish(std::nullopt); }
    void operator()(connect_error e) const { finish(std::move(e)); }

private:
    struct state {
        state(boost::asio::any_io_executor e, continuation c)
            : ex(std::move(e))
            , k(std::move(c)) {}
        boost::asio::any_io_executor ex;
        continuation k;
        std::atomic<bool> called{false};
    };

    void finish(std::optional<connect_error> e) const {
        if (state_->called.exchange(true))
            return;
        boost::asio::dispatch(state_->ex,
                              [st = state_, e = std::move(e)]() mutable { st->k(std::move(e)); });
    }

    std::shared_ptr<state> state_;
};

} // namespace roomcast

#endif
