// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_IMPL_WEBSOCKET_IPP
#define ROOMCAST_TRANSPORT_IMPL_WEBSOCKET_IPP

// The WebSocket transport's definitions: included by websocket.hpp when header-only, or once
// by <roomcast/src.hpp> with ROOMCAST_SEPARATE_COMPILATION.

#include <roomcast/protocol/engineio.hpp>
#include <roomcast/transport/detail/random_id.hpp>
#include <roomcast/transport/detail/url.hpp>
#include <roomcast/transport/websocket.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace roomcast::transport {

namespace detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ws = beast::websocket;
using tcp = net::ip::tcp;

/// Engine.IO's error codes for refused requests (engine.io Server.errors).
enum class engine_error {
    unknown_transport = 0,
    unknown_sid = 1,
    bad_handshake_method = 2,
    bad_request = 3,
    forbidden = 4,
    unsupported_protocol_version = 5,
};

inline std::string_view engine_error_message(engine_error e) noexcept {
    switch (e) {
    case engine_error::unknown_transport:
        return "Transport unknown";
    case engine_error::unknown_sid:
        return "Session ID unknown";
    case engine_error::bad_handshake_method:
        return "Bad handshake method";
    case engine_error::bad_request:
        return "Bad request";
    case engine_error::forbidden:
        return "Forbidden";
    case engine_error::unsupported_protocol_version:
        return "Unsupported protocol version";
    }
    return "Bad request";
}

/// Engine.IO's JSON body for a refused request.
inline std::string error_body(engine_error e) {
    std::string body = "{\"code\":" + std::to_string(static_cast<int>(e)) + ",\"message\":";
    protocol::append_string(body, engine_error_message(e));
    body += '}';
    return body;
}

class session;

class http_session;

/// What the connections of one listener share across shards: the sessions by id, for the
/// requests that name one (polling, upgrades), and the HTTP connections, so that stopping
/// the listener can end those that wait for a next request. Guarded by a mutex, held for a
/// lookup only.
class session_registry {
public:
    void add(std::string const& id, std::weak_ptr<session> s) {
        std::lock_guard lock(m_);
        map_.emplace(id, std::move(s));
    }
    std::shared_ptr<session> find(std::string_view id) {
        std::lock_guard lock(m_);
        auto it = map_.find(std::string(id));
        return it == map_.end() ? nullptr : it->second.lock();
    }
    void remove(std::string const& id) {
        std::lock_guard lock(m_);
        map_.erase(id);
    }

    void add_http(http_session* h, std::weak_ptr<http_session> w) {
        std::lock_guard lock(m_);
        http_.emplace(h, std::move(w));
    }
    void remove_http(http_session* h) {
        std::lock_guard lock(m_);
        http_.erase(h);
    }
    std::vector<std::shared_ptr<http_session>> http_connections() {
        std::lock_guard lock(m_);
        std::vector<std::shared_ptr<http_session>> out;
        for (auto const& [_, w] : http_)
            if (auto h = w.lock())
                out.push_back(std::move(h));
        return out;
    }
    /// Set once the listener stopped: connections serve no further request.
    std::atomic<bool> stopping{false};

private:
    std::mutex m_;
    std::unordered_map<std::string, std::weak_ptr<session>> map_;
    std::unordered_map<http_session*, std::weak_ptr<http_session>> http_;
};

/// Answers one polling request; called once, from the session's executor.
using poll_reply = std::function<void(http::status, std::string body)>;

/// One Engine.IO session (§"Transports"): its queue, heartbeat and close, over HTTP
/// long-polling, WebSocket, or polling upgraded to WebSocket. Lives on one executor (a
/// shard's io_context), so its state needs no lock; every call comes on that executor (HTTP
/// requests on other shards post there). It keeps itself alive through the handlers of its
/// own operations and, for polling, through the registry's callers.
class session final : public connection, public std::enable_shared_from_this<session> {
public:
    session(net::any_io_executor ex, std::string id, request_info req, options const& opt,
            std::shared_ptr<session_registry> registry)
        : connection(std::move(id), std::move(req))
        , ex_(std::move(ex))
        , timer_(ex_)
        , upgrade_timer_(ex_)
        , opt_(opt)
        , registry_(std::move(registry)) {}

    net::any_io_executor get_executor() override { return ex_; }

    /// A session on a WebSocket from the start: completes the handshake, sends the open packet.
    void start_websocket(beast::tcp_stream stream, http::request<http::string_body> req,
                         std::function<void(std::shared_ptr<connection>)> on_open) {
        ws_.emplace(std::move(stream));
        on_websocket_ = true;
        accept(std::move(req), [self = shared_from_this(), on_open = std::move(on_open)] {
            self->state_ = state::open;
            self->send_raw(self->open_message(false));
            self->schedule_ping();
            on_open(self);
        });
    }

    /// A session by polling: registers it and returns the open packet for the handshake GET.
    std::string start_polling() {
        state_ = state::open;
        registry_->add(id(), weak_from_this());
        schedule_ping();
        return open_message(opt_.allow_upgrades && opt_.transports.websocket)->data;
    }

    /// Whether HTTP requests are still this session's transport.
    bool polling() const noexcept { return !on_websocket_ && state_ != state::closed; }

    /// A GET: answered at once when something is queued, else parked until something is.
    void poll(poll_reply reply) {
        if (!polling())
            return reply(http::status::bad_request, error_body(engine_error::bad_request));
        if (parked_) {
            // Two GETs at once: Engine.IO closes the session, the first GET gets "1".
            reply(http::status::bad_request, error_body(engine_error::bad_request));
            return fail(reason::transport_error);
        }
        parked_ = std::move(reply);
        if (upgrade_ == upgrade::probed)
            return release_poll(); // the client is moving to the WebSocket: let it go
        flush();
    }

    /// A POST: its packets, then "ok"; a body that does not parse closes the session.
    void post(std::string_view body, poll_reply reply) {
        if (!polling())
            return reply(http::status::bad_request, error_body(engine_error::bad_request));
        auto packets = protocol::engineio::decode_payload(body);
        if (!packets) {
            reply(http::status::bad_request, error_body(engine_error::bad_request));
            return fail(reason::parse_error);
        }
        reply(http::status::ok, "ok");
        for (auto& p : *packets)
            if (!handle(p, false) || state_ == state::closed)
                return;
    }

    /// The client gave up its parked GET (closed the connection): the session is gone.
    void poll_aborted() {
        if (parked_ && polling()) {
            parked_ = nullptr;
            fail(reason::transport_close);
        }
    }

    /// A WebSocket for this polling session (§"Upgrade"); `socket` is on this executor.
    void upgrade_to(tcp::socket socket, http::request<http::string_body> req) {
        if (!polling() || ws_ || !opt_.allow_upgrades || state_ != state::open) {
            // Already upgraded, upgrading, or closing: this WebSocket opens and is closed at
            // once, as engine.io does.
            auto extra = std::make_shared<ws::stream<beast::tcp_stream>>(std::move(socket));
            auto held = std::make_shared<http::request<http::string_body>>(std::move(req));
            beast::get_lowest_layer(*extra).expires_after(opt_.handshake_timeout);
            extra->async_accept(*held, [extra, held](beast::error_code ec) {
                if (!ec)
                    extra->async_close(ws::close_code::normal, [extra](beast::error_code) {});
            });
            return;
        }
        ws_.emplace(beast::tcp_stream(std::move(socket)));
        upgrade_ = upgrade::probing;
        upgrade_timer_.expires_after(opt_.upgrade_timeout);
        upgrade_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec && self->upgrade_ != upgrade::none && !self->on_websocket_ && self->ws_)
                beast::get_lowest_layer(*self->ws_).close(); // the read fails: upgrade abandoned
        });
        accept(std::move(req), [] {});
    }

    send_status send(message_ptr m, bool is_volatile) override {
        if (state_ != state::open)
            return send_status::closed;
        if (is_volatile && busy())
            return send_status::dropped;
        if (queued_bytes_ + m->size() > opt_.max_queue_bytes) {
            fail(reason::transport_error);
            return send_status::dropped;
        }
        send_raw(std::move(m));
        return send_status::queued;
    }

    void close(std::string_view why) override {
        if (state_ != state::open)
            return;
        state_ = state::closing;
        notify_close(why);
        // A peer that stopped reading would hold the queued writes, and so the close, forever:
        // past the deadline the connection is dropped (this also replaces the heartbeat).
        timer_.expires_after(opt_.handshake_timeout);
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec && self->state_ == state::closing)
                self->fail(reason::transport_error);
        });
        if (on_websocket_) {
            if (!writing_)
                close_websocket();
            return;
        }
        // Over polling the close packet goes last, with the rest of the queue, to the next
        // GET. When the listener is stopping and no GET waits, none can come: the client's
        // idle connections are closed and no new ones are accepted.
        queue_.push_back(close_message());
        if (!parked_ && registry_->stopping)
            return fail(why);
        flush();
    }

private:
    enum class state { handshake, open, closing, closed };
    enum class upgrade { none, probing, probed };

    template<class Done>
    void accept(http::request<http::string_body> req, Done done) {
        beast::get_lowest_layer(*ws_).expires_never();
        ws_->set_option(
            ws::stream_base::timeout{opt_.handshake_timeout, ws::stream_base::none(), false});
        ws_->read_message_max(opt_.max_payload);
        ws_->auto_fragment(false);
        auto held = std::make_shared<http::request<http::string_body>>(std::move(req));
        ws_->async_accept(*held, [self = shared_from_this(), held,
                                  done = std::move(done)](beast::error_code ec) mutable {
            if (ec) {
                // The peer went away during the handshake.
                if (self->upgrade_ != upgrade::none)
                    self->abandon_upgrade();
                return;
            }
            done();
            self->read();
        });
    }

    message_ptr open_message(bool upgrades) const {
        return std::make_shared<message const>(
            message{protocol::engineio::encode_open(
                        {.sid = id(),
                         .upgrade_to_websocket = upgrades,
                         .ping_interval_ms = static_cast<std::uint64_t>(opt_.ping_interval.count()),
                         .ping_timeout_ms = static_cast<std::uint64_t>(opt_.ping_timeout.count()),
                         .max_payload = opt_.max_payload}),
                    false});
    }

    /// Whether a volatile message would wait: the transport cannot take it now.
    bool busy() const noexcept { return on_websocket_ ? writing_ : (!parked_ || !queue_.empty()); }

    void send_raw(message_ptr m) {
        queued_bytes_ += m->size();
        queue_.push_back(std::move(m));
        flush();
    }

    /// Moves what is queued to the transport: the next WebSocket write, or everything at once
    /// to a parked GET.
    void flush() {
        if (queue_.empty())
            return;
        if (on_websocket_) {
            if (!writing_ && state_ != state::closed)
                write_next();
            return;
        }
        if (!parked_)
            return;
        // §"Payload": packets joined by the record separator, binary ones as b<base64>.
        std::string body;
        bool closing = false;
        for (auto const& m : queue_) {
            auto const item = [&](std::string_view bytes, bool binary) {
                if (!body.empty())
                    body += protocol::engineio::record_separator;
                if (!binary)
                    return void(body += bytes);
                body += 'b';
                protocol::engineio::base64_encode_to(body, bytes);
            };
            item(m->data, m->binary);
            for (auto const& a : m->attachments)
                item(a, true);
            closing = closing || m == close_message();
        }
        queue_.clear();
        queued_bytes_ = 0;
        std::exchange(parked_, nullptr)(http::status::ok, std::move(body));
        if (closing)
            finish_close();
    }

    /// Ends a parked GET without data (a noop), so that the client polls again or moves on.
    void release_poll() {
        if (parked_)
            std::exchange(parked_, nullptr)(http::status::ok, "6");
    }

    void write_next() {
        writing_ = true;
        auto const& m = *queue_.front();
        // Part 0 is the message itself, parts 1..n its attachments (always binary frames).
        auto const& bytes = part_ == 0 ? m.data : m.attachments[part_ - 1];
        ws_->text(part_ == 0 && !m.binary);
        ws_->async_write(
            net::buffer(bytes),
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        writing_ = false;
        if (!ec && part_ < queue_.front()->attachments.size()) {
            ++part_; // the rest of this packet before anything else
            if (state_ != state::closed)
                write_next();
            return;
        }
        part_ = 0;
        queued_bytes_ -= queue_.front()->size();
        queue_.pop_front();
        if (ec)
            return fail(reason::transport_error);
        if (state_ == state::closed)
            return;
        if (!queue_.empty())
            write_next();
        else if (state_ == state::closing)
            close_websocket();
    }

    void close_websocket() {
        queue_.clear();
        queued_bytes_ = 0;
        ws_->async_close(ws::close_code::normal,
                         [self = shared_from_this()](beast::error_code) { self->finish_close(); });
    }

    /// A close completed: nothing is left to wait for.
    void finish_close() {
        state_ = state::closed;
        timer_.cancel();
        upgrade_timer_.cancel();
        registry_->remove(id());
        if (ws_ && !on_websocket_)
            beast::get_lowest_layer(*ws_).close(); // an upgrade in progress
    }

    /// The session is unusable: stop everything and tell the layer above.
    void fail(std::string_view why, std::string_view parked_answer = "1") {
        if (state_ == state::closed)
            return;
        bool const was_open = state_ == state::open || state_ == state::closing;
        state_ = state::closed;
        timer_.cancel();
        upgrade_timer_.cancel();
        registry_->remove(id());
        if (parked_)
            std::exchange(parked_, nullptr)(http::status::ok, std::string(parked_answer));
        if (was_open)
            notify_close(why);
        if (ws_) {
            beast::error_code ignored;
            beast::get_lowest_layer(*ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
            beast::get_lowest_layer(*ws_).close();
        }
    }

    /// Tells the handler once, from a fresh call stack: callers may be inside `send`.
    void notify_close(std::string_view why) {
        if (notified_)
            return;
        notified_ = true;
        net::post(ex_, [self = shared_from_this(), why = std::string(why)] {
            if (auto h = std::move(self->handler_))
                h->on_close(why);
        });
    }

    void schedule_ping() {
        awaiting_pong_ = false;
        timer_.expires_after(opt_.ping_interval);
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec || self->state_ != state::open)
                return;
            // The timeout counts from the moment the ping is queued, not from when a poll
            // takes it: a client that stopped polling is as gone as one that stopped answering.
            self->send_raw(ping_message());
            self->awaiting_pong_ = true;
            self->timer_.expires_after(self->opt_.ping_timeout);
            self->timer_.async_wait([self](beast::error_code ec2) {
                if (!ec2 && self->awaiting_pong_ && self->state_ == state::open)
                    self->fail(reason::ping_timeout);
            });
        });
    }

    static message_ptr const& ping_message() {
        static message_ptr const m = std::make_shared<message const>(message{"2", false});
        return m;
    }
    static message_ptr const& close_message() {
        static message_ptr const m = std::make_shared<message const>(message{"1", false});
        return m;
    }

    void read() {
        ws_->async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            if (!on_websocket_)
                return abandon_upgrade(); // the probe's socket went; polling goes on
            // A clean close from the peer, a reset, or a protocol violation Beast refused
            // (oversized message: 1009, invalid UTF-8: 1007); Beast already answered the peer.
            return fail(ec == ws::error::closed || ec == net::error::eof ? reason::transport_close
                                                                         : reason::transport_error);
        }
        auto const data = beast::buffers_to_string(buffer_.data());
        bool const binary = ws_->got_binary();
        buffer_.consume(buffer_.size());
        if (buffer_.capacity() > 16 * 1024)
            buffer_.shrink_to_fit(); // idle connections keep no large buffer
        if (state_ == state::open) {
            if (binary) {
                deliver(data, true);
            } else {
                auto p = protocol::engineio::decode(data);
                if (!p)
                    return fail(reason::parse_error);
                if (!handle(*p, true))
                    return;
            }
        }
        if (state_ != state::closed && ws_)
            read();
    }

    /// One packet from the client, over the WebSocket or in a POST. False if it closed the
    /// session.
    bool handle(protocol::engineio::packet const& p, bool over_websocket) {
        using protocol::engineio::packet_type;
        switch (p.type) {
        case packet_type::pong:
            if (awaiting_pong_)
                schedule_ping();
            return true;
        case packet_type::message:
            deliver(p.data, p.binary);
            return true;
        case packet_type::close:
            fail(reason::transport_close, "6"); // the parked GET ends quietly
            return false;
        case packet_type::ping:
            // In Engine.IO v4 only the server pings; a client sends "2probe" on the WebSocket
            // it upgrades to. Anything else is refused as engine.io refuses it ("invalid
            // heartbeat direction").
            if (!over_websocket || p.data != "probe") {
                fail(reason::transport_error);
                return false;
            }
            probe();
            return true;
        case packet_type::upgrade:
            if (!over_websocket || upgrade_ != upgrade::probed) {
                fail(reason::transport_error);
                return false;
            }
            complete_upgrade();
            return true;
        case packet_type::open:
        case packet_type::noop:
            return true;
        }
        return true;
    }

    /// "2probe": answered on the WebSocket at once (the queue goes on over polling until
    /// the upgrade completes); a parked GET is let go so the client can switch.
    void probe() {
        if (on_websocket_) {
            // A WebSocket session answers probes through its queue.
            send(probe_message(), false);
            return;
        }
        if (upgrade_ != upgrade::probing || writing_)
            return;
        upgrade_ = upgrade::probed;
        writing_ = true;
        ws_->text(true);
        ws_->async_write(net::buffer(probe_message()->data),
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->writing_ = false;
                             if (ec)
                                 return; // the read fails too, and abandons the upgrade
                             if (self->on_websocket_)
                                 self->flush(); // "5" came while the answer was written
                         });
        release_poll();
    }

    /// "5": from now on everything goes over the WebSocket, in order, starting with what
    /// polling had not taken yet.
    void complete_upgrade() {
        on_websocket_ = true;
        upgrade_ = upgrade::none;
        upgrade_timer_.cancel();
        release_poll();
        if (state_ == state::closing) {
            // A close packet queued for polling: the WebSocket closes instead.
            std::erase(queue_, close_message());
            if (!writing_ && queue_.empty())
                return close_websocket();
        }
        flush();
    }

    void abandon_upgrade() {
        upgrade_ = upgrade::none;
        upgrade_timer_.cancel();
        ws_.reset();
        writing_ = false;
    }

    static message_ptr const& probe_message() {
        static message_ptr const m = std::make_shared<message const>(message{"3probe", false});
        return m;
    }

    void deliver(std::string_view data, bool binary) {
        if (handler_)
            handler_->on_message(data, binary);
    }

    net::any_io_executor ex_;
    std::optional<ws::stream<beast::tcp_stream>> ws_;
    beast::flat_buffer buffer_;
    net::steady_timer timer_;
    net::steady_timer upgrade_timer_;
    options const& opt_;
    std::shared_ptr<session_registry> registry_;
    std::deque<message_ptr> queue_;
    std::size_t queued_bytes_ = 0;
    poll_reply parked_; // the GET waiting for data, when polling
    state state_ = state::handshake;
    upgrade upgrade_ = upgrade::none;
    bool on_websocket_ = false; // the WebSocket carries the session (from the start or upgraded)
    bool writing_ = false;
    std::size_t part_ = 0; // which frame of the front message is being written
    bool awaiting_pong_ = false;
    bool notified_ = false;
};

/// One HTTP connection: reads requests one after the other and serves each: a WebSocket
/// handshake (a new session, or an upgrade of a polling one), a polling GET or POST (handed to
/// its session, possibly on another shard), Engine.IO's error answers, or, off the Engine.IO
/// path, the host's front door.
class http_session : public std::enable_shared_from_this<http_session> {
public:
    using open_handler = std::function<void(std::shared_ptr<connection>)>;

    http_session(tcp::socket s, options const& opt, std::shared_ptr<session_registry> registry,
                 open_handler on_open)
        : stream_(std::move(s))
        , opt_(opt)
        , registry_(std::move(registry))
        , on_open_(std::move(on_open)) {}

    ~http_session() { registry_->remove_http(this); }

    /// Serves requests until the client or the listener ends the connection.
    void start() {
        registry_->add_http(this, weak_from_this());
        read_request();
    }

    net::any_io_executor get_executor() { return stream_.get_executor(); }

    /// The listener stopped: a connection waiting for a request ends now; one serving a
    /// request ends after its answer.
    void stop() {
        if (reading_) {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
            stream_.socket().close(ignored);
        }
    }

private:
    void read_request() {
        if (registry_->stopping) {
            beast::error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
            return;
        }
        reading_ = true;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(opt_.max_header_bytes));
        parser_->body_limit(opt_.max_payload);
        stream_.expires_after(opt_.handshake_timeout); // a request that never completes
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_request(ec);
                         });
    }

    using request = http::request<http::string_body>;

    void on_request(beast::error_code ec) {
        reading_ = false;
        if (ec == http::error::body_limit) {
            // An oversized POST: refused, the session kept; this connection cannot go on, as
            // the rest of the body is still on the wire.
            request req = parser_->release();
            engine_path_ = true;
            return reply(req, http::status::payload_too_large, "text/plain", "Payload Too Large",
                         false);
        }
        if (ec)
            return; // timeout, garbage or a peer that left: drop the socket
        auto req = parser_->release();
        auto const target = std::string_view(req.target().data(), req.target().size());
        auto const qpos = target.find('?');
        auto const path = target.substr(0, qpos);
        engine_path_ = path.substr(0, opt_.path.size()) == opt_.path ||
                       path == std::string_view(opt_.path).substr(0, opt_.path.size() - 1);
        if (!engine_path_)
            return front_door(req);
        if (req.method() == http::verb::options)
            return preflight(req);
        request_info info;
        info.url = std::string(target);
        if (qpos != std::string_view::npos)
            info.query = parse_query(target.substr(qpos + 1));
        for (auto const& f : req) {
            std::string name(f.name_string());
            for (auto& c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            info.headers.emplace_back(std::move(name), std::string(f.value()));
        }
        beast::error_code aec;
        auto const ep = stream_.socket().remote_endpoint(aec);
        if (!aec)
            info.address = ep.address().to_string();

        auto const transport = info.query_param("transport");
        bool const polling = transport == "polling" && opt_.transports.polling;
        bool const websocket = transport == "websocket" && opt_.transports.websocket;
        if (!polling && !websocket)
            return refuse(req, engine_error::unknown_transport);
        if (info.query_param("EIO") != "4")
            return refuse(req, engine_error::unsupported_protocol_version);
        auto const sid = info.query_param("sid");
        if (sid.empty()) {
            if (req.method() != http::verb::get)
                return refuse(req, engine_error::bad_handshake_method);
            if (opt_.allow_request && !opt_.allow_request(info))
                return refuse(req, engine_error::forbidden);
            if (websocket && !ws::is_upgrade(req))
                return refuse(req, engine_error::bad_request);
            return open_session(std::move(req), std::move(info), websocket);
        }
        auto s = registry_->find(sid);
        if (!s)
            return refuse(req, engine_error::unknown_sid);
        if (websocket) {
            if (!ws::is_upgrade(req))
                return refuse(req, engine_error::bad_request);
            return hand_over(std::move(s), std::move(req));
        }
        if (req.method() == http::verb::get)
            return poll(std::move(s), std::move(req));
        if (req.method() == http::verb::post)
            return post(std::move(s), std::move(req));
        refuse(req, engine_error::bad_request);
    }

    void open_session(request req, request_info info, bool websocket) {
        auto s = std::make_shared<session>(stream_.get_executor(), random_id(), std::move(info),
                                           opt_, registry_);
        if (websocket)
            return s->start_websocket(std::move(stream_), std::move(req), on_open_);
        auto open = s->start_polling();
        on_open_(s);
        reply(req, http::status::ok, "text/plain; charset=UTF-8", std::move(open));
    }

    /// The WebSocket of an upgrade: its socket moves to the session's executor.
    void hand_over(std::shared_ptr<session> s, request req) {
        stream_.expires_never();
        auto& sock = stream_.socket();
        beast::error_code ec;
        auto const protocol = sock.local_endpoint(ec).protocol();
        auto const fd = sock.release(ec);
        if (ec)
            return;
        auto ex = s->get_executor();
        net::post(ex, [s, ex, protocol, fd, req = std::move(req)]() mutable {
            tcp::socket moved(ex);
            beast::error_code ec2;
            moved.assign(protocol, fd, ec2);
            if (!ec2)
                s->upgrade_to(std::move(moved), std::move(req));
        });
    }

    void poll(std::shared_ptr<session> s, request req) {
        auto held = std::make_shared<request>(std::move(req));
        net::post(s->get_executor(),
                  [s, reply = answer_for(held)]() mutable { s->poll(std::move(reply)); });
        // While the GET is parked, a client that gives up closes this connection: watch it.
        stream_.expires_never();
        session_ = s;
        stream_.socket().async_wait(
            tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
                if (ec || !self->session_)
                    return; // answered meanwhile (the wait was cancelled)
                beast::error_code aec;
                if (self->stream_.socket().available(aec) == 0 || aec) {
                    auto s = std::move(self->session_);
                    net::post(s->get_executor(), [s] { s->poll_aborted(); });
                }
            });
    }

    void post(std::shared_ptr<session> s, request req) {
        auto held = std::make_shared<request>(std::move(req));
        net::post(s->get_executor(), [s, held, reply = answer_for(held)]() mutable {
            s->post(held->body(), std::move(reply));
        });
    }

    /// The callback a session answers a polling request with: back on this connection.
    poll_reply answer_for(std::shared_ptr<request> req) {
        return [self = shared_from_this(), req](http::status status, std::string body) {
            net::post(self->stream_.get_executor(), [self, req, status, body = std::move(body)] {
                self->session_ = nullptr;
                beast::error_code ignored;
                self->stream_.socket().cancel(ignored); // the abort watch
                bool const ok = status == http::status::ok;
                self->reply(*req, status, ok ? "text/plain; charset=UTF-8" : "application/json",
                            std::move(body), true);
            });
        };
    }

    /// A request off the Engine.IO path: the host's handler answers.
    void front_door(request const& req) {
        if (!opt_.on_http)
            return reply(req, http::status::not_found, "text/plain", "Not Found");
        http_response res;
        try {
            res = opt_.on_http(req);
        } catch (...) {
            return reply(req, http::status::internal_server_error, "text/plain",
                         "Internal Server Error");
        }
        res.version(req.version());
        res.keep_alive(req.keep_alive() && res.keep_alive());
        if (res.find(http::field::content_length) == res.end() && !res.chunked())
            res.prepare_payload();
        write(std::make_shared<http_response>(std::move(res)));
    }

    /// A CORS preflight for the Engine.IO path.
    void preflight(request const& req) {
        auto res = std::make_shared<http_response>(http::status::no_content, req.version());
        if (add_cors(req, *res)) {
            std::string methods;
            for (auto const& m : opt_.cors.methods)
                methods += (methods.empty() ? "" : ",") + m;
            res->set(http::field::access_control_allow_methods, methods);
            std::string headers;
            for (auto const& h : opt_.cors.allowed_headers)
                headers += (headers.empty() ? "" : ",") + h;
            if (opt_.cors.allowed_headers.empty())
                headers = std::string(req[http::field::access_control_request_headers]);
            if (!headers.empty())
                res->set(http::field::access_control_allow_headers, headers);
        }
        res->keep_alive(req.keep_alive());
        res->prepare_payload();
        write(std::move(res));
    }

    /// The CORS headers of an answer to `req`; false if its origin is not allowed.
    bool add_cors(request const& req, http_response& res) const {
        auto const& c = opt_.cors;
        auto const origin = std::string_view(req[http::field::origin]);
        bool const any = std::find(c.origin.begin(), c.origin.end(), "*") != c.origin.end();
        bool const listed = any ||
                            std::find(c.origin.begin(), c.origin.end(), origin) != c.origin.end() ||
                            (c.allow_origin && !origin.empty() && c.allow_origin(origin));
        if (!listed)
            return false;
        if (any && !c.credentials) {
            res.set(http::field::access_control_allow_origin, "*");
        } else if (!origin.empty()) {
            res.set(http::field::access_control_allow_origin, origin);
            res.set(http::field::vary, "Origin");
        }
        if (c.credentials)
            res.set(http::field::access_control_allow_credentials, "true");
        return true;
    }

    void refuse(request const& req, engine_error e) {
        reply(req,
              e == engine_error::forbidden ? http::status::forbidden : http::status::bad_request,
              "application/json", error_body(e));
    }

    /// An answer of Engine.IO's (with CORS headers) or a plain one; `keep` lets the
    /// connection serve the next request when the client wants it.
    void reply(request const& req, http::status status, std::string_view content_type,
               std::string body, bool keep = false) {
        auto res = std::make_shared<http_response>(status, req.version());
        res->set(http::field::content_type, content_type);
        if (engine_path_)
            add_cors(req, *res);
        res->keep_alive(keep && req.keep_alive());
        res->body() = std::move(body);
        res->prepare_payload();
        write(std::move(res));
    }

    /// Writes `res`; then reads the next request, or closes when the response said so.
    void write(std::shared_ptr<http_response> res) {
        stream_.expires_after(opt_.handshake_timeout);
        http::async_write(stream_, *res,
                          [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                              if (!ec && res->keep_alive())
                                  return self->read_request();
                              beast::error_code ignored;
                              self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    options const& opt_;
    std::shared_ptr<session_registry> registry_;
    open_handler on_open_;
    std::shared_ptr<session> session_; // the session of a parked GET, while it waits
    bool engine_path_ = false;         // the current request is Engine.IO's
    bool reading_ = false;             // waiting for a request (idle between requests)
};

} // namespace detail

// --- websocket_listener ----------------------------------------------------------------------

ROOMCAST_DECL websocket_listener::websocket_listener(boost::asio::io_context& ctx,
                                                     boost::asio::ip::tcp::endpoint ep,
                                                     options const& opt)
    : acceptor_(ctx)
    , retry_(ctx)
    , opt_(&opt)
    , registry_(std::make_shared<detail::session_registry>()) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(boost::asio::socket_base::max_listen_connections);
}

ROOMCAST_DECL std::uint16_t websocket_listener::port() const {
    return acceptor_.local_endpoint().port();
}

ROOMCAST_DECL void websocket_listener::start(executor_picker pick, open_handler on_open) {
    pick_ = std::move(pick);
    on_open_ = std::move(on_open);
    accept();
}

ROOMCAST_DECL void websocket_listener::begin_stop() noexcept {
    registry_->stopping = true;
}

ROOMCAST_DECL void websocket_listener::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
    begin_stop();
    for (auto& h : registry_->http_connections()) {
        auto ex = h->get_executor();
        boost::asio::post(ex, [h] { h->stop(); });
    }
}

ROOMCAST_DECL void websocket_listener::accept() {
    acceptor_.async_accept(
        pick_(), [this](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
            if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open())
                return;
            if (ec) {
                // A failed accept (out of descriptors, say) is not fatal, but retrying at once
                // would spin: give connections a moment to close.
                retry_.expires_after(std::chrono::milliseconds(50));
                retry_.async_wait([this](boost::system::error_code wait_ec) {
                    if (!wait_ec && acceptor_.is_open())
                        accept();
                });
                return;
            }
            boost::system::error_code ignored;
            s.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
            auto ex = s.get_executor();
            boost::asio::post(ex, [s = std::move(s), opt = opt_, registry = registry_,
                                   on_open = on_open_]() mutable {
                std::make_shared<detail::http_session>(std::move(s), *opt, std::move(registry),
                                                       std::move(on_open))
                    ->start();
            });
            accept();
        });
}

} // namespace roomcast::transport

#endif
