// Copyright (c) 2026 the roomcast developers. Distributed under the Boost Software License 1.0.
#ifndef ROOMCAST_ADAPTER_REDIS_CONNECTION_HPP
#define ROOMCAST_ADAPTER_REDIS_CONNECTION_HPP

// One client connection to Redis, driven by an Asio executor. hiredis is used for RESP only
// (formatting commands, parsing replies); Asio does the I/O. Written against the functions that
// hiredis 0.14 (Debian 12) and 1.x have in common.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <new>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace roomcast::adapter::redis {

/// Why a Redis command or the connection failed. Transport failures (refused, reset, end of
/// stream, `timed_out` for a connect attempt past its deadline) come as Asio's error codes.
enum class error {
    not_connected = 1, ///< not connected now: the command was not sent
    queue_full,        ///< the command would take the unwritten bytes past `max_queued_bytes`
    closed,            ///< close() was called before the command completed
    redis_error,       ///< Redis answered with an error reply (its text is in the reply)
    protocol_error,    ///< the server's bytes are not RESP2, or a reply matched no command
    invalid_command,   ///< command() was given a command that breaks reply matching
};

namespace detail {
class error_category final : public boost::system::error_category {
public:
    char const* name() const noexcept override { return "roomcast.redis"; }
    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::not_connected:
            return "not connected to Redis";
        case error::queue_full:
            return "Redis command queue full";
        case error::closed:
            return "Redis connection closed";
        case error::redis_error:
            return "Redis error reply";
        case error::protocol_error:
            return "Redis protocol error";
        case error::invalid_command:
            return "command not allowed on a Redis connection (use subscribe/unsubscribe)";
        }
        return "unknown Redis error";
    }
};
} // namespace detail

inline boost::system::error_category const& redis_category() noexcept {
    static detail::error_category const cat;
    return cat;
}

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), redis_category()};
}

} // namespace roomcast::adapter::redis

template<>
struct boost::system::is_error_code_enum<roomcast::adapter::redis::error> : std::true_type {};

namespace roomcast::adapter::redis {

/// Where Redis listens.
struct endpoint {
    std::string host = "127.0.0.1"; ///< an IP address, or a name resolved at each attempt
    std::uint16_t port = 6379;
};

/// A parsed RESP2 reply, owned.
struct reply {
    enum class kind { string, status, error, integer, nil, array };
    kind type = kind::nil;
    std::string str;             ///< for string, status and error replies (binary-safe)
    long long integer = 0;       ///< for integer replies
    std::vector<reply> elements; ///< for array replies
};

struct connection_options {
    endpoint server; ///< default 127.0.0.1:6379
    /// With `password`: `AUTH username password` (Redis 6 ACLs); empty: `AUTH password`.
    std::string username;
    std::string password; ///< when set, AUTH is the first command of every connection
    /// The deadline of one attempt: resolving, connecting, AUTH and re-subscribing together.
    std::chrono::milliseconds connect_timeout{5000};
    /// Delay before the first reconnection attempt; it doubles after each failed attempt up to
    /// `max_backoff`, and is reset once a connection comes up.
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{5000};
    /// Bytes of commands not yet written to the socket. A command that would pass it fails at
    /// once with `error::queue_full` (so a command longer than this always fails).
    /// Subscription changes are never refused: they must reach Redis to stay in step.
    std::size_t max_queued_bytes = std::size_t{64} << 20;
};

namespace detail {

struct free_reader {
    void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
};
struct free_reply {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
struct free_command {
    void operator()(char* p) const noexcept { redisFreeCommand(p); }
};

/// Commands waiting for the socket: small ones appended together in `text`, a large one kept
/// as hiredis formatted it (no second copy of a megabyte payload).
struct chunk {
    std::string text;
    std::unique_ptr<char, free_command> formatted;
    std::size_t formatted_size = 0;

    std::size_t size() const noexcept { return formatted ? formatted_size : text.size(); }
    boost::asio::const_buffer buffer() const noexcept {
        return formatted ? boost::asio::const_buffer(formatted.get(), formatted_size)
                         : boost::asio::const_buffer(text.data(), text.size());
    }
};

/// Commands shorter than this are copied into a shared chunk; a chunk grows to `chunk_size`.
inline constexpr std::size_t small_command = 16 * 1024;
inline constexpr std::size_t chunk_size = 64 * 1024;
/// hiredis's own read size: its reader moves unparsed bytes down after each reply, so larger
/// reads cost more copying than the system calls they save.
inline constexpr std::size_t read_size = 16 * 1024;

inline std::string_view view(redisReply const& r) noexcept {
    return r.str ? std::string_view(r.str, r.len) : std::string_view();
}

inline reply to_reply(redisReply const& r) {
    reply out;
    switch (r.type) {
    case REDIS_REPLY_STRING:
        out.type = reply::kind::string;
        out.str = view(r);
        break;
    case REDIS_REPLY_STATUS:
        out.type = reply::kind::status;
        out.str = view(r);
        break;
    case REDIS_REPLY_ERROR:
        out.type = reply::kind::error;
        out.str = view(r);
        break;
    case REDIS_REPLY_INTEGER:
        out.type = reply::kind::integer;
        out.integer = r.integer;
        break;
    case REDIS_REPLY_NIL:
        break;
    case REDIS_REPLY_ARRAY:
        out.type = reply::kind::array;
        out.elements.reserve(r.elements);
        for (std::size_t i = 0; i < r.elements; ++i)
            out.elements.push_back(to_reply(*r.element[i]));
        break;
    default:
        // RESP3 types of hiredis 1.x: never sent on a RESP2 connection; kept as best fits.
        if (r.element) {
            out.type = reply::kind::array;
            for (std::size_t i = 0; i < r.elements; ++i)
                out.elements.push_back(to_reply(*r.element[i]));
        } else if (r.str) {
            out.type = reply::kind::string;
            out.str = view(r);
        } else {
            out.type = reply::kind::integer;
            out.integer = r.integer;
        }
    }
    return out;
}

inline bool iequals(std::string_view a, std::string_view lower) noexcept {
    return a.size() == lower.size() &&
           std::equal(a.begin(), a.end(), lower.begin(), [](char x, char y) {
               return (x >= 'A' && x <= 'Z' ? static_cast<char>(x - 'A' + 'a') : x) == y;
           });
}

/// Commands whose replies are not one per command (subscriptions, MONITOR) or that change the
/// subscription state behind the connection's back (RESET).
inline bool reserved(std::string_view name) noexcept {
    constexpr std::string_view names[] = {"subscribe",   "psubscribe",   "ssubscribe",
                                          "unsubscribe", "punsubscribe", "sunsubscribe",
                                          "monitor",     "reset"};
    return std::any_of(std::begin(names), std::end(names),
                       [name](std::string_view n) { return iequals(name, n); });
}

/// Calls `f` when left by an exception.
template<class F>
class on_unwind {
public:
    explicit on_unwind(F f)
        : f_(std::move(f))
        , count_(std::uncaught_exceptions()) {}
    on_unwind(on_unwind const&) = delete;
    on_unwind& operator=(on_unwind const&) = delete;
    ~on_unwind() {
        if (std::uncaught_exceptions() > count_)
            f_();
    }

private:
    F f_;
    int count_;
};

} // namespace detail

/// A client connection to one Redis server, for the Redis adapter: commands with FIFO-matched
/// replies, pub/sub subscriptions that survive reconnection, and a state hook. Everything runs
/// on the executor given at construction: no thread or event loop of its own.
///
/// Threads: every member function is called on the connection's executor (from a handler
/// running there, or before the executor runs), and every handler runs there. Nothing is
/// locked.
///
/// Lifetime: owned by a `std::shared_ptr` (`std::make_shared`); its pending operations hold it,
/// so a started connection lives until close(). close() ends everything: afterwards no handler
/// runs except the completions that report `error::closed`, and the connection leaves no work
/// on its executor (an `io_context::run()` with nothing else to do returns).
///
/// Errors never throw: they reach the completion handlers and the state hook. The connection
/// logs nothing. Handlers must not throw; if one does, the exception leaves the executor's
/// `run()`, and the connection goes on when `run()` is called again.
///
/// Replies are told apart from pub/sub pushes by the RESP2 rules: while Redis counts
/// subscriptions for this connection (the count of the last (un)subscribe confirmation is
/// above 0), `message` and `pmessage` arrays are pushes; `subscribe`-family arrays complete the
/// subscription request at the head of the queue; every other reply is the answer to the
/// command at the head of the queue. A subscribed connection accepts only subscription
/// changes and PING (answered `["pong", ""]`); Redis answers anything else with an error.
class connection : public std::enable_shared_from_this<connection> {
public:
    /// The reply, or an error: `error::redis_error` (the reply holds Redis's message),
    /// `not_connected`, `queue_full`, `closed`, `invalid_command`, or the error of the drop
    /// that lost the command.
    using reply_handler = std::function<void(boost::system::error_code, reply)>;
    using done_handler = std::function<void(boost::system::error_code)>;
    /// A pub/sub message: `pattern` is empty for `message`, set for `pmessage`. The views are
    /// valid during the call only.
    using message_handler = std::function<void(std::string_view pattern, std::string_view channel,
                                               std::string_view payload)>;
    /// `up` once connected (after AUTH and re-subscribing, confirmations received);
    /// `!up` with the error when the connection drops or a connection attempt fails.
    using state_handler = std::function<void(bool up, boost::system::error_code)>;

    /// Throws std::invalid_argument on non-positive timeouts or `max_backoff < initial_backoff`.
    inline connection(boost::asio::any_io_executor ex, connection_options o);
    connection(connection const&) = delete;
    connection& operator=(connection const&) = delete;

    boost::asio::any_io_executor get_executor() const noexcept { return ex_; }

    /// Connects. After any failure or drop it reconnects with backoff, forever, until close().
    /// A second call does nothing.
    inline void start();

    /// Stops everything: the socket, the timers, reconnection. Pending command and
    /// subscription handlers complete with `error::closed` (posted); the hooks are released
    /// and never called again. Safe to call from any of this connection's handlers; a second
    /// call does nothing. A closed connection does not start again.
    inline void close();

    /// Up: connected, authenticated, subscriptions restored.
    bool connected() const noexcept { return phase_ == phase::up; }

    /// Bytes of commands not yet written to the socket (see `max_queued_bytes`).
    std::size_t queued_bytes() const noexcept { return queued_bytes_; }

    /// Sends a command; the arguments are binary-safe and copied before it returns. `done`
    /// gets the reply or an error; replies are matched in command order. While not connected
    /// the command fails at once with `error::not_connected` (it is never kept for a
    /// reconnection); a command in flight when the connection drops fails with the drop's
    /// error. Subscription commands, MONITOR and RESET fail with `error::invalid_command`.
    /// Every completion is asynchronous: `done` never runs inside this call.
    inline void command(std::span<std::string_view const> args, reply_handler done = {});
    void command(std::initializer_list<std::string_view> args, reply_handler done = {}) {
        command(std::span<std::string_view const>(args.begin(), args.size()), std::move(done));
    }
    void command(std::vector<std::string> const& args, reply_handler done = {}) {
        std::vector<std::string_view> const views(args.begin(), args.end());
        command(std::span<std::string_view const>(views), std::move(done));
    }

    /// Subscribes to a channel (or a pattern). The name is remembered: every later connection
    /// subscribes again (one SUBSCRIBE and one PSUBSCRIBE with all the names) before it counts
    /// as up. `done` gets success once Redis confirmed; `error::not_connected` when not
    /// connected now (the name is still remembered, and subscribed at the next connection);
    /// the drop's error if the connection drops first; `error::redis_error` if Redis refused.
    inline void subscribe(std::string channel, done_handler done = {});
    inline void psubscribe(std::string pattern, done_handler done = {});

    /// Forgets a channel (or a pattern) and unsubscribes from it when connected. `done` gets
    /// success once Redis confirmed, or at once when not connected (nothing to undo). Messages
    /// Redis sent before it handled the UNSUBSCRIBE may still arrive.
    inline void unsubscribe(std::string const& channel, done_handler done = {});
    inline void punsubscribe(std::string const& pattern, done_handler done = {});

    /// The hook for pub/sub messages.
    void on_message(message_handler f) {
        if (phase_ != phase::closed)
            on_message_ = std::move(f);
    }
    /// The hook for connection state changes; the only place failures show.
    void on_state(state_handler f) {
        if (phase_ != phase::closed)
            on_state_ = std::move(f);
    }

private:
    using tcp = boost::asio::ip::tcp;

    enum class phase { idle, connecting, handshake, up, waiting, closed };

    /// What a queued request waits for: one reply, or one confirmation per name.
    enum class expect : unsigned char { reply, subscribe, psubscribe, unsubscribe, punsubscribe };

    static std::string_view name_of(expect e) noexcept {
        switch (e) {
        case expect::subscribe:
            return "subscribe";
        case expect::psubscribe:
            return "psubscribe";
        case expect::unsubscribe:
            return "unsubscribe";
        case expect::punsubscribe:
            return "punsubscribe";
        case expect::reply:
            break;
        }
        return {};
    }

    struct pending {
        expect what = expect::reply;
        bool handshake = false;        // AUTH or a re-subscription: decides whether we are up
        std::size_t confirmations = 0; // subscriptions: confirmations still to come
        reply_handler done;
    };

    /// The chunks of one write, alive until its handler ran.
    struct batch {
        std::vector<detail::chunk> chunks;
        std::size_t bytes = 0;
    };

    inline void connect();
    inline void on_connect(boost::system::error_code ec);
    inline void resubscribe(expect what, std::set<std::string> const& names);
    inline void on_handshake_step(boost::system::error_code ec);
    inline void on_up();
    inline void fail(boost::system::error_code ec);
    inline void read();
    inline void drain(std::uint64_t gen);
    inline void dispatch(redisReply const& r);
    inline void confirm(redisReply const& r);
    inline void finish(pending p, boost::system::error_code ec, reply r);
    /// Formats and queues a command; `p` is taken only on success.
    inline boost::system::error_code enqueue(std::span<std::string_view const> args, pending&& p,
                                             bool limited);
    inline void write();
    inline void change(expect what, std::string name, done_handler done);
    inline void complete_later(reply_handler done, boost::system::error_code ec);

    boost::asio::any_io_executor ex_;
    connection_options opt_;
    tcp::socket socket_;
    tcp::resolver resolver_;
    boost::asio::steady_timer timer_; // the deadline of an attempt, or the wait before the next
    std::unique_ptr<redisReader, detail::free_reader> reader_;
    std::vector<char> read_buffer_;
    std::vector<detail::chunk> outbox_; // not yet handed to a write
    std::deque<pending> waiting_;       // written or queued, in order, waiting for Redis
    std::set<std::string> channels_;    // remembered subscriptions
    std::set<std::string> patterns_;
    message_handler on_message_;
    state_handler on_state_;
    std::chrono::milliseconds backoff_;
    std::size_t queued_bytes_ = 0;
    long long subscribed_ = 0; // Redis's count from the last confirmation
    std::size_t handshake_left_ = 0;
    // Changed by every new attempt, drop and close(): a completion of an earlier generation
    // finds its socket or timer reused and does nothing.
    std::uint64_t gen_ = 0;
    phase phase_ = phase::idle;
    bool writing_ = false;
};

// --- definitions -----------------------------------------------------------------------------

connection::connection(boost::asio::any_io_executor ex, connection_options o)
    : ex_(std::move(ex))
    , opt_(std::move(o))
    , socket_(ex_)
    , resolver_(ex_)
    , timer_(ex_)
    , read_buffer_(detail::read_size)
    , backoff_(opt_.initial_backoff) {
    if (opt_.connect_timeout.count() <= 0 || opt_.initial_backoff.count() <= 0 ||
        opt_.max_backoff < opt_.initial_backoff)
        throw std::invalid_argument("roomcast::adapter::redis::connection_options: timeouts "
                                    "must be positive and max_backoff >= initial_backoff");
}

void connection::start() {
    if (phase_ == phase::idle)
        connect();
}

void connection::close() {
    if (phase_ == phase::closed)
        return;
    phase_ = phase::closed;
    ++gen_;
    boost::system::error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
    timer_.cancel();
    writing_ = false;
    outbox_.clear();
    queued_bytes_ = 0;
    subscribed_ = 0;
    handshake_left_ = 0;
    for (auto& p : std::exchange(waiting_, {}))
        if (!p.handshake)
            complete_later(std::move(p.done), error::closed);
    // The hooks may own what owns this connection: release them, after the hook that may be
    // calling close() returned.
    if (auto self = weak_from_this().lock()) {
        boost::asio::post(ex_, [self] {
            self->on_message_ = nullptr;
            self->on_state_ = nullptr;
        });
    } else {
        on_message_ = nullptr;
        on_state_ = nullptr;
    }
}

void connection::command(std::span<std::string_view const> args, reply_handler done) {
    boost::system::error_code ec;
    if (phase_ == phase::closed)
        ec = error::closed;
    else if (args.empty() || detail::reserved(args.front()))
        ec = error::invalid_command;
    else if (phase_ != phase::up)
        ec = error::not_connected;
    if (ec)
        return complete_later(std::move(done), ec);
    pending p{expect::reply, false, 0, std::move(done)};
    if (auto const full = enqueue(args, std::move(p), true))
        return complete_later(std::move(p.done), full);
    write();
}

void connection::subscribe(std::string channel, done_handler done) {
    change(expect::subscribe, std::move(channel), std::move(done));
}

void connection::psubscribe(std::string pattern, done_handler done) {
    change(expect::psubscribe, std::move(pattern), std::move(done));
}

void connection::unsubscribe(std::string const& channel, done_handler done) {
    change(expect::unsubscribe, channel, std::move(done));
}

void connection::punsubscribe(std::string const& pattern, done_handler done) {
    change(expect::punsubscribe, pattern, std::move(done));
}

void connection::change(expect what, std::string name, done_handler done) {
    reply_handler wrapped;
    if (done)
        wrapped = [done = std::move(done)](boost::system::error_code ec, reply) { done(ec); };
    if (phase_ == phase::closed)
        return complete_later(std::move(wrapped), error::closed);
    bool const add = what == expect::subscribe || what == expect::psubscribe;
    auto& names = what == expect::subscribe || what == expect::unsubscribe ? channels_ : patterns_;
    if (phase_ != phase::handshake && phase_ != phase::up) {
        if (add)
            names.insert(std::move(name));
        else
            names.erase(name);
        return complete_later(std::move(wrapped),
                              add ? boost::system::error_code(error::not_connected)
                                  : boost::system::error_code());
    }
    // Connected (or re-subscribing): sent now, after whatever is queued.
    std::string_view const args[] = {name_of(what), name};
    enqueue(args, pending{what, false, 1, std::move(wrapped)}, false);
    if (add)
        names.insert(std::move(name));
    else
        names.erase(name);
    write();
}

void connection::complete_later(reply_handler done, boost::system::error_code ec) {
    if (!done)
        return;
    // A completion that has not run when close() is called reports `closed`, like any other.
    boost::asio::post(ex_, [w = weak_from_this(), done = std::move(done), ec] {
        auto const self = w.lock();
        done(self && self->phase_ == phase::closed ? error::closed : ec, reply{});
    });
}

void connection::connect() {
    ++gen_;
    phase_ = phase::connecting;
    reader_.reset(redisReaderCreate());
    if (!reader_)
        throw std::bad_alloc();
    auto self = shared_from_this();
    timer_.expires_after(opt_.connect_timeout);
    timer_.async_wait([self, gen = gen_](boost::system::error_code ec) {
        if (!ec && gen == self->gen_ &&
            (self->phase_ == phase::connecting || self->phase_ == phase::handshake))
            self->fail(boost::asio::error::timed_out);
    });
    boost::system::error_code literal;
    auto const address = boost::asio::ip::make_address(opt_.server.host, literal);
    if (!literal) {
        // An address needs no resolver (whose lookups run on a thread of Asio's own).
        socket_.async_connect(tcp::endpoint(address, opt_.server.port),
                              [self, gen = gen_](boost::system::error_code ec) {
                                  if (gen == self->gen_)
                                      self->on_connect(ec);
                              });
        return;
    }
    resolver_.async_resolve(
        opt_.server.host, std::to_string(opt_.server.port),
        [self, gen = gen_](boost::system::error_code ec, tcp::resolver::results_type results) {
            if (gen != self->gen_)
                return;
            if (ec)
                return self->fail(ec);
            boost::asio::async_connect(
                self->socket_, results,
                [self, gen](boost::system::error_code cec, tcp::endpoint const&) {
                    if (gen == self->gen_)
                        self->on_connect(cec);
                });
        });
}

void connection::on_connect(boost::system::error_code ec) {
    if (ec)
        return fail(ec);
    phase_ = phase::handshake;
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    read();
    handshake_left_ = 0;
    if (!opt_.password.empty()) {
        std::vector<std::string_view> args{"auth"};
        if (!opt_.username.empty())
            args.push_back(opt_.username);
        args.push_back(opt_.password);
        enqueue(args, pending{expect::reply, true, 0, {}}, false);
        ++handshake_left_;
    }
    resubscribe(expect::subscribe, channels_);
    resubscribe(expect::psubscribe, patterns_);
    if (handshake_left_ == 0)
        return on_up();
    write();
}

void connection::resubscribe(expect what, std::set<std::string> const& names) {
    if (names.empty())
        return;
    std::vector<std::string_view> args{name_of(what)};
    args.insert(args.end(), names.begin(), names.end());
    // Redis confirms every name of the command, one array each.
    enqueue(args, pending{what, true, names.size(), {}}, false);
    ++handshake_left_;
}

void connection::on_handshake_step(boost::system::error_code ec) {
    if (ec)
        return fail(ec);
    if (--handshake_left_ == 0)
        on_up();
}

void connection::on_up() {
    phase_ = phase::up;
    backoff_ = opt_.initial_backoff;
    timer_.cancel();
    if (on_state_)
        on_state_(true, {});
}

void connection::fail(boost::system::error_code ec) {
    if (phase_ != phase::connecting && phase_ != phase::handshake && phase_ != phase::up)
        return;
    ++gen_;
    phase_ = phase::waiting;
    boost::system::error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
    writing_ = false;
    outbox_.clear();
    queued_bytes_ = 0;
    subscribed_ = 0;
    handshake_left_ = 0;
    auto dropped = std::exchange(waiting_, {});
    auto self = shared_from_this();
    timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, opt_.max_backoff);
    timer_.async_wait([self, gen = gen_](boost::system::error_code wait_ec) {
        if (!wait_ec && gen == self->gen_)
            self->connect();
    });
    // Reported by posting: a drop found inside a handler (a refused AUTH, say) must not run
    // user code from within it.
    for (auto& p : dropped)
        if (!p.handshake)
            complete_later(std::move(p.done), ec);
    boost::asio::post(ex_, [self, ec] {
        if (self->phase_ != phase::closed && self->on_state_)
            self->on_state_(false, ec);
    });
}

void connection::read() {
    socket_.async_read_some(
        boost::asio::buffer(read_buffer_),
        [self = shared_from_this(), gen = gen_](boost::system::error_code ec, std::size_t n) {
            if (gen != self->gen_)
                return;
            if (ec)
                return self->fail(ec);
            if (redisReaderFeed(self->reader_.get(), self->read_buffer_.data(), n) != REDIS_OK)
                return self->fail(error::protocol_error);
            // The reader copied the bytes: the buffer is free for the next read already.
            self->read();
            self->drain(gen);
        });
}

void connection::drain(std::uint64_t gen) {
    // A handler that throws leaves the replies still in the reader for a next turn.
    detail::on_unwind resume([this, gen] {
        boost::asio::post(ex_, [self = shared_from_this(), gen] {
            if (gen == self->gen_)
                self->drain(gen);
        });
    });
    while (gen == gen_) { // a drop or close() inside a handler ends the loop
        void* raw = nullptr;
        if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK)
            return fail(error::protocol_error);
        if (!raw)
            return;
        std::unique_ptr<redisReply, detail::free_reply> const r(static_cast<redisReply*>(raw));
        dispatch(*r);
    }
}

void connection::dispatch(redisReply const& r) {
    if (r.type == REDIS_REPLY_ARRAY && r.elements >= 3 &&
        r.element[0]->type == REDIS_REPLY_STRING) {
        auto const head = detail::view(*r.element[0]);
        if (subscribed_ > 0 && head == "message" && r.elements == 3) {
            if (on_message_)
                on_message_({}, detail::view(*r.element[1]), detail::view(*r.element[2]));
            return;
        }
        if (subscribed_ > 0 && head == "pmessage" && r.elements == 4) {
            if (on_message_)
                on_message_(detail::view(*r.element[1]), detail::view(*r.element[2]),
                            detail::view(*r.element[3]));
            return;
        }
        if (r.elements == 3 && !waiting_.empty() && waiting_.front().what != expect::reply &&
            head == name_of(waiting_.front().what))
            return confirm(r);
    }
    // An answer to nothing, or a plain reply where confirmations were due: out of step.
    if (waiting_.empty() || (waiting_.front().what != expect::reply && r.type != REDIS_REPLY_ERROR))
        return fail(error::protocol_error);
    auto p = std::move(waiting_.front());
    waiting_.pop_front();
    auto out = detail::to_reply(r);
    boost::system::error_code ec;
    if (out.type == reply::kind::error)
        ec = error::redis_error; // for a subscription: refused as a whole (ACL, NOAUTH)
    finish(std::move(p), ec, std::move(out));
}

void connection::confirm(redisReply const& r) {
    auto& p = waiting_.front();
    if (r.element[2]->type == REDIS_REPLY_INTEGER)
        subscribed_ = r.element[2]->integer;
    if (--p.confirmations > 0)
        return;
    auto done = std::move(p);
    waiting_.pop_front();
    finish(std::move(done), {}, reply{});
}

void connection::finish(pending p, boost::system::error_code ec, reply r) {
    if (p.handshake)
        return on_handshake_step(ec);
    if (p.done)
        p.done(ec, std::move(r));
}

boost::system::error_code connection::enqueue(std::span<std::string_view const> args, pending&& p,
                                              bool limited) {
    std::size_t raw = 0;
    for (auto const a : args)
        raw += a.size();
    // Checked before formatting, so that an oversized command costs no allocation.
    if (limited && raw + queued_bytes_ > opt_.max_queued_bytes)
        return error::queue_full;
    std::vector<char const*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (auto const a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    char* out = nullptr;
    auto const n =
        redisFormatCommandArgv(&out, static_cast<int>(args.size()), argv.data(), lengths.data());
    std::unique_ptr<char, detail::free_command> formatted(out);
    if (n < 0 || !formatted)
        throw std::bad_alloc();
    auto const size = static_cast<std::size_t>(n);
    if (limited && size + queued_bytes_ > opt_.max_queued_bytes)
        return error::queue_full;
    if (size >= detail::small_command) {
        outbox_.push_back(detail::chunk{{}, std::move(formatted), size});
    } else {
        if (outbox_.empty() || outbox_.back().formatted ||
            outbox_.back().text.size() + size > detail::chunk_size) {
            outbox_.emplace_back();
            outbox_.back().text.reserve(detail::chunk_size);
        }
        outbox_.back().text.append(formatted.get(), size);
    }
    queued_bytes_ += size;
    waiting_.push_back(std::move(p));
    return {};
}

void connection::write() {
    if (writing_ || outbox_.empty())
        return;
    writing_ = true;
    auto b = std::make_shared<batch>();
    b->chunks = std::exchange(outbox_, {});
    std::vector<boost::asio::const_buffer> buffers;
    buffers.reserve(b->chunks.size());
    for (auto const& c : b->chunks) {
        buffers.push_back(c.buffer());
        b->bytes += c.size();
    }
    boost::asio::async_write(
        socket_, buffers,
        [self = shared_from_this(), gen = gen_, b](boost::system::error_code ec, std::size_t) {
            if (gen != self->gen_)
                return;
            self->writing_ = false;
            self->queued_bytes_ -= b->bytes;
            if (ec)
                return self->fail(ec);
            self->write();
        });
}

} // namespace roomcast::adapter::redis

#endif
