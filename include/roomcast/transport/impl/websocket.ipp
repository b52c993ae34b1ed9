// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_TRANSPORT_IMPL_WEBSOCKET_IPP
#define ROOMCAST_TRANSPORT_IMPL_WEBSOCKET_IPP

// The WebSocket transport's definitions: included by websocket.hpp when header-only, or once
// by <roomcast/src.hpp> with ROOMCAST_SEPARATE_COMPILATION.

#include <roomcast/protocol/engineio.hpp>
#include <roomcast/protocol/websocket.hpp>
#include <roomcast/transport/detail/random_id.hpp>
#include <roomcast/transport/detail/send_ring.hpp>
#include <roomcast/transport/detail/socket_poller.hpp>
#include <roomcast/transport/detail/url.hpp>
#include <roomcast/transport/websocket.hpp>

#include <boost/asio/compose.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

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
    // roomcast's own: engine.io answers a refusal by allowRequest with code 4 and its message.
    too_many_connections = 100,
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
    case engine_error::too_many_connections:
        return "Too many connections";
    }
    return "Bad request";
}

/// Engine.IO's JSON body for a refused request.
inline std::string error_body(engine_error e) {
    auto const code = e == engine_error::too_many_connections ? engine_error::forbidden : e;
    std::string body = "{\"code\":" + std::to_string(static_cast<int>(code)) + ",\"message\":";
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

    /// Counts a new session against `limit`; false, counting nothing, when it is reached.
    bool take_session(std::size_t limit) noexcept {
        auto n = sessions_.load(std::memory_order_relaxed);
        do {
            if (n >= limit)
                return false;
        } while (!sessions_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
        return true;
    }
    void release_session() noexcept { sessions_.fetch_sub(1, std::memory_order_relaxed); }

private:
    std::mutex m_;
    std::unordered_map<std::string, std::weak_ptr<session>> map_;
    std::unordered_map<http_session*, std::weak_ptr<http_session>> http_;
    std::atomic<std::size_t> sessions_{0};
};

/// Answers one polling request; called once, from the session's executor.
using poll_reply = std::function<void(http::status, std::string body)>;

/// The GET a polling session holds until it has data: a poll_reply in one pointer, so that
/// the sessions that never poll (WebSocket from the start: most of them) do not carry one.
class parked_reply {
public:
    parked_reply() = default;
    parked_reply(std::nullptr_t) noexcept {}
    parked_reply(poll_reply r)
        : reply_(r ? std::make_unique<poll_reply>(std::move(r)) : nullptr) {}

    explicit operator bool() const noexcept { return reply_ != nullptr; }
    void operator()(http::status status, std::string body) const {
        (*reply_)(status, std::move(body));
    }

private:
    std::unique_ptr<poll_reply> reply_;
};

/// One shard's write batching, scratch buffers and socket_poller (one per io_context, touched
/// only from the thread that runs it). Sessions with something queued register here, and all of
/// them are flushed once the handlers ready in this turn of the event loop have run: whatever those
/// handlers queued for one connection leaves in one write (the cork of uWebSockets). The
/// scratch buffers serve every connection of the shard in turn, so that an idle connection
/// holds no buffer of its own.
class write_batch final : public net::execution_context::service {
public:
    using key_type = write_batch;
    static inline net::execution_context::id id;

    explicit write_batch(net::execution_context& ctx)
        : service(ctx) {}

    /// The write batch of the shard whose executor is `ex`. The batch keeps the executor for
    /// the shard's sessions: an any_io_executor is 56 bytes, too many for each connection.
    /// (The listener's picker returns one executor per io_context: see
    /// websocket_listener::start.)
    static write_batch& of(net::any_io_executor const& ex) {
        auto& b = net::use_service<write_batch>(net::query(ex, net::execution::context));
        if (!b.ex_)
            b.ex_ = ex;
        return b;
    }

    /// The shard's executor.
    net::any_io_executor const& executor() const noexcept { return ex_; }

    /// Flushes `s` soon, on the shard's executor.
    void add(std::shared_ptr<session> s) {
        dirty_.push_back(std::move(s));
        if (!posted_) {
            posted_ = true;
            net::post(ex_, [this] { run(); });
        }
    }

    /// Tells the shard's WebSockets when they can be read or written.
    socket_poller& poller() noexcept { return poller_; }

    /// Whether the writes of the sessions being flushed go into one submission to the kernel
    /// (see send_ring.hpp): while several sessions are flushed in this turn, and the ring
    /// has room. Never without io_uring.
    bool gathering() const noexcept { return gathering_; }

    /// Takes `bytes`, to be written on `s`'s socket `fd`, into this turn's submission; its
    /// result reaches `s->on_sent` once the batch is submitted. False if the ring cannot be
    /// used (or there is none): write them now.
    inline bool stage(std::shared_ptr<session> s, int fd, std::string_view bytes);

    /// Where a connection's frames are assembled before its one write.
    std::string& write_buffer() noexcept { return write_; }
    /// Where a TLS connection's frames are encrypted before they are written.
    std::string& tls_buffer() noexcept { return tls_; }

    /// Where a connection's incoming bytes land; its complete frames are read in place.
    std::span<char> read_buffer() {
        if (read_.empty())
            read_.resize(read_buffer_size);
        return read_;
    }

    /// Bytes gathered into one write at most: more stays queued (by reference) until the
    /// kernel took these.
    static constexpr std::size_t max_write = 256 * 1024;

private:
    static constexpr std::size_t read_buffer_size = 64 * 1024;

    void shutdown() override {
        dirty_.clear();
        poller_.shutdown();
    }

    inline void run();

    net::any_io_executor ex_;
    std::vector<std::shared_ptr<session>> dirty_;
    std::vector<std::shared_ptr<session>> running_;
    std::string write_;
    std::string tls_;
    std::vector<char> read_;
    socket_poller poller_;
    bool posted_ = false;
    bool gathering_ = false;

#if defined(ROOMCAST_IO_URING)
    /// Bytes gathered into one submission at most (beyond a single write's max_write):
    /// sessions flushed after that go into the next one.
    static constexpr std::size_t max_gathered = 512 * 1024;

    struct staged_write {
        std::shared_ptr<session> s;
        int fd;
        std::size_t offset; // in gathered_
        std::size_t size;
        int result = 0;
    };

    inline void submit_staged();

    send_ring ring_;
    std::string gathered_; // the bytes of the staged writes, one after the other
    std::vector<staged_write> staged_;
#endif
};

struct fifo;

/// What a session waits for on the shard's deadline_service: one deadline at a time.
class deadline_hook {
public:
    using clock = std::chrono::steady_clock;

    deadline_hook() = default;
    deadline_hook(deadline_hook const&) = delete;
    deadline_hook& operator=(deadline_hook const&) = delete;

    /// The deadline passed (called on the shard's thread, once per arming).
    virtual void on_deadline() = 0;

protected:
    ~deadline_hook() = default;

private:
    friend class deadline_service;
    fifo* list_ = nullptr; // the list it waits on, or none
    deadline_hook* prev_ = nullptr;
    deadline_hook* next_ = nullptr;
    clock::time_point due_{};
};

/// Deadlines of the same duration, armed one after the other: in deadline order.
struct fifo {
    deadline_hook::clock::duration duration;
    deadline_hook* head = nullptr;
    deadline_hook* tail = nullptr;
};

/// The deadlines of one shard's sessions (heartbeats, pong timeouts, close deadlines) on one
/// timer (one per io_context, touched only from the thread that runs it). Every deadline of
/// one kind is "now + the same duration", so a FIFO list per duration is already sorted:
/// arming, disarming and expiring cost O(1), and an idle session holds three pointers and a
/// time instead of a timer of its own with a wait pending on it.
class deadline_service final : public net::execution_context::service {
public:
    using key_type = deadline_service;
    using clock = deadline_hook::clock;
    static inline net::execution_context::id id;

    explicit deadline_service(net::execution_context& ctx)
        : service(ctx) {}

    /// `h` expires `d` from now (instead of whatever it waited for). `ex` is the shard's
    /// executor, for the shared timer.
    void arm(deadline_hook& h, clock::duration d, net::any_io_executor const& ex) {
        disarm(h);
        auto& l = list_for(d);
        h.due_ = clock::now() + d;
        h.list_ = &l;
        h.prev_ = l.tail;
        (l.tail ? l.tail->next_ : l.head) = &h;
        l.tail = &h;
        if (!timer_)
            timer_.emplace(ex);
        if (h.due_ < armed_for_)
            schedule(h.due_);
    }

    /// `h` waits for nothing. The timer stays set while any deadline is left (when it fires
    /// early, it sets itself again); with none left it stops, so that a shard that has nothing
    /// else to do lets its `run()` return.
    void disarm(deadline_hook& h) noexcept {
        auto* l = std::exchange(h.list_, nullptr);
        if (!l)
            return;
        (h.prev_ ? h.prev_->next_ : l->head) = h.next_;
        (h.next_ ? h.next_->prev_ : l->tail) = h.prev_;
        h.prev_ = h.next_ = nullptr;
        if (!l->head && timer_ &&
            std::all_of(lists_.begin(), lists_.end(), [](auto const& x) { return !x->head; })) {
            armed_for_ = clock::time_point::max();
            timer_->cancel();
        }
    }

private:
    void shutdown() override {}

    fifo& list_for(clock::duration d) {
        for (auto& l : lists_)
            if (l->duration == d)
                return *l;
        lists_.push_back(std::make_unique<fifo>(fifo{d}));
        return *lists_.back();
    }

    void schedule(clock::time_point t) {
        armed_for_ = t;
        timer_->expires_at(t);
        timer_->async_wait([this](beast::error_code ec) {
            if (!ec)
                expire();
        });
    }

    void expire() {
        armed_for_ = clock::time_point::max();
        auto const now = clock::now();
        // By index: a hook armed while this runs may add a list. It goes to a tail, due later
        // than now, so each loop ends.
        for (std::size_t i = 0; i < lists_.size(); ++i) {
            auto& l = *lists_[i];
            while (l.head && l.head->due_ <= now) {
                auto& h = *l.head;
                disarm(h);
                h.on_deadline();
            }
        }
        auto next = clock::time_point::max();
        for (auto const& l : lists_)
            if (l->head)
                next = std::min(next, l->head->due_);
        if (next != clock::time_point::max())
            schedule(next);
    }

    std::vector<std::unique_ptr<fifo>> lists_; // a few: one per duration in use
    std::optional<net::steady_timer> timer_;
    clock::time_point armed_for_ = clock::time_point::max();
};

/// Where TLS bytes are decrypted and read without waiting: one per thread, used within one
/// call (no connection keeps anything here).
struct tls_scratch {
    std::array<char, 16 * 1024> wire;
    std::array<char, 16 * 1024> plain;
};
inline tls_scratch& thread_tls_scratch() {
    static thread_local tls_scratch s;
    return s;
}

/// A connection's bytes until a session takes its socket: Beast's tcp_stream (for its
/// timeouts), plain, or through a tls_layer. Under TLS the handshake runs inside the first
/// read; a wake-up reads into a small inbox, then without waiting into the thread's scratch
/// until the kernel has no more, and decrypts into `plain_`, which is empty while idle.
/// One read and one write at a time, on the connection's executor (Beast's rules).
class http_stream {
public:
    using executor_type = beast::tcp_stream::executor_type;
    using next_layer_type = beast::tcp_stream;

    http_stream(tcp::socket s, std::unique_ptr<tls_layer> tls)
        : next_(std::move(s))
        , tls_(std::move(tls)) {
        if (tls_) {
            beast::error_code ignored; // reads that find nothing must not wait
            next_.socket().non_blocking(true, ignored);
        }
    }

    executor_type get_executor() noexcept { return next_.get_executor(); }
    next_layer_type& next_layer() noexcept { return next_; }
    tcp::socket& socket() noexcept { return next_.socket(); }
    void expires_after(std::chrono::steady_clock::duration d) { next_.expires_after(d); }
    void expires_never() { next_.expires_never(); }
    bool secure() const noexcept { return tls_ != nullptr; }

    /// The socket and its TLS state, for a session; the stream is empty afterwards.
    std::pair<tcp::socket, std::unique_ptr<tls_layer>> release() {
        return {next_.release_socket(), std::move(tls_)};
    }

    /// What a wait for readability while a GET is parked found.
    enum class peer { left, sent, nothing };
    /// After a readability wait: whether the peer left (closed, reset, or sent close_notify),
    /// sent something (a request it pipelined: kept for the next read), or nothing yet.
    peer check_peer() {
        beast::error_code ec;
        if (!tls_)
            return socket().available(ec) == 0 || ec ? peer::left : peer::sent;
        auto const st = pump({}, ec);
        if (!plain_.empty())
            return peer::sent;
        return st != tls_layer::status::ok || (ec && ec != net::error::would_block) ? peer::left
                                                                                    : peer::nothing;
    }

    /// Ends output: close_notify under TLS (best effort: the socket does not wait), then FIN.
    void shutdown_send() {
        beast::error_code ignored;
        if (tls_) {
            std::string wire = std::exchange(reply_, {});
            tls_->close(wire);
            socket().write_some(net::buffer(wire), ignored);
        }
        socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    template<class MutableBuffers, class Handler>
    auto async_read_some(MutableBuffers const& buffers, Handler&& handler) {
        return net::async_initiate<Handler, void(beast::error_code, std::size_t)>(
            [this](auto h, MutableBuffers const& b) {
                if (!tls_)
                    return next_.async_read_some(b, std::move(h));
                net::async_compose<decltype(h), void(beast::error_code, std::size_t)>(
                    read_op<MutableBuffers>{this, b}, h, next_);
            },
            handler, buffers);
    }

    template<class ConstBuffers, class Handler>
    auto async_write_some(ConstBuffers const& buffers, Handler&& handler) {
        return net::async_initiate<Handler, void(beast::error_code, std::size_t)>(
            [this](auto h, ConstBuffers const& b) {
                if (!tls_)
                    return next_.async_write_some(b, std::move(h));
                bool broken = false;
                auto const taken = encrypt(b, broken);
                net::async_compose<decltype(h), void(beast::error_code, std::size_t)>(
                    write_op{this, taken, broken}, h, next_);
            },
            handler, buffers);
    }

    /// Beast's WebSocket close ends with this: close_notify, then the TCP connection.
    template<class Handler>
    friend void async_teardown(beast::role_type role, http_stream& s, Handler&& handler) {
        if (!s.tls_) {
            using beast::websocket::async_teardown;
            return async_teardown(role, s.next_, std::forward<Handler>(handler));
        }
        s.wire_ = std::exchange(s.reply_, {});
        s.tls_->close(s.wire_);
        net::async_compose<Handler, void(beast::error_code)>(teardown_op{&s}, handler, s.next_);
    }
    friend void teardown(beast::role_type role, http_stream& s, beast::error_code& ec) {
        using beast::websocket::teardown;
        teardown(role, s.next_, ec);
    }

private:
    /// Decrypts `first` (just read), then what else the kernel holds, up to a bound, without
    /// waiting. `ec` is the socket's end (or would_block).
    tls_layer::status pump(std::span<char const> first, beast::error_code& ec) {
        auto& scratch = thread_tls_scratch();
        auto keep = [this](std::span<char> plain) {
            plain_.append(plain.data(), plain.size());
            return true;
        };
        auto const to = make_sink(keep);
        auto st = tls_->receive(first, scratch.plain, to, reply_);
        for (int turn = 0; st == tls_layer::status::ok && turn < 16; ++turn) {
            auto const n = socket().read_some(net::buffer(scratch.wire), ec);
            if (ec)
                break;
            st = tls_->receive({scratch.wire.data(), n}, scratch.plain, to, reply_);
        }
        return st;
    }

    /// `buffers` as records in wire_ (after what the stream owes the peer); the plaintext
    /// bytes taken, at most a few records' worth per write.
    template<class ConstBuffers>
    std::size_t encrypt(ConstBuffers const& buffers, bool& broken) {
        wire_ = std::exchange(reply_, {});
        std::size_t taken = 0;
        for (auto const b : beast::buffers_range_ref(buffers)) {
            auto const n = std::min(b.size(), max_write - taken);
            if (!tls_->send({static_cast<char const*>(b.data()), n}, wire_)) {
                broken = true;
                return taken;
            }
            taken += n;
            if (taken == max_write)
                break;
        }
        return taken;
    }

    template<class MutableBuffers>
    struct read_op {
        http_stream* s;
        MutableBuffers buffers;
        enum { start, reading, writing } step = start;

        template<class Self>
        void operator()(Self& self, beast::error_code ec = {}, std::size_t n = 0) {
            auto& st = *s;
            switch (step) {
            case start:
                step = reading;
                // Complete, but never from the initiation.
                if (!st.plain_.empty() || st.ended_ || st.result_ != tls_layer::status::ok)
                    return net::post(st.get_executor(), std::move(self));
                return read(self);
            case reading:
                if (ec)
                    return self.complete(ec, 0);
                if (n != 0) {
                    st.result_ = st.pump({st.inbox_.data(), n}, st.ended_);
                    if (st.ended_ == net::error::would_block)
                        st.ended_ = {};
                    if (!st.reply_.empty()) { // the handshake's answer, before anything else
                        step = writing;
                        st.wire_ = std::exchange(st.reply_, {});
                        return net::async_write(st.next_, net::buffer(st.wire_), std::move(self));
                    }
                }
                break;
            case writing:
                std::string().swap(st.wire_);
                if (ec)
                    return self.complete(ec, 0);
                step = reading;
                break;
            }
            if (!st.plain_.empty()) {
                auto const taken = net::buffer_copy(buffers, net::buffer(st.plain_));
                st.plain_.erase(0, taken);
                if (st.plain_.empty() && st.plain_.capacity() > 4096)
                    std::string().swap(st.plain_);
                return self.complete({}, taken);
            }
            if (st.result_ == tls_layer::status::closed)
                return self.complete(net::error::eof, 0);
            if (st.result_ == tls_layer::status::failed)
                return self.complete(net::error::invalid_argument, 0);
            if (st.ended_)
                return self.complete(st.ended_, 0);
            read(self);
        }

        template<class Self>
        void read(Self& self) {
            s->next_.async_read_some(net::buffer(s->inbox_), std::move(self));
        }
    };

    struct write_op {
        http_stream* s;
        std::size_t taken;
        bool broken; // the TLS state refused the bytes: the write fails, after what it made
        bool started = false;

        template<class Self>
        void operator()(Self& self, beast::error_code ec = {}, std::size_t = 0) {
            if (!std::exchange(started, true))
                return net::async_write(s->next_, net::buffer(s->wire_), std::move(self));
            std::string().swap(s->wire_); // an idle connection holds no records
            if (!ec && broken)
                ec = net::error::connection_aborted;
            self.complete(ec, ec ? 0 : taken);
        }
    };

    struct teardown_op {
        http_stream* s;
        bool started = false;

        template<class Self>
        void operator()(Self& self, beast::error_code = {}, std::size_t = 0) {
            if (!std::exchange(started, true))
                return net::async_write(s->next_, net::buffer(s->wire_), std::move(self));
            beast::error_code ec;
            s->socket().shutdown(tcp::socket::shutdown_both, ec);
            s->socket().close(ec);
            self.complete(ec);
        }
    };

    static constexpr std::size_t max_write = 64 * 1024;

    beast::tcp_stream next_;
    std::unique_ptr<tls_layer> tls_;
    std::array<char, 256> inbox_; // under TLS, what a wake-up reads first
    std::string plain_;           // decrypted and not yet read
    std::string reply_;           // owed to the peer (a handshake flight, an alert)
    std::string wire_;            // records being written
    beast::error_code ended_;     // how the socket ended, once plain_ is read
    tls_layer::status result_ = tls_layer::status::ok;
};

/// One Engine.IO session (§"Transports"): its queue, heartbeat and close, over HTTP
/// long-polling, WebSocket, or polling upgraded to WebSocket. Lives on one executor (a
/// shard's io_context), so its state needs no lock; every call comes on that executor (HTTP
/// requests on other shards post there). A WebSocket session is kept alive by the handlers
/// of its own operations; a polling session, which waits for requests with none of its own
/// under way, owns itself (`self_`) from its start until it ends.
///
/// Over WebSocket, Beast answers the handshake; then the session reads and writes the socket
/// itself (protocol/websocket.hpp frames): queued messages are written as frames straight
/// from their shared bytes, everything queued in one turn of the event loop in one write,
/// and an idle connection holds no read or write buffer.
class session final : public connection,
                      private deadline_hook,
                      private poll_target,
                      public std::enable_shared_from_this<session> {
public:
    session(net::any_io_executor ex, std::string id, request_info req, options const& opt,
            std::shared_ptr<session_registry> registry)
        : connection(std::move(id), std::move(req))
        , batch_(&write_batch::of(ex))
        , deadlines_(&net::use_service<deadline_service>(net::query(ex, net::execution::context)))
        , opt_(opt)
        , registry_(std::move(registry)) {}

    ~session() {
        deadlines_->disarm(*this);
        release_slot();
    }

    net::any_io_executor get_executor() override { return batch_->executor(); }

    /// A session on a WebSocket from the start: completes the handshake, sends the open packet.
    void start_websocket(tcp::socket socket, std::unique_ptr<tls_layer> tls,
                         http::request<http::string_body> req,
                         std::function<void(std::shared_ptr<connection>)> on_open) {
        on_websocket_ = true;
        accept(std::move(socket), std::move(tls), std::move(req),
               [self = shared_from_this(), on_open = std::move(on_open)] {
                   self->state_ = state::open;
                   self->send_raw(self->open_message(false));
                   self->schedule_ping();
                   on_open(self);
               });
    }

    /// A session by polling: registers it and returns the open packet for the handshake GET.
    std::string start_polling() {
        self_ = shared_from_this();
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
        for (auto const& p : *packets)
            if (!handle({p.type, p.data, p.binary}, false) || state_ == state::closed)
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
    void upgrade_to(tcp::socket socket, std::unique_ptr<tls_layer> tls,
                    http::request<http::string_body> req) {
        if (!polling() || ws_ || upgrade_ != upgrade::none || !opt_.allow_upgrades ||
            state_ != state::open) {
            // Already upgraded, upgrading, or closing: this WebSocket opens and is closed at
            // once, as engine.io does.
            auto extra =
                std::make_shared<ws::stream<http_stream>>(std::move(socket), std::move(tls));
            auto held = std::make_shared<http::request<http::string_body>>(std::move(req));
            beast::get_lowest_layer(*extra).expires_after(opt_.handshake_timeout);
            extra->async_accept(*held, [extra, held](beast::error_code ec) {
                if (!ec)
                    extra->async_close(ws::close_code::normal, [extra](beast::error_code) {});
            });
            return;
        }
        upgrade_ = upgrade::probing;
        upgrade_timer_ =
            std::make_unique<net::steady_timer>(batch_->executor(), opt_.upgrade_timeout);
        upgrade_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec && self->upgrade_ != upgrade::none && !self->on_websocket_)
                self->abandon_upgrade();
        });
        accept(std::move(socket), std::move(tls), std::move(req), [] {});
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
        wait_for(waiting::close, opt_.handshake_timeout);
        if (on_websocket_)
            return flush(); // the close frame follows what is queued
        // Over polling the close packet goes last, with the rest of the queue, to the next
        // GET. When the listener is stopping and no GET waits, none can come: the client's
        // idle connections are closed and no new ones are accepted.
        push(close_message());
        if (!parked_ && registry_->stopping)
            return fail(why);
        flush();
    }

    /// Moves what is queued to the transport: frames onto the WebSocket, or everything at once
    /// to a parked GET. Called by the shard's write_batch, and where a transport becomes ready.
    void flush() {
        flush_pending_ = false;
        if (on_websocket_)
            return flush_websocket();
        if (!parked_ || queued() == 0)
            return;
        // §"Payload": packets joined by the record separator, binary ones as b<base64>.
        std::string body;
        bool closing = false;
        for (auto i = head_; i < queue_.size(); ++i) {
            auto const& m = queue_[i];
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
        pop(queued());
        std::exchange(parked_, nullptr)(http::status::ok, std::move(body));
        if (closing)
            finish_close();
    }

private:
    friend class write_batch; // hands back what its send ring did with a staged write

    enum class state { handshake, open, closing, closed };
    enum class waiting { ping, pong, close }; // what the deadline is for
    enum class upgrade { none, probing, probed };
    using frame_opcode = protocol::websocket::opcode;

    /// Bytes a WebSocket holds only now and then: the start of a frame not complete yet, or
    /// what the kernel did not take. One pointer while it holds none, rather than an empty
    /// std::string (32 bytes) in every idle connection.
    class held_bytes {
    public:
        bool empty() const noexcept { return !s_ || s_->empty(); }
        std::size_t size() const noexcept { return s_ ? s_->size() : 0; }
        /// The bytes held (a buffer is made if there was none).
        std::string& get() {
            if (!s_)
                s_ = std::make_unique<std::string>();
            return *s_;
        }
        /// Lets the buffer go.
        void release() noexcept { s_.reset(); }

    private:
        std::unique_ptr<std::string> s_;
    };

    /// The WebSocket once its handshake is done: the socket (non-blocking, watched by the
    /// shard's poller), the frame reader, and the bytes in between: the start of a frame not
    /// complete yet, and written bytes the kernel has not taken yet. Both are empty, holding
    /// nothing, while idle.
    struct websocket_io {
        websocket_io(session& owner, tcp::socket s, std::shared_ptr<tls_layer> t,
                     beast::error_code& ec)
            : socket(std::move(s), owner.poll_owner(), owner.batch_->poller(),
                     owner.batch_->executor(), ec)
            , tls(std::move(t))
            , reader(owner.opt_.max_payload) {}

        polled_socket socket;
        // Under TLS, what is read and written goes through it. Shared, so that a read that
        // ends this WebSocket (an abandoned upgrade) does not destroy it under its own call.
        std::shared_ptr<tls_layer> tls;
        protocol::websocket::frame_reader reader;
        held_bytes partial;
        held_bytes unsent;
        bool waiting_write = false; // the kernel's buffer is full: unsent waits for room
        bool closing = false;       // our close frame is written or waiting in unsent
    };

    /// Beast answers the WebSocket handshake; then the socket is the session's.
    template<class Done>
    void accept(tcp::socket socket, std::unique_ptr<tls_layer> tls,
                http::request<http::string_body> req, Done done) {
        auto hs = std::make_shared<ws::stream<http_stream>>(std::move(socket), std::move(tls));
        hs->set_option(
            ws::stream_base::timeout{opt_.handshake_timeout, ws::stream_base::none(), false});
        auto held = std::make_shared<http::request<http::string_body>>(std::move(req));
        hs->async_accept(*held, [self = shared_from_this(), hs, held, g = ws_generation_,
                                 done = std::move(done)](beast::error_code ec) mutable {
            if (g != self->ws_generation_)
                return; // an upgrade abandoned meanwhile: its socket closes with `hs`
            if (!ec && self->state_ != state::closed) {
                auto [s, tls] = hs->next_layer().release();
                self->ws_.emplace(*self, std::move(s), std::move(tls), ec);
                if (!ec)
                    return done();
                self->ws_.reset();
            }
            // The peer went away during the handshake, or the session closed meanwhile.
            if (self->upgrade_ != upgrade::none)
                self->abandon_upgrade();
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

    /// Whether a volatile message would wait: the transport cannot take it now (the socket's
    /// kernel buffer is full, or no GET is there to carry it).
    bool busy() const noexcept {
        if (on_websocket_)
            return ws_ && ws_->waiting_write;
        return !parked_ || queued() != 0;
    }

    // The queue: messages not yet handed to the transport, oldest at head_. A vector with a
    // moving head rather than a deque, which would allocate even while empty.
    std::size_t queued() const noexcept { return queue_.size() - head_; }
    void push(message_ptr m) {
        queued_bytes_ += m->size();
        queue_.push_back(std::move(m));
    }
    void pop(std::size_t n) {
        for (auto i = head_; i < head_ + n; ++i) {
            queued_bytes_ -= queue_[i]->size();
            queue_[i].reset(); // written: its bytes may go as soon as no other queue holds them
        }
        head_ += n;
        if (head_ == queue_.size()) {
            head_ = 0;
            if (queue_.capacity() > 64)
                std::vector<message_ptr>().swap(queue_); // a burst is over: give memory back
            else
                queue_.clear();
        } else if (head_ > 64 && head_ > queue_.size() / 2) {
            queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
    }

    void send_raw(message_ptr m) {
        push(std::move(m));
        if (!flush_pending_) {
            flush_pending_ = true;
            batch_->add(shared_from_this());
        }
    }

    // --- WebSocket writes ------------------------------------------------------------------

    /// Frames what is queued into the shard's write buffer, up to write_batch::max_write, and
    /// writes it with one call; then, when closing and nothing is left, the close frame.
    void flush_websocket() {
        if (!ws_ || ws_->waiting_write || ws_->closing || state_ == state::closed)
            return;
        if (queued() != 0) {
            auto& out = batch_->write_buffer();
            out.clear();
            std::size_t n = 0;
            for (auto i = head_; i < queue_.size() && out.size() < write_batch::max_write;
                 ++i, ++n) {
                auto const& m = *queue_[i];
                protocol::websocket::append_frame(
                    out, m.binary ? frame_opcode::binary : frame_opcode::text, m.data);
                for (auto const& a : m.attachments)
                    protocol::websocket::append_frame(out, frame_opcode::binary, a);
            }
            pop(n);
            if (!write_now(out))
                return;
            if (queued() != 0 && !ws_->waiting_write)
                return flush_websocket(); // more than one write's worth was queued
        }
        if (state_ == state::closing && queued() == 0)
            close_websocket();
    }

    /// Writes `bytes` (whole frames) now, encrypted under TLS, and then close_notify if
    /// `last`. False if the connection failed.
    bool write_now(std::string_view bytes, bool last = false) {
        auto* tls = ws_->tls.get();
        if (!tls)
            return write_wire(bytes);
        auto& wire = batch_->tls_buffer();
        wire.clear();
        bool const ok = tls->send(bytes, wire);
        if (last)
            tls->close(wire);
        if (ok)
            return write_wire(wire);
        write_failed();
        return false;
    }

    /// Writes `bytes` now, or keeps what the kernel does not take for when the socket has
    /// room. False if the connection failed.
    bool write_wire(std::string_view bytes) {
        if (ws_->waiting_write) {
            ws_->unsent.get() += bytes; // behind what waits already
            queued_bytes_ += bytes.size();
            return true;
        }
        if (opt_.use_io_uring && batch_->gathering() &&
            batch_->stage(shared_from_this(), ws_->socket.native_handle(), bytes)) {
            ws_->waiting_write = true; // until on_sent: what is written meanwhile goes after
            return true;
        }
        beast::error_code ec;
        auto const n = ws_->socket.write_some(bytes.data(), bytes.size(), ec);
        if (ec == net::error::would_block)
            ec = {};
        if (ec) {
            write_failed();
            return false;
        }
        if (n == bytes.size())
            return true;
        ws_->unsent.get().assign(bytes.substr(n));
        queued_bytes_ += ws_->unsent.size();
        ws_->waiting_write = true; // until the poller says the socket has room
        return true;
    }

    /// What the shard's send ring did with `bytes`, which write_wire staged: `result` is
    /// `send`'s (the bytes taken, or -errno), or send_ring::not_submitted. Goes on as
    /// write_wire and on_writable would have after a `send`. (Defined with io_uring only.)
    inline void on_sent(int result, std::string_view bytes);

    /// The socket has room for what waits in `unsent`.
    void on_writable() {
        auto& io = *ws_;
        if (!io.unsent.empty()) {
            auto& unsent = io.unsent.get();
            beast::error_code ec;
            auto const n = io.socket.write_some(unsent.data(), unsent.size(), ec);
            if (ec == net::error::would_block)
                ec = {};
            if (ec)
                return write_failed();
            queued_bytes_ -= n;
            unsent.erase(0, n);
            if (!unsent.empty())
                return; // the next time there is room
        }
        io.unsent.release(); // caught up: hold no buffer
        io.waiting_write = false;
        if (io.closing)
            return shut_down_websocket();
        if (on_websocket_) // a probe's WebSocket carries nothing of the queue before "5"
            flush_websocket();
    }

    /// Writing failed: the session is gone, or, on the WebSocket of an upgrade not completed,
    /// only that WebSocket (polling goes on, as when its reading fails).
    void write_failed() {
        if (!on_websocket_)
            return abandon_upgrade();
        fail(reason::transport_error);
    }

    /// Sends the close frame (§5.5.1) after everything queued; the peer answers with its own.
    void close_websocket() {
        pop(queued());
        std::string frame;
        protocol::websocket::append_frame(
            frame, frame_opcode::close,
            protocol::websocket::close_payload(protocol::websocket::close_code::normal));
        ws_->closing = true;
        if (write_now(frame, true) && !ws_->waiting_write)
            shut_down_websocket();
    }

    /// Our close frame is written: no more writes. The peer's close frame, or the end of its
    /// stream, ends the session (or the close deadline does).
    void shut_down_websocket() { ws_->socket.shutdown(tcp::socket::shutdown_send); }

    /// Writes a control frame at once, between messages (frames are never interleaved:
    /// everything written or waiting is whole frames). Answers (pongs) to a peer that sends
    /// but does not read count against max_queue_bytes like messages do.
    void write_control(frame_opcode op, std::string_view payload) {
        if (ws_->closing)
            return;
        std::string frame;
        protocol::websocket::append_frame(frame, op, payload);
        if (write_now(frame) && queued_bytes_ > opt_.max_queue_bytes)
            fail(reason::transport_error);
    }

    // --- WebSocket reads -------------------------------------------------------------------

    /// The shard's poller says the WebSocket's socket is ready.
    void on_ready(std::uint32_t events) override {
        auto const generation = ws_generation_;
        if (!still_reading(generation))
            return;
        if ((events & poll_target::writable) && ws_->waiting_write) {
            on_writable();
            if (!still_reading(generation))
                return;
        }
        if (events & poll_target::readable)
            drain(generation, (events & poll_target::hangup) != 0);
    }

    /// Reads into the shard's buffer and handles every complete frame: until the kernel has
    /// no more (a read that comes up short; the poller reports edges), or a few buffers'
    /// worth, so that other connections get their turn. After a `hangup` the end of the
    /// stream (or its error) may wait behind the data in the same edge: reading goes on
    /// until the kernel says so.
    void drain(std::uint32_t generation, bool hangup) {
        auto const buf = batch_->read_buffer();
        for (int turn = 0; turn < 4; ++turn) {
            beast::error_code ec;
            auto const have = ws_->socket.read_some(buf.data(), buf.size(), ec);
            if (ec == net::error::would_block)
                return;
            if (ec) {
                on_read_error(ec);
                return;
            }
            if (!take(buf.first(have), generation))
                return;
            if (have < buf.size() && !hangup)
                return;
        }
        net::post(batch_->executor(), [self = shared_from_this(), generation, hangup] {
            if (self->still_reading(generation))
                self->drain(generation, hangup);
        });
    }

    /// Who the poller keeps alive while it watches the socket: this session.
    std::shared_ptr<poll_target> poll_owner() {
        return {shared_from_this(), static_cast<poll_target*>(this)};
    }

    /// Reads what came from the socket: frames, or under TLS records of frames. False if
    /// reading must stop: the session or this WebSocket is gone.
    bool take(std::span<char> bytes, std::uint32_t generation) {
        if (!ws_->tls)
            return consume(bytes, generation);
        auto const tls = ws_->tls;
        std::string reply; // rare: an alert, or the answer to a key update
        // What OpenSSL owes the peer leaves before anything the frames make the session
        // encrypt (a pong): records reach the socket in the order they were made.
        auto const owed = [&] {
            if (reply.empty())
                return true;
            std::string wire;
            wire.swap(reply);
            if (ws_->closing)
                return true; // nothing goes after our close_notify
            if (!write_wire(wire))
                return false;
            if (queued_bytes_ <= opt_.max_queue_bytes)
                return true;
            fail(reason::transport_error); // answers piling up for a peer that does not read
            return false;
        };
        bool alive = true;
        auto frames = [&](std::span<char> plain) {
            return alive = owed() && consume(plain, generation);
        };
        auto const st = tls->receive(bytes, thread_tls_scratch().plain, make_sink(frames), reply);
        if (!alive || !still_reading(generation) || !owed())
            return false;
        if (st == tls_layer::status::ok)
            return true;
        // close_notify is the end of the peer's stream; anything else broke the connection.
        on_read_error(st == tls_layer::status::closed ? beast::error_code(net::error::eof)
                                                      : net::error::invalid_argument);
        return false;
    }

    bool still_reading(std::uint32_t generation) const noexcept {
        return state_ != state::closed && ws_ && generation == ws_generation_;
    }

    /// Reads the complete frames of `fresh` (after what an earlier read left unfinished).
    /// False if reading must stop: the session or this WebSocket is gone.
    bool consume(std::span<char> fresh, std::uint32_t generation) {
        auto& io = *ws_;
        bool const joined = !io.partial.empty();
        if (joined)
            io.partial.get().append(fresh.data(), fresh.size());
        std::span<char> const bytes = joined ? std::span<char>(io.partial.get()) : fresh;
        auto const r = io.reader.read(
            bytes,
            [&](std::string_view data, bool binary) {
                on_frame_message(data, binary);
                return still_reading(generation);
            },
            [&](frame_opcode op, std::string_view payload) {
                on_control(op, payload);
                return still_reading(generation);
            });
        if (!still_reading(generation))
            return false;
        if (r.error) {
            // Oversized (1009), not UTF-8 (1007) or broken framing (1002): the peer is told
            // why, and the session ends as Beast ended it.
            write_control(frame_opcode::close, protocol::websocket::close_payload(r.error));
            on_read_error(net::error::invalid_argument);
            return false;
        }
        if (joined)
            io.partial.get().erase(0, r.consumed);
        else if (r.consumed < fresh.size())
            io.partial.get().assign(fresh.data() + r.consumed, fresh.size() - r.consumed);
        if (io.partial.empty())
            io.partial.release(); // idle connections keep no buffer
        return true;
    }

    void on_frame_message(std::string_view data, bool binary) {
        if (state_ != state::open)
            return;
        if (binary)
            return deliver(data, true);
        auto const p = protocol::engineio::decode_view(data);
        if (!p)
            return fail(reason::parse_error);
        handle(*p, true);
    }

    void on_control(frame_opcode op, std::string_view payload) {
        if (op == frame_opcode::ping)
            return write_control(frame_opcode::pong, payload);
        if (op != frame_opcode::close)
            return;
        if (ws_->closing)
            return finish_close(); // the answer to our close frame
        // The peer closes: answer with its code (§5.5.1), then the connection ends.
        write_control(frame_opcode::close, payload.substr(0, 2));
        on_read_error(ws::error::closed);
    }

    /// The WebSocket's read side ended: the peer closed or reset it, or broke the protocol.
    void on_read_error(beast::error_code ec) {
        if (!on_websocket_)
            return abandon_upgrade(); // the probe's socket went; polling goes on
        if (ws_->closing)
            return finish_close(); // the peer ended its stream after our close frame
        fail(ec == ws::error::closed || ec == net::error::eof ? reason::transport_close
                                                              : reason::transport_error);
    }

    // --- Engine.IO ---------------------------------------------------------------------------

    /// Ends a parked GET without data (a noop), so that the client polls again or moves on.
    void release_poll() {
        if (parked_)
            std::exchange(parked_, nullptr)(http::status::ok, "6");
    }

    /// A close completed: nothing is left to wait for.
    void finish_close() {
        auto self = std::move(self_); // alive to the end of this call
        end();
        if (ws_)
            close_socket();
    }

    /// The session is closed: no deadline, no upgrade, its id no longer finds it, and it no
    /// longer counts against max_connections.
    void end() {
        state_ = state::closed;
        deadlines_->disarm(*this);
        upgrade_timer_.reset();
        registry_->remove(id());
        release_slot();
    }

    void release_slot() noexcept {
        if (std::exchange(counted_, false))
            registry_->release_session();
    }

    /// The session is unusable: stop everything and tell the layer above.
    void fail(std::string_view why, std::string_view parked_answer = "1") {
        if (state_ == state::closed)
            return;
        bool const was_open = state_ == state::open || state_ == state::closing;
        auto self = std::move(self_); // alive to the end of this call
        end();
        if (parked_)
            std::exchange(parked_, nullptr)(http::status::ok, std::string(parked_answer));
        if (was_open)
            notify_close(why);
        if (ws_)
            close_socket();
        pop(queued());
    }

    /// Closes the WebSocket's socket without a reset: bytes the peer sent and nobody read
    /// would make the kernel answer with RST, which can destroy the close frame written just
    /// before it. (A bounded amount is read and dropped; a peer still sending gets its RST.)
    void close_socket() {
        // Not the shard's read buffer: this may run inside another connection's handler
        // while that buffer holds its frames.
        std::array<char, 4096> discard;
        beast::error_code ec;
        for (int i = 0; i < 16 && !ec; ++i)
            ws_->socket.read_some(discard.data(), discard.size(), ec);
        ws_->socket.shutdown(tcp::socket::shutdown_both);
        ws_->socket.close();
    }

    /// Tells the handler once, from a fresh call stack: callers may be inside `send`.
    void notify_close(std::string_view why) {
        if (notified_)
            return;
        notified_ = true;
        net::post(batch_->executor(), [self = shared_from_this(), why = std::string(why)] {
            if (auto h = std::move(self->handler_))
                h->on_close(why);
        });
    }

    void schedule_ping() {
        awaiting_pong_ = false;
        wait_for(waiting::ping, opt_.ping_interval);
    }

    void wait_for(waiting what, std::chrono::milliseconds d) {
        waiting_ = what;
        deadlines_->arm(*this, d, batch_->executor());
    }

    void on_deadline() override {
        auto self = shared_from_this(); // what follows may drop the last other owner
        switch (waiting_) {
        case waiting::ping:
            if (state_ != state::open)
                return;
            // The timeout counts from the moment the ping is queued, not from when a poll
            // takes it: a client that stopped polling is as gone as one that stopped answering.
            send_raw(ping_message());
            awaiting_pong_ = true;
            return wait_for(waiting::pong, opt_.ping_timeout);
        case waiting::pong:
            if (awaiting_pong_ && state_ == state::open)
                fail(reason::ping_timeout);
            return;
        case waiting::close:
            if (state_ == state::closing)
                fail(reason::transport_error);
            return;
        }
    }

    static message_ptr const& ping_message() {
        static message_ptr const m = std::make_shared<message const>(message{"2", false});
        return m;
    }
    static message_ptr const& close_message() {
        static message_ptr const m = std::make_shared<message const>(message{"1", false});
        return m;
    }

    /// One packet from the client, over the WebSocket or in a POST. False if it closed the
    /// session.
    bool handle(protocol::engineio::packet_view p, bool over_websocket) {
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
        if (upgrade_ != upgrade::probing)
            return;
        upgrade_ = upgrade::probed;
        write_control(frame_opcode::text, probe_message()->data);
        release_poll();
    }

    /// "5": from now on everything goes over the WebSocket, in order, starting with what
    /// polling had not taken yet.
    void complete_upgrade() {
        on_websocket_ = true;
        upgrade_ = upgrade::none;
        upgrade_timer_.reset();
        release_poll();
        if (state_ == state::closing) {
            // The WebSocket closes instead of the close packet queued for polling.
            auto const n = std::erase(queue_, close_message());
            queued_bytes_ -= n * close_message()->size();
        }
        flush();
    }

    /// The probe's WebSocket went away (or took too long): polling goes on without it.
    void abandon_upgrade() {
        upgrade_ = upgrade::none;
        upgrade_timer_.reset();
        ++ws_generation_; // what is still under way for this WebSocket is stale
        if (ws_) {
            queued_bytes_ -= ws_->unsent.size();
            ws_.reset();
        }
    }

    static message_ptr const& probe_message() {
        static message_ptr const m = std::make_shared<message const>(message{"3probe", false});
        return m;
    }

    void deliver(std::string_view data, bool binary) {
        if (handler_)
            handler_->on_message(data, binary);
    }

    write_batch* batch_; // the shard's, with its executor
    std::optional<websocket_io> ws_;
    std::uint32_t ws_generation_ = 0; // tells what was started for an abandoned WebSocket
    deadline_service* deadlines_;
    std::unique_ptr<net::steady_timer> upgrade_timer_; // only while an upgrade is under way
    options const& opt_;
    std::shared_ptr<session_registry> registry_;
    std::vector<message_ptr> queue_;
    std::size_t head_ = 0;
    std::size_t queued_bytes_ = 0;  // the queue's bytes and the WebSocket's unsent ones
    parked_reply parked_;           // the GET waiting for data, when polling
    std::shared_ptr<session> self_; // a polling session's own reference, until it ends
    state state_ = state::handshake;
    waiting waiting_ = waiting::ping;
    upgrade upgrade_ = upgrade::none;
    bool on_websocket_ = false;  // the WebSocket carries the session (from the start or upgraded)
    bool flush_pending_ = false; // registered with batch_ for this turn
    bool awaiting_pong_ = false;
    bool notified_ = false;
    bool counted_ = true; // holds one of max_connections (taken before it was made) until it ends
};

inline void write_batch::run() {
    posted_ = false;
    // Sessions flushed now may queue again (and so register again) only from later handlers.
    running_.swap(dirty_);
#if defined(ROOMCAST_IO_URING)
    // Should a flush throw, no write made later, outside this loop, may be staged.
    struct stop_gathering {
        bool& on;
        ~stop_gathering() { on = false; }
    } const guard{gathering_};
    for (std::size_t i = 0; i < running_.size();) {
        // One write alone gains nothing from the ring: `send` is one system call too.
        bool const batch = !ring_.refused() && running_.size() - i >= 2;
        gathering_ = batch;
        do
            running_[i++]->flush();
        while (i < running_.size() && (!batch || gathering_));
        gathering_ = false;
        submit_staged();
    }
#else
    for (auto& s : running_)
        s->flush();
#endif
    running_.clear();
}

#if !defined(ROOMCAST_IO_URING)
inline bool write_batch::stage(std::shared_ptr<session>, int, std::string_view) {
    return false;
}
#else
inline bool write_batch::stage(std::shared_ptr<session> s, int fd, std::string_view bytes) {
    if (!ring_.usable()) {
        gathering_ = false;
        return false;
    }
    staged_.push_back({std::move(s), fd, gathered_.size(), bytes.size()});
    gathered_ += bytes;
    if (staged_.size() == send_ring::capacity || gathered_.size() >= max_gathered)
        gathering_ = false; // this submission is full: the next sessions go into another
    return true;
}

inline void session::on_sent(int result, std::string_view bytes) {
    if (state_ == state::closed || !ws_)
        return;
    bool const full = result == -EAGAIN || result == -EWOULDBLOCK ||
                      (result >= 0 && static_cast<std::size_t>(result) < bytes.size());
    if (result < 0 && !full && result != send_ring::not_submitted)
        return write_failed();
    auto const n = result > 0 ? static_cast<std::size_t>(result) : 0;
    if (n < bytes.size()) {
        // Ahead of anything written since, which waits in unsent already.
        ws_->unsent.get().insert(0, bytes.substr(n));
        queued_bytes_ += bytes.size() - n;
    }
    if (!full)
        on_writable(); // writes what waits now; or, if nothing does, goes on with the queue
    // else: the kernel's buffer is full; the poller says when it has room.
}

inline void write_batch::submit_staged() {
    if (staged_.empty())
        return;
    // Pointers into gathered_ only now that it has stopped growing.
    for (std::size_t i = 0; i < staged_.size(); ++i)
        ring_.prepare(staged_[i].fd, gathered_.data() + staged_[i].offset, staged_[i].size, i);
    ring_.submit([this](std::uint64_t i, int result) { staged_[i].result = result; });
    // Every result is in before any session goes on: what one does next (writing again,
    // failing) cannot touch a send still in the batch. The batch is over even if one throws:
    // a later submission must not send its bytes again.
    struct end_batch {
        write_batch& b;
        ~end_batch() {
            b.staged_.clear();
            if (b.gathered_.capacity() > 2 * max_gathered)
                std::string().swap(b.gathered_); // one huge message: give the memory back
            else
                b.gathered_.clear();
        }
    } const guard{*this};
    std::string_view const all = gathered_;
    for (auto& w : staged_)
        w.s->on_sent(w.result, all.substr(w.offset, w.size));
}
#endif

/// One HTTP connection: reads requests one after the other and serves each: a WebSocket
/// handshake (a new session, or an upgrade of a polling one), a polling GET or POST (handed to
/// its session, possibly on another shard), Engine.IO's error answers, or, off the Engine.IO
/// path, the host's front door.
class http_session : public std::enable_shared_from_this<http_session> {
public:
    using open_handler = std::function<void(std::shared_ptr<connection>)>;

    http_session(tcp::socket s, std::unique_ptr<tls_layer> tls, options const& opt,
                 std::shared_ptr<session_registry> registry, open_handler on_open)
        : stream_(std::move(s), std::move(tls))
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
        if (registry_->stopping)
            return stream_.shutdown_send();
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
            info.headers.add(name, f.value());
        }
        info.headers.shrink_to_fit(); // kept for the session's life
        beast::error_code aec;
        auto const ep = stream_.socket().remote_endpoint(aec);
        if (!aec)
            info.address = ep.address().to_string();
        info.secure = stream_.secure();

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
        if (!registry_->take_session(opt_.max_connections))
            return refuse(req, engine_error::too_many_connections);
        auto s = std::make_shared<session>(stream_.get_executor(), random_id(), std::move(info),
                                           opt_, registry_);
        if (websocket) {
            stream_.expires_never(); // no timer of this stream outlives it
            auto [socket, tls] = stream_.release();
            return s->start_websocket(std::move(socket), std::move(tls), std::move(req), on_open_);
        }
        auto open = s->start_polling();
        on_open_(s);
        reply(req, http::status::ok, "text/plain; charset=UTF-8", std::move(open));
    }

    /// The WebSocket of an upgrade: its socket (and its TLS state) moves to the session's
    /// executor.
    void hand_over(std::shared_ptr<session> s, request req) {
        stream_.expires_never();
        auto [sock, tls] = stream_.release();
        beast::error_code ec;
        auto const protocol = sock.local_endpoint(ec).protocol();
        auto const fd = sock.release(ec);
        if (ec)
            return;
        auto ex = s->get_executor();
        net::post(ex, [s, ex, protocol, fd, tls = std::move(tls), req = std::move(req)]() mutable {
            tcp::socket moved(ex);
            beast::error_code ec2;
            moved.assign(protocol, fd, ec2);
            if (!ec2)
                s->upgrade_to(std::move(moved), std::move(tls), std::move(req));
        });
    }

    void poll(std::shared_ptr<session> s, request req) {
        auto held = std::make_shared<request>(std::move(req));
        net::post(s->get_executor(),
                  [s, reply = answer_for(held)]() mutable { s->poll(std::move(reply)); });
        // While the GET is parked, a client that gives up closes this connection: watch it.
        stream_.expires_never();
        session_ = std::move(s);
        watch_parked();
    }

    void watch_parked() {
        stream_.socket().async_wait(
            tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
                if (ec || !self->session_)
                    return; // answered meanwhile (the wait was cancelled)
                switch (self->stream_.check_peer()) {
                case http_stream::peer::left: {
                    auto s = std::move(self->session_);
                    return net::post(s->get_executor(), [s] { s->poll_aborted(); });
                }
                case http_stream::peer::nothing: // part of a TLS record
                    return self->watch_parked();
                case http_stream::peer::sent: // a pipelined request, read after the answer
                    return;
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
        auto const status = e == engine_error::forbidden ? http::status::forbidden
                            : e == engine_error::too_many_connections
                                ? http::status::service_unavailable
                                : http::status::bad_request;
        reply(req, status, "application/json", error_body(e));
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
                              self->stream_.shutdown_send();
                          });
    }

    http_stream stream_;
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
    boost::system::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
    if (!ec)
        acceptor_.bind(ep, ec);
    if (!ec)
        acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) { // e.g. "roomcast: cannot listen on 127.0.0.1:3000: Address already in use"
        auto const host =
            ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
        throw boost::system::system_error(ec.value(), ec.category(),
                                          "roomcast: cannot listen on " + host + ":" +
                                              std::to_string(ep.port()));
    }
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
                // Under TLS the connection's state is made on its shard, and a connection
                // that cannot have one is dropped.
                std::unique_ptr<tls_layer> tls;
                if (opt->tls && !(tls = opt->tls->make_layer()))
                    return;
                std::make_shared<detail::http_session>(std::move(s), std::move(tls), *opt,
                                                       std::move(registry), std::move(on_open))
                    ->start();
            });
            accept();
        });
}

} // namespace roomcast::transport

#endif
