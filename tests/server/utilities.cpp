// Server-side utilities seen on the wire: fetch_sockets, socket_count, sockets_join/leave,
// disconnect_sockets, all_rooms and broadcasts with acknowledgements across two shards;
// dynamic namespaces; packet middleware; outgoing hooks; coroutine handlers and middleware.
#include "catch.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

#include <boost/json/parse.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

using namespace roomcast::test;
using namespace std::chrono_literals;

namespace {

/// "" for the main namespace, "/x," for another: what follows the packet type on the wire.
std::string nsp_prefix(std::string const& nsp) {
    return nsp == "/" ? std::string() : nsp + ",";
}

/// Joins `nsp` over an open session (with an auth payload, if given); returns the socket id.
std::string open_nsp(raw_client& c, std::string const& nsp = "/", std::string const& auth = "") {
    auto const prefix = "40" + nsp_prefix(nsp);
    c.write(prefix + auth);
    auto const answer = c.read_packet().value_or("");
    INFO("CONNECT answer: " << answer);
    REQUIRE(answer.substr(0, prefix.size() + 1) == prefix + "{");
    return std::string(
        boost::json::parse(answer.substr(prefix.size())).as_object().at("sid").as_string());
}

/// Opens an Engine.IO session and joins `nsp`; returns the socket id.
std::string connect_to(raw_client& c, std::uint16_t port, std::string const& nsp = "/",
                       std::string const& auth = "",
                       std::string const& target = "/socket.io/?EIO=4&transport=websocket") {
    REQUIRE(!c.connect(port, target));
    REQUIRE(c.read().value_or("").substr(0, 1) == "0");
    return open_nsp(c, nsp, auth);
}

/// The ack id of an EVENT packet `42[/nsp,]<id>[...]` ("" when it has none).
std::string ack_id_of(std::string const& packet) {
    std::size_t pos = 2;
    if (packet.size() > 2 && packet[2] == '/')
        pos = packet.find(',') + 1;
    return packet.substr(pos, packet.find('[', pos) - pos);
}

/// The packet without its ack id: `42[/nsp,]<id>[...]` -> `42[/nsp,][...]`.
std::string without_ack_id(std::string const& packet) {
    auto const id = ack_id_of(packet);
    auto const pos = packet.find('[') - id.size();
    return packet.substr(0, pos) + packet.substr(pos + id.size());
}

std::string json_text(boost::json::value const& v) {
    return roomcast::protocol::serialize(v);
}

/// Waits for a future, bounded; fails the test if it is not ready in time.
template<class T>
T wait_get(std::future<T>& f, std::chrono::milliseconds timeout = 5s) {
    REQUIRE(f.wait_for(timeout) == std::future_status::ready);
    return f.get();
}

/// What an asynchronous operation completed with, for completions that carry an error code
/// and a value (use_future would drop the value when there is an error).
template<class T>
class outcome {
public:
    auto handler() {
        return [st = st_](boost::system::error_code ec, T v) {
            st->p.set_value({ec, std::move(v)});
        };
    }
    /// The result, or nullopt after `timeout`.
    std::optional<std::pair<boost::system::error_code, T>> wait(std::chrono::milliseconds timeout) {
        if (f_.wait_for(timeout) != std::future_status::ready)
            return std::nullopt;
        return f_.get();
    }

private:
    struct state {
        std::promise<std::pair<boost::system::error_code, T>> p;
    };
    std::shared_ptr<state> st_ = std::make_shared<state>();
    std::future<std::pair<boost::system::error_code, T>> f_ = st_->p.get_future();
};

/// `co_await`s a timer on the coroutine's executor.
boost::asio::awaitable<void> pause(std::chrono::milliseconds d) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
}

std::multiset<std::string> as_multiset(std::vector<std::string> const& v) {
    return {v.begin(), v.end()};
}
std::multiset<std::string> as_multiset(boost::json::array const& a) {
    std::multiset<std::string> out;
    for (auto const& v : a)
        out.insert(json_text(v));
    return out;
}

/// Handlers most tests need: join and leave a room, acknowledged once done.
void room_handlers(roomcast::server<>& io) {
    io.on("join", [](roomcast::socket& s, std::string room) {
        s.join(room);
        return true;
    });
    io.on("leave", [](roomcast::socket& s, std::string room) {
        s.leave(room);
        return true;
    });
}

void join(raw_client& c, std::string const& room) {
    c.write(R"(421["join",")" + room + R"("])");
    REQUIRE(c.read_packet() == "431[true]");
}

} // namespace

// --- fetch_sockets -------------------------------------------------------------------------

TEST_CASE("fetch_sockets: snapshots from both shards; remote actions reach the sockets",
          "[utilities]") {
    std::mutex m;
    std::map<std::string, std::thread::id> shard_of; // socket id -> its shard's thread
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            room_handlers(io);
            io.use([](roomcast::socket& s, roomcast::next n) {
                if (auto const* name = s.handshake().auth.if_contains("name"))
                    s.data() = {{"name", *name}};
                n();
            });
            io.on_connection([&](roomcast::socket& s) {
                std::lock_guard lock(m);
                shard_of[s.id()] = std::this_thread::get_id();
            });
        },
        2);
    auto& io = srv.io();
    raw_client a, b;
    auto const ida = connect_to(a, srv.port(), "/", R"({"name":"a"})",
                                "/socket.io/?EIO=4&transport=websocket&who=first");
    auto const idb = connect_to(b, srv.port(), "/", R"({"name":"b"})");
    // on_connection runs just after the CONNECT answer is queued: wait for it.
    REQUIRE(eventually([&] {
        std::lock_guard lock(m);
        return shard_of.size() == 2;
    }));
    {
        std::lock_guard lock(m);
        CHECK(shard_of[ida] != shard_of[idb]); // the test is about two shards
    }
    join(a, "A");
    join(b, "B");
    join(b, "both");
    join(a, "both");

    auto f = io.all().fetch_sockets(boost::asio::use_future);
    auto all = wait_get(f);
    REQUIRE(all.size() == 2);
    std::sort(all.begin(), all.end(), [](auto const& x, auto const& y) {
        return json_text(x.data()) < json_text(y.data());
    });
    CHECK(all[0].id() == ida);
    CHECK(all[0].rooms() == std::vector<std::string>{ida, "A", "both"});
    CHECK(json_text(all[0].data()) == R"({"name":"a"})");
    CHECK(json_text(all[0].handshake().auth) == R"({"name":"a"})");
    CHECK(all[0].handshake().query_param("who") == "first");
    CHECK(all[1].id() == idb);
    CHECK(all[1].rooms() == std::vector<std::string>{idb, "B", "both"});
    CHECK(json_text(all[1].data()) == R"({"name":"b"})");

    // Selections: a room on the other shard, a room on both, except, several rooms.
    auto ids = [](std::vector<roomcast::remote_socket> const& v) {
        std::set<std::string> out;
        for (auto const& r : v)
            out.insert(r.id());
        return out;
    };
    auto fb = io.in("B").fetch_sockets(boost::asio::use_future);
    CHECK(ids(wait_get(fb)) == std::set<std::string>{idb});
    auto fboth = io.in("both").fetch_sockets(boost::asio::use_future);
    CHECK(ids(wait_get(fboth)) == std::set<std::string>{ida, idb});
    auto fexcept = io.except("A").fetch_sockets(boost::asio::use_future);
    CHECK(ids(wait_get(fexcept)) == std::set<std::string>{idb});
    auto fnone = io.to("nobody").fetch_sockets(boost::asio::use_future);
    CHECK(wait_get(fnone).empty());

    // Remote actions, from this (non-shard) thread: posted to each socket's shard, in order
    // with what this thread broadcasts afterwards.
    for (auto const& r : all) {
        r.emit("hello", r.data().at("name"));
        r.join("J");
    }
    CHECK(a.read_packet() == R"(42["hello","a"])");
    CHECK(b.read_packet() == R"(42["hello","b"])");
    io.to("J").emit("in-J", 1);
    CHECK(a.read_packet() == R"(42["in-J",1])");
    CHECK(b.read_packet() == R"(42["in-J",1])");
    all[0].leave("J");
    io.to("J").emit("in-J", 2);
    CHECK(b.read_packet() == R"(42["in-J",2])");
    all[1].disconnect();
    CHECK(b.read_packet() == "41");
    io.emit("end");
    CHECK(a.read_packet() == R"(42["end"])"); // a left J before "in-J" 2 was sent

    // The snapshot keeps what it saw; a new fetch sees b gone.
    auto fafter = io.all().fetch_sockets(boost::asio::use_future);
    CHECK(ids(wait_get(fafter)) == std::set<std::string>{ida});
    CHECK(all[1].rooms().size() == 3);
    // Actions on a socket that has gone do nothing.
    all[1].emit("ghost");
    all[1].join("ghost-room");
    auto fghost = io.in("ghost-room").fetch_sockets(boost::asio::use_future);
    CHECK(wait_get(fghost).empty());
    // disconnect(true) closes the whole connection.
    all[0].disconnect(true);
    CHECK(a.read_packet() == "41");
    CHECK_FALSE(a.read_packet(3s));
}

TEST_CASE("fetch_sockets from a handler, answering the client's ack", "[utilities]") {
    test_server srv(
        {},
        [](roomcast::server<>& io) {
            room_handlers(io);
            io.on("who", [&io](roomcast::socket&, std::string room, roomcast::ack a) {
                io.in(room).fetch_sockets([a](boost::system::error_code ec,
                                              std::vector<roomcast::remote_socket> found) mutable {
                    std::vector<std::string> ids;
                    for (auto const& r : found)
                        ids.push_back(r.id());
                    std::sort(ids.begin(), ids.end());
                    a(ec.failed(), ids);
                });
            });
        },
        2);
    raw_client a, b, c;
    auto const ida = connect_to(a, srv.port());
    auto const idb = connect_to(b, srv.port());
    connect_to(c, srv.port());
    join(a, "R");
    join(b, "R");
    auto const sorted =
        ida < idb ? std::vector<std::string>{ida, idb} : std::vector<std::string>{idb, ida};
    c.write(R"(427["who","R"])");
    CHECK(c.read_packet() == R"(437[false,[")" + sorted[0] + R"(",")" + sorted[1] + R"("]])");
    b.write(R"(428["who","nobody"])");
    CHECK(b.read_packet() == R"(438[false,[]])");
}

// --- socket_count ---------------------------------------------------------------------------

TEST_CASE("socket_count: all, a room on both shards, except, several rooms", "[utilities]") {
    test_server srv(
        {},
        [](roomcast::server<>& io) {
            room_handlers(io);
            io.of("/empty");
            io.on("count", [&io](roomcast::socket&, std::string room, roomcast::ack a) {
                io.in(room).socket_count(
                    [a](boost::system::error_code, std::size_t n) mutable { a(n); });
            });
        },
        2);
    auto& io = srv.io();
    raw_client c0, c1, c2, c3; // shards 0, 1, 0, 1
    for (auto* c : {&c0, &c1, &c2, &c3})
        connect_to(*c, srv.port());
    join(c0, "A");
    join(c1, "A");
    join(c2, "B");

    auto count = [](roomcast::broadcast_operator const& op) {
        auto f = op.socket_count(boost::asio::use_future);
        return wait_get(f);
    };
    CHECK(count(io.all()) == 4);
    CHECK(count(io.in("A")) == 2);
    CHECK(count(io.in("B")) == 1);
    CHECK(count(io.except("A")) == 2);
    CHECK(count(io.to("A").to("B")) == 3);
    CHECK(count(io.to("A").to("B").except("B")) == 2);
    CHECK(count(io.in("nobody")) == 0);
    CHECK(count(io.of("/empty").all()) == 0);

    // From a handler on shard 1.
    c3.write(R"(425["count","A"])");
    CHECK(c3.read_packet() == "435[2]");
    // A socket that left is no longer counted.
    c1.write("41");
    c1.write(R"(40)");
    c1.read_packet(); // its new CONNECT answer: the leave was handled before
    CHECK(count(io.in("A")) == 1);
    CHECK(count(io.all()) == 4);
}

// --- sockets_join / sockets_leave / disconnect_sockets --------------------------------------

TEST_CASE("sockets_join from a handler, then a broadcast, reaches both shards", "[utilities]") {
    test_server srv(
        {},
        [](roomcast::server<>& io) {
            room_handlers(io);
            io.on("gather", [&io](roomcast::socket&, std::string from, std::string to) {
                io.in(from).sockets_join(to);
                io.to(to).emit("welcome", to); // right after: every new member gets it
            });
            io.on("scatter", [&io](roomcast::socket&, std::string room) {
                io.all().sockets_leave(room);
                io.to(room).emit("still-here", room); // nobody
            });
            io.on("end", [&io](roomcast::socket&) { io.emit("end"); });
        },
        2);
    auto& io = srv.io();
    raw_client a, b, c, d; // shards 0, 1, 0, 1
    for (auto* x : {&a, &b, &c, &d})
        connect_to(*x, srv.port());
    join(a, "src");
    join(b, "src");

    // Checks that exactly `receivers` got `packet`, by a marker to everyone sent after it:
    // from `sender`'s connection (so it is handled after what that client sent), or from
    // this thread.
    auto expect_only = [&](raw_client* sender, std::set<raw_client*> const& receivers,
                           std::string const& packet) {
        if (sender)
            sender->write(R"(42["end"])");
        else
            io.emit("end");
        for (auto* x : {&a, &b, &c, &d}) {
            if (receivers.contains(x))
                CHECK(x->read_packet() == packet);
            CHECK(x->read_packet() == R"(42["end"])");
        }
    };
    // From shard 0 and from shard 1: the join is applied on the other shard before the
    // broadcast that follows it.
    a.write(R"(42["gather","src","dst"])");
    expect_only(&a, {&a, &b}, R"(42["welcome","dst"])");
    d.write(R"(42["gather","src","dst2"])");
    expect_only(&d, {&a, &b}, R"(42["welcome","dst2"])");

    auto count = [](roomcast::broadcast_operator const& op) {
        auto f = op.socket_count(boost::asio::use_future);
        return wait_get(f);
    };
    CHECK(count(io.in("dst")) == 2);

    // From this thread, several rooms at once, selected with except.
    io.except("src").sockets_join(std::vector<std::string>{"x", "y"});
    io.to("y").emit("in-y");
    expect_only(nullptr, {&c, &d}, R"(42["in-y"])");
    CHECK(count(io.in("x")) == 2);

    // sockets_leave from a handler, then a broadcast to that room: nobody.
    c.write(R"(42["scatter","dst"])");
    expect_only(&c, {}, "");
    CHECK(count(io.in("dst")) == 0);
    io.in("x").sockets_leave(std::vector<std::string>{"x", "y"});
    io.to("y").emit("in-y");
    expect_only(nullptr, {}, "");
    CHECK(count(io.in("x")) == 0);
}

TEST_CASE("disconnect_sockets: a namespace disconnect, or the whole connection, on both shards",
          "[utilities]") {
    roomcast::test::record reasons;
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            room_handlers(io);
            io.on_disconnect(
                [&](roomcast::socket&, std::string_view why) { reasons.add(std::string(why)); });
            io.on("kick",
                  [&io](roomcast::socket&, std::string room) { io.in(room).disconnect_sockets(); });
        },
        2);
    auto& io = srv.io();
    raw_client a, b, c, d; // shards 0, 1, 0, 1
    for (auto* x : {&a, &b, &c, &d})
        connect_to(*x, srv.port());
    join(a, "kick");
    join(b, "kick");
    join(c, "close");
    join(d, "close");

    // From a handler on shard 1 (b kicks itself too).
    b.write(R"(42["kick","kick"])");
    CHECK(a.read_packet() == "41");
    CHECK(b.read_packet() == "41");
    REQUIRE(eventually([&] { return reasons.size() == 2; }));
    CHECK(as_multiset(reasons.items()) ==
          std::multiset<std::string>{"server namespace disconnect", "server namespace disconnect"});
    // Their connections stay open: they can join again.
    open_nsp(a);
    open_nsp(b);
    io.emit("end");
    for (auto* x : {&a, &b, &c, &d})
        CHECK(x->read_packet() == R"(42["end"])");

    // With close, from this thread: the connections of c and d close.
    io.in("close").disconnect_sockets(true);
    for (auto* x : {&c, &d}) {
        CHECK(x->read_packet() == "41");
        CHECK_FALSE(x->read_packet(3s));
    }
    io.emit("end");
    CHECK(a.read_packet() == R"(42["end"])");
    CHECK(b.read_packet() == R"(42["end"])");
    auto f = io.all().socket_count(boost::asio::use_future);
    CHECK(wait_get(f) == 2);
}

// --- all_rooms ------------------------------------------------------------------------------

TEST_CASE("all_rooms: merged across shards, sorted by name, id rooms included", "[utilities]") {
    test_server srv(
        {},
        [](roomcast::server<>& io) {
            room_handlers(io);
            io.of("/nobody-here");
        },
        2);
    auto& io = srv.io();
    raw_client a, b, c; // shards 0, 1, 0
    auto const ida = connect_to(a, srv.port());
    auto const idb = connect_to(b, srv.port());
    auto const idc = connect_to(c, srv.port());
    join(a, "common");
    join(b, "common");
    join(b, "zeta");
    join(c, "solo");
    join(c, "common");
    join(c, "Alpha");

    auto render = [](std::vector<roomcast::room_info> const& rooms) {
        std::string out;
        for (auto const& r : rooms)
            out += r.name + "=" + std::to_string(r.size) + " ";
        return out;
    };
    std::vector<roomcast::room_info> expected = {
        {ida, 1}, {idb, 1}, {idc, 1}, {"common", 3}, {"zeta", 1}, {"solo", 1}, {"Alpha", 1}};
    std::sort(expected.begin(), expected.end(),
              [](auto const& x, auto const& y) { return x.name < y.name; });
    auto f = io.of("/").all_rooms(boost::asio::use_future);
    CHECK(render(wait_get(f)) == render(expected));

    // A room emptied on one shard only keeps its members on the other.
    a.write(R"(421["leave","common"])");
    REQUIRE(a.read_packet() == "431[true]");
    c.write(R"(421["leave","common"])");
    REQUIRE(c.read_packet() == "431[true]");
    auto f2 = io.of("/").all_rooms(boost::asio::use_future);
    auto const rooms = wait_get(f2);
    auto it =
        std::find_if(rooms.begin(), rooms.end(), [](auto const& r) { return r.name == "common"; });
    REQUIRE(it != rooms.end());
    CHECK(it->size == 1);
    auto f3 = io.of("/nobody-here").all_rooms(boost::asio::use_future);
    CHECK(wait_get(f3).empty());
}

// --- broadcast with acknowledgements ---------------------------------------------------------
// Regression: before 995f990 each of these overflowed the stack (the broadcast's state
// move-assigned its any_completion_handler, which recurses forever on Boost 1.81).

TEST_CASE("broadcast emit_with_ack: one packet and one id for all, first arguments collected",
          "[utilities][broadcast-ack]") {
    test_server srv({}, room_handlers, 2);
    auto& io = srv.io();
    raw_client a, b, c; // shards 0, 1, 0
    for (auto* x : {&a, &b, &c})
        connect_to(*x, srv.port());

    outcome<boost::json::array> result;
    io.all().timeout(3s).emit_with_ack("q", 7, "x", result.handler());
    auto const qa = a.read_packet().value_or("");
    auto const qb = b.read_packet().value_or("");
    auto const qc = c.read_packet().value_or("");
    CHECK(without_ack_id(qa) == R"(42["q",7,"x"])");
    CHECK(without_ack_id(qb) == R"(42["q",7,"x"])");
    CHECK(without_ack_id(qc) == R"(42["q",7,"x"])");
    auto const id = ack_id_of(qa);
    REQUIRE(!id.empty());
    CHECK(ack_id_of(qb) == id);
    CHECK(ack_id_of(qc) == id);

    a.write("43" + id + R"(["ra",1])");  // only the first argument counts
    a.write("43" + id + R"(["again"])"); // a second answer is ignored
    b.write("43" + id + R"([{"b":true}])");
    c.write("43" + id + "[]"); // no argument: null
    auto const r = result.wait(5s);
    REQUIRE(r);
    CHECK(!r->first);
    CHECK(as_multiset(r->second) == std::multiset<std::string>{R"("ra")", R"({"b":true})", "null"});

    // The next broadcast ack gets a fresh id.
    outcome<boost::json::array> second;
    io.to("nobody").except("x").timeout(3s).emit_with_ack("q", second.handler());
    auto const empty = second.wait(2s);
    REQUIRE(empty);
    CHECK(!empty->first);
    CHECK(empty->second.empty());
    outcome<boost::json::array> third;
    io.all().timeout(3s).emit_with_ack("q2", third.handler());
    auto const q2 = a.read_packet().value_or("");
    CHECK(without_ack_id(q2) == R"(42["q2"])");
    CHECK(ack_id_of(q2) != id);
}

TEST_CASE("broadcast emit_with_ack: timeout completes with the answers so far",
          "[utilities][broadcast-ack]") {
    test_server srv(
        {}, [](roomcast::server<>& io) { io.of("/chat"); }, 2);
    auto& io = srv.io();
    raw_client a, b; // shards 0, 1
    connect_to(a, srv.port(), "/chat");
    connect_to(b, srv.port(), "/chat");
    outcome<boost::json::array> result;
    auto const start = std::chrono::steady_clock::now();
    // Long enough for a's answer to come back on a busy machine.
    io.of("/chat").all().timeout(1s).emit_with_ack("q", result.handler());
    auto const qa = a.read_packet().value_or("");
    auto const qb = b.read_packet().value_or("");
    CHECK(without_ack_id(qa) == R"(42/chat,["q"])");
    CHECK(qb == qa);
    a.write("43/chat," + ack_id_of(qa) + R"(["ra"])");
    auto const r = result.wait(5s);
    REQUIRE(r);
    CHECK(r->first == roomcast::error::timeout);
    CHECK(json_text(r->second) == R"(["ra"])");
    CHECK(std::chrono::steady_clock::now() - start >= 1s);
    // A late answer is ignored.
    b.write("43/chat," + ack_id_of(qb) + R"(["late"])");
    io.of("/chat").emit("end");
    CHECK(b.read_packet() == R"(42/chat,["end"])");
}

TEST_CASE("broadcast emit_with_ack: recipients that disconnect are not waited for",
          "[utilities][broadcast-ack]") {
    test_server srv({}, room_handlers, 2);
    auto& io = srv.io();
    raw_client a, b, c; // shards 0, 1, 0
    for (auto* x : {&a, &b, &c})
        connect_to(*x, srv.port());
    outcome<boost::json::array> result;
    auto const start = std::chrono::steady_clock::now();
    io.all().timeout(20s).emit_with_ack("q", result.handler());
    auto const qa = a.read_packet().value_or("");
    REQUIRE(b.read_packet());
    REQUIRE(c.read_packet());
    a.write("43" + ack_id_of(qa) + R"(["ra"])");
    b.abort();     // the connection goes
    c.write("41"); // leaves the namespace
    auto const r = result.wait(5s);
    REQUIRE(r);
    CHECK(!r->first);
    CHECK(json_text(r->second) == R"(["ra"])");
    CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("broadcast emit_with_ack from a coroutine handler, to the sender's room",
          "[utilities][broadcast-ack]") {
    test_server srv(
        {},
        [](roomcast::server<>& io) {
            room_handlers(io);
            io.on("poll",
                  [](roomcast::socket& s,
                     std::string room) -> boost::asio::awaitable<boost::json::array> {
                      auto answers = co_await s.to(room).timeout(2s).emit_with_ack(
                          "vote", room, boost::asio::use_awaitable);
                      std::sort(answers.begin(), answers.end(), [](auto const& x, auto const& y) {
                          return json_text(x) < json_text(y);
                      });
                      co_return answers;
                  });
        },
        2);
    raw_client a, b, c, d; // shards 0, 1, 0, 1
    for (auto* x : {&a, &b, &c, &d})
        connect_to(*x, srv.port());
    for (auto* x : {&a, &b, &c})
        join(*x, "r");
    a.write(R"(421["poll","r"])");
    auto const qb = b.read_packet().value_or("");
    auto const qc = c.read_packet().value_or("");
    CHECK(without_ack_id(qb) == R"(42["vote","r"])");
    CHECK(qc == qb);
    b.write("43" + ack_id_of(qb) + R"(["yes"])");
    c.write("43" + ack_id_of(qc) + R"(["no"])");
    CHECK(a.read_packet() == R"(431[["no","yes"]])"); // the sender was not asked
    // d, outside the room, got nothing.
    srv.io().emit("end");
    CHECK(d.read_packet() == R"(42["end"])");
}

TEST_CASE("on_any_outgoing: each recipient of a broadcast with ack, on its shard",
          "[utilities][broadcast-ack]") {
    roomcast::test::record out;
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            io.on_any_outgoing([&](roomcast::socket& s, std::string_view event,
                                   std::span<boost::json::value const> args) {
                out.add(s.id() + " " + std::string(event) + " " + std::to_string(args.size()));
            });
            io.on("all-ack", [&io](roomcast::socket&) {
                io.all().timeout(2s).emit_with_ack(
                    "poll", 5, [](boost::system::error_code, boost::json::array) {});
            });
        },
        2);
    raw_client a, b; // shards 0, 1
    auto const ida = connect_to(a, srv.port());
    auto const idb = connect_to(b, srv.port());
    b.write(R"(42["all-ack"])");
    CHECK(without_ack_id(a.read_packet().value_or("")) == R"(42["poll",5])");
    CHECK(without_ack_id(b.read_packet().value_or("")) == R"(42["poll",5])");
    REQUIRE(eventually([&] { return out.size() == 2; }));
    CHECK(as_multiset(out.items()) == std::multiset<std::string>{ida + " poll 1", idb + " poll 1"});
}

// --- dynamic namespaces ----------------------------------------------------------------------

TEST_CASE("dynamic namespaces by regex: children copy the parent; static names win",
          "[utilities]") {
    roomcast::test::record connected, middleware;
    test_server srv({}, [&](roomcast::server<>& io) {
        auto& dyn = io.of(std::regex("^/dyn-\\d+$"));
        dyn.use([&](roomcast::socket& s, roomcast::next n) {
            middleware.add(s.nsp().name());
            n();
        });
        dyn.on_connection([&](roomcast::socket& s) { connected.add(s.nsp().name()); });
        dyn.on("where", [](roomcast::socket& s) { return s.nsp().name(); });
        io.of("/dyn-7").on("where", [](roomcast::socket&) { return "static"; });
    });
    raw_client c, d;
    connect_to(c, srv.port(), "/dyn-1");
    c.write(R"(42/dyn-1,1["where"])");
    CHECK(c.read_packet() == R"(43/dyn-1,1["/dyn-1"])");
    open_nsp(c, "/dyn-7");
    c.write(R"(42/dyn-7,2["where"])");
    CHECK(c.read_packet() == R"(43/dyn-7,2["static"])");
    c.write("40/dyn-x,");
    CHECK(c.read_packet() == R"(44/dyn-x,{"message":"Invalid namespace"})");
    c.write("40/other,");
    CHECK(c.read_packet() == R"(44/other,{"message":"Invalid namespace"})");
    c.write("40/dyn-22/extra,");
    CHECK(c.read_packet() == R"(44/dyn-22/extra,{"message":"Invalid namespace"})");
    // A second client of /dyn-1 joins the same child; another name gets its own.
    connect_to(d, srv.port(), "/dyn-1");
    open_nsp(d, "/dyn-22");
    d.write(R"(42/dyn-22,3["where"])");
    CHECK(d.read_packet() == R"(43/dyn-22,3["/dyn-22"])");
    CHECK(connected.items() == std::vector<std::string>{"/dyn-1", "/dyn-1", "/dyn-22"});
    CHECK(middleware.items() == std::vector<std::string>{"/dyn-1", "/dyn-1", "/dyn-22"});
    auto f = srv.io().of("/dyn-1").all().socket_count(boost::asio::use_future);
    CHECK(wait_get(f) == 2);
}

TEST_CASE("dynamic namespaces: the parent's emit reaches every child; rooms are per child",
          "[utilities]") {
    roomcast::name_space* parent = nullptr;
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            parent = &io.of(std::regex("^/dyn-\\d+$"));
            parent->on("join", [](roomcast::socket& s, std::string room) {
                s.join(room);
                return true;
            });
            parent->on("say", [](roomcast::socket& s, std::string room, std::string text) {
                s.nsp().to(room).emit("said", text);
            });
        },
        2);
    raw_client a, b, c; // /dyn-1 (shard 0), /dyn-2 (shard 1), /dyn-1 (shard 0)
    connect_to(a, srv.port(), "/dyn-1");
    connect_to(b, srv.port(), "/dyn-2");
    connect_to(c, srv.port(), "/dyn-1");
    a.write(R"(42/dyn-1,1["join","r"])");
    REQUIRE(a.read_packet() == R"(43/dyn-1,1[true])");
    b.write(R"(42/dyn-2,1["join","r"])");
    REQUIRE(b.read_packet() == R"(43/dyn-2,1[true])");
    // Each child has its own rooms: "r" has one member in each.
    for (auto const* child : {"/dyn-1", "/dyn-2"}) {
        INFO(child);
        auto const rooms = rooms_of(srv.io(), child);
        auto const r =
            std::find_if(rooms.begin(), rooms.end(), [](auto const& x) { return x.name == "r"; });
        REQUIRE(r != rooms.end());
        CHECK(r->size == 1);
        CHECK(rooms.size() == (std::string(child) == "/dyn-1" ? 3u : 2u)); // + id rooms
    }

    auto end = [&] {
        parent->emit("end");
        CHECK(a.read_packet() == R"(42/dyn-1,["end"])");
        CHECK(b.read_packet() == R"(42/dyn-2,["end"])");
        CHECK(c.read_packet() == R"(42/dyn-1,["end"])");
    };
    // Room "r" of /dyn-1 is not room "r" of /dyn-2.
    a.write(R"(42/dyn-1,["say","r","one"])");
    CHECK(a.read_packet() == R"(42/dyn-1,["said","one"])");
    end();
    // The parent reaches the room in every child, and everyone with emit.
    parent->to("r").emit("room", 2);
    CHECK(a.read_packet() == R"(42/dyn-1,["room",2])");
    CHECK(b.read_packet() == R"(42/dyn-2,["room",2])");
    end();
    // sockets_join through the parent acts in every child.
    parent->except("r").sockets_join("late");
    parent->to("late").emit("late", true);
    CHECK(c.read_packet() == R"(42/dyn-1,["late",true])");
    end();
    // A parent has no sockets of its own to query.
    CHECK_THROWS_AS(parent->all().fetch_sockets(boost::asio::use_future), std::logic_error);
    // disconnect_sockets through the parent acts in every child.
    parent->in("r").disconnect_sockets();
    CHECK(a.read_packet() == "41/dyn-1,");
    CHECK(b.read_packet() == "41/dyn-2,");
    parent->emit("end");
    CHECK(c.read_packet() == R"(42/dyn-1,["end"])");
}

TEST_CASE("dynamic namespaces by predicate: it sees the handshake and is asked once per name",
          "[utilities]") {
    std::atomic<int> asked{0};
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            io.of([&](std::string_view name, roomcast::handshake_info const& hs) {
                  ++asked;
                  if (name == "/throws")
                      throw std::runtime_error("predicate failed");
                  auto const* key = hs.auth.if_contains("key");
                  return name.starts_with("/p-") && key && *key == "k";
              }).on("where", [](roomcast::socket& s) { return s.nsp().name(); });
        },
        2);
    raw_client a, b;
    connect_to(a, srv.port(), "/p-1", R"({"key":"k"})");
    CHECK(asked == 1);
    a.write(R"(42/p-1,1["where"])");
    CHECK(a.read_packet() == R"(43/p-1,1["/p-1"])");
    a.write(R"(40/p-2,{"key":"wrong"})");
    CHECK(a.read_packet() == R"(44/p-2,{"message":"Invalid namespace"})");
    CHECK(asked == 2);
    a.write("40/throws,");
    CHECK(a.read_packet() == R"(44/throws,{"message":"Invalid namespace"})");
    CHECK(asked == 3);
    // An existing child is joined without asking again (as in Socket.IO).
    connect_to(b, srv.port(), "/p-1");
    CHECK(asked == 3);
}

TEST_CASE("cleanup_empty_child_namespaces: an emptied child is dropped and made afresh",
          "[utilities]") {
    for (bool cleanup : {false, true}) {
        INFO("cleanup_empty_child_namespaces = " << cleanup);
        std::atomic<int> asked{0};
        roomcast::test::record disconnects;
        test_server srv({.cleanup_empty_child_namespaces = cleanup}, [&](roomcast::server<>& io) {
            io.of([&](std::string_view name, roomcast::handshake_info const&) {
                  ++asked;
                  return name.starts_with("/c-");
              }).on_disconnect([&](roomcast::socket&, std::string_view) { disconnects.add("x"); });
        });
        raw_client a, b;
        connect_to(a, srv.port(), "/c-1");
        connect_to(b, srv.port(), "/c-1");
        CHECK(asked == 1);
        // Not the last socket: the child stays either way.
        a.write("41/c-1,");
        open_nsp(a, "/c-1");
        CHECK(asked == 1);
        // Both leave; b's leave is done (one shard) before a leaves and comes back.
        b.write("41/c-1,");
        REQUIRE(eventually([&] { return disconnects.size() == 2; }));
        a.write("41/c-1,");
        open_nsp(a, "/c-1");
        CHECK(asked == (cleanup ? 2 : 1));
        // The child works the same.
        auto f = srv.io().of("/c-1").all().socket_count(boost::asio::use_future);
        CHECK(wait_get(f) == 1);
    }
}

// --- packet middleware -----------------------------------------------------------------------

TEST_CASE("packet middleware: in order, before on_any and the handler; may change or refuse",
          "[utilities]") {
    roomcast::test::record seen, errors;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on_connection([&](roomcast::socket& s) {
            s.use([&](roomcast::socket&, boost::json::array& p, roomcast::next n) {
                seen.add("first " + json_text(p));
                if (p[0] == "rename")
                    p[0] = "echo";
                n();
            });
            s.use([&](roomcast::socket&, boost::json::array& p, roomcast::next n) {
                seen.add("second " + json_text(p));
                if (p[0] == "secret")
                    return n(roomcast::connect_error{"forbidden"});
                if (p[0] == "boom")
                    throw std::runtime_error("middleware exploded");
                if (p[0] == "echo")
                    p.push_back("added");
                n();
            });
        });
        io.on_any([&](roomcast::socket&, std::string_view event,
                      std::span<boost::json::value const> args) {
            seen.add("any " + std::string(event) + " " + std::to_string(args.size()));
        });
        io.on("echo", [&](roomcast::socket&, std::string a, std::string b) {
            seen.add("handler");
            return a + "+" + b;
        });
        io.on("secret", [&](roomcast::socket&) {
            seen.add("secret handler");
            return 0;
        });
        io.on_error([&](roomcast::socket&, roomcast::handler_error const& e) {
            errors.add(e.event + "|" + e.message);
        });
    });
    raw_client c;
    connect_to(c, srv.port());
    c.write(R"(421["rename","x"])");
    CHECK(c.read_packet() == R"(431["x+added"])");
    CHECK(seen.items() == std::vector<std::string>{R"(first ["rename","x"])",
                                                   R"(second ["echo","x"])", "any echo 2",
                                                   "handler"});
    // Refused by next(connect_error) or by a throw: no handler, no ack, the error hook.
    c.write(R"(422["secret"])");
    c.write(R"(423["boom"])");
    c.write(R"(424["echo","y"])");
    CHECK(c.read_packet() == R"(434["y+added"])");
    CHECK(errors.items() ==
          std::vector<std::string>{"secret|forbidden", "boom|middleware exploded"});
    for (auto const& s : seen.items())
        CHECK(s != "secret handler");
}

TEST_CASE("packet middleware: continued later from another thread, or a coroutine", "[utilities]") {
    roomcast::test::record errors;
    std::mutex m;
    std::vector<std::thread> helpers; // joined before the server goes (see `joiner`)
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            io.on_connection([&](roomcast::socket& s) {
                s.use([&](roomcast::socket&, boost::json::array& p, roomcast::next n) {
                    if (p[0] != "threaded")
                        return n();
                    std::lock_guard lock(m);
                    helpers.emplace_back([&p, n] {
                        std::this_thread::sleep_for(30ms);
                        p.push_back("from a thread");
                        n();
                    });
                });
                s.use([](roomcast::socket&, boost::json::array& p,
                         roomcast::next n) -> boost::asio::awaitable<void> {
                    if (p[0] == "coro") {
                        co_await pause(20ms);
                        p.push_back("from a coroutine");
                    }
                    if (p[0] == "coro-fail") {
                        co_await pause(5ms);
                        throw std::runtime_error("coroutine refused");
                    }
                    if (p[0] == "coro-refuse") {
                        co_await pause(5ms);
                        n(roomcast::connect_error{"no"});
                        co_return;
                    }
                    n();
                });
            });
            io.on("threaded", [](roomcast::socket&, std::string a) { return a; });
            io.on("coro", [](roomcast::socket&, std::string a) { return a; });
            io.on("coro-fail", [](roomcast::socket&) { return "handled"; });
            io.on("coro-refuse", [](roomcast::socket&) { return "handled"; });
            io.on("fast", [](roomcast::socket&) { return "fast"; });
            io.on_error([&](roomcast::socket&, roomcast::handler_error const& e) {
                errors.add(e.event + "|" + e.message);
            });
        },
        2);
    struct join_all {
        std::mutex& m;
        std::vector<std::thread>& threads;
        ~join_all() {
            std::lock_guard lock(m);
            for (auto& t : threads)
                t.join();
        }
    } joiner{m, helpers};
    raw_client c;
    connect_to(c, srv.port());
    c.write(R"(421["threaded"])");
    c.write(R"(422["coro"])");
    c.write(R"(423["fast"])");
    std::multiset<std::string> got;
    for (int i = 0; i < 3; ++i)
        got.insert(c.read_packet().value_or(""));
    CHECK(got == std::multiset<std::string>{R"(431["from a thread"])", R"(432["from a coroutine"])",
                                            R"(433["fast"])"});
    c.write(R"(424["coro-fail"])");
    c.write(R"(425["coro-refuse"])");
    REQUIRE(eventually([&] { return errors.size() == 2; }));
    CHECK(as_multiset(errors.items()) ==
          std::multiset<std::string>{"coro-fail|coroutine refused", "coro-refuse|no"});
    c.write(R"(426["fast"])");
    CHECK(c.read_packet() == R"(436["fast"])"); // nothing answered 424 or 425
}

// --- on_any_outgoing -------------------------------------------------------------------------

TEST_CASE("on_any_outgoing: socket emits, emit_with_ack, and each broadcast recipient",
          "[utilities]") {
    roomcast::test::record out;
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            io.on_any_outgoing([&](roomcast::socket& s, std::string_view event,
                                   std::span<boost::json::value const> args) {
                std::string line = s.id() + " " + std::string(event);
                for (auto const& a : args)
                    line += " " + json_text(a);
                out.add(line);
            });
            io.on("me", [](roomcast::socket& s) { s.emit("to-me", 1); });
            io.on("ask", [](roomcast::socket& s) {
                s.timeout(2s).emit_with_ack("question", 2,
                                            [](boost::system::error_code, boost::json::array) {});
            });
            io.on("all", [&io](roomcast::socket&) { io.emit("everyone", 3); });
            io.on("others", [](roomcast::socket& s) { s.broadcast().emit("others", 4); });
            io.on("echo", [](roomcast::socket&, int x) { return x; });
        },
        2);
    raw_client a, b; // shards 0, 1
    auto const ida = connect_to(a, srv.port());
    auto const idb = connect_to(b, srv.port());

    a.write(R"(42["me"])");
    CHECK(a.read_packet() == R"(42["to-me",1])");
    a.write(R"(42["ask"])");
    CHECK(without_ack_id(a.read_packet().value_or("")) == R"(42["question",2])");
    a.write(R"(42["all"])");
    CHECK(a.read_packet() == R"(42["everyone",3])");
    CHECK(b.read_packet() == R"(42["everyone",3])");
    b.write(R"(42["others"])");
    CHECK(a.read_packet() == R"(42["others",4])");
    a.write(R"(421["echo",6])"); // an ack to the client is not an outgoing event
    CHECK(a.read_packet() == "431[6]");
    // Emits from this thread, and through a fetched socket.
    auto f = srv.io().in(idb).fetch_sockets(boost::asio::use_future);
    auto found = wait_get(f);
    REQUIRE(found.size() == 1);
    found[0].emit("remote", 7);
    CHECK(b.read_packet() == R"(42["remote",7])");

    REQUIRE(eventually([&] { return out.size() == 6; }));
    CHECK(as_multiset(out.items()) == std::multiset<std::string>{
                                          ida + " to-me 1",
                                          ida + " question 2",
                                          ida + " everyone 3",
                                          idb + " everyone 3",
                                          ida + " others 4",
                                          idb + " remote 7",
                                      });
}

TEST_CASE("on_any_outgoing of a dynamic parent is copied into its children", "[utilities]") {
    roomcast::test::record out;
    roomcast::name_space* parent = nullptr;
    test_server srv({}, [&](roomcast::server<>& io) {
        parent = &io.of(std::regex("^/d-\\d$"));
        parent->on_any_outgoing([&](roomcast::socket& s, std::string_view event,
                                    std::span<boost::json::value const> args) {
            out.add(s.nsp().name() + " " + std::string(event) + " " + std::to_string(args.size()));
        });
    });
    raw_client a, b;
    connect_to(a, srv.port(), "/d-1");
    connect_to(b, srv.port(), "/d-2");
    parent->emit("hi", 1, 2);
    CHECK(a.read_packet() == R"(42/d-1,["hi",1,2])");
    CHECK(b.read_packet() == R"(42/d-2,["hi",1,2])");
    REQUIRE(eventually([&] { return out.size() == 2; }));
    CHECK(as_multiset(out.items()) == std::multiset<std::string>{"/d-1 hi 2", "/d-2 hi 2"});
}

// --- coroutine handlers and middleware -------------------------------------------------------

TEST_CASE("coroutine handlers: co_return answers the ack; the shard goes on meanwhile",
          "[utilities]") {
    test_server srv({}, [](roomcast::server<>& io) {
        io.on("double", [](roomcast::socket&, int x, int delay) -> boost::asio::awaitable<int> {
            co_await pause(std::chrono::milliseconds(delay));
            co_return x * 2;
        });
        io.on("later", [](roomcast::socket&, roomcast::ack a) -> boost::asio::awaitable<void> {
            co_await pause(10ms);
            a("done");
        });
        io.on("tick", [](roomcast::socket& s, std::string text) -> boost::asio::awaitable<void> {
            co_await pause(10ms);
            s.emit("tock", text); // the socket outlives the wait
        });
    });
    raw_client c;
    connect_to(c, srv.port());
    c.write(R"(421["double",21,300])");
    c.write(R"(422["double",5,0])");
    CHECK(c.read_packet() == "432[10]"); // the second did not wait for the first
    CHECK(c.read_packet() == "431[42]");
    c.write(R"(423["later"])");
    CHECK(c.read_packet() == R"(433["done"])");
    c.write(R"(42["tick","t"])");
    CHECK(c.read_packet() == R"(42["tock","t"])");
    // A client that goes while a coroutine waits: the coroutine ends quietly.
    raw_client gone;
    connect_to(gone, srv.port());
    gone.write(R"(42["tick","never read"])");
    gone.write(R"(425["double",1,50])");
    gone.abort();
    std::this_thread::sleep_for(100ms);
    c.write(R"(42["double",1,0])"); // no ack asked: nothing sent
    c.write(R"(424["double","x",0])");
    CHECK(c.read_packet() ==
          R"(434[{"error":"event \"double\": argument 1: value: expected integer, got string"}])");
}

TEST_CASE("coroutine handlers: a throw answers the ack with the error and reaches on_error",
          "[utilities]") {
    roomcast::test::record errors;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on("fail", [](roomcast::socket&, std::string why) -> boost::asio::awaitable<int> {
            co_await pause(10ms);
            throw std::runtime_error(why);
        });
        io.on("fail-void", [](roomcast::socket&) -> boost::asio::awaitable<void> {
            co_await pause(1ms);
            throw std::runtime_error("void too");
        });
        io.on_error([&](roomcast::socket&, roomcast::handler_error const& e) {
            errors.add(e.event + "|" + e.message + "|" + (e.exception ? "exception" : "none"));
        });
    });
    raw_client c;
    connect_to(c, srv.port());
    c.write(R"(421["fail","kaput"])");
    CHECK(c.read_packet() == R"(431[{"error":"event \"fail\": handler threw: kaput"}])");
    c.write(R"(42["fail","quiet"])");
    c.write(R"(422["fail-void"])");
    CHECK(c.read_packet() == R"(432[{"error":"event \"fail-void\": handler threw: void too"}])");
    REQUIRE(eventually([&] { return errors.size() == 3; }));
    CHECK(errors.items() ==
          std::vector<std::string>{
              R"(fail|event "fail": handler threw: kaput|exception)",
              R"(fail|event "fail": handler threw: quiet|exception)",
              R"(fail-void|event "fail-void": handler threw: void too|exception)"});
}

TEST_CASE("coroutine connection middleware: accepts after waiting, refuses by next or a throw",
          "[utilities]") {
    roomcast::test::record connected;
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            io.use([](roomcast::socket& s, roomcast::next n) -> boost::asio::awaitable<void> {
                co_await pause(20ms);
                auto const* token = s.handshake().auth.if_contains("token");
                if (!token)
                    throw std::runtime_error("no token");
                if (*token != "ok") {
                    n(roomcast::connect_error{"bad token", {{"code", 403}}});
                    co_return;
                }
                s.data() = "checked";
                n();
            });
            io.on_connection([&](roomcast::socket& s) { connected.add(json_text(s.data())); });
            io.on("ping", [](roomcast::socket&) { return "pong"; });
        },
        2);
    raw_client ok, bad, none;
    connect_to(ok, srv.port(), "/", R"({"token":"ok"})");
    ok.write(R"(421["ping"])");
    CHECK(ok.read_packet() == R"(431["pong"])");
    REQUIRE(!bad.connect(srv.port()));
    bad.read();
    bad.write(R"(40{"token":"nope"})");
    CHECK(bad.read_packet() == R"(44{"message":"bad token","data":{"code":403}})");
    REQUIRE(!none.connect(srv.port()));
    none.read();
    none.write("40");
    CHECK(none.read_packet() == R"(44{"message":"no token"})");
    CHECK(connected.items() == std::vector<std::string>{R"("checked")"});
}

#include <roomcast/transport/detail/send_ring.hpp> // defines ROOMCAST_IO_URING where it is built

#if defined(ROOMCAST_IO_URING)
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
/// A connected loopback TCP pair: {ours (non-blocking), the peer's}.
std::pair<int, int> tcp_pair() {
    int const l = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(l, 4) == 0);
    REQUIRE(::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    int const peer = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(::connect(peer, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    int const ours = ::accept(l, nullptr, nullptr);
    REQUIRE(ours >= 0);
    ::close(l);
    REQUIRE(::fcntl(ours, F_SETFL, ::fcntl(ours, F_GETFL) | O_NONBLOCK) == 0);
    return {ours, peer};
}
} // namespace

TEST_CASE("send_ring: each send of a batch gets send's own result, once, with its tag") {
    roomcast::transport::detail::send_ring ring;
    if (!ring.usable()) {
        WARN("this kernel refuses io_uring: the ring is not used and writes go through send");
        return;
    }
    auto const [whole, whole_peer] = tcp_pair();
    auto const [full, full_peer] = tcp_pair();
    auto const [shut, shut_peer] = tcp_pair();
    ::shutdown(shut, SHUT_WR); // a send on it fails with EPIPE (and raises no SIGPIPE)
    std::string const hello = "hello, ring";
    std::string const big(16 * 1024 * 1024, 'b'); // more than the kernel buffers of a pair

    std::map<std::uint64_t, int> results;
    auto const record = [&](std::uint64_t tag, int result) {
        CHECK(results.emplace(tag, result).second); // once per send
    };
    ring.prepare(whole, hello.data(), hello.size(), 7);
    ring.prepare(full, big.data(), big.size(), 8);
    ring.prepare(shut, hello.data(), hello.size(), 9);
    CHECK(ring.prepared() == 3);
    ring.submit(record);
    CHECK(ring.prepared() == 0);
    REQUIRE(results.size() == 3);
    CHECK(results[7] == static_cast<int>(hello.size()));
    CHECK(results[8] > 0);
    CHECK(results[8] < static_cast<int>(big.size())); // short: the buffers filled
    CHECK(results[9] == -EPIPE);

    std::string got(hello.size(), '\0');
    CHECK(::recv(whole_peer, got.data(), got.size(), MSG_WAITALL) ==
          static_cast<ssize_t>(hello.size()));
    CHECK(got == hello);

    // A full socket refuses at once: the batch does not wait for room. (The kernel may still
    // be moving bytes along the full pair, so the first sends after may take a little.)
    int refused = 0;
    for (int k = 0; k < 100 && refused != -EAGAIN; ++k) {
        results.clear();
        ring.prepare(full, big.data(), big.size(), 1);
        ring.prepare(whole, hello.data(), hello.size(), 2);
        ring.submit(record);
        REQUIRE(results.size() == 2);
        refused = results[1];
        REQUIRE((refused == -EAGAIN || (refused > 0 && refused < static_cast<int>(big.size()))));
        CHECK(results[2] == static_cast<int>(hello.size()));
    }
    CHECK(refused == -EAGAIN);

    // Nothing prepared: nothing happens.
    results.clear();
    ring.submit(record);
    CHECK(results.empty());
    CHECK(ring.usable());

    for (int fd : {whole, whole_peer, full, full_peer, shut, shut_peer})
        ::close(fd);
}
#endif
