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
#include <roomcast/detail/complete.hpp>
#include <roomcast/detail/handler.hpp>
#include <roomcast/detail/nsp_shard.hpp>
#include <roomcast/detail/server_core.hpp>
#include <roomcast/name_space.hpp>
#include <roomcast/protocol/socketio.hpp>
#include <roomcast/remote_socket.hpp>
#include <roomcast/socket.hpp>
#include <roomcast/transport/detail/random_id.hpp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value_ref.hpp>

#include <atomic>
#include <iostream>
#include <limits>
#include <mutex>
#include <stdexcept>

namespace roomcast {

namespace detail {

/// The Engine.IO message carrying Socket.IO packet `p` (text part only).
inline transport::message_ptr encode_message(protocol::socketio::packet p) {
    // Encoded into the thread's reused buffer, then copied once at its exact size. Appending
    // straight into the message would allocate again at each doubling and leave up to twice
    // the text's size allocated, held as long as any queue holds the message (and queues are
    // bounded by what messages hold).
    constexpr std::size_t kept_capacity = 64 * 1024;
    thread_local std::string text;
    text.assign(1, '4');
    protocol::socketio::encode_to(text, p);
    // The binary frames that follow, for BINARY_* packets: moved, never copied.
    auto m = std::make_shared<transport::message>(
        transport::message{std::string(text), false, std::move(p.attachments)});
    if (text.capacity() > kept_capacity) // a large packet's room is not kept for the next
        std::string().swap(text);
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

template<class Ack>
void send_ack(Ack& a, payload p) {
    a.send(std::move(p));
}

template<class Ack>
void report_handler_error(socket& s, std::string_view event, Ack& a, std::string message,
                          std::exception_ptr ex) {
    if (a.requested()) {
        payload p;
        p.args.push_back(boost::json::object{{"error", message}});
        a.send(std::move(p));
    }
    s.nsp().call_error(s, handler_error{std::string(event), std::move(message), ex});
}

inline boost::asio::any_io_executor executor_of(socket& s) {
    return s.get_executor();
}
inline std::shared_ptr<socket> keep_alive(socket& s) {
    return s.shared_from_this();
}

/// Runs middleware `chain(s)[i..]` for `s` with the extra arguments `a...`, in order, then
/// `done(nullopt)`; the first refusal, or the message of what a middleware throws, goes to
/// `done` instead. Stops quietly if the socket disconnected while a middleware was waiting.
/// `chain` is looked up again at each step, since middleware may add middleware.
template<class Chain, class... A>
void run_chain(Chain chain, std::size_t i, std::shared_ptr<socket> s, next::continuation done,
               A*... a) {
    auto const& fs = chain(*s);
    if (i == fs.size())
        return done(std::nullopt);
    auto k = [chain, i, weak = std::weak_ptr<socket>(s), done,
              a...](std::optional<connect_error> e) mutable {
        auto s = weak.lock();
        if (!s || !(s->connecting() || s->connected()))
            return; // the connection went away meanwhile
        if (e)
            return done(std::move(e));
        run_chain(chain, i + 1, std::move(s), std::move(done), a...);
    };
    auto const ex = s->get_executor();
    try {
        fs[i](*s, *a..., next(ex, std::move(k)));
    } catch (...) {
        done(connect_error{what_of(std::current_exception())});
    }
}

// --- server_core ---------------------------------------------------------------------------

inline server_core::~server_core() {
    // A cluster node's connections and timers belong to the first shard's context: they go
    // while it exists (handlers still queued there are destroyed with it, never run).
    cluster_.reset();
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

inline std::shared_ptr<name_space> server_core::find_namespace(std::string_view name) const {
    std::shared_lock lock(namespaces_mutex_);
    auto it = namespaces_.find(name);
    return it == namespaces_.end() ? nullptr : it->second;
}

inline std::shared_ptr<name_space> server_core::build(std::shared_ptr<name_space> n) {
    for (auto& s : shards_)
        n->add_shard(make_nsp_shard_(*s));
    return n;
}

inline name_space& server_core::get_or_add_namespace(std::string_view name) {
    std::unique_lock lock(namespaces_mutex_);
    auto it = namespaces_.find(name);
    if (it == namespaces_.end()) {
        it = namespaces_
                 .emplace(std::string(name),
                          build(std::make_shared<name_space>(std::string(name), *this)))
                 .first;
        if (cluster_)
            cluster_->add_namespace(it->second);
    }
    return *it->second;
}

inline name_space& server_core::add_parent_namespace(namespace_predicate match) {
    std::unique_lock lock(namespaces_mutex_);
    auto n = std::make_shared<name_space>("/_" + std::to_string(parents_.size() + 1), *this);
    n->set_parent_role();
    parents_.push_back({std::move(match), n});
    return *n;
}

inline std::shared_ptr<name_space> server_core::attach_namespace(std::string_view name,
                                                                 handshake_info const& hs) {
    {
        // Counted under the lock, so that a child being dropped as empty cannot be handed out.
        std::shared_lock lock(namespaces_mutex_);
        if (auto it = namespaces_.find(name); it != namespaces_.end()) {
            it->second->attach();
            return it->second;
        }
        if (parents_.empty())
            return nullptr;
    }
    std::unique_lock lock(namespaces_mutex_);
    if (auto it = namespaces_.find(name); it != namespaces_.end()) { // made meanwhile
        it->second->attach();
        return it->second;
    }
    for (auto const& p : parents_) {
        bool matched = false;
        try {
            matched = p.match(name, hs);
        } catch (std::exception const& e) {
            log(log_level::error, std::string("dynamic namespace predicate threw: ") + e.what());
        }
        if (!matched)
            continue;
        auto child = build(p.nsp->make_child(std::string(name)));
        namespaces_.emplace(std::string(name), child);
        if (cluster_)
            cluster_->add_namespace(child);
        child->attach();
        return child;
    }
    return nullptr;
}

inline void server_core::release_namespace(name_space& nsp) {
    if (!nsp.detach() || !nsp.parent() || !opt_.cleanup_empty_child_namespaces)
        return;
    std::unique_lock lock(namespaces_mutex_);
    if (nsp.attached() != 0)
        return; // a client attached meanwhile
    if (auto it = namespaces_.find(nsp.name());
        it != namespaces_.end() && it->second.get() == &nsp) {
        namespaces_.erase(it); // in-flight work holds its own reference
        if (cluster_)
            cluster_->remove_namespace(nsp.name());
    }
}

inline std::vector<std::shared_ptr<name_space>>
server_core::children_of(name_space const& parent) const {
    std::shared_lock lock(namespaces_mutex_);
    std::vector<std::shared_ptr<name_space>> out;
    for (auto const& [_, n] : namespaces_)
        if (n->parent() == &parent)
            out.push_back(n);
    return out;
}

inline boost::asio::any_io_executor server_core::home_executor() const {
    for (auto const& s : shards_)
        if (s->ctx->get_executor().running_in_this_thread())
            return s->ctx->get_executor();
    return shards_.front()->ctx->get_executor();
}

inline shard& server_core::add_shard(std::unique_ptr<shard> s) {
    std::unique_lock lock(namespaces_mutex_);
    for (auto& [_, n] : namespaces_)
        n->add_shard(make_nsp_shard_(*s));
    shards_.push_back(std::move(s));
    return *shards_.back();
}

// --- client --------------------------------------------------------------------------------

inline client::client(server_core& server, shard& home, std::shared_ptr<transport::connection> conn)
    : server_(&server)
    , home_(&home)
    , conn_(std::move(conn)) {}

inline void client::start() {
    home_->clients.insert(this);
    connect_timer_ = std::make_unique<boost::asio::steady_timer>(conn_->get_executor(),
                                                                 server_->opts().connect_timeout);
    connect_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
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
    if (refused_)
        return; // the rest of what it sent with the packet that broke a limit
    auto const& o = server_->opts();
    if (!take_token())
        return refuse(p.nsp, "rate limit exceeded");
    switch (p.type) {
    case packet_type::connect:
        connect(p);
        return;
    case packet_type::disconnect:
        if (auto it = find(p.nsp); it != sockets_.end()) {
            auto s = it->second; // keeps the socket alive through its disconnect sequence
            s->on_close(reason::client_namespace_disconnect);
        }
        return;
    case packet_type::event:
    case packet_type::binary_event: {
        auto it = find(p.nsp);
        if (it == sockets_.end() || !it->second->connected())
            return; // not (yet) connected to that namespace: ignored, as Socket.IO does
        auto const& name = p.data.get_array().front(); // decode guarantees a non-empty array
        if (name.is_string() && name.get_string().size() > o.max_event_name_bytes)
            return refuse(p.nsp, "event name longer than " +
                                     std::to_string(o.max_event_name_bytes) + " bytes");
        if (p.id && acks_in_flight_.load(std::memory_order_relaxed) >= o.max_acks_in_flight)
            return refuse(p.nsp, "more than " + std::to_string(o.max_acks_in_flight) +
                                     " acknowledgements in flight");
        auto s = it->second;
        s->receive(std::move(p.data.get_array()), p.id, std::move(p.attachments));
        return;
    }
    case packet_type::ack:
    case packet_type::binary_ack:
        if (auto it = find(p.nsp); it != sockets_.end() && p.id) {
            auto s = it->second;
            s->on_ack(*p.id, arguments(std::move(p.data.get_array()), std::move(p.attachments)));
        }
        return;
    case packet_type::connect_error:
        return fail(reason::parse_error, "CONNECT_ERROR sent by a client");
    }
}

inline void client::connect(protocol::socketio::packet const& p) {
    using protocol::socketio::packet_type;
    if (find(p.nsp) != sockets_.end())
        return; // already connected (or connecting) to it
    auto hs = std::make_shared<handshake_info>();
    if (first_handshake_) {
        static_cast<transport::request_info&>(*hs) = *first_handshake_;
    } else {
        static_cast<transport::request_info&>(*hs) = conn_->take_request();
        first_handshake_ = hs;
    }
    if (auto const* o = p.data.if_object())
        hs->auth = *o;
    auto nsp = server_->attach_namespace(p.nsp, *hs);
    if (!nsp) {
        send(encode_message(make_packet(packet_type::connect_error, p.nsp,
                                        boost::json::object{{"message", "Invalid namespace"}})));
        return;
    }
    auto s = std::make_shared<socket>(transport::detail::random_id(), nsp, nsp->local(home_->index),
                                      shared_from_this(), std::move(hs));
    sockets_.emplace_back(p.nsp, s);
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
        self->connect_timer_.reset();
        s->set_connected(); // in its own room, whatever the limits
        self->send(encode_message(
            make_packet(packet_type::connect, nsp->name(), boost::json::object{{"sid", s->id()}})));
        nsp->call_connection(*s);
    });
}

inline std::shared_ptr<socket> client::remove(std::string_view nsp) {
    auto it = find(nsp);
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
    connect_timer_.reset();
    home_->clients.erase(this);
    assembler_.reset();
    for (auto& s : sockets_snapshot())
        s->on_close(why);
    sockets_.clear();
}

inline void client::fail(std::string_view why, std::string_view detail) {
    server_->log(log_level::warning, "closing connection " + conn_->id() + " from " +
                                         conn_->address() + ": " + std::string(why) + ": " +
                                         std::string(detail));
    shutdown(why);
}

inline void client::refuse(std::string_view nsp, std::string message) {
    refused_ = true;
    server_->log(log_level::warning, "closing connection " + conn_->id() + " from " +
                                         conn_->address() + ": " + message);
    if (auto it = find(nsp); it != sockets_.end() && it->second->connected())
        it->second->emit("error", boost::json::object{{"message", std::move(message)}});
    disconnect_all();
}

inline bool client::take_token() {
    auto const& r = server_->opts().client_rate;
    if (r.per_second <= 0)
        return true;
    double const burst = std::max(1.0, r.burst > 0 ? r.burst : r.per_second);
    auto const now = std::chrono::steady_clock::now();
    if (tokens_ < 0) {
        tokens_ = burst;
    } else {
        std::chrono::duration<double> const elapsed = now - refilled_;
        tokens_ = std::min(burst, tokens_ + elapsed.count() * r.per_second);
    }
    refilled_ = now;
    if (tokens_ < 1)
        return false;
    tokens_ -= 1;
    return true;
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

/// The cluster an operation of `n` with `opt` also reaches: none for a `local` one.
inline cluster* cluster_of(name_space& n, adapter::broadcast_options const& opt) {
    return opt.local ? nullptr : n.server().cluster_node();
}

/// The sockets of shard part `sh` that `opt` selects, collected before anything is done to
/// them: what is done may join or leave rooms, which the adapter's walk must not see.
inline std::vector<std::shared_ptr<socket>>
selected_sockets(nsp_shard_base const& sh, adapter::broadcast_options const& opt) {
    std::vector<std::shared_ptr<socket>> out;
    sh.visit(opt, [&](adapter::member& m) {
        out.push_back(static_cast<socket&>(m).shared_from_this());
    });
    return out;
}

} // namespace detail

// --- socket --------------------------------------------------------------------------------

inline socket::socket(std::string id, std::shared_ptr<name_space> nsp,
                      detail::nsp_shard_base& local, std::shared_ptr<detail::client> const& c,
                      std::shared_ptr<handshake_info const> hs)
    : adapter::member(std::move(id))
    , nsp_(std::move(nsp))
    , local_(&local)
    , client_(c)
    , handshake_(std::move(hs)) {}

inline std::string_view socket::nsp_name() const noexcept {
    return nsp_->name();
}

inline std::vector<std::string> socket::rooms() const {
    return local_->rooms_of(*this);
}

inline bool socket::join(std::string_view room) {
    if (state_ == state::disconnected)
        return false;
    auto const& o = nsp_->server().opts();
    if (room.size() > o.max_room_name_bytes) {
        nsp_->server().log(log_level::warning,
                           "socket " + id() + ": join refused: a room name of " +
                               std::to_string(room.size()) + " bytes (max_room_name_bytes)");
        return false;
    }
    if (!local_->join(*this, room, o.max_rooms_per_socket)) {
        nsp_->server().log(log_level::warning, "socket " + id() + ": join refused: already in " +
                                                   std::to_string(o.max_rooms_per_socket) +
                                                   " rooms (max_rooms_per_socket)");
        return false;
    }
    return true;
}
inline void socket::set_connected() {
    local_->join(*this, id(), std::numeric_limits<std::size_t>::max());
    state_ = state::connected;
}
inline bool socket::join(std::initializer_list<std::string_view> rooms) {
    bool all = true;
    for (auto r : rooms)
        all = join(r) && all;
    return all;
}
inline bool socket::join(std::vector<std::string> const& rooms) {
    bool all = true;
    for (auto const& r : rooms)
        all = join(r) && all;
    return all;
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
    nsp_->call_any_outgoing(*this, p.args);
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
    if (auto pending = std::move(pending_acks_))
        for (auto& [id, p] : *pending)
            complete(std::move(p.handler), error::disconnected, {});
    if (was_connected)
        nsp_->call_disconnect(*this, why);
    nsp_->server().release_namespace(*nsp_);
}

template<class F>
socket& socket::use(F&& f) {
    packet_middleware_.push_back(detail::make_middleware<boost::json::array&>(std::forward<F>(f)));
    return *this;
}

inline void socket::receive(boost::json::array packet, std::optional<std::uint64_t> ack_id,
                            std::vector<std::string> attachments) {
    auto const run = [this, ack_id](boost::json::array& args,
                                    std::span<std::string const> attachments) {
        auto const& name = args.front(); // decode guarantees a non-empty array
        // Numeric event names are kept as the text the client sent. The name stays in the
        // packet while the handler runs: handlers take over arguments, never the name.
        std::string numeric;
        std::string_view const event = name.is_string()
                                           ? std::string_view(name.get_string())
                                           : std::string_view(numeric = protocol::serialize(name));
        nsp_->dispatch(*this, detail::event_call{event, args, ack_id, attachments});
    };
    if (packet_middleware_.empty())
        return run(packet, attachments);
    // Middleware may finish later: the packet lives on the heap until it does.
    auto kept = std::make_shared<std::pair<boost::json::array, std::vector<std::string>>>(
        std::move(packet), std::move(attachments));
    auto self = shared_from_this();
    detail::run_chain(
        [](socket & s) -> auto const& { return s.packet_middleware_; }, 0, self,
        [self, kept, run](std::optional<connect_error> e) {
            if (!self->connected())
                return;
            auto& args = kept->first;
            bool const named =
                !args.empty() && (args.front().is_string() || args.front().is_number());
            if (!e && named)
                return run(args, kept->second);
            if (!e)
                return; // middleware removed the event name: nothing to dispatch
            std::string event = named && args.front().is_string()
                                    ? std::string(args.front().get_string())
                                    : std::string();
            self->nsp().call_error(*self, handler_error{event, std::move(e->message), nullptr});
        },
        &kept->first);
}

inline boost::asio::any_io_executor socket::get_executor() const {
    if (auto c = client_.lock())
        return c->connection().get_executor();
    return local_->context().get_executor();
}

inline bool socket::expect_ack(std::uint64_t id, std::optional<std::chrono::milliseconds> timeout,
                               ack_handler& h) {
    if (state_ == state::disconnected)
        return false;
    // Constructed in place: Boost 1.81's any_completion_handler move *assignment* recurses
    // forever (it copies from an lvalue through its wrapping constructor); move construction
    // is sound.
    if (!pending_acks_)
        pending_acks_ = std::make_unique<std::unordered_map<std::uint64_t, pending_ack>>();
    auto& p = pending_acks_->emplace(id, pending_ack{std::move(h), nullptr}).first->second;
    if (timeout) {
        p.timer = std::make_unique<boost::asio::steady_timer>(get_executor(), *timeout);
        p.timer->async_wait([self = weak_from_this(), id](boost::system::error_code ec) {
            if (auto s = self.lock(); s && !ec)
                s->finish_ack(id, error::timeout, {});
        });
    }
    return true;
}

inline void socket::start_ack(detail::payload args,
                              std::optional<std::chrono::milliseconds> timeout, ack_handler h) {
    auto const id = nsp_->next_ack_id();
    if (!expect_ack(id, timeout, h))
        return complete(std::move(h), error::disconnected, {});
    nsp_->call_any_outgoing(*this, args.args);
    deliver(detail::encode_message(detail::make_packet(protocol::socketio::packet_type::event,
                                                       nsp_name(), std::move(args.args), id,
                                                       std::move(args.attachments))));
}

inline void socket::on_ack(std::uint64_t id, arguments args) {
    finish_ack(id, {}, std::move(args));
}

inline void socket::finish_ack(std::uint64_t id, boost::system::error_code ec, arguments args) {
    if (!pending_acks_)
        return; // never asked
    auto it = pending_acks_->find(id);
    if (it == pending_acks_->end())
        return; // late (after a timeout), repeated, or never asked: ignored
    auto h = std::move(it->second.handler);
    pending_acks_->erase(it); // destroys the timer, cancelling it
    complete(std::move(h), ec, std::move(args));
}

inline void socket::complete(ack_handler h, boost::system::error_code ec, arguments args) {
    detail::complete_on(get_executor(), std::move(h), ec, std::move(args));
}

// --- ack -----------------------------------------------------------------------------------

inline ack::state::state(std::weak_ptr<detail::client> c, std::string n, std::uint64_t i)
    : client(std::move(c))
    , nsp(std::move(n))
    , id(i) {
    if (auto p = client.lock())
        p->ack_taken();
}

inline ack::state::~state() {
    if (!sent.load(std::memory_order_relaxed))
        if (auto c = client.lock())
            c->ack_answered();
}

inline void ack::send(detail::payload p) {
    if (!state_ || state_->sent.exchange(true))
        return;
    auto c = state_->client.lock();
    if (!c)
        return;
    c->ack_answered();
    auto m = detail::encode_message(detail::make_packet(protocol::socketio::packet_type::ack,
                                                        state_->nsp, std::move(p.args), state_->id,
                                                        std::move(p.attachments)));
    // The client lives on its shard: answer there (in place when already on it).
    auto ex = c->connection().get_executor();
    boost::asio::dispatch(ex, [c = std::move(c), m = std::move(m)] { c->send(m); });
}

template<bool>
ack detail::make_ack(socket& s, std::optional<std::uint64_t> ack_id) {
    if (!ack_id)
        return ack();
    // The client is alive while its socket is connected; a disconnected socket's ack is inert.
    std::shared_ptr<detail::client> c;
    if (s.connected())
        c = s.client_weak().lock();
    return ack(std::move(c), std::string(s.nsp().name()), ack_id);
}

// --- remote_socket -------------------------------------------------------------------------

inline void remote_socket::act(std::function<void(socket&)> f) const {
    boost::asio::dispatch(ex_, [s = socket_, f = std::move(f)] {
        if (auto p = s.lock(); p && p->connected())
            f(*p);
    });
}

// A socket of another node is reached as Socket.IO reaches it: through its own room.
inline void remote_socket::send_event(detail::payload p) const {
    if (nsp_)
        return broadcast_operator(*nsp_).to(id_).send_event(std::move(p));
    act([p = std::make_shared<detail::payload>(std::move(p))](socket& s) {
        s.send_event(std::move(*p));
    });
}
inline void remote_socket::join(std::string_view room) const {
    if (nsp_)
        return broadcast_operator(*nsp_).in(id_).sockets_join(room);
    act([r = std::string(room)](socket& s) { s.join(r); });
}
inline void remote_socket::leave(std::string_view room) const {
    if (nsp_)
        return broadcast_operator(*nsp_).in(id_).sockets_leave(room);
    act([r = std::string(room)](socket& s) { s.leave(r); });
}
inline void remote_socket::disconnect(bool close) const {
    if (nsp_)
        return broadcast_operator(*nsp_).in(id_).disconnect_sockets(close);
    act([close](socket& s) { s.disconnect(close); });
}

// --- broadcast_operator --------------------------------------------------------------------

inline void broadcast_operator::send_event(detail::payload p) const {
    bool const copy = nsp_->is_parent(); // a dynamic parent sends a copy to each child
    nsp_->for_each_target([&](name_space& n) {
        auto q = copy ? p : detail::payload{};
        auto& use = copy ? q : p;
        if (auto* c = detail::cluster_of(n, opt_))
            c->publish(n, use, opt_);
        n.broadcast_payload(std::move(use), opt_);
    });
}

inline void broadcast_operator::start_fetch(
    boost::asio::any_completion_handler<void(boost::system::error_code, std::vector<remote_socket>)>
        h) const {
    nsp_->start_fetch(opt_, std::move(h));
}

inline void broadcast_operator::start_count(
    boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)> h) const {
    nsp_->start_count(opt_, std::move(h));
}

inline void broadcast_operator::sockets_join(std::vector<std::string> rooms) const {
    nsp_->for_each_target([&](name_space& n) {
        n.for_each_socket(opt_, [rooms](socket& s) { s.join(rooms); });
        if (auto* c = detail::cluster_of(n, opt_))
            c->sockets_action(n, opt_, detail::cluster::action::join, rooms);
    });
}

inline void broadcast_operator::sockets_leave(std::vector<std::string> rooms) const {
    nsp_->for_each_target([&](name_space& n) {
        n.for_each_socket(opt_, [rooms](socket& s) {
            for (auto const& r : rooms)
                s.leave(r);
        });
        if (auto* c = detail::cluster_of(n, opt_))
            c->sockets_action(n, opt_, detail::cluster::action::leave, rooms);
    });
}

inline void broadcast_operator::disconnect_sockets(bool close) const {
    nsp_->for_each_target([&](name_space& n) {
        n.for_each_socket(opt_, [close](socket& s) { s.disconnect(close); });
        if (auto* c = detail::cluster_of(n, opt_))
            c->sockets_action(n, opt_,
                              close ? detail::cluster::action::disconnect_close
                                    : detail::cluster::action::disconnect,
                              {});
    });
}

inline void broadcast_operator::start_ack(
    detail::payload p, std::chrono::milliseconds timeout,
    boost::asio::any_completion_handler<void(boost::system::error_code, boost::json::array)> h)
    const {
    nsp_->require_sockets("emit_with_ack");
    nsp_->start_broadcast_ack(std::move(p), opt_, timeout, std::move(h));
}

// --- name_space ----------------------------------------------------------------------------

inline name_space::name_space(std::string name, detail::server_core& server,
                              name_space const* parent)
    : name_(std::move(name))
    , server_(&server)
    , parent_(parent) {}

inline std::shared_ptr<name_space> name_space::make_child(std::string name) const {
    auto c = std::make_shared<name_space>(std::move(name), *server_, this);
    c->handlers_ = handlers_;
    c->connection_ = connection_;
    c->disconnecting_ = disconnecting_;
    c->disconnect_ = disconnect_;
    c->error_ = error_;
    c->any_ = any_;
    c->any_outgoing_ = any_outgoing_;
    c->middleware_ = middleware_;
    c->room_hooks_ = room_hooks_;
    c->server_handlers_ = server_handlers_;
    return c;
}

template<class F>
void name_space::for_each_target(F&& f) {
    if (!is_parent_)
        return f(*this);
    for (auto const& c : server_->children_of(*this))
        f(*c);
}

inline void name_space::require_sockets(char const* what) const {
    if (is_parent_)
        throw std::logic_error(std::string("roomcast: ") + what +
                               " is not supported on a dynamic parent namespace; use a child: "
                               "io.of(\"/name\")");
}

inline broadcast_operator name_space::all() {
    return broadcast_operator(*this);
}

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
    // The adapter calls a hook in the middle of a join or a leave, a disconnect's included:
    // what a hook throws is logged here, never let through to leave rooms half left.
    auto const guarded = [this]<class F>(F f, std::string_view what) -> F {
        if (!f)
            return f;
        auto const where = std::string(what) + " hook of namespace " + name_ + " threw";
        return [server = server_, f = std::move(f), where](auto const&... a) {
            try {
                f(a...);
            } catch (std::exception const& e) {
                server->log(log_level::error, where + ": " + e.what());
            } catch (...) {
                server->log(log_level::error, where);
            }
        };
    };
    hooks.create_room = guarded(std::move(hooks.create_room), "create_room");
    hooks.delete_room = guarded(std::move(hooks.delete_room), "delete_room");
    hooks.join_room = guarded(std::move(hooks.join_room), "join_room");
    hooks.leave_room = guarded(std::move(hooks.leave_room), "leave_room");
    room_hooks_ = std::move(hooks);
    for (auto& s : shards_)
        s->set_room_hooks(room_hooks_);
    return *this;
}

template<class F>
void name_space::on_each_shard(F f) {
    // Other shards first, the calling one last: once any socket here can see the effect (and
    // react to it, say by telling another client to join the room), the work is already
    // queued on every other shard, ahead of anything that reaction causes there.
    detail::nsp_shard_base* here = nullptr;
    for (auto& sh : shards_) {
        auto& ctx = sh->context();
        if (ctx.get_executor().running_in_this_thread()) {
            here = sh.get();
            continue;
        }
        boost::asio::post(ctx, [self = shared_from_this(), sh = sh.get(), f] { f(*sh); });
    }
    if (here)
        f(*here);
}

inline void name_space::broadcast(transport::message_ptr m, adapter::broadcast_options const& opt,
                                  std::shared_ptr<boost::json::array const> args) {
    if (args && any_outgoing_) {
        for_each_socket(opt, [m, args, vol = opt.is_volatile](socket& s) {
            s.nsp().call_any_outgoing(s, *args);
            s.deliver(m, vol);
        });
        return;
    }
    if (shards_.size() == 1 && shards_[0]->context().get_executor().running_in_this_thread())
        return shards_[0]->deliver(m, opt); // one shard, and on it: nothing to copy or post
    on_each_shard([m = std::move(m), opt](detail::nsp_shard_base& sh) { sh.deliver(m, opt); });
}

inline void name_space::broadcast_payload(detail::payload p,
                                          adapter::broadcast_options const& opt) {
    // Encoded once, attachments included, for every recipient on every shard.
    std::shared_ptr<boost::json::array const> args;
    if (any_outgoing_)
        args = std::make_shared<boost::json::array const>(p.args);
    broadcast(detail::encode_message(detail::make_packet(protocol::socketio::packet_type::event,
                                                         name_, std::move(p.args), std::nullopt,
                                                         std::move(p.attachments))),
              opt, std::move(args));
}

inline void name_space::for_each_socket(adapter::broadcast_options const& opt,
                                        std::function<void(socket&)> f) {
    on_each_shard([opt, f = std::move(f)](detail::nsp_shard_base& sh) {
        for (auto& s : detail::selected_sockets(sh, opt))
            f(*s);
    });
}

template<class Result, class Part, class Combine>
void name_space::gather(
    std::function<Part(detail::nsp_shard_base&)> part, Combine combine,
    boost::asio::any_completion_handler<void(boost::system::error_code, Result)> h) {
    struct state {
        std::mutex m;
        std::vector<Part> parts;
        std::size_t left;
        boost::asio::any_completion_handler<void(boost::system::error_code, Result)> h;
        boost::asio::any_io_executor home;
        Combine combine;
    };
    auto st = std::shared_ptr<state>(
        new state{{}, {}, shards_.size(), std::move(h), server_->home_executor(), combine});
    on_each_shard([st, part](detail::nsp_shard_base& sh) {
        auto p = part(sh);
        std::unique_lock lock(st->m);
        st->parts.push_back(std::move(p));
        if (--st->left != 0)
            return;
        lock.unlock(); // the last part is in: nobody else touches the state now
        detail::complete_on(st->home, std::move(st->h), boost::system::error_code{},
                            st->combine(st->parts));
    });
}

inline void name_space::start_fetch(
    adapter::broadcast_options opt,
    boost::asio::any_completion_handler<void(boost::system::error_code, std::vector<remote_socket>)>
        h) {
    require_sockets("fetch_sockets");
    using part = std::vector<remote_socket>;
    if (auto* c = detail::cluster_of(*this, opt)) {
        // The local sockets first, then the other servers'.
        detail::fetch_handler then_cluster(
            [self = shared_from_this(), c, opt, h = std::move(h)](
                boost::system::error_code, std::vector<remote_socket> local) mutable {
                c->fetch_sockets(*self, opt, std::move(local), std::move(h));
            });
        adapter::broadcast_options here = opt;
        here.local = true;
        return start_fetch(std::move(here), std::move(then_cluster));
    }
    gather<part, part>(
        [opt = std::move(opt)](detail::nsp_shard_base& sh) {
            part out;
            sh.visit(opt, [&](adapter::member& m) {
                auto& s = static_cast<socket&>(m);
                if (s.connected())
                    out.emplace_back(s.id(), s.rooms(), s.data(), s.handshake_ptr(),
                                     s.weak_from_this(), s.get_executor());
            });
            return out;
        },
        [](std::vector<part>& parts) {
            part all;
            for (auto& p : parts)
                std::move(p.begin(), p.end(), std::back_inserter(all));
            return all;
        },
        std::move(h));
}

inline void name_space::start_count(
    adapter::broadcast_options opt,
    boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)> h) {
    require_sockets("socket_count");
    if (detail::cluster_of(*this, opt)) {
        // Counted from the sockets every server reports.
        detail::fetch_handler count(
            [h = std::move(h), home = server_->home_executor()](
                boost::system::error_code ec, std::vector<remote_socket> all) mutable {
                detail::complete_on(home, std::move(h), ec, all.size());
            });
        return start_fetch(std::move(opt), std::move(count));
    }
    gather<std::size_t, std::size_t>(
        [opt = std::move(opt)](detail::nsp_shard_base& sh) {
            std::size_t n = 0;
            sh.visit(opt, [&](adapter::member& m) { n += static_cast<socket&>(m).connected(); });
            return n;
        },
        [](std::vector<std::size_t>& parts) {
            std::size_t n = 0;
            for (auto p : parts)
                n += p;
            return n;
        },
        std::move(h));
}

inline void name_space::start_all_rooms(
    boost::asio::any_completion_handler<void(boost::system::error_code, std::vector<room_info>)> h,
    bool here_only) {
    require_sockets("all_rooms");
    using part = std::vector<room_info>;
    auto const rooms_part = [](detail::nsp_shard_base& sh) {
        part out;
        sh.visit_rooms([&](std::string const& r, std::size_t n) { out.push_back({r, n}); });
        return out;
    };
    auto const combine = [](std::vector<part>& parts) {
        // The same room may have members on several shards: one entry, sizes added.
        boost::unordered_flat_map<std::string, std::size_t, adapter::detail::string_hash,
                                  std::equal_to<>>
            sizes;
        for (auto const& p : parts)
            for (auto const& r : p)
                sizes[r.name] += r.size;
        part all;
        all.reserve(sizes.size());
        for (auto& [name, n] : sizes)
            all.push_back({name, n});
        std::sort(all.begin(), all.end(),
                  [](room_info const& a, room_info const& b) { return a.name < b.name; });
        return all;
    };
    auto* c = here_only ? nullptr : server_->cluster_node();
    if (!c)
        return gather<part, part>(rooms_part, combine, std::move(h));
    detail::rooms_handler then_cluster([self = shared_from_this(), c, h = std::move(h)](
                                           boost::system::error_code, part local) mutable {
        c->all_rooms(*self, std::move(local), std::move(h));
    });
    gather<part, part>(rooms_part, combine, std::move(then_cluster));
}

inline void name_space::broadcast_with_ack_local(detail::payload p,
                                                 adapter::broadcast_options const& opt,
                                                 std::chrono::milliseconds timeout,
                                                 detail::local_ack_callbacks cb) {
    // One packet, one ack id for every recipient (ids are unique in the namespace), as
    // Socket.IO does.
    struct count {
        std::mutex m;
        std::size_t clients = 0;
        std::size_t shards_left;
    };
    auto const counted = std::make_shared<count>();
    counted->shards_left = shards_.size();
    auto const id = next_ack_id();
    std::shared_ptr<boost::json::array const> args;
    if (any_outgoing_)
        args = std::make_shared<boost::json::array const>(p.args);
    auto m = detail::encode_message(detail::make_packet(protocol::socketio::packet_type::event,
                                                        name_, std::move(p.args), id,
                                                        std::move(p.attachments)));
    auto const shared_cb = std::make_shared<detail::local_ack_callbacks const>(std::move(cb));
    on_each_shard([counted, shared_cb, id, m, args, opt, timeout](detail::nsp_shard_base& sh) {
        std::size_t waiting = 0;
        for (auto& s : detail::selected_sockets(sh, opt)) {
            socket::ack_handler answer = [shared_cb](boost::system::error_code ec,
                                                     arguments reply) {
                if (ec == error::timeout)
                    return; // the broadcast's own timer decides
                if (ec)
                    return shared_cb->gone();
                shared_cb->answer(reply.empty() ? boost::json::value() : std::move(reply.front()));
            };
            if (!s->expect_ack(id, timeout, answer))
                continue;
            ++waiting;
            if (args)
                s->nsp().call_any_outgoing(*s, *args);
            if (s->deliver(m, opt.is_volatile) != transport::send_status::queued)
                s->finish_ack(id, error::disconnected, {}); // will never be answered
        }
        std::unique_lock lock(counted->m);
        counted->clients += waiting;
        if (--counted->shards_left != 0)
            return;
        auto const total = counted->clients;
        lock.unlock();
        shared_cb->client_count(total);
    });
}

inline void name_space::start_broadcast_ack(
    detail::payload p, adapter::broadcast_options const& opt, std::chrono::milliseconds timeout,
    boost::asio::any_completion_handler<void(boost::system::error_code, boost::json::array)> h) {
    // Each server (this one and, with a cluster, every other) reports how many clients it
    // sent the packet to, then their answers: done when every server has reported and every
    // client it counted has answered or gone.
    struct state {
        // The handler is move-constructed, never move-assigned: see socket::expect_ack on
        // Boost 1.81's any_completion_handler.
        state(boost::asio::any_io_executor ex,
              boost::asio::any_completion_handler<void(boost::system::error_code,
                                                       boost::json::array)>&& handler)
            : h(std::move(handler))
            , home(ex)
            , timer(ex) {}
        std::mutex m;
        boost::json::array responses;
        std::optional<std::size_t> servers; // known once the cluster has counted them
        std::size_t servers_reported = 0;
        std::size_t expected = 0; // recipients reported so far
        std::size_t finished = 0; // answered, gone, or dropped
        bool done = false;
        boost::asio::any_completion_handler<void(boost::system::error_code, boost::json::array)> h;
        boost::asio::any_io_executor home;
        boost::asio::steady_timer timer;

        // Under `m`.
        void finish(boost::system::error_code ec) {
            done = true;
            timer.cancel();
            detail::complete_on(home, std::move(h), ec, std::move(responses));
        }
        void check() {
            if (!done && servers && servers_reported >= *servers && finished >= expected)
                finish({});
        }
        void client_count(std::size_t n) {
            std::lock_guard lock(m);
            expected += n;
            ++servers_reported;
            check();
        }
        void answer(boost::json::value v) {
            std::lock_guard lock(m);
            if (done)
                return;
            responses.push_back(std::move(v));
            ++finished;
            check();
        }
    };
    auto st = std::make_shared<state>(server_->home_executor(), std::move(h));
    st->timer.expires_after(timeout);
    st->timer.async_wait([st](boost::system::error_code ec) {
        std::lock_guard lock(st->m);
        if (!ec && !st->done)
            st->finish(error::timeout);
    });
    if (auto* c = detail::cluster_of(*this, opt)) {
        c->broadcast_with_ack(*this, p, opt, timeout,
                              {.server_count =
                                   [st](std::size_t n) {
                                       std::lock_guard lock(st->m);
                                       st->servers = std::max<std::size_t>(n, 1);
                                       st->check();
                                   },
                               .client_count = [st](std::size_t n) { st->client_count(n); },
                               .answer = [st](boost::json::value v) { st->answer(std::move(v)); }});
    } else {
        st->servers = 1;
    }
    broadcast_with_ack_local(std::move(p), opt, timeout,
                             {.client_count = [st](std::size_t n) { st->client_count(n); },
                              .answer = [st](boost::json::value v) { st->answer(std::move(v)); },
                              .gone =
                                  [st] {
                                      std::lock_guard lock(st->m);
                                      if (st->done)
                                          return;
                                      ++st->finished;
                                      st->check();
                                  }});
}

inline void name_space::start_server_count(detail::count_handler h) {
    if (auto* c = server_->cluster_node())
        return c->server_count(*this, std::move(h));
    detail::complete_on(server_->home_executor(), std::move(h), boost::system::error_code{},
                        std::size_t{1});
}

inline void name_space::start_server_side_emit(detail::payload p) {
    if (auto* c = server_->cluster_node())
        c->server_side_emit(*this, p);
}

inline void name_space::start_server_side_emit_with_ack(detail::payload p,
                                                        detail::responses_handler h) {
    if (auto* c = server_->cluster_node())
        return c->server_side_emit_with_ack(*this, p, std::move(h));
    // No other server to answer.
    detail::complete_on(server_->home_executor(), std::move(h), boost::system::error_code{},
                        boost::json::array{});
}

inline void name_space::call_server_side(boost::json::array args, server_reply reply) {
    if (args.empty() || !args.front().is_string())
        return;
    auto const it = server_handlers_.find(std::string_view(args.front().get_string()));
    if (it == server_handlers_.end())
        return;
    args.erase(args.begin());
    try {
        it->second(args, std::move(reply));
    } catch (std::exception const& e) {
        server_->log(log_level::error, "server-side handler of " + name_ + " threw: " + e.what());
    } catch (...) {
        server_->log(log_level::error, "server-side handler of " + name_ + " threw");
    }
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
    detail::run_chain(
        [](socket & x) -> auto const& { return x.nsp().middleware_; }, 0, std::move(s),
        std::move(done));
}

inline void name_space::call_any_outgoing(socket& s, boost::json::array const& args) {
    if (any_outgoing_)
        call_hook(any_outgoing_, s, "any outgoing", args.front().as_string(),
                  std::span<boost::json::value const>(args.data() + 1, args.size() - 1));
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
