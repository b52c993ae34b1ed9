// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_NAME_SPACE_HPP
#define ROOMCAST_NAME_SPACE_HPP

#include <roomcast/adapter/member.hpp>
#include <roomcast/detail/cluster.hpp>
#include <roomcast/detail/coroutine.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/detail/handler.hpp>
#include <roomcast/detail/initiate.hpp>
#include <roomcast/middleware.hpp>
#include <roomcast/transport/connection.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/json/value_ref.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast {

/// A room and its number of members, as `all_rooms()` reports them.
struct room_info {
    std::string name;
    std::size_t size;
};

/// Answers a server-side event: called once, from any thread, with this server's answer,
/// while the server exists.
using server_reply = std::function<void(boost::json::value answer)>;
/// Handles a server-side event from another server: `f(args, reply)`, with the arguments
/// after the event name; `reply` is empty unless the sender waits for answers.
using server_side_handler = std::function<void(boost::json::array const& args, server_reply)>;

/// A Socket.IO namespace: its event handlers (registered once, shared by every socket), its
/// lifecycle hooks, and, on each shard, an adapter holding its rooms.
///
/// Register handlers before the server runs: the registry is read from every shard without
/// locks once connections arrive.
///
/// A namespace made by `io.of(std::regex)` or `io.of(predicate)` is a *parent*: it holds
/// handlers, hooks and middleware for the child namespaces created when a client first
/// connects to a matching name. Each child takes a copy of them at its creation (as in
/// Socket.IO, so register them before clients connect) and has its own rooms. Emitting
/// through a parent reaches every child; a parent has no sockets of its own to query.
class name_space : public std::enable_shared_from_this<name_space> {
public:
    name_space(std::string name, detail::server_core& server, name_space const* parent = nullptr);
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
    /// `f` may be a coroutine returning `asio::awaitable<void>` (it still calls `n`).
    template<class F>
    name_space& use(F&& f) {
        middleware_.push_back(detail::make_middleware(std::forward<F>(f)));
        return *this;
    }

    /// Called for every incoming event before its handler, handled or not (Socket.IO's
    /// `socket.onAny`): `f(socket&, event, args)`.
    name_space&
    on_any(std::function<void(socket&, std::string_view, std::span<boost::json::value const>)> f) {
        any_ = std::move(f);
        return *this;
    }

    /// Called for every event sent to a socket of this namespace, by `emit`, `emit_with_ack`
    /// or a broadcast, before it is queued (Socket.IO's `socket.onAnyOutgoing`):
    /// `f(socket&, event, args)`. With several shards it runs on each recipient's shard.
    name_space& on_any_outgoing(
        std::function<void(socket&, std::string_view, std::span<boost::json::value const>)> f) {
        any_outgoing_ = std::move(f);
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
    /// const&>`). Set them before the server runs. What a hook throws is logged as an error
    /// and goes no further: the join or leave that called it completes.
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
    /// Every socket of the namespace, as a broadcast operator (for `fetch_sockets()`,
    /// `timeout(d).emit_with_ack(...)` and the other server-side utilities).
    broadcast_operator all();
    /// Emits to every socket of the namespace.
    template<class... Args>
    void emit(std::string_view event, Args const&... args);
    void emit(std::string_view event, std::initializer_list<boost::json::value_ref> arg);

    /// Every room of the namespace on every shard (sockets' own id rooms included), each
    /// once, with its number of members. Asynchronous, as it spans shards: completion
    /// signature `void(boost::system::error_code, std::vector<room_info>)`.
    template<class Token>
    auto all_rooms(Token&& token) {
        return boost::asio::async_initiate<Token,
                                           void(boost::system::error_code, std::vector<room_info>)>(
            [self = shared_from_this()](auto h) {
                self->start_all_rooms(
                    boost::asio::any_completion_handler<void(
                        boost::system::error_code, std::vector<room_info>)>(std::move(h)));
            },
            token);
    }

    /// How many servers the cluster has, this one included (1 without a cluster adapter).
    /// Completion signature `void(boost::system::error_code, std::size_t)`.
    template<class Token>
    auto server_count(Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [self = shared_from_this()](auto h) {
                self->start_server_count(
                    boost::asio::any_completion_handler<void(boost::system::error_code,
                                                             std::size_t)>(std::move(h)));
            },
            token);
    }

    /// Server-side events (Socket.IO's `serverSideEmit`): messages to the other servers of a
    /// cluster, which clients never see. `on_server_side_emit` registers this server's
    /// handler of `event`; it runs on the first shard's thread. Register before running.
    name_space& on_server_side_emit(std::string_view event, server_side_handler f) {
        server_handlers_.insert_or_assign(std::string(event), std::move(f));
        return *this;
    }
    /// Sends `event` with `args` (JSON only, no binary) to every other server of the cluster;
    /// the sender's own handler is not called. Without a cluster adapter, nothing happens.
    template<class... Args>
    void server_side_emit(std::string_view event, Args const&... args) {
        start_server_side_emit(detail::make_payload(event, args...));
    }
    /// The same, waiting for every other server's answer: `server_side_emit_with_ack("who",
    /// args..., token)`, completion signature `void(boost::system::error_code,
    /// boost::json::array answers)`; `error::timeout` with the answers so far when some
    /// server did not answer within the adapter's request timeout.
    template<class... ArgsThenToken>
    auto server_side_emit_with_ack(std::string_view event, ArgsThenToken&&... args_then_token) {
        using sig = void(boost::system::error_code, boost::json::array);
        return detail::initiate_emit<sig>(
            [self = shared_from_this()](auto h, detail::payload args) {
                self->start_server_side_emit_with_ack(
                    std::move(args), boost::asio::any_completion_handler<sig>(std::move(h)));
            },
            event, std::forward<ArgsThenToken>(args_then_token)...);
    }

    // Internal interface, used by the server, sockets and broadcast operators.

    /// Encodes `p` (event name first) once and delivers it to the local recipients `opt`
    /// selects, on every shard; nothing goes to a cluster.
    void broadcast_payload(detail::payload p, adapter::broadcast_options const& opt);
    /// The local part of a broadcast with acknowledgements: reports to `cb`.
    void broadcast_with_ack_local(detail::payload p, adapter::broadcast_options const& opt,
                                  std::chrono::milliseconds timeout,
                                  detail::local_ack_callbacks cb);
    void start_server_count(detail::count_handler h);
    void start_server_side_emit(detail::payload p);
    void start_server_side_emit_with_ack(detail::payload p, detail::responses_handler h);
    /// Runs this server's handler of the server-side event `args[0]`, if there is one.
    void call_server_side(boost::json::array args, server_reply reply);

    /// Delivers `m` to every recipient on every shard (posting to other shards). `args`, the
    /// event's arguments, are given when an outgoing hook is to see them.
    void broadcast(transport::message_ptr m, adapter::broadcast_options const& opt,
                   std::shared_ptr<boost::json::array const> args = nullptr);
    /// Runs `f(part)` with this namespace's part on every shard: posted to the other shards
    /// first, then in place on the calling shard (if the caller is on one), so that what the
    /// caller does next on its shard, and what it posts later, comes after.
    template<class F>
    void on_each_shard(F f);
    /// Calls `f(name_space&)` for each namespace an operation on this one acts on: itself,
    /// or, for a dynamic parent, each of its children.
    template<class F>
    void for_each_target(F&& f);
    /// The sockets `opt` selects, on every shard; the rooms of every shard.
    void start_fetch(adapter::broadcast_options opt,
                     boost::asio::any_completion_handler<void(boost::system::error_code,
                                                              std::vector<remote_socket>)>
                         h);
    void start_count(
        adapter::broadcast_options opt,
        boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)> h);
    /// With `here_only`, the rooms of this server only, even with a cluster adapter.
    void start_all_rooms(
        boost::asio::any_completion_handler<void(boost::system::error_code, std::vector<room_info>)>
            h,
        bool here_only = false);
    /// Runs `f(socket&)` on every socket `opt` selects, on its shard.
    void for_each_socket(adapter::broadcast_options const& opt, std::function<void(socket&)> f);
    /// Emits with an acknowledgement from every recipient (see broadcast_operator).
    void start_broadcast_ack(
        detail::payload p, adapter::broadcast_options const& opt, std::chrono::milliseconds timeout,
        boost::asio::any_completion_handler<void(boost::system::error_code, boost::json::array)> h);
    /// An acknowledgement id, unique in this namespace (sockets and broadcasts share them).
    std::uint64_t next_ack_id() noexcept { return next_ack_id_.fetch_add(1); }
    /// A child namespace of this parent, with a copy of its handlers, hooks and middleware.
    std::shared_ptr<name_space> make_child(std::string name) const;
    /// Throws if this is a dynamic parent, which has no sockets of its own to query.
    void require_sockets(char const* what) const;
    /// Marks this namespace as a parent of dynamic children (made by `io.of(regex)`).
    void set_parent_role() noexcept { is_parent_ = true; }
    bool is_parent() const noexcept { return is_parent_; }
    /// The parent this namespace was created from, or null.
    name_space const* parent() const noexcept { return parent_; }
    /// Sockets connected or connecting; a child with none may be dropped.
    std::size_t attached() const noexcept { return attached_.load(); }
    void attach() noexcept { ++attached_; }
    /// Returns true when it was the last.
    bool detach() noexcept { return --attached_ == 0; }
    void call_any_outgoing(socket& s, boost::json::array const& args);
    bool has_any_outgoing() const noexcept { return static_cast<bool>(any_outgoing_); }
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
    /// Runs `part(shard)` on every shard and completes `h` with `combine(parts)`.
    template<class Result, class Part, class Combine>
    void gather(std::function<Part(detail::nsp_shard_base&)> part, Combine combine,
                boost::asio::any_completion_handler<void(boost::system::error_code, Result)> h);

    std::string name_;
    detail::server_core* server_;
    name_space const* parent_;
    bool is_parent_ = false;
    std::atomic<std::size_t> attached_{0};
    std::atomic<std::uint64_t> next_ack_id_{0};
    boost::unordered_flat_map<std::string, detail::event_handler, adapter::detail::string_hash,
                              std::equal_to<>>
        handlers_;
    std::function<void(socket&)> connection_;
    std::function<void(socket&, std::string_view)> disconnecting_;
    std::function<void(socket&, std::string_view)> disconnect_;
    std::function<void(socket&, handler_error const&)> error_;
    std::function<void(socket&, std::string_view, std::span<boost::json::value const>)> any_;
    std::function<void(socket&, std::string_view, std::span<boost::json::value const>)>
        any_outgoing_;
    std::vector<std::function<void(socket&, next)>> middleware_;
    boost::unordered_flat_map<std::string, server_side_handler, adapter::detail::string_hash,
                              std::equal_to<>>
        server_handlers_;
    std::vector<std::unique_ptr<detail::nsp_shard_base>> shards_;
    adapter::room_hooks room_hooks_; // applied to shards added later too
};

} // namespace roomcast

#include <roomcast/impl/core.hpp>

#endif
