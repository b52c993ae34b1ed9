// roomcast feature server: exposes the Socket.IO server features to the real-client tests
// features.test.mjs (socket.io-client) and test_features.py (python-socketio).
//
//   features_server [--port 3000] [--threads 1] [--tls-cert cert.pem --tls-key key.pem]
//                   [--limits]
//
// Prints `features listening on port P` once it accepts connections. Listens on 127.0.0.1;
// with a certificate and key, over TLS (https:// and wss://). With --limits, tight limits
// for limits.test.mjs: client_rate 20/s (burst 20), max_event_name_bytes 64,
// max_connections 3, and allow_request refusing the Origin https://evil.example.
//
// Events ("name(arguments) -> acknowledgement"; `ack` is only sent when the client asks):
//
// Namespace "/" (the error hook emits `error` {message} to the socket):
//   thread()                        -> index of the I/O thread (shard) serving the socket
//   whoami()                        -> {nsp: "/", id}
//   join(room) / leave(room)        -> the socket's rooms afterwards (its id first)
//   bcast({nsp?, room, event, data})-> true; `event` with `data` to `room` of namespace `nsp`
//                                      ("/" or "/admin"; by default the socket's own)
//   volatileTo({room, data})        -> true; volatile `vol` data to `room`
//   echo(value)                     -> value
//   secure()                        -> whether the connection's handshake came over TLS
//   pair(string a, int b)           -> [b, a] (an ack with two arguments)
//   askMe({question, timeoutMs})    -> server emits `ask`(question) with that timeout and
//                                      then emits `result` {reply: [...]} when answered, or
//                                      {error: message, code: "timeout"|"disconnected"|...}
//   binSingle(binary)               -> its size; emits `bin`("single", reversed bytes)
//   binObject({name, data: binary, parts: [binary...]})
//                                   -> {name, size, partSizes}; emits `bin`("object",
//                                      {name, data: reversed, parts: each reversed})
//   binArray([binary...])           -> [sizes]; emits `bin`("array", [each reversed])
//   binAck(string)                  -> the string's bytes as a binary attachment
//   slowDouble(int x)               -> 2x, from a coroutine that waits 50 ms first
//   setData(value)                  -> true; sets the socket's data()
//   fetch(room)                     -> [{id, rooms, data}] of io.in(room).fetch_sockets(),
//                                      sorted by id
//   remote({room, action, target?, event?, data?})
//                                   -> number of sockets acted on: fetch_sockets(room), then
//                                      on each remote_socket emit(event, data) / join(target)
//                                      / leave(target) / disconnect()
//   socketsJoin({room, target})     -> true; io.in(room).sockets_join(target)
//   socketsLeave({room, target})    -> true; io.in(room).sockets_leave(target)
//   disconnectSockets(room)         -> true; io.in(room).disconnect_sockets()
//   count({nsp?, room})             -> io.of(nsp).in(room).socket_count()
//   allRooms(prefix)                -> [{name, size}] of io.of("/").all_rooms() whose name
//                                      starts with prefix
//   startPoll({room, question, timeoutMs})
//                                   -> {responses: [...], error: null | message} of
//                                      io.to(room).timeout(t).emit_with_ack("poll", question)
//
// Namespace "/admin" (own handlers and rooms):
//   whoami() -> {nsp: "/admin", id, admin: true}; join, leave, bcast as on "/".
//
// Namespace "/secure": connection middleware accepts auth {token: "let-me-in"} (and sets
//   data() to {user: "alice"}); anything else is refused with connect_error
//   {message: "not authorized", data: {code: 401}}.
//   whoami() -> {user, auth} (the data set by the middleware and the CONNECT auth).
//
// Namespace "/spy": on_any and on_any_outgoing record every event ([name, args...]) in the
//   socket's data() {in: [...], out: [...]}.
//   ping(x): emits `pong`(x); shoutMe(x): broadcasts `shouted`(x) to the socket's own room;
//   askBack(x): emit_with_ack `spyAsk`(x), then emits `spyAnswer`(first reply argument);
//   report() -> data() (acks are not events: they are in neither list).
//
// Namespace "/guarded": packet middleware (installed in on_connection) refuses events named
//   `forbidden` with "forbidden event" (the error hook emits `error` {message, event}) and
//   rewrites the arguments of `rewrite` to ["rewritten by middleware"]; others pass.
//   forbidden(...): emits `ranForbidden` (must never run); rewrite(string) -> it;
//   allowed(x) -> x.
//
// Dynamic namespaces /dyn-<digits> (io.of(regex)); on connection each socket gets
//   `welcome` {nsp}. join(room) -> rooms; dynBcast({room, data}) -> true, emits `dynMsg`
//   {nsp, data} to `room` of the socket's own namespace; dynBcastAll({room, data}) -> true,
//   emits `dynMsg` {nsp: "*", data} through the parent, to `room` of every child.

#include <roomcast/roomcast.hpp>
#include <roomcast/tls.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

struct room_emit {
    std::optional<std::string> nsp;
    std::string room;
    std::string event;
    boost::json::value data;
};
BOOST_DESCRIBE_STRUCT(room_emit, (), (nsp, room, event, data))

struct room_data {
    std::string room;
    boost::json::value data;
};
BOOST_DESCRIBE_STRUCT(room_data, (), (room, data))

struct ask_request {
    boost::json::value question;
    std::int64_t timeoutMs;
};
BOOST_DESCRIBE_STRUCT(ask_request, (), (question, timeoutMs))

struct poll_request {
    std::string room;
    boost::json::value question;
    std::int64_t timeoutMs;
};
BOOST_DESCRIBE_STRUCT(poll_request, (), (room, question, timeoutMs))

struct upload {
    std::string name;
    roomcast::binary data;
    std::vector<roomcast::binary> parts;
};
BOOST_DESCRIBE_STRUCT(upload, (), (name, data, parts))

struct upload_summary {
    std::string name;
    std::size_t size;
    std::vector<std::size_t> partSizes;
};
BOOST_DESCRIBE_STRUCT(upload_summary, (), (name, size, partSizes))

struct remote_request {
    std::string room;
    std::string action;
    std::optional<std::string> target;
    std::optional<std::string> event;
    std::optional<boost::json::value> data;
};
BOOST_DESCRIBE_STRUCT(remote_request, (), (room, action, target, event, data))

struct room_target {
    std::string room;
    std::string target;
};
BOOST_DESCRIBE_STRUCT(room_target, (), (room, target))

struct count_request {
    std::optional<std::string> nsp;
    std::string room;
};
BOOST_DESCRIBE_STRUCT(count_request, (), (nsp, room))

/// Numbers the I/O threads in the order they first serve a socket. Shared by every shard:
/// guarded by its mutex.
class thread_numbers {
public:
    int operator()() {
        std::lock_guard lock(mutex_);
        return ids_.try_emplace(std::this_thread::get_id(), static_cast<int>(ids_.size()))
            .first->second;
    }

private:
    std::mutex mutex_;
    std::map<std::thread::id, int> ids_;
};

static roomcast::binary reversed(roomcast::binary b) {
    std::reverse(b.bytes.begin(), b.bytes.end());
    return b;
}

static boost::json::object error_object(boost::system::error_code ec) {
    return {{"error", ec.message()}};
}

static int usage(char const* self) {
    std::cerr << "usage: " << self
              << " [--port N] [--threads N] [--tls-cert FILE --tls-key FILE] [--limits]\n";
    return 2;
}

int main(int argc, char** argv) {
    unsigned long port = 3000, threads = 1;
    std::string tls_cert, tls_key;
    bool limits = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view const arg = argv[i];
        if (arg == "--limits") {
            limits = true;
        } else if ((arg == "--tls-cert" || arg == "--tls-key") && i + 1 < argc) {
            (arg == "--tls-cert" ? tls_cert : tls_key) = argv[++i];
        } else if ((arg == "--port" || arg == "--threads") && i + 1 < argc) {
            char* end = nullptr;
            auto const n = std::strtoul(argv[++i], &end, 10);
            if (*end != '\0' || (arg == "--port" && n > 65535) || (arg == "--threads" && n < 1))
                return usage(argv[0]);
            (arg == "--port" ? port : threads) = n;
        } else {
            return usage(argv[0]);
        }
    }

    if (tls_cert.empty() != tls_key.empty())
        return usage(argv[0]);
    roomcast::options opt{
        .address = "127.0.0.1",
        .port = static_cast<std::uint16_t>(port),
        .transport = {.tls = tls_cert.empty() ? nullptr : roomcast::tls(tls_cert, tls_key)}};
    if (limits) {
        opt.client_rate = {.per_second = 20, .burst = 20};
        opt.max_event_name_bytes = 64;
        opt.transport.max_connections = 3;
        opt.transport.allow_request = [](roomcast::transport::request_info const& r) {
            return r.header("origin") != "https://evil.example";
        };
    }
    roomcast::server<> io(std::move(opt));
    thread_numbers thread_number;

    auto& main_nsp = io.of("/");
    auto& admin = io.of("/admin");
    // Read-only once the server runs: the namespaces `bcast` and `count` may name.
    std::map<std::string, roomcast::name_space*, std::less<>> const named{{"/", &main_nsp},
                                                                          {"/admin", &admin}};
    auto const lookup = [&named](std::optional<std::string> const& name) -> roomcast::name_space& {
        auto it = named.find(name.value_or("/"));
        if (it == named.end())
            throw std::invalid_argument("unknown namespace " + *name);
        return *it->second;
    };

    // --- handlers shared by "/" and "/admin" ------------------------------------------------
    for (auto* n : {&main_nsp, &admin}) {
        n->on("join", [](roomcast::socket& s, std::string room) {
            s.join(room);
            return s.rooms();
        });
        n->on("leave", [](roomcast::socket& s, std::string room) {
            s.leave(room);
            return s.rooms();
        });
        n->on("bcast", [&lookup](roomcast::socket& s, room_emit const& r) {
            (r.nsp ? lookup(r.nsp) : s.nsp()).to(r.room).emit(r.event, r.data);
            return true;
        });
        n->on_error([](roomcast::socket& s, roomcast::handler_error const& e) {
            s.emit("error", {{"message", e.message}});
        });
    }
    main_nsp.on("whoami", [](roomcast::socket& s) {
        return boost::json::value{{"nsp", "/"}, {"id", s.id()}};
    });
    admin.on("whoami", [](roomcast::socket& s) {
        return boost::json::value{{"nsp", "/admin"}, {"id", s.id()}, {"admin", true}};
    });

    // --- "/": acks, binary, volatile, coroutines --------------------------------------------
    io.on("thread", [&thread_number](roomcast::socket&) { return thread_number(); });
    io.on("echo", [](roomcast::socket&, boost::json::value v) { return v; });
    io.on("secure", [](roomcast::socket& s) { return s.handshake().secure; });
    io.on("pair",
          [](roomcast::socket&, std::string a, int b, roomcast::ack reply) { reply(b, a); });
    io.on("volatileTo", [&io](roomcast::socket&, room_data const& r) {
        io.to(r.room).volatile_().emit("vol", r.data);
        return true;
    });
    io.on("askMe", [](roomcast::socket& s, ask_request const& r) {
        s.timeout(std::chrono::milliseconds(r.timeoutMs))
            .emit_with_ack(
                "ask", r.question,
                [w = s.weak_from_this()](boost::system::error_code ec, boost::json::array reply) {
                    auto s = w.lock();
                    if (!s)
                        return;
                    boost::json::object result;
                    if (!ec) {
                        result["reply"] = std::move(reply);
                    } else {
                        result["error"] = ec.message();
                        result["code"] = ec == roomcast::error::timeout        ? "timeout"
                                         : ec == roomcast::error::disconnected ? "disconnected"
                                                                               : "other";
                    }
                    s->emit("result", result);
                });
    });
    io.on("binSingle", [](roomcast::socket& s, roomcast::binary b) {
        s.emit("bin", std::string("single"), reversed(b));
        return b.size();
    });
    io.on("binObject", [](roomcast::socket& s, upload const& u) {
        upload back{u.name, reversed(u.data), {}};
        upload_summary summary{u.name, u.data.size(), {}};
        for (auto const& p : u.parts) {
            back.parts.push_back(reversed(p));
            summary.partSizes.push_back(p.size());
        }
        s.emit("bin", std::string("object"), back);
        return summary;
    });
    io.on("binArray", [](roomcast::socket& s, std::vector<roomcast::binary> const& v) {
        std::vector<roomcast::binary> back;
        std::vector<std::size_t> sizes;
        for (auto const& b : v) {
            back.push_back(reversed(b));
            sizes.push_back(b.size());
        }
        s.emit("bin", std::string("array"), back);
        return sizes;
    });
    io.on("binAck", [](roomcast::socket&, std::string text) { return roomcast::binary(text); });
    io.on("slowDouble", [](roomcast::socket&, int x) -> boost::asio::awaitable<int> {
        boost::asio::steady_timer t(co_await boost::asio::this_coro::executor,
                                    std::chrono::milliseconds(50));
        co_await t.async_wait(boost::asio::use_awaitable);
        co_return 2 * x;
    });

    // --- "/": server-side utilities -----------------------------------------------------------
    io.on("setData", [](roomcast::socket& s, boost::json::value v) {
        s.data() = std::move(v);
        return true;
    });
    io.on("fetch", [&io](roomcast::socket&, std::string room, roomcast::ack reply) {
        io.in(room).fetch_sockets([reply](boost::system::error_code ec,
                                          std::vector<roomcast::remote_socket> found) mutable {
            if (ec)
                return reply(error_object(ec));
            std::sort(found.begin(), found.end(),
                      [](auto const& a, auto const& b) { return a.id() < b.id(); });
            boost::json::array out;
            for (auto const& r : found)
                out.push_back(boost::json::object{
                    {"id", r.id()}, {"rooms", roomcast::to_json(r.rooms())}, {"data", r.data()}});
            reply(out);
        });
    });
    io.on("remote", [&io](roomcast::socket&, remote_request r, roomcast::ack reply) {
        if (r.action != "emit" && r.action != "join" && r.action != "leave" &&
            r.action != "disconnect")
            throw std::invalid_argument("unknown action " + r.action);
        if ((r.action == "join" || r.action == "leave") && !r.target)
            throw std::invalid_argument(r.action + " needs a target");
        if (r.action == "emit" && !r.event)
            throw std::invalid_argument("emit needs an event");
        io.in(r.room).fetch_sockets([r, reply](boost::system::error_code ec,
                                               std::vector<roomcast::remote_socket> found) mutable {
            if (ec)
                return reply(error_object(ec));
            for (auto const& s : found) {
                if (r.action == "emit")
                    s.emit(*r.event, r.data.value_or(nullptr));
                else if (r.action == "join")
                    s.join(*r.target);
                else if (r.action == "leave")
                    s.leave(*r.target);
                else
                    s.disconnect();
            }
            reply(found.size());
        });
    });
    io.on("socketsJoin", [&io](roomcast::socket&, room_target const& r) {
        io.in(r.room).sockets_join(r.target);
        return true;
    });
    io.on("socketsLeave", [&io](roomcast::socket&, room_target const& r) {
        io.in(r.room).sockets_leave(r.target);
        return true;
    });
    io.on("disconnectSockets", [&io](roomcast::socket&, std::string room) {
        io.in(room).disconnect_sockets();
        return true;
    });
    io.on("count", [&lookup](roomcast::socket&, count_request const& r, roomcast::ack reply) {
        lookup(r.nsp).in(r.room).socket_count(
            [reply](boost::system::error_code ec, std::size_t n) mutable {
                if (ec)
                    return reply(error_object(ec));
                reply(n);
            });
    });
    io.on("allRooms", [&main_nsp](roomcast::socket&, std::string prefix, roomcast::ack reply) {
        main_nsp.all_rooms([prefix, reply](boost::system::error_code ec,
                                           std::vector<roomcast::room_info> rooms) mutable {
            if (ec)
                return reply(error_object(ec));
            boost::json::array out;
            for (auto const& r : rooms)
                if (r.name.starts_with(prefix))
                    out.push_back(boost::json::object{{"name", r.name}, {"size", r.size}});
            reply(out);
        });
    });
    io.on("startPoll", [&io](roomcast::socket&, poll_request const& r, roomcast::ack reply) {
        io.to(r.room)
            .timeout(std::chrono::milliseconds(r.timeoutMs))
            .emit_with_ack(
                "poll", r.question,
                [reply](boost::system::error_code ec, boost::json::array responses) mutable {
                    boost::json::object out;
                    out["responses"] = std::move(responses);
                    out["error"] = ec ? boost::json::value(ec.message()) : nullptr;
                    reply(out);
                });
    });

    // --- "/secure": connection middleware -----------------------------------------------------
    auto& secure = io.of("/secure");
    secure.use([](roomcast::socket& s, roomcast::next n) {
        auto const* token = s.handshake().auth.if_contains("token");
        if (!token || !token->is_string() || token->get_string() != "let-me-in")
            return n(roomcast::connect_error{"not authorized", {{"code", 401}}});
        s.data() = {{"user", "alice"}};
        n();
    });
    secure.on("whoami", [](roomcast::socket& s) {
        return boost::json::value{{"user", s.data().at("user")}, {"auth", s.handshake().auth}};
    });

    // --- "/spy": catch-alls ---------------------------------------------------------------
    auto& spy = io.of("/spy");
    auto const record = [](char const* list) {
        return [list](roomcast::socket& s, std::string_view event,
                      std::span<boost::json::value const> args) {
            boost::json::array entry;
            entry.emplace_back(event);
            entry.insert(entry.end(), args.begin(), args.end());
            s.data().as_object()[list].as_array().push_back(std::move(entry));
        };
    };
    spy.on_connection([](roomcast::socket& s) {
        s.data() = {{"in", boost::json::array()}, {"out", boost::json::array()}};
    });
    spy.on_any(record("in"));
    spy.on_any_outgoing(record("out"));
    spy.on("ping", [](roomcast::socket& s, boost::json::value x) { s.emit("pong", x); });
    spy.on("shoutMe", [&spy](roomcast::socket& s, boost::json::value x) {
        spy.to(s.id()).emit("shouted", x);
    });
    spy.on("askBack", [](roomcast::socket& s, boost::json::value x) {
        s.timeout(std::chrono::seconds(10))
            .emit_with_ack(
                "spyAsk", x,
                [w = s.weak_from_this()](boost::system::error_code ec, boost::json::array reply) {
                    if (auto s = w.lock()) {
                        if (ec)
                            s->emit("spyAnswer", ec.message());
                        else
                            s->emit("spyAnswer",
                                    reply.empty() ? boost::json::value() : reply.front());
                    }
                });
    });
    spy.on("report", [](roomcast::socket& s) { return s.data(); });

    // --- "/guarded": packet middleware ------------------------------------------------------
    auto& guarded = io.of("/guarded");
    guarded.on_connection([](roomcast::socket& s) {
        s.use([](roomcast::socket&, boost::json::array& packet, roomcast::next n) {
            auto const& name = packet.at(0);
            if (name.is_string() && name.get_string() == "forbidden")
                return n(roomcast::connect_error{"forbidden event"});
            if (name.is_string() && name.get_string() == "rewrite") {
                packet.resize(1);
                packet.emplace_back("rewritten by middleware");
            }
            n();
        });
    });
    guarded.on_error([](roomcast::socket& s, roomcast::handler_error const& e) {
        s.emit("error", {{"message", e.message}, {"event", e.event}});
    });
    guarded.on("forbidden", [](roomcast::socket& s) { s.emit("ranForbidden"); });
    guarded.on("rewrite", [](roomcast::socket&, std::string x) { return x; });
    guarded.on("allowed", [](roomcast::socket&, boost::json::value x) { return x; });

    // --- dynamic namespaces /dyn-<n> ------------------------------------------------------------
    auto& dyn = io.of(std::regex("^/dyn-\\d+$"));
    dyn.on_connection([](roomcast::socket& s) { s.emit("welcome", {{"nsp", s.nsp().name()}}); });
    dyn.on("join", [](roomcast::socket& s, std::string room) {
        s.join(room);
        return s.rooms();
    });
    dyn.on("dynBcast", [](roomcast::socket& s, room_data const& r) {
        s.nsp().to(r.room).emit("dynMsg",
                                boost::json::object{{"nsp", s.nsp().name()}, {"data", r.data}});
        return true;
    });
    dyn.on("dynBcastAll", [&dyn](roomcast::socket&, room_data const& r) {
        dyn.to(r.room).emit("dynMsg", boost::json::object{{"nsp", "*"}, {"data", r.data}});
        return true;
    });

    std::cout << "features listening on port " << io.port() << std::endl;
    io.run(threads);
}
