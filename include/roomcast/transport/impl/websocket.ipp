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

#include <cctype>
#include <deque>
#include <optional>

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

/// One Engine.IO session on a WebSocket. Lives on one executor (a shard's io_context), so
/// its state needs no lock; it keeps itself alive through the handlers of its own operations.
class ws_session final : public connection, public std::enable_shared_from_this<ws_session> {
public:
    ws_session(beast::tcp_stream stream, std::string id, request_info req, options const& opt)
        : connection(std::move(id), std::move(req))
        , ws_(std::move(stream))
        , timer_(ws_.get_executor())
        , opt_(opt) {}

    net::any_io_executor get_executor() override { return ws_.get_executor(); }

    /// Completes the WebSocket handshake for `req`, then sends the open packet.
    void start(http::request<http::string_body> req,
               std::function<void(std::shared_ptr<ws_session>)> on_open) {
        beast::get_lowest_layer(ws_).expires_never();
        ws_.set_option(
            ws::stream_base::timeout{opt_.handshake_timeout, ws::stream_base::none(), false});
        ws_.read_message_max(opt_.max_payload);
        ws_.auto_fragment(false);
        auto self = shared_from_this();
        auto held = std::make_shared<http::request<http::string_body>>(std::move(req));
        ws_.async_accept(*held, [self, held, on_open = std::move(on_open)](beast::error_code ec) {
            if (ec)
                return; // the peer went away during the handshake: there is no session yet
            self->state_ = state::open;
            self->send_raw(std::make_shared<message const>(message{
                protocol::engineio::encode_open(
                    {.sid = self->id(),
                     .upgrade_to_websocket = false,
                     .ping_interval_ms =
                         static_cast<std::uint64_t>(self->opt_.ping_interval.count()),
                     .ping_timeout_ms = static_cast<std::uint64_t>(self->opt_.ping_timeout.count()),
                     .max_payload = self->opt_.max_payload}),
                false}));
            self->schedule_ping();
            on_open(self);
            self->read();
        });
    }

    send_status send(message_ptr m, bool is_volatile) override {
        if (state_ != state::open)
            return send_status::closed;
        if (is_volatile && writing_)
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
        if (!writing_)
            close_stream();
    }

private:
    enum class state { handshake, open, closing, closed };

    void send_raw(message_ptr m) {
        queued_bytes_ += m->size();
        queue_.push_back(std::move(m));
        if (!writing_)
            write_next();
    }

    void write_next() {
        writing_ = true;
        auto const& m = *queue_.front();
        // Part 0 is the message itself, parts 1..n its attachments (always binary frames).
        auto const& bytes = part_ == 0 ? m.data : m.attachments[part_ - 1];
        ws_.text(part_ == 0 && !m.binary);
        ws_.async_write(
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
        if (ec) {
            fail(reason::transport_error);
            return;
        }
        if (state_ == state::closed)
            return;
        if (!queue_.empty())
            write_next();
        else if (state_ == state::closing)
            close_stream();
    }

    void close_stream() {
        queue_.clear();
        queued_bytes_ = 0;
        ws_.async_close(ws::close_code::normal, [self = shared_from_this()](beast::error_code) {
            self->state_ = state::closed;
            self->timer_.cancel(); // the close deadline: nothing left to wait for
        });
    }

    /// The connection is unusable: stop everything and tell the layer above.
    void fail(std::string_view why) {
        if (state_ == state::closed)
            return;
        bool const was_open = state_ == state::open || state_ == state::closing;
        state_ = state::closed;
        timer_.cancel();
        if (was_open)
            notify_close(why);
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(ws_).close();
    }

    /// Tells the handler once, from a fresh call stack: callers may be inside `send`.
    void notify_close(std::string_view why) {
        if (notified_)
            return;
        notified_ = true;
        net::post(ws_.get_executor(), [self = shared_from_this(), why = std::string(why)] {
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
            self->send_raw(ping_message());
            self->awaiting_pong_ = true;
            self->timer_.expires_after(self->opt_.ping_timeout);
            self->timer_.async_wait([self](beast::error_code ec2) {
                if (!ec2 && self->awaiting_pong_ && self->state_ == state::open)
                    self->fail(reason::ping_timeout);
            });
        });
    }

    static message_ptr probe_answer() {
        static message_ptr const pong = std::make_shared<message const>(message{"3probe", false});
        return pong;
    }

    static message_ptr ping_message() {
        static message_ptr const ping = std::make_shared<message const>(message{"2", false});
        return ping;
    }

    void read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            // A clean close from the peer, a reset, or a protocol violation Beast refused
            // (oversized message: 1009, invalid UTF-8: 1007); Beast already answered the peer.
            fail(ec == ws::error::closed || ec == net::error::eof ? reason::transport_close
                                                                  : reason::transport_error);
            return;
        }
        auto const data = beast::buffers_to_string(buffer_.data());
        bool const binary = ws_.got_binary();
        buffer_.consume(buffer_.size());
        if (buffer_.capacity() > 16 * 1024)
            buffer_.shrink_to_fit(); // idle connections keep no large buffer
        if (state_ != state::open)
            return read();
        if (binary) {
            deliver(data, true);
        } else {
            auto p = protocol::engineio::decode(data);
            if (!p) {
                fail(reason::parse_error);
                return;
            }
            using protocol::engineio::packet_type;
            switch (p->type) {
            case packet_type::pong:
                if (awaiting_pong_)
                    schedule_ping();
                break;
            case packet_type::message:
                deliver(p->data, false);
                break;
            case packet_type::close:
                fail(reason::transport_close);
                return;
            case packet_type::ping:
                // In Engine.IO v4 only the server pings; a client sends "2probe" when it
                // upgrades. Anything else is refused as engine.io refuses it ("invalid
                // heartbeat direction"), and no answer bypasses the queue bound.
                if (p->data != "probe") {
                    fail(reason::transport_error);
                    return;
                }
                send(probe_answer(), false);
                break;
            case packet_type::open:
            case packet_type::upgrade:
            case packet_type::noop:
                break;
            }
        }
        if (state_ != state::closed)
            read();
    }

    void deliver(std::string_view data, bool binary) {
        if (handler_)
            handler_->on_message(data, binary);
    }

    ws::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
    net::steady_timer timer_;
    options const& opt_;
    std::deque<message_ptr> queue_;
    std::size_t queued_bytes_ = 0;
    state state_ = state::handshake;
    bool writing_ = false;
    std::size_t part_ = 0; // which frame of the front message is being written
    bool awaiting_pong_ = false;
    bool notified_ = false;
};

/// Reads one HTTP request and either upgrades it to an Engine.IO WebSocket session or
/// answers it with Engine.IO's error (or 404 off the Engine.IO path).
class http_session : public std::enable_shared_from_this<http_session> {
public:
    using open_handler = std::function<void(std::shared_ptr<connection>)>;

    http_session(tcp::socket s, options const& opt, open_handler on_open)
        : stream_(std::move(s))
        , opt_(opt)
        , on_open_(std::move(on_open)) {}

    void start() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(opt_.max_header_bytes));
        parser_->body_limit(opt_.max_payload);
        stream_.expires_after(opt_.handshake_timeout); // a request that never completes
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_request(ec);
                         });
    }

private:
    void on_request(beast::error_code ec) {
        if (ec)
            return; // timeout, garbage or a peer that left: drop the socket
        auto req = parser_->release();
        auto const target = std::string_view(req.target().data(), req.target().size());
        auto const qpos = target.find('?');
        auto const path = target.substr(0, qpos);
        if (path.substr(0, opt_.path.size()) != opt_.path &&
            path != std::string_view(opt_.path).substr(0, opt_.path.size() - 1))
            return front_door(req);
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

        if (opt_.allow_request && !opt_.allow_request(info))
            return refuse(req, engine_error::forbidden);
        auto const transport = info.query_param("transport");
        if (transport != "websocket" && transport != "polling")
            return refuse(req, engine_error::unknown_transport);
        if (info.query_param("EIO") != "4")
            return refuse(req, engine_error::unsupported_protocol_version);
        if (transport != "websocket")
            return refuse(req, engine_error::unknown_transport); // polling is not offered
        if (!info.query_param("sid").empty())
            return refuse(req, engine_error::unknown_sid); // no polling session to upgrade
        if (req.method() != http::verb::get)
            return refuse(req, engine_error::bad_handshake_method);
        if (!ws::is_upgrade(req))
            return refuse(req, engine_error::bad_request);

        auto session =
            std::make_shared<ws_session>(std::move(stream_), random_id(), std::move(info), opt_);
        session->start(std::move(req), [on_open = on_open_](std::shared_ptr<ws_session> s) {
            on_open(std::move(s));
        });
    }

    void refuse(http::request<http::string_body> const& req, engine_error e) {
        std::string body = "{\"code\":" + std::to_string(static_cast<int>(e)) + ",\"message\":";
        protocol::append_string(body, engine_error_message(e));
        body += '}';
        reply(req,
              e == engine_error::forbidden ? http::status::forbidden : http::status::bad_request,
              "application/json", std::move(body));
    }

    /// A request off the Engine.IO path: the host's handler answers, on a connection that
    /// stays open for the next request if both sides want it.
    void front_door(http::request<http::string_body> const& req) {
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

    void reply(http::request<http::string_body> const& req, http::status status,
               std::string_view content_type, std::string body) {
        auto res = std::make_shared<http::response<http::string_body>>(status, req.version());
        res->set(http::field::content_type, content_type);
        res->keep_alive(false);
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
                                  return self->start();
                              beast::error_code ignored;
                              self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    options const& opt_;
    open_handler on_open_;
};

} // namespace detail

// --- websocket_listener ----------------------------------------------------------------------

ROOMCAST_DECL websocket_listener::websocket_listener(boost::asio::io_context& ctx,
                                                     boost::asio::ip::tcp::endpoint ep,
                                                     options const& opt)
    : acceptor_(ctx)
    , retry_(ctx)
    , opt_(&opt) {
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

ROOMCAST_DECL void websocket_listener::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
}

ROOMCAST_DECL void websocket_listener::accept() {
    acceptor_.async_accept(pick_(), [this](boost::system::error_code ec,
                                           boost::asio::ip::tcp::socket s) {
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
        boost::asio::post(ex, [s = std::move(s), opt = opt_, on_open = on_open_]() mutable {
            std::make_shared<detail::http_session>(std::move(s), *opt, std::move(on_open))->start();
        });
        accept();
    });
}

} // namespace roomcast::transport

#endif
