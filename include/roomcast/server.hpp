// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_SERVER_HPP
#define ROOMCAST_SERVER_HPP

#include <roomcast/adapter/concept.hpp>
#include <roomcast/adapter/memory.hpp>
#include <roomcast/broadcast.hpp>
#include <roomcast/detail/client.hpp>
#include <roomcast/detail/server_core.hpp>
#include <roomcast/name_space.hpp>
#include <roomcast/options.hpp>
#include <roomcast/socket.hpp>
#include <roomcast/transport/websocket.hpp>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <csignal>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace roomcast {

namespace detail {
/// What an adapter is configured with: its `options`, if it has any.
template<class Adapter>
struct adapter_options_of {
    struct type {};
};
template<class Adapter>
requires requires {
    typename Adapter::options;
}
struct adapter_options_of<Adapter> {
    using type = typename Adapter::options;
};
} // namespace detail

/// A Socket.IO v5 server: listens, speaks Engine.IO through `Transport`, keeps rooms in one
/// `Adapter` per namespace per shard, and dispatches events to the handlers registered on its
/// namespaces.
///
/// Threads: `run(n)` runs n shards, one thread each; a connection lives on one shard for its
/// whole life. Register namespaces and handlers before running. `close()` and broadcasts may
/// be called from any thread.
template<class Transport = transport::websocket, adapter::room_adapter Adapter = adapter::memory>
class server : public detail::server_core {
public:
    /// What the adapter is configured with (`redis_adapter::options`; nothing for `memory`).
    using adapter_options = typename detail::adapter_options_of<Adapter>::type;

    /// A server that owns its io_contexts; `run()` drives them. Binds at once: a port in use
    /// throws boost::system::system_error here ("roomcast: cannot listen on 127.0.0.1:3000:
    /// Address already in use"). Throws std::invalid_argument for an unusable address.
    explicit server(options opt = {}, adapter_options aopt = {})
        : server_core(std::move(opt))
        , owns_contexts_(true) {
        init(add_shard(std::make_unique<detail::shard>(0)), std::move(aopt));
    }

    /// A server on the host's io_context (one shard); it accepts as soon as the host runs it.
    /// Rules of this mode: register handlers before the host runs the context; run the
    /// context on one thread (a shard's state has no lock); destroy the server only after
    /// `close()` and after the context stopped running, since closing needs the context.
    server(boost::asio::io_context& ctx, options opt = {}, adapter_options aopt = {})
        : server_core(std::move(opt))
        , owns_contexts_(false) {
        init(add_shard(std::make_unique<detail::shard>(0, ctx)), std::move(aopt));
        start_accepting();
        started_ = true;
    }

    server(server const&) = delete;
    server& operator=(server const&) = delete;

    /// The namespace `name` ("/chat"), created on first use. Call before running.
    name_space& of(std::string_view name) {
        if (name.empty() || name.front() != '/')
            throw std::invalid_argument("roomcast: a namespace name starts with '/'");
        return get_or_add_namespace(name);
    }

    /// A dynamic namespace: the parent of every namespace whose whole name matches
    /// `pattern` (`io.of(std::regex("^/room-\\d+$"))`). A child is created when a client first
    /// connects to such a name, with a copy of the handlers, hooks and middleware the parent
    /// has then. A static namespace of the same name wins; the first parent that matches
    /// wins. Set `cleanup_empty_child_namespaces` to drop children once their last socket
    /// left. Call before running.
    name_space& of(std::regex pattern) {
        return add_parent_namespace(
            [re = std::move(pattern)](std::string_view name, handshake_info const&) {
                return std::regex_match(name.begin(), name.end(), re);
            });
    }
    /// A dynamic namespace decided by `match(name, handshake) -> bool`, called on the
    /// connecting client's shard (so it must be thread-safe with several shards).
    name_space& of(detail::namespace_predicate match) {
        return add_parent_namespace(std::move(match));
    }

    /// Shorthands for the main namespace "/".
    template<class F>
    server& on(std::string_view event, F&& f) {
        root_->on(event, std::forward<F>(f));
        return *this;
    }
    template<class F>
    server& use(F&& f) {
        root_->use(std::forward<F>(f));
        return *this;
    }
    server&
    on_any(std::function<void(socket&, std::string_view, std::span<boost::json::value const>)> f) {
        root_->on_any(std::move(f));
        return *this;
    }
    server& on_any_outgoing(
        std::function<void(socket&, std::string_view, std::span<boost::json::value const>)> f) {
        root_->on_any_outgoing(std::move(f));
        return *this;
    }
    server& on_connection(std::function<void(socket&)> f) {
        root_->on_connection(std::move(f));
        return *this;
    }
    server& on_disconnecting(std::function<void(socket&, std::string_view)> f) {
        root_->on_disconnecting(std::move(f));
        return *this;
    }
    server& on_disconnect(std::function<void(socket&, std::string_view)> f) {
        root_->on_disconnect(std::move(f));
        return *this;
    }
    server& on_error(std::function<void(socket&, handler_error const&)> f) {
        root_->on_error(std::move(f));
        return *this;
    }
    broadcast_operator to(std::string_view room) { return root_->to(room); }
    broadcast_operator in(std::string_view room) { return root_->in(room); }
    broadcast_operator except(std::string_view room) { return root_->except(room); }
    /// Every socket of "/", for the server-side utilities: `io.all().fetch_sockets(...)`,
    /// `io.all().timeout(d).emit_with_ack(...)`, `io.all().disconnect_sockets()`.
    broadcast_operator all() { return root_->all(); }
    /// Server-side events of "/" (see `name_space::server_side_emit`).
    template<class... Args>
    void server_side_emit(std::string_view event, Args const&... args) {
        root_->server_side_emit(event, args...);
    }
    template<class... ArgsThenToken>
    auto server_side_emit_with_ack(std::string_view event, ArgsThenToken&&... args_then_token) {
        return root_->server_side_emit_with_ack(event,
                                                std::forward<ArgsThenToken>(args_then_token)...);
    }
    server& on_server_side_emit(std::string_view event, server_side_handler f) {
        root_->on_server_side_emit(event, std::move(f));
        return *this;
    }
    /// The number of servers of the cluster, this one included (see `name_space`).
    template<class Token>
    auto server_count(Token&& token) {
        return root_->server_count(std::forward<Token>(token));
    }
    template<class... Args>
    void emit(std::string_view event, Args const&... args) {
        root_->emit(event, args...);
    }
    void emit(std::string_view event, std::initializer_list<boost::json::value_ref> arg) {
        root_->emit(event, arg);
    }

    /// Answers HTTP requests that are not for the Engine.IO path, so that one port serves the
    /// page and the socket: `io.on_http(roomcast::static_files("public"))`. Called on a
    /// shard's thread; it must not block. Without it such requests get 404. Call before
    /// running.
    server& on_http(transport::http_handler h) {
        opt_.transport.on_http = std::move(h);
        return *this;
    }

    /// The port the server listens on.
    std::uint16_t port() const { return listener_->port(); }

    /// Runs `threads` shards (the calling thread is one of them) until `close()` or, with
    /// `handle_signals`, SIGINT/SIGTERM. Only for a server that owns its io_contexts.
    void run(std::size_t threads = 1) {
        if (!owns_contexts_)
            throw std::logic_error("roomcast: this server runs on the host's io_context");
        {
            std::lock_guard lock(lifecycle_);
            if (started_)
                throw std::logic_error("roomcast: run() may be called once");
            for (std::size_t i = 1; i < std::max<std::size_t>(threads, 1); ++i)
                add_shard(std::make_unique<detail::shard>(i));
            for (auto& s : shards_)
                s->work.emplace(s->ctx->get_executor());
            if (opt_.handle_signals) {
                signals_.emplace(*shards_[0]->ctx, SIGINT, SIGTERM);
                signals_->async_wait([this](boost::system::error_code ec, int) {
                    if (!ec)
                        close();
                });
            }
            start_accepting();
            started_ = true;
            if (closing_) // close() came first: shut down as soon as the shards run
                post_shutdown();
        }
        std::vector<std::thread> threads_;
        for (std::size_t i = 1; i < shards_.size(); ++i)
            threads_.emplace_back([ctx = shards_[i]->ctx] { ctx->run(); });
        shards_[0]->ctx->run();
        for (auto& t : threads_)
            t.join();
    }

    /// Stops accepting and closes every connection (reason "server shutting down") after its
    /// queued messages are written. `run()` returns once the connections are closed.
    /// Thread-safe; later calls do nothing.
    void close() {
        std::lock_guard lock(lifecycle_);
        if (closing_)
            return;
        closing_ = true;
        if (started_)
            post_shutdown(); // otherwise run() does it once the shards exist
    }

private:
    void init(detail::shard& first, adapter_options aopt) {
        make_nsp_shard_ = [](detail::shard& s) -> std::unique_ptr<detail::nsp_shard_base> {
            return std::make_unique<detail::nsp_shard<Adapter, detail::deliver_to_socket>>(*s.ctx);
        };
        // A cluster adapter's node lives on the first shard, before any namespace exists.
        if constexpr (requires { typename Adapter::node; })
            cluster_ = std::make_unique<typename Adapter::node>(*this, first.ctx->get_executor(),
                                                                std::move(aopt));
        else
            (void)aopt;
        root_ = &of("/");
        boost::system::error_code ec;
        auto const addr = boost::asio::ip::make_address(opt_.address, ec);
        if (ec)
            throw std::invalid_argument("roomcast: bad listen address '" + opt_.address + "'");
        listener_.emplace(*first.ctx, boost::asio::ip::tcp::endpoint(addr, opt_.port),
                          opt_.transport);
    }

    /// Posts the shutdown to every shard. Called once, under lifecycle_, with every shard built.
    void post_shutdown() {
        listener_->begin_stop(); // before any shard starts closing its sessions
        boost::asio::post(*shards_[0]->ctx, [this] {
            listener_->stop();
            if (cluster_)
                cluster_->close();
            if (signals_) {
                boost::system::error_code ignored;
                signals_->clear(ignored); // later signals get their default action again
                signals_->cancel(ignored);
            }
        });
        for (auto& s : shards_) {
            boost::asio::post(*s->ctx, [sh = s.get()] {
                std::vector<detail::client*> all(sh->clients.begin(), sh->clients.end());
                for (auto* c : all)
                    c->shutdown(reason::server_shutting_down);
                sh->work.reset();
            });
        }
    }

    void start_accepting() {
        listener_->start(
            [this]() -> boost::asio::any_io_executor {
                auto& s = *shards_[next_shard_++ % shards_.size()];
                return s.ctx->get_executor();
            },
            [this](std::shared_ptr<transport::connection> conn) { on_open(std::move(conn)); });
    }

    /// A new Engine.IO session, on its shard's thread.
    void on_open(std::shared_ptr<transport::connection> conn) {
        auto& ctx = boost::asio::query(conn->get_executor(), boost::asio::execution::context);
        detail::shard* home = shards_[0].get();
        for (auto& s : shards_)
            if (static_cast<boost::asio::execution_context*>(s->ctx) == &ctx)
                home = s.get();
        auto c = std::make_shared<detail::client>(*this, *home, conn);
        conn->set_handler(c);
        if (closing_)
            return c->shutdown(reason::server_shutting_down);
        c->start();
    }

    bool owns_contexts_;
    /// The namespace "/", held so that `io.to(...)` and the other shorthands do not look it up
    /// (under the namespaces' lock) on every call.
    name_space* root_ = nullptr;
    std::optional<typename Transport::listener> listener_;
    std::optional<boost::asio::signal_set> signals_;
    std::size_t next_shard_ = 0; // touched only on shard 0, where the listener runs
    std::mutex lifecycle_;       // orders run()'s set-up against close() from other threads
    bool started_ = false;       // shards built and accepting (under lifecycle_)
    std::atomic<bool> closing_{false};
};

} // namespace roomcast

#endif
