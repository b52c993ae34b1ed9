// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_IMPL_CORE_HPP
#define ROOMCAST_IMPL_CORE_HPP

// Definitions shared by socket, broadcast_operator, name_space and the client. They refer to
// each other, so they are defined here, once all of their classes are complete; each of those
// headers includes this file at its end. For that to work, those headers include one another
// only through detail/fwd.hpp, never at their top.

#include <roomcast/ack.hpp>
#include <roomcast/broadcast.hpp>
#include <roomcast/detail/client.hpp>
#include <roomcast/detail/handler.hpp>
#include <roomcast/detail/nsp_shard.hpp>
#include <roomcast/detail/server_core.hpp>
#include <roomcast/name_space.hpp>
#include <roomcast/protocol/socketio.hpp>
#include <roomcast/socket.hpp>
#include <roomcast/transport/detail/random_id.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value_ref.hpp>

#include <atomic>
#include <iostream>

namespace roomcast {

namespace detail {

/// The Engine.IO message carrying Socket.IO packet `p` (text part only).
inline transport::message_ptr encode_message(protocol::socketio::packet p) {
    auto m = std::make_shared<transport::message>();
    m->data += '4';
    protocol::socketio::encode_to(m->data, p);
    // The binary frames that follow, for BINARY_* packets: moved, never copied.
    m->attachments = std::move(p.attachments);
    return m;
}

/// A packet; with attachments, an EVENT or ACK becomes its BINARY_* form.
inline protocol::socketio::packet make_packet(protocol::socketio::packet_type t,
                                              std::string_view nsp, boost::json::value data = {},
                                              std::optional<std::uint64_t> id = std::nullopt,
                                              std::vector<std::string> attachments = {}) {
    using protocol::socketio::packet_type;
    protocol::socketio::packet p;
    if (!attachments.empty() && t == packet_type::event)
        t = packet_type::binary_event;
    if (!attachments.empty() && t == packet_type::ack)
        t = packet_type::binary_ack;
    p.attachments = std::move(attachments);
    p.type = t;
    p.nsp.assign(nsp);
    p.data = std::move(data);
    p.id = id;
    return p;
}

/// How nsp_shard hands a broadcast to one of its sockets.
struct deliver_to_socket {
    void operator()(adapter::member& m, transport::message_ptr const& msg, bool is_volatile) const {
        static_cast<socket&>(m).deliver(msg, is_volatile);
    }
};

inline void send_ack(socket& s, event_call const& call, payload p) {
    if (!call.ack_id)
        return;
    s.deliver(
        encode_message(make_packet(protocol::socketio::packet_type::ack, s.nsp().name(),
                                   std::move(p.args), call.ack_id, std::move(p.attachments))));
}

inline void report_handler_error(socket& s, event_call const& call, std::string message,
                                 std::exception_ptr ex) {
    if (call.ack_id) {
        payload p;
        p.args.push_back(boost::json::object{{"error", message}});
        send_ack(s, call, std::move(p));
    }
    s.nsp().call_error(s, handler_error{std::string(call.event), std::move(message), ex});
}

// --- server_core ---------------------------------------------------------------------------

inline server_core::~server_core() {
    // Pending handlers of the contexts hold sessions and clients: destroy them while the
    // namespaces those refer to still exist.
    shards_.clear();
}

inline void server_core::log(log_level level, std::string_view line) const {
    if (opt_.log) {
        opt_.log(level, line);
        return;
    }
    if (level >= log_level::warning)
        std::cerr << "roomcast: " << line << '\n';
}

inline name_space& server_core::get_or_add_namespace(std::string_view name) {
    if (auto* n = find_namespace(name))
        return *n;
    auto n = std::make_unique<name_space>(std::string(name), *this);
    for (auto& s : shards_)
        n->add_shard(make_nsp_shard_(*s));
    auto& ref = *n;
    namespaces_.emplace(std::string(name), std::move(n));
    return ref;
}

inline shard& server_core::add_shard(std::unique_ptr<shard> s) {
    for (auto& [_, n] : namespaces_)
        n->add_shard(make_nsp_shard_(*s));
    shards_.push_back(std::move(s));
    return *shards_.back();
}

// --- client --------------------------------------------------------------------------------

inline client::client(server_core& server, shard& home, std::shared_ptr<transport::connection> conn)
    : server_(&server)
    , home_(&home)
    , conn_(std::move(conn))
    , connect_timer_(conn_->get_executor()) {}

inline void client::start() {
    home_->clients.insert(this);
    connect_timer_.expires_after(server_->opts().connect_timeout);
    connect_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && !self->closed_ && self->sockets_.empty()) // Socket.IO's connectTimeout
            self->conn_->close(transport::reason::forced_close);
    });
}

inline transport::send_status client::send(transport::message_ptr m, bool is_volatile) {
    return conn_->send(std::move(m), is_volatile);
}

inline void client::on_message(std::string_view data, bool binary) {
    if (closed_)
        return;
    namespace sio = protocol::socketio;
    if (binary) {
        auto r = assembler_.add(data);
        if (!r)
            return fail(reason::parse_error, r.error().message());
        if (*r)
            dispatch(std::move(**r));
        return;
    }
    if (assembler_.waiting())
        return fail(reason::parse_error, "text packet while binary attachments were expected");
    auto p = sio::decode(data, {.max_attachments = server_->opts().max_attachments});
    if (!p)
        return fail(reason::parse_error, p.error().message());
    if (p->is_binary()) {
        if (auto done = assembler_.start(std::move(*p)))
            dispatch(std::move(*done));
        return;
    }
    dispatch(std::move(*p));
}

inline void client::dispatch(protocol::socketio::packet p) {
    using protocol::socketio::packet_type;
    switch (p.type) {
    case packet_type::connect:
        connect(p);
        return;
    case packet_type::disconnect:
        if (auto it = sockets_.find(p.nsp); it != sockets_.end()) {
            auto s = it->second; // keeps the socket alive through its disconnect sequence
            s->on_close(reason::client_namespace_disconnect);
        }
        return;
    case packet_type::event:
    case packet_type::binary_event: {
        auto it = sockets_.find(p.nsp);
        if (it == sockets_.end() || !it->second->connected())
            return; // not (yet) connected to that namespace: ignored, as Socket.IO does
        auto s = it->second;
        auto const& args = p.data.get_array(); // decode guarantees a non-empty array
        std::string name = args.front().is_string()
                               ? std::string(args.front().get_string())
                               : protocol::serialize(args.front()); // numeric event names
        s->nsp().dispatch(*s, event_call{name, args, p.id, p.attachments});
        return;
    }
    case packet_type::ack:
    case packet_type::binary_ack:
        if (auto it = sockets_.find(p.nsp); it != sockets_.end() && p.id) {
            auto s = it->second;
            s->on_ack(*p.id, std::move(p.data.get_array()));
        }
        return;
    case packet_type::connect_error:
        return fail(reason::parse_error, "CONNECT_ERROR sent by a client");
    }
}

inline void client::connect(protocol::socketio::packet const& p) {
    using protocol::socketio::packet_type;
    auto* nsp = server_->find_namespace(p.nsp);
    if (!nsp) {
        send(encode_message(make_packet(packet_type::connect_error, p.nsp,
                                        boost::json::object{{"message", "Invalid namespace"}})));
        return;
    }
    if (sockets_.contains(p.nsp))
        return; // already connected (or connecting) to it
    auto hs = std::make_shared<handshake_info>();
    static_cast<transport::request_info&>(*hs) = conn_->request();
    if (auto const* o = p.data.if_object())
        hs->auth = *o;
    auto s = std::make_shared<socket>(transport::detail::random_id(), *nsp,
                                      nsp->local(home_->index), shared_from_this(), std::move(hs));
    sockets_.emplace(p.nsp, s);
    // Connection middleware runs first; the socket counts as connected once it passed.
    nsp->run_middleware(s, [self = shared_from_this(), s, nsp](std::optional<connect_error> e) {
        if (!s->connecting())
            return; // the connection closed while middleware ran
        if (e) {
            boost::json::object o{{"message", e->message}};
            if (!e->data.is_null())
                o.emplace("data", std::move(e->data));
            self->send(
                encode_message(make_packet(packet_type::connect_error, nsp->name(), std::move(o))));
            s->on_close("middleware rejected"); // leaves rooms middleware joined; no hooks
            return;
        }
        self->connect_timer_.cancel();
        s->join(s->id());
        s->set_connected();
        self->send(encode_message(
            make_packet(packet_type::connect, nsp->name(), boost::json::object{{"sid", s->id()}})));
        nsp->call_connection(*s);
    });
}

inline std::shared_ptr<socket> client::remove(std::string_view nsp) {
    auto it = sockets_.find(nsp);
    if (it == sockets_.end())
        return nullptr;
    auto s = std::move(it->second);
    sockets_.erase(it);
    return s;
}

inline void client::on_close(std::string_view why) {
    if (closed_)
        return;
    closed_ = true;
    connect_timer_.cancel();
    home_->clients.erase(this);
    assembler_.reset();
    for (auto& s : sockets_snapshot())
        s->on_close(why);
    sockets_.clear();
}

inline void client::fail(std::string_view why, std::string_view detail) {
    auto const& req = conn_->request();
    server_->log(log_level::warning, "closing connection " + conn_->id() + " from " + req.address +
                                         ": " + std::string(why) + ": " + std::string(detail));
    shutdown(why);
}

inline void client::disconnect_all() {
    for (auto& s : sockets_snapshot())
        s->disconnect(false);
    conn_->close(reason::forced_server_close);
}

inline std::vector<std::shared_ptr<socket>> client::sockets_snapshot() const {
    std::vector<std::shared_ptr<socket>> all;
    all.reserve(sockets_.size());
    for (auto const& [_, s] : sockets_)
        all.push_back(s);
    return all;
}

inline void client::shutdown(std::string_view why) {
    for (auto& s : sockets_snapshot())
        s->on_close(why);
    conn_->close(why);
}

} // namespace detail

// --- socket --------------------------------------------------------------------------------

inline socket::socket(std::string id, name_space& nsp, detail::nsp_shard_base& local,
                      std::shared_ptr<detail::client> const& c,
                      std::shared_ptr<handshake_info const> hs)
    : adapter::member(std::move(id))
    , nsp_(&nsp)
    , local_(&local)
    , client_(c)
    , handshake_(std::move(hs)) {}

inline std::string_view socket::nsp_name() const noexcept {
    return nsp_->name();
}

inline std::vector<std::string> socket::rooms() const {
    return local_->rooms_of(*this);
}

inline void socket::join(std::string_view room) {
    if (state_ != state::disconnected)
        local_->join(*this, room);
}
inline void socket::join(std::initializer_list<std::string_view> rooms) {
    for (auto r : rooms)
        join(r);
}
inline void socket::join(std::vector<std::string> const& rooms) {
    for (auto const& r : rooms)
        join(r);
}

inline void socket::leave(std::string_view room) {
    if (state_ != state::disconnected)
        local_->leave(*this, room);
}

template<class... Args>
void socket::emit(std::string_view event, Args const&... args) {
    send_event(detail::make_payload(event, args...));
}

inline void socket::emit(std::string_view event,
                         std::initializer_list<boost::json::value_ref> arg) {
    send_event(detail::event_payload(event, boost::json::value(arg)));
}

inline void socket::send_event(detail::payload p) {
    if (state_ == state::disconnected)
        return;
    deliver(detail::encode_message(detail::make_packet(protocol::socketio::packet_type::event,
                                                       nsp_name(), std::move(p.args), std::nullopt,
                                                       std::move(p.attachments))));
}

inline transport::send_status socket::deliver(transport::message_ptr const& m, bool is_volatile) {
    // Packets sent while middleware runs are buffered by clients until the CONNECT answer.
    if (state_ == state::disconnected)
        return transport::send_status::closed;
    auto c = client_.lock();
    return c ? c->send(m, is_volatile) : transport::send_status::closed;
}

inline broadcast_operator socket::to(std::string_view room) const {
    return broadcast_operator(*nsp_).to(room).except(id());
}
inline broadcast_operator socket::in(std::string_view room) const {
    return to(room);
}
inline broadcast_operator socket::except(std::string_view room) const {
    return broadcast_operator(*nsp_).except(id()).except(room);
}
inline broadcast_operator socket::broadcast() const {
    return broadcast_operator(*nsp_).except(id());
}

inline void socket::disconnect(bool close) {
    if (state_ == state::disconnected)
        return;
    auto c = client_.lock();
    if (close && c) {
        c->disconnect_all();
        return;
    }
    deliver(detail::encode_message(
        detail::make_packet(protocol::socketio::packet_type::disconnect, nsp_name())));
    on_close(reason::server_namespace_disconnect);
}

inline void socket::on_close(std::string_view why) {
    if (state_ == state::disconnected)
        return;
    bool const was_connected = state_ == state::connected;
    if (was_connected)
        nsp_->call_disconnecting(*this, why);
    local_->leave_all(*this); // also rooms joined by middleware that then rejected
    state_ = state::disconnected;
    std::shared_ptr<socket> keep; // the client's reference, released after the last hook
    if (auto c = client_.lock())
        keep = c->remove(nsp_name());
    auto pending = std::move(pending_acks_);
    pending_acks_.clear();
    for (auto& [id, p] : pending)
        complete(std::move(p.handler), error::disconnected, {});
    if (was_connected)
        nsp_->call_disconnect(*this, why);
}

inline boost::asio::any_io_executor socket::get_executor() const {
    if (auto c = client_.lock())
        return c->connection().get_executor();
    return local_->context().get_executor();
}

inline void socket::start_ack(detail::payload args,
                              std::optional<std::chrono::milliseconds> timeout, ack_handler h) {
    if (state_ == state::disconnected)
        return complete(std::move(h), error::disconnected, {});
    auto const id = next_ack_id_++;
    // Constructed in place: Boost 1.81's any_completion_handler move *assignment* recurses
    // forever (it copies from an lvalue through its wrapping constructor); move construction
    // is sound.
    auto& p = pending_acks_.emplace(id, pending_ack{std::move(h), nullptr}).first->second;
    if (timeout) {
        p.timer = std::make_unique<boost::asio::steady_timer>(get_executor(), *timeout);
        p.timer->async_wait([self = weak_from_this(), id](boost::system::error_code ec) {
            if (auto s = self.lock(); s && !ec)
                s->finish_ack(id, error::timeout, {});
        });
    }
    deliver(detail::encode_message(detail::make_packet(protocol::socketio::packet_type::event,
                                                       nsp_name(), std::move(args.args), id,
                                                       std::move(args.attachments))));
}

inline void socket::on_ack(std::uint64_t id, boost::json::array args) {
    finish_ack(id, {}, std::move(args));
}

inline void socket::finish_ack(std::uint64_t id, boost::system::error_code ec,
                               boost::json::array args) {
    auto it = pending_acks_.find(id);
    if (it == pending_acks_.end())
        return; // late (after a timeout), repeated, or never asked: ignored
    auto h = std::move(it->second.handler);
    pending_acks_.erase(it); // destroys the timer, cancelling it
    complete(std::move(h), ec, std::move(args));
}

inline void socket::complete(ack_handler h, boost::system::error_code ec, boost::json::array args) {
    // Never inside the caller (which may be iterating over pending acks): via the shard's
    // queue, then on the handler's own executor.
    boost::asio::post(get_executor(), [h = std::move(h), ec, args = std::move(args)]() mutable {
        auto ex = boost::asio::get_associated_executor(h);
        boost::asio::dispatch(ex, [h = std::move(h), ec, args = std::move(args)]() mutable {
            std::move(h)(ec, std::move(args));
        });
    });
}

// --- ack -----------------------------------------------------------------------------------

inline void ack::send(detail::payload p) {
    if (!state_ || state_->sent.exchange(true))
        return;
    auto c = state_->client.lock();
    if (!c)
        return;
    auto m = detail::encode_message(detail::make_packet(protocol::socketio::packet_type::ack,
                                                        state_->nsp, std::move(p.args), state_->id,
                                                        std::move(p.attachments)));
    // The client lives on its shard: answer there (in place when already on it).
    auto ex = c->connection().get_executor();
    boost::asio::dispatch(ex, [c = std::move(c), m = std::move(m)] { c->send(m); });
}

template<bool>
ack detail::make_ack(socket& s, event_call const& call) {
    std::weak_ptr<detail::client> c;
    // The client is alive while its socket is connected; a disconnected socket's ack is inert.
    if (s.connected())
        c = s.client_weak();
    return ack(std::move(c), std::string(s.nsp().name()), call.ack_id);
}

// --- broadcast_operator --------------------------------------------------------------------

inline void broadcast_operator::send_event(detail::payload p) const {
    // Encoded once, attachments included, for every recipient on every shard.
    auto m = detail::encode_message(detail::make_packet(protocol::socketio::packet_type::event,
                                                        nsp_->name(), std::move(p.args),
                                                        std::nullopt, std::move(p.attachments)));
    nsp_->broadcast(std::move(m), opt_);
}

// --- name_space ----------------------------------------------------------------------------

inline name_space::name_space(std::string name, detail::server_core& server)
    : name_(std::move(name))
    , server_(&server) {}

inline broadcast_operator name_space::to(std::string_view room) {
    return broadcast_operator(*this).to(room);
}
inline broadcast_operator name_space::in(std::string_view room) {
    return to(room);
}
inline broadcast_operator name_space::except(std::string_view room) {
    return broadcast_operator(*this).except(room);
}
template<class... Args>
void name_space::emit(std::string_view event, Args const&... args) {
    broadcast_operator(*this).emit(event, args...);
}
inline void name_space::emit(std::string_view event,
                             std::initializer_list<boost::json::value_ref> arg) {
    broadcast_operator(*this).emit(event, arg);
}

inline void name_space::add_shard(std::unique_ptr<detail::nsp_shard_base> s) {
    s->set_room_hooks(room_hooks_);
    shards_.push_back(std::move(s));
}

inline name_space& name_space::room_hooks(adapter::room_hooks hooks) {
    room_hooks_ = std::move(hooks);
    for (auto& s : shards_)
        s->set_room_hooks(room_hooks_);
    return *this;
}

inline void name_space::broadcast(transport::message_ptr m, adapter::broadcast_options const& opt) {
    // Other shards first, local delivery last: once any recipient can see the packet (and
    // react to it, say by telling another client to join the room), the delivery is already
    // queued on every other shard, ahead of anything that reaction causes there.
    detail::nsp_shard_base* here = nullptr;
    std::shared_ptr<adapter::broadcast_options const> shared; // made once, if a shard needs it
    for (auto& sh : shards_) {
        auto& ctx = sh->context();
        if (ctx.get_executor().running_in_this_thread()) {
            here = sh.get();
            continue;
        }
        if (!shared)
            shared = std::make_shared<adapter::broadcast_options const>(opt);
        boost::asio::post(ctx, [sh = sh.get(), m, shared] { sh->deliver(m, *shared); });
    }
    if (here)
        here->deliver(m, opt);
}

inline void name_space::dispatch(socket& s, detail::event_call const& call) {
    if (any_)
        call_hook(any_, s, "any", call.event,
                  std::span<boost::json::value const>(call.args.data() + 1, call.args.size() - 1));
    auto it = handlers_.find(call.event);
    if (it != handlers_.end())
        it->second(s, call);
}

template<class F, class... A>
void name_space::call_hook(F const& f, socket& s, char const* what, A&&... a) {
    if (!f)
        return;
    try {
        f(s, std::forward<A>(a)...);
    } catch (std::exception const& e) {
        server_->log(log_level::error,
                     std::string(what) + " hook of namespace " + name_ + " threw: " + e.what());
    } catch (...) {
        server_->log(log_level::error,
                     std::string(what) + " hook of namespace " + name_ + " threw");
    }
}

inline void name_space::run_middleware(std::shared_ptr<socket> s, next::continuation done) {
    run_middleware_from(0, std::move(s), std::move(done));
}

inline void name_space::run_middleware_from(std::size_t i, std::shared_ptr<socket> s,
                                            next::continuation done) {
    if (i == middleware_.size())
        return done(std::nullopt);
    auto k = [this, i, weak = std::weak_ptr<socket>(s),
              done](std::optional<connect_error> e) mutable {
        auto s = weak.lock();
        if (!s || !s->connecting())
            return; // the connection went away meanwhile
        if (e)
            return done(std::move(e));
        run_middleware_from(i + 1, std::move(s), std::move(done));
    };
    auto const ex = s->get_executor();
    try {
        middleware_[i](*s, next(ex, std::move(k)));
    } catch (std::exception const& e) {
        done(connect_error{e.what()});
    } catch (...) {
        done(connect_error{"middleware failed"});
    }
}

inline void name_space::call_connection(socket& s) {
    call_hook(connection_, s, "connection");
}
inline void name_space::call_disconnecting(socket& s, std::string_view why) {
    call_hook(disconnecting_, s, "disconnecting", why);
}
inline void name_space::call_disconnect(socket& s, std::string_view why) {
    call_hook(disconnect_, s, "disconnect", why);
}
inline void name_space::call_error(socket& s, handler_error const& e) {
    if (!error_) {
        server_->log(log_level::warning, "socket " + s.id() + ": " + e.message);
        return;
    }
    call_hook(error_, s, "error", e);
}

} // namespace roomcast

#endif
