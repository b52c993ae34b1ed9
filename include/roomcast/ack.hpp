// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ACK_HPP
#define ROOMCAST_ACK_HPP

#include <roomcast/convert.hpp>
#include <roomcast/detail/fwd.hpp>

#include <boost/json/array.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace roomcast {

/// Answers a client's acknowledgement. Given to a handler as its last parameter; calling it
/// sends the answer once (later calls, also through copies, do nothing), from any thread. If
/// the client asked for no acknowledgement, calling it does nothing.
class ack {
public:
    ack() = default;
    ack(std::weak_ptr<detail::client> c, std::string nsp, std::optional<std::uint64_t> id)
        : state_(id ? std::make_shared<state>(std::move(c), std::move(nsp), *id) : nullptr) {}

    /// Whether the client asked for an acknowledgement.
    bool requested() const noexcept { return state_ != nullptr; }

    template<class... Args>
    void operator()(Args const&... args) {
        send(detail::make_payload(std::nullopt, args...));
    }

    /// Sends `p` as the acknowledgement's arguments (internal).
    void send(detail::payload p);

private:
    struct state {
        /// Counts as one of the client's acknowledgements in flight until it is sent, or
        /// dropped unanswered.
        state(std::weak_ptr<detail::client> c, std::string n, std::uint64_t i);
        state(state const&) = delete;
        state& operator=(state const&) = delete;
        ~state();
        std::weak_ptr<detail::client> client;
        std::string nsp;
        std::uint64_t id;
        std::atomic<bool> sent{false};
    };
    std::shared_ptr<state> state_; // shared by copies; null when no ack was asked
};

} // namespace roomcast

#include <roomcast/impl/core.hpp>

#endif
