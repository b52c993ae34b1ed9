// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_SOCKET_HPP
#define ROOMCAST_SOCKET_HPP

#include <roomcast/adapter/member.hpp>
#include <roomcast/convert.hpp>
#include <roomcast/detail/fwd.hpp>
#include <roomcast/detail/initiate.hpp>
#include <roomcast/error.hpp>
#include <roomcast/handshake.hpp>
#include <roomcast/middleware.hpp>
#include <roomcast/transport/connection.hpp>
#include <roomcast/transport/options.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_ref.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace roomcast {

/// Socket.IO's disconnect reasons (the server side's names).
namespace reason {
using namespace transport::reason;
inline constexpr std::string_view client_namespace_disconnect = "client namespace disconnect";
inline constexpr std::string_view server_namespace_disconnect = "server namespace disconnect";
inline constexpr std::string_view forced_server_close = "forced server close";
} // namespace reason

/// One client connected to one namespace: Socket.IO's server-side `socket`.
///
/// Lifetime and threads: a socket lives on one shard and every handler that receives it runs
/// there. Use the reference inside the handler call; do not keep it beyond. Member functions
/// must be called on the socket's shard (from its handlers).
class socket : public adapter::member, public std::enable_shared_from_this<socket> {
public:
    socket(std::string id, std::shared_ptr<name_space> nsp, detail::nsp_shard_base& local,
           std::shared_ptr<detail::client> const& c, std::shared_ptr<handshake_info const> hs);

    // id() comes from adapter::member.

    /// The namespace this socket is connected to.
    name_space& nsp() const noexcept { return *nsp_; }

    /// The rooms this socket is in, its own id room included.
    std::vector<std::string> rooms() const;

    /// Joins a room; joining a room twice is a no-op. Returns whether the socket is in the
    /// room: false, with a warning in the log, when the socket is disconnected, the name is
    /// longer than `options::max_room_name_bytes`, or the socket is already in
    /// `options::max_rooms_per_socket` rooms. The lists return whether every join did.
    bool join(std::string_view room);
    bool join(std::initializer_list<std::string_view> rooms);
    bool join(std::vector<std::string> const& rooms);

    /// Leaves a room. Leaving a room one is not in is a no-op.
    void leave(std::string_view room);

    /// Sends an event to this client. Arguments convert with `roomcast::to_json`.
    /// A disconnected socket ignores it.
    template<class... Args>
    void emit(std::string_view event, Args const&... args);
    void emit(std::string_view event, std::initializer_list<boost::json::value_ref> arg);

    /// Sends an event and waits for the client's acknowledgement: Socket.IO's
    /// `socket.emitWithAck`. The last argument is an Asio completion token for the signature
    /// `void(boost::system::error_code, roomcast::arguments reply)` (a callback,
    /// `asio::use_awaitable`, `asio::use_future`...); the others are the event's arguments.
    /// Completes with `error::disconnected` if the socket disconnects first (Socket.IO leaves
    /// such acks hanging); `timeout(d).emit_with_ack(...)` adds `error::timeout`. The
    /// completion never runs inside this call.
    template<class... ArgsThenToken>
    auto emit_with_ack(std::string_view event, ArgsThenToken&&... args_then_token) {
        return emit_with_ack_for(std::nullopt, event,
                                 std::forward<ArgsThenToken>(args_then_token)...);
    }

    /// `emit_with_ack` with a deadline: `s.timeout(5s).emit_with_ack("ping", handler)`.
    class timed {
    public:
        template<class... ArgsThenToken>
        auto emit_with_ack(std::string_view event, ArgsThenToken&&... args_then_token) {
            return s_->emit_with_ack_for(timeout_, event,
                                         std::forward<ArgsThenToken>(args_then_token)...);
        }

    private:
        friend class socket;
        timed(socket& s, std::chrono::milliseconds t)
            : s_(&s)
            , timeout_(t) {}
        socket* s_;
        std::chrono::milliseconds timeout_;
    };
    timed timeout(std::chrono::milliseconds d) { return timed(*this, d); }

    /// The executor of this socket's shard: where its handlers run and where code that
    /// touches it from elsewhere must post.
    boost::asio::any_io_executor get_executor() const;

    /// A broadcast to `room` that excludes this socket (Socket.IO's `socket.to(room)`).
    broadcast_operator to(std::string_view room) const;
    broadcast_operator in(std::string_view room) const;
    /// A broadcast to everyone in the namespace but this socket, except `room`'s members.
    broadcast_operator except(std::string_view room) const;
    /// A broadcast to everyone in the namespace but this socket.
    broadcast_operator broadcast() const;

    /// Adds packet middleware (Socket.IO's `socket.use`): `f(socket&, boost::json::array&
    /// packet, roomcast::next n)` runs, in the order added, for every event this socket
    /// receives, before `on_any` and the handler. `packet` is `[event, args...]` and may be
    /// changed. `n()` goes on; `n(connect_error{message})` drops the event and reports
    /// `message` to the namespace's error hook. `f` may be a coroutine returning
    /// `asio::awaitable<void>`; an exception drops the event the same way. The handler takes
    /// its arguments over: once `n()` has run it, `packet` still holds the event name, but an
    /// argument the handler received as JSON may have been moved out.
    template<class F>
    socket& use(F&& f);

    /// Disconnects from this namespace (the client gets `disconnect` with
    /// "io server disconnect"); with `close`, closes the whole connection.
    void disconnect(bool close = false);

    /// True from the CONNECT answer (after any connection middleware) until disconnected.
    bool connected() const noexcept { return state_ == state::connected; }

    /// The handshake of this connection.
    handshake_info const& handshake() const noexcept { return *handshake_; }
    std::shared_ptr<handshake_info const> const& handshake_ptr() const noexcept {
        return handshake_;
    }

    /// Free-form data of the host's, kept for the socket's life (Socket.IO's `socket.data`).
    boost::json::value& data() noexcept { return data_; }
    boost::json::value const& data() const noexcept { return data_; }

    /// Delivers an encoded message (internal: broadcasts and acks use it).
    transport::send_status deliver(transport::message_ptr const& m, bool is_volatile = false);

    /// Runs the disconnect sequence once: disconnecting hook (rooms still populated), leave
    /// every room, disconnect hook (internal).
    void on_close(std::string_view why);

    /// Sends an EVENT packet whose data is `args` (internal).
    void send_event(detail::payload p);

    /// The connection's Socket.IO client (internal: acks use it).
    std::weak_ptr<detail::client> client_weak() const noexcept { return client_; }

    /// True while connection middleware runs (internal).
    bool connecting() const noexcept { return state_ == state::connecting; }
    /// Middleware passed: the socket joins its own room and becomes connected (internal).
    void set_connected();
    /// The client acknowledged emit `id` with `args` (internal).
    void on_ack(std::uint64_t id, arguments args);

    using ack_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, arguments)>;
    /// Waits for acknowledgement `id` of a packet already encoded, e.g. a broadcast
    /// (internal). Returns false, and forgets `h`, if the socket is disconnected.
    bool expect_ack(std::uint64_t id, std::optional<std::chrono::milliseconds> timeout,
                    ack_handler& h);
    /// Forgets pending acknowledgement `id`, completing it with `ec` (internal).
    void finish_ack(std::uint64_t id, boost::system::error_code ec, arguments args);

    /// Runs the packet middleware, then `on_any` and the handler (internal).
    void receive(boost::json::array packet, std::optional<std::uint64_t> ack_id,
                 std::vector<std::string> attachments);

private:
    struct pending_ack {
        ack_handler handler;
        std::unique_ptr<boost::asio::steady_timer> timer; // only with a timeout
    };

    std::string_view nsp_name() const noexcept;

    template<class... T>
    auto emit_with_ack_for(std::optional<std::chrono::milliseconds> timeout, std::string_view event,
                           T&&... all) {
        return detail::initiate_emit<void(boost::system::error_code, arguments)>(
            [this, timeout](auto handler, detail::payload args) {
                start_ack(std::move(args), timeout, ack_handler(std::move(handler)));
            },
            event, std::forward<T>(all)...);
    }

    void start_ack(detail::payload args, std::optional<std::chrono::milliseconds> timeout,
                   ack_handler h);
    /// Completes `h` on its associated executor (never inside the caller).
    void complete(ack_handler h, boost::system::error_code ec, arguments args);

    enum class state { connecting, connected, disconnected };

    std::shared_ptr<name_space> nsp_;
    detail::nsp_shard_base* local_;
    std::weak_ptr<detail::client> client_;
    std::shared_ptr<handshake_info const> handshake_;
    boost::json::value data_;
    state state_ = state::connecting;
    std::vector<std::function<void(socket&, boost::json::array&, next)>> packet_middleware_;
    // Node-based, so that no pending_ack is ever relocated (see start_ack on Boost 1.81's
    // any_completion_handler); made by the first ack asked, so that a socket that never asks
    // does not carry an empty map.
    std::unique_ptr<std::unordered_map<std::uint64_t, pending_ack>> pending_acks_;
};

} // namespace roomcast

#include <roomcast/impl/core.hpp>

#endif
