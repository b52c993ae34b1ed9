// bench_floor: the benchmark contract (join, leave, publish, echo; see bench/README.md) served
// with about the least work a server can do for it in the design uWebSockets uses, to measure
// what this machine charges for that work, beside roomcast and in the same run.
//
// One thread and epoll; one recv per readable socket and turn of the loop; the frames for a
// connection gathered in its buffer and written with one send per turn (uWebSockets' corking);
// a broadcast framed once and copied into each member's buffer. It checks what any WebSocket
// server checks (the upgrade request, masking, RSV bits, control frames, UTF-8 of text), and
// parses no JSON beyond the event name, the end of the first argument and a publish's "room".
// It is not a Socket.IO server and not part of roomcast (only its UTF-8 check and frame
// header writer are borrowed, below): the main namespace over WebSocket and the contract's four
// events are all it speaks (no polling, binary, middleware, acks to the client, limits beyond the
// sizes below). bench/contract-check.mjs passes against it: it answers the benchmark's requests as
// bench_server does.
//
//   bench_floor [PORT]      (else env PORT, else 3000; env HOST, else 127.0.0.1)

// roomcast's UTF-8 check and frame header writer (pure functions of the protocol layer, no
// server in them): what bench_server does for every message, so that it costs both the same.
#include <roomcast/protocol/websocket.hpp>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/detail/sha1.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr std::size_t max_payload = 1'000'000;           // advertised in the open packet, enforced
constexpr std::size_t max_queued = 64 * 1024 * 1024;     // bench_server's transport.max_queue_bytes
constexpr std::size_t max_request = 8 * 1024;            // the HTTP upgrade request
constexpr auto ping_interval = std::chrono::seconds(25); // Engine.IO's default

[[noreturn]] void fail(char const* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

struct connection;
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};
using room_map =
    std::unordered_map<std::string, std::vector<connection*>, string_hash, std::equal_to<>>;
using room = room_map::value_type; // nodes do not move: a member keeps a pointer to its rooms

struct connection {
    int fd = -1;
    std::size_t index = 0;    // in floor_server::all_
    std::string in;           // received and not handled yet: an unfinished request or frame
    std::string out;          // frames gathered for this turn's send, or what the socket refused
    std::string fragments;    // a fragmented message so far
    bool fragmented = false;  // a text message is open: continuations follow
    std::vector<room*> rooms; // the rooms this connection is in
    std::string sid;          // the Socket.IO session id ("40{sid}")
    bool upgraded = false;    // the WebSocket handshake is done
    bool connected = false;   // to the main namespace
    bool dirty = false;       // in floor_server::dirty_
    bool blocked = false;     // the socket refused bytes: waiting for EPOLLOUT
    bool close_after_flush = false;
    bool ponged = true; // answered the last ping
};

/// The end of the JSON value starting at or after `i` (leading spaces skipped), or npos when
/// the text ends first. Values are trusted to be well formed: the floor only needs their ends.
std::size_t skip_value(std::string_view t, std::size_t i) {
    auto const space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (i < t.size() && space(t[i]))
        ++i;
    if (i >= t.size())
        return std::string_view::npos;
    int depth = 0;
    bool string = false;
    for (; i < t.size(); ++i) {
        char const c = t[i];
        if (string) {
            if (c == '\\')
                ++i;
            else if (c == '"') {
                string = false;
                if (depth == 0)
                    return i + 1;
            }
        } else if (c == '"') {
            string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) // the end of a scalar that closes its container
                return i;
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || space(c))) {
            return i; // the end of a scalar
        }
    }
    return depth == 0 && !string ? i : std::string_view::npos;
}

/// Whether `v` is a JSON string; if so, `out` is the text inside its quotes (escapes left as
/// they are: a room's name is only compared).
bool string_contents(std::string_view v, std::string_view& out) {
    if (v.size() < 2 || v.front() != '"' || v.back() != '"')
        return false;
    out = v.substr(1, v.size() - 2);
    return true;
}

/// The value of the string member "room" of the JSON object `v`, if it has one.
bool room_of(std::string_view v, std::string_view& out) {
    if (v.empty() || v.front() != '{')
        return false;
    std::size_t i = 1;
    while (i < v.size()) {
        auto const key_end = skip_value(v, i);
        if (key_end == std::string_view::npos)
            return false;
        auto const key_start = v.find('"', i);
        if (key_start >= key_end) // "}": the object ended without the key
            return false;
        auto const key = v.substr(key_start, key_end - key_start);
        auto const colon = v.find(':', key_end);
        if (colon == std::string_view::npos)
            return false;
        auto value_start = colon + 1;
        while (value_start < v.size() && v[value_start] == ' ')
            ++value_start;
        auto const value_end = skip_value(v, value_start);
        if (value_end == std::string_view::npos)
            return false;
        if (key == "\"room\"")
            return string_contents(v.substr(value_start, value_end - value_start), out);
        i = v.find_first_of(",}", value_end);
        if (i == std::string_view::npos || v[i] == '}')
            return false;
        ++i;
    }
    return false;
}

namespace websocket = roomcast::protocol::websocket;

/// Appends one final, unmasked server frame (RFC 6455 section 5.2) whose payload is `parts`
/// one after another.
void append_frame(std::string& out, websocket::opcode op,
                  std::initializer_list<std::string_view> parts) {
    std::size_t n = 0;
    for (auto part : parts)
        n += part.size();
    websocket::append_header(out, op, n);
    for (auto part : parts)
        out += part;
}

void append_text(std::string& out, std::initializer_list<std::string_view> parts) {
    append_frame(out, websocket::opcode::text, parts);
}

/// The value of HTTP header `name` (compared without case) in `request`, or empty.
std::string_view header(std::string_view request, std::string_view name) {
    for (std::size_t at = request.find("\r\n"); at != std::string_view::npos;) {
        auto const line_start = at + 2;
        auto const line_end = request.find("\r\n", line_start);
        if (line_end == std::string_view::npos)
            break;
        auto const line = request.substr(line_start, line_end - line_start);
        if (line.size() > name.size() && line[name.size()] == ':' &&
            std::equal(name.begin(), name.end(), line.begin(),
                       [](char a, char b) { return (a | 0x20) == (b | 0x20); })) {
            auto value = line.substr(name.size() + 1);
            while (!value.empty() && value.front() == ' ')
                value.remove_prefix(1);
            while (!value.empty() && value.back() == ' ')
                value.remove_suffix(1);
            return value;
        }
        at = line_end;
    }
    return {};
}

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2).
std::string accept_key(std::string_view key) {
    namespace detail = boost::beast::detail;
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    detail::sha1_context ctx;
    detail::init(ctx);
    detail::update(ctx, key.data(), key.size());
    detail::update(ctx, guid.data(), guid.size());
    std::array<unsigned char, detail::sha1_context::digest_size> digest;
    detail::finish(ctx, digest.data());
    std::string out(detail::base64::encoded_size(digest.size()), '\0');
    out.resize(detail::base64::encode(out.data(), digest.data(), digest.size()));
    return out;
}

class floor_server {
public:
    floor_server(char const* host, std::uint16_t port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (listener_ < 0)
            fail("socket");
        int const one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        if (::inet_pton(AF_INET, host, &addr.sin_addr) != 1)
            throw std::invalid_argument(std::string("not an IPv4 address: ") + host);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
            fail("bind");
        if (::listen(listener_, SOMAXCONN) < 0)
            fail("listen");
        socklen_t len = sizeof addr;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll_ < 0)
            fail("epoll_create1");
        // SIGINT and SIGTERM end run() through the poller, so that the process exits with 0.
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        if (::sigprocmask(SIG_BLOCK, &stop, nullptr) < 0)
            fail("sigprocmask");
        signals_ = ::signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
        if (signals_ < 0)
            fail("signalfd");
        for (auto [fd, token] :
             {std::pair{listener_, &listener_token_}, {signals_, &signal_token_}}) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.ptr = token;
            if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) < 0)
                fail("epoll_ctl");
        }
        sid_source_.seed(std::random_device{}());
        read_buffer_ = std::make_unique<char[]>(read_buffer_size);
    }

    floor_server(floor_server const&) = delete;
    floor_server& operator=(floor_server const&) = delete;

    ~floor_server() {
        for (auto* c : all_) {
            ::close(c->fd);
            delete c;
        }
        for (auto* c : closed_)
            delete c;
        ::close(signals_);
        ::close(epoll_);
        ::close(listener_);
    }

    std::uint16_t port() const { return port_; }

    /// Serves until SIGINT or SIGTERM.
    void run() {
        std::array<epoll_event, 512> events;
        auto next_ping = std::chrono::steady_clock::now() + ping_interval;
        for (;;) {
            auto const wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                next_ping - std::chrono::steady_clock::now());
            int const n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                                       static_cast<int>(std::max<long>(wait.count(), 0)));
            if (n < 0 && errno != EINTR)
                fail("epoll_wait");
            for (int i = 0; i < n; ++i) {
                void* const token = events[i].data.ptr;
                if (token == &signal_token_)
                    return;
                if (token == &listener_token_) {
                    accept_all();
                    continue;
                }
                auto* c = static_cast<connection*>(token);
                if (events[i].events & EPOLLOUT)
                    unblock(*c);
                if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    read(*c);
            }
            flush_all();
            if (std::chrono::steady_clock::now() >= next_ping) {
                heartbeat();
                flush_all();
                next_ping = std::chrono::steady_clock::now() + ping_interval;
            }
            for (auto* c : closed_)
                delete c;
            closed_.clear();
        }
    }

private:
    static constexpr std::size_t read_buffer_size = 64 * 1024;
    static inline char listener_token_, signal_token_; // epoll data of the two non-connections

    void accept_all() {
        for (;;) {
            int const fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0)
                return; // EAGAIN, or a connection that failed before it was taken
            int const one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            auto* c = new connection;
            c->fd = fd;
            c->index = all_.size();
            all_.push_back(c);
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.ptr = c;
            if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) < 0)
                close(*c);
        }
    }

    /// One recv, then every whole request or frame in what has arrived.
    void read(connection& c) {
        if (c.fd < 0)
            return;
        auto const n = ::recv(c.fd, read_buffer_.get(), read_buffer_size, 0);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            return close(c);
        }
        // Most reads hold whole frames: handle them where they landed; keep only a remainder.
        char* data = read_buffer_.get();
        std::size_t size = static_cast<std::size_t>(n);
        bool const held = !c.in.empty();
        if (held) {
            c.in.append(data, size);
            data = c.in.data();
            size = c.in.size();
        }
        std::size_t used = 0;
        while (c.fd >= 0 && !c.close_after_flush && used < size) {
            auto const step = c.upgraded
                                  ? take_frame(c, data + used, size - used)
                                  : take_request(c, std::string_view(data + used, size - used));
            if (step == 0)
                break;
            used += step;
        }
        if (c.fd < 0)
            return;
        if (held)
            c.in.erase(0, used);
        else
            c.in.assign(data + used, size - used);
        if (c.in.size() > (c.upgraded ? max_payload + websocket::max_header_size : max_request))
            close(c);
    }

    /// The HTTP upgrade request (RFC 6455 section 4.2), once all of it is in; 0 until then.
    std::size_t take_request(connection& c, std::string_view data) {
        auto const end = data.find("\r\n\r\n");
        if (end == std::string_view::npos)
            return 0;
        auto const request = data.substr(0, end + 2);
        auto const key = header(request, "Sec-WebSocket-Key");
        auto const upgrade = header(request, "Upgrade");
        bool const websocket =
            upgrade.size() == 9 && std::equal(upgrade.begin(), upgrade.end(), "websocket",
                                              [](char a, char b) { return (a | 0x20) == b; });
        if (!request.starts_with("GET /socket.io/") || !websocket || key.empty() ||
            header(request, "Sec-WebSocket-Version") != "13") {
            c.out += "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
            c.close_after_flush = true;
            mark_dirty(c);
            return end + 4;
        }
        c.out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
        c.out += accept_key(key);
        c.out += "\r\n\r\n";
        c.upgraded = true;
        auto const sid = new_sid();
        append_text(c.out, {R"(0{"sid":")", sid,
                            R"(","upgrades":[],"pingInterval":25000,"pingTimeout":20000,)"
                            R"("maxPayload":1000000})"});
        mark_dirty(c);
        return end + 4;
    }

    /// One WebSocket frame (RFC 6455 section 5.2), unmasked in place; 0 until all of it is in.
    std::size_t take_frame(connection& c, char* p, std::size_t size) {
        if (size < 2)
            return 0;
        auto const b0 = static_cast<unsigned char>(p[0]), b1 = static_cast<unsigned char>(p[1]);
        std::size_t header_size = 2, length = b1 & 0x7f;
        if (length == 126) {
            if (size < 4)
                return 0;
            length = (std::size_t(static_cast<unsigned char>(p[2])) << 8) |
                     static_cast<unsigned char>(p[3]);
            header_size = 4;
        } else if (length == 127) {
            if (size < 10)
                return 0;
            length = 0;
            for (int i = 2; i < 10; ++i)
                length = (length << 8) | static_cast<unsigned char>(p[i]);
            header_size = 10;
        }
        // Section 5.1: clients mask every frame; 5.2: no extension, so no RSV bit; 5.5: control
        // frames are final and at most 125 bytes.
        bool const control = (b0 & 0x08) != 0;
        if (!(b1 & 0x80) || (b0 & 0x70) || length > max_payload ||
            (control && (!(b0 & 0x80) || length > 125))) {
            close(c);
            return 0;
        }
        header_size += 4;
        if (size < header_size || size - header_size < length)
            return 0;
        char const* mask = p + header_size - 4;
        char* payload = p + header_size;
        for (std::size_t i = 0; i < length; ++i)
            payload[i] ^= mask[i & 3];
        on_frame(c, (b0 & 0x80) != 0, b0 & 0x0f, std::string_view(payload, length));
        return header_size + length;
    }

    void on_frame(connection& c, bool fin, unsigned opcode, std::string_view payload) {
        switch (opcode) {
        case 0x0: // continuation
            if (!c.fragmented || c.fragments.size() + payload.size() > max_payload)
                return close(c);
            c.fragments += payload;
            if (fin) {
                c.fragmented = false;
                on_text(c, std::exchange(c.fragments, {}));
            }
            return;
        case 0x1: // text
            if (c.fragmented)
                return close(c);
            if (fin)
                return on_text(c, payload);
            c.fragmented = true;
            c.fragments.assign(payload);
            return;
        case 0x8: // close (section 5.5.1): answered with its status, if it has one, then closed
            leave_all(c); // nothing more is sent after the close frame
            append_frame(c.out, websocket::opcode::close,
                         {payload.size() >= 2 ? payload.substr(0, 2) : ""});
            c.close_after_flush = true;
            return mark_dirty(c);
        case 0x9: // ping
            append_frame(c.out, websocket::opcode::pong, {payload});
            return mark_dirty(c);
        case 0xA: // pong
            return;
        default: // binary and reserved opcodes: not in the contract
            return close(c);
        }
    }

    /// A whole text message: UTF-8 (section 8.1, as any WebSocket server checks), then handled.
    void on_text(connection& c, std::string_view m) {
        if (!websocket::valid_utf8(m))
            return close(c);
        on_message(c, m);
    }

    /// One Engine.IO packet, and the Socket.IO packet in it.
    void on_message(connection& c, std::string_view m) {
        if (m.empty())
            return close(c);
        switch (m[0]) {
        case '3': // pong
            c.ponged = true;
            return;
        case '4':
            break;
        case '1': // close
            return close(c);
        default: // ping from a client, noop, upgrade: nothing to do here
            return;
        }
        if (m.size() < 2)
            return close(c);
        auto const body = m.substr(2);
        switch (m[1]) {
        case '0': // CONNECT: the main namespace only
            if (!body.empty() && body.front() == '/') {
                append_text(c.out, {"44", body.substr(0, body.find(',')),
                                    R"(,{"message":"Invalid namespace"})"});
                return mark_dirty(c);
            }
            c.connected = true;
            c.sid = new_sid();
            append_text(c.out, {R"(40{"sid":")", c.sid, R"("})"});
            return mark_dirty(c);
        case '1': // DISCONNECT
            c.connected = false;
            return leave_all(c);
        case '2': // EVENT
            if (c.connected)
                on_event(c, body);
            return;
        default:
            return;
        }
    }

    /// `<id>["name",arg,...]`: the contract's events take one argument.
    void on_event(connection& c, std::string_view body) {
        std::size_t i = 0;
        while (i < body.size() && body[i] >= '0' && body[i] <= '9')
            ++i;
        auto const id = body.substr(0, i);
        if (i + 2 > body.size() || body[i] != '[' || body[i + 1] != '"')
            return;
        auto const name_end = body.find('"', i + 2);
        if (name_end == std::string_view::npos)
            return;
        auto const name = body.substr(i + 2, name_end - i - 2);
        std::string_view arg = "null";
        if (name_end + 1 < body.size() && body[name_end + 1] == ',') {
            auto const end = skip_value(body, name_end + 2);
            if (end == std::string_view::npos)
                return;
            arg = body.substr(name_end + 2, end - name_end - 2);
        }
        if (name == "echo")
            return ack(c, id, arg);
        std::string_view room_name;
        if (name == "join") {
            bool const ok = string_contents(arg, room_name);
            if (ok)
                join(c, room_name);
            return ack(c, id, ok ? "true" : "false");
        }
        if (name == "leave") {
            bool const ok = string_contents(arg, room_name);
            if (ok)
                leave(c, room_name);
            return ack(c, id, ok ? "true" : "false");
        }
        if (name == "publish") {
            bool const ok = room_of(arg, room_name);
            if (ok)
                publish(room_name, arg);
            return ack(c, id, ok ? "true" : "false");
        }
    }

    void ack(connection& c, std::string_view id, std::string_view value) {
        if (id.empty())
            return; // the client asked for no answer
        append_text(c.out, {"43", id, "[", value, "]"});
        mark_dirty(c);
    }

    void join(connection& c, std::string_view name) {
        auto it = rooms_.find(name);
        if (it == rooms_.end())
            it = rooms_.emplace(std::string(name), std::vector<connection*>{}).first;
        room* r = &*it;
        if (std::find(c.rooms.begin(), c.rooms.end(), r) != c.rooms.end())
            return;
        r->second.push_back(&c);
        c.rooms.push_back(r);
    }

    void leave(connection& c, std::string_view name) {
        auto const it = rooms_.find(name);
        if (it == rooms_.end())
            return;
        auto const mine = std::find(c.rooms.begin(), c.rooms.end(), &*it);
        if (mine == c.rooms.end())
            return;
        c.rooms.erase(mine);
        remove_member(*it, c);
    }

    void leave_all(connection& c) {
        for (auto* r : std::exchange(c.rooms, {}))
            remove_member(*r, c);
    }

    void remove_member(room& r, connection& c) {
        auto& members = r.second;
        // Publish order is per member, so the order of members does not matter.
        auto const at = std::find(members.begin(), members.end(), &c);
        *at = members.back();
        members.pop_back();
        if (members.empty())
            rooms_.erase(rooms_.find(r.first)); // not erase(r.first): the key would go first
    }

    /// 42["message",arg] to every member, sender included: framed once, copied to each.
    void publish(std::string_view name, std::string_view arg) {
        auto const it = rooms_.find(name);
        if (it == rooms_.end())
            return;
        frame_.clear();
        append_text(frame_, {R"(42["message",)", arg, "]"});
        for (auto* member : it->second) {
            member->out += frame_;
            mark_dirty(*member);
        }
    }

    void mark_dirty(connection& c) {
        if (!c.dirty) {
            c.dirty = true;
            dirty_.push_back(&c);
        }
    }

    /// One send per connection that has frames: all of this turn's at once.
    void flush_all() {
        for (std::size_t i = 0; i < dirty_.size(); ++i) {
            auto& c = *dirty_[i];
            c.dirty = false;
            if (c.fd < 0)
                continue;
            if (!c.blocked)
                flush(c);
            else if (c.out.size() > max_queued)
                close(c); // it stopped reading
        }
        dirty_.clear();
    }

    void flush(connection& c) {
        while (!c.out.empty()) {
            auto const n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno != EAGAIN)
                    return close(c);
                if (c.out.size() > max_queued)
                    return close(c);
                c.blocked = true; // the rest waits for EPOLLOUT; new frames join it
                return watch(c, EPOLLIN | EPOLLOUT);
            }
            if (static_cast<std::size_t>(n) == c.out.size())
                c.out.clear(); // keeps its capacity for the next turn
            else
                c.out.erase(0, static_cast<std::size_t>(n));
        }
        if (c.close_after_flush)
            close(c);
        else if (c.out.capacity() > 64 * 1024)
            c.out.shrink_to_fit(); // an idle connection keeps no large buffer
    }

    void unblock(connection& c) {
        if (c.fd < 0 || !c.blocked)
            return;
        c.blocked = false;
        watch(c, EPOLLIN);
        flush(c);
    }

    void watch(connection& c, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.ptr = &c;
        ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    /// Engine.IO's heartbeat, checked once per interval: a connection that did not answer the
    /// last ping is closed, the others get the next one.
    void heartbeat() {
        for (std::size_t i = all_.size(); i-- > 0;) {
            auto& c = *all_[i];
            if (!c.upgraded || c.close_after_flush)
                continue;
            if (!c.ponged) {
                close(c);
                continue;
            }
            c.ponged = false;
            append_text(c.out, {"2"});
            mark_dirty(c);
        }
    }

    /// Leaves the rooms and closes the socket at once; the object goes at the end of the turn,
    /// since this turn's events and dirty list may still point at it.
    void close(connection& c) {
        if (c.fd < 0)
            return;
        leave_all(c);
        ::close(c.fd); // also removes it from the epoll set
        c.fd = -1;
        all_.back()->index = c.index;
        all_[c.index] = all_.back();
        all_.pop_back();
        closed_.push_back(&c);
    }

    std::string new_sid() {
        static constexpr char alphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        std::string sid(20, '\0');
        for (auto& ch : sid)
            ch = alphabet[sid_source_() & 63];
        return sid;
    }

    int listener_ = -1, epoll_ = -1, signals_ = -1;
    std::uint16_t port_ = 0;
    std::vector<connection*> all_;    // every open connection (owned)
    std::vector<connection*> dirty_;  // connections with frames for this turn's send
    std::vector<connection*> closed_; // closed this turn, deleted at its end
    room_map rooms_;
    std::string frame_; // a broadcast's frame, built once per publish
    std::unique_ptr<char[]> read_buffer_;
    std::mt19937_64 sid_source_;
};

bool parse_port(char const* text, unsigned long& out) {
    char* end = nullptr;
    auto const n = std::strtoul(text, &end, 10);
    if (end == text || *end != '\0' || n > 65535)
        return false;
    out = n;
    return true;
}

} // namespace

int main(int argc, char** argv) try {
    unsigned long port = 3000;
    if (char const* env = std::getenv("PORT"); env && *env && !parse_port(env, port))
        return std::cerr << "bench_floor: bad PORT\n", 2;
    if (argc > 2 || (argc == 2 && !parse_port(argv[1], port)))
        return std::cerr << "usage: " << argv[0] << " [PORT]\n", 2;
    char const* host = std::getenv("HOST");
    floor_server server(host && *host ? host : "127.0.0.1", static_cast<std::uint16_t>(port));
    std::cout << "bench_floor listening on " << server.port() << std::endl;
    server.run();
} catch (std::exception const& e) {
    std::cerr << "bench_floor: " << e.what() << '\n';
    return 1;
}
