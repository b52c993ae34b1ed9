// The API layer end to end over loopback: typed handlers, acks, errors, rooms across shards,
// namespaces, host io_context, shutdown. Clients speak raw packets so the wire is checked.
#include "catch.hpp"
#include "raw_client.hpp"
#include "sio_client.hpp"
#include "test_server.hpp"

#include <boost/json/parse.hpp>

#include <atomic>
#include <map>
#include <set>

using namespace roomcast::test;
using namespace std::chrono_literals;

namespace {

struct point {
    int x = 0;
    int y = 0;
    std::optional<std::string> label;
};
BOOST_DESCRIBE_STRUCT(point, (), (x, y, label))

} // namespace

TEST_CASE("typed handlers: arguments convert, return values and ack parameters answer acks") {
    roomcast::test::record errors;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on("echo", [](roomcast::socket&, boost::json::value v) { return v; });
        io.on("sum", [](roomcast::socket&, point const& p) { return p.x + p.y; });
        io.on("label", [](roomcast::socket&, point const& p, roomcast::ack a) {
            a(p.label.value_or("none"), p.x);
        });
        io.on("two", [](roomcast::socket& s, std::string a, std::optional<int> b) {
            s.emit("two", a, b.value_or(-1));
        });
        io.on("boom", [](roomcast::socket&, int) -> int { throw std::runtime_error("kaput"); });
        io.on_error([&](roomcast::socket&, roomcast::handler_error const& e) {
            errors.add(e.event + "|" + e.message + "|" + (e.exception ? "exception" : "decode"));
        });
    });
    raw_client c;
    connect(c, srv.port());

    c.write(R"(421["echo",{"b":1.5,"a":[true,null,"\u0001"]}])");
    CHECK(c.read_packet() == R"(431[{"b":1.5,"a":[true,null,"\u0001"]}])");
    c.write(R"(422["sum",{"x":2,"y":40,"extra":"ignored"}])");
    CHECK(c.read_packet() == "432[42]");
    c.write(R"(423["label",{"x":1,"y":2}])");
    CHECK(c.read_packet() == R"(433["none",1])");
    c.write(R"(42["two","a"])");
    CHECK(c.read_packet() == R"(42["two","a",-1])");
    c.write(R"(42["two","a",7])");
    CHECK(c.read_packet() == R"(42["two","a",7])");

    // Conversion errors and exceptions reach the ack and the error hook; the server goes on.
    c.write(R"(424["sum",{"x":"2","y":40}])");
    CHECK(c.read_packet() ==
          R"(434[{"error":"event \"sum\": argument 1: field .x: expected integer, got string"}])");
    c.write(R"(425["sum"])");
    CHECK(c.read_packet() ==
          R"(435[{"error":"event \"sum\": argument 1: value: expected object, got nothing"}])");
    c.write(R"(426["boom",1])");
    CHECK(c.read_packet() == R"(436[{"error":"event \"boom\": handler threw: kaput"}])");
    c.write(R"(42["sum",[]])"); // no ack asked: only the hook hears of it
    c.write(R"(427["echo",1])");
    CHECK(c.read_packet() == "437[1]");
    auto const e = errors.items();
    REQUIRE(e.size() == 4);
    CHECK(e[0] == "sum|event \"sum\": argument 1: field .x: expected integer, got string|decode");
    CHECK(e[2] == "boom|event \"boom\": handler threw: kaput|exception");
    CHECK(e[3] == "sum|event \"sum\": argument 1: value: expected object, got array|decode");
}

TEST_CASE("JSON parameters take their arguments over; a returned reference is copied") {
    roomcast::test::record errors;
    boost::json::value kept = {{"kept", true}};
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on("kinds", [](roomcast::socket&, boost::json::object o, boost::json::array a,
                          boost::json::string s, boost::json::value v, roomcast::arguments rest) {
            return boost::json::array{o, a, s, v, rest};
        });
        // The first parameter takes its argument before the second fails to convert.
        io.on("mismatch", [](roomcast::socket&, boost::json::value v, boost::json::object o) {
            return boost::json::array{v, o};
        });
        // A handler that returns a reference keeps what it refers to: the answer is a copy.
        io.on("kept", [&](roomcast::socket&) -> boost::json::value& { return kept; });
        io.on("echo", [](roomcast::socket&, boost::json::value v) { return v; });
        io.on("12", [](roomcast::socket&, boost::json::string s) { return s; }); // numeric name
        io.on_error([&](roomcast::socket&, roomcast::handler_error const& e) {
            errors.add(e.event + "|" + e.message);
        });
    });
    raw_client c;
    connect(c, srv.port());

    c.write(R"(421["kinds",{"k":"v"},[1,"two"],"three",{"four":4},5,"six"])");
    CHECK(c.read_packet() == R"(431[[{"k":"v"},[1,"two"],"three",{"four":4},[5,"six"]]])");
    c.write(R"(422["kinds",{"k":"v"},"not an array"])");
    CHECK(c.read_packet() ==
          R"(432[{"error":"event \"kinds\": argument 2: value: expected array, got string"}])");
    c.write(R"(423["mismatch",{"a":1},2])");
    CHECK(c.read_packet() ==
          R"(433[{"error":"event \"mismatch\": argument 2: value: expected object, got number"}])");
    c.write(R"(424["mismatch",1])");
    CHECK(
        c.read_packet() ==
        R"(434[{"error":"event \"mismatch\": argument 2: value: expected object, got nothing"}])");
    c.write(R"(425["mismatch",[],{}])");
    CHECK(c.read_packet() == R"(435[[[],{}]])");
    c.write(R"(426["kept"])");
    CHECK(c.read_packet() == R"(436[{"kept":true}])");
    c.write(R"(427["kept"])");
    CHECK(c.read_packet() == R"(437[{"kept":true}])");
    // An answer larger than the encoder keeps room for, then a small one after it.
    std::string const big(100'000, 'b');
    c.write(R"(428["echo",")" + big + R"("])");
    CHECK(c.read_packet() == R"(438[")" + big + R"("])");
    c.write(R"(429["echo","small"])");
    CHECK(c.read_packet() == R"(439["small"])");
    c.write(R"(4210[12,"numeric"])");
    CHECK(c.read_packet() == R"(4310["numeric"])");
    CHECK(errors.items().size() == 3);
}

TEST_CASE("unknown events are ignored; rooms of a socket include its own id") {
    test_server srv({}, [](roomcast::server<>& io) {
        io.on("rooms", [](roomcast::socket& s) { return s.rooms(); });
        io.on("join", [](roomcast::socket& s, std::vector<std::string> rooms) {
            s.join(rooms);
            s.join("a"); // twice is a no-op
        });
        io.on("leave", [](roomcast::socket& s, std::string room) { s.leave(room); });
    });
    raw_client c;
    auto const id = connect(c, srv.port());
    c.write(R"(42["nobody-handles-this",1,2,3])");
    c.write(R"(42["join",["a","b"]])");
    c.write(R"(42["leave","b"])");
    c.write(R"(421["rooms"])");
    CHECK(c.read_packet() == "431[[\"" + id + "\",\"a\"]]");
}

TEST_CASE("broadcast operators: union, except, sender exclusion; across two shards") {
    for (std::size_t threads : {1u, 2u}) {
        INFO("threads = " << threads);
        test_server srv(
            {},
            [](roomcast::server<>& io) {
                io.on("join", [](roomcast::socket& s, std::string room) {
                    s.join(room);
                    return true; // the ack follows the join
                });
                io.on("to", [&io](roomcast::socket&, std::vector<std::string> rooms,
                                  std::vector<std::string> except, std::string tag) {
                    auto op = io.of("/").to(rooms.empty() ? "" : rooms[0]);
                    if (rooms.empty())
                        op = roomcast::broadcast_operator(io.of("/"));
                    for (std::size_t i = 1; i < rooms.size(); ++i)
                        op = op.to(rooms[i]);
                    for (auto const& r : except)
                        op = op.except(r);
                    op.emit("got", tag);
                });
                io.on("others", [](roomcast::socket& s, std::string room, std::string tag) {
                    s.to(room).emit("got", tag);
                });
            },
            threads);
        // Six clients: a0 a1 in room A, b0 b1 in room B, ab in both, n in none.
        std::map<std::string, raw_client> clients;
        for (auto const* name : {"a0", "a1", "b0", "b1", "ab", "n"})
            connect(clients[name], srv.port());
        auto join = [&](std::string const& who, std::string const& room) {
            clients[who].write("421[\"join\",\"" + room + "\"]");
            REQUIRE(clients[who].read_packet() == "431[true]");
        };
        join("a0", "A");
        join("a1", "A");
        join("b0", "B");
        join("b1", "B");
        join("ab", "A");
        join("ab", "B");

        // Each case: who sends what, and exactly who receives the tag (once each). A final
        // marker to everyone proves nobody else got the tag.
        struct expectation {
            std::string sender;
            std::string packet;
            std::set<std::string> receivers;
        };
        std::vector<expectation> const cases = {
            {"n", R"(42["to",["A"],[],"t1"])", {"a0", "a1", "ab"}},
            {"n", R"(42["to",["A","B"],[],"t2"])", {"a0", "a1", "b0", "b1", "ab"}},
            {"n", R"(42["to",["A","B"],["B"],"t3"])", {"a0", "a1"}},
            {"n", R"(42["to",[],["A"],"t4"])", {"b0", "b1", "n"}},
            {"a0", R"(42["others","A","t5"])", {"a1", "ab"}},
            {"n", R"(42["to",["nope"],[],"t6"])", {}},
        };
        for (auto const& c : cases) {
            INFO(c.packet);
            clients[c.sender].write(c.packet);
            // The marker leaves from the same connection, so it is handled after the case.
            clients[c.sender].write(R"(42["to",[],[],"end"])");
            for (auto& [name, cl] : clients) {
                std::vector<std::string> got;
                for (;;) {
                    auto m = cl.read_packet(3s);
                    REQUIRE(m);
                    if (*m == R"(42["got","end"])")
                        break;
                    got.push_back(*m);
                }
                INFO("client " << name);
                if (c.receivers.contains(name)) {
                    REQUIRE(got.size() == 1);
                } else {
                    CHECK(got.empty());
                }
            }
        }
    }
}

TEST_CASE("disconnect: disconnecting sees the rooms, then the socket leaves them") {
    roomcast::test::record seen;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on("join", [](roomcast::socket& s, std::string room) { s.join(room); });
        io.on("bye", [](roomcast::socket& s) { s.disconnect(); });
        io.on_disconnecting([&](roomcast::socket& s, std::string_view why) {
            std::string r;
            for (auto const& room : s.rooms())
                r += room == s.id() ? "<self>," : room + ",";
            seen.add("disconnecting " + std::string(why) + " " + r);
            io.to("R").emit("left", s.id());
        });
        io.on_disconnect([&](roomcast::socket& s, std::string_view why) {
            seen.add("disconnect " + std::string(why) + " " + std::to_string(s.rooms().size()));
        });
    });
    raw_client stay, leave1, leave2, leave3;
    connect(stay, srv.port());
    auto const id1 = connect(leave1, srv.port());
    auto const id2 = connect(leave2, srv.port());
    auto const id3 = connect(leave3, srv.port());
    for (auto* c : {&stay, &leave1, &leave2, &leave3})
        c->write(R"(42["join","R"])");

    leave1.write("41"); // client namespace disconnect
    CHECK(read_until(stay, [](auto&) { return true; }) == "42[\"left\",\"" + id1 + "\"]");
    leave2.write(R"(42["bye"])"); // server namespace disconnect
    CHECK(read_until(leave2, [](auto& m) { return m.substr(0, 2) == "41"; }) == "41");
    CHECK(read_until(stay, [](auto&) { return true; }) == "42[\"left\",\"" + id2 + "\"]");
    leave3.abort(); // transport close
    CHECK(read_until(stay, [](auto&) { return true; }) == "42[\"left\",\"" + id3 + "\"]");

    REQUIRE(eventually([&] { return seen.size() == 6; }));
    auto const s = seen.items();
    CHECK(s[0] == "disconnecting client namespace disconnect <self>,R,");
    CHECK(s[1] == "disconnect client namespace disconnect 0");
    CHECK(s[2] == "disconnecting server namespace disconnect <self>,R,");
    CHECK(s[3] == "disconnect server namespace disconnect 0");
    CHECK(s[4].substr(0, 14) == "disconnecting ");
    CHECK(s[4].find("transport") != std::string::npos);
    // The connection stays open after leaving its last namespace: it can join again.
    leave1.write("40");
    CHECK(read_until(leave1, [](auto& m) { return m.substr(0, 2) != "42"; })
              .value_or("")
              .substr(0, 2) == "40");
}

TEST_CASE("namespaces have their own handlers and rooms and share one connection") {
    test_server srv({}, [](roomcast::server<>& io) {
        io.on("where", [](roomcast::socket& s) { return s.nsp().name(); });
        io.of("/chat").on("where", [](roomcast::socket& s) { return "chat:" + s.nsp().name(); });
        for (auto* n : {"/", "/chat"}) {
            io.of(n).on("join", [](roomcast::socket& s, std::string r) { s.join(r); });
            io.of(n).on("say", [&io, n](roomcast::socket&, std::string r, std::string t) {
                io.of(n).to(r).emit("said", t);
            });
        }
    });
    raw_client c, other;
    auto const main_id = connect(c, srv.port());
    c.write("40/chat,");
    auto const chat = c.read_packet().value_or("");
    REQUIRE(chat.substr(0, 8) == "40/chat,");
    CHECK(chat.find(main_id) == std::string::npos); // a socket id per namespace
    connect(other, srv.port());

    c.write(R"(421["where"])");
    CHECK(c.read_packet() == R"(431["/"])");
    c.write(R"(42/chat,2["where"])");
    CHECK(c.read_packet() == R"(43/chat,2["chat:/chat"])");

    // Room "r" of /chat is not room "r" of /.
    c.write(R"(42/chat,["join","r"])");
    other.write(R"(42["join","r"])");
    other.write(R"(42["say","r","main"])");
    CHECK(other.read_packet() == R"(42["said","main"])");
    c.write(R"(42/chat,["say","r","chat"])");
    CHECK(c.read_packet() == R"(42/chat,["said","chat"])");
}

TEST_CASE("a server on the host's io_context; emits from a non-shard thread") {
    boost::asio::io_context ctx;
    roomcast::server<> io(ctx, test_options());
    io.on("join", [](roomcast::socket& s, std::string r) {
        s.join(r);
        return true;
    });
    std::thread host([&] { ctx.run(); });
    raw_client c;
    connect(c, io.port());
    c.write(R"(421["join","news"])");
    REQUIRE(c.read_packet() == "431[true]");
    io.to("news").emit("headline", "hello"); // this thread is not the shard's: posted
    CHECK(c.read_packet() == R"(42["headline","hello"])");
    io.emit("all", {{"k", 1}});
    CHECK(c.read_packet() == R"(42["all",{"k":1}])");
    io.close();
    CHECK_FALSE(c.read_packet(3s));
    host.join();
}

TEST_CASE("a port in use: the constructor throws a system_error naming the address") {
    boost::asio::io_context ctx;
    boost::asio::ip::tcp::acceptor taken(ctx, {boost::asio::ip::make_address("127.0.0.1"), 0});
    auto opt = test_options();
    opt.port = taken.local_endpoint().port();
    try {
        roomcast::server<> io(opt);
        FAIL("a second server listens on port " << opt.port);
    } catch (boost::system::system_error const& e) {
        CHECK(e.code() == boost::system::errc::address_in_use);
        auto const expected = "roomcast: cannot listen on 127.0.0.1:" + std::to_string(opt.port) +
                              ": Address already in use";
        CHECK(std::string_view(e.what()).starts_with(expected));
    }
}

TEST_CASE("close(): clients get a proper close and run() returns") {
    auto srv = std::make_unique<test_server>(
        roomcast::options{}, [](roomcast::server<>&) {}, 2);
    raw_client a, b;
    connect(a, srv->port());
    connect(b, srv->port());
    auto const start = std::chrono::steady_clock::now();
    std::thread closer([&] { srv.reset(); }); // close() + join
    // The clients read, so they answer the close handshake.
    CHECK_FALSE(a.read_packet(4s));
    CHECK(a.close_code() == 1000);
    CHECK_FALSE(b.read_packet(4s));
    closer.join();
    CHECK(std::chrono::steady_clock::now() - start < 4s);
}

TEST_CASE("room hooks: create, join, leave and delete as rooms change, on two shards") {
    roomcast::test::record events;
    test_server srv(
        {},
        [&](roomcast::server<>& io) {
            io.of("/").room_hooks({
                .create_room = [&](std::string const& r) { events.add("create " + r); },
                .delete_room = [&](std::string const& r) { events.add("delete " + r); },
                .join_room =
                    [&](std::string const& r, roomcast::adapter::member const& m) {
                        if (r != m.id())
                            events.add("join " + r);
                    },
                .leave_room =
                    [&](std::string const& r, roomcast::adapter::member const& m) {
                        if (r != m.id())
                            events.add("leave " + r);
                    },
            });
            io.on("join", [](roomcast::socket& s, std::string r) {
                s.join(r);
                return true;
            });
        },
        2);
    raw_client a, b;
    connect(a, srv.port());
    connect(b, srv.port());
    REQUIRE(eventually([&] { return events.size() == 2; })); // the two own-id rooms
    a.write(R"(421["join","r"])");
    REQUIRE(a.read_packet() == "431[true]");
    b.write(R"(421["join","r"])"); // on the other shard: its own room "r" there
    REQUIRE(b.read_packet() == "431[true]");
    a.close();
    b.close();
    REQUIRE(eventually([&] { return events.size() == 2 + 2 * 3 + 2 * 2; }));
    auto all = events.items();
    std::multiset<std::string> got(all.begin(), all.end());
    CHECK(got.count("create r") == 2); // one per shard
    CHECK(got.count("join r") == 2);
    CHECK(got.count("leave r") == 2);
    CHECK(got.count("delete r") == 2);
}

TEST_CASE("a room hook that throws is logged; the join or the disconnect completes") {
    roomcast::test::record errors;
    std::atomic<int> disconnected{0};
    auto const boom = [](auto const&...) { throw std::runtime_error("hook failed"); };
    test_server srv(
        {.log =
             [&](roomcast::log_level level, std::string_view line) {
                 if (level == roomcast::log_level::error)
                     errors.add(std::string(line));
             }},
        [&](roomcast::server<>& io) {
            io.of("/").room_hooks(
                {.create_room = boom, .delete_room = boom, .join_room = boom, .leave_room = boom});
            io.on("join", [](roomcast::socket& s, std::string r) { return s.join(r); });
            io.on_disconnect([&](roomcast::socket&, std::string_view) { ++disconnected; });
        });
    raw_client c;
    connect(c, srv.port());
    c.write(R"(421["join","r"])");
    CHECK(c.read_packet() == "431[true]");
    c.abort();
    REQUIRE(eventually([&] { return disconnected == 1; }));
    CHECK(rooms_of(srv.io()).empty()); // both rooms left, though every hook threw
    CHECK(errors.size() >= 6);
    CHECK(errors.items()[0].find("hook of namespace / threw: hook failed") != std::string::npos);
}

TEST_CASE("emitting a reserved event name throws, as Node's server does") {
    roomcast::test::record errors;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on("bad", [](roomcast::socket& s) { s.emit("disconnect", 1); });
        io.on_error(
            [&](roomcast::socket&, roomcast::handler_error const& e) { errors.add(e.message); });
    });
    raw_client c;
    connect(c, srv.port());
    c.write(R"(421["bad"])");
    CHECK(
        c.read_packet() ==
        R"(431[{"error":"event \"bad\": handler threw: roomcast: \"disconnect\" is a reserved event name"}])");
    for (auto const* name : {"connect", "connect_error", "disconnect", "disconnecting",
                             "newListener", "removeListener"}) {
        CHECK_THROWS_AS(srv.io().emit(name, 1), std::invalid_argument);
        CHECK_THROWS_AS(srv.io().to("r").emit(name, {{"a", 1}}), std::invalid_argument);
    }
    CHECK_NOTHROW(srv.io().emit("error", 1));
}
