// Socket.IO semantics beyond the core, seen on the wire: server-to-client acks with
// timeouts, connection middleware, catch-all listeners.
#include "catch.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

#include <boost/json/parse.hpp>

#include <boost/asio/use_future.hpp>

#include <future>
#include <vector>

using namespace roomcast::test;
using namespace std::chrono_literals;

namespace {
void no_handlers_semantics(roomcast::server<>&) {}

std::string handshake(raw_client& c, std::uint16_t port, std::string const& connect = "40") {
    REQUIRE(!c.connect(port));
    REQUIRE(c.read().value_or("").substr(0, 1) == "0");
    c.write(connect);
    return c.read_packet().value_or("");
}
} // namespace

TEST_CASE("emit_with_ack: the client's answer completes the handler") {
    roomcast::test::record results;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on("ask", [&](roomcast::socket& s, std::string question) {
            s.timeout(2s).emit_with_ack(
                "question", question, 42,
                [&](boost::system::error_code ec, boost::json::array reply) {
                    results.add(ec ? "error " + ec.message()
                                   : "reply " + roomcast::protocol::serialize(reply));
                });
        });
    });
    raw_client c;
    REQUIRE(handshake(c, srv.port()).substr(0, 2) == "40");
    c.write(R"(42["ask","why?"])");
    auto const q = c.read_packet().value_or("");
    // 42<id>["question","why?",42]: answer with the same id.
    auto const open = q.find('[');
    REQUIRE(q.substr(0, 2) == "42");
    REQUIRE(q.substr(open) == R"(["question","why?",42])");
    auto const id = q.substr(2, open - 2);
    REQUIRE(!id.empty());
    c.write("43" + id + R"(["because",{"n":1}])");
    REQUIRE(eventually([&] { return results.size() == 1; }));
    CHECK(results.items()[0] == R"(reply ["because",{"n":1}])");
    // A second answer to the same id, and one to an id never used, are ignored.
    c.write("43" + id + R"(["again"])");
    c.write(R"(43999["unknown"])");
    c.write(R"(42["ask","again?"])");
    auto const q2 = c.read_packet().value_or("");
    CHECK(q2.substr(0, 2) == "42");
    CHECK(q2.substr(2, q2.find('[') - 2) != id); // a fresh id
    CHECK(results.size() == 1);
}

TEST_CASE("emit_with_ack: timeout, and prompt failure on disconnect") {
    roomcast::test::record results;
    test_server srv({}, [&](roomcast::server<>& io) {
        auto record = [&](std::string tag) {
            return [&, tag](boost::system::error_code ec, boost::json::array reply) {
                results.add(tag + ": " +
                            (ec ? ec.message() : roomcast::protocol::serialize(reply)));
            };
        };
        io.on("short", [=](roomcast::socket& s) {
            s.timeout(100ms).emit_with_ack("never-answered", record("short"));
        });
        io.on("forever", [=](roomcast::socket& s) {
            s.emit_with_ack("never-answered", record("forever")); // no timeout
        });
    });
    raw_client c;
    REQUIRE(handshake(c, srv.port()).substr(0, 2) == "40");
    auto const start = std::chrono::steady_clock::now();
    c.write(R"(42["short"])");
    auto const q = c.read_packet().value_or("");
    REQUIRE(eventually([&] { return results.size() == 1; }, 3s));
    CHECK(results.items()[0] == "short: operation has timed out");
    CHECK(std::chrono::steady_clock::now() - start >= 100ms);
    // An answer after the timeout is ignored.
    c.write("43" + q.substr(2, q.find('[') - 2) + "[1]");

    c.write(R"(42["forever"])");
    c.read_packet();
    c.abort();
    REQUIRE(eventually([&] { return results.size() == 2; }, 3s));
    CHECK(results.items()[1] == "forever: socket has been disconnected");
}

TEST_CASE("emit_with_ack works with asio::use_future") {
    std::promise<std::future<roomcast::arguments>> handed_over;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on("go", [&](roomcast::socket& s) {
            handed_over.set_value(s.timeout(2s).emit_with_ack("q", "x", boost::asio::use_future));
        });
    });
    raw_client c;
    REQUIRE(handshake(c, srv.port()).substr(0, 2) == "40");
    c.write(R"(42["go"])");
    auto f = handed_over.get_future().get();
    auto const q = c.read_packet().value_or("");
    c.write("43" + q.substr(2, q.find('[') - 2) + R"(["y"])");
    REQUIRE(f.wait_for(3s) == std::future_status::ready);
    CHECK(roomcast::protocol::serialize(f.get()) == R"(["y"])");
}

TEST_CASE("connection middleware: accept by auth, refuse with message and data") {
    roomcast::test::record connected;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.use([](roomcast::socket& s, roomcast::next n) {
            auto const* token = s.handshake().auth.if_contains("token");
            if (!token || *token != "secret")
                return n(roomcast::connect_error{"not authorized", {{"code", 401}}});
            s.join("authorized"); // middleware may join rooms
            n();
        });
        io.use([](roomcast::socket& s, roomcast::next n) {
            // Asynchronous middleware: decide later, from another thread.
            std::thread([n, id = s.id()] {
                std::this_thread::sleep_for(20ms);
                n();
            }).detach();
        });
        io.on_connection([&](roomcast::socket& s) {
            connected.add(roomcast::protocol::serialize(boost::json::value_from(s.rooms())));
        });
        io.of("/open").on("hi", [](roomcast::socket&) { return "hello"; });
        io.of("/boom").use([](roomcast::socket&, roomcast::next) -> void {
            throw std::runtime_error("middleware exploded");
        });
    });
    raw_client refused, accepted, other;
    CHECK(handshake(refused, srv.port()) ==
          R"(44{"message":"not authorized","data":{"code":401}})");
    // The refused socket is gone: the same connection may try again.
    refused.write(R"(40{"token":"wrong"})");
    CHECK(refused.read_packet().value_or("").substr(0, 2) == "44");
    CHECK(connected.size() == 0);
    // Events sent before the CONNECT answer are not dispatched.
    auto const ok = handshake(accepted, srv.port(), R"(40{"token":"secret"})");
    REQUIRE(ok.substr(0, 2) == "40");
    REQUIRE(eventually([&] { return connected.size() == 1; }));
    auto const sid = std::string(boost::json::parse(ok.substr(2)).at("sid").as_string());
    CHECK(connected.items()[0] == R"([")" + std::string("authorized") + R"(",")" + sid + R"("])");
    // Middleware of "/" does not guard other namespaces; their own does.
    REQUIRE(!other.connect(srv.port()));
    other.read();
    other.write("40/open,");
    CHECK(other.read_packet().value_or("").substr(0, 8) == "40/open,");
    other.write(R"(42/open,1["hi"])");
    CHECK(other.read_packet() == R"(43/open,1["hello"])");
    other.write("40/boom,");
    CHECK(other.read_packet() == R"(44/boom,{"message":"middleware exploded"})");
}

TEST_CASE("a connection closed while middleware runs leaves nothing behind") {
    std::atomic<int> connections{0};
    std::promise<roomcast::next> pending;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.use([&](roomcast::socket& s, roomcast::next n) {
            s.join("lobby");
            pending.set_value(n); // never answered while the client is there
        });
        io.on_connection([&](roomcast::socket&) { ++connections; });
    });
    raw_client c;
    REQUIRE(!c.connect(srv.port()));
    c.read();
    c.write("40");
    auto n = pending.get_future().get();
    CHECK(rooms_of(srv.io()).size() == 1); // the room middleware joined
    c.abort();
    // The server sees the close: the socket is gone, and with it its room.
    REQUIRE(eventually([&] { return rooms_of(srv.io()).size() == 0; }));
    n(); // too late
    // A turn of the shard after the one n() asked for: still no room, and no connection.
    CHECK(rooms_of(srv.io()).size() == 0);
    CHECK(connections == 0);
}

TEST_CASE("on_any sees every incoming event before its handler, handled or not") {
    roomcast::test::record seen;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on_any([&](roomcast::socket&, std::string_view event,
                      std::span<boost::json::value const> args) {
            std::string line(event);
            for (auto const& a : args)
                line += " " + roomcast::protocol::serialize(a);
            seen.add(line);
        });
        io.on("known", [&](roomcast::socket&, int) { seen.add("handler"); });
    });
    raw_client c;
    REQUIRE(handshake(c, srv.port()).substr(0, 2) == "40");
    c.write(R"(42["known",1])");
    c.write(R"(42["unknown","a",{"b":2}])");
    REQUIRE(eventually([&] { return seen.size() == 3; }));
    auto const s = seen.items();
    CHECK(s[0] == "known 1");
    CHECK(s[1] == "handler");
    CHECK(s[2] == R"(unknown "a" {"b":2})");
}

namespace {
struct upload {
    std::string name;
    roomcast::binary data;
    std::optional<roomcast::binary> thumbnail;
};
BOOST_DESCRIBE_STRUCT(upload, (), (name, data, thumbnail))
} // namespace

TEST_CASE("binary attachments: received into roomcast::binary, sent back, broadcast") {
    test_server srv({}, [](roomcast::server<>& io) {
        io.on("upload", [](roomcast::socket& s, upload const& u) {
            s.emit("stored", u.name, u); // the same struct back: its bytes as attachments
            return u.data.size();
        });
        io.on("join", [](roomcast::socket& s) {
            s.join("r");
            return true; // the ack says the member is in the room
        });
        io.on("share", [&io](roomcast::socket&, roomcast::binary b, roomcast::binary c) {
            io.to("r").emit("shared", std::vector<roomcast::binary>{c, b});
        });
        io.on("raw", [](roomcast::socket&, boost::json::value v) { return v; });
    });
    raw_client c, peer;
    REQUIRE(handshake(c, srv.port()).substr(0, 2) == "40");
    REQUIRE(handshake(peer, srv.port()).substr(0, 2) == "40");

    std::string const bytes("\x00\x01\xfe\xff", 4);
    c.write(R"(451-1["upload",{"name":"a.bin","data":{"_placeholder":true,"num":0}}])");
    c.write(bytes, true);
    CHECK(c.read_packet() ==
          R"(451-["stored","a.bin",{"name":"a.bin","data":{"_placeholder":true,"num":0}}])");
    CHECK(c.read_packet() == bytes);
    CHECK(c.last_binary());
    CHECK(c.read_packet() == "431[4]");

    // Two attachments, referenced out of order, broadcast to a room: every member gets the
    // text frame and then both binary frames, in order.
    for (auto* r : {&c, &peer}) {
        r->write(R"(425["join"])");
        REQUIRE(r->read_packet() == "435[true]");
    }
    c.write(R"(452-["share",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}])");
    c.write("zero", true);
    c.write("one", true);
    for (auto* r : {&c, &peer}) {
        CHECK(r->read_packet() ==
              R"(452-["shared",[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]])");
        CHECK(r->read_packet() == "zero"); // c was the second argument: attachment 1 -> "zero"
        CHECK(r->read_packet() == "one");
    }

    // A placeholder where binary is expected but missing, or a string where binary is
    // expected: a conversion error naming the field, through the ack.
    c.write(R"(423["upload",{"name":"x","data":"not bytes"}])");
    CHECK(
        c.read_packet() ==
        R"(433[{"error":"event \"upload\": argument 1: field .data: expected binary, got string"}])");
}

TEST_CASE("binary attachments: a placeholder naming a missing attachment is a parse error") {
    test_server srv({}, no_handlers_semantics);
    raw_client c;
    REQUIRE(handshake(c, srv.port()).substr(0, 2) == "40");
    c.write(R"(451-["x",{"_placeholder":true,"num":1}])");
    CHECK_FALSE(c.read_packet(2s));
}

TEST_CASE("emit_with_ack: a binary answer keeps its bytes") {
    roomcast::test::record results;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on("ask", [&](roomcast::socket& s) {
            s.emit_with_ack("file?", [&](boost::system::error_code ec, roomcast::arguments reply) {
                roomcast::binary b;
                roomcast::conversion_error err;
                results.add(!ec && reply.get(1, b, err)
                                ? roomcast::protocol::serialize(reply) + " " + std::string(b.view())
                                : "error");
            });
        });
    });
    raw_client c;
    REQUIRE(handshake(c, srv.port()).substr(0, 2) == "40");
    c.write(R"(42["ask"])");
    auto const q = c.read_packet().value_or("");
    auto const id = q.substr(2, q.find('[') - 2);
    c.write("461-" + id + R"(["name",{"_placeholder":true,"num":0}])");
    c.write("bytes!", true);
    REQUIRE(eventually([&] { return results.size() == 1; }));
    CHECK(results.items()[0] == R"(["name",{"_placeholder":true,"num":0}] bytes!)");
}
