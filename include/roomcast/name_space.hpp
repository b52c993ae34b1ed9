// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_NAME_SPACE_HPP
#define ROOMCAST_NAME_SPACE_HPP

#include <roomcast/adapter/member.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/detail/handler.hpp>
#include <roomcast/middleware.hpp>
#include <roomcast/transport/connection.hpp>

#include <boost/json/value_ref.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast {

/// A Socket.IO namespace: its event handlers (registered once, shared by every socket), its
/// lifecycle hooks, and, on each shard, an adapter holding its rooms.
///
/// Register handlers before the server runs: the registry is read from every shard without
/// locks once connections arrive.
class name_space {
public:
    name_space(std::string name, detail::server_core& server);
    name_space(name_space const&) = delete;
    name_space& operator=(name_space const&) = delete;

    std::string const& name() const noexcept { return name_; }

    /// Registers the handler of `event`: `f(socket&, T1 a1, T2 a2, ...)`. Each parameter after
    /// the socket is one event argument, converted with `roomcast::from_json`; a trailing
    /// `roomcast::ack` parameter, or a non-void return value, answers the client's
    /// acknowledgement. Arguments that do not convert reach the error hook (and the ack, if
    /// one was asked) instead of the handler. Registering an event again replaces its handler.
    template<class F>
    name_space& on(std::string_view event, F&& f) {
        handlers_.insert_or_assign(std::string(event),
                                   detail::make_event_handler(std::forward<F>(f)));
        return *this;
    }

    /// Adds connection middleware: `f(socket&, roomcast::next n)` runs, in the order added,
    /// when a client asks to join this namespace, before the socket is connected; it reads
    /// `s.handshake().auth` and headers, may join rooms or set `s.data()`, and calls `n()` to
    /// go on or `n(connect_error{...})` to refuse. An exception refuses with its what().
    name_space& use(std::function<void(socket&, next)> f) {
        middleware_.push_back(std::move(f));
        return *this;
    }

    /// Called for every incoming event before its handler, handled or not (Socket.IO's
    /// `socket.onAny`): `f(socket&, event, args)`.
    name_space&
    on_any(std::function<void(socket&, std::string_view, std::span<boost::json::value const>)> f) {
        any_ = std::move(f);
        return *this;
    }

    /// Called when a socket connects, after it joined its own room and got its CONNECT answer.
    name_space& on_connection(std::function<void(socket&)> f) {
        connection_ = std::move(f);
        return *this;
    }
    /// Called when a socket is about to disconnect: its rooms are still populated.
    name_space& on_disconnecting(std::function<void(socket&, std::string_view reason)> f) {
        disconnecting_ = std::move(f);
        return *this;
    }
    /// Called when a socket has disconnected and left every room.
    name_space& on_disconnect(std::function<void(socket&, std::string_view reason)> f) {
        disconnect_ = std::move(f);
        return *this;
    }
    /// Room lifecycle hooks (Socket.IO's adapter events `create-room`, `delete-room`,
    /// `join-room`, `leave-room`), called on the shard where the room changed: with several
    /// shards, each shard has its own rooms and the hooks run on each shard's thread, so they
    /// must be thread-safe. The member argument is a socket (`static_cast<roomcast::socket
    /// const&>`). Set them before the server runs.
    name_space& room_hooks(adapter::room_hooks hooks);

    /// Called when a handler's arguments did not convert or a handler threw.
    /// Without it, such errors are logged.
    name_space& on_error(std::function<void(socket&, handler_error const&)> f) {
        error_ = std::move(f);
        return *this;
    }

    /// Broadcast operators over this namespace (see `broadcast_operator`).
    broadcast_operator to(std::string_view room);
    broadcast_operator in(std::string_view room);
    broadcast_operator except(std::string_view room);
    /// Emits to every socket of the namespace.
    template<class... Args>
    void emit(std::string_view event, Args const&... args);
    void emit(std::string_view event, std::initializer_list<boost::json::value_ref> arg);

    // Internal interface, used by the server, sockets and broadcast operators.

    /// Delivers `m` to every local recipient on every shard (posting to other shards).
    void broadcast(transport::message_ptr m, adapter::broadcast_options const& opt);
    /// Runs the handler for one event, if there is one.
    void dispatch(socket& s, detail::event_call const& call);
    /// Runs the connection middleware for `s`; `done` gets the refusal, if any.
    void run_middleware(std::shared_ptr<socket> s, next::continuation done);
    void call_connection(socket& s);
    void call_disconnecting(socket& s, std::string_view why);
    void call_disconnect(socket& s, std::string_view why);
    void call_error(socket& s, handler_error const& e);
    /// This namespace's part on shard `index`.
    detail::nsp_shard_base& local(std::size_t index) { return *shards_[index]; }
    void add_shard(std::unique_ptr<detail::nsp_shard_base> s);
    detail::server_core& server() noexcept { return *server_; }

private:
    template<class F, class... A>
    void call_hook(F const& f, socket& s, char const* what, A&&... a);
    void run_middleware_from(std::size_t i, std::shared_ptr<socket> s, next::continuation done);

    std::string name_;
    detail::server_core* server_;
    boost::unordered_flat_map<std::string, detail::event_handler, adapter::detail::string_hash,
                              std::equal_to<>>
        handlers_;
    std::function<void(socket&)> connection_;
    std::function<void(socket&, std::string_view)> disconnecting_;
    std::function<void(socket&, std::string_view)> disconnect_;
    std::function<void(socket&, handler_error const&)> error_;
    std::function<void(socket&, std::string_view, std::span<boost::json::value const>)> any_;
    std::vector<std::function<void(socket&, next)>> middleware_;
    std::vector<std::unique_ptr<detail::nsp_shard_base>> shards_;
    adapter::room_hooks room_hooks_; // applied to shards added later too
};

} // namespace roomcast

#include <roomcast/impl/core.hpp>

#endif
