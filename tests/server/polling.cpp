// Engine.IO over HTTP long-polling, seen from the wire: handshake, payloads, the error
// answers, the rules of one parked GET, close, oversized POSTs and CORS. (The upgrade is
// driven by real clients in tests/integration/polling.test.mjs.)
#include "catch.hpp"
#include "raw_client.hpp"
#include "test_server.hpp"

#include <boost/json/parse.hpp>

#include <future>
#include <utility>

using namespace roomcast::test;
using namespace std::chrono_literals;

namespace {
/// An echo on "/": `message` comes back as `message-back`.
void echo(roomcast::server<>& io) {
    io.on("message",
          [](roomcast::socket& s, roomcast::arguments const& a) { s.emit("message-back", a); });
}

std::string const base = "/socket.io/?EIO=4&transport=polling";

/// The status line's code and the body of a raw HTTP answer.
struct answer {
    unsigned status = 0;
    std::string headers;
    std::string body;
};
answer parse(std::string const& raw) {
    answer a;
    if (raw.size() > 12)
        a.status = static_cast<unsigned>(std::stoul(raw.substr(9, 3)));
    auto const end = raw.find("\r\n\r\n");
    a.headers = raw.substr(0, end);
    if (end != std::string::npos)
        a.body = raw.substr(end + 4);
    return a;
}

answer get(std::uint16_t port, std::string const& target, std::string const& extra = "") {
    return parse(http_raw(port, "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + extra +
                                    "Connection: close\r\n\r\n"));
}

answer post(std::uint16_t port, std::string const& target, std::string const& body,
            std::string const& extra = "") {
    return parse(http_raw(port, "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + extra +
                                    "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                                    body));
}

/// Opens a polling session; returns its sid.
std::string open_session(std::uint16_t port) {
    auto const a = get(port, base);
    REQUIRE(a.status == 200);
    REQUIRE(a.body.substr(0, 1) == "0");
    return std::string(boost::json::parse(a.body.substr(1)).at("sid").as_string());
}
} // namespace

TEST_CASE("polling: handshake, Socket.IO connect, events and binary in payloads") {
    test_server srv({}, echo);
    auto const open = get(srv.port(), base);
    REQUIRE(open.status == 200);
    auto const o = boost::json::parse(open.body.substr(1)).as_object();
    CHECK(open.body == "0{\"sid\":\"" + std::string(o.at("sid").as_string()) +
                           "\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,"
                           "\"pingTimeout\":20000,\"maxPayload\":1000000}");
    auto const sid = std::string(o.at("sid").as_string());
    auto const url = base + "&sid=" + sid;

    CHECK(post(srv.port(), url, "40").body == "ok");
    auto const connected = get(srv.port(), url);
    CHECK(connected.status == 200);
    CHECK(connected.body.substr(0, 10) == "40{\"sid\":\"");
    // Two packets in one POST; the answers come back together in one GET, binary as b64.
    CHECK(post(srv.port(), url,
               "42[\"message\",1]\x1e"
               "451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1e"
               "bAQID")
              .body == "ok");
    CHECK(get(srv.port(), url).body ==
          "42[\"message-back\",1]\x1e"
          "451-[\"message-back\",{\"_placeholder\":true,\"num\":0}]\x1e"
          "bAQID");
}

TEST_CASE("polling: requests Engine.IO cannot serve get its error answers") {
    test_server srv({}, echo);
    auto const sid = open_session(srv.port());
    CHECK(get(srv.port(), base + "&sid=nope").body ==
          R"({"code":1,"message":"Session ID unknown"})");
    CHECK(post(srv.port(), base, "").body == R"({"code":2,"message":"Bad handshake method"})");
    CHECK(post(srv.port(), base, "").status == 400);
    // Those refusals did not touch the session.
    CHECK(post(srv.port(), base + "&sid=" + sid, "40").body == "ok");
    // A POST that does not parse closes the session.
    CHECK(post(srv.port(), base + "&sid=" + sid, "abc").status == 400);
    CHECK(get(srv.port(), base + "&sid=" + sid).status == 400);
}

TEST_CASE("polling: a second GET closes the session, the first gets the close packet") {
    test_server srv({}, echo);
    auto const sid = open_session(srv.port());
    auto const url = base + "&sid=" + sid;
    auto first = std::async(std::launch::async, [&] { return get(srv.port(), url); });
    std::this_thread::sleep_for(50ms); // most often, the first GET is parked by now
    auto second = get(srv.port(), url);
    REQUIRE(first.wait_for(5s) == std::future_status::ready);
    // Whichever of the two reached the session first was parked, and gets the close packet.
    auto parked = first.get();
    if (parked.status == 400)
        std::swap(parked, second);
    CHECK(second.status == 400);
    CHECK(parked.status == 200);
    CHECK(parked.body == "1");
    CHECK(get(srv.port(), url).status == 400);
}

TEST_CASE("polling: what a server-side disconnect queues waits for the next GET") {
    test_server srv({}, [](roomcast::server<>& io) {
        io.on("bye", [](roomcast::socket& s) {
            s.emit("bye-back");
            s.disconnect(true);
        });
    });
    auto const sid = open_session(srv.port());
    auto const url = base + "&sid=" + sid;
    REQUIRE(post(srv.port(), url, "40").body == "ok");
    REQUIRE(get(srv.port(), url).body.substr(0, 2) == "40");
    // No GET waits while the server closes the session: the next one gets all of it.
    REQUIRE(post(srv.port(), url, "42[\"bye\"]").body == "ok");
    CHECK(get(srv.port(), url).body == "42[\"bye-back\"]\x1e"
                                       "41\x1e"
                                       "1");
    CHECK(get(srv.port(), url).status == 400); // then the session is gone
}

TEST_CASE("polling: a POST of 1 closes the session and releases the parked GET with a noop") {
    roomcast::test::record reasons;
    test_server srv({}, [&](roomcast::server<>& io) {
        io.on_disconnect(
            [&](roomcast::socket&, std::string_view why) { reasons.add(std::string(why)); });
    });
    auto const sid = open_session(srv.port());
    auto const url = base + "&sid=" + sid;
    CHECK(post(srv.port(), url, "40").body == "ok");
    CHECK(get(srv.port(), url).body.substr(0, 2) == "40");
    auto parked = std::async(std::launch::async, [&] { return get(srv.port(), url); });
    std::this_thread::sleep_for(250ms); // for the GET to be parked before the close
    CHECK(post(srv.port(), url, "1").body == "ok");
    REQUIRE(parked.wait_for(5s) == std::future_status::ready);
    CHECK(parked.get().body == "6");
    REQUIRE(eventually([&] { return reasons.size() == 1; }));
    CHECK(reasons.items()[0] == "transport close");
    CHECK(get(srv.port(), url).status == 400);
}

TEST_CASE("polling: an oversized POST is refused with 413 and the session stays") {
    test_server srv({.transport = {.max_payload = 100}}, echo);
    auto const sid = open_session(srv.port());
    auto const url = base + "&sid=" + sid;
    CHECK(post(srv.port(), url, "4" + std::string(200, 'x')).status == 413);
    CHECK(post(srv.port(), url, "40").body == "ok");
    CHECK(get(srv.port(), url).body.substr(0, 2) == "40");
}

TEST_CASE("polling: the heartbeat crosses polling, and a silent client times out") {
    roomcast::test::record reasons;
    // A short interval, so many pings go by; a timeout a busy machine cannot miss.
    test_server srv({.transport = {.ping_interval = 100ms, .ping_timeout = 1s}},
                    [&](roomcast::server<>& io) {
                        io.on_disconnect([&](roomcast::socket&, std::string_view why) {
                            reasons.add(std::string(why));
                        });
                    });
    auto const sid = open_session(srv.port());
    auto const url = base + "&sid=" + sid;
    CHECK(post(srv.port(), url, "40").body == "ok");
    CHECK(get(srv.port(), url).body.substr(0, 2) == "40");
    for (int i = 0; i < 3; ++i) {
        CHECK(get(srv.port(), url).body == "2"); // held until the ping
        CHECK(post(srv.port(), url, "3").body == "ok");
    }
    CHECK(get(srv.port(), url).body == "2");
    REQUIRE(eventually([&] { return reasons.size() == 1; }));
    CHECK(reasons.items()[0] == "ping timeout");
    CHECK(get(srv.port(), url).status == 400);
}

TEST_CASE("polling: CORS headers on every answer, errors included, and preflight") {
    test_server srv(
        {.transport = {.cors = {.origin = {"https://app.example"}, .credentials = true}}}, echo);
    std::string const origin = "Origin: https://app.example\r\n";
    auto const open = get(srv.port(), base, origin);
    CHECK(open.headers.find("Access-Control-Allow-Origin: https://app.example") !=
          std::string::npos);
    CHECK(open.headers.find("Access-Control-Allow-Credentials: true") != std::string::npos);
    auto const error = get(srv.port(), base + "&sid=nope", origin);
    CHECK(error.status == 400);
    CHECK(error.headers.find("Access-Control-Allow-Origin: https://app.example") !=
          std::string::npos);
    auto const other = get(srv.port(), base, "Origin: https://evil.example\r\n");
    CHECK(other.headers.find("Access-Control-Allow-Origin") == std::string::npos);
    auto const pre =
        parse(http_raw(srv.port(), "OPTIONS " + base + " HTTP/1.1\r\nHost: x\r\n" + origin +
                                       "Access-Control-Request-Method: POST\r\n"
                                       "Access-Control-Request-Headers: content-type\r\n"
                                       "Connection: close\r\n\r\n"));
    CHECK(pre.status == 204);
    CHECK(pre.headers.find("Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE") !=
          std::string::npos);
    CHECK(pre.headers.find("Access-Control-Allow-Headers: content-type") != std::string::npos);

    test_server any({.transport = {.cors = {.origin = {"*"}}}}, echo);
    CHECK(get(any.port(), base, origin).headers.find("Access-Control-Allow-Origin: *") !=
          std::string::npos);
}

TEST_CASE("polling: transports can be turned off") {
    test_server ws_only({.transport = {.transports = {.polling = false}}}, echo);
    CHECK(get(ws_only.port(), base).body == R"({"code":0,"message":"Transport unknown"})");
    test_server poll_only({.transport = {.transports = {.websocket = false}}}, echo);
    auto const open = get(poll_only.port(), base);
    CHECK(open.body.find("\"upgrades\":[]") != std::string::npos);
    raw_client c;
    CHECK(c.connect(poll_only.port()));
}

TEST_CASE("polling: upgrades can be refused, and an upgrade that never completes is dropped") {
    SECTION("allow_upgrades = false") {
        test_server srv({.transport = {.allow_upgrades = false}}, echo);
        auto const open = get(srv.port(), base);
        CHECK(open.body.find("\"upgrades\":[]") != std::string::npos);
        auto const sid = std::string(boost::json::parse(open.body.substr(1)).at("sid").as_string());
        raw_client ws;
        if (!ws.connect(srv.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + sid))
            CHECK(!ws.read(2s)); // opened, then closed at once
        CHECK(post(srv.port(), base + "&sid=" + sid, "40").body == "ok"); // polling goes on
    }
    SECTION("upgrade_timeout") {
        test_server srv({.transport = {.upgrade_timeout = 100ms}}, echo);
        auto const sid = open_session(srv.port());
        raw_client ws;
        REQUIRE(!ws.connect(srv.port(), "/socket.io/?EIO=4&transport=websocket&sid=" + sid));
        // No 2probe: the WebSocket is closed after the upgrade timeout, polling goes on.
        CHECK(!ws.read(2s));
        CHECK(post(srv.port(), base + "&sid=" + sid, "40").body == "ok");
        CHECK(get(srv.port(), base + "&sid=" + sid).body.substr(0, 2) == "40");
    }
}

TEST_CASE("polling: CORS origins decided by a predicate") {
    test_server srv({.transport = {.cors = {.allow_origin =
                                                [](std::string_view o) {
                                                    return o.ends_with(".trusted.example");
                                                }}}},
                    echo);
    CHECK(get(srv.port(), base, "Origin: https://a.trusted.example\r\n")
              .headers.find("Access-Control-Allow-Origin: https://a.trusted.example") !=
          std::string::npos);
    CHECK(get(srv.port(), base, "Origin: https://other.example\r\n")
              .headers.find("Access-Control-Allow-Origin") == std::string::npos);
}
