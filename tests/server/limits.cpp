// The limits of roomcast::options and transport::options, seen from the wire: each is hit by
// a client, answered as documented, and leaves the server serving everyone else.
#include "catch.hpp"
#include "raw_client.hpp"
#include "sio_client.hpp"
#include "test_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <thread>
#include <vector>

using namespace roomcast::test;
using namespace std::chrono_literals;

namespace {

/// Options whose warnings go to `warnings`.
roomcast::options logging_to(record& warnings, roomcast::options o) {
    o.log = [&warnings](roomcast::log_level level, std::string_view line) {
        if (level == roomcast::log_level::warning)
            warnings.add(std::string(line));
    };
    return o;
}

bool any_contains(record const& r, std::string_view what) {
    for (auto const& line : r.items())
        if (line.find(what) != std::string::npos)
            return true;
    return false;
}

/// The client was refused: an `error` event saying `message`, its namespace disconnected,
/// and the connection closed.
void check_refused(raw_client& c, std::string const& message) {
    CHECK(c.read_packet() == R"(42["error",{"message":")" + message + R"("}])");
    CHECK(c.read_packet() == "41");
    CHECK_FALSE(c.read_packet(2s));
}

void ping_handler(roomcast::server<>& io) {
    io.on("ping", [](roomcast::socket&) { return std::string("pong"); });
}

} // namespace

TEST_CASE("max_connections: a handshake past it gets 503; a session that ends frees its place") {
    test_server srv({.transport = {.max_connections = 2}}, [](roomcast::server<>&) {});
    std::string const polling = "/socket.io/?EIO=4&transport=polling";
    raw_client a, b, c;
    REQUIRE(!a.connect(srv.port()));
    REQUIRE(!b.connect(srv.port()));
    CHECK(a.read().value_or("").substr(0, 1) == "0");
    CHECK(b.read().value_or("").substr(0, 1) == "0");

    auto const full = http_get(srv.port(), polling);
    REQUIRE(full);
    CHECK(full->status == 503);
    CHECK(full->body == R"({"code":4,"message":"Too many connections"})");
    CHECK(c.connect(srv.port())); // the WebSocket handshake is refused too

    a.close();
    // Once the server has seen the close, the place is free: a polling session takes it.
    CHECK(eventually([&] {
        auto const r = http_get(srv.port(), polling);
        return r && r->status == 200 && r->body.substr(0, 1) == "0";
    }));
    raw_client d;
    CHECK(d.connect(srv.port()));
    // The sessions in place were never disturbed.
    b.write("40");
    CHECK(b.read_packet().value_or("").substr(0, 2) == "40");
}

TEST_CASE("max_rooms_per_socket and max_room_name_bytes: join refuses past them") {
    record warnings;
    test_server srv(logging_to(warnings, {.max_rooms_per_socket = 3, .max_room_name_bytes = 8}),
                    [](roomcast::server<>& io) {
                        io.on("join", [](roomcast::socket& s, std::string const& room) {
                            return s.join(room);
                        });
                        io.on("leave", [](roomcast::socket& s, std::string const& room) {
                            s.leave(room);
                            return s.rooms().size();
                        });
                        io.on("count", [](roomcast::socket& s) { return s.rooms().size(); });
                    });
    raw_client c;
    connect(c, srv.port());
    // Its own id room is the first of three.
    c.write(R"(421["join","a"])");
    CHECK(c.read_packet() == "431[true]");
    c.write(R"(422["join","b"])");
    CHECK(c.read_packet() == "432[true]");
    c.write(R"(423["join","c"])");
    CHECK(c.read_packet().value_or("none") == "433[false]");
    CHECK(any_contains(warnings, "max_rooms_per_socket"));
    c.write(R"(424["join","a"])"); // already in it: still true
    CHECK(c.read_packet() == "434[true]");
    c.write(R"(425["count"])");
    CHECK(c.read_packet() == "435[3]");
    c.write(R"(426["leave","b"])");
    CHECK(c.read_packet() == "436[2]");
    c.write(R"(427["join","123456789"])"); // nine bytes
    CHECK(c.read_packet() == "437[false]");
    CHECK(any_contains(warnings, "max_room_name_bytes"));
    c.write(R"(428["join","12345678"])");
    CHECK(c.read_packet() == "438[true]");
}

TEST_CASE("an event name over max_event_name_bytes: an error event, then a disconnect") {
    record reasons;
    test_server srv({.max_event_name_bytes = 16}, [&](roomcast::server<>& io) {
        io.on("0123456789abcdef", [](roomcast::socket&) { return 1; });
        io.on_disconnect(
            [&](roomcast::socket&, std::string_view why) { reasons.add(std::string(why)); });
    });
    raw_client other;
    connect(other, srv.port());
    raw_client c;
    connect(c, srv.port());
    c.write(R"(421["0123456789abcdef"])");
    CHECK(c.read_packet() == "431[1]");
    c.write(R"(422["0123456789abcdefg"])");
    check_refused(c, "event name longer than 16 bytes");
    REQUIRE(eventually([&] { return reasons.size() == 1; }));
    CHECK(reasons.items()[0] == "server namespace disconnect");
    other.write(R"(421["0123456789abcdef"])");
    CHECK(other.read_packet() == "431[1]");
}

TEST_CASE("max_acks_in_flight: acknowledgements held unanswered count until answered") {
    std::vector<roomcast::ack> held; // touched on the server's one thread only
    test_server srv({.max_acks_in_flight = 3}, [&](roomcast::server<>& io) {
        ping_handler(io);
        io.on("hold", [&](roomcast::socket&, roomcast::ack a) { held.push_back(std::move(a)); });
        io.on("release", [&](roomcast::socket&) {
            for (auto& a : held)
                a("done");
            held.clear();
        });
        io.on("drop", [](roomcast::socket&, roomcast::ack) {});
        io.on("wait", [](roomcast::socket&) -> boost::asio::awaitable<int> {
            boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 300ms);
            co_await t.async_wait(boost::asio::use_awaitable);
            co_return 7;
        });
    });
    raw_client c;
    connect(c, srv.port());
    // Dropped unanswered (as Socket.IO does when a handler ignores its ack): not in flight.
    for (int i = 1; i <= 10; ++i)
        c.write("42" + std::to_string(i) + R"(["drop"])");
    c.write(R"(4211["ping"])");
    CHECK(c.read_packet() == R"(4311["pong"])");

    SECTION("ack parameters") {
        for (int i = 20; i < 23; ++i)
            c.write("42" + std::to_string(i) + R"(["hold"])");
        c.write(R"(42["release"])"); // no ack asked: not counted
        CHECK(c.read_packet() == R"(4320["done"])");
        CHECK(c.read_packet() == R"(4321["done"])");
        CHECK(c.read_packet() == R"(4322["done"])");
        for (int i = 30; i < 33; ++i)
            c.write("42" + std::to_string(i) + R"(["hold"])");
        c.write(R"(4233["ping"])");
        check_refused(c, "more than 3 acknowledgements in flight");
    }
    SECTION("coroutine handlers") {
        for (int i = 40; i < 43; ++i)
            c.write("42" + std::to_string(i) + R"(["wait"])");
        CHECK(c.read_packet() == "4340[7]");
        CHECK(c.read_packet() == "4341[7]");
        CHECK(c.read_packet() == "4342[7]");
        for (int i = 50; i < 53; ++i)
            c.write("42" + std::to_string(i) + R"(["wait"])");
        c.write(R"(4253["wait"])");
        check_refused(c, "more than 3 acknowledgements in flight");
    }
}

TEST_CASE("client_rate: a client over its bucket gets an error event and is disconnected") {
    SECTION("a burst past the bucket") {
        // One packet a second, four at once: the CONNECT takes one.
        record warnings;
        test_server srv(logging_to(warnings, {.client_rate = {.per_second = 1, .burst = 4}}),
                        ping_handler);
        raw_client c;
        connect(c, srv.port());
        for (int i = 1; i <= 10; ++i)
            c.write("42" + std::to_string(i) + R"(["ping"])");
        int answered = 0;
        while (c.read_packet() == "43" + std::to_string(answered + 1) + R"(["pong"])")
            ++answered;
        // Three, or one or two more on a machine slow enough to refill meanwhile. The packet
        // that ended the loop was the error event.
        CHECK(answered >= 3);
        CHECK(answered <= 5);
        CHECK(c.read_packet() == "41");
        CHECK_FALSE(c.read_packet(2s));
        // Refused once: what it sent after the packet that broke the limit is not looked at.
        REQUIRE(warnings.size() == 1);
        CHECK(warnings.items()[0].ends_with(": rate limit exceeded"));
    }
    SECTION("a client under the rate is never refused") {
        test_server srv({.client_rate = {.per_second = 40, .burst = 2}}, ping_handler);
        raw_client c;
        connect(c, srv.port());
        for (int i = 1; i <= 10; ++i) {
            c.write("42" + std::to_string(i) + R"(["ping"])");
            CHECK(c.read_packet() == "43" + std::to_string(i) + R"(["pong"])");
            std::this_thread::sleep_for(100ms);
        }
    }
}
