// roomcast's load generator: drives any server of the benchmark contract (BENCH_CONTRACT.md:
// join, leave, publish, echo over Socket.IO v5 / Engine.IO v4 on a plain WebSocket) with many
// connections from one thread, speaking the wire format directly, and measures the server's
// CPU time and memory from /proc.
//
//   loadgen --scenario fanout|echo|churn|connections [--host H] [--port P] [--pid PID] ...
//
// Prints one JSON line with every figure on stdout and a human summary on stderr; exits 1 when
// the run could not be completed (setup failed or timed out). See bench/README.md.

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               clock_type::now().time_since_epoch())
        .count();
}

// ---------------------------------------------------------------------------------------------
// Options

struct config {
    std::string scenario = "fanout";
    std::string host = "127.0.0.1";
    std::uint16_t port = 3000;
    long pid = 0;                  // server process to measure; 0: no server figures
    std::size_t clients = 0;       // 0: the scenario's default
    std::size_t rooms = 0;         // 0: the scenario's default
    std::size_t publishers = 0;    // fanout: 0 = one per room
    std::size_t window = 1;        // fanout closed loop: messages in flight per publisher
    double rate = 0;               // fanout: deliveries per second (0: closed loop)
    std::size_t pad = 32;          // bytes of padding in each message
    double seconds = 5;            // measured window (connections: how long to hold)
    double warmup = 1;             // load before the window, not counted
    double drain = 5;              // after the window, how long to wait for stragglers
    double setup_timeout = 120;    // connecting and joining
    std::size_t concurrency = 200; // handshakes in flight while connecting
    bool bind = false;             // bind each socket to 127.0.0.(2 + i / per_addr)
    std::size_t per_addr = 2500;
    std::string label; // copied into the JSON (e.g. the server's name)
};

[[noreturn]] void usage(char const* self) {
    std::cerr
        << "usage: " << self << " --scenario fanout|echo|churn|connections [options]\n"
        << "  --host H (127.0.0.1)  --port P (3000)  --pid PID (server to measure)\n"
        << "  --clients N           fanout 1000 subscribers, echo 50, churn 100, "
           "connections 10000\n"
        << "  --rooms R             fanout 10, churn 100\n"
        << "  --publishers P        fanout: publishers, one per room (default: rooms)\n"
        << "  --window W            fanout closed loop: messages in flight per publisher (1)\n"
        << "  --rate N              fanout: fixed rate, deliveries/s (default: closed loop)\n"
        << "  --pad BYTES (32)  --seconds S (5)  --warmup S (1)  --drain S (5)\n"
        << "  --setup-timeout S (120)  --concurrency N (200)\n"
        << "  --bind / --no-bind    bind sources 127.0.0.2.. (default: on for connections)\n"
        << "  --per-addr N (2500)   connections per source address  --label TEXT\n";
    std::exit(2);
}

config parse_args(int argc, char** argv) {
    config c;
    std::optional<bool> bind;
    auto need = [&](int& i) -> std::string {
        if (i + 1 >= argc)
            usage(argv[0]);
        return argv[++i];
    };
    auto num = [&](int& i) -> double {
        auto s = need(i);
        char* end = nullptr;
        double v = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end != '\0' || v < 0)
            usage(argv[0]);
        return v;
    };
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--scenario")
            c.scenario = need(i);
        else if (a == "--host")
            c.host = need(i);
        else if (a == "--port")
            c.port = static_cast<std::uint16_t>(num(i));
        else if (a == "--pid")
            c.pid = static_cast<long>(num(i));
        else if (a == "--clients")
            c.clients = static_cast<std::size_t>(num(i));
        else if (a == "--rooms")
            c.rooms = static_cast<std::size_t>(num(i));
        else if (a == "--publishers")
            c.publishers = static_cast<std::size_t>(num(i));
        else if (a == "--window")
            c.window = static_cast<std::size_t>(num(i));
        else if (a == "--rate")
            c.rate = num(i);
        else if (a == "--pad")
            c.pad = static_cast<std::size_t>(num(i));
        else if (a == "--seconds")
            c.seconds = num(i);
        else if (a == "--warmup")
            c.warmup = num(i);
        else if (a == "--drain")
            c.drain = num(i);
        else if (a == "--setup-timeout")
            c.setup_timeout = num(i);
        else if (a == "--concurrency")
            c.concurrency = static_cast<std::size_t>(num(i));
        else if (a == "--bind")
            bind = true;
        else if (a == "--no-bind")
            bind = false;
        else if (a == "--per-addr")
            c.per_addr = static_cast<std::size_t>(num(i));
        else if (a == "--label")
            c.label = need(i);
        else
            usage(argv[0]);
    }
    if (c.scenario == "fanout") {
        if (!c.clients)
            c.clients = 1000;
        if (!c.rooms)
            c.rooms = 10;
        if (!c.publishers)
            c.publishers = c.rooms;
        if (c.publishers > c.rooms || c.window == 0)
            usage(argv[0]);
    } else if (c.scenario == "echo") {
        if (!c.clients)
            c.clients = 50;
    } else if (c.scenario == "churn") {
        if (!c.clients)
            c.clients = 100;
        if (!c.rooms)
            c.rooms = 100;
    } else if (c.scenario == "connections") {
        if (!c.clients)
            c.clients = 10000;
    } else {
        usage(argv[0]);
    }
    c.bind = bind.value_or(c.scenario == "connections");
    if (c.per_addr == 0 || c.concurrency == 0)
        usage(argv[0]);
    return c;
}

// ---------------------------------------------------------------------------------------------
// Figures

/// Latencies in microseconds: exact below 100 ms (1 µs buckets), kept one by one above.
class histogram {
public:
    histogram()
        : buckets_(limit_, 0) {}
    void add(std::int64_t ns) {
        auto us = std::max<std::int64_t>(0, (ns + 500) / 1000);
        if (us < static_cast<std::int64_t>(limit_))
            ++buckets_[static_cast<std::size_t>(us)];
        else
            over_.push_back(us);
        ++count_;
        max_ = std::max(max_, us);
    }
    std::uint64_t count() const { return count_; }
    std::int64_t max() const { return max_; }
    /// The smallest value v such that at least q of the samples are <= v.
    std::int64_t percentile(double q) {
        if (count_ == 0)
            return 0;
        auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
        rank = std::clamp<std::uint64_t>(rank, 1, count_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < limit_; ++i) {
            seen += buckets_[i];
            if (seen >= rank)
                return static_cast<std::int64_t>(i);
        }
        std::sort(over_.begin(), over_.end());
        return over_[static_cast<std::size_t>(rank - seen - 1)];
    }

private:
    static constexpr std::size_t limit_ = 100'000;
    std::vector<std::uint32_t> buckets_;
    std::vector<std::int64_t> over_;
    std::uint64_t count_ = 0;
    std::int64_t max_ = 0;
};

/// What /proc says about the server at one moment.
struct proc_sample {
    bool ok = false;
    double cpu_us = 0;  // utime + stime of all threads
    double user_us = 0; // utime: the process's own code, not the kernel working for it
    long rss_kb = 0;    // VmRSS
    long threads = 0;
};

proc_sample read_proc(long pid) {
    proc_sample s;
    if (pid <= 0)
        return s;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return s;
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3; utime and stime are fields 14 and 15; num_threads is 20.
    auto close = line.rfind(')');
    if (close == std::string::npos)
        return s;
    std::istringstream rest(line.substr(close + 2));
    std::vector<std::string> f;
    for (std::string w; rest >> w;)
        f.push_back(w);
    if (f.size() < 18)
        return s;
    double const tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    s.user_us = std::stod(f[11]) * 1e6 / tick;
    s.cpu_us = s.user_us + std::stod(f[12]) * 1e6 / tick;
    s.threads = std::stol(f[17]);
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            s.rss_kb = std::stol(line.substr(6));
    s.ok = true;
    return s;
}

double self_cpu_us() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/// A flat JSON object built field by field.
class json_line {
public:
    json_line& num(std::string_view k, double v) {
        char b[64];
        if (v == static_cast<double>(static_cast<long long>(v)) && std::abs(v) < 1e15)
            std::snprintf(b, sizeof b, "%lld", static_cast<long long>(v));
        else
            std::snprintf(b, sizeof b, "%.10g", v);
        return raw(k, b);
    }
    json_line& str(std::string_view k, std::string_view v) {
        std::string q = "\"";
        for (char ch : v) {
            if (ch == '"' || ch == '\\')
                q += '\\';
            if (static_cast<unsigned char>(ch) >= 0x20)
                q += ch;
        }
        return raw(k, q + "\"");
    }
    json_line& boolean(std::string_view k, bool v) { return raw(k, v ? "true" : "false"); }
    std::string text() const { return "{" + body_ + "}"; }

private:
    json_line& raw(std::string_view k, std::string_view v) {
        if (!body_.empty())
            body_ += ',';
        body_ += '"';
        body_ += k;
        body_ += "\":";
        body_ += v;
        return *this;
    }
    std::string body_;
};

// ---------------------------------------------------------------------------------------------
// Wire helpers

/// Reads the integer after `"key":` in a JSON text (whitespace allowed around the colon).
std::optional<std::int64_t> find_int(std::string_view text, std::string_view quoted_key) {
    // A plain loop, not string_view::find: the keys sought are short and near the front, where
    // a memchr and a memcmp call for every quote cost more than the search itself.
    std::size_t pos = 0;
    for (;; ++pos) {
        if (text.size() - pos < quoted_key.size())
            return std::nullopt;
        std::size_t i = 0;
        while (i < quoted_key.size() && text[pos + i] == quoted_key[i])
            ++i;
        if (i == quoted_key.size())
            break;
    }
    pos += quoted_key.size();
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == ':'))
        ++pos;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), v);
    if (ec != std::errc())
        return std::nullopt;
    return v;
}

/// Reads a decimal number at the front of `s` and removes it.
std::optional<std::uint64_t> take_id(std::string_view& s) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc())
        return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(p - s.data()));
    return v;
}

// ---------------------------------------------------------------------------------------------
// One Socket.IO client connection

class client;

/// What a scenario does with its connections' events.
struct scenario_hooks {
    std::function<void(client&)> on_ready;                                // "40" answered
    std::function<void(client&, std::uint64_t, std::string_view)> on_ack; // 43<id>[...]
    std::function<void(client&, std::string_view)> on_message;            // 42["message",{...}]
    std::function<void(client&, std::string_view)> on_closed; // after ready or during setup
};

struct counters {
    std::uint64_t errors = 0;
    std::uint64_t disconnects = 0;
    std::uint64_t connect_failures = 0;
    std::string first_error;
    void error(std::string what) {
        if (first_error.empty())
            first_error = std::move(what);
        ++errors;
    }
};

/// WebSocket opcodes (RFC 6455 section 5.2).
enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xa
};

// Every read lands in one buffer of this size, shared by all clients; it grows only for a frame
// larger than this (a --pad of hundreds of KiB).
constexpr std::size_t scratch_bytes = 256 * 1024;

/// The WebSocket upgrade request (RFC 6455 section 4.1). The key is fixed and the answer's
/// Sec-WebSocket-Accept is not checked: the generator trusts the server it measures, and a
/// server that does not speak WebSocket fails at the status line or the Engine.IO open anyway.
std::string upgrade_request(std::string_view host) {
    std::string r = "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ";
    r += host;
    r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    return r;
}

/// errno as an error_code, for messages.
boost::system::error_code last_error() {
    return {errno, boost::system::system_category()};
}

/// Tells clients when their sockets can be read or written, from an epoll set of its own that
/// Asio waits on as one descriptor. Asio's async_wait on each socket would re-arm the socket
/// with an epoll_ctl call every time: one more system call per wake-up, as many as the reads
/// themselves. Here each socket is added once, edge-triggered for both directions (so a client
/// reads until its socket is drained, see epoll(7)), and one epoll_wait serves many sockets.
class poller {
public:
    explicit poller(asio::io_context& io)
        : set_(io, ::epoll_create1(EPOLL_CLOEXEC)) {}

    /// From now on, `c.on_events` hears of `fd`; closing `fd` takes it out of the set.
    boost::system::error_code add(int fd, client& c) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
        ev.data.ptr = &c;
        if (::epoll_ctl(set_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0)
            return last_error();
        return {};
    }

    void start() { wait(); }
    /// Ends the wait, so that run() returns once the handlers still queued are done.
    void stop() {
        boost::system::error_code ec;
        set_.close(ec);
    }

private:
    static constexpr int max_events = 256;

    void wait(); // below client

    asio::posix::stream_descriptor set_;
};

/// What every client shares; the program has one thread, so none of it is locked.
struct client_context {
    asio::io_context& io;
    poller& readiness;
    std::vector<char>& scratch; // every read lands here (scratch_bytes, more for a larger frame)
    scenario_hooks& hooks;
    counters& counts;
};

/// One connection. It does its own WebSocket I/O on a non-blocking socket when the poller says
/// so: at millions of deliveries per second, a generator that spends an asynchronous read, a
/// handler and a buffer on every message measures itself rather than the server. A wake-up
/// reads into the buffer all clients share and handles every complete frame there; the client
/// keeps only the start of an unfinished frame. What it queues meanwhile leaves in one write.
///
/// Lifetime: a client must outlive the io_context's run(); the poller and handlers hold `this`.
class client {
public:
    client(client_context& shared, std::size_t index, std::uint32_t mask_key)
        : shared_(shared)
        , index_(index) {
        std::memcpy(mask_.data(), &mask_key, mask_.size());
    }
    client(client const&) = delete;
    client& operator=(client const&) = delete;
    ~client() { close_socket(); }

    std::size_t index() const { return index_; }
    /// When the bytes being handled were read: the arrival time of every packet in them (one
    /// clock reading for all, and no parsing ahead of a packet counted in its latency).
    std::int64_t read_at() const { return read_at_; }

    // Scenario state, kept here to avoid side tables.
    std::size_t room = 0;
    std::int64_t sent_at = 0;  // echo / churn: when the request in flight was sent
    std::int64_t last_ts = -1; // fanout: newest ts seen from this room's publisher
    std::uint64_t next_ack_id = 0;
    int step = 0; // churn: 0 join pending, 1 leave pending

    /// Connects; `on_setup_done(ok)` is called once Socket.IO is connected, or setup failed.
    void start(tcp::endpoint server, std::optional<asio::ip::address> source,
               std::string_view upgrade_request, std::function<void(bool)> on_setup_done) {
        on_setup_done_ = std::move(on_setup_done);
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd_ < 0)
            return setup_failed("socket: " + last_error().message());
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (source) {
            // Let connect() choose the port by the whole 4-tuple, so each source address is
            // not limited to the ports free for bind() alone.
            ::setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            tcp::endpoint const from(*source, 0);
            if (::bind(fd_, from.data(), static_cast<socklen_t>(from.size())) != 0)
                return setup_failed("bind: " + last_error().message());
        }
        if (::connect(fd_, server.data(), static_cast<socklen_t>(server.size())) != 0 &&
            errno != EINPROGRESS)
            return setup_failed("connect: " + last_error().message());
        if (auto ec = shared_.readiness.add(fd_, *this))
            return setup_failed("epoll: " + ec.message());
        out_ = upgrade_request; // written once connected
    }

    /// Queues one Engine.IO packet (a text frame). What the client queues while it handles
    /// what it read is written when it is done; what is queued from elsewhere (the runner's
    /// timers), by a flush posted once for everything queued before it runs.
    void send(std::string_view packet) { queue(opcode::text, packet); }

    /// Closes the TCP connection at once (the server sees the client go away).
    void close() {
        open_ = false;
        closing_ = true;
        close_socket();
    }

    /// The poller's news: `events` (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP) came to the socket.
    void on_events(std::uint32_t events) {
        if (fd_ < 0 || (!open_ && !connected()))
            return;
        if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 && !read_posted_)
            on_readable(); // a read also reports an error or the end; writes what it queued
        else if ((events & EPOLLOUT) != 0)
            flush();
    }

private:
    // Full reads in one wake-up before the client posts itself and lets the others in.
    static constexpr int reads_per_wakeup = 4;
    static constexpr std::size_t max_message_bytes = 64 * 1024 * 1024;
    static constexpr std::size_t max_upgrade_response_bytes = 16 * 1024;

    void close_socket() {
        if (fd_ < 0)
            return;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        fd_ = -1;
    }

    void setup_failed(std::string what) {
        if (!closing_) {
            ++shared_.counts.connect_failures;
            if (shared_.counts.first_error.empty())
                shared_.counts.first_error = what;
        }
        open_ = false;
        close_socket();
        finish_setup(false);
    }
    void finish_setup(bool ok) {
        if (auto f = std::move(on_setup_done_)) {
            on_setup_done_ = nullptr;
            f(ok);
        }
    }

    /// Whether the connect has succeeded, now that the socket reports something; a failure
    /// ends the setup.
    bool connected() {
        int error = 0;
        socklen_t size = sizeof error;
        if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0)
            error = errno;
        if (error != 0) {
            setup_failed(
                "connect: " +
                boost::system::error_code(error, boost::system::system_category()).message());
            return false;
        }
        open_ = true;
        return true;
    }

    /// The connection is gone or unusable: counted once, and the socket closed.
    void lost(std::string const& why) {
        if (!open_)
            return; // closed on purpose, or already counted
        if (!ready_)
            return setup_failed("closed during setup: " + why);
        open_ = false;
        ++shared_.counts.disconnects;
        if (shared_.counts.first_error.empty())
            shared_.counts.first_error = "disconnected: " + why;
        close_socket();
        if (shared_.hooks.on_closed)
            shared_.hooks.on_closed(*this, why);
    }

    // --- reading ----------------------------------------------------------------------------

    /// Reads what the socket holds, handles it and writes what that queued. The poller is
    /// edge-triggered, so the socket must be drained before it says more; after
    /// reads_per_wakeup full reads the client posts itself to go on instead.
    void on_readable() {
        read_posted_ = false;
        handling_ = true;
        bool const drained = read_and_handle();
        handling_ = false;
        flush();
        if (drained)
            return;
        read_posted_ = true;
        asio::post(shared_.io, [this] {
            if (fd_ >= 0)
                on_readable();
        });
    }

    /// Returns whether the socket is drained (or the connection gone). A read that does not
    /// fill the room it was given drained the socket (epoll(7)): data arriving after it raises
    /// a new edge, so it saves the read that would fail with EAGAIN.
    bool read_and_handle() {
        auto& buf = shared_.scratch;
        if (need_ > buf.size())
            buf.resize(need_);
        std::size_t held = partial_.size(); // the unfinished frame goes first
        std::memcpy(buf.data(), partial_.data(), held);
        partial_.clear();
        bool drained = false;
        for (int reads = 0; !drained && reads < reads_per_wakeup; ++reads) {
            std::size_t const space = buf.size() - held;
            auto const n = ::recv(fd_, buf.data() + held, space, 0);
            if (n < 0 && errno == EAGAIN) {
                drained = true;
                break;
            }
            if (n <= 0) {
                lost(n == 0 ? "closed by the server" : last_error().message());
                return true;
            }
            read_at_ = now_ns();
            drained = static_cast<std::size_t>(n) < space;
            held += static_cast<std::size_t>(n);
            std::size_t const used = consume(std::string_view(buf.data(), held));
            if (!open_)
                return true;
            std::memmove(buf.data(), buf.data() + used, held - used);
            held -= used;
            if (need_ > buf.size())
                buf.resize(need_);
        }
        partial_.assign(buf.data(), held);
        return drained;
    }

    /// Handles every complete frame at the front of `data` and returns how many bytes they
    /// took; an unfinished frame whose header is in sets need_ to its whole size.
    std::size_t consume(std::string_view data) {
        std::size_t used = 0;
        if (!upgraded_) {
            used = take_upgrade_response(data);
            if (!upgraded_)
                return 0;
        }
        need_ = 0;
        while (open_) {
            auto const rest = data.substr(used);
            // RFC 6455 section 5.2: FIN, RSV1-3 and the opcode; MASK and a 7-bit length, which
            // 126 and 127 extend by 16 and 64 bits. A server's frames are never masked (5.1).
            if (rest.size() < 2)
                break;
            auto const b0 = static_cast<std::uint8_t>(rest[0]);
            auto const b1 = static_cast<std::uint8_t>(rest[1]);
            std::uint64_t size = b1 & 0x7f;
            std::size_t const header = size == 126 ? 4 : size == 127 ? 10 : 2;
            if (rest.size() < header)
                break;
            if (header > 2) {
                size = 0;
                for (std::size_t i = 2; i < header; ++i)
                    size = size << 8 | static_cast<std::uint8_t>(rest[i]);
            }
            if ((b0 & 0x70) != 0 || (b1 & 0x80) != 0) {
                lost("bad frame: reserved bits or mask set");
                break;
            }
            if (size > max_message_bytes) {
                lost("frame too large");
                break;
            }
            if (rest.size() - header < size) {
                need_ = header + static_cast<std::size_t>(size);
                break;
            }
            used += header + static_cast<std::size_t>(size);
            on_frame((b0 & 0x80) != 0, static_cast<opcode>(b0 & 0x0f),
                     rest.substr(header, static_cast<std::size_t>(size)));
        }
        return used;
    }

    /// Takes the answer to the upgrade request once all of it is in (0 until then); frames
    /// follow it, maybe in the same read.
    std::size_t take_upgrade_response(std::string_view data) {
        auto const end = data.find("\r\n\r\n");
        if (end == std::string_view::npos) {
            if (data.size() > max_upgrade_response_bytes)
                lost("handshake: response too long");
            return 0;
        }
        if (!data.starts_with("HTTP/1.1 101 ")) {
            lost("handshake: " + std::string(data.substr(0, data.find('\r'))));
            return 0;
        }
        upgraded_ = true;
        return end + 4;
    }

    void on_frame(bool fin, opcode op, std::string_view payload) {
        switch (op) {
        case opcode::text:
        case opcode::binary:
            if (fragmented_)
                return lost("bad frame: a message inside a fragmented one");
            if (fin)
                return handle(payload);
            fragmented_ = true;
            message_.assign(payload);
            return;
        case opcode::continuation:
            if (!fragmented_)
                return lost("bad frame: continuation without a message");
            if (message_.size() + payload.size() > max_message_bytes)
                return lost("message too large");
            message_ += payload;
            if (fin) {
                fragmented_ = false;
                handle(std::exchange(message_, {}));
            }
            return;
        case opcode::close:
            return lost("close frame");
        case opcode::ping:
            return queue(opcode::pong, payload);
        case opcode::pong:
            return;
        }
        lost("bad frame: unknown opcode");
    }

    /// One Engine.IO packet (a whole text message).
    void handle(std::string_view f) {
        if (f.empty())
            return shared_.counts.error("empty frame");
        switch (f[0]) {
        case '2': // ping
            return send(f.size() == 1 ? std::string("3") : "3" + std::string(f.substr(1)));
        case '0': // Engine.IO open: connect to the main namespace
            if (got_open_)
                return shared_.counts.error("second open packet");
            got_open_ = true;
            return send("40");
        case '4':
            break; // a Socket.IO packet, below
        case '6':
            return; // noop
        case '1':
            return lost("engine.io close packet");
        default:
            return shared_.counts.error("unexpected engine.io packet: " +
                                        std::string(f.substr(0, 40)));
        }
        if (f.size() < 2)
            return shared_.counts.error("short packet");
        auto body = f.substr(2);
        switch (f[1]) {
        case '0': // CONNECT answer
            if (ready_)
                return shared_.counts.error("second connect answer");
            ready_ = true;
            finish_setup(true);
            if (shared_.hooks.on_ready)
                shared_.hooks.on_ready(*this);
            return;
        case '2': { // EVENT (an id here would be the server asking for an ack: not in the contract)
            take_id(body);
            constexpr std::string_view prefix = "[\"message\",";
            // A compare of constant length, which the compiler does inline.
            if (body.size() >= prefix.size() &&
                std::memcmp(body.data(), prefix.data(), prefix.size()) == 0) {
                if (shared_.hooks.on_message)
                    shared_.hooks.on_message(*this, body.substr(prefix.size()));
            }
            return;
        }
        case '3': { // ACK
            auto id = take_id(body);
            if (!id)
                return shared_.counts.error("ack without id");
            if (shared_.hooks.on_ack)
                shared_.hooks.on_ack(*this, *id, body);
            return;
        }
        case '4':
            shared_.counts.error("connect error: " + std::string(body.substr(0, 80)));
            return lost("connect error");
        case '1':
            return lost("socket.io disconnect packet");
        default:
            return shared_.counts.error("unexpected socket.io packet: " +
                                        std::string(f.substr(0, 40)));
        }
    }

    // --- writing ----------------------------------------------------------------------------

    void queue(opcode op, std::string_view payload) {
        if (!open_)
            return;
        append_frame(op, payload);
        if (!handling_ && !flush_posted_) {
            flush_posted_ = true;
            asio::post(shared_.io, [this] {
                flush_posted_ = false;
                flush();
            });
        }
    }

    /// Appends one final frame to out_ (RFC 6455 section 5.2), masked with the connection's
    /// key as section 5.3 asks of every client frame.
    void append_frame(opcode op, std::string_view payload) {
        auto const size = payload.size();
        std::array<char, 14> header;
        std::size_t h = 0;
        header[h++] = static_cast<char>(0x80 | static_cast<unsigned>(op));
        if (size < 126) {
            header[h++] = static_cast<char>(0x80 | size);
        } else if (size < 65536) {
            header[h++] = static_cast<char>(0x80 | 126);
            header[h++] = static_cast<char>(size >> 8);
            header[h++] = static_cast<char>(size);
        } else {
            header[h++] = static_cast<char>(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8)
                header[h++] = static_cast<char>(size >> shift);
        }
        std::memcpy(header.data() + h, mask_.data(), mask_.size());
        h += mask_.size();
        auto const at = out_.size();
        out_.resize(at + h + size);
        char* p = out_.data() + at;
        std::memcpy(p, header.data(), h);
        p += h;
        for (std::size_t i = 0; i < size; ++i)
            p[i] = static_cast<char>(payload[i] ^ mask_[i % 4]);
    }

    /// Writes what is queued without blocking; what the socket does not take waits for the
    /// poller to say it can, and new frames join it meanwhile.
    void flush() {
        while (open_ && !out_.empty()) {
            auto const n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno != EAGAIN)
                    lost("write: " + last_error().message());
                return;
            }
            out_.erase(0, static_cast<std::size_t>(n));
        }
    }

    client_context& shared_;
    std::size_t index_;
    std::array<char, 4> mask_;
    int fd_ = -1;
    std::function<void(bool)> on_setup_done_;
    std::string partial_;  // the start of an unfinished frame (usually empty)
    std::size_t need_ = 0; // the unfinished frame's whole size, once its header is in
    std::int64_t read_at_ = 0;
    std::string message_; // a fragmented message so far
    std::string out_;     // frames queued, not yet taken by the socket
    bool open_ = false, closing_ = false, upgraded_ = false, got_open_ = false, ready_ = false;
    bool fragmented_ = false, handling_ = false, read_posted_ = false, flush_posted_ = false;
};

void poller::wait() {
    set_.async_wait(
        asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
            if (ec)
                return; // stopped
            std::array<epoll_event, max_events> events;
            int const n = ::epoll_wait(set_.native_handle(), events.data(), max_events, 0);
            for (int i = 0; i < n; ++i)
                static_cast<client*>(events[i].data.ptr)->on_events(events[i].events);
            wait();
        });
}

// ---------------------------------------------------------------------------------------------
// The run: connect, let a scenario work through warm-up and window, report.

class runner {
public:
    explicit runner(config c)
        : cfg_(std::move(c))
        , timer_(ctx_)
        , ticker_(ctx_)
        , poller_(ctx_) {}

    int run() {
        asio::ip::address addr;
        try {
            addr = asio::ip::make_address(cfg_.host);
        } catch (std::exception const&) {
            std::cerr << "loadgen: --host must be an IPv4 address\n";
            return 2;
        }
        server_ = tcp::endpoint(addr, cfg_.port);
        upgrade_request_ = upgrade_request(cfg_.host + ":" + std::to_string(cfg_.port));
        if (cfg_.pid > 0 && !read_proc(cfg_.pid).ok) {
            std::cerr << "loadgen: cannot read /proc/" << cfg_.pid << "\n";
            return 2;
        }

        if (cfg_.scenario == "fanout")
            setup_fanout();
        else if (cfg_.scenario == "echo")
            setup_echo();
        else if (cfg_.scenario == "churn")
            setup_churn();
        else
            setup_connections();

        pre_connect_ = read_proc(cfg_.pid);
        setup_started_ = now_ns();
        poller_.start();
        connect_more();
        arm_deadline(cfg_.setup_timeout, [this] {
            fail("setup timed out (" + std::to_string(ready_count_) + " of " +
                 std::to_string(clients_.size()) + " ready)");
        });
        ctx_.run();
        return report();
    }

private:
    // --- connecting -------------------------------------------------------------------------

    std::optional<asio::ip::address> source_for(std::size_t i) const {
        if (!cfg_.bind)
            return std::nullopt;
        auto n = 2 + i / cfg_.per_addr;
        if (n > 254)
            return std::nullopt;
        return asio::ip::make_address_v4(
            static_cast<asio::ip::address_v4::uint_type>((127u << 24) | static_cast<unsigned>(n)));
    }

    void connect_more() {
        while (!failed_ && connecting_ < cfg_.concurrency && next_connect_ < clients_.size()) {
            auto i = next_connect_++;
            ++connecting_;
            clients_[i]->start(server_, source_for(i), upgrade_request_, [this](bool ok) {
                --connecting_;
                if (!ok)
                    return fail("connection failed: " + counts_.first_error);
                connect_more();
            });
        }
    }

    /// Called by a scenario once a client finished its own setup (connected and, for fanout,
    /// joined). The last one starts the load.
    void client_setup_done() {
        if (++ready_count_ == clients_.size() && !failed_) {
            setup_seconds_ = static_cast<double>(now_ns() - setup_started_) / 1e9;
            timer_.cancel();
            start_load();
        }
    }

    void fail(std::string why) {
        if (failed_)
            return;
        failed_ = true;
        failure_ = std::move(why);
        finish();
    }

    void arm_deadline(double seconds, std::function<void()> f) {
        timer_.expires_after(std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9)));
        timer_.async_wait([f = std::move(f)](boost::system::error_code ec) {
            if (!ec)
                f();
        });
    }

    // --- phases -----------------------------------------------------------------------------

    void start_load() {
        if (connections_mode_) {
            // The connecting itself is measured too: from before the first connection to the
            // end of the hold.
            phase_ = phase::window;
            before_ = pre_connect_;
            self_before_ = self_cpu_us();
            window_start_ = now_ns();
            return arm_deadline(cfg_.seconds, [this] { end_window(); });
        }
        phase_ = phase::warmup;
        if (on_load_start_)
            on_load_start_();
        arm_deadline(cfg_.warmup, [this] { start_window(); });
    }

    void start_window() {
        phase_ = phase::window;
        before_ = read_proc(cfg_.pid);
        self_before_ = self_cpu_us();
        window_start_ = now_ns();
        arm_deadline(cfg_.seconds, [this] { end_window(); });
    }

    void end_window() {
        window_end_ = now_ns();
        after_ = read_proc(cfg_.pid);
        self_after_ = self_cpu_us();
        phase_ = phase::drain;
        ticker_.cancel();
        if (drained())
            return finish();
        arm_deadline(cfg_.drain, [this] { finish(); });
    }

    /// Whether everything the window expects has arrived (fanout); the others need no drain.
    bool drained() const { return !expects_ || *expects_ <= received_in_window_msgs_; }
    void check_drained() {
        if (phase_ == phase::drain && drained()) {
            timer_.cancel();
            finish();
        }
    }

    void finish() {
        if (phase_ == phase::done)
            return;
        phase_ = phase::done;
        timer_.cancel();
        ticker_.cancel();
        for (auto& c : clients_)
            c->close();
        poller_.stop();
        // Handlers still queued see closed connections and return; run() then ends.
    }

    bool in_window() const { return phase_ == phase::window; }
    bool loading() const { return phase_ == phase::warmup || phase_ == phase::window; }

    // --- fanout -----------------------------------------------------------------------------
    // Subscribers (cfg.clients) are spread evenly over the rooms; one publisher per room joins
    // it too, so a room of 1000/10 subscribers has 101 members. A publisher sends
    // {room, p, ts, pad} (ts: steady clock ns at sending) and, in closed loop, sends its next
    // message when its own previous one came back; with --rate, a ticker sends at a fixed rate
    // of deliveries per second. lost = members x messages sent in the window - deliveries of
    // those messages (told by their ts).

    void setup_fanout() {
        auto const subs = cfg_.clients, pubs = cfg_.publishers, rooms = cfg_.rooms;
        members_.assign(rooms, 0);
        room_names_.resize(rooms);
        for (std::size_t r = 0; r < rooms; ++r)
            room_names_[r] = "room-" + std::to_string(r);
        make_clients(subs + pubs);
        for (std::size_t i = 0; i < subs + pubs; ++i) {
            auto& c = *clients_[i];
            c.room = i < pubs ? i : (i - pubs) % rooms; // publishers first: publisher k, room k
            ++members_[c.room];
        }
        pad_.assign(cfg_.pad, 'x');
        expects_ = 0;
        hooks_.on_ready = [this](client& c) {
            c.send("42" + std::to_string(++c.next_ack_id) + "[\"join\",\"" + room_names_[c.room] +
                   "\"]");
        };
        hooks_.on_ack = [this](client&, std::uint64_t, std::string_view body) {
            if (body != "[true]")
                return counts_.error("join answered " + std::string(body));
            client_setup_done();
        };
        hooks_.on_message = [this](client& c, std::string_view obj) {
            auto ts = find_int(obj, "\"ts\"");
            auto p = find_int(obj, "\"p\"");
            if (!ts || !p || *p < 0 || static_cast<std::size_t>(*p) >= cfg_.publishers)
                return counts_.error("bad message " + std::string(obj.substr(0, 80)));
            auto const t = c.read_at();
            if (*ts <= c.last_ts)
                ++reordered_;
            c.last_ts = *ts;
            if (in_window()) {
                ++received_in_window_;
                latency_.add(t - *ts);
            }
            if (*ts >= window_start_ && window_start_ && (!window_end_ || *ts < window_end_)) {
                ++received_in_window_msgs_;
                check_drained();
            }
            // Closed loop: a publisher's own copy releases its next message.
            if (cfg_.rate == 0 && c.index() < cfg_.publishers &&
                static_cast<std::size_t>(*p) == c.index() && loading())
                publish(c.index());
        };
        on_load_start_ = [this] {
            if (cfg_.rate == 0) {
                for (std::size_t p = 0; p < cfg_.publishers; ++p)
                    for (std::size_t w = 0; w < cfg_.window; ++w)
                        publish(p);
            } else {
                rate_start_ = now_ns();
                tick();
            }
        };
    }

    void publish(std::size_t p) {
        auto& c = *clients_[p];
        auto const ts = now_ns();
        std::string m;
        m.reserve(64 + pad_.size());
        m += "42[\"publish\",{\"room\":\"";
        m += room_names_[c.room];
        m += "\",\"p\":";
        m += std::to_string(p);
        m += ",\"ts\":";
        m += std::to_string(ts);
        m += ",\"pad\":\"";
        m += pad_;
        m += "\"}]";
        c.send(std::move(m));
        ++sent_total_;
        if (in_window()) {
            ++sent_in_window_;
            *expects_ += members_[c.room];
        }
    }

    // Fixed rate: every millisecond, send what the schedule owes, round robin over publishers.
    void tick() {
        if (!loading())
            return;
        double const msgs_per_s = cfg_.rate / (static_cast<double>(total_members_of_publishers()) /
                                               static_cast<double>(cfg_.publishers));
        auto const due = static_cast<std::uint64_t>(static_cast<double>(now_ns() - rate_start_) /
                                                    1e9 * msgs_per_s);
        while (sent_total_ < due)
            publish(sent_total_ % cfg_.publishers);
        ticker_.expires_after(std::chrono::milliseconds(1));
        ticker_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                tick();
        });
    }
    std::size_t total_members_of_publishers() const {
        std::size_t n = 0;
        for (std::size_t p = 0; p < cfg_.publishers; ++p)
            n += members_[p];
        return n;
    }

    // --- echo -------------------------------------------------------------------------------

    void setup_echo() {
        make_clients(cfg_.clients);
        pad_.assign(cfg_.pad, 'x');
        hooks_.on_ready = [this](client&) { client_setup_done(); };
        hooks_.on_ack = [this](client& c, std::uint64_t id, std::string_view body) {
            auto const t = c.read_at();
            if (id != c.next_ack_id)
                return counts_.error("unexpected ack id");
            auto ts = find_int(body, "\"ts\"");
            if (!ts || *ts != c.sent_at)
                counts_.error("echo answered " + std::string(body.substr(0, 80)));
            if (in_window()) {
                ++round_trips_;
                latency_.add(t - c.sent_at);
            }
            if (loading())
                echo(c);
        };
        on_load_start_ = [this] {
            for (auto& c : clients_)
                echo(*c);
        };
    }

    void echo(client& c) {
        c.sent_at = now_ns();
        c.send("42" + std::to_string(++c.next_ack_id) +
               "[\"echo\",{\"ts\":" + std::to_string(c.sent_at) + ",\"pad\":\"" + pad_ + "\"}]");
    }

    // --- churn ------------------------------------------------------------------------------
    // Each client joins a room with an ack, then leaves it with an ack, and moves on to the
    // next room (clients start spread over the rooms). One op = one acknowledged request.

    void setup_churn() {
        make_clients(cfg_.clients);
        room_names_.resize(cfg_.rooms);
        for (std::size_t r = 0; r < cfg_.rooms; ++r)
            room_names_[r] = "room-" + std::to_string(r);
        for (auto& c : clients_)
            c->room = c->index() % cfg_.rooms;
        hooks_.on_ready = [this](client&) { client_setup_done(); };
        hooks_.on_ack = [this](client& c, std::uint64_t id, std::string_view body) {
            auto const t = c.read_at();
            if (id != c.next_ack_id)
                return counts_.error("unexpected ack id");
            if (body != "[true]")
                counts_.error("join/leave answered " + std::string(body));
            if (in_window()) {
                ++ops_;
                latency_.add(t - c.sent_at);
            }
            if (c.step == 1)
                c.room = (c.room + 1) % cfg_.rooms;
            c.step ^= 1;
            if (loading())
                churn(c);
        };
        on_load_start_ = [this] {
            for (auto& c : clients_)
                churn(*c);
        };
    }

    void churn(client& c) {
        c.sent_at = now_ns();
        c.send("42" + std::to_string(++c.next_ack_id) +
               (c.step == 0 ? "[\"join\",\"" : "[\"leave\",\"") + room_names_[c.room] + "\"]");
    }

    // --- connections ------------------------------------------------------------------------
    // N idle connections with the whole handshake (open, 40, 40{sid}), held for --seconds
    // (heartbeats answered); RSS and CPU are sampled before the first connection and at the
    // end of the hold.

    void setup_connections() {
        make_clients(cfg_.clients);
        hooks_.on_ready = [this](client&) { client_setup_done(); };
        connections_mode_ = true;
    }

    // --- common -----------------------------------------------------------------------------

    void make_clients(std::size_t n) {
        clients_.reserve(n);
        std::mt19937 mask_keys(std::random_device{}());
        for (std::size_t i = 0; i < n; ++i)
            clients_.push_back(std::make_unique<client>(shared_, i, mask_keys()));
        hooks_.on_closed = [this](client&, std::string_view) {
            if (phase_ == phase::setup)
                fail("connection lost during setup");
        };
    }

    int report() {
        double const window_s = window_end_ > window_start_
                                    ? static_cast<double>(window_end_ - window_start_) / 1e9
                                    : 0;
        bool const have_proc = before_.ok && after_.ok;
        double const server_cpu_us = have_proc ? after_.cpu_us - before_.cpu_us : 0;
        json_line j;
        j.str("scenario", cfg_.scenario);
        if (!cfg_.label.empty())
            j.str("label", cfg_.label);
        j.boolean("ok", !failed_);
        if (failed_)
            j.str("failure", failure_);
        j.num("clients", static_cast<double>(clients_.size()));
        j.num("setup_s", setup_seconds_);
        j.num("window_s", window_s);

        double units = 0; // what server CPU is divided by
        std::string unit_name;
        std::ostringstream human;
        human.setf(std::ios::fixed);
        human.precision(1);
        if (cfg_.scenario == "fanout") {
            auto const expected = expects_.value_or(0);
            auto const lost = static_cast<std::int64_t>(expected) -
                              static_cast<std::int64_t>(received_in_window_msgs_);
            units = static_cast<double>(received_in_window_);
            unit_name = "delivery";
            j.num("rooms", static_cast<double>(cfg_.rooms))
                .num("publishers", static_cast<double>(cfg_.publishers))
                .num("members_per_room", static_cast<double>(members_.empty() ? 0 : members_[0]))
                .num("pad", static_cast<double>(cfg_.pad))
                .str("mode", cfg_.rate == 0 ? "closed-loop" : "fixed-rate")
                .num("rate", cfg_.rate)
                .num("window", static_cast<double>(cfg_.window))
                .num("sent", static_cast<double>(sent_in_window_))
                .num("expected", static_cast<double>(expected))
                .num("received", static_cast<double>(received_in_window_msgs_))
                .num("lost", static_cast<double>(lost))
                .num("reordered", static_cast<double>(reordered_))
                .num("delivered", static_cast<double>(received_in_window_))
                .num("delivered_per_s", window_s > 0 ? units / window_s : 0)
                .num("published_per_s",
                     window_s > 0 ? static_cast<double>(sent_in_window_) / window_s : 0);
            human << "fanout: " << (window_s > 0 ? units / window_s : 0) << " deliveries/s, "
                  << sent_in_window_ << " published, lost " << lost << ", reordered " << reordered_;
        } else if (cfg_.scenario == "echo") {
            units = static_cast<double>(round_trips_);
            unit_name = "round trip";
            j.num("pad", static_cast<double>(cfg_.pad))
                .num("round_trips", units)
                .num("round_trips_per_s", window_s > 0 ? units / window_s : 0);
            human << "echo: " << (window_s > 0 ? units / window_s : 0) << " round trips/s";
        } else if (cfg_.scenario == "churn") {
            units = static_cast<double>(ops_);
            unit_name = "op";
            j.num("rooms", static_cast<double>(cfg_.rooms))
                .num("ops", units)
                .num("ops_per_s", window_s > 0 ? units / window_s : 0);
            human << "churn: " << (window_s > 0 ? units / window_s : 0) << " join/leave ops/s";
        } else {
            units = static_cast<double>(ready_count_);
            unit_name = "connection";
            j.num("connected", units)
                .num("source_addresses",
                     cfg_.bind ? static_cast<double>((clients_.size() + cfg_.per_addr - 1) /
                                                     cfg_.per_addr)
                               : 1)
                .num("connect_per_s", setup_seconds_ > 0 ? units / setup_seconds_ : 0);
            human << "connections: " << ready_count_ << " held, set up in " << setup_seconds_
                  << " s";
        }
        if (cfg_.scenario != "connections") {
            j.num("latency_p50_us", static_cast<double>(latency_.percentile(0.50)))
                .num("latency_p90_us", static_cast<double>(latency_.percentile(0.90)))
                .num("latency_p99_us", static_cast<double>(latency_.percentile(0.99)))
                .num("latency_max_us", static_cast<double>(latency_.max()))
                .num("latency_samples", static_cast<double>(latency_.count()));
            human << "; latency p50 " << latency_.percentile(0.50) << " us, p90 "
                  << latency_.percentile(0.90) << " us, p99 " << latency_.percentile(0.99) << " us";
        }
        j.num("errors", static_cast<double>(counts_.errors))
            .num("disconnects", static_cast<double>(counts_.disconnects))
            .num("connect_failures", static_cast<double>(counts_.connect_failures));
        if (!counts_.first_error.empty())
            j.str("first_error", counts_.first_error);
        if (have_proc) {
            double const span_s = connections_mode_ ? setup_seconds_ + window_s : window_s;
            j.num("server_pid", static_cast<double>(cfg_.pid))
                .num("server_threads", static_cast<double>(after_.threads))
                .num("server_cpu_us", server_cpu_us)
                .num("server_cpu_pct", span_s > 0 ? server_cpu_us / (span_s * 1e4) : 0)
                .num("server_cpu_us_per_unit", units > 0 ? server_cpu_us / units : 0)
                .num("server_user_us_per_unit",
                     units > 0 ? (after_.user_us - before_.user_us) / units : 0)
                .str("unit", unit_name)
                .num("server_rss_kb_before", static_cast<double>(before_.rss_kb))
                .num("server_rss_kb_after", static_cast<double>(after_.rss_kb));
            human << "; server CPU " << (span_s > 0 ? server_cpu_us / (span_s * 1e4) : 0) << "%, "
                  << (units > 0 ? server_cpu_us / units : 0) << " us per " << unit_name << ", RSS "
                  << before_.rss_kb << " -> " << after_.rss_kb << " kB";
            if (connections_mode_ && units > 0) {
                double const per =
                    static_cast<double>(after_.rss_kb - before_.rss_kb) * 1024.0 / units;
                j.num("server_rss_bytes_per_connection", per);
                human << " (" << per << " bytes per connection)";
            }
        }
        if (window_s > 0 && !connections_mode_)
            j.num("loadgen_cpu_pct", (self_after_ - self_before_) / (window_s * 1e4));
        human << "; errors " << counts_.errors << ", disconnects " << counts_.disconnects;
        if (failed_)
            human << "; FAILED: " << failure_;
        std::cout << j.text() << std::endl;
        std::cerr << human.str() << "\n";
        if (!counts_.first_error.empty())
            std::cerr << "first error: " << counts_.first_error << "\n";
        return failed_ ? 1 : 0;
    }

    enum class phase { setup, warmup, window, drain, done };

    config cfg_;
    asio::io_context ctx_{1};
    asio::steady_timer timer_, ticker_;
    poller poller_;
    tcp::endpoint server_;
    std::string upgrade_request_;
    std::vector<char> scratch_ = std::vector<char>(scratch_bytes);
    scenario_hooks hooks_;
    counters counts_;
    client_context shared_{ctx_, poller_, scratch_, hooks_, counts_};
    std::vector<std::unique_ptr<client>> clients_; // last: destroyed before what they use
    std::function<void()> on_load_start_;
    phase phase_ = phase::setup;
    bool failed_ = false, connections_mode_ = false;
    std::string failure_;
    std::size_t next_connect_ = 0, connecting_ = 0, ready_count_ = 0;
    std::int64_t setup_started_ = 0, window_start_ = 0, window_end_ = 0, rate_start_ = 0;
    double setup_seconds_ = 0, self_before_ = 0, self_after_ = 0;
    proc_sample pre_connect_, before_, after_;
    histogram latency_;
    // fanout
    std::vector<std::size_t> members_;
    std::vector<std::string> room_names_;
    std::string pad_;
    std::optional<std::uint64_t> expects_;
    std::uint64_t sent_total_ = 0, sent_in_window_ = 0, received_in_window_ = 0,
                  received_in_window_msgs_ = 0, reordered_ = 0;
    // echo, churn
    std::uint64_t round_trips_ = 0, ops_ = 0;
};

} // namespace

int main(int argc, char** argv) {
    auto cfg = parse_args(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    return runner(std::move(cfg)).run();
}
